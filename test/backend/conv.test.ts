// conv2d forward / backward-input / backward-filter on both backends: hand-computed reference cases,
// native-vs-reference parity over every variant and native configuration, thread bit-identity,
// finite-difference checks of the reference backward passes, and bad input on both backends.

import { describe, expect, it } from 'vitest';
import type { Activation, Backend, Conv2dArgs, Epilogue, F32 } from '../../lib/backend/backend.js';
import { convOutputSize, resolvePadding, type PaddingSpec } from '../../lib/backend/shape.js';
import {
  expectClose,
  expectIdentical,
  nativeBackend,
  nativeConfigs,
  reductionTolerance,
  referenceBackend,
  Rng,
  withNativeConfig,
  numericGradient,
  expectThrown,
} from '../helpers/parity.js';

const ref = referenceBackend;

interface ConvSpec {
  n: number; h: number; w: number; c: number; kh: number; kw: number; oc: number;
  stride?: number | [number, number];
  dilation?: number | [number, number];
  padding?: PaddingSpec;
  groups?: number;
}

function pair(v: number | [number, number] | undefined): [number, number] {
  return v === undefined ? [1, 1] : typeof v === 'number' ? [v, v] : v;
}

/** Conv2dArgs with padding resolved ('same' included) and oh/ow computed by shape.ts. */
function convArgs(spec: ConvSpec): Conv2dArgs {
  const [strideH, strideW] = pair(spec.stride);
  const [dilationH, dilationW] = pair(spec.dilation);
  const pad = resolvePadding('test', spec.padding ?? 'valid', spec.h, spec.w, spec.kh, spec.kw, strideH, strideW, dilationH, dilationW);
  return {
    n: spec.n, h: spec.h, w: spec.w, c: spec.c, kh: spec.kh, kw: spec.kw, oc: spec.oc,
    strideH, strideW, dilationH, dilationW, ...pad, groups: spec.groups ?? 1,
    oh: convOutputSize(spec.h, spec.kh, strideH, dilationH, pad.padTop, pad.padBottom),
    ow: convOutputSize(spec.w, spec.kw, strideW, dilationW, pad.padLeft, pad.padRight),
  };
}

const sizes = (a: Conv2dArgs) => ({
  x: a.n * a.h * a.w * a.c,
  w: a.kh * a.kw * (a.c / a.groups) * a.oc,
  y: a.n * a.oh * a.ow * a.oc,
});

function label(a: Conv2dArgs): string {
  return `x=[${a.n},${a.h},${a.w},${a.c}] k=${a.kh}x${a.kw} oc=${a.oc} s=${a.strideH},${a.strideW} ` +
    `d=${a.dilationH},${a.dilationW} pad=${a.padTop},${a.padBottom},${a.padLeft},${a.padRight} g=${a.groups} -> ${a.oh}x${a.ow}`;
}

const none: Epilogue = { activation: 'none', alpha: 0 };

