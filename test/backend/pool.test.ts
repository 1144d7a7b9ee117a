// Max / average / global pooling on both backends: hand-computed reference cases (ties included),
// native-vs-reference parity over window shapes, strides, paddings and every native configuration,
// thread bit-identity, finite-difference checks of the reference backward passes, and bad input.

import { describe, expect, it } from 'vitest';
import type { Backend, F32, Pool2dArgs } from '../../lib/backend/backend.js';
import { convOutputSize, resolvePadding, type PaddingSpec } from '../../lib/backend/shape.js';
import {
  expectClose,
  expectIdentical,
  nativeBackend,
  nativeConfigs,
  referenceBackend,
  Rng,
  withNativeConfig,
  numericGradient,
  expectThrown,
} from '../helpers/parity.js';

const ref = referenceBackend;

interface PoolSpec {
  n: number; h: number; w: number; c: number; kh: number; kw: number;
  stride?: number | [number, number];
  padding?: PaddingSpec;
}

function poolArgs(spec: PoolSpec): Pool2dArgs {
  const [strideH, strideW] = spec.stride === undefined ? [spec.kh, spec.kw]
    : typeof spec.stride === 'number' ? [spec.stride, spec.stride] : spec.stride;
  const pad = resolvePadding('test', spec.padding ?? 'valid', spec.h, spec.w, spec.kh, spec.kw, strideH, strideW);
  return {
    n: spec.n, h: spec.h, w: spec.w, c: spec.c, kh: spec.kh, kw: spec.kw, strideH, strideW, ...pad,
    oh: convOutputSize(spec.h, spec.kh, strideH, 1, pad.padTop, pad.padBottom),
    ow: convOutputSize(spec.w, spec.kw, strideW, 1, pad.padLeft, pad.padRight),
  };
}

const xSize = (a: Pool2dArgs) => a.n * a.h * a.w * a.c;
const ySize = (a: Pool2dArgs) => a.n * a.oh * a.ow * a.c;

function label(a: Pool2dArgs): string {
  return `x=[${a.n},${a.h},${a.w},${a.c}] k=${a.kh}x${a.kw} s=${a.strideH},${a.strideW} ` +
    `pad=${a.padTop},${a.padBottom},${a.padLeft},${a.padRight} -> ${a.oh}x${a.ow}`;
}

/** Values on a coarse grid, so windows often hold ties (first-max routing gets exercised). */
function tiedValues(rng: Rng, n: number): F32 {
  return Float32Array.from({ length: n }, () => rng.int(-2, 2));
}

