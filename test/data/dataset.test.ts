// Dataset conversions, DataLoader batching and seeded shuffling, trainTestSplit.
import { describe, expect, test } from 'vitest';
import { DataLoader, Dataset, trainTestSplit } from '../../lib/data/dataset.js';
import { Generator, manualSeed } from '../../lib/random.js';
import { Tensor } from '../../lib/tensor.js';

/** x row i = [i, 100 + i], y = i % 3: every row says which sample it is. */
function numbered(n: number): Dataset {
  const x = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) x.set([i, 100 + i], 2 * i);
  return new Dataset(new Tensor(x, [n, 2]), new Tensor(Int32Array.from({ length: n }, (_, i) => i % 3), [n]));
}

function epochIndices(loader: DataLoader): number[][] {
  return [...loader].map((b) => Array.from(b.indices));
}

describe('Dataset', () => {
  test('from typed arrays with shapes: Uint8 pixels become float32 x, integer labels int32 y', () => {
    const pixels = Uint8Array.from([0, 255, 128, 7, 1, 2]);
    const labels = Uint8Array.from([3, 9]);
    const d = new Dataset({ data: pixels, shape: [2, 3] }, { data: labels, shape: [2] });
    expect(d.length).toBe(2);
    expect(d.x.dtype).toBe('float32');
    expect(Array.from(d.x.data)).toEqual([0, 255, 128, 7, 1, 2]);
    expect(d.y!.dtype).toBe('int32');
    expect(Array.from(d.y!.data)).toEqual([3, 9]);
    const reg = new Dataset([[1, 2], [3, 4]], { data: Float64Array.from([0.5, 1.5]), shape: [2, 1] });
    expect(reg.y!.dtype).toBe('float32');
    expect(reg.toString()).toBe('Dataset(2 samples: x [2,2] float32, y [2,1] float32)');
  });

  test('batch() gathers rows; a contiguous run is a view, a shuffled one a copy', () => {
    const d = numbered(5);
    const b = d.batch([3, 1]);
    expect(b.x.toArray()).toEqual([[3, 103], [1, 101]]);
    expect(Array.from(b.y!.data)).toEqual([0, 1]);
    const view = d.batch([1, 2, 3]);
    expect(view.x.data.buffer).toBe(d.x.data.buffer);
    expect(b.x.data.buffer).not.toBe(d.x.data.buffer);
    expect(() => d.batch([5])).toThrow('Dataset.batch: index 5 is out of range for 5 samples');
  });

  test('batchInto() writes batch()\'s rows into existing tensors (fit\'s replayed step), or returns null writing nothing', () => {
    const d = numbered(50);
    const idx = Int32Array.from([7, 3, 49, 0, 3]);
    const x = new Tensor(new Float32Array(10).fill(-1), [5, 2]);
    const y = new Tensor(new Int32Array(5).fill(-1), [5]);
    const got = d.batchInto(idx, x, y)!;
    const want = d.batch(idx);
    expect(got.x).toBe(x);
    expect(got.y).toBe(y);
    expect(Array.from(x.data)).toEqual(Array.from(want.x.data));
    expect(Array.from(y.data)).toEqual(Array.from(want.y!.data));
    const untouched = (t: Tensor) => Array.from(t.data).every((v) => v === -2);
    const fresh = (shape: number[], int = false) => new Tensor(int ? new Int32Array(shape.reduce((a, b) => a * b)).fill(-2) : new Float32Array(shape.reduce((a, b) => a * b)).fill(-2), shape);
    for (const [bx, by] of [[fresh([4, 2]), fresh([5], true)], [fresh([5, 3]), fresh([5], true)], [fresh([5, 2]), fresh([5])], [fresh([5, 2]), fresh([4], true)], [fresh([10]), fresh([5], true)]]) {
      expect(d.batchInto(idx, bx, by)).toBeNull();
      expect(untouched(bx) && untouched(by)).toBe(true);
    }
    expect(d.batchInto(idx, fresh([5, 2]), null)).toBeNull(); // labelled data needs a y
    expect(() => d.batchInto(Int32Array.from([1, 50]), x, y)).toThrow(/^Dataset.batch: index 50 is out of range for 50 samples/);
  });

  test('bad inputs name Dataset and the problem', () => {
    expect(() => new Dataset(untyped<Tensor>(new Float32Array(4)))).toThrow('Dataset: x is a bare Float32Array; pass { data, shape } so the shape is known');
    expect(() => new Dataset({ data: new Float32Array(5), shape: [2, 2] })).toThrow('Dataset: x.data has 5 values but shape [2,2] needs 4');
    expect(() => new Dataset([[1], [2]], [1, 2, 3])).toThrow('Dataset: x has 2 samples (shape [2,1]) but y has 3 (shape [3])');
    expect(() => new Dataset(untyped<Tensor>('x.csv'))).toThrow('Dataset: x must be a Tensor, { data, shape } or nested arrays of numbers, got string');
  });
});

/** A deliberately ill-typed value (for bad-input tests). */
function untyped<T>(value: unknown): T {
  return value as T;
}

