// Batch norm and layer norm on both backends: hand-computed reference values, native-vs-reference
// parity for every ISA x thread count, thread bit-identity of the statistics, finite-difference checks
// of the backward kernels, and bad input.
import { describe, expect, it } from 'vitest';
import type { Backend } from '../../lib/backend/backend.js';
import {
  expectClose,
  expectIdentical,
  nativeBackend,
  nativeConfigs,
  reductionTolerance,
  referenceBackend,
  Rng,
  withNativeConfig,
  expectKernelError,
  numericGradient,
} from '../helpers/parity.js';

const ref = referenceBackend;
const f32 = (values: number[]) => new Float32Array(values);

describe('batch norm reference: hand-computed', () => {
  // x [4,2]: channel 0 = 1,3,5,7 (mean 4, biased var 5, unbiased 20/3);
  //          channel 1 = 2,6,10,14 (mean 8, biased var 20, unbiased 80/3).
  const x = f32([1, 2, 3, 6, 5, 10, 7, 14]);
  const eps = 1e-5;
  const inv = [1 / Math.sqrt(5 + eps), 1 / Math.sqrt(20 + eps)];
  const mean = [4, 8];

  it('x=[4,2] gamma=[2,0.5] beta=[1,-1] momentum=0.1: y, saved stats, running stats', () => {
    const gamma = f32([2, 0.5]);
    const beta = f32([1, -1]);
    const runningMean = f32([0, 0]);
    const runningVar = f32([1, 1]);
    const y = new Float32Array(8);
    const saveMean = new Float32Array(2);
    const saveInvStd = new Float32Array(2);
    ref.batchNormTrain(4, 2, eps, 0.1, x, gamma, beta, runningMean, runningVar, y, saveMean, saveInvStd);
    const expectedY = [];
    for (let r = 0; r < 4; r++) {
      for (let j = 0; j < 2; j++) expectedY.push((x[r * 2 + j] - mean[j]) * inv[j] * gamma[j] + beta[j]);
    }
    expectClose(y, expectedY, { atol: 1e-6, rtol: 1e-6 }, 'y');
    expectClose(saveMean, mean, { atol: 0, rtol: 0 }, 'saveMean');
    expectClose(saveInvStd, inv, { atol: 0, rtol: 1e-7 }, 'saveInvStd');
    expectClose(runningMean, [0.4, 0.8], { atol: 1e-7, rtol: 1e-6 }, 'runningMean');
    expectClose(runningVar, [0.9 + (0.1 * 20) / 3, 0.9 + (0.1 * 80) / 3], { atol: 1e-7, rtol: 1e-6 }, 'runningVar');
  });

  it('x=[4,2] no affine, no running stats: columns have mean 0 and variance var/(var+eps)', () => {
    const y = new Float32Array(8);
    ref.batchNormTrain(4, 2, eps, 0.1, x, null, null, null, null, y, new Float32Array(2), new Float32Array(2));
    // channel 0: (x - 4)/sqrt(5+eps) = -3,-1,1,3 times inv[0]
    expectClose(y.filter((_, i) => i % 2 === 0), [-3, -1, 1, 3].map((v) => v * inv[0]), { atol: 1e-6, rtol: 1e-6 }, 'y c0');
    expectClose(y.filter((_, i) => i % 2 === 1), [-6, -2, 2, 6].map((v) => v * inv[1]), { atol: 1e-6, rtol: 1e-6 }, 'y c1');
  });

  it('inference x=[4,2] uses the running stats', () => {
    const y = new Float32Array(8);
    ref.batchNormInference(4, 2, 0.25, x, f32([3, 1]), f32([0, 0.5]), f32([1, 2]), f32([0.75, 3.75]), y);
    // invStd = 1/sqrt(0.75+0.25) = 1 and 1/sqrt(3.75+0.25) = 0.5
    expectClose(y, [0, 0.5, 6, 2.5, 12, 4.5, 18, 6.5], { atol: 1e-6, rtol: 0 }, 'y');
  });

  it('backward x=[4,2]: constant dy gives dx=0, dbeta=Σdy, dgamma=0; dy=xhat gives dgamma≈M', () => {
    const saveMean = f32(mean);
    const saveInvStd = f32(inv);
    const gamma = f32([2, 0.5]);
    const dx = new Float32Array(8);
    const dgamma = new Float32Array(2);
    const dbeta = new Float32Array(2);
    ref.batchNormBackward(4, 2, dx, dgamma, dbeta, new Float32Array(8).fill(0.5), x, gamma, saveMean, saveInvStd);
    expectClose(dx, new Array(8).fill(0), { atol: 1e-6, rtol: 0 }, 'dx');
    expectClose(dbeta, [2, 2], { atol: 1e-6, rtol: 0 }, 'dbeta');
    expectClose(dgamma, [0, 0], { atol: 1e-6, rtol: 0 }, 'dgamma');

    // dy = xhat: dgamma = Σ xhat² = M·var/(var+eps); dx = gamma·invStd·xhat·eps/(var+eps)
    const xhat = Array.from(x, (v, i) => (v - mean[i % 2]) * inv[i % 2]);
    ref.batchNormBackward(4, 2, dx, dgamma, dbeta, f32(xhat), x, gamma, saveMean, saveInvStd);
    const vars = [5, 20];
    expectClose(dgamma, vars.map((v) => (4 * v) / (v + eps)), { atol: 0, rtol: 1e-6 }, 'dgamma');
    expectClose(dbeta, [0, 0], { atol: 1e-6, rtol: 0 }, 'dbeta');
    const expectedDx = xhat.map((h, i) => gamma[i % 2] * inv[i % 2] * h * (eps / (vars[i % 2] + eps)));
    expectClose(dx, expectedDx, { atol: 1e-7, rtol: 0 }, 'dx');
  });
});