describe('conv2d reference: hand-computed', () => {
  // x = 1..9 as a 3x3 single-channel image, w = 2x2 ones.
  const a = convArgs({ n: 1, h: 3, w: 3, c: 1, kh: 2, kw: 2, oc: 1 });
  const x = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const ones = new Float32Array(4).fill(1);

  it('x=[1,3,3,1] k=2 valid: window sums, + bias, relu', () => {
    const y = new Float32Array(4);
    ref.conv2d(a, none, x, ones, null, y);
    expect(Array.from(y)).toEqual([12, 16, 24, 28]);
    ref.conv2d(a, { activation: 'relu', alpha: 0 }, x, ones, Float32Array.of(-20), y);
    expect(Array.from(y)).toEqual([0, 0, 4, 8]);
    ref.conv2d(a, { activation: 'leakyRelu', alpha: 0.5 }, x, ones, Float32Array.of(-20), y);
    expect(Array.from(y)).toEqual([-4, -2, 4, 8]);
  });

  it('x=[1,3,3,1] k=2 valid: backward input counts windows, backward filter sums windows', () => {
    const dx = new Float32Array(9);
    ref.conv2dBackwardInput(a, dx, new Float32Array(4).fill(1), ones);
    expect(Array.from(dx)).toEqual([1, 2, 1, 2, 4, 2, 1, 2, 1]);
    const dw = new Float32Array(4);
    const db = new Float32Array(1);
    ref.conv2dBackwardFilter(a, dw, db, new Float32Array(4).fill(1), x);
    expect(Array.from(dw)).toEqual([12, 16, 24, 28]);
    expect(Array.from(db)).toEqual([4]);
  });

  it('x=[1,2,2,1] k=3 s=2 pad=1: padding contributes nothing', () => {
    const b = convArgs({ n: 1, h: 2, w: 2, c: 1, kh: 3, kw: 3, oc: 1, stride: 2, padding: 1 });
    expect([b.oh, b.ow]).toEqual([1, 1]);
    const y = new Float32Array(1);
    ref.conv2d(b, none, Float32Array.of(1, 2, 3, 4), Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), null, y);
    expect(y[0]).toBe(1 * 5 + 2 * 6 + 3 * 8 + 4 * 9);
  });

  it('x=[1,1,2,2] 1x1 groups=2: each output channel sees only its group', () => {
    const b = convArgs({ n: 1, h: 1, w: 2, c: 2, kh: 1, kw: 1, oc: 2, groups: 2 });
    const y = new Float32Array(4);
    // w [1,1,1,2]: group 0 scales by 2, group 1 by 3.
    ref.conv2d(b, none, Float32Array.of(1, 10, 2, 20), Float32Array.of(2, 3), null, y);
    expect(Array.from(y)).toEqual([2, 30, 4, 60]);
  });

  it('x=[1,3,1,1] k=(2,1) dilation=(2,1): taps two rows apart', () => {
    const b = convArgs({ n: 1, h: 3, w: 1, c: 1, kh: 2, kw: 1, oc: 1, dilation: [2, 1] });
    const y = new Float32Array(1);
    ref.conv2d(b, none, Float32Array.of(1, 2, 3), Float32Array.of(10, 100), null, y);
    expect(y[0]).toBe(1 * 10 + 3 * 100);
  });

  it('epilogues elu/sigmoid/tanh on one value', () => {
    const b = convArgs({ n: 1, h: 1, w: 1, c: 1, kh: 1, kw: 1, oc: 1 });
    const y = new Float32Array(1);
    const run = (activation: Activation, alpha: number) => {
      ref.conv2d(b, { activation, alpha }, Float32Array.of(-1), Float32Array.of(1), null, y);
      return y[0];
    };
    expect(run('elu', 2)).toBeCloseTo(2 * (Math.exp(-1) - 1), 6);
    expect(run('sigmoid', 0)).toBeCloseTo(1 / (1 + Math.E), 6);
    expect(run('tanh', 0)).toBeCloseTo(Math.tanh(-1), 6);
  });
});

