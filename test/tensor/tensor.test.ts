// Tensor creation, fields, conversion and the seeded generator.
import { describe, expect, test } from 'vitest';
import { Tensor } from '../../lib/tensor.js';
import { arange, full, ones, rand, randn, tensor, zeros } from '../../lib/ops/creation.js';
import { Generator, manualSeed, randperm } from '../../lib/random.js';

describe('tensor()', () => {
  test('nested arrays infer the shape, row-major', () => {
    const t = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe('float32');
    expect(t.size).toBe(6);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(t.toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
  });

  test('a number is a rank-0 tensor; item() reads it', () => {
    const t = tensor(2.5);
    expect(t.shape).toEqual([]);
    expect(t.item()).toBe(2.5);
    expect(t.toArray()).toBe(2.5);
  });

  test('typed arrays are copied, shape reshapes flat input, Int32Array gives int32', () => {
    const src = new Float32Array([1, 2, 3, 4]);
    const t = tensor(src, [2, 2]);
    src[0] = 99;
    expect(t.data[0]).toBe(1);
    expect(t.shape).toEqual([2, 2]);
    const i = tensor(new Int32Array([3, 1]));
    expect(i.dtype).toBe('int32');
    expect(i.data).toBeInstanceOf(Int32Array);
  });

  test('dtype int32 from numbers; non-integers are rejected', () => {
    expect(tensor([1, 2], undefined, { dtype: 'int32' }).dtype).toBe('int32');
    expect(() => tensor([1.5], undefined, { dtype: 'int32' })).toThrow(/tensor: int32 tensor value 1.5/);
  });

  test('errors: ragged arrays, shape mismatch, bad dtype, int32 requiring grad', () => {
    expect(() => tensor([[1, 2], [3]])).toThrow(/tensor: ragged nested array/);
    expect(() => tensor([1, 2, 3], [2, 2])).toThrow(/tensor: 3 values do not fill shape \[2,2\]/);
    expect(() => tensor([1], undefined, { dtype: 'float64' as never })).toThrow(/tensor: dtype must be/);
    expect(() => tensor([1], undefined, { dtype: 'int32', requiresGrad: true })).toThrow(/int32 tensor cannot require grad/);
    expect(() => tensor([[1, 'a' as never]])).toThrow(/tensor: expected a number/);
  });

  test('requiresGrad, detach, clone, float/int', () => {
    const t = tensor([1.7, -2.2], undefined, { requiresGrad: true });
    expect(t.requiresGrad).toBe(true);
    expect(t.isLeaf).toBe(true);
    const d = t.detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.data).toBe(t.data);
    const c = t.clone();
    expect(c.data).not.toBe(t.data);
    expect(Array.from(t.int().data)).toEqual([1, -2]);
    expect(t.int().float().dtype).toBe('float32');
  });

  test('item() on a multi-element tensor names the shape', () => {
    expect(() => zeros([2, 2]).item()).toThrow(/item: tensor has 4 elements \(shape \[2,2\]\)/);
  });

  test('toFloat32Array copies and converts int32', () => {
    const i = arange(3);
    const f = i.toFloat32Array();
    expect(f).toBeInstanceOf(Float32Array);
    expect(Array.from(f)).toEqual([0, 1, 2]);
  });
});

describe('creation functions', () => {
  test('zeros, ones, full', () => {
    expect(Array.from(zeros([2, 2]).data)).toEqual([0, 0, 0, 0]);
    expect(Array.from(ones([3]).data)).toEqual([1, 1, 1]);
    const f = full([2], 7, { dtype: 'int32' });
    expect(f.dtype).toBe('int32');
    expect(Array.from(f.data)).toEqual([7, 7]);
    expect(() => zeros([2, -1])).toThrow(/zeros|full/);
  });

  test('arange: int32 for integer arguments, float32 otherwise, PyTorch element count', () => {
    expect(Array.from(arange(4).data)).toEqual([0, 1, 2, 3]);
    expect(arange(4).dtype).toBe('int32');
    const f = arange(0, 1, 0.25);
    expect(f.dtype).toBe('float32');
    expect(Array.from(f.data)).toEqual([0, 0.25, 0.5, 0.75]);
    expect(Array.from(arange(5, 1, -2).data)).toEqual([5, 3]);
    expect(() => arange(0, 1, 0)).toThrow(/arange: step must not be 0/);
  });

  test('rand/randn are reproducible under manualSeed and have the right moments', () => {
    manualSeed(42);
    const a = randn([4000]);
    const u = rand([4000]);
    manualSeed(42);
    const b = randn([4000]);
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
    let mean = 0;
    let sq = 0;
    for (const v of a.data) { mean += v; sq += v * v; }
    mean /= a.size;
    const variance = sq / a.size - mean * mean;
    // Standard error of the mean is 1/sqrt(4000) ~ 0.016; of the variance ~ sqrt(2/4000) ~ 0.022.
    expect(Math.abs(mean)).toBeLessThan(0.07);
    expect(Math.abs(variance - 1)).toBeLessThan(0.1);
    let umin = 1;
    let umax = 0;
    let usum = 0;
    for (const v of u.data) { umin = Math.min(umin, v); umax = Math.max(umax, v); usum += v; }
    expect(umin).toBeGreaterThanOrEqual(0);
    expect(umax).toBeLessThan(1);
    expect(Math.abs(usum / u.size - 0.5)).toBeLessThan(0.03);
  });
});

describe('Generator', () => {
  test('different seeds give different streams; the same seed the same stream', () => {
    const g1 = new Generator(1);
    const g2 = new Generator(2);
    const g1b = new Generator(1);
    const s1 = Array.from({ length: 8 }, () => g1.nextUint32());
    const s2 = Array.from({ length: 8 }, () => g2.nextUint32());
    const s1b = Array.from({ length: 8 }, () => g1b.nextUint32());
    expect(s1).toEqual(s1b);
    expect(s1).not.toEqual(s2);
  });

  test('seeds above 2^32 are distinct from their low 32 bits', () => {
    const a = new Generator(5).nextUint32();
    const b = new Generator(5 + 2 ** 32).nextUint32();
    expect(a).not.toBe(b);
  });

  test('randint is in range and roughly uniform; permutation is a permutation', () => {
    const g = new Generator(3);
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) counts[g.randint(0, 3)]++;
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(120);
    manualSeed(9);
    const p = randperm(50);
    expect(Array.from(p).sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    manualSeed(9);
    expect(Array.from(randperm(50))).toEqual(Array.from(p));
  });

  test('bad seeds are rejected with the value', () => {
    expect(() => manualSeed(-1)).toThrow(/manualSeed: seed must be a non-negative safe integer, got -1/);
    expect(() => manualSeed(1.5)).toThrow(/got 1.5/);
  });
});

describe('Tensor constructor', () => {
  test('checks data length against the shape', () => {
    expect(() => new Tensor(new Float32Array(3), [2, 2])).toThrow(/Tensor: data has 3 elements but shape \[2,2\] needs 4/);
  });
});