describe('layer norm reference: hand-computed', () => {
  it('x=[2,4] rows 1,2,3,4 (mean 2.5, var 1.25) and -1,1,-1,1 (mean 0, var 1)', () => {
    const x = f32([1, 2, 3, 4, -1, 1, -1, 1]);
    const eps = 1e-5;
    const gamma = f32([1, 2, 3, 4]);
    const beta = f32([0, 0, 1, 1]);
    const y = new Float32Array(8);
    const saveMean = new Float32Array(2);
    const saveInvStd = new Float32Array(2);
    ref.layerNorm(2, 4, eps, x, gamma, beta, y, saveMean, saveInvStd);
    const i0 = 1 / Math.sqrt(1.25 + eps);
    const i1 = 1 / Math.sqrt(1 + eps);
    expectClose(saveMean, [2.5, 0], { atol: 0, rtol: 0 }, 'saveMean');
    expectClose(saveInvStd, [i0, i1], { atol: 0, rtol: 1e-7 }, 'saveInvStd');
    const expected = [-1.5 * i0, -0.5 * i0 * 2, 0.5 * i0 * 3 + 1, 1.5 * i0 * 4 + 1, -i1, 2 * i1, -3 * i1 + 1, 4 * i1 + 1];
    expectClose(y, expected, { atol: 1e-6, rtol: 1e-6 }, 'y');

    // dy = 1 everywhere, no gamma: dx = 0 (a constant shift of y along a row is projected out).
    const dx = new Float32Array(8);
    const dgamma = new Float32Array(4);
    const dbeta = new Float32Array(4);
    ref.layerNormBackward(2, 4, dx, dgamma, dbeta, new Float32Array(8).fill(1), x, null, saveMean, saveInvStd);
    expectClose(dx, new Array(8).fill(0), { atol: 1e-6, rtol: 0 }, 'dx');
    expectClose(dbeta, [2, 2, 2, 2], { atol: 0, rtol: 0 }, 'dbeta');
    expectClose(dgamma, [-1.5 * i0 - i1, -0.5 * i0 + i1, 0.5 * i0 - i1, 1.5 * i0 + i1], { atol: 1e-6, rtol: 1e-6 }, 'dgamma');
  });
});

// --- parity ------------------------------------------------------------------------------------------

interface BnResult {
  y: Float32Array; saveMean: Float32Array; saveInvStd: Float32Array;
  runningMean: Float32Array | null; runningVar: Float32Array | null;
}

