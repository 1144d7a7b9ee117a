// Datasets and batching: a Dataset holds features x [N, ...] and optional targets y [N, ...] as
// tensors; a DataLoader cuts it into batches, reshuffling each epoch with the library's seeded
// generator (so `manualSeed(n)` makes the batch order reproducible); trainTestSplit holds part out.
//
// Conversions (documented once, used by every entry point that takes data):
// - x: a Tensor is used as is; a typed array with a shape ({ data, shape }, e.g. what readIdx returns)
//   or nested number arrays become float32 (pixels in a Uint8Array become floats 0..255).
// - y: a Tensor is used as is; an integer typed array (Int32Array, Uint8Array, ...) becomes int32
//   class indices (what crossEntropy expects); float arrays and nested number arrays become float32.

import { kernelOutput } from '../backend/alloc.js';
import { getBackend } from '../backend/index.js';
import { tensor } from '../ops/creation.js';
import { Generator, globalGenerator } from '../random.js';
import { Tensor, formatShape, type NestedArray } from '../tensor.js';

export type NumericArray =
  | Float32Array | Float64Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array | Uint8ClampedArray;

/** A flat typed array with the shape it fills (row-major). `readIdx` returns this. */
export interface ShapedArray {
  data: NumericArray | readonly number[];
  shape: readonly number[];
}

/** Anything a Dataset accepts for x or y. */
export type ArrayInput = Tensor | ShapedArray | NestedArray;

const INTEGER_ARRAYS = [Int32Array, Uint32Array, Int16Array, Uint16Array, Int8Array, Uint8Array, Uint8ClampedArray];

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}

function isShapedArray(v: unknown): v is ShapedArray {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && 'data' in v && 'shape' in v;
}

/**
 * Converts user data to a tensor. `role` 'x' gives float32 (unless already a Tensor); 'y' keeps
 * integer typed arrays as int32 class indices. `op` and `name` go into error messages.
 */
export function toTensor(op: string, name: string, v: unknown, role: 'x' | 'y'): Tensor {
  if (v instanceof Tensor) return v;
  if (isShapedArray(v)) {
    const { data, shape } = v;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new RangeError(`${op}: ${name}.shape must be an array of integers >= 0, got ${JSON.stringify(shape)}`);
    }
    const size = shape.reduce((a: number, b: number) => a * b, 1);
    if (data === null || typeof data !== 'object' || typeof (data as ArrayLike<number>).length !== 'number') {
      throw new TypeError(`${op}: ${name}.data must be a typed array or an array of numbers, got ${describe(data)}`);
    }
    if (data.length !== size) {
      throw new RangeError(`${op}: ${name}.data has ${data.length} values but shape ${formatShape(shape)} needs ${size}`);
    }
    const asInt = role === 'y' && INTEGER_ARRAYS.some((C) => data instanceof C);
    const out = asInt ? Int32Array.from(data as ArrayLike<number>) : Float32Array.from(data as ArrayLike<number>);
    return new Tensor(out, shape);
  }
  if (typeof v === 'number' || Array.isArray(v)) return tensor(v as NestedArray);
  if (ArrayBuffer.isView(v)) {
    throw new TypeError(`${op}: ${name} is a bare ${describe(v)}; pass { data, shape } so the shape is known`);
  }
  throw new TypeError(`${op}: ${name} must be a Tensor, { data, shape } or nested arrays of numbers, got ${describe(v)}`);
}

/** One batch: features, targets (null for an unlabeled dataset) and the sample indices it holds. */
export interface Batch {
  x: Tensor;
  y: Tensor | null;
  indices: Int32Array;
}

/** Rows `indices` of t (along axis 0), copied; a contiguous ascending run is a view, not a copy. */
export function takeRows(t: Tensor, indices: Int32Array): Tensor {
  const n = t.shape[0];
  const row = n === 0 ? 0 : t.size / n;
  const shape = [indices.length, ...t.shape.slice(1)];
  let contiguous = true;
  for (let i = 1; i < indices.length && contiguous; i++) contiguous = indices[i] === indices[i - 1] + 1;
  if (contiguous && indices.length > 0) {
    const begin = indices[0] * row;
    return new Tensor(t.data.subarray(begin, begin + indices.length * row), shape);
  }
  const out = t.dtype === 'int32' ? new Int32Array(indices.length * row) : kernelOutput(indices.length * row);
  writeRows(t, indices, out);
  return new Tensor(out, shape);
}