// Every variant the kernels special-case or could get wrong; odd sizes throughout.
const VARIANTS: [string, ConvSpec, Epilogue][] = [
  ['1x1', { n: 2, h: 5, w: 7, c: 9, kh: 1, kw: 1, oc: 13 }, none],
  ['3x3 pad=same', { n: 2, h: 7, w: 6, c: 5, kh: 3, kw: 3, oc: 11, padding: 'same' }, { activation: 'relu', alpha: 0 }],
  ['5x5 C=1 pad=2 (LeNet conv1)', { n: 3, h: 11, w: 9, c: 1, kh: 5, kw: 5, oc: 6, padding: 2 }, { activation: 'tanh', alpha: 0 }],
  ['5x5 valid C=6', { n: 2, h: 9, w: 10, c: 6, kh: 5, kw: 5, oc: 16 }, none],
  ['3x3 C=3 s=2 pad=same', { n: 2, h: 9, w: 8, c: 3, kh: 3, kw: 3, oc: 7, stride: 2, padding: 'same' }, { activation: 'leakyRelu', alpha: 0.1 }],
  ['depthwise 3x3 pad=same', { n: 2, h: 7, w: 7, c: 10, kh: 3, kw: 3, oc: 10, groups: 10, padding: 'same' }, { activation: 'elu', alpha: 0.7 }],
  ['depthwise multiplier 2 s=2', { n: 1, h: 9, w: 7, c: 6, kh: 3, kw: 3, oc: 12, groups: 6, stride: 2, padding: 'same' }, none],
  ['grouped g=3', { n: 2, h: 6, w: 5, c: 9, kh: 3, kw: 2, oc: 6, groups: 3, padding: [1, 1, 0, 1] }, { activation: 'sigmoid', alpha: 0 }],
  ['dilated 2 pad=same', { n: 1, h: 9, w: 10, c: 4, kh: 3, kw: 3, oc: 5, dilation: 2, padding: 'same' }, none],
  ['asymmetric pad (2,0,0,3) s=(1,2)', { n: 2, h: 7, w: 9, c: 3, kh: 3, kw: 4, oc: 5, stride: [1, 2], padding: [2, 0, 0, 3] }, none],
  ['odd 13x11 k=(3,5) s=3', { n: 1, h: 13, w: 11, c: 5, kh: 3, kw: 5, oc: 9, stride: 3 }, none],
  ['batch 1, oc > 64 block', { n: 1, h: 5, w: 6, c: 3, kh: 2, kw: 2, oc: 67, padding: [0, 1, 1, 0] }, none],
  ['kernel larger than input (pad)', { n: 2, h: 2, w: 3, c: 2, kh: 3, kw: 4, oc: 3, padding: 1 }, none],
  // The GEMM-shaped paths (native/kernels/conv2d_paths.h) and their tile edges.
  ['1x1 relu (pointwise gemm, bias fused)', { n: 2, h: 5, w: 7, c: 9, kh: 1, kw: 1, oc: 70 }, { activation: 'relu', alpha: 0 }],
  ['1x1 grouped g=2', { n: 1, h: 3, w: 5, c: 8, kh: 1, kw: 1, oc: 6, groups: 2 }, { activation: 'elu', alpha: 1 }],
  ['1x1 s=2 (not a plain gemm)', { n: 2, h: 7, w: 6, c: 9, kh: 1, kw: 1, oc: 13, stride: 2 }, none],
  ['1x1 pad=1 (not a plain gemm)', { n: 1, h: 4, w: 5, c: 6, kh: 1, kw: 1, oc: 7, padding: 1 }, none],
  ['3x3 C=37 s=2 dilation 2 pad=same (backward phases)', { n: 2, h: 9, w: 11, c: 37, kh: 3, kw: 3, oc: 9, stride: 2, dilation: 2, padding: 'same' }, none],
  ['k=(2,3) s=(3,2) C=5 (phases without taps)', { n: 1, h: 10, w: 9, c: 5, kh: 2, kw: 3, oc: 6, stride: [3, 2], padding: [0, 1, 1, 0] }, none],
  ['grouped g=2 Cg=8 OCg=40 pad=same', { n: 1, h: 6, w: 7, c: 16, kh: 3, kw: 3, oc: 80, groups: 2, padding: 'same' }, { activation: 'relu', alpha: 0 }],
  ['7x7 C=3 s=2 pad=3 (first layer)', { n: 2, h: 13, w: 12, c: 3, kh: 7, kw: 7, oc: 16, stride: 2, padding: 3 }, none],
  ['batch 1, 3x3 C=12 oc=70 pad=same', { n: 1, h: 5, w: 6, c: 12, kh: 3, kw: 3, oc: 70, padding: 'same' }, none],
  ['depthwise C=37 dilation 2 pad=(1,2,0,3) (interior runs, SIMD tails)', { n: 2, h: 9, w: 17, c: 37, kh: 3, kw: 3, oc: 37, groups: 37, dilation: 2, padding: [1, 2, 0, 3] }, { activation: 'relu', alpha: 0 }],
  ['depthwise C=80 5x5 s=(2,1) pad=2', { n: 1, h: 11, w: 14, c: 80, kh: 5, kw: 5, oc: 80, groups: 80, stride: [2, 1], padding: 2 }, none],
  ['backward-filter crosses im2col tiles', { n: 2, h: 26, w: 22, c: 32, kh: 3, kw: 3, oc: 10 }, none],
];

interface ConvData { x: F32; w: F32; bias: F32; dy: F32 }

function makeData(a: Conv2dArgs, seed: number): ConvData {
  const rng = new Rng(seed);
  const s = sizes(a);
  return { x: rng.f32(s.x), w: rng.f32(s.w), bias: rng.f32(a.oc), dy: rng.f32(s.y) };
}

interface ConvResults { y: F32; yNoBias: F32; dx: F32; dw: F32; db: F32 }

function runAll(b: Backend, a: Conv2dArgs, e: Epilogue, d: ConvData): ConvResults {
  const s = sizes(a);
  const r = {
    y: new Float32Array(s.y), yNoBias: new Float32Array(s.y), dx: new Float32Array(s.x),
    dw: new Float32Array(s.w), db: new Float32Array(a.oc),
  };
  b.conv2d(a, e, d.x, d.w, d.bias, r.y);
  b.conv2d(a, none, d.x, d.w, null, r.yNoBias);
  b.conv2dBackwardInput(a, r.dx, d.dy, d.w);
  b.conv2dBackwardFilter(a, r.dw, r.db, d.dy, d.x);
  return r;
}