function runBnTrain(
  b: Backend, m: number, c: number, x: Float32Array, gamma: Float32Array | null, beta: Float32Array | null,
  running: boolean, rng0: Float32Array,
): BnResult {
  const runningMean = running ? rng0.slice(0, c) : null;
  const runningVar = running ? rng0.slice(c, 2 * c).map(Math.abs) : null;
  const r: BnResult = {
    y: new Float32Array(m * c), saveMean: new Float32Array(c), saveInvStd: new Float32Array(c), runningMean, runningVar,
  };
  b.batchNormTrain(m, c, 1e-5, 0.1, x, gamma, beta, runningMean, runningVar, r.y, r.saveMean, r.saveInvStd);
  return r;
}

function runBnBackward(
  b: Backend, m: number, c: number, dy: Float32Array, x: Float32Array, gamma: Float32Array | null,
  saveMean: Float32Array, saveInvStd: Float32Array, wantParams: boolean,
) {
  const dx = new Float32Array(m * c);
  const dgamma = wantParams ? new Float32Array(c) : null;
  const dbeta = wantParams ? new Float32Array(c) : null;
  b.batchNormBackward(m, c, dx, dgamma, dbeta, dy, x, gamma, saveMean, saveInvStd);
  return { dx, dgamma, dbeta };
}

function runLn(b: Backend, m: number, d: number, x: Float32Array, gamma: Float32Array | null, beta: Float32Array | null) {
  const y = new Float32Array(m * d);
  const saveMean = new Float32Array(m);
  const saveInvStd = new Float32Array(m);
  b.layerNorm(m, d, 1e-5, x, gamma, beta, y, saveMean, saveInvStd);
  return { y, saveMean, saveInvStd };
}

function runLnBackward(
  b: Backend, m: number, d: number, dy: Float32Array, x: Float32Array, gamma: Float32Array | null,
  saveMean: Float32Array, saveInvStd: Float32Array, wantParams: boolean,
) {
  const dx = new Float32Array(m * d);
  const dgamma = wantParams ? new Float32Array(d) : null;
  const dbeta = wantParams ? new Float32Array(d) : null;
  b.layerNormBackward(m, d, dx, dgamma, dbeta, dy, x, gamma, saveMean, saveInvStd);
  return { dx, dgamma, dbeta };
}

const SHAPES: [number, number][] = [[2, 1], [7, 3], [33, 17], [130, 5], [3, 100], [1001, 2]];
// Outputs of order 1 computed from statistics over `k` values; dx also suffers cancellation.
const outTol = (k: number) => ({ atol: 2e-5 + 2e-7 * k, rtol: 2e-5 });
const gradTol = (k: number) => ({ atol: 1e-4 + 2e-7 * k, rtol: 1e-4 });