/** out has t's dtype and the shape of `rows` of t's rows. */
function holdsRowsOf(out: Tensor, t: Tensor, rows: number): boolean {
  return out.dtype === t.dtype && out.rank === t.rank && out.shape[0] === rows && out.shape.every((d, i) => i === 0 || d === t.shape[i]);
}

/** Rows `indices` of t (along axis 0) into out, which has room for exactly those rows; every element written. */
function writeRows(t: Tensor, indices: Int32Array, out: Float32Array | Int32Array): void {
  const n = t.shape[0];
  const row = n === 0 ? 0 : t.size / n;
  if (row === 0 || indices.length === 0) return;
  if (t.data instanceof Float32Array) {
    // The kernel prefetches upcoming rows: a shuffled batch from a large dataset is mostly cache misses.
    getBackend().gatherRows(row, t.data, indices, out as Float32Array);
  } else if (row === 1) {
    for (let i = 0; i < indices.length; i++) out[i] = t.data[indices[i]]; // labels: no view per element
  } else {
    for (let i = 0; i < indices.length; i++) {
      const src = indices[i] * row;
      out.set(t.data.subarray(src, src + row), i * row);
    }
  }
}

/** Samples: x [N, ...] and, for supervised data, y [N, ...] with the same N. */
export class Dataset {
  readonly x: Tensor;
  readonly y: Tensor | null;

  constructor(x: ArrayInput, y?: ArrayInput | null) {
    this.x = toTensor('Dataset', 'x', x, 'x');
    if (this.x.rank < 1) throw new RangeError('Dataset: x must have a sample axis (rank >= 1), got a scalar');
    this.y = y === undefined || y === null ? null : toTensor('Dataset', 'y', y, 'y');
    if (this.y !== null) {
      if (this.y.rank < 1) throw new RangeError('Dataset: y must have a sample axis (rank >= 1), got a scalar');
      if (this.y.shape[0] !== this.x.shape[0]) {
        throw new RangeError(`Dataset: x has ${this.x.shape[0]} samples (shape ${formatShape(this.x.shape)}) but y has ${this.y.shape[0]} (shape ${formatShape(this.y.shape)})`);
      }
    }
  }

  /** Number of samples. */
  get length(): number {
    return this.x.shape[0];
  }

  /** The samples at `indices` as one batch. */
  batch(indices: Int32Array | readonly number[]): Batch {
    const idx = this.checkedIndices(indices);
    return { x: takeRows(this.x, idx), y: this.y === null ? null : takeRows(this.y, idx), indices: idx };
  }

  /**
   * @internal batch(indices) written into existing x and y tensors: the same values, into buffers that
   * already exist (fit gathers a replayed batch straight into the recorded step's input: no fresh buffer
   * to page in, no copy after). Null, writing nothing, when they do not have the batch's dtypes and shapes.
   */
  batchInto(indices: Int32Array, x: Tensor, y: Tensor | null): Batch | null {
    const idx = this.checkedIndices(indices);
    if ((this.y === null) !== (y === null) || !holdsRowsOf(x, this.x, idx.length)) return null;
    if (y !== null && !holdsRowsOf(y, this.y!, idx.length)) return null;
    writeRows(this.x, idx, x.data);
    if (y !== null) writeRows(this.y!, idx, y.data);
    return { x, y, indices: idx };
  }

  private checkedIndices(indices: Int32Array | readonly number[]): Int32Array {
    const idx = indices instanceof Int32Array ? indices : Int32Array.from(indices);
    for (const i of idx) {
      if (!Number.isInteger(i) || i < 0 || i >= this.length) {
        throw new RangeError(`Dataset.batch: index ${i} is out of range for ${this.length} samples`);
      }
    }
    return idx;
  }

