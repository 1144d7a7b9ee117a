// unary / unaryBackward / binary / binaryBackward on both backends: hand-checked reference values,
// native-vs-reference parity over many broadcast patterns for every native configuration, thread-count
// bit-identity, finite-difference checks of the backward kernels, and bad input on both backends.

import { describe, expect, it } from 'vitest';
import type { Backend, BinaryOp, UnaryOp } from '../../lib/backend/backend.js';
import { broadcastShapes, shapeSize } from '../../lib/backend/shape.js';
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
const UNARY: UnaryOp[] = ['relu', 'leakyRelu', 'elu', 'sigmoid', 'tanh', 'softplus', 'exp', 'log', 'sqrt', 'square', 'abs', 'neg'];
const BINARY: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum'];
const READS_X: UnaryOp[] = ['softplus', 'log', 'square', 'abs'];
const READS_Y: UnaryOp[] = ['relu', 'leakyRelu', 'elu', 'sigmoid', 'tanh', 'exp', 'sqrt'];
const alphaFor = (op: UnaryOp) => (op === 'leakyRelu' ? 0.1 : op === 'elu' ? 1.3 : 0);
const f32 = (v: number[]) => Float32Array.from(v);

/** Unary input in the op's domain, away from the kinks of relu/abs so derivatives are unambiguous. */
function unaryInput(rng: Rng, op: UnaryOp, n: number): Float32Array {
  const x = op === 'log' || op === 'sqrt' ? rng.f32(n, 0.2, 3) : rng.f32(n, -3, 3);
  for (let i = 0; i < n; i++) if (Math.abs(x[i]) < 0.05) x[i] = 0.5;
  return x;
}

function runUnary(b: Backend, op: UnaryOp, x: Float32Array, dy: Float32Array) {
  const y = new Float32Array(x.length);
  const dx = new Float32Array(x.length);
  b.unary(op, alphaFor(op), x, y);
  b.unaryBackward(op, alphaFor(op), dx, dy, READS_X.includes(op) ? x : null, READS_Y.includes(op) ? y : null);
  return { y, dx };
}

function runBinary(
  b: Backend, op: BinaryOp, aShape: number[], a: Float32Array, bShape: number[], bv: Float32Array, dy: Float32Array,
) {
  const y = new Float32Array(dy.length);
  const da = new Float32Array(a.length);
  const db = new Float32Array(bv.length);
  b.binary(op, aShape, a, bShape, bv, y);
  b.binaryBackward(op, da, db, dy, aShape, a, bShape, bv);
  return { y, da, db };
}

/** Broadcast pairs: scalar, rank-0, trailing vector, middle axis, both-sided, rank mismatch, random. */
function broadcastCases(rng: Rng): [number[], number[]][] {
  const cases: [number[], number[]][] = [
    [[7], [7]], [[3, 5, 9], [3, 5, 9]], [[1], [4, 3]], [[5, 3], [1]], [[], [3, 2]], [[6, 17], [17]], [[17], [6, 17]],
    [[4, 5, 3], [5, 1]], [[2, 1, 3], [4, 1]], [[2, 1, 3], [1, 4, 1]], [[3, 1, 5, 1], [1, 7, 1, 2]], [[1, 1], [1]],
    [[9, 1, 1], [1, 1, 11]], [[2, 3, 1, 5], [3, 4, 5]], [[33, 67], [67]], [[67, 1], [67, 13]],
  ];
  for (let t = 0; t < 6; t++) {
    const rank = rng.int(1, 4);
    const a: number[] = [];
    const b: number[] = [];
    for (let d = 0; d < rank; d++) {
      const size = rng.pick([2, 3, 5, 7]);
      const pattern = rng.int(0, 2); // 0: both full, 1: a repeats, 2: b repeats
      a.push(pattern === 1 ? 1 : size);
      b.push(pattern === 2 ? 1 : size);
    }
    cases.push([a, b.slice(rng.int(0, rank - 1))]);
  }
  return cases;
}

/** Largest number of output elements summed into one input gradient element. */
const fanIn = (aShape: number[], bShape: number[]) => {
  const out = shapeSize(broadcastShapes('test', aShape, bShape));
  return Math.max(out / shapeSize(aShape), out / shapeSize(bShape));
};