describe('norm parity: native vs reference', () => {
  const native = nativeBackend();
  const rng = new Rng(101);
  const shapes: [number, number][] = [...SHAPES, [rng.int(2, 300), rng.int(1, 40)], [rng.int(2, 40), rng.int(1, 300)]];

  for (const cfg of nativeConfigs()) {
    for (const [m, c] of shapes) {
      it(`batchNorm x=[${m},${c}] train/inference/backward, affine and not, ${cfg.label}`, () => {
        const x = rng.f32(m * c, -2, 3);
        const dy = rng.f32(m * c);
        const gamma = rng.f32(c, 0.5, 1.5);
        const beta = rng.f32(c);
        const running0 = rng.f32(2 * c, 0.1, 2);
        for (const affine of [true, false]) {
          const g = affine ? gamma : null;
          const bt = affine ? beta : null;
          const ctx = `batchNorm m=${m} c=${c} affine=${affine} ${cfg.label}`;
          const e = runBnTrain(ref, m, c, x, g, bt, true, running0);
          const a = withNativeConfig(cfg, () => runBnTrain(native, m, c, x, g, bt, true, running0));
          expectClose(a.y, e.y, outTol(m), `${ctx} y`);
          expectClose(a.saveMean, e.saveMean, reductionTolerance(m), `${ctx} saveMean`);
          expectClose(a.saveInvStd, e.saveInvStd, reductionTolerance(m), `${ctx} saveInvStd`);
          expectClose(a.runningMean!, e.runningMean!, reductionTolerance(m), `${ctx} runningMean`);
          expectClose(a.runningVar!, e.runningVar!, reductionTolerance(m), `${ctx} runningVar`);

          const yi = new Float32Array(m * c);
          const yiNative = new Float32Array(m * c);
          ref.batchNormInference(m, c, 1e-3, x, g, bt, e.runningMean!, e.runningVar!, yi);
          withNativeConfig(cfg, () => native.batchNormInference(m, c, 1e-3, x, g, bt, e.runningMean!, e.runningVar!, yiNative));
          expectClose(yiNative, yi, outTol(1), `${ctx} inference y`);

          for (const wantParams of [true, false]) {
            const eb = runBnBackward(ref, m, c, dy, x, g, e.saveMean, e.saveInvStd, wantParams);
            const ab = withNativeConfig(cfg, () =>
              runBnBackward(native, m, c, dy, x, g, e.saveMean, e.saveInvStd, wantParams));
            expectClose(ab.dx, eb.dx, gradTol(m), `${ctx} dx params=${wantParams}`);
            if (wantParams) {
              expectClose(ab.dgamma!, eb.dgamma!, reductionTolerance(m), `${ctx} dgamma`);
              expectClose(ab.dbeta!, eb.dbeta!, reductionTolerance(m), `${ctx} dbeta`);
            }
          }
        }
      });

      it(`layerNorm x=[${m},${c}] forward/backward, affine and not, ${cfg.label}`, () => {
        const d = c;
        const x = rng.f32(m * d, -2, 2);
        const dy = rng.f32(m * d);
        const gamma = rng.f32(d, 0.5, 1.5);
        const beta = rng.f32(d);
        for (const affine of [true, false]) {
          const g = affine ? gamma : null;
          const bt = affine ? beta : null;
          const ctx = `layerNorm m=${m} d=${d} affine=${affine} ${cfg.label}`;
          const e = runLn(ref, m, d, x, g, bt);
          const a = withNativeConfig(cfg, () => runLn(native, m, d, x, g, bt));
          expectClose(a.y, e.y, outTol(d), `${ctx} y`);
          expectClose(a.saveMean, e.saveMean, reductionTolerance(d), `${ctx} saveMean`);
          // d=1: var=0, invStd = 1/sqrt(eps) ≈ 316
          expectClose(a.saveInvStd, e.saveInvStd, { atol: reductionTolerance(d).atol, rtol: 1e-5 }, `${ctx} saveInvStd`);
          for (const wantParams of [true, false]) {
            const eb = runLnBackward(ref, m, d, dy, x, g, e.saveMean, e.saveInvStd, wantParams);
            const ab = withNativeConfig(cfg, () =>
              runLnBackward(native, m, d, dy, x, g, e.saveMean, e.saveInvStd, wantParams));
            expectClose(ab.dx, eb.dx, gradTol(d), `${ctx} dx params=${wantParams}`);
            if (wantParams) {
              expectClose(ab.dgamma!, eb.dgamma!, reductionTolerance(m), `${ctx} dgamma`);
              expectClose(ab.dbeta!, eb.dbeta!, reductionTolerance(m), `${ctx} dbeta`);
            }
          }
        }
      });
    }
  }
});

describe('norm native: 1 thread vs 2 threads bit-identical', () => {
  it('batchNorm x=[150001,3] train + backward; layerNorm x=[90000,5] backward (dgamma over M)', () => {
    const native = nativeBackend();
    const rng = new Rng(7);
    const m = 150001;
    const c = 3;
    const x = rng.f32(m * c, -1, 4);
    const dy = rng.f32(m * c);
    const gamma = rng.f32(c);
    const lm = 90000;
    const d = 5;
    const outputs = [1, 2].map((threads) =>
      withNativeConfig({ isa: native.info().isa, threads, label: `x${threads}` }, () => {
        const t = runBnTrain(native, m, c, x, gamma, null, true, rng.f32(2 * c, 1, 1));
        const bw = runBnBackward(native, m, c, dy, x, gamma, t.saveMean, t.saveInvStd, true);
        const l = runLn(native, lm, d, x.subarray(0, lm * d), null, null);
        const lb = runLnBackward(native, lm, d, dy.subarray(0, lm * d), x.subarray(0, lm * d), null, l.saveMean, l.saveInvStd, true);
        return [t.y, t.saveMean, t.saveInvStd, t.runningMean!, t.runningVar!, bw.dx, bw.dgamma!, bw.dbeta!,
          l.y, lb.dx, lb.dgamma!, lb.dbeta!];
      }));
    outputs[0].forEach((one, k) => expectIdentical(outputs[1][k], one, `output ${k}`));
  });
});