describe('DataLoader', () => {
  test('batches cover every sample exactly once per epoch, in order without shuffle; the last batch is short', () => {
    const loader = new DataLoader(numbered(10), { batchSize: 4 });
    expect(loader.length).toBe(3);
    const batches = [...loader];
    expect(batches.map((b) => b.x.shape[0])).toEqual([4, 4, 2]);
    expect(batches.flatMap((b) => Array.from(b.indices))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Rows and labels travel together.
    for (const b of batches) b.indices.forEach((i, r) => {
      expect(b.x.data[2 * r]).toBe(i);
      expect(b.y!.data[r]).toBe(i % 3);
    });
  });

  test('shuffle: each epoch is a new permutation covering every sample once; manualSeed reproduces the order', () => {
    const loader = new DataLoader(numbered(23), { batchSize: 5, shuffle: true });
    manualSeed(42);
    const e1 = epochIndices(loader);
    const e2 = epochIndices(loader);
    for (const e of [e1, e2]) expect(e.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 23 }, (_, i) => i));
    expect(e1.flat()).not.toEqual(e2.flat());
    expect(e1.flat()).not.toEqual(Array.from({ length: 23 }, (_, i) => i));
    manualSeed(42);
    expect(epochIndices(loader)).toEqual(e1);
    expect(epochIndices(loader)).toEqual(e2);
    // Rows follow their indices after shuffling too.
    for (const b of loader) b.indices.forEach((i, r) => expect(b.x.data[2 * r + 1]).toBe(100 + i));
  });

  test('a private Generator gives the same order without touching the global stream', () => {
    const a = epochIndices(new DataLoader(numbered(12), { batchSize: 4, shuffle: true, generator: new Generator(7) }));
    const b = epochIndices(new DataLoader(numbered(12), { batchSize: 4, shuffle: true, generator: new Generator(7) }));
    expect(a).toEqual(b);
  });

  test('dropLast drops the short batch; options are validated', () => {
    const loader = new DataLoader(numbered(10), { batchSize: 4, dropLast: true });
    expect(loader.length).toBe(2);
    expect(loader.samplesPerEpoch).toBe(8);
    expect([...loader].map((b) => b.x.shape[0])).toEqual([4, 4]);
    expect(() => new DataLoader(numbered(3), { batchSize: 0 })).toThrow('DataLoader: batchSize must be an integer >= 1, got 0');
    expect(() => new DataLoader(numbered(3), { shuffle: untyped<boolean>(1) })).toThrow('DataLoader: shuffle must be a boolean, got 1');
  });
});

describe('trainTestSplit', () => {
  const d = numbered(20);

  test('sizes (fraction rounds the test part up, as scikit-learn), disjoint, covering, rows with their labels', () => {
    manualSeed(1);
    const s = trainTestSplit(d.x, d.y!, { testSize: 0.25 });
    expect(s.xTrain.shape).toEqual([15, 2]);
    expect(s.xTest.shape).toEqual([5, 2]);
    expect(s.yTrain.shape).toEqual([15]);
    const ids = (x: Tensor) => Array.from({ length: x.shape[0] }, (_, r) => x.data[2 * r]);
    const all = [...ids(s.xTrain), ...ids(s.xTest)].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 20 }, (_, i) => i));
    ids(s.xTest).forEach((id, r) => expect(s.yTest.data[r]).toBe(id % 3));
    expect(trainTestSplit(d.x, d.y!, { testSize: 0.21 }).xTest.shape[0]).toBe(5); // ceil(4.2)
    expect(trainTestSplit(d.x, d.y!, { testSize: 3 }).xTest.shape[0]).toBe(3);
  });

  test('reproducible with manualSeed; shuffle: false keeps the last samples for the test part', () => {
    manualSeed(9);
    const a = trainTestSplit(d.x, d.y!);
    manualSeed(9);
    const b = trainTestSplit(d.x, d.y!);
    expect(Array.from(a.xTest.data)).toEqual(Array.from(b.xTest.data));
    expect(Array.from(a.xTrain.data)).toEqual(Array.from(b.xTrain.data));
    const c = trainTestSplit(d.x, d.y!, { testSize: 0.2, shuffle: false });
    expect(Array.from(c.yTest.data)).toEqual([16 % 3, 17 % 3, 18 % 3, 19 % 3]);
  });

  test('stratify keeps class proportions: 60 of class 0, 30 of class 1, 10 of class 2 -> 6/3/1 in a 10% test part', () => {
    const labels = new Int32Array(100);
    labels.fill(1, 60, 90);
    labels.fill(2, 90);
    const x = new Tensor(Float32Array.from({ length: 100 }, (_, i) => i), [100, 1]);
    manualSeed(3);
    const s = trainTestSplit(x, new Tensor(labels, [100]), { testSize: 0.1, stratify: true });
    const count = (t: Tensor, c: number) => Array.from(t.data).filter((v) => v === c).length;
    expect([0, 1, 2].map((c) => count(s.yTest, c))).toEqual([6, 3, 1]);
    expect([0, 1, 2].map((c) => count(s.yTrain, c))).toEqual([54, 27, 9]);
  });

  test('bad test sizes are refused', () => {
    expect(() => trainTestSplit(d.x, d.y!, { testSize: 0 })).toThrow('trainTestSplit: testSize must be a fraction in (0, 1) or a sample count >= 1, got 0');
    expect(() => trainTestSplit(d.x, d.y!, { testSize: 20 })).toThrow('trainTestSplit: testSize 20 leaves no training samples out of 20');
    expect(() => trainTestSplit(d.x, d.y!, { stratify: true, shuffle: false })).toThrow('trainTestSplit: stratify needs shuffle: true');
  });
});
