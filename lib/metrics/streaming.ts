// Metric objects that accumulate over batches, as fit and evaluate use them: reset() at the start of an
// epoch, update(predicted, target) after each batch, result() for the value over every sample seen.
// Accumulating counts (not averaging per-batch values) makes the epoch value exact for any batch size:
// accuracy is total hits / total samples, macro F1 comes from the summed confusion matrix.
// fit accepts these by name: 'accuracy' (alias 'acc'), 'binaryAccuracy', 'topKAccuracy' (k = 5),
// 'mse', 'mae', 'r2', 'precision', 'recall', 'f1'.

import { Tensor, formatShape } from '../tensor.js';
import { topKHits } from './classification.js';
import { labelPair, toLabels, values } from './labels.js';

export interface Metric {
  /** Key in logs and History (validation values get the prefix `val_`). */
  readonly name: string;
  /** true when a larger value is better (EarlyStopping and ModelCheckpoint 'auto' mode use it). */
  readonly higherIsBetter: boolean;
  reset(): void;
  update(predicted: Tensor, target: Tensor): void;
  /** The value over every sample since reset(); NaN before any update. */
  result(): number;
}

/** A plain function metric: the epoch value is the sample-weighted mean of its per-batch values. */
export type MetricFn = (predicted: Tensor, target: Tensor) => number;

export type MetricSpec = string | Metric | MetricFn;

/** Fraction of samples classified correctly; [N, 1] outputs are thresholded (binary). */
export class Accuracy implements Metric {
  readonly higherIsBetter = true;
  private hits = 0;
  private count = 0;

  constructor(readonly name = 'accuracy', readonly threshold = 0.5) {}

  reset(): void {
    this.hits = 0;
    this.count = 0;
  }

  update(predicted: Tensor, target: Tensor): void {
    const { p, t } = labelPair(this.name, predicted, target, this.threshold);
    for (let i = 0; i < p.labels.length; i++) if (p.labels[i] === t.labels[i]) this.hits++;
    this.count += p.labels.length;
  }

  result(): number {
    return this.count === 0 ? NaN : this.hits / this.count;
  }
}

/** Fraction of samples whose target class is among the k highest scores of [N, C] outputs. */
export class TopKAccuracy implements Metric {
  readonly higherIsBetter = true;
  private hits = 0;
  private count = 0;

  constructor(readonly k = 5, readonly name = `top${k}Accuracy`) {
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`TopKAccuracy: k must be an integer >= 1, got ${String(k)}`);
  }

  reset(): void {
    this.hits = 0;
    this.count = 0;
  }

  update(predicted: Tensor, target: Tensor): void {
    if (predicted.rank !== 2) throw new RangeError(`${this.name}: predicted must be scores [N, C], got ${formatShape(predicted.shape)}`);
    const [n, c] = predicted.shape;
    const t = toLabels(this.name, 'target', target);
    if (t.labels.length !== n) throw new RangeError(`${this.name}: predicted has ${n} samples but target has ${t.labels.length}`);
    this.hits += topKHits(this.name, predicted.data, c, t.labels, this.k);
    this.count += n;
  }

  result(): number {
    return this.count === 0 ? NaN : this.hits / this.count;
  }
}

/** Mean squared or absolute error over every element. */
export class MeanError implements Metric {
  readonly higherIsBetter = false;
  private sum = 0;
  private count = 0;

  constructor(readonly kind: 'squared' | 'absolute', readonly name = kind === 'squared' ? 'mse' : 'mae') {}

  reset(): void {
    this.sum = 0;
    this.count = 0;
  }

  update(predicted: Tensor, target: Tensor): void {
    const p = values(this.name, 'predicted', predicted);
    const t = values(this.name, 'target', target);
    if (p.length !== t.length) throw new RangeError(`${this.name}: predicted has ${p.length} values but target has ${t.length}`);
    for (let i = 0; i < p.length; i++) {
      const d = p[i] - t[i];
      this.sum += this.kind === 'squared' ? d * d : Math.abs(d);
    }
    this.count += p.length;
  }

  result(): number {
    return this.count === 0 ? NaN : this.sum / this.count;
  }
}

/**
 * Coefficient of determination per output column, averaged over columns (scikit-learn's
 * 'uniform_average'). Target variance is accumulated with Welford's update, so no cancellation.
 */
export class R2 implements Metric {
  readonly higherIsBetter = true;
  private count = 0;
  private mean = new Float64Array(0);
  private m2 = new Float64Array(0);
  private ssRes = new Float64Array(0);

  constructor(readonly name = 'r2') {}

  reset(): void {
    this.count = 0;
    this.mean = new Float64Array(0);
    this.m2 = new Float64Array(0);
    this.ssRes = new Float64Array(0);
  }

  update(predicted: Tensor, target: Tensor): void {
    if (predicted.size !== target.size) throw new RangeError(`${this.name}: predicted has ${predicted.size} values but target has ${target.size}`);
    const rows = target.shape[0] ?? 1;
    const cols = rows === 0 ? 1 : target.size / rows;
    if (this.mean.length === 0) {
      this.mean = new Float64Array(cols);
      this.m2 = new Float64Array(cols);
      this.ssRes = new Float64Array(cols);
    } else if (this.mean.length !== cols) {
      throw new RangeError(`${this.name}: target has ${cols} outputs per sample, earlier batches had ${this.mean.length}`);
    }
    const p = predicted.data;
    const t = target.data;
    for (let r = 0; r < rows; r++) {
      this.count++;
      for (let c = 0; c < cols; c++) {
        const y = t[r * cols + c];
        const delta = y - this.mean[c];
        this.mean[c] += delta / this.count;
        this.m2[c] += delta * (y - this.mean[c]);
        this.ssRes[c] += (y - p[r * cols + c]) ** 2;
      }
    }
  }