// --- finite differences on the reference ------------------------------------------------------------

/**
 * Checks analytic gradients of L = Σ r·y (so dy = r) against central differences of L in float64,
 * perturbing each entry of `param` (x, gamma or beta) by ±h as representable in float32.
 */
function finiteDifferenceCheck(
  forward: () => Float32Array, param: Float32Array, r: Float32Array, analytic: Float32Array, label: string,
): void {
  const loss = () => forward().reduce((s, y, i) => s + y * r[i], 0);
  expectClose(analytic, numericGradient(param, loss, 1e-2), { atol: 2e-3, rtol: 1e-2 }, label);
}

describe('norm backward: finite differences on the reference', () => {
  it('batchNormBackward x=[6,3] with gamma: dx, dgamma, dbeta', () => {
    const rng = new Rng(55);
    const [m, c] = [6, 3];
    const x = rng.f32(m * c, -1, 1);
    const gamma = rng.f32(c, 0.5, 1.5);
    const beta = rng.f32(c);
    const r = rng.f32(m * c);
    const forward = () => runBnTrain(ref, m, c, x, gamma, beta, false, new Float32Array(0)).y;
    const saved = runBnTrain(ref, m, c, x, gamma, beta, false, new Float32Array(0));
    const g = runBnBackward(ref, m, c, r, x, gamma, saved.saveMean, saved.saveInvStd, true);
    finiteDifferenceCheck(forward, x, r, g.dx, 'dx');
    finiteDifferenceCheck(forward, gamma, r, g.dgamma!, 'dgamma');
    finiteDifferenceCheck(forward, beta, r, g.dbeta!, 'dbeta');
  });

  it('layerNormBackward x=[3,7] with gamma: dx, dgamma, dbeta', () => {
    const rng = new Rng(56);
    const [m, d] = [3, 7];
    const x = rng.f32(m * d, -1, 1);
    const gamma = rng.f32(d, 0.5, 1.5);
    const beta = rng.f32(d);
    const r = rng.f32(m * d);
    const forward = () => runLn(ref, m, d, x, gamma, beta).y;
    const saved = runLn(ref, m, d, x, gamma, beta);
    const g = runLnBackward(ref, m, d, r, x, gamma, saved.saveMean, saved.saveInvStd, true);
    finiteDifferenceCheck(forward, x, r, g.dx, 'dx');
    finiteDifferenceCheck(forward, gamma, r, g.dgamma!, 'dgamma');
    finiteDifferenceCheck(forward, beta, r, g.dbeta!, 'dbeta');
  });
});

// --- bad input ---------------------------------------------------------------------------------------

type ErrorClass = typeof TypeError | typeof RangeError;

