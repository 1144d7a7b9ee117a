// softmax / logSoftmax / softmaxCrossEntropy and their backward kernels on both backends: hand-checked
// reference values, parity (inner = 1 and inner > 1, both target kinds, label smoothing) for every
// native configuration, thread-count bit-identity, finite differences, and bad input incl. class
// indices out of range.

import { describe, expect, it } from 'vitest';
import type { Backend } from '../../lib/backend/backend.js';
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
const f32 = (v: number[]) => Float32Array.from(v);

interface Dims { outer: number; dim: number; inner: number }

function runSoftmax(b: Backend, s: Dims, x: Float32Array, dy: Float32Array) {
  const n = x.length;
  const [y, ly, dx, ldx] = [0, 0, 0, 0].map(() => new Float32Array(n));
  b.softmax(s.outer, s.dim, s.inner, x, y);
  b.logSoftmax(s.outer, s.dim, s.inner, x, ly);
  b.softmaxBackward(s.outer, s.dim, s.inner, dx, dy, y);
  b.logSoftmaxBackward(s.outer, s.dim, s.inner, ldx, dy, ly);
  return { y, ly, dx, ldx };
}

function runCrossEntropy(
  b: Backend, n: number, c: number, s: number, logits: Float32Array, target: Int32Array | Float32Array, dloss: Float32Array,
) {
  const loss = new Float32Array(n);
  const probs = new Float32Array(n * c);
  const dlogits = new Float32Array(n * c);
  b.softmaxCrossEntropy(n, c, s, logits, target, loss, probs);
  b.softmaxCrossEntropyBackward(n, c, s, dlogits, dloss, probs, target);
  return { loss, probs, dlogits };
}

function indexTargets(rng: Rng, n: number, c: number): Int32Array {
  return Int32Array.from({ length: n }, () => rng.int(0, c - 1));
}

function probabilityTargets(rng: Rng, n: number, c: number): Float32Array {
  const t = rng.f32(n * c, 0, 1);
  for (let r = 0; r < n; r++) {
    let sum = 0;
    for (let j = 0; j < c; j++) sum += t[r * c + j];
    for (let j = 0; j < c; j++) t[r * c + j] /= sum;
  }
  return t;
}

const tight = { atol: 1e-6, rtol: 1e-6 };

describe('reference: hand-checked values', () => {
  it('softmax and logSoftmax of [1,2,3]', () => {
    const y = new Float32Array(3);
    ref.softmax(1, 3, 1, f32([1, 2, 3]), y);
    expectClose(y, [0.09003057317038043, 0.24472847105479764, 0.6652409557748218], tight, 'softmax');
    ref.logSoftmax(1, 3, 1, f32([1, 2, 3]), y);
    expectClose(y, [-2.4076059644443806, -1.4076059644443804, -0.4076059644443804], tight, 'logSoftmax');
  });

  it('softmax over the middle axis with inner=2', () => {
    // (d, i) at d*2 + i: column i=0 is [0, ln 3] -> [1/4, 3/4]; column i=1 is [0, 1].
    const y = new Float32Array(4);
    ref.softmax(1, 2, 2, f32([0, 0, Math.log(3), 1]), y);
    expectClose(y, [0.25, 0.2689414213699951, 0.75, 0.7310585786300049], tight, 'softmax inner=2');
  });

  it('large logits do not overflow', () => {
    const y = new Float32Array(2);
    ref.softmax(1, 2, 1, f32([1000, 1000]), y);
    expect(Array.from(y)).toEqual([0.5, 0.5]);
    ref.logSoftmax(1, 2, 1, f32([1000, 0]), y);
    expect(Array.from(y)).toEqual([0, -1000]);
  });

  it('softmaxBackward and logSoftmaxBackward of [1,2,3]', () => {
    const p = [0.09003057317038043, 0.24472847105479764, 0.6652409557748218];
    const dx = new Float32Array(3);
    // dy = onehot(2): dx = p·(onehot - p_2)
    ref.softmaxBackward(1, 3, 1, dx, f32([0, 0, 1]), f32(p));
    expectClose(dx, [-p[0] * p[2], -p[1] * p[2], p[2] * (1 - p[2])], tight, 'softmaxBackward');
    // dy = [1,1,1]: dx = 1 - 3p
    ref.logSoftmaxBackward(1, 3, 1, dx, f32([1, 1, 1]), f32(p.map(Math.log)));
    expectClose(dx, p.map((v) => 1 - 3 * v), tight, 'logSoftmaxBackward');
  });

  it('cross-entropy of logits [1,2,3]: class 2, class 2 with smoothing 0.1, probabilities [0.2,0.3,0.5]', () => {
    const logits = f32([1, 2, 3]);
    const loss = new Float32Array(1);
    const probs = new Float32Array(3);
    ref.softmaxCrossEntropy(1, 3, 0, logits, Int32Array.of(2), loss, probs);
    expectClose(loss, [0.4076059644443804], tight, 'index');
    expectClose(probs, [0.09003057317038043, 0.24472847105479764, 0.6652409557748218], tight, 'probs');
    ref.softmaxCrossEntropy(1, 3, 0.1, logits, Int32Array.of(2), loss, probs);
    expectClose(loss, [0.5076059644443804], tight, 'index, smoothing 0.1');
    ref.softmaxCrossEntropy(1, 3, 0, logits, f32([0.2, 0.3, 0.5]), loss, probs);
    expectClose(loss, [1.1076059644443805], tight, 'probabilities');
    const dlogits = new Float32Array(3);
    ref.softmaxCrossEntropyBackward(1, 3, 0, dlogits, f32([2]), probs, Int32Array.of(2));
    expectClose(dlogits, [2 * 0.09003057317038043, 2 * 0.24472847105479764, 2 * (0.6652409557748218 - 1)], tight, 'dlogits');
    ref.softmaxCrossEntropyBackward(1, 3, 0.3, dlogits, f32([1]), probs, Int32Array.of(0));
    expectClose(dlogits, [0.09003057317038043 - 0.8, 0.24472847105479764 - 0.1, 0.6652409557748218 - 0.1], tight, 'dlogits s=0.3');
  });
});