describe('conv2d parity: native vs reference', () => {
  const configs = nativeConfigs();
  VARIANTS.forEach(([name, spec, epilogue], i) => {
    const a = convArgs(spec);
    it(`${name}: ${label(a)} act=${epilogue.activation}`, () => {
      const data = makeData(a, 100 + i);
      const want = runAll(ref, a, epilogue, data);
      const cg = a.c / a.groups;
      const ocg = a.oc / a.groups;
      for (const cfg of configs) {
        const got = withNativeConfig(cfg, () => runAll(nativeBackend(), a, epilogue, data));
        const ctx = `${name} ${label(a)} [${cfg.label}]`;
        expectClose(got.y, want.y, reductionTolerance(a.kh * a.kw * cg), `${ctx} y act=${epilogue.activation}`);
        expectClose(got.yNoBias, want.yNoBias, reductionTolerance(a.kh * a.kw * cg), `${ctx} y (no bias)`);
        expectClose(got.dx, want.dx, reductionTolerance(a.kh * a.kw * ocg), `${ctx} dx`);
        expectClose(got.dw, want.dw, reductionTolerance(a.n * a.oh * a.ow), `${ctx} dw`);
        expectClose(got.db, want.db, reductionTolerance(a.n * a.oh * a.ow), `${ctx} dbias`);
      }
    });
  });

  it('dbias null leaves dw identical and touches nothing else', () => {
    const a = convArgs({ n: 2, h: 6, w: 5, c: 4, kh: 3, kw: 3, oc: 7, padding: 'same' });
    const d = makeData(a, 7);
    const native = nativeBackend();
    const dw1 = new Float32Array(sizes(a).w);
    const dw2 = new Float32Array(sizes(a).w);
    native.conv2dBackwardFilter(a, dw1, new Float32Array(a.oc), d.dy, d.x);
    native.conv2dBackwardFilter(a, dw2, null, d.dy, d.x);
    expectIdentical(dw2, dw1, 'dw with and without dbias');
  });
});

describe('conv2d native: bit-identical for 1 and 2 threads', () => {
  const cases: [string, ConvSpec][] = [
    ['3x3 pad=same', { n: 4, h: 23, w: 21, c: 8, kh: 3, kw: 3, oc: 70, padding: 'same' }],
    ['depthwise s=2', { n: 4, h: 25, w: 19, c: 72, kh: 3, kw: 3, oc: 72, groups: 72, stride: 2, padding: 'same' }],
    ['3x3 C=32 s=2 (igemm phases, im2col tiles)', { n: 3, h: 29, w: 27, c: 32, kh: 3, kw: 3, oc: 66, stride: 2, padding: 'same' }],
    ['1x1 C=40 -> 72 (pointwise gemm)', { n: 3, h: 17, w: 19, c: 40, kh: 1, kw: 1, oc: 72 }],
    ['depthwise 3x3 C=40 pad=same (row blocks)', { n: 3, h: 21, w: 23, c: 40, kh: 3, kw: 3, oc: 40, groups: 40, padding: 'same' }],
  ];
  for (const [name, spec] of cases) {
    const a = convArgs(spec);
    it(`${name}: ${label(a)}`, () => {
      const data = makeData(a, 3);
      const isa = nativeConfigs().at(-1)!.isa;
      const relu: Epilogue = { activation: 'relu', alpha: 0 };
      const one = withNativeConfig({ isa, threads: 1, label: '' }, () => runAll(nativeBackend(), a, relu, data));
      const two = withNativeConfig({ isa, threads: 2, label: '' }, () => runAll(nativeBackend(), a, relu, data));
      for (const k of ['y', 'dx', 'dw', 'db'] as const) expectIdentical(two[k], one[k], `${name} ${k} (${isa})`);
    });
  }
});

