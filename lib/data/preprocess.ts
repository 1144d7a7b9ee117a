// Feature scaling and one-hot encoding (scikit-learn semantics).
//
// A scaler learns per-feature statistics on the training data (`fit`) and applies them to any data
// (`transform`), so validation and test data are scaled with the training statistics. Features are
// the LAST axis: [N, F] tables scale per column; [N, H, W, C] images scale per channel. Statistics are
// accumulated in float64.

import { Tensor, formatShape } from '../tensor.js';
import { toTensor, type ArrayInput } from './dataset.js';

interface Columns {
  t: Tensor;
  rows: number;
  features: number;
}

function asColumns(op: string, v: ArrayInput): Columns {
  const t = toTensor(op, 'x', v, 'x');
  if (t.rank < 1) throw new RangeError(`${op}: x must have a feature axis, got a scalar`);
  if (t.rank === 1) throw new RangeError(`${op}: x must be [N, features] (got shape ${formatShape(t.shape)}); reshape a single feature to [N, 1]`);
  const features = t.shape[t.rank - 1];
  if (features === 0) throw new RangeError(`${op}: x has no features (shape ${formatShape(t.shape)})`);
  return { t, rows: t.size / features, features };
}

/** Shared fit/transform bookkeeping: feature count checks and "fit first" errors. */
abstract class Scaler {
  protected nFeatures = 0;

  protected constructor(private readonly scalerName: string) {}

  /** Number of features seen by fit (0 before fit). */
  get featureCount(): number {
    return this.nFeatures;
  }

  get fitted(): boolean {
    return this.nFeatures > 0;
  }

  /** Learns the per-feature statistics from x. Returns this. */
  fit(x: ArrayInput): this {
    const op = `${this.scalerName}.fit`;
    const c = asColumns(op, x);
    if (c.rows === 0) throw new RangeError(`${op}: x has no samples`);
    for (let i = 0; i < c.t.size; i++) {
      if (!Number.isFinite(c.t.data[i])) {
        throw new RangeError(`${op}: x holds a non-finite value ${c.t.data[i]} at row ${Math.floor(i / c.features)}, feature ${i % c.features}`);
      }
    }
    this.learn(c);
    this.nFeatures = c.features;
    return this;
  }

  /** Scales x with the fitted statistics; a new float32 tensor of x's shape. */
  transform(x: ArrayInput): Tensor {
    return this.apply(`${this.scalerName}.transform`, x, (v, f) => this.forward(v, f));
  }

  fitTransform(x: ArrayInput): Tensor {
    return this.fit(x).transform(x);
  }

  /** Undoes transform (e.g. turns predicted standardized targets back into original units). */
  inverseTransform(x: ArrayInput): Tensor {
    return this.apply(`${this.scalerName}.inverseTransform`, x, (v, f) => this.backward(v, f));
  }

  private apply(op: string, x: ArrayInput, fn: (v: number, feature: number) => number): Tensor {
    if (!this.fitted) throw new Error(`${op}: the scaler is not fitted yet; call fit(trainingData) first`);
    const c = asColumns(op, x);
    if (c.features !== this.nFeatures) {
      throw new RangeError(`${op}: x has ${c.features} features (shape ${formatShape(c.t.shape)}) but the scaler was fitted on ${this.nFeatures}`);
    }
    const out = new Float32Array(c.t.size);
    const src = c.t.data;
    for (let i = 0; i < out.length; i++) out[i] = fn(src[i], i % c.features);
    return new Tensor(out, c.t.shape);
  }

  protected abstract learn(c: Columns): void;
  protected abstract forward(v: number, feature: number): number;
  protected abstract backward(v: number, feature: number): number;
}

export interface StandardScalerOptions {
  /** Subtract the mean (default true). */
  withMean?: boolean;
  /** Divide by the standard deviation (default true). */
  withStd?: boolean;
}

/**
 * z = (x - mean) / std per feature, with the population standard deviation (divide by N, as
 * scikit-learn). A constant feature has std 0 and is only centred (its scale is 1).
 */
export class StandardScaler extends Scaler {
  readonly withMean: boolean;
  readonly withStd: boolean;
  /** Per-feature mean (after fit). */
  mean = new Float64Array(0);
  /** Per-feature divisor: the standard deviation, or 1 for a constant feature (after fit). */
  scale = new Float64Array(0);

  constructor(options: StandardScalerOptions = {}) {
    super('StandardScaler');
    this.withMean = options.withMean ?? true;
    this.withStd = options.withStd ?? true;
  }