describe('reference: hand-checked values', () => {
  it('unary ops on small inputs', () => {
    const x = f32([-1, 0, 2]);
    const y = new Float32Array(3);
    const check = (op: UnaryOp, alpha: number, expected: number[]) => {
      ref.unary(op, alpha, x, y);
      expectClose(y, expected, { atol: 1e-7, rtol: 1e-6 }, op);
    };
    check('relu', 0, [0, 0, 2]);
    check('leakyRelu', 0.1, [-0.1, 0, 2]);
    check('elu', 1, [Math.exp(-1) - 1, 0, 2]);
    check('sigmoid', 0, [0.2689414213699951, 0.5, 0.8807970779778823]);
    check('tanh', 0, [-0.7615941559557649, 0, 0.9640275800758169]);
    check('softplus', 0, [0.31326168751822286, Math.LN2, 2.1269280110429727]);
    check('exp', 0, [Math.exp(-1), 1, Math.exp(2)]);
    check('square', 0, [1, 0, 4]);
    check('abs', 0, [1, 0, 2]);
    check('neg', 0, [1, -0, -2]);
    const p = f32([4, Math.E, 1]);
    ref.unary('sqrt', 0, p, y);
    expectClose(y, [2, Math.sqrt(Math.E), 1], { atol: 1e-7, rtol: 1e-6 }, 'sqrt');
    ref.unary('log', 0, p, y);
    expectClose(y, [Math.log(4), 1, 0], { atol: 1e-7, rtol: 1e-6 }, 'log');
  });

  it('softplus and sigmoid stay finite and exact at extremes (threshold 20)', () => {
    const x = f32([-1000, -30, 20, 20.5, 1000]);
    const y = new Float32Array(5);
    ref.unary('softplus', 0, x, y);
    expectClose(y, [0, 9.357622968839737e-14, 20.000000002061153, 20.5, 1000], { atol: 0, rtol: 1e-6 }, 'softplus');
    ref.unary('sigmoid', 0, x, y);
    expectClose(y, [0, 9.3576229688393e-14, 0.9999999979388463, 0.9999999987498471, 1], { atol: 0, rtol: 1e-6 }, 'sigmoid');
  });

  it('unaryBackward reads y (relu, sigmoid, tanh) or x (abs, square)', () => {
    const dx = new Float32Array(3);
    const dy = f32([1, 2, 3]);
    ref.unaryBackward('relu', 0, dx, dy, null, f32([0, 0, 2]));
    expect(Array.from(dx)).toEqual([0, 0, 3]);
    ref.unaryBackward('sigmoid', 0, dx, dy, null, f32([0.5, 0.5, 0.5]));
    expect(Array.from(dx)).toEqual([0.25, 0.5, 0.75]);
    ref.unaryBackward('tanh', 0, dx, dy, null, f32([0, 0.5, 0]));
    expect(Array.from(dx)).toEqual([1, 1.5, 3]);
    ref.unaryBackward('abs', 0, dx, dy, f32([-1, 0, 2]), null);
    expect(Array.from(dx)).toEqual([-1, 0, 3]);
    ref.unaryBackward('square', 0, dx, dy, f32([-1, 0, 2]), null);
    expect(Array.from(dx)).toEqual([-2, 0, 12]);
  });

  it('binary add a=[2,1,3] b=[4,1] -> [2,4,3]', () => {
    const a = f32([1, 2, 3, 4, 5, 6]);
    const b = f32([10, 20, 30, 40]);
    const y = new Float32Array(24);
    ref.binary('add', [2, 1, 3], a, [4, 1], b, y);
    expect(Array.from(y)).toEqual([
      11, 12, 13, 21, 22, 23, 31, 32, 33, 41, 42, 43,
      14, 15, 16, 24, 25, 26, 34, 35, 36, 44, 45, 46,
    ]);
  });

  it('binaryBackward mul a=[2,1] b=[3] sums over the repeated axes', () => {
    const da = new Float32Array(2);
    const db = new Float32Array(3);
    ref.binaryBackward('mul', da, db, new Float32Array(6).fill(1), [2, 1], f32([1, 2]), [3], f32([1, 2, 3]));
    expect(Array.from(da)).toEqual([6, 6]);
    expect(Array.from(db)).toEqual([3, 3, 3]);
  });

  it('maximum/minimum backward: winner takes dy, ties split half and half', () => {
    const a = f32([1, 2, 3]);
    const b = f32([1, 3, 2]);
    const dy = f32([1, 1, 1]);
    const da = new Float32Array(3);
    const db = new Float32Array(3);
    ref.binaryBackward('maximum', da, db, dy, [3], a, [3], b);
    expect([Array.from(da), Array.from(db)]).toEqual([[0.5, 0, 1], [0.5, 1, 0]]);
    ref.binaryBackward('minimum', da, db, dy, [3], a, [3], b);
    expect([Array.from(da), Array.from(db)]).toEqual([[0.5, 1, 0], [0.5, 0, 1]]);
  });

  it('sub/div backward with scalar b=[1]', () => {
    const da = new Float32Array(2);
    const db = new Float32Array(1);
    ref.binaryBackward('sub', da, db, f32([1, 2]), [2], f32([5, 6]), [1], f32([2]));
    expect([Array.from(da), Array.from(db)]).toEqual([[1, 2], [-3]]);
    ref.binaryBackward('div', da, db, f32([1, 2]), [2], f32([5, 6]), [1], f32([2]));
    expect([Array.from(da), Array.from(db)]).toEqual([[0.5, 1], [-(5 / 4 + (2 * 6) / 4)]]);
  });
});

