// Turning model outputs and targets into class labels, the one place that decides how shapes are read:
//   [N, C] with C > 1  scores (logits or probabilities) or one-hot/probability targets -> argmax per row
//   [N, 1]             binary: predictions are thresholded (p > threshold -> 1), targets must be 0/1
//   [N]                class indices already (must be integers)
// Plain arrays are class indices.

import { Tensor, formatShape } from '../tensor.js';

export type LabelInput = Tensor | ArrayLike<number>;

export interface Labels {
  labels: ArrayLike<number>;
  /** Classes implied by the shape ([N, C] -> C, [N, 1] -> 2); undefined for index input. */
  numClasses?: number;
  binary: boolean;
}

function argmaxRows(d: ArrayLike<number>, rows: number, cols: number): Int32Array {
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (d[r * cols + c] > d[r * cols + best]) best = c;
    out[r] = best;
  }
  return out;
}

function checkIndices(op: string, name: string, d: ArrayLike<number>): void {
  for (let i = 0; i < d.length; i++) {
    if (!Number.isInteger(d[i]) || d[i] < 0) {
      throw new RangeError(`${op}: ${name}[${i}] = ${d[i]} is not a class index; pass scores as [N, C] or binary probabilities as [N, 1]`);
    }
  }
}

/**
 * Labels from predictions or targets. `threshold` applies to [N, 1] predictions only; a [N, 1]
 * target must already hold 0 or 1.
 */
export function toLabels(op: string, name: string, v: LabelInput, threshold?: number): Labels {
  if (!(v instanceof Tensor)) {
    if (v === null || typeof v !== 'object' || typeof v.length !== 'number') {
      throw new TypeError(`${op}: ${name} must be a Tensor or an array of class indices`);
    }
    checkIndices(op, name, v);
    return { labels: v, binary: false };
  }
  if (v.rank === 2 && v.shape[1] > 1) {
    return { labels: argmaxRows(v.data, v.shape[0], v.shape[1]), numClasses: v.shape[1], binary: false };
  }
  if (v.rank === 2 && v.shape[1] === 1) {
    if (threshold !== undefined) {
      return { labels: Int32Array.from(v.data, (p) => (p > threshold ? 1 : 0)), numClasses: 2, binary: true };
    }
    for (let i = 0; i < v.size; i++) {
      if (v.data[i] !== 0 && v.data[i] !== 1) throw new RangeError(`${op}: binary ${name}[${i}] = ${v.data[i]} must be 0 or 1`);
    }
    return { labels: v.data, numClasses: 2, binary: true };
  }
  if (v.rank === 1) {
    checkIndices(op, name, v.data);
    return { labels: v.data, binary: false };
  }
  throw new RangeError(`${op}: ${name} must be [N] class indices, [N, C] scores or [N, 1] binary values, got shape ${formatShape(v.shape)}`);
}

/** Predicted and target labels of one batch, checked to agree in count. */
export function labelPair(op: string, predicted: LabelInput, target: LabelInput, threshold = 0.5): { p: Labels; t: Labels } {
  const p = toLabels(op, 'predicted', predicted, threshold);
  const t = toLabels(op, 'target', target);
  if (p.labels.length !== t.labels.length) {
    throw new RangeError(`${op}: predicted has ${p.labels.length} samples but target has ${t.labels.length}`);
  }
  return { p, t };
}

/** Flat values of a regression output or target. */
export function values(op: string, name: string, v: Tensor | ArrayLike<number>): ArrayLike<number> {
  if (v instanceof Tensor) return v.data;
  if (v === null || typeof v !== 'object' || typeof v.length !== 'number') {
    throw new TypeError(`${op}: ${name} must be a Tensor or an array of numbers`);
  }
  return v;
}