describe('finite differences of the reference backward kernels', () => {
  const h = 1e-2;
  const fdTol = { atol: 2e-3, rtol: 1e-2 };
  const numericGrad = (x: Float32Array, loss: (v: Float32Array) => number) => numericGradient(x, () => loss(x), h);

  for (const s of [{ outer: 2, dim: 4, inner: 1 }, { outer: 2, dim: 3, inner: 3 }]) {
    it(`softmaxBackward and logSoftmaxBackward [${s.outer},${s.dim},${s.inner}]`, () => {
      const rng = new Rng(1);
      const n = s.outer * s.dim * s.inner;
      const x = rng.f32(n, -2, 2);
      const dy = rng.f32(n);
      const { dx, ldx } = runSoftmax(ref, s, x, dy);
      const lossOf = (kernel: 'softmax' | 'logSoftmax') => (v: Float32Array) => {
        const y = new Float32Array(n);
        ref[kernel](s.outer, s.dim, s.inner, v, y);
        return y.reduce((acc, yi, i) => acc + yi * dy[i], 0);
      };
      expectClose(dx, numericGrad(x, lossOf('softmax')), fdTol, 'softmaxBackward');
      expectClose(ldx, numericGrad(x, lossOf('logSoftmax')), fdTol, 'logSoftmaxBackward');
    });
  }

  for (const [kind, smoothing] of [['index', 0], ['index', 0.2], ['probabilities', 0.1]] as const) {
    it(`softmaxCrossEntropyBackward ${kind} targets, smoothing ${smoothing}`, () => {
      const rng = new Rng(2);
      const n = 3;
      const c = 4;
      const logits = rng.f32(n * c, -2, 2);
      const target = kind === 'index' ? indexTargets(rng, n, c) : probabilityTargets(rng, n, c);
      const dloss = rng.f32(n);
      const { dlogits } = runCrossEntropy(ref, n, c, smoothing, logits, target, dloss);
      const loss = (v: Float32Array) => {
        const l = new Float32Array(n);
        ref.softmaxCrossEntropy(n, c, smoothing, v, target, l, new Float32Array(n * c));
        return l.reduce((acc, li, r) => acc + li * dloss[r], 0);
      };
      expectClose(dlogits, numericGrad(logits, loss), fdTol, 'softmaxCrossEntropyBackward');
    });
  }
});