describe('pooling reference: hand-computed', () => {
  // x = 1..16 as one 4x4 channel.
  const x = Float32Array.from({ length: 16 }, (_, i) => i + 1);

  it('x=[1,4,4,1] max 2x2 s=2: window maxima; backward routes to them', () => {
    const a = poolArgs({ n: 1, h: 4, w: 4, c: 1, kh: 2, kw: 2 });
    const y = new Float32Array(4);
    ref.maxPool2d(a, x, y);
    expect(Array.from(y)).toEqual([6, 8, 14, 16]);
    const dx = new Float32Array(16);
    ref.maxPool2dBackward(a, dx, Float32Array.of(1, 2, 3, 4), x);
    expect(Array.from(dx)).toEqual([0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4]);
  });

  it('x=[1,2,2,1] all equal, max 2x2 s=1 pad=1: each gradient goes to the first real element', () => {
    const a = poolArgs({ n: 1, h: 2, w: 2, c: 1, kh: 2, kw: 2, stride: 1, padding: 1 });
    expect([a.oh, a.ow]).toEqual([3, 3]);
    const dx = new Float32Array(4);
    // Windows start at -1, 0, 1 on each axis; their first real element is (max(start,0), max(start,0)).
    ref.maxPool2dBackward(a, dx, Float32Array.from({ length: 9 }, (_, i) => 2 ** i), new Float32Array(4).fill(7));
    // (0,0) <- windows (0,0),(0,1),(1,0),(1,1); (0,1) <- (0,2),(1,2); (1,0) <- (2,0),(2,1); (1,1) <- (2,2)
    expect(Array.from(dx)).toEqual([1 + 2 + 8 + 16, 4 + 32, 64 + 128, 256]);
  });

  it('x=[1,3,3,1] avg 3x3 s=1 pad=1: countIncludePad false vs true', () => {
    const a = poolArgs({ n: 1, h: 3, w: 3, c: 1, kh: 3, kw: 3, stride: 1, padding: 1 });
    const x9 = Float32Array.from({ length: 9 }, (_, i) => i + 1);
    const y = new Float32Array(9);
    ref.avgPool2d(a, false, x9, y);
    // corner (0,0): (1+2+4+5)/4; edge (0,1): (1+2+3+4+5+6)/6; centre: 45/9
    expect(y[0]).toBeCloseTo(3, 6);
    expect(y[1]).toBeCloseTo(3.5, 6);
    expect(y[4]).toBeCloseTo(5, 6);
    ref.avgPool2d(a, true, x9, y);
    expect(y[0]).toBeCloseTo(12 / 9, 6);
    const dx = new Float32Array(9);
    ref.avgPool2dBackward(a, false, dx, new Float32Array(9).fill(1));
    // corner element: windows (0,0),(0,1),(1,0),(1,1) with counts 4,6,6,9
    expect(dx[0]).toBeCloseTo(1 / 4 + 2 / 6 + 1 / 9, 6);
  });

  it('global pools x=[2,3,2]: mean and first max over HW', () => {
    const gx = Float32Array.of(1, 5, 3, 5, 2, 0, /* n=1 */ -1, -1, -1, -2, -3, -1);
    const y = new Float32Array(4);
    ref.globalAvgPool2d(2, 3, 2, gx, y);
    expect(Array.from(y)).toEqual([2, 10 / 3, -5 / 3, -4 / 3].map(Math.fround));
    ref.globalMaxPool2d(2, 3, 2, gx, y);
    expect(Array.from(y)).toEqual([3, 5, -1, -1]);
    const dx = new Float32Array(12);
    ref.globalMaxPool2dBackward(2, 3, 2, dx, Float32Array.of(10, 20, 30, 40), gx);
    expect(Array.from(dx)).toEqual([0, 20, 10, 0, 0, 0, 30, 40, 0, 0, 0, 0]);
    ref.globalAvgPool2dBackward(2, 3, 2, dx, Float32Array.of(3, 6, 9, 12));
    expect(Array.from(dx)).toEqual([1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4]);
  });
});

