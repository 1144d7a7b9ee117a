// reduce / reduceBackward / argmax on both backends: hand-checked reference values, parity for every
// axis subset of rank 1-4 tensors and every native configuration, thread-count bit-identity,
// finite-difference checks of the backward kernel, and bad input on both backends.

import { describe, expect, it } from 'vitest';
import type { Backend, ReduceOp } from '../../lib/backend/backend.js';
import { shapeSize } from '../../lib/backend/shape.js';
import {
  Rng,
  expectClose,
  expectIdentical,
  nativeBackend,
  nativeConfigs,
  reductionTolerance,
  referenceBackend,
  withNativeConfig,
  expectKernelError,
  callLoose,
  numericGradient,
} from '../helpers/parity.js';

const ref = referenceBackend;
const native = nativeBackend();
const OPS: ReduceOp[] = ['sum', 'mean', 'max'];
const f32 = (v: number[]) => Float32Array.from(v);

const outSize = (shape: number[], axes: number[]) => shapeSize(shape.filter((_, d) => !axes.includes(d)));

function runReduce(b: Backend, op: ReduceOp, shape: number[], axes: number[], x: Float32Array, dy: Float32Array) {
  const y = new Float32Array(outSize(shape, axes));
  const dx = new Float32Array(x.length);
  b.reduce(op, shape, axes, x, y);
  b.reduceBackward(op, shape, axes, dx, dy, x, y);
  return { y, dx };
}

function runArgmax(b: Backend, shape: number[], axis: number, x: Float32Array): Int32Array {
  const y = new Int32Array(x.length / shape[axis]);
  b.argmax(shape, axis, x, y);
  return y;
}

/** Every subset of [0, rank) in increasing order. */
function allAxisSets(rank: number): number[][] {
  const sets: number[][] = [];
  for (let mask = 0; mask < 1 << rank; mask++) sets.push([...Array(rank).keys()].filter((d) => mask & (1 << d)));
  return sets;
}

/** Random values with repeats, so max and argmax see ties and must pick the first. */
function withTies(rng: Rng, n: number): Float32Array {
  const x = rng.f32(n, -3, 3);
  for (let i = 5; i < n; i += 7) x[i] = x[i - 5];
  return x;
}

describe('reference: hand-checked values', () => {
  const x = f32([1, 2, 3, 4, 5, 6]); // [[1,2,3],[4,5,6]]

  it('sum/mean over each axis of [2,3], over both, and over none', () => {
    const check = (op: ReduceOp, axes: number[], expected: number[]) => {
      const y = new Float32Array(expected.length);
      ref.reduce(op, [2, 3], axes, x, y);
      expectClose(y, expected, { atol: 1e-6, rtol: 1e-6 }, `${op} axes=[${axes}]`);
    };
    check('sum', [1], [6, 15]);
    check('sum', [0], [5, 7, 9]);
    check('sum', [0, 1], [21]);
    check('sum', [], [1, 2, 3, 4, 5, 6]);
    check('mean', [1], [2, 5]);
    check('mean', [0], [2.5, 3.5, 4.5]);
    check('mean', [0, 1], [3.5]);
  });

  it('max and argmax pick the first maximum; reduceBackward max routes dy there', () => {
    const m = f32([1, 5, 5, 7, 2, 7]); // [[1,5,5],[7,2,7]]
    const y = new Float32Array(2);
    ref.reduce('max', [2, 3], [1], m, y);
    expect(Array.from(y)).toEqual([5, 7]);
    const at = new Int32Array(2);
    ref.argmax([2, 3], 1, m, at);
    expect(Array.from(at)).toEqual([1, 0]);
    const dx = new Float32Array(6);
    ref.reduceBackward('max', [2, 3], [1], dx, f32([10, 20]), m, y);
    expect(Array.from(dx)).toEqual([0, 10, 0, 20, 0, 0]);
    const at0 = new Int32Array(3);
    ref.argmax([2, 3], 0, m, at0);
    expect(Array.from(at0)).toEqual([1, 0, 1]);
  });

  it('sum/mean backward broadcast dy back, mean divided by the count', () => {
    const dx = new Float32Array(6);
    ref.reduceBackward('sum', [2, 3], [0], dx, f32([1, 2, 3]), x, new Float32Array(3));
    expect(Array.from(dx)).toEqual([1, 2, 3, 1, 2, 3]);
    ref.reduceBackward('mean', [2, 3], [1], dx, f32([3, 6]), x, new Float32Array(2));
    expect(Array.from(dx)).toEqual([1, 1, 1, 2, 2, 2]);
  });

  it('max over [2,2,2] axes [0,2] (non-adjacent)', () => {
    const v = f32([1, 8, 3, 4, 5, 6, 7, 2]); // [i][j][k]
    const y = new Float32Array(2);
    ref.reduce('max', [2, 2, 2], [0, 2], v, y);
    expect(Array.from(y)).toEqual([8, 7]); // j=0: {1,8,5,6}, j=1: {3,4,7,2}
  });
});