describe.each(nativeConfigs())('native parity ($label)', (cfg) => {
  const shapes: Dims[] = [
    { outer: 1, dim: 1, inner: 1 }, { outer: 3, dim: 7, inner: 1 }, { outer: 2, dim: 1001, inner: 1 },
    { outer: 5, dim: 3, inner: 1 }, { outer: 2, dim: 5, inner: 3 }, { outer: 3, dim: 4, inner: 67 },
    { outer: 2, dim: 9, inner: 130 }, { outer: 1, dim: 13, inner: 5 },
  ];

  it.each(shapes)('softmax family forward+backward [$outer,$dim,$inner]', (s) => {
    const rng = new Rng(s.outer * s.dim * s.inner);
    const n = s.outer * s.dim * s.inner;
    const x = rng.f32(n, -5, 5);
    x[0] = 80; // exp(80) overflows float32: only a max-subtracting kernel survives
    const dy = rng.f32(n);
    const want = runSoftmax(ref, s, x, dy);
    const got = withNativeConfig(cfg, () => runSoftmax(native, s, x, dy));
    const tol = reductionTolerance(s.dim);
    const ctx = `[${s.outer},${s.dim},${s.inner}] ${cfg.label}`;
    expectClose(got.y, want.y, tol, `softmax ${ctx}`);
    expectClose(got.ly, want.ly, tol, `logSoftmax ${ctx}`);
    expectClose(got.dx, want.dx, tol, `softmaxBackward ${ctx}`);
    expectClose(got.ldx, want.ldx, tol, `logSoftmaxBackward ${ctx}`);
  });

  it.each([
    { n: 1, c: 1 }, { n: 3, c: 2 }, { n: 7, c: 10 }, { n: 33, c: 101 },
  ])('softmaxCrossEntropy forward+backward n=$n c=$c, both target kinds, smoothing 0 / 0.1', ({ n, c }) => {
    const rng = new Rng(n * c);
    const logits = rng.f32(n * c, -4, 4);
    logits[0] = 90;
    const dloss = rng.f32(n);
    for (const target of [indexTargets(rng, n, c), probabilityTargets(rng, n, c)]) {
      for (const smoothing of [0, 0.1]) {
        const want = runCrossEntropy(ref, n, c, smoothing, logits, target, dloss);
        const got = withNativeConfig(cfg, () => runCrossEntropy(native, n, c, smoothing, logits, target, dloss));
        const tol = reductionTolerance(c);
        const ctx = `n=${n} c=${c} ${target.constructor.name} s=${smoothing} ${cfg.label}`;
        expectClose(got.loss, want.loss, tol, `loss ${ctx}`);
        expectClose(got.probs, want.probs, tol, `probs ${ctx}`);
        expectClose(got.dlogits, want.dlogits, tol, `dlogits ${ctx}`);
      }
    }
  });
});

describe('native: results do not depend on the thread count', () => {
  const isa = native.info().isa;
  const one = { isa, threads: 1, label: `${isa} x1` };
  const two = { isa, threads: 2, label: `${isa} x2` };

  it.each([
    { outer: 4001, dim: 33, inner: 1 },
    { outer: 17, dim: 29, inner: 257 },
  ])('softmax family [$outer,$dim,$inner]', (s) => {
    const rng = new Rng(3);
    const n = s.outer * s.dim * s.inner;
    const x = rng.f32(n, -6, 6);
    const dy = rng.f32(n);
    const r1 = withNativeConfig(one, () => runSoftmax(native, s, x, dy));
    const r2 = withNativeConfig(two, () => runSoftmax(native, s, x, dy));
    for (const k of ['y', 'ly', 'dx', 'ldx'] as const) expectIdentical(r2[k], r1[k], k);
  });

  it('softmaxCrossEntropy n=3001 c=37, index targets, smoothing 0.1', () => {
    const rng = new Rng(4);
    const n = 3001;
    const c = 37;
    const logits = rng.f32(n * c);
    const target = indexTargets(rng, n, c);
    const dloss = rng.f32(n);
    const r1 = withNativeConfig(one, () => runCrossEntropy(native, n, c, 0.1, logits, target, dloss));
    const r2 = withNativeConfig(two, () => runCrossEntropy(native, n, c, 0.1, logits, target, dloss));
    for (const k of ['loss', 'probs', 'dlogits'] as const) expectIdentical(r2[k], r1[k], k);
  });
});

