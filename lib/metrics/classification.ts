// Classification metrics over class indices (or scores, for top-k). Inputs are plain arrays or typed
// arrays; counts follow scikit-learn's conventions (confusion matrix rows = true class, columns =
// predicted class; a class with no predictions has precision 0, with no samples recall 0).

export type Labels = ArrayLike<number>;

function checkLabels(op: string, predicted: Labels, target: Labels, numClasses?: number): void {
  if (predicted.length !== target.length) {
    throw new RangeError(`${op}: predicted has ${predicted.length} labels but target has ${target.length}`);
  }
  if (predicted.length === 0) throw new RangeError(`${op}: no samples`);
  if (numClasses !== undefined) {
    if (!Number.isInteger(numClasses) || numClasses < 1) throw new RangeError(`${op}: numClasses must be an integer >= 1, got ${numClasses}`);
    for (let i = 0; i < target.length; i++) {
      for (const [name, v] of [['target', target[i]], ['predicted', predicted[i]]] as const) {
        if (!Number.isInteger(v) || v < 0 || v >= numClasses) {
          throw new RangeError(`${op}: ${name}[${i}] = ${v} is not a class index in [0, ${numClasses})`);
        }
      }
    }
  }
}

/** Fraction of samples whose predicted class equals the target. */
export function accuracy(predicted: Labels, target: Labels): number {
  checkLabels('accuracy', predicted, target);
  let hits = 0;
  for (let i = 0; i < target.length; i++) if (predicted[i] === target[i]) hits++;
  return hits / target.length;
}

/** Fraction of samples whose target is among the k highest scores (scores: row-major [N, numClasses]). */
export function topKAccuracy(scores: ArrayLike<number>, numClasses: number, target: Labels, k: number): number {
  const n = target.length;
  if (!Number.isInteger(k) || k < 1 || k > numClasses) throw new RangeError(`topKAccuracy: k must be in [1, ${numClasses}], got ${k}`);
  if (scores.length !== n * numClasses) {
    throw new RangeError(`topKAccuracy: scores has ${scores.length} values, expected ${n} x ${numClasses}`);
  }
  if (n === 0) throw new RangeError('topKAccuracy: no samples');
  return topKHits('topKAccuracy', scores, numClasses, target, k) / n;
}

/**
 * How many rows of scores [target.length, numClasses] rank their target class among the k highest.
 * A target is in the top k when fewer than k classes score strictly higher (ties favour the target).
 * `op` names the caller in errors.
 */
export function topKHits(op: string, scores: ArrayLike<number>, numClasses: number, target: Labels, k: number): number {
  let hits = 0;
  for (let i = 0; i < target.length; i++) {
    const t = target[i];
    if (!Number.isInteger(t) || t < 0 || t >= numClasses) {
      throw new RangeError(`${op}: target[${i}] = ${t} is not a class index in [0, ${numClasses})`);
    }
    const own = scores[i * numClasses + t];
    let higher = 0;
    for (let c = 0; c < numClasses; c++) if (scores[i * numClasses + c] > own) higher++;
    if (higher < k) hits++;
  }
  return hits;
}

/** counts[t * numClasses + p] = samples of true class t predicted as p. */
export function confusionMatrix(predicted: Labels, target: Labels, numClasses: number): Int32Array {
  checkLabels('confusionMatrix', predicted, target, numClasses);
  const counts = new Int32Array(numClasses * numClasses);
  for (let i = 0; i < target.length; i++) counts[target[i] * numClasses + predicted[i]]++;
  return counts;
}

export interface ClassReport {
  precision: number[];
  recall: number[];
  f1: number[];
  support: number[];
  macro: { precision: number; recall: number; f1: number };
}

/** Per-class precision, recall and F1, and their unweighted (macro) means. */
export function classificationReport(predicted: Labels, target: Labels, numClasses: number): ClassReport {
  const cm = confusionMatrix(predicted, target, numClasses);
  const precision: number[] = [];
  const recall: number[] = [];
  const f1: number[] = [];
  const support: number[] = [];
  for (let c = 0; c < numClasses; c++) {
    let predictedAsC = 0;
    let trulyC = 0;
    for (let o = 0; o < numClasses; o++) {
      predictedAsC += cm[o * numClasses + c];
      trulyC += cm[c * numClasses + o];
    }
    const tp = cm[c * numClasses + c];
    const p = predictedAsC === 0 ? 0 : tp / predictedAsC;
    const r = trulyC === 0 ? 0 : tp / trulyC;
    precision.push(p);
    recall.push(r);
    f1.push(p + r === 0 ? 0 : (2 * p * r) / (p + r));
    support.push(trulyC);
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { precision, recall, f1, support, macro: { precision: mean(precision), recall: mean(recall), f1: mean(f1) } };
}

export function precision(predicted: Labels, target: Labels, numClasses: number, average: 'macro' | 'none' = 'macro'): number | number[] {
  const r = classificationReport(predicted, target, numClasses);
  return average === 'macro' ? r.macro.precision : r.precision;
}

export function recall(predicted: Labels, target: Labels, numClasses: number, average: 'macro' | 'none' = 'macro'): number | number[] {
  const r = classificationReport(predicted, target, numClasses);
  return average === 'macro' ? r.macro.recall : r.recall;
}

export function f1(predicted: Labels, target: Labels, numClasses: number, average: 'macro' | 'none' = 'macro'): number | number[] {
  const r = classificationReport(predicted, target, numClasses);
  return average === 'macro' ? r.macro.f1 : r.f1;
}