describe('finite differences of the reference backward kernels', () => {
  // L = Σ dy·y computed in doubles; central differences with a step that float32 outputs can resolve.
  const h = 1e-2;
  const fdTol = { atol: 2e-3, rtol: 1e-2 };

  for (const op of UNARY) {
    it(`unaryBackward ${op}`, () => {
      const rng = new Rng(100 + UNARY.indexOf(op));
      const x = unaryInput(rng, op, 9);
      const dy = rng.f32(9);
      const { dx } = runUnary(ref, op, x, dy);
      const loss = (v: Float32Array) => {
        const y = new Float32Array(v.length);
        ref.unary(op, alphaFor(op), v, y);
        return y.reduce((s, yi, i) => s + yi * dy[i], 0);
      };
      expectClose(dx, numericGradient(x, () => loss(x), h), fdTol, `unaryBackward ${op}`);
    });
  }

  for (const op of BINARY) {
    for (const [aShape, bShape] of [[[2, 1, 3], [4, 1]], [[3, 4], [4]], [[5], [1]]] as [number[], number[]][]) {
      it(`binaryBackward ${op} a=[${aShape}] b=[${bShape}]`, () => {
        const rng = new Rng(200 + BINARY.indexOf(op));
        const a = rng.f32(shapeSize(aShape), -2, 2);
        const b = rng.f32(shapeSize(bShape), 0.5, 2);
        const outShape = broadcastShapes('test', aShape, bShape);
        const dy = rng.f32(shapeSize(outShape));
        const { da, db } = runBinary(ref, op, aShape, a, bShape, b, dy);
        const loss = (av: Float32Array, bv: Float32Array) => {
          const y = new Float32Array(dy.length);
          ref.binary(op, aShape, av, bShape, bv, y);
          return y.reduce((s, yi, i) => s + yi * dy[i], 0);
        };
        expectClose(da, numericGradient(a, () => loss(a, b), h), fdTol, `da ${op}`);
        expectClose(db, numericGradient(b, () => loss(a, b), h), fdTol, `db ${op}`);
      });
    }
  }
});

describe.each(nativeConfigs())('native parity ($label)', (cfg) => {
  it.each([1, 37, 1003])('unary + unaryBackward every op, n=%i', (n) => {
    for (const op of UNARY) {
      const rng = new Rng(n * 13 + UNARY.indexOf(op));
      const x = unaryInput(rng, op, n);
      const dy = rng.f32(n);
      const want = runUnary(ref, op, x, dy);
      const got = withNativeConfig(cfg, () => runUnary(native, op, x, dy));
      const ctx = `${op} n=${n} ${cfg.label}`;
      expectClose(got.y, want.y, { atol: 1e-6, rtol: 2e-6 }, `unary ${ctx}`);
      expectClose(got.dx, want.dx, { atol: 1e-6, rtol: 2e-6 }, `unaryBackward ${ctx}`);
    }
  });

  it('binary + binaryBackward every op over broadcast patterns', () => {
    const rng = new Rng(7);
    for (const [aShape, bShape] of broadcastCases(rng)) {
      for (const op of BINARY) {
        const a = rng.f32(shapeSize(aShape), -2, 2);
        const b = rng.f32(shapeSize(bShape), 0.5, 2);
        for (let i = 0; i < Math.min(a.length, b.length); i += 3) a[i] = b[i]; // some max/min ties
        const dy = rng.f32(shapeSize(broadcastShapes('test', aShape, bShape)));
        const want = runBinary(ref, op, aShape, a, bShape, b, dy);
        const got = withNativeConfig(cfg, () => runBinary(native, op, aShape, a, bShape, b, dy));
        const ctx = `${op} a=[${aShape}] b=[${bShape}] ${cfg.label}`;
        expectClose(got.y, want.y, { atol: 1e-6, rtol: 1e-6 }, `binary ${ctx}`);
        const tol = reductionTolerance(fanIn(aShape, bShape));
        expectClose(got.da, want.da, tol, `binaryBackward da ${ctx}`);
        expectClose(got.db, want.db, tol, `binaryBackward db ${ctx}`);
      }
    }
  });

  it('binaryBackward with da or db null writes only the other', () => {
    const rng = new Rng(8);
    const a = rng.f32(12);
    const b = rng.f32(4, 0.5, 2);
    const dy = rng.f32(12);
    for (const op of BINARY) {
      const want = runBinary(ref, op, [3, 4], a, [4], b, dy);
      const da = new Float32Array(12);
      const db = new Float32Array(4);
      withNativeConfig(cfg, () => {
        native.binaryBackward(op, da, null, dy, [3, 4], a, [4], b);
        native.binaryBackward(op, null, db, dy, [3, 4], a, [4], b);
      });
      expectClose(da, want.da, reductionTolerance(1), `da only ${op}`);
      expectClose(db, want.db, reductionTolerance(3), `db only ${op}`);
    }
  });
});

