// Metrics (`metrics.*`). The functions take Tensors (model outputs, targets) or plain arrays of class
// indices and return numbers; shapes are read as lib/metrics/labels.ts explains ([N, C] scores are
// argmaxed, [N, 1] binary outputs thresholded at 0.5, [N] are class indices). The classes are the
// streaming Metric objects fit and evaluate accumulate over batches.

import { Tensor } from '../tensor.js';
import * as cls from './classification.js';
import { labelPair, values, type LabelInput, type Labels } from './labels.js';
import * as reg from './regression.js';

export { Accuracy, TopKAccuracy, MeanError, R2, ClassScore, resolveMetric, METRIC_NAMES } from './streaming.js';
export type { Metric, MetricFn, MetricSpec } from './streaming.js';
export type { ClassReport } from './classification.js';
export type { LabelInput } from './labels.js';

/** Fraction of samples whose predicted class equals the target. */
export function accuracy(predicted: LabelInput, target: LabelInput): number {
  const { p, t } = labelPair('accuracy', predicted, target);
  return cls.accuracy(p.labels, t.labels);
}

/** Binary accuracy of [N, 1] (or [N]) scores against 0/1 targets; logits need threshold 0. */
export function binaryAccuracy(predicted: Tensor, target: Tensor, threshold = 0.5): number {
  const p = values('binaryAccuracy', 'predicted', predicted);
  const t = values('binaryAccuracy', 'target', target);
  if (p.length !== t.length) throw new RangeError(`binaryAccuracy: predicted has ${p.length} values but target has ${t.length}`);
  return cls.accuracy(Int32Array.from(p, (v) => (v > threshold ? 1 : 0)), t);
}

/** Fraction of samples whose target class is among the k highest of the [N, C] scores. */
export function topKAccuracy(scores: Tensor, target: LabelInput, k = 5): number {
  if (!(scores instanceof Tensor) || scores.rank !== 2) throw new RangeError('topKAccuracy: scores must be a [N, C] Tensor');
  const t = labelPair('topKAccuracy', scores, target).t;
  return cls.topKAccuracy(scores.data, scores.shape[1], t.labels, k);
}

function classCount(op: string, p: Labels, t: Labels, numClasses?: number): number {
  if (numClasses !== undefined) return numClasses;
  let c = p.numClasses ?? t.numClasses ?? 0;
  for (let i = 0; i < t.labels.length; i++) c = Math.max(c, t.labels[i] + 1, p.labels[i] + 1);
  if (c === 0) throw new RangeError(`${op}: no samples`);
  return c;
}

/** Counts as an int32 Tensor [C, C]: row = true class, column = predicted class. */
export function confusionMatrix(predicted: LabelInput, target: LabelInput, numClasses?: number): Tensor {
  const { p, t } = labelPair('confusionMatrix', predicted, target);
  const c = classCount('confusionMatrix', p, t, numClasses);
  return new Tensor(cls.confusionMatrix(p.labels, t.labels, c), [c, c]);
}

/** Per-class precision, recall, F1 and support, with macro means. */
export function classificationReport(predicted: LabelInput, target: LabelInput, numClasses?: number): cls.ClassReport {
  const { p, t } = labelPair('classificationReport', predicted, target);
  return cls.classificationReport(p.labels, t.labels, classCount('classificationReport', p, t, numClasses));
}

export interface ClassScoreOptions {
  /** Classes (default: the score columns, or the largest label + 1). */
  numClasses?: number;
  /**
   * 'macro': unweighted mean over classes; 'none': one value per class; 'binary': class 1 only.
   * Default: 'binary' for [N, 1] outputs, 'macro' otherwise.
   */
  average?: 'macro' | 'none' | 'binary';
}

function classScore(kind: 'precision' | 'recall' | 'f1', predicted: LabelInput, target: LabelInput, options: ClassScoreOptions): number | number[] {
  const { p, t } = labelPair(kind, predicted, target);
  const report = cls.classificationReport(p.labels, t.labels, classCount(kind, p, t, options.numClasses));
  const average = options.average ?? (p.binary ? 'binary' : 'macro');
  if (average === 'macro') return report.macro[kind];
  if (average === 'none') return report[kind];
  if (average === 'binary') {
    if (report[kind].length !== 2) throw new RangeError(`${kind}: average 'binary' needs 2 classes, got ${report[kind].length}`);
    return report[kind][1];
  }
  throw new RangeError(`${kind}: average must be 'macro', 'none' or 'binary', got ${JSON.stringify(average)}`);
}

export function precision(predicted: LabelInput, target: LabelInput, options: ClassScoreOptions = {}): number | number[] {
  return classScore('precision', predicted, target, options);
}

export function recall(predicted: LabelInput, target: LabelInput, options: ClassScoreOptions = {}): number | number[] {
  return classScore('recall', predicted, target, options);
}

export function f1(predicted: LabelInput, target: LabelInput, options: ClassScoreOptions = {}): number | number[] {
  return classScore('f1', predicted, target, options);
}

/** Mean squared error over every element. */
export function mse(predicted: Tensor | ArrayLike<number>, target: Tensor | ArrayLike<number>): number {
  return reg.mse(values('mse', 'predicted', predicted), values('mse', 'target', target));
}

/** Mean absolute error over every element. */
export function mae(predicted: Tensor | ArrayLike<number>, target: Tensor | ArrayLike<number>): number {
  return reg.mae(values('mae', 'predicted', predicted), values('mae', 'target', target));
}

/** R²; for [N, k] targets with k > 1, the mean of the per-column R² (scikit-learn 'uniform_average'). */
export function r2(predicted: Tensor | ArrayLike<number>, target: Tensor | ArrayLike<number>): number {
  const p = values('r2', 'predicted', predicted);
  const t = values('r2', 'target', target);
  const cols = target instanceof Tensor && target.rank === 2 ? target.shape[1] : 1;
  if (cols === 1 || p.length !== t.length) return reg.r2(p, t);
  const rows = t.length / cols;
  let total = 0;
  for (let c = 0; c < cols; c++) {
    const pc = new Float64Array(rows);
    const tc = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      pc[r] = p[r * cols + c];
      tc[r] = t[r * cols + c];
    }
    total += reg.r2(pc, tc);
  }
  return total / cols;
}