const VARIANTS: [string, PoolSpec][] = [
  ['2x2 s=2', { n: 2, h: 8, w: 6, c: 5, kh: 2, kw: 2 }],
  ['2x2 s=2 odd 7x9', { n: 1, h: 7, w: 9, c: 3, kh: 2, kw: 2 }],
  ['3x3 s=1 pad=same', { n: 2, h: 5, w: 6, c: 7, kh: 3, kw: 3, stride: 1, padding: 'same' }],
  ['3x3 s=2 pad=(1,0,0,1)', { n: 1, h: 9, w: 8, c: 4, kh: 3, kw: 3, stride: 2, padding: [1, 0, 0, 1] }],
  ['2x3 s=(1,2) pad=(1,0,1,1)', { n: 2, h: 6, w: 7, c: 3, kh: 2, kw: 3, stride: [1, 2], padding: [1, 0, 1, 1] }],
  ['1x1 s=3', { n: 1, h: 7, w: 5, c: 2, kh: 1, kw: 1, stride: 3 }],
  ['5x5 s=2 pad=2, C=70 > channel block', { n: 2, h: 11, w: 10, c: 70, kh: 5, kw: 5, stride: 2, padding: 2 }],
  ['window = input', { n: 3, h: 4, w: 5, c: 6, kh: 4, kw: 5 }],
  ['2x2 s=3 (disjoint windows with gaps) C=17', { n: 2, h: 8, w: 10, c: 17, kh: 2, kw: 2, stride: 3 }],
  ['3x3 s=3 pad=(1,1,1,0) odd C=33', { n: 1, h: 10, w: 11, c: 33, kh: 3, kw: 3, stride: 3, padding: [1, 1, 1, 0] }],
  ['2x2 s=2 C=80 (SIMD blocks + tail)', { n: 1, h: 5, w: 6, c: 80, kh: 2, kw: 2 }],
  // Average pooling on the depthwise row kernels (stride 1 along the row, 3 or 5 wide): SIMD tails.
  ['3x3 s=1 pad=1 C=37 13x19', { n: 2, h: 13, w: 19, c: 37, kh: 3, kw: 3, stride: 1, padding: 1 }],
  ['5x5 s=1 pad=2 C=20', { n: 1, h: 8, w: 12, c: 20, kh: 5, kw: 5, stride: 1, padding: 2 }],
  ['3x3 s=(2,1) pad=(0,1,1,0) C=19', { n: 1, h: 10, w: 9, c: 19, kh: 3, kw: 3, stride: [2, 1], padding: [0, 1, 1, 0] }],
];

interface PoolResults { maxY: F32; maxDx: F32; avgY: F32[]; avgDx: F32[] }

function runPools(b: Backend, a: Pool2dArgs, x: F32, dy: F32): PoolResults {
  const r: PoolResults = { maxY: new Float32Array(ySize(a)), maxDx: new Float32Array(xSize(a)), avgY: [], avgDx: [] };
  b.maxPool2d(a, x, r.maxY);
  b.maxPool2dBackward(a, r.maxDx, dy, x);
  for (const includePad of [false, true]) {
    const y = new Float32Array(ySize(a));
    const dx = new Float32Array(xSize(a));
    b.avgPool2d(a, includePad, x, y);
    b.avgPool2dBackward(a, includePad, dx, dy);
    r.avgY.push(y);
    r.avgDx.push(dx);
  }
  return r;
}

const sumTol = (k: number) => ({ atol: 1e-6 * k, rtol: 1e-5 });