  result(): number {
    if (this.count === 0) return NaN;
    let total = 0;
    for (let c = 0; c < this.mean.length; c++) {
      total += this.m2[c] === 0 ? (this.ssRes[c] === 0 ? 1 : 0) : 1 - this.ssRes[c] / this.m2[c];
    }
    return total / this.mean.length;
  }
}

export type ClassAverage = 'macro' | 'binary';

/**
 * Precision, recall or F1 from a confusion matrix summed over batches. Multi-class ([N, C] outputs):
 * the macro mean over classes. Binary ([N, 1] outputs, thresholded): the positive class's value.
 */
export class ClassScore implements Metric {
  readonly higherIsBetter = true;
  private counts = new Float64Array(0);
  private classes = 0;
  private binary = false;

  constructor(readonly kind: 'precision' | 'recall' | 'f1', readonly name: string = kind, readonly threshold = 0.5) {}

  reset(): void {
    this.counts = new Float64Array(0);
    this.classes = 0;
  }

  update(predicted: Tensor, target: Tensor): void {
    const { p, t } = labelPair(this.name, predicted, target, this.threshold);
    let c = p.numClasses ?? 0;
    for (let i = 0; i < t.labels.length; i++) c = Math.max(c, t.labels[i] + 1, p.labels[i] + 1);
    if (c > this.classes) {
      // Grow the matrix (a later batch may show a class the first did not).
      const grown = new Float64Array(c * c);
      for (let a = 0; a < this.classes; a++) for (let b = 0; b < this.classes; b++) grown[a * c + b] = this.counts[a * this.classes + b];
      this.counts = grown;
      this.classes = c;
    }
    this.binary = p.binary;
    for (let i = 0; i < t.labels.length; i++) this.counts[t.labels[i] * this.classes + p.labels[i]]++;
  }

  /** The score of class k. */
  private classValue(k: number): number {
    const n = this.classes;
    let predictedK = 0;
    let trueK = 0;
    for (let o = 0; o < n; o++) {
      predictedK += this.counts[o * n + k];
      trueK += this.counts[k * n + o];
    }
    const tp = this.counts[k * n + k];
    const precision = predictedK === 0 ? 0 : tp / predictedK;
    const recall = trueK === 0 ? 0 : tp / trueK;
    if (this.kind === 'precision') return precision;
    if (this.kind === 'recall') return recall;
    return precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  }

  result(): number {
    if (this.classes === 0) return NaN;
    if (this.binary) return this.classValue(1);
    let total = 0;
    for (let k = 0; k < this.classes; k++) total += this.classValue(k);
    return total / this.classes;
  }
}

/** For metrics known only by name: accuracy-like names are better when larger, errors when smaller. */
export function higherIsBetterByName(name: string): boolean {
  return /acc|precision|recall|f1|r2|auc/i.test(name);
}

/** Wraps a plain function: sample-weighted mean of its per-batch values. */
class FunctionMetric implements Metric {
  readonly higherIsBetter: boolean;
  private sum = 0;
  private count = 0;

  constructor(readonly name: string, private readonly fn: MetricFn) {
    this.higherIsBetter = higherIsBetterByName(name);
  }

  reset(): void {
    this.sum = 0;
    this.count = 0;
  }

  update(predicted: Tensor, target: Tensor): void {
    const v = this.fn(predicted, target);
    if (typeof v !== 'number') throw new TypeError(`metric ${this.name}: must return a number, got ${typeof v}`);
    const n = predicted.shape[0] ?? 1;
    this.sum += v * n;
    this.count += n;
  }

  result(): number {
    return this.count === 0 ? NaN : this.sum / this.count;
  }
}

const BY_NAME: Record<string, () => Metric> = {
  accuracy: () => new Accuracy(),
  acc: () => new Accuracy('acc'),
  binaryAccuracy: () => new Accuracy('binaryAccuracy'),
  topKAccuracy: () => new TopKAccuracy(5, 'topKAccuracy'),
  mse: () => new MeanError('squared'),
  mae: () => new MeanError('absolute'),
  r2: () => new R2(),
  precision: () => new ClassScore('precision'),
  recall: () => new ClassScore('recall'),
  f1: () => new ClassScore('f1'),
};

/** The metric names fit and evaluate understand. */
export const METRIC_NAMES: readonly string[] = Object.keys(BY_NAME);

/** A fresh Metric for a name, a Metric object (used as is) or a named function. `op` prefixes errors. */
export function resolveMetric(spec: MetricSpec, op = 'metrics'): Metric {
  if (typeof spec === 'string') {
    const make = BY_NAME[spec];
    if (make === undefined) throw new RangeError(`${op}: unknown metric ${JSON.stringify(spec)}; known: ${METRIC_NAMES.join(', ')}`);
    return make();
  }
  if (typeof spec === 'function') {
    if (!spec.name) throw new TypeError(`${op}: a metric function needs a name (use a named function) so History can key it`);
    return new FunctionMetric(spec.name, spec);
  }
  if (spec !== null && typeof spec === 'object' && typeof spec.update === 'function' && typeof spec.result === 'function' &&
      typeof spec.reset === 'function' && typeof spec.name === 'string') {
    return spec;
  }
  throw new TypeError(`${op}: a metric must be a name (${METRIC_NAMES.join(', ')}), a Metric object or a named function, got ${String(spec)}`);
}