  /** A new dataset holding copies of the samples at `indices`, in that order. */
  subset(indices: Int32Array | readonly number[]): Dataset {
    const b = this.batch(indices);
    return new Dataset(b.x.clone(), b.y === null ? null : b.y.clone());
  }

  toString(): string {
    const y = this.y === null ? '' : `, y ${formatShape(this.y.shape)} ${this.y.dtype}`;
    return `Dataset(${this.length} samples: x ${formatShape(this.x.shape)} ${this.x.dtype}${y})`;
  }
}

export interface DataLoaderOptions {
  /** Samples per batch (default 32). */
  batchSize?: number;
  /** Reshuffle the sample order at the start of every pass (default false). */
  shuffle?: boolean;
  /** Drop the last batch when it is smaller than batchSize (default false). */
  dropLast?: boolean;
  /** Generator for shuffling (default: the library's global one, seeded by manualSeed). */
  generator?: Generator;
}

/**
 * Iterates a dataset in batches. Each `for (const batch of loader)` is one epoch: with shuffle, a
 * fresh permutation is drawn from the generator when the pass starts.
 */
export class DataLoader implements Iterable<Batch> {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  private readonly generator: Generator;

  constructor(readonly dataset: Dataset, options: DataLoaderOptions = {}) {
    if (!(dataset instanceof Dataset)) throw new TypeError(`DataLoader: dataset must be a Dataset, got ${describe(dataset)}`);
    this.batchSize = options.batchSize ?? 32;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) {
      throw new RangeError(`DataLoader: batchSize must be an integer >= 1, got ${String(options.batchSize)}`);
    }
    this.shuffle = options.shuffle ?? false;
    this.dropLast = options.dropLast ?? false;
    for (const key of ['shuffle', 'dropLast'] as const) {
      if (typeof this[key] !== 'boolean') throw new TypeError(`DataLoader: ${key} must be a boolean, got ${String(options[key])}`);
    }
    if (options.generator !== undefined && !(options.generator instanceof Generator)) {
      throw new TypeError('DataLoader: generator must be a Generator');
    }
    this.generator = options.generator ?? globalGenerator;
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** Samples per epoch (fewer than the dataset with dropLast). */
  get samplesPerEpoch(): number {
    return this.dropLast ? this.length * this.batchSize : this.dataset.length;
  }

  *[Symbol.iterator](): Iterator<Batch> {
    for (const indices of this.indexBatches()) yield this.dataset.batch(indices);
  }

  /** @internal The sample indices of each batch of one pass (what the iterator gathers). */
  *indexBatches(): IterableIterator<Int32Array> {
    const n = this.dataset.length;
    const order = this.shuffle ? this.generator.permutation(n) : null;
    const batches = this.length;
    for (let b = 0; b < batches; b++) {
      const begin = b * this.batchSize;
      const end = Math.min(begin + this.batchSize, n);
      const indices = new Int32Array(end - begin);
      for (let i = begin; i < end; i++) indices[i - begin] = order === null ? i : order[i];
      yield indices;
    }
  }
}

export interface TrainTestSplitOptions {
  /** Held-out part: a fraction in (0, 1) or a sample count (default 0.25, as scikit-learn). */
  testSize?: number;
  /** Shuffle before splitting (default true); false keeps the last samples for the test set. */
  shuffle?: boolean;
  /**
   * Keep class proportions: each class (an int32 [N] label tensor, or y itself when true) is split
   * separately with the same test fraction. Needs shuffle.
   */
  stratify?: boolean | Tensor;
  /** Generator for the shuffle (default: the global one, seeded by manualSeed). */
  generator?: Generator;
}

export interface TrainTestSplit {
  xTrain: Tensor;
  xTest: Tensor;
  yTrain: Tensor;
  yTest: Tensor;
}