describe('pooling parity: native vs reference', () => {
  const configs = nativeConfigs();
  VARIANTS.forEach(([name, spec], i) => {
    const a = poolArgs(spec);
    for (const inputs of ['random', 'tied'] as const) {
      it(`${name}: ${label(a)} ${inputs} inputs`, () => {
        const rng = new Rng(200 + i);
        const x = inputs === 'tied' ? tiedValues(rng, xSize(a)) : rng.f32(xSize(a));
        const dy = rng.f32(ySize(a));
        const want = runPools(ref, a, x, dy);
        // A dx element collects from at most ceil(k/s) windows per axis.
        const overlap = Math.ceil(a.kh / a.strideH) * Math.ceil(a.kw / a.strideW);
        for (const cfg of configs) {
          const got = withNativeConfig(cfg, () => runPools(nativeBackend(), a, x, dy));
          const ctx = `${name} ${label(a)} ${inputs} [${cfg.label}]`;
          expectIdentical(got.maxY, want.maxY, `${ctx} max y`);
          expectClose(got.maxDx, want.maxDx, sumTol(overlap), `${ctx} max dx`);
          for (const k of [0, 1]) {
            const pad = k === 1 ? 'countIncludePad' : 'excludePad';
            expectClose(got.avgY[k], want.avgY[k], sumTol(a.kh * a.kw), `${ctx} avg y ${pad}`);
            expectClose(got.avgDx[k], want.avgDx[k], sumTol(overlap), `${ctx} avg dx ${pad}`);
          }
        }
      });
    }
  });

  const GLOBAL: [number, number, number][] = [[1, 1, 1], [2, 49, 3], [3, 10, 130], [2, 7, 64]];
  for (const [n, hw, c] of GLOBAL) {
    it(`global pools n=${n} hw=${hw} c=${c} (tied inputs)`, () => {
      const rng = new Rng(n * 1000 + hw * 10 + c);
      const x = tiedValues(rng, n * hw * c);
      const dy = rng.f32(n * c);
      const run = (b: Backend) => {
        const r = { avg: new Float32Array(n * c), avgDx: new Float32Array(n * hw * c), max: new Float32Array(n * c), maxDx: new Float32Array(n * hw * c) };
        b.globalAvgPool2d(n, hw, c, x, r.avg);
        b.globalAvgPool2dBackward(n, hw, c, r.avgDx, dy);
        b.globalMaxPool2d(n, hw, c, x, r.max);
        b.globalMaxPool2dBackward(n, hw, c, r.maxDx, dy, x);
        return r;
      };
      const want = run(ref);
      for (const cfg of configs) {
        const got = withNativeConfig(cfg, () => run(nativeBackend()));
        const ctx = `n=${n} hw=${hw} c=${c} [${cfg.label}]`;
        expectClose(got.avg, want.avg, sumTol(hw), `${ctx} avg`);
        expectClose(got.avgDx, want.avgDx, sumTol(1), `${ctx} avg dx`);
        expectIdentical(got.max, want.max, `${ctx} max`);
        expectIdentical(got.maxDx, want.maxDx, `${ctx} max dx`);
      }
    });
  }

  it('all-equal input: max pool gradients land on the same elements on both backends', () => {
    const a = poolArgs({ n: 2, h: 7, w: 6, c: 3, kh: 3, kw: 3, stride: 2, padding: 'same' });
    const x = new Float32Array(xSize(a)).fill(0.25);
    const dy = new Float32Array(ySize(a)).fill(1);
    const want = new Float32Array(xSize(a));
    ref.maxPool2dBackward(a, want, dy, x);
    for (const cfg of configs) {
      const got = new Float32Array(xSize(a));
      withNativeConfig(cfg, () => nativeBackend().maxPool2dBackward(a, got, dy, x));
      expectIdentical(got, want, `all equal ${label(a)} [${cfg.label}]`);
    }
    // Each window's gradient sits on its first real element: the sum is the window count.
    expect(want.reduce((s, v) => s + v, 0)).toBe(ySize(a));
  });
});

describe('pooling native: bit-identical for 1 and 2 threads', () => {
  it('3x3 s=(1,2) pad=same x=[4,27,23,70], max/avg forward and backward, global pools', () => {
    const a = poolArgs({ n: 4, h: 27, w: 23, c: 70, kh: 3, kw: 3, stride: [1, 2], padding: 'same' });
    const rng = new Rng(9);
    const x = rng.f32(xSize(a));
    const dy = rng.f32(ySize(a));
    const isa = nativeConfigs().at(-1)!.isa;
    const run = (threads: number) => withNativeConfig({ isa, threads, label: '' }, () => {
      const b = nativeBackend();
      const r = runPools(b, a, x, dy);
      const hw = a.h * a.w;
      const g = [new Float32Array(a.n * a.c), new Float32Array(a.n * a.c), new Float32Array(xSize(a))];
      b.globalAvgPool2d(a.n, hw, a.c, x, g[0]);
      b.globalMaxPool2d(a.n, hw, a.c, x, g[1]);
      b.globalMaxPool2dBackward(a.n, hw, a.c, g[2], g[1], x);
      return [r.maxY, r.maxDx, ...r.avgY, ...r.avgDx, ...g];
    });
    const one = run(1);
    const two = run(2);
    one.forEach((buf, i) => expectIdentical(two[i], buf, `output ${i} (${isa})`));
  });
});