describe('conv2d reference: finite differences', () => {
  // L = Σ y·r for a random r, so ∂L/∂x = backwardInput(dy = r) and ∂L/∂w = backwardFilter(dy = r).
  // conv is linear in x and in w, so a central difference is exact up to float32 rounding of y.
  const cases: [string, ConvSpec][] = [
    ['3x3 s=2 pad=(1,0,1,1) g=2', { n: 2, h: 5, w: 4, c: 4, kh: 3, kw: 3, oc: 4, stride: 2, padding: [1, 0, 1, 1], groups: 2 }],
    ['2x2 dilation 2 pad=same', { n: 1, h: 5, w: 5, c: 2, kh: 2, kw: 2, oc: 3, dilation: 2, padding: 'same' }],
  ];
  for (const [name, spec] of cases) {
    const a = convArgs(spec);
    it(`${name}: ${label(a)}`, () => {
      const { x, w, bias, dy: r } = makeData(a, 11);
      const loss = () => {
        const y = new Float32Array(sizes(a).y);
        ref.conv2d(a, none, x, w, bias, y);
        let l = 0;
        for (let i = 0; i < y.length; i++) l += y[i] * r[i];
        return l;
      };
      const step = 1e-2;
      const dx = new Float32Array(x.length);
      const dw = new Float32Array(w.length);
      const db = new Float32Array(a.oc);
      ref.conv2dBackwardInput(a, dx, r, w);
      ref.conv2dBackwardFilter(a, dw, db, r, x);
      const tol = { atol: 2e-3, rtol: 2e-3 };
      expectClose(dx, numericGradient(x, loss, step), tol, `${name} dx`);
      expectClose(dw, numericGradient(w, loss, step), tol, `${name} dw`);
      expectClose(db, numericGradient(bias, loss, step), tol, `${name} dbias`);
    });
  }
});

describe('conv2d native: finite differences of the backward passes', () => {
  // Same identity as above, on the native kernels of the default configuration. The loss is summed in
  // float64 over a float32 y, so the step is large (conv is linear: no truncation error) and the
  // tolerance covers y's rounding.
  const cases: [string, ConvSpec][] = [
    ['3x3 C=5 s=2 pad=same (igemm, phases)', { n: 2, h: 6, w: 5, c: 5, kh: 3, kw: 3, oc: 4, stride: 2, padding: 'same' }],
    ['1x1 C=4 (pointwise gemm)', { n: 1, h: 3, w: 4, c: 4, kh: 1, kw: 1, oc: 3 }],
    ['depthwise 3x3 multiplier 2', { n: 1, h: 4, w: 5, c: 2, kh: 3, kw: 3, oc: 4, groups: 2, padding: 'same' }],
  ];
  for (const [name, spec] of cases) {
    const a = convArgs(spec);
    it(`${name}: ${label(a)}`, () => {
      const native = nativeBackend();
      const { x, w, bias, dy: r } = makeData(a, 12);
      const loss = () => {
        const y = new Float32Array(sizes(a).y);
        native.conv2d(a, none, x, w, bias, y);
        let l = 0;
        for (let i = 0; i < y.length; i++) l += y[i] * r[i];
        return l;
      };
      const step = 0.25;
      const dx = new Float32Array(x.length);
      const dw = new Float32Array(w.length);
      const db = new Float32Array(a.oc);
      native.conv2dBackwardInput(a, dx, r, w);
      native.conv2dBackwardFilter(a, dw, db, r, x);
      const tol = { atol: 2e-4, rtol: 2e-4 };
      expectClose(dx, numericGradient(x, loss, step), tol, `${name} dx`);
      expectClose(dw, numericGradient(w, loss, step), tol, `${name} dw`);
      expectClose(db, numericGradient(bias, loss, step), tol, `${name} dbias`);
    });
  }
});