function testCount(n: number, testSize: number): number {
  if (typeof testSize !== 'number' || !Number.isFinite(testSize) || testSize <= 0) {
    throw new RangeError(`trainTestSplit: testSize must be a fraction in (0, 1) or a sample count >= 1, got ${String(testSize)}`);
  }
  const count = testSize < 1 ? Math.ceil(testSize * n) : testSize;
  if (!Number.isInteger(count) || count >= n) {
    throw new RangeError(`trainTestSplit: testSize ${testSize} leaves no training samples out of ${n}`);
  }
  return count;
}

/** Sample indices per class, each list in the order the samples appear in `order`. */
function groupByClass(labels: Tensor, order: Int32Array): Map<number, number[]> {
  if (labels.rank !== 1 && !(labels.rank === 2 && labels.shape[1] === 1)) {
    throw new RangeError(`trainTestSplit: stratify needs one label per sample ([N] or [N,1]), got shape ${formatShape(labels.shape)}`);
  }
  const groups = new Map<number, number[]>();
  for (const i of order) {
    const c = labels.data[i];
    if (!Number.isInteger(c)) throw new RangeError(`trainTestSplit: stratify label ${c} at sample ${i} is not a class index`);
    let g = groups.get(c);
    if (g === undefined) groups.set(c, (g = []));
    g.push(i);
  }
  return groups;
}

/**
 * Splits (x, y) into a training and a held-out part (scikit-learn's train_test_split). Seeded through
 * the library generator. Both parts are copies; sample order within each part follows the shuffle.
 */
export function trainTestSplit(x: ArrayInput, y: ArrayInput, options: TrainTestSplitOptions = {}): TrainTestSplit {
  const data = new Dataset(toTensor('trainTestSplit', 'x', x, 'x'), toTensor('trainTestSplit', 'y', y, 'y'));
  const n = data.length;
  const nTest = testCount(n, options.testSize ?? 0.25);
  const shuffle = options.shuffle ?? true;
  if (typeof shuffle !== 'boolean') throw new TypeError(`trainTestSplit: shuffle must be a boolean, got ${String(shuffle)}`);
  const gen = options.generator ?? globalGenerator;
  const order = shuffle ? gen.permutation(n) : Int32Array.from({ length: n }, (_, i) => i);
  let trainIdx: number[];
  let testIdx: number[];
  const stratify = options.stratify ?? false;
  if (stratify !== false) {
    if (!shuffle) throw new RangeError('trainTestSplit: stratify needs shuffle: true');
    const labels = stratify === true ? data.y! : toTensor('trainTestSplit', 'stratify', stratify, 'y');
    if (labels.shape[0] !== n) throw new RangeError(`trainTestSplit: stratify has ${labels.shape[0]} labels for ${n} samples`);
    // Each class gives round(share) test samples; the rounding leftovers go to the classes with the
    // largest remainders so the total is exactly nTest.
    const groups = [...groupByClass(labels, order).entries()].sort((a, b) => a[0] - b[0]);
    const exact = groups.map(([, g]) => (g.length * nTest) / n);
    const take = exact.map(Math.floor);
    let missing = nTest - take.reduce((a, b) => a + b, 0);
    const byRemainder = exact.map((e, i) => [e - Math.floor(e), i]).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    for (const [, i] of byRemainder) {
      if (missing === 0) break;
      if (take[i] < groups[i][1].length) {
        take[i]++;
        missing--;
      }
    }
    testIdx = [];
    trainIdx = [];
    groups.forEach(([, g], i) => {
      testIdx.push(...g.slice(0, take[i]));
      trainIdx.push(...g.slice(take[i]));
    });
    // Interleave classes again: keep the shuffled order inside each part.
    const rank = new Int32Array(n);
    order.forEach((s, i) => { rank[s] = i; });
    testIdx.sort((a, b) => rank[a] - rank[b]);
    trainIdx.sort((a, b) => rank[a] - rank[b]);
  } else {
    trainIdx = Array.from(order.subarray(0, n - nTest));
    testIdx = Array.from(order.subarray(n - nTest));
  }
  const train = data.subset(trainIdx);
  const test = data.subset(testIdx);
  return { xTrain: train.x, yTrain: train.y!, xTest: test.x, yTest: test.y! };
}