describe('native: results do not depend on the thread count', () => {
  const isa = native.info().isa;
  const one = { isa, threads: 1, label: `${isa} x1` };
  const two = { isa, threads: 2, label: `${isa} x2` };

  it('unary tanh/softplus forward+backward n=200003', () => {
    const rng = new Rng(1);
    const x = rng.f32(200003, -4, 4);
    const dy = rng.f32(200003);
    for (const op of ['tanh', 'softplus'] as UnaryOp[]) {
      const r1 = withNativeConfig(one, () => runUnary(native, op, x, dy));
      const r2 = withNativeConfig(two, () => runUnary(native, op, x, dy));
      expectIdentical(r2.y, r1.y, `unary ${op}`);
      expectIdentical(r2.dx, r1.dx, `unaryBackward ${op}`);
    }
  });

  it.each([
    [[2003, 67], [67]],
    [[37, 301, 19], [37, 1, 19]],
    [[5, 1, 40001], [1, 3, 1]],
  ])('binary + binaryBackward a=%j b=%j', (aShape, bShape) => {
    const rng = new Rng(2);
    const a = rng.f32(shapeSize(aShape));
    const b = rng.f32(shapeSize(bShape), 0.5, 2);
    const dy = rng.f32(shapeSize(broadcastShapes('test', aShape, bShape)));
    for (const op of BINARY) {
      const r1 = withNativeConfig(one, () => runBinary(native, op, aShape, a, bShape, b, dy));
      const r2 = withNativeConfig(two, () => runBinary(native, op, aShape, a, bShape, b, dy));
      expectIdentical(r2.y, r1.y, `binary ${op}`);
      expectIdentical(r2.da, r1.da, `binaryBackward da ${op}`);
      expectIdentical(r2.db, r1.db, `binaryBackward db ${op}`);
    }
  });
});