describe('finite differences of reduceBackward (reference)', () => {
  const h = 1e-2;
  for (const op of OPS) {
    for (const [shape, axes] of [[[3, 4], [1]], [[2, 3, 4], [0, 2]], [[5], [0]]] as [number[], number[]][]) {
      it(`${op} shape=[${shape}] axes=[${axes}]`, () => {
        const rng = new Rng(3);
        // Distinct values spaced more than 2h apart, so max is differentiable at x.
        const n = shapeSize(shape);
        const x = Float32Array.from(rng.f32(n).map((_, i) => ((i * 7) % n) * 0.1 + rng.uniform(0, 0.02)));
        const dy = rng.f32(outSize(shape, axes));
        const { dx } = runReduce(ref, op, shape, axes, x, dy);
        const loss = (v: Float32Array) => {
          const y = new Float32Array(dy.length);
          ref.reduce(op, shape, axes, v, y);
          return y.reduce((s, yi, i) => s + yi * dy[i], 0);
        };
        expectClose(dx, numericGradient(x, () => loss(x), h), { atol: 2e-3, rtol: 1e-2 }, `reduceBackward ${op}`);
      });
    }
  }
});

describe.each(nativeConfigs())('native parity ($label)', (cfg) => {
  const shapes = [[1], [13], [5, 7], [1, 9], [3, 1, 5], [4, 5, 3], [2, 3, 1, 5], [3, 4, 5, 6]];

  it.each(shapes.map((shape) => ({ shape })))('reduce + reduceBackward every op and axis set, shape=$shape', ({ shape }) => {
    const rng = new Rng(shapeSize(shape));
    const x = withTies(rng, shapeSize(shape));
    for (const axes of allAxisSets(shape.length)) {
      const dy = rng.f32(outSize(shape, axes));
      for (const op of OPS) {
        const want = runReduce(ref, op, shape, axes, x, dy);
        const got = withNativeConfig(cfg, () => runReduce(native, op, shape, axes, x, dy));
        const ctx = `${op} shape=[${shape}] axes=[${axes}] ${cfg.label}`;
        expectClose(got.y, want.y, reductionTolerance(x.length / dy.length), `reduce ${ctx}`);
        expectClose(got.dx, want.dx, { atol: 1e-6, rtol: 1e-6 }, `reduceBackward ${ctx}`);
      }
    }
  });

  it.each(shapes.map((shape) => ({ shape })))('argmax along every axis, shape=$shape', ({ shape }) => {
    const rng = new Rng(7);
    // Few distinct values: many ties.
    const x = Float32Array.from({ length: shapeSize(shape) }, () => rng.int(0, 3));
    for (let axis = 0; axis < shape.length; axis++) {
      const want = runArgmax(ref, shape, axis, x);
      const got = withNativeConfig(cfg, () => runArgmax(native, shape, axis, x));
      expect(Array.from(got), `argmax shape=[${shape}] axis=${axis} ${cfg.label}`).toEqual(Array.from(want));
    }
  });

  it('larger shapes: bias-gradient-like [1001,67] axis 0, rows [67,1001] axis 1, [31,17,41] axes [0,2]', () => {
    const rng = new Rng(11);
    for (const [shape, axes] of [[[1001, 67], [0]], [[67, 1001], [1]], [[31, 17, 41], [0, 2]]] as [number[], number[]][]) {
      const x = withTies(rng, shapeSize(shape));
      const dy = rng.f32(outSize(shape, axes));
      for (const op of OPS) {
        const want = runReduce(ref, op, shape, axes, x, dy);
        const got = withNativeConfig(cfg, () => runReduce(native, op, shape, axes, x, dy));
        const ctx = `${op} shape=[${shape}] axes=[${axes}] ${cfg.label}`;
        expectClose(got.y, want.y, reductionTolerance(x.length / dy.length), `reduce ${ctx}`);
        expectClose(got.dx, want.dx, { atol: 1e-6, rtol: 1e-6 }, `reduceBackward ${ctx}`);
      }
    }
  });
});

describe('native: results do not depend on the thread count', () => {
  const isa = native.info().isa;
  const one = { isa, threads: 1, label: `${isa} x1` };
  const two = { isa, threads: 2, label: `${isa} x2` };

  it.each([
    [[4001, 67], [0]],
    [[67, 4001], [1]],
    [[31, 77, 41], [0, 2]],
    [[31, 77, 41], [1]],
  ])('reduce + reduceBackward + argmax shape=%j axes=%j', (shape, axes) => {
    const rng = new Rng(5);
    const x = rng.f32(shapeSize(shape));
    const dy = rng.f32(outSize(shape, axes));
    for (const op of OPS) {
      const r1 = withNativeConfig(one, () => runReduce(native, op, shape, axes, x, dy));
      const r2 = withNativeConfig(two, () => runReduce(native, op, shape, axes, x, dy));
      expectIdentical(r2.y, r1.y, `reduce ${op}`);
      expectIdentical(r2.dx, r1.dx, `reduceBackward ${op}`);
    }
    const a1 = withNativeConfig(one, () => runArgmax(native, shape, axes[0], x));
    const a2 = withNativeConfig(two, () => runArgmax(native, shape, axes[0], x));
    expect(Array.from(a2)).toEqual(Array.from(a1));
  });
});