  protected learn({ t, rows, features }: Columns): void {
    const mean = new Float64Array(features);
    const m2 = new Float64Array(features);
    const d = t.data;
    for (let i = 0; i < d.length; i++) mean[i % features] += d[i];
    for (let f = 0; f < features; f++) mean[f] /= rows;
    // Second pass on centred values: no cancellation from E[x²] - E[x]².
    for (let i = 0; i < d.length; i++) m2[i % features] += (d[i] - mean[i % features]) ** 2;
    this.mean = mean;
    this.scale = m2.map((s) => {
      const std = Math.sqrt(s / rows);
      return std === 0 ? 1 : std;
    });
  }

  protected forward(v: number, f: number): number {
    return (v - (this.withMean ? this.mean[f] : 0)) / (this.withStd ? this.scale[f] : 1);
  }

  protected backward(v: number, f: number): number {
    return v * (this.withStd ? this.scale[f] : 1) + (this.withMean ? this.mean[f] : 0);
  }
}

export interface MinMaxScalerOptions {
  /** Target range [lo, hi] (default [0, 1]). */
  featureRange?: readonly [number, number];
  /** Clip transformed values into featureRange (default false: new data may fall outside). */
  clip?: boolean;
}

/**
 * x' = lo + (x - min) · (hi - lo) / (max - min) per feature. A constant feature maps to lo (its
 * range counts as 1, as scikit-learn does).
 */
export class MinMaxScaler extends Scaler {
  readonly featureRange: readonly [number, number];
  readonly clip: boolean;
  /** Per-feature minimum and maximum seen by fit. */
  dataMin = new Float64Array(0);
  dataMax = new Float64Array(0);

  constructor(options: MinMaxScalerOptions = {}) {
    super('MinMaxScaler');
    const range = options.featureRange ?? [0, 1];
    if (!Array.isArray(range) || range.length !== 2 || !range.every(Number.isFinite) || !(range[0] < range[1])) {
      throw new RangeError(`MinMaxScaler: featureRange must be [lo, hi] with finite lo < hi, got ${JSON.stringify(range)}`);
    }
    this.featureRange = [range[0], range[1]];
    this.clip = options.clip ?? false;
  }

  protected learn({ t, features }: Columns): void {
    const lo = new Float64Array(features).fill(Infinity);
    const hi = new Float64Array(features).fill(-Infinity);
    const d = t.data;
    for (let i = 0; i < d.length; i++) {
      const f = i % features;
      if (d[i] < lo[f]) lo[f] = d[i];
      if (d[i] > hi[f]) hi[f] = d[i];
    }
    this.dataMin = lo;
    this.dataMax = hi;
  }

  private range(f: number): number {
    const r = this.dataMax[f] - this.dataMin[f];
    return r === 0 ? 1 : r;
  }

  protected forward(v: number, f: number): number {
    const [lo, hi] = this.featureRange;
    const y = lo + ((v - this.dataMin[f]) * (hi - lo)) / this.range(f);
    return this.clip ? Math.min(hi, Math.max(lo, y)) : y;
  }

  protected backward(v: number, f: number): number {
    const [lo, hi] = this.featureRange;
    return this.dataMin[f] + ((v - lo) * this.range(f)) / (hi - lo);
  }
}

/**
 * One-hot rows: labels [N] (class indices) -> float32 [N, numClasses] with a 1 at each label.
 * Labels may be a Tensor (int32, or float32 holding integers) or an array of integers.
 */
export function oneHot(labels: Tensor | ArrayLike<number>, numClasses: number): Tensor {
  const op = 'oneHot';
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new RangeError(`${op}: numClasses must be an integer >= 1, got ${String(numClasses)}`);
  }
  let values: ArrayLike<number>;
  if (labels instanceof Tensor) {
    if (labels.rank > 1 && !(labels.rank === 2 && labels.shape[1] === 1)) {
      throw new RangeError(`${op}: labels must be [N] (or [N,1]), got shape ${formatShape(labels.shape)}`);
    }
    values = labels.data;
  } else if (labels !== null && typeof labels === 'object' && typeof labels.length === 'number') {
    values = labels;
  } else {
    throw new TypeError(`${op}: labels must be a Tensor or an array of class indices`);
  }
  const n = values.length;
  const out = new Float32Array(n * numClasses);
  for (let i = 0; i < n; i++) {
    const c = values[i];
    if (!Number.isInteger(c) || c < 0 || c >= numClasses) {
      throw new RangeError(`${op}: label ${c} at index ${i} is not a class index in [0, ${numClasses})`);
    }
    out[i * numClasses + c] = 1;
  }
  return new Tensor(out, [n, numClasses]);
}