describe.each([
  ['reference', ref],
  ['native', native],
] as const)('bad input (%s)', (_name, b) => {
  const x = new Float32Array(4);
  const y = new Float32Array(4);

  it('unary: wrong length, wrong type, empty, NaN/invalid alpha, unknown op', () => {
    expectKernelError(() => b.unary('relu', 0, x, new Float32Array(3)), RangeError, 'unary');
    expectKernelError(() => callLoose(b, 'unary', 'relu', 0, new Float64Array(4), y), TypeError, 'unary');
    expectKernelError(() => callLoose(b, 'unary', 'relu', 0, [1, 2, 3, 4], y), TypeError, 'unary');
    expectKernelError(() => callLoose(b, 'unary', 'relu', 0, x, null), TypeError, 'unary');
    expectKernelError(() => b.unary('relu', 0, new Float32Array(0), new Float32Array(0)), RangeError, 'unary');
    expectKernelError(() => b.unary('leakyRelu', NaN, x, y), RangeError, 'unary');
    expectKernelError(() => b.unary('relu', Infinity, x, y), RangeError, 'unary');
    expectKernelError(() => b.unary('leakyRelu', -0.1, x, y), RangeError, 'unary');
    expectKernelError(() => b.unary('elu', 0, x, y), RangeError, 'unary');
    expectKernelError(() => callLoose(b, 'unary', 'gelu', 0, x, y), RangeError, 'unary');
    expectKernelError(() => callLoose(b, 'unary', 7, 0, x, y), TypeError, 'unary');
  });

  it('unaryBackward: the tensor the op reads must not be null; neg reads neither', () => {
    const dx = new Float32Array(4);
    const dy = new Float32Array(4).fill(1);
    expectKernelError(() => b.unaryBackward('relu', 0, dx, dy, x, null), TypeError, 'unaryBackward');
    expectKernelError(() => b.unaryBackward('log', 0, dx, dy, null, y), TypeError, 'unaryBackward');
    expectKernelError(() => b.unaryBackward('elu', NaN, dx, dy, null, y), RangeError, 'unaryBackward');
    expectKernelError(() => b.unaryBackward('sigmoid', 0, dx, dy, null, new Float32Array(5)), RangeError, 'unaryBackward');
    expectKernelError(() => b.unaryBackward('exp', 0, new Float32Array(3), dy, null, y), RangeError, 'unaryBackward');
    b.unaryBackward('neg', 0, dx, dy, null, null);
    expect(Array.from(dx)).toEqual([-1, -1, -1, -1]);
  });

  it('binary: non-broadcastable shapes, bad dims, wrong lengths and types, unknown op, huge shape', () => {
    const six = new Float32Array(6);
    expectKernelError(() => b.binary('add', [2, 3], six, [4], x, new Float32Array(6)), RangeError, 'binary');
    expectKernelError(() => b.binary('add', [2, 3], six, [2], new Float32Array(2), six), RangeError, 'binary');
    expectKernelError(() => b.binary('add', [2, 3], new Float32Array(5), [3], new Float32Array(3), six), RangeError, 'binary');
    expectKernelError(() => b.binary('add', [2, 3], six, [3], new Float32Array(3), new Float32Array(5)), RangeError, 'binary');
    expectKernelError(() => b.binary('add', [0, 3], new Float32Array(0), [3], new Float32Array(3), new Float32Array(0)), RangeError, 'binary');
    expectKernelError(() => b.binary('add', [-2, 3], six, [3], new Float32Array(3), six), RangeError, 'binary');
    expectKernelError(() => b.binary('add', [NaN, 3], six, [3], new Float32Array(3), six), RangeError, 'binary');
    expectKernelError(() => callLoose(b, 'binary', 'add', [2, 3], six, [3], new Float64Array(3), six), TypeError, 'binary');
    expectKernelError(() => callLoose(b, 'binary', 'add', 'x', six, [3], new Float32Array(3), six), TypeError, 'binary');
    expectKernelError(() => callLoose(b, 'binary', 'pow', [2, 3], six, [3], new Float32Array(3), six), RangeError, 'binary');
    // 2^40 and 2^33 elements: must be refused before anything is allocated.
    expectKernelError(() => b.binary('add', [2 ** 16, 2 ** 16, 2], new Float32Array(4), [1], x, y), RangeError, 'binary');
    expectKernelError(() => b.binary('add', [2 ** 20, 1], new Float32Array(4), [1, 2 ** 20], new Float32Array(4), y), RangeError, 'binary');
  });

  it('binaryBackward: wrong gradient lengths, non-broadcastable shapes', () => {
    const six = new Float32Array(6);
    const three = new Float32Array(3);
    expectKernelError(() => b.binaryBackward('mul', new Float32Array(5), three, six, [2, 3], six, [3], three), RangeError, 'binaryBackward');
    expectKernelError(() => b.binaryBackward('mul', six, x, six, [2, 3], six, [3], three), RangeError, 'binaryBackward');
    expectKernelError(() => b.binaryBackward('mul', six, three, x, [2, 3], six, [3], three), RangeError, 'binaryBackward');
    expectKernelError(() => b.binaryBackward('mul', six, x, six, [2, 3], six, [4], x), RangeError, 'binaryBackward');
    expectKernelError(() => callLoose(b, 'binaryBackward', 'mul', six, three, six, [2, 3], six, [3], [1, 2, 3]), TypeError, 'binaryBackward');
    expectKernelError(() => callLoose(b, 'binaryBackward', 'hypot', six, three, six, [2, 3], six, [3], three), RangeError, 'binaryBackward');
  });

  it('keeps working after the errors', () => {
    const out = new Float32Array(2);
    b.binary('mul', [2], f32([3, 4]), [1], f32([0.5]), out);
    expect(Array.from(out)).toEqual([1.5, 2]);
  });
});