describe.each([
  ['reference', ref],
  ['native', native],
] as const)('bad input (%s)', (_name, b) => {
  const x = new Float32Array(6);
  const y2 = new Float32Array(2);

  it('reduce: axes out of range, negative, unsorted, duplicated, not an array', () => {
    expectKernelError(() => b.reduce('sum', [2, 3], [2], x, y2), RangeError, 'reduce');
    expectKernelError(() => b.reduce('sum', [2, 3], [-1], x, y2), RangeError, 'reduce');
    expectKernelError(() => b.reduce('sum', [2, 3], [1, 0], x, new Float32Array(1)), RangeError, 'reduce');
    expectKernelError(() => b.reduce('sum', [2, 3], [0, 0], x, new Float32Array(3)), RangeError, 'reduce');
    expectKernelError(() => b.reduce('sum', [2, 3], [0.5], x, y2), RangeError, 'reduce');
    expectKernelError(() => callLoose(b, 'reduce', 'sum', [2, 3], 1, x, y2), TypeError, 'reduce');
  });

  it('reduce: unknown op, wrong lengths and types, bad shapes, huge shape', () => {
    expectKernelError(() => callLoose(b, 'reduce', 'prod', [2, 3], [1], x, y2), RangeError, 'reduce');
    expectKernelError(() => callLoose(b, 'reduce', null, [2, 3], [1], x, y2), TypeError, 'reduce');
    expectKernelError(() => b.reduce('sum', [2, 3], [1], x, new Float32Array(3)), RangeError, 'reduce');
    expectKernelError(() => b.reduce('sum', [2, 3], [1], new Float32Array(5), y2), RangeError, 'reduce');
    expectKernelError(() => callLoose(b, 'reduce', 'sum', [2, 3], [1], new Float64Array(6), y2), TypeError, 'reduce');
    expectKernelError(() => callLoose(b, 'reduce', 'sum', [2, 3], [1], x, [0, 0]), TypeError, 'reduce');
    expectKernelError(() => b.reduce('sum', [2, 0], [1], new Float32Array(0), y2), RangeError, 'reduce');
    expectKernelError(() => b.reduce('mean', [2, NaN], [1], x, y2), RangeError, 'reduce');
    expectKernelError(() => b.reduce('sum', [2 ** 20, 2 ** 20], [1], x, y2), RangeError, 'reduce');
    expectKernelError(() => b.reduce('sum', [1, 1, 1, 1, 1, 1, 1, 1, 6], [0], x, x), RangeError, 'reduce');
  });

  it('reduceBackward: wrong lengths, bad axes', () => {
    const dy = new Float32Array(2);
    expectKernelError(() => b.reduceBackward('max', [2, 3], [1], new Float32Array(5), dy, x, y2), RangeError, 'reduceBackward');
    expectKernelError(() => b.reduceBackward('max', [2, 3], [1], x, new Float32Array(3), x, y2), RangeError, 'reduceBackward');
    expectKernelError(() => b.reduceBackward('sum', [2, 3], [1], x.slice(), dy, new Float32Array(7), y2), RangeError, 'reduceBackward');
    expectKernelError(() => b.reduceBackward('sum', [2, 3], [1], x.slice(), dy, x, new Float32Array(3)), RangeError, 'reduceBackward');
    expectKernelError(() => b.reduceBackward('mean', [2, 3], [3], x.slice(), dy, x, y2), RangeError, 'reduceBackward');
    expectKernelError(() => callLoose(b, 'reduceBackward', 'min', [2, 3], [1], x.slice(), dy, x, y2), RangeError, 'reduceBackward');
  });

  it('argmax: axis out of range or not an integer, Float32Array output, rank 0', () => {
    const at = new Int32Array(2);
    expectKernelError(() => b.argmax([2, 3], 2, x, new Int32Array(2)), RangeError, 'argmax');
    expectKernelError(() => b.argmax([2, 3], -1, x, new Int32Array(3)), RangeError, 'argmax');
    expectKernelError(() => b.argmax([2, 3], 0.5, x, at), RangeError, 'argmax');
    expectKernelError(() => b.argmax([2, 3], NaN, x, at), RangeError, 'argmax');
    expectKernelError(() => callLoose(b, 'argmax', [2, 3], '1', x, at), TypeError, 'argmax');
    expectKernelError(() => callLoose(b, 'argmax', [2, 3], 1, x, new Float32Array(2)), TypeError, 'argmax');
    expectKernelError(() => b.argmax([2, 3], 1, x, new Int32Array(3)), RangeError, 'argmax');
    expectKernelError(() => b.argmax([], 0, new Float32Array(1), new Int32Array(1)), RangeError, 'argmax');
  });

  it('keeps working after the errors', () => {
    const y = new Float32Array(2);
    b.reduce('sum', [2, 3], [1], f32([1, 2, 3, 4, 5, 6]), y);
    expect(Array.from(y)).toEqual([6, 15]);
  });
});