describe.each([
  ['reference', ref],
  ['native', native],
] as const)('bad input (%s)', (_name, b) => {
  const logits = new Float32Array(6);
  const loss = new Float32Array(2);
  const probs = new Float32Array(6);
  const CE = 'softmaxCrossEntropy';
  const CEB = 'softmaxCrossEntropyBackward';

  it('class indices out of range (-1 and C) in forward and backward', () => {
    for (const bad of [-1, 3, 2 ** 31 - 1]) {
      expectKernelError(() => b.softmaxCrossEntropy(2, 3, 0, logits, Int32Array.of(0, bad), loss, probs), RangeError, CE);
      expectKernelError(() => b.softmaxCrossEntropyBackward(2, 3, 0, new Float32Array(6), loss, probs, Int32Array.of(bad, 0)), RangeError, CEB);
    }
  });

  it('wrong-typed or wrong-length targets', () => {
    expectKernelError(() => callLoose(b, CE, 2, 3, 0, logits, new Float64Array(2), loss, probs), TypeError, CE);
    expectKernelError(() => callLoose(b, CE, 2, 3, 0, logits, [0, 1], loss, probs), TypeError, CE);
    expectKernelError(() => callLoose(b, CE, 2, 3, 0, logits, Uint32Array.of(0, 1), loss, probs), TypeError, CE);
    expectKernelError(() => callLoose(b, CE, 2, 3, 0, logits, null, loss, probs), TypeError, CE);
    expectKernelError(() => b.softmaxCrossEntropy(2, 3, 0, logits, Int32Array.of(0), loss, probs), RangeError, CE);
    expectKernelError(() => b.softmaxCrossEntropy(2, 3, 0, logits, new Float32Array(2), loss, probs), RangeError, CE);
    expectKernelError(() => callLoose(b, CEB, 2, 3, 0, new Float32Array(6), loss, probs, new Float64Array(6)), TypeError, CEB);
  });

  it('label smoothing outside [0, 1) or NaN; bad n, c and buffer lengths', () => {
    const t = Int32Array.of(0, 1);
    for (const s of [1, -0.1, 1.5, NaN]) {
      expectKernelError(() => b.softmaxCrossEntropy(2, 3, s, logits, t, loss, probs), RangeError, CE);
      expectKernelError(() => b.softmaxCrossEntropyBackward(2, 3, s, new Float32Array(6), loss, probs, t), RangeError, CEB);
    }
    expectKernelError(() => b.softmaxCrossEntropy(0, 3, 0, new Float32Array(0), new Int32Array(0), new Float32Array(0), new Float32Array(0)), RangeError, CE);
    expectKernelError(() => b.softmaxCrossEntropy(2, 3, 0, new Float32Array(5), t, loss, probs), RangeError, CE);
    expectKernelError(() => b.softmaxCrossEntropy(2, 3, 0, logits, t, new Float32Array(3), probs), RangeError, CE);
    expectKernelError(() => b.softmaxCrossEntropy(2, 3, 0, logits, t, loss, new Float32Array(7)), RangeError, CE);
    expectKernelError(() => b.softmaxCrossEntropyBackward(2, 3, 0, new Float32Array(6), new Float32Array(1), probs, t), RangeError, CEB);
  });

  it('softmax family: zero, negative, NaN sizes, wrong lengths and types, huge sizes', () => {
    const x = new Float32Array(6);
    expectKernelError(() => b.softmax(0, 3, 2, x, x.slice()), RangeError, 'softmax');
    expectKernelError(() => b.logSoftmax(1, -3, 2, x, x.slice()), RangeError, 'logSoftmax');
    expectKernelError(() => b.softmaxBackward(1, NaN, 2, x.slice(), x, x), RangeError, 'softmaxBackward');
    expectKernelError(() => b.logSoftmaxBackward(1, 3, 2, new Float32Array(5), x, x), RangeError, 'logSoftmaxBackward');
    expectKernelError(() => b.softmax(1, 3, 2, x, new Float32Array(7)), RangeError, 'softmax');
    expectKernelError(() => callLoose(b, 'softmax', 1, 3, 2, Array.from(x), x.slice()), TypeError, 'softmax');
    expectKernelError(() => callLoose(b, 'softmax', 1, 3, 2, new Float64Array(6), x.slice()), TypeError, 'softmax');
    expectKernelError(() => b.softmax(2 ** 20, 2 ** 20, 2, x, x.slice()), RangeError, 'softmax');
    expectKernelError(() => b.softmaxCrossEntropy(2 ** 20, 2 ** 20, 0, logits, Int32Array.of(0), loss, probs), RangeError, CE);
  });

  it('keeps working after the errors', () => {
    const y = new Float32Array(2);
    b.softmax(1, 2, 1, f32([0, 0]), y);
    expect(Array.from(y)).toEqual([0.5, 0.5]);
  });
});