describe.each([
  ['reference', () => referenceBackend],
  ['native', () => nativeBackend()],
] as const)('norm bad input (%s)', (_name, getBackend) => {
  // Untyped view of the backend so that wrong-typed JS arguments can be passed on purpose.
  const loose = () => getBackend() as unknown as Record<string, (...args: unknown[]) => void>;
  const F = (n: number) => new Float32Array(n);
  const good = {
    train: () => [4, 2, 1e-5, 0.1, F(8), F(2), F(2), F(2), F(2), F(8), F(2), F(2)],
    inference: () => [4, 2, 1e-5, F(8), null, null, F(2), F(2), F(8)],
    backward: () => [4, 2, F(8), F(2), F(2), F(8), F(8), null, F(2), F(2)],
    ln: () => [4, 2, 1e-5, F(8), null, null, F(8), F(4), F(4)],
    lnBackward: () => [4, 2, F(8), null, null, F(8), F(8), F(2), F(4), F(4)],
  };
  const cases: [string, string, keyof typeof good, (a: unknown[]) => void, ErrorClass][] = [
    ['x wrong length', 'batchNormTrain', 'train', (a) => { a[4] = F(7); }, RangeError],
    ['x Float64Array', 'batchNormTrain', 'train', (a) => { a[4] = new Float64Array(8); }, TypeError],
    ['x plain array', 'batchNormTrain', 'train', (a) => { a[4] = [1, 2, 3, 4, 5, 6, 7, 8]; }, TypeError],
    ['y null', 'batchNormTrain', 'train', (a) => { a[9] = null; }, TypeError],
    ['gamma wrong length', 'batchNormTrain', 'train', (a) => { a[5] = F(3); }, RangeError],
    ['runningVar wrong length', 'batchNormTrain', 'train', (a) => { a[8] = F(1); }, RangeError],
    ['only runningMean', 'batchNormTrain', 'train', (a) => { a[8] = null; }, TypeError],
    ['m=0', 'batchNormTrain', 'train', (a) => { a[0] = 0; }, RangeError],
    ['c=-1', 'batchNormTrain', 'train', (a) => { a[1] = -1; }, RangeError],
    ['m=2.5', 'batchNormTrain', 'train', (a) => { a[0] = 2.5; }, RangeError],
    ['m=NaN', 'batchNormTrain', 'train', (a) => { a[0] = NaN; }, RangeError],
    ['eps=0', 'batchNormTrain', 'train', (a) => { a[2] = 0; }, RangeError],
    ['eps=-1e-5', 'batchNormTrain', 'train', (a) => { a[2] = -1e-5; }, RangeError],
    ['eps=NaN', 'batchNormTrain', 'train', (a) => { a[2] = NaN; }, RangeError],
    ['eps string', 'batchNormTrain', 'train', (a) => { a[2] = '1e-5'; }, TypeError],
    ['momentum=1.5', 'batchNormTrain', 'train', (a) => { a[3] = 1.5; }, RangeError],
    ['momentum=NaN', 'batchNormTrain', 'train', (a) => { a[3] = NaN; }, RangeError],
    ['m=1 with running stats', 'batchNormTrain', 'train',
      (a) => { a[0] = 1; a[4] = F(2); a[9] = F(2); }, RangeError],
    ['huge m*c', 'batchNormTrain', 'train', (a) => { a[0] = 2 ** 31 - 1; a[1] = 2 ** 31 - 1; }, RangeError],
    ['runningMean missing', 'batchNormInference', 'inference', (a) => { a[6] = null; }, TypeError],
    ['eps=Infinity', 'batchNormInference', 'inference', (a) => { a[2] = Infinity; }, RangeError],
    ['y wrong length', 'batchNormInference', 'inference', (a) => { a[8] = F(9); }, RangeError],
    ['saveInvStd wrong length', 'batchNormBackward', 'backward', (a) => { a[9] = F(8); }, RangeError],
    ['dy Int32Array', 'batchNormBackward', 'backward', (a) => { a[5] = new Int32Array(8); }, TypeError],
    ['huge m*c', 'batchNormBackward', 'backward', (a) => { a[0] = 2 ** 30; a[1] = 64; }, RangeError],
    ['saveMean per column instead of per row', 'layerNorm', 'ln', (a) => { a[7] = F(2); }, RangeError],
    ['d=0', 'layerNorm', 'ln', (a) => { a[1] = 0; }, RangeError],
    ['eps=-1', 'layerNorm', 'ln', (a) => { a[2] = -1; }, RangeError],
    ['huge m*d', 'layerNorm', 'ln', (a) => { a[0] = 2 ** 31 - 1; a[1] = 3; }, RangeError],
    ['dgamma wrong length', 'layerNormBackward', 'lnBackward', (a) => { a[3] = F(4); }, RangeError],
    ['x undefined', 'layerNormBackward', 'lnBackward', (a) => { a[6] = undefined; }, TypeError],
  ];
  for (const [label, op, base, mutate, cls] of cases) {
    it(`${op}: ${label} -> ${cls.name}`, () => {
      const args = good[base]();
      mutate(args);
      expectKernelError(() => loose()[op](...args), cls, op, label);
    });
  }

  it('keeps working after bad input: valid calls still succeed', () => {
    for (const [op, base] of [['batchNormTrain', 'train'], ['batchNormInference', 'inference'],
      ['batchNormBackward', 'backward'], ['layerNorm', 'ln'], ['layerNormBackward', 'lnBackward']] as const) {
      expect(() => loose()[op](...good[base]())).not.toThrow();
    }
  });
});