describe('pooling reference: finite differences', () => {
  // L = Σ y·r. Inputs are distinct and at least 0.01 apart, so a 1e-3 step never changes which
  // element is a window's maximum and max pooling is locally linear.
  function distinct(rng: Rng, n: number): F32 {
    const values = Array.from({ length: n }, (_, i) => (i - n / 2) * 0.01);
    for (let i = n - 1; i > 0; i--) {
      const j = rng.int(0, i);
      [values[i], values[j]] = [values[j], values[i]];
    }
    return Float32Array.from(values);
  }

  function gradientCheck(name: string, n: number, outLength: number, forward: (x: F32, y: F32) => void, backward: (dx: F32, r: F32, x: F32) => void) {
    const rng = new Rng(17);
    const x = distinct(rng, n);
    const r = rng.f32(outLength);
    const loss = () => {
      const y = new Float32Array(outLength);
      forward(x, y);
      let l = 0;
      for (let i = 0; i < y.length; i++) l += y[i] * r[i];
      return l;
    };
    const numeric = numericGradient(x, loss, 1e-3);
    const dx = new Float32Array(n);
    backward(dx, r, x);
    expectClose(dx, numeric, { atol: 3e-3, rtol: 3e-3 }, name);
  }

  const a = poolArgs({ n: 2, h: 5, w: 6, c: 2, kh: 3, kw: 2, stride: [2, 1], padding: [1, 1, 1, 0] });
  it(`maxPool2d ${label(a)}`, () => {
    gradientCheck('max', xSize(a), ySize(a), (x, y) => ref.maxPool2d(a, x, y), (dx, r, x) => ref.maxPool2dBackward(a, dx, r, x));
  });
  for (const includePad of [false, true]) {
    it(`avgPool2d ${label(a)} countIncludePad=${includePad}`, () => {
      gradientCheck('avg', xSize(a), ySize(a), (x, y) => ref.avgPool2d(a, includePad, x, y), (dx, r) => ref.avgPool2dBackward(a, includePad, dx, r));
    });
  }
  it('globalAvgPool2d / globalMaxPool2d n=2 hw=6 c=3', () => {
    gradientCheck('global avg', 36, 6, (x, y) => ref.globalAvgPool2d(2, 6, 3, x, y), (dx, r) => ref.globalAvgPool2dBackward(2, 6, 3, dx, r));
    gradientCheck('global max', 36, 6, (x, y) => ref.globalMaxPool2d(2, 6, 3, x, y), (dx, r, x) => ref.globalMaxPool2dBackward(2, 6, 3, dx, r, x));
  });
});

