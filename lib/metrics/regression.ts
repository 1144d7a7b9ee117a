// Regression metrics over plain or typed arrays (sums in float64).

function checkPair(op: string, predicted: ArrayLike<number>, target: ArrayLike<number>): void {
  if (predicted.length !== target.length) {
    throw new RangeError(`${op}: predicted has ${predicted.length} values but target has ${target.length}`);
  }
  if (target.length === 0) throw new RangeError(`${op}: no samples`);
}

/** Mean squared error. */
export function mse(predicted: ArrayLike<number>, target: ArrayLike<number>): number {
  checkPair('mse', predicted, target);
  let s = 0;
  for (let i = 0; i < target.length; i++) s += (predicted[i] - target[i]) ** 2;
  return s / target.length;
}

/** Mean absolute error. */
export function mae(predicted: ArrayLike<number>, target: ArrayLike<number>): number {
  checkPair('mae', predicted, target);
  let s = 0;
  for (let i = 0; i < target.length; i++) s += Math.abs(predicted[i] - target[i]);
  return s / target.length;
}

/** Coefficient of determination: 1 - SS_res / SS_tot (scikit-learn: 1 for a perfect fit of a constant target, else 0). */
export function r2(predicted: ArrayLike<number>, target: ArrayLike<number>): number {
  checkPair('r2', predicted, target);
  let mean = 0;
  for (let i = 0; i < target.length; i++) mean += target[i];
  mean /= target.length;
  let ssRes = 0;
  let ssTot = 0;
  for (let i = 0; i < target.length; i++) {
    ssRes += (target[i] - predicted[i]) ** 2;
    ssTot += (target[i] - mean) ** 2;
  }
  if (ssTot === 0) return ssRes === 0 ? 1 : 0;
  return 1 - ssRes / ssTot;
}