describe('conv2d bad input: both backends', () => {
  const a = convArgs({ n: 2, h: 5, w: 5, c: 4, kh: 3, kw: 3, oc: 6, padding: 'same', groups: 2 });
  const s = sizes(a);
  const x = new Float32Array(s.x);
  const w = new Float32Array(s.w);
  const y = new Float32Array(s.y);
  const bias = new Float32Array(a.oc);
  const asF32 = (v: unknown) => v as F32;
  const asArgs = (v: unknown) => v as Conv2dArgs;
  const asEpilogue = (v: unknown) => v as Epilogue;

  const cases: [string, RegExp, typeof RangeError | typeof TypeError, (b: Backend) => void][] = [
    ['x too short', /^conv2d: x has length/, RangeError, (b) => b.conv2d(a, none, x.subarray(1), w, bias, y)],
    ['y too long', /^conv2d: y has length/, RangeError, (b) => b.conv2d(a, none, x, w, bias, new Float32Array(s.y + 1))],
    ['bias wrong length', /^conv2d: bias/, RangeError, (b) => b.conv2d(a, none, x, w, new Float32Array(5), y)],
    ['w as Float64Array', /^conv2d: w/, TypeError, (b) => b.conv2d(a, none, x, asF32(new Float64Array(s.w)), bias, y)],
    ['x as plain array', /^conv2d: x/, TypeError, (b) => b.conv2d(a, none, asF32(Array.from(x)), w, bias, y)],
    ['x null', /^conv2d: x/, TypeError, (b) => b.conv2d(a, none, asF32(null), w, bias, y)],
    ['args null', /^conv2d: args/, TypeError, (b) => b.conv2d(asArgs(null), none, x, w, bias, y)],
    ['n = 0', /^conv2d: n/, RangeError, (b) => b.conv2d({ ...a, n: 0 }, none, x, w, bias, y)],
    ['c = -4', /^conv2d: c/, RangeError, (b) => b.conv2d({ ...a, c: -4 }, none, x, w, bias, y)],
    ['padTop = -1', /^conv2d: padTop/, RangeError, (b) => b.conv2d({ ...a, padTop: -1 }, none, x, w, bias, y)],
    ['strideH NaN', /^conv2d: strideH/, RangeError, (b) => b.conv2d({ ...a, strideH: NaN }, none, x, w, bias, y)],
    ['strideW = 1.5', /^conv2d: strideW/, RangeError, (b) => b.conv2d({ ...a, strideW: 1.5 }, none, x, w, bias, y)],
    ['dilationH = 0', /^conv2d: dilationH/, RangeError, (b) => b.conv2d({ ...a, dilationH: 0 }, none, x, w, bias, y)],
    ['oh mismatch', /^conv2d: output size 4x5/, RangeError, (b) => b.conv2d({ ...a, oh: 4 }, none, x, w, bias, y)],
    ['groups 3 does not divide c=4', /^conv2d: .*divisible by groups=3/, RangeError,
      (b) => b.conv2d({ ...a, groups: 3, oc: 6 }, none, x, w, bias, y)],
    ['kernel does not fit', /^conv2d: .*does not fit/, RangeError,
      (b) => b.conv2d({ ...a, kh: 9, padTop: 0, padBottom: 0, oh: 1 }, none, x, w, bias, y)],
    ['unknown activation', /^conv2d: unknown activation 'gelu'/, RangeError,
      (b) => b.conv2d(a, { activation: 'gelu' as Activation, alpha: 0 }, x, w, bias, y)],
    ['leakyRelu alpha < 0', /^conv2d: leakyRelu alpha/, RangeError,
      (b) => b.conv2d(a, { activation: 'leakyRelu', alpha: -0.1 }, x, w, bias, y)],
    ['elu alpha = 0', /^conv2d: elu alpha/, RangeError, (b) => b.conv2d(a, { activation: 'elu', alpha: 0 }, x, w, bias, y)],
    ['alpha NaN', /^conv2d: alpha/, RangeError, (b) => b.conv2d(a, { activation: 'relu', alpha: NaN }, x, w, bias, y)],
    ['epilogue null', /^conv2d: epilogue/, TypeError, (b) => b.conv2d(a, asEpilogue(null), x, w, bias, y)],
    ['backwardInput dy wrong length', /^conv2dBackwardInput: dy has length/, RangeError,
      (b) => b.conv2dBackwardInput(a, new Float32Array(s.x), x, w)],
    ['backwardInput dx Float64Array', /^conv2dBackwardInput: dx/, TypeError,
      (b) => b.conv2dBackwardInput(a, asF32(new Float64Array(s.x)), y, w)],
    ['backwardFilter dbias wrong length', /^conv2dBackwardFilter: dbias/, RangeError,
      (b) => b.conv2dBackwardFilter(a, new Float32Array(s.w), new Float32Array(2), y, x)],
    ['backwardFilter dw null', /^conv2dBackwardFilter: dw/, TypeError,
      (b) => b.conv2dBackwardFilter(a, asF32(null), null, y, x)],
    ['huge sizes', /^conv2d: /, RangeError, (b) => b.conv2d(
      convArgs({ n: 2 ** 20, h: 2 ** 12, w: 2 ** 12, c: 2 ** 10, kh: 1, kw: 1, oc: 2 ** 10 }), none, x, w, null, y)],
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
      const one = convArgs({ n: 1, h: 1, w: 1, c: 1, kh: 1, kw: 1, oc: 1 });
      const out = new Float32Array(1);
      b.conv2d(one, none, Float32Array.of(3), Float32Array.of(2), Float32Array.of(1), out);
      expect(out[0]).toBe(7);
    });
  }
});