describe('pooling bad input: both backends', () => {
  const a = poolArgs({ n: 2, h: 6, w: 6, c: 3, kh: 3, kw: 3, stride: 2, padding: 'same' });
  const x = new Float32Array(xSize(a));
  const y = new Float32Array(ySize(a));
  const asF32 = (v: unknown) => v as F32;
  const asBool = (v: unknown) => v as boolean;
  const asArgs = (v: unknown) => v as Pool2dArgs;

  const cases: [string, RegExp, typeof RangeError | typeof TypeError, (b: Backend) => void][] = [
    ['maxPool2d x too short', /^maxPool2d: x has length/, RangeError, (b) => b.maxPool2d(a, x.subarray(2), y)],
    ['maxPool2d y Float64Array', /^maxPool2d: y/, TypeError, (b) => b.maxPool2d(a, x, asF32(new Float64Array(y.length)))],
    ['maxPool2d args null', /^maxPool2d: args/, TypeError, (b) => b.maxPool2d(asArgs(null), x, y)],
    ['maxPool2d kh = 0', /^maxPool2d: kh/, RangeError, (b) => b.maxPool2d({ ...a, kh: 0 }, x, y)],
    ['maxPool2d strideW NaN', /^maxPool2d: strideW/, RangeError, (b) => b.maxPool2d({ ...a, strideW: NaN }, x, y)],
    ['maxPool2d padLeft = -1', /^maxPool2d: padLeft/, RangeError, (b) => b.maxPool2d({ ...a, padLeft: -1 }, x, y)],
    ['maxPool2d pad > half kernel', /^maxPool2d: padding along height \(2, 1\)/, RangeError,
      (b) => b.maxPool2d({ ...a, padTop: 2 }, x, y)],
    ['maxPool2d ow mismatch', /^maxPool2d: output size 3x4 does not match/, RangeError, (b) => b.maxPool2d({ ...a, ow: 4 }, x, y)],
    ['maxPool2dBackward x plain array', /^maxPool2dBackward: x/, TypeError,
      (b) => b.maxPool2dBackward(a, new Float32Array(x.length), y, asF32(Array.from(x)))],
    ['maxPool2dBackward dy wrong length', /^maxPool2dBackward: dy has length/, RangeError,
      (b) => b.maxPool2dBackward(a, new Float32Array(x.length), x, x)],
    ['avgPool2d countIncludePad not boolean', /^avgPool2d: countIncludePad/, TypeError, (b) => b.avgPool2d(a, asBool('yes'), x, y)],
    ['avgPool2d window does not fit', /^avgPool2d: .*does not fit/, RangeError,
      (b) => b.avgPool2d({ ...a, kh: 9, padTop: 0, padBottom: 0, oh: 1 }, false, x, y)],
    ['avgPool2dBackward dx null', /^avgPool2dBackward: dx/, TypeError, (b) => b.avgPool2dBackward(a, true, asF32(null), y)],
    ['globalAvgPool2d n = 0', /^globalAvgPool2d: n/, RangeError, (b) => b.globalAvgPool2d(0, 36, 3, x, new Float32Array(6))],
    ['globalAvgPool2d hw NaN', /^globalAvgPool2d: hw/, RangeError, (b) => b.globalAvgPool2d(2, NaN, 3, x, new Float32Array(6))],
    ['globalAvgPool2d y wrong length', /^globalAvgPool2d: y has length/, RangeError, (b) => b.globalAvgPool2d(2, 36, 3, x, new Float32Array(7))],
    ['globalAvgPool2dBackward c = 2.5', /^globalAvgPool2dBackward: c/, RangeError,
      (b) => b.globalAvgPool2dBackward(2, 36, 2.5, x, new Float32Array(6))],
    ['globalMaxPool2d x Float64Array', /^globalMaxPool2d: x/, TypeError,
      (b) => b.globalMaxPool2d(2, 36, 3, asF32(new Float64Array(x.length)), new Float32Array(6))],
    ['globalMaxPool2dBackward x wrong length', /^globalMaxPool2dBackward: x has length/, RangeError,
      (b) => b.globalMaxPool2dBackward(2, 36, 3, new Float32Array(x.length), new Float32Array(6), x.subarray(1))],
    ['maxPool2d huge sizes', /^maxPool2d: /, RangeError,
      (b) => b.maxPool2d(poolArgs({ n: 2 ** 20, h: 2 ** 14, w: 2 ** 14, c: 2 ** 10, kh: 2, kw: 2 }), x, y)],
    ['globalMaxPool2d huge sizes', /^globalMaxPool2d: /, RangeError,
      (b) => b.globalMaxPool2d(2 ** 30, 2 ** 30, 2 ** 30, x, y)],
  ];

  for (const backend of ['reference', 'native'] as const) {
    for (const [name, message, errorClass, call] of cases) {
      it(`${backend}: ${name}`, () => {
        const b = backend === 'reference' ? ref : nativeBackend();
        expectThrown(() => call(b), errorClass, message);
      });
    }
    it(`${backend}: still works after bad input`, () => {
      const b = backend === 'reference' ? ref : nativeBackend();
      const out = new Float32Array(1);
      b.maxPool2d(poolArgs({ n: 1, h: 2, w: 2, c: 1, kh: 2, kw: 2 }), Float32Array.of(1, 4, 2, 3), out);
      expect(out[0]).toBe(4);
    });
  }
});
