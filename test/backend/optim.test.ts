// Fused optimizer updates on both backends: single steps against closed forms written from PyTorch's
// documented formulas (float64, in this file), five-step sequences with changing gradients that must
// agree between backends for every option combination, thread bit-identity, and bad input.
import { describe, expect, it } from 'vitest';
import type { AdagradArgs, AdamArgs, Backend, RmspropArgs, SgdArgs } from '../../lib/backend/backend.js';
import {
  expectClose, expectIdentical, nativeBackend, nativeConfigs, referenceBackend, Rng, withNativeConfig,
} from '../helpers/parity.js';

const ref = referenceBackend;
const f32 = (values: number[]) => new Float32Array(values);
const exact = { atol: 1e-7, rtol: 1e-6 };

const W = [1, -2, 0.5, 3];
const G = [0.5, -4, 1e-3, -0.75];

describe('optimizer reference: one or two steps against closed forms', () => {
  it('adam step 1 (beta1=0.8, beta2=0.99): w1 = w - lr·g/(|g|+eps)', () => {
    const w = f32(W);
    const args: AdamArgs = { lr: 0.1, beta1: 0.8, beta2: 0.99, eps: 1e-8, weightDecay: 0, decoupledWeightDecay: false, amsgrad: false, step: 1 };
    ref.adamUpdate(args, w, f32(G), new Float32Array(4), new Float32Array(4), null);
    expectClose(w, W.map((wi, i) => wi - (0.1 * G[i]) / (Math.abs(G[i]) + 1e-8)), exact, 'w1');
  });

  it('adamW step 1 wd=0.5: w1 = w·(1 - lr·wd) - lr·g/(|g|+eps); adam L2 step 1 uses g + wd·w', () => {
    const w = f32(W);
    const base = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.5, amsgrad: false, step: 1 };
    ref.adamUpdate({ ...base, decoupledWeightDecay: true }, w, f32(G), new Float32Array(4), new Float32Array(4), null);
    expectClose(w, W.map((wi, i) => wi * (1 - 0.05) - (0.1 * G[i]) / (Math.abs(G[i]) + 1e-8)), exact, 'adamW');
    const w2 = f32(W);
    ref.adamUpdate({ ...base, decoupledWeightDecay: false }, w2, f32(G), new Float32Array(4), new Float32Array(4), null);
    const gl2 = W.map((wi, i) => G[i] + 0.5 * wi);
    expectClose(w2, W.map((wi, i) => wi - (0.1 * gl2[i]) / (Math.abs(gl2[i]) + 1e-8)), exact, 'adam L2');
  });

  it('adam steps 1,2 with amsgrad: step 2 uses max(v1, v2) with bias corrections 1-b^2', () => {
    const [b1, b2, lr, eps] = [0.9, 0.999, 0.01, 1e-8];
    const g1 = 2;
    const g2 = 0.1; // smaller: v2 < v1, so the max keeps v1
    const w = f32([1]);
    const m = new Float32Array(1);
    const v = new Float32Array(1);
    const vMax = new Float32Array(1);
    const args = (step: number): AdamArgs => ({ lr, beta1: b1, beta2: b2, eps, weightDecay: 0, decoupledWeightDecay: false, amsgrad: true, step });
    ref.adamUpdate(args(1), w, f32([g1]), m, v, vMax);
    ref.adamUpdate(args(2), w, f32([g2]), m, v, vMax);
    const m2 = b1 * (1 - b1) * g1 + (1 - b1) * g2;
    const v1 = (1 - b2) * g1 * g1;
    const v2 = b2 * v1 + (1 - b2) * g2 * g2;
    const w1 = 1 - lr * Math.sign(g1);
    const w2 = w1 - ((lr / (1 - b1 ** 2)) * m2) / (Math.sqrt(Math.max(v1, v2)) / Math.sqrt(1 - b2 ** 2) + eps);
    expectClose(w, [w2], exact, 'w2');
    expectClose(vMax, [Math.max(v1, v2)], exact, 'vMax');
    expectClose(v, [v2], exact, 'v');
  });

  it('sgd momentum=0.9 dampening=0.5: step 1 buf=g, step 2 buf=0.9·g1 + 0.5·g2; nesterov adds momentum·buf', () => {
    const [lr, mu] = [0.1, 0.9];
    const g1 = [0.5, -1];
    const g2 = [0.25, 2];
    const w = f32([1, 1]);
    const buf = new Float32Array(2);
    const args: SgdArgs = { lr, momentum: mu, dampening: 0.5, nesterov: false, weightDecay: 0, firstStep: true };
    ref.sgdUpdate(args, w, f32(g1), buf);
    ref.sgdUpdate({ ...args, firstStep: false }, w, f32(g2), buf);
    const b2 = g1.map((g, i) => mu * g + 0.5 * g2[i]);
    expectClose(buf, b2, exact, 'buf');
    expectClose(w, g1.map((g, i) => 1 - lr * g - lr * b2[i]), exact, 'w');

    const wn = f32([1, 1]);
    const bn = new Float32Array(2);
    const nest: SgdArgs = { lr, momentum: mu, dampening: 0, nesterov: true, weightDecay: 0.1, firstStep: true };
    ref.sgdUpdate(nest, wn, f32(g1), bn);
    // g' = g + wd·w = g + 0.1; buf = g'; update uses g' + mu·buf = (1 + mu)·g'
    expectClose(wn, g1.map((g) => 1 - lr * (1 + mu) * (g + 0.1)), exact, 'nesterov w');
  });

  it('adagrad lrDecay=0.5 step 3 from sum=1: w -= lr/(1+2·0.5)·g/(sqrt(1+g²)+eps)', () => {
    const w = f32(W);
    const sum = new Float32Array(4).fill(1);
    ref.adagradUpdate({ lr: 0.2, lrDecay: 0.5, weightDecay: 0, eps: 1e-10, step: 3 }, w, f32(G), sum);
    expectClose(sum, G.map((g) => 1 + g * g), exact, 'sumSq');
    expectClose(w, W.map((wi, i) => wi - (0.1 * G[i]) / (Math.sqrt(1 + G[i] ** 2) + 1e-10)), exact, 'w');
  });

  it('rmsprop step 1 alpha=0.9: plain w -= lr·g/(sqrt(0.1)|g|+eps); centered uses sqrt(0.09)|g|', () => {
    const args: RmspropArgs = { lr: 0.01, alpha: 0.9, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false };
    const w = f32(W);
    ref.rmspropUpdate(args, w, f32(G), new Float32Array(4), null, null);
    expectClose(w, W.map((wi, i) => wi - (0.01 * G[i]) / (Math.sqrt(0.1) * Math.abs(G[i]) + 1e-8)), exact, 'plain');
    const wc = f32(W);
    const ga = new Float32Array(4);
    ref.rmspropUpdate({ ...args, centered: true }, wc, f32(G), new Float32Array(4), ga, null);
    // sq - ga² = 0.1·g² - 0.01·g² = 0.09·g²
    expectClose(wc, W.map((wi, i) => wi - (0.01 * G[i]) / (0.3 * Math.abs(G[i]) + 1e-8)), exact, 'centered');
    expectClose(ga, G.map((g) => 0.1 * g), exact, 'gradAvg');
    // momentum 0.5, two identical steps: buf1 = g/a1, buf2 = 0.5·buf1 + g/a2 with a2 = sqrt(0.19)|g| + eps
    const wm = f32([1]);
    const sq = new Float32Array(1);
    const buf = new Float32Array(1);
    const mom = { ...args, momentum: 0.5 };
    ref.rmspropUpdate(mom, wm, f32([2]), sq, null, buf);
    ref.rmspropUpdate(mom, wm, f32([2]), sq, null, buf);
    const buf1 = 2 / (Math.sqrt(0.1) * 2 + 1e-8);
    const buf2 = 0.5 * buf1 + 2 / (Math.sqrt(0.19) * 2 + 1e-8);
    expectClose(wm, [1 - 0.01 * buf1 - 0.01 * buf2], exact, 'momentum w');
  });
});

// --- multi-step parity ---------------------------------------------------------------------------------

type Kind = 'sgd' | 'adagrad' | 'rmsprop' | 'adam';
interface Combo { kind: Kind; label: string; args: (step: number) => SgdArgs | AdagradArgs | RmspropArgs | AdamArgs }

function combos(): Combo[] {
  const out: Combo[] = [];
  for (const momentum of [0, 0.9]) {
    for (const dampening of [0, 0.5]) {
      for (const nesterov of momentum > 0 && dampening === 0 ? [false, true] : [false]) {
        for (const weightDecay of [0, 0.01]) {
          out.push({
            kind: 'sgd', label: `sgd momentum=${momentum} dampening=${dampening} nesterov=${nesterov} wd=${weightDecay}`,
            args: (step) => ({ lr: 0.05, momentum, dampening, nesterov, weightDecay, firstStep: step === 1 }),
          });
        }
      }
    }
  }
  for (const lrDecay of [0, 0.1]) {
    for (const weightDecay of [0, 0.01]) {
      out.push({
        kind: 'adagrad', label: `adagrad lrDecay=${lrDecay} wd=${weightDecay}`,
        args: (step) => ({ lr: 0.1, lrDecay, weightDecay, eps: 1e-10, step }),
      });
    }
  }
  for (const centered of [false, true]) {
    for (const momentum of [0, 0.9]) {
      for (const weightDecay of [0, 0.01]) {
        out.push({
          kind: 'rmsprop', label: `rmsprop centered=${centered} momentum=${momentum} wd=${weightDecay}`,
          args: () => ({ lr: 0.01, alpha: 0.99, eps: 1e-8, weightDecay, momentum, centered }),
        });
      }
    }
  }
  for (const amsgrad of [false, true]) {
    for (const decoupledWeightDecay of [false, true]) {
      for (const weightDecay of [0, 0.05]) {
        out.push({
          kind: 'adam', label: `adam amsgrad=${amsgrad} decoupled=${decoupledWeightDecay} wd=${weightDecay}`,
          args: (step) => ({ lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay, decoupledWeightDecay, amsgrad, step }),
        });
      }
    }
  }
  return out;
}

/** Runs five steps (gradients change every step) and returns w and every state buffer. */
function runSteps(b: Backend, combo: Combo, w0: Float32Array, grads: Float32Array[], paramStarts?: number[]): Float32Array[] {
  const n = w0.length;
  const w = w0.slice();
  const s = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
  grads.forEach((g, k) => {
    const step = k + 1;
    const a = paramStarts === undefined ? combo.args(step) : { ...combo.args(step), paramStarts };
    if (combo.kind === 'sgd') {
      const sa = a as SgdArgs;
      b.sgdUpdate(sa, w, g, sa.momentum !== 0 ? s[0] : null);
    } else if (combo.kind === 'adagrad') {
      b.adagradUpdate(a as AdagradArgs, w, g, s[0]);
    } else if (combo.kind === 'rmsprop') {
      const ra = a as RmspropArgs;
      b.rmspropUpdate(ra, w, g, s[0], ra.centered ? s[1] : null, ra.momentum !== 0 ? s[2] : null);
    } else {
      const aa = a as AdamArgs;
      b.adamUpdate(aa, w, g, s[0], s[1], aa.amsgrad ? s[2] : null);
    }
  });
  return [w, ...s];
}

function gradientSequence(rng: Rng, n: number): Float32Array[] {
  // Shrinking later gradients make v decrease, so amsgrad's max matters.
  return [1, 1, 0.3, 0.1, 0.5].map((scale) => rng.f32(n, -scale, scale));
}

describe('optimizer parity: five steps, native vs reference, every option combination', () => {
  const native = nativeBackend();
  const rng = new Rng(77);
  const sizes = [1, 37, rng.int(1000, 3000) | 1, 40001];
  for (const cfg of nativeConfigs()) {
    for (const combo of combos()) {
      it(`${combo.label} n=${sizes.join('|')} ${cfg.label}`, () => {
        for (const n of sizes) {
          const w0 = rng.f32(n, -2, 2);
          const grads = gradientSequence(rng, n);
          const e = runSteps(ref, combo, w0, grads);
          const a = withNativeConfig(cfg, () => runSteps(native, combo, w0, grads));
          // RMSprop: both backends compute in double and round at the same stores; the tolerance leaves
          // room for platforms where the compiler contracts a*b+c into an FMA.
          // SGD, Adagrad and Adam compute each element in float32 natively. Bound: the state (buf, sum,
          // m, v) and the step u carry a few float roundings (~6 · 2^-24 ≈ 4e-7 relative, inside
          // rtol); |u| <= ~0.1 (lr·|g| for SGD, clr·|g|/sqrt(sum) for Adagrad, lr·|m̂/sqrt(v̂)| for
          // Adam) adds <= 4e-8 absolute to w per step, and w (|w| <= 2, ulp 2.4e-7) may round to
          // the other neighbour of the double result each step: 5 steps · (2.4e-7 + 4e-8) ≈ 1.4e-6
          // < atol 2e-6. Measured: passes unchanged, so the tolerance stays as it was.
          ['w', 'state0', 'state1', 'state2'].forEach((name, k) =>
            expectClose(a[k], e[k], { atol: 2e-6, rtol: 2e-5 }, `${combo.label} n=${n} ${cfg.label} ${name}`));
        }
      });
    }
  }

  it('native 1 vs 2 threads bit-identical, every optimizer, n=100003, with and without paramStarts', () => {
    const n = 100003;
    const w0 = rng.f32(n);
    const grads = gradientSequence(rng, n);
    // Parameters of 3, 1027, 1024, 57 and 97892 floats: the 2-thread split by parameter shares.
    const paramStarts = [0, 3, 1030, 2054, 2111];
    for (const combo of combos()) {
      const x = (threads: number) => ({ isa: native.info().isa, threads, label: `x${threads}` });
      const one = withNativeConfig(x(1), () => runSteps(native, combo, w0, grads));
      const two = withNativeConfig(x(2), () => runSteps(native, combo, w0, grads));
      const shared = withNativeConfig(x(2), () => runSteps(native, combo, w0, grads, paramStarts));
      one.forEach((buf, k) => {
        expectIdentical(two[k], buf, `${combo.label} buffer ${k}`);
        expectIdentical(shared[k], buf, `${combo.label} buffer ${k}, paramStarts [${paramStarts.join(',')}]`);
      });
    }
  });
});

// --- bad input -----------------------------------------------------------------------------------------

type ErrorClass = typeof TypeError | typeof RangeError;

describe.each([
  ['reference', () => referenceBackend],
  ['native', () => nativeBackend()],
] as const)('optimizer bad input (%s)', (_name, getBackend) => {
  const loose = () => getBackend() as unknown as Record<string, (...args: unknown[]) => void>;
  const F = (n: number) => new Float32Array(n);
  const good: Record<string, () => unknown[]> = {
    sgdUpdate: () => [{ lr: 0.1, momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 0, firstStep: true }, F(5), F(5), F(5)],
    adagradUpdate: () => [{ lr: 0.1, lrDecay: 0, weightDecay: 0, eps: 1e-10, step: 1 }, F(5), F(5), F(5)],
    rmspropUpdate: () => [{ lr: 0.01, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0.9, centered: true }, F(5), F(5), F(5), F(5), F(5)],
    adamUpdate: () => [{ lr: 0.001, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupledWeightDecay: false, amsgrad: true, step: 1 }, F(5), F(5), F(5), F(5), F(5)],
  };
  const opt = (a: unknown[]) => a[0] as Record<string, unknown>;
  const cases: [string, string, (a: unknown[]) => void, ErrorClass][] = [
    ['sgdUpdate', 'lr=NaN', (a) => { opt(a).lr = NaN; }, RangeError],
    ['sgdUpdate', 'lr=-1', (a) => { opt(a).lr = -1; }, RangeError],
    ['sgdUpdate', 'lr=Infinity', (a) => { opt(a).lr = Infinity; }, RangeError],
    ['sgdUpdate', 'lr missing', (a) => { delete opt(a).lr; }, TypeError],
    ['sgdUpdate', 'momentum=1.5', (a) => { opt(a).momentum = 1.5; }, RangeError],
    ['sgdUpdate', 'weightDecay=-0.1', (a) => { opt(a).weightDecay = -0.1; }, RangeError],
    ['sgdUpdate', 'nesterov=1 (not boolean)', (a) => { opt(a).nesterov = 1; }, TypeError],
    ['sgdUpdate', 'firstStep missing', (a) => { delete opt(a).firstStep; }, TypeError],
    ['sgdUpdate', 'nesterov with dampening', (a) => { opt(a).dampening = 0.1; }, RangeError],
    ['sgdUpdate', 'nesterov without momentum', (a) => { opt(a).momentum = 0; }, RangeError],
    ['sgdUpdate', 'momentum without momentumBuf', (a) => { a[3] = null; }, TypeError],
    ['sgdUpdate', 'args null', (a) => { a[0] = null; }, TypeError],
    ['sgdUpdate', 'g wrong length', (a) => { a[2] = F(4); }, RangeError],
    ['sgdUpdate', 'w Float64Array', (a) => { a[1] = new Float64Array(5); }, TypeError],
    ['sgdUpdate', 'w empty', (a) => { a[1] = F(0); a[2] = F(0); a[3] = F(0); }, RangeError],
    ['sgdUpdate', 'momentumBuf wrong length', (a) => { a[3] = F(6); }, RangeError],
    ['adagradUpdate', 'eps=0', (a) => { opt(a).eps = 0; }, RangeError],
    ['adagradUpdate', 'eps=-1e-8', (a) => { opt(a).eps = -1e-8; }, RangeError],
    ['adagradUpdate', 'lrDecay=-1', (a) => { opt(a).lrDecay = -1; }, RangeError],
    ['adagradUpdate', 'step=0', (a) => { opt(a).step = 0; }, RangeError],
    ['adagradUpdate', 'step=1.5', (a) => { opt(a).step = 1.5; }, RangeError],
    ['adagradUpdate', 'sumSq null', (a) => { a[3] = null; }, TypeError],
    ['adagradUpdate', 'sumSq plain array', (a) => { a[3] = [0, 0, 0, 0, 0]; }, TypeError],
    ['rmspropUpdate', 'alpha=1.01', (a) => { opt(a).alpha = 1.01; }, RangeError],
    ['rmspropUpdate', 'eps=NaN', (a) => { opt(a).eps = NaN; }, RangeError],
    ['rmspropUpdate', 'momentum=-0.5', (a) => { opt(a).momentum = -0.5; }, RangeError],
    ['rmspropUpdate', "centered='yes'", (a) => { opt(a).centered = 'yes'; }, TypeError],
    ['rmspropUpdate', 'centered without gradAvg', (a) => { a[4] = null; }, TypeError],
    ['rmspropUpdate', 'momentum without momentumBuf', (a) => { a[5] = null; }, TypeError],
    ['rmspropUpdate', 'squareAvg wrong length', (a) => { a[3] = F(3); }, RangeError],
    ['adamUpdate', 'beta1=1', (a) => { opt(a).beta1 = 1; }, RangeError],
    ['adamUpdate', 'beta2=-0.1', (a) => { opt(a).beta2 = -0.1; }, RangeError],
    ['adamUpdate', 'eps=-1', (a) => { opt(a).eps = -1; }, RangeError],
    ['adamUpdate', 'lr=NaN', (a) => { opt(a).lr = NaN; }, RangeError],
    ['adamUpdate', 'step=0', (a) => { opt(a).step = 0; }, RangeError],
    ['adamUpdate', "step='1'", (a) => { opt(a).step = '1'; }, TypeError],
    ['adamUpdate', 'amsgrad=0 (not boolean)', (a) => { opt(a).amsgrad = 0; }, TypeError],
    ['adamUpdate', 'decoupledWeightDecay undefined', (a) => { delete opt(a).decoupledWeightDecay; }, TypeError],
    ['adamUpdate', 'amsgrad without vMax', (a) => { a[5] = null; }, TypeError],
    ['adamUpdate', 'v wrong length', (a) => { a[4] = F(50); }, RangeError],
    ['adamUpdate', 'm Int32Array', (a) => { a[3] = new Int32Array(5); }, TypeError],
    ...Object.keys(good).flatMap((op): [string, string, (a: unknown[]) => void, ErrorClass][] => [
      [op, 'paramStarts a number', (a) => { opt(a).paramStarts = 3; }, TypeError],
      [op, 'paramStarts a Float64Array', (a) => { opt(a).paramStarts = new Float64Array([0, 2]); }, TypeError],
      [op, 'paramStarts [1, 3]: not from 0', (a) => { opt(a).paramStarts = [1, 3]; }, RangeError],
      [op, 'paramStarts [0, 3, 3]: not ascending', (a) => { opt(a).paramStarts = [0, 3, 3]; }, RangeError],
      [op, 'paramStarts [0, 5]: past w (length 5)', (a) => { opt(a).paramStarts = [0, 5]; }, RangeError],
      [op, 'paramStarts [0, 2.5]', (a) => { opt(a).paramStarts = [0, 2.5]; }, RangeError],
      [op, 'paramStarts [0, NaN]', (a) => { opt(a).paramStarts = [0, NaN]; }, RangeError],
      [op, "paramStarts [0, '2']", (a) => { opt(a).paramStarts = [0, '2']; }, TypeError],
    ]),
  ];
  for (const [op, label, mutate, cls] of cases) {
    it(`${op}: ${label} -> ${cls.name}`, () => {
      const args = good[op]();
      mutate(args);
      let err: unknown;
      try {
        loose()[op](...args);
      } catch (e) {
        err = e;
      }
      expect(err, `${label}: nothing thrown`).toBeInstanceOf(cls);
      expect((err as Error).message.startsWith(`${op}:`), (err as Error).message).toBe(true);
    });
  }

  it('keeps working after bad input; an unneeded state buffer may be null', () => {
    for (const op of Object.keys(good)) expect(() => loose()[op](...good[op]())).not.toThrow();
    const w = new Float32Array([1, 2]);
    getBackend().sgdUpdate({ lr: 0.5, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, firstStep: true }, w, new Float32Array([1, 1]), null);
    expect(Array.from(w)).toEqual([0.5, 1.5]);
  });
});

describe('optimizer paramStarts on both backends', () => {
  const F = (n: number) => new Float32Array(n);
  const adam = (paramStarts: unknown) => [
    { lr: 0.001, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupledWeightDecay: false, amsgrad: false, step: 1, paramStarts },
    F(5), F(5), F(5), F(5), null,
  ];
  const call = (b: Backend, args: unknown[]) => {
    try {
      (b as unknown as Record<string, (...a: unknown[]) => void>).adamUpdate(...args);
      return 'ok';
    } catch (e) {
      return `${(e as Error).name}: ${(e as Error).message}`;
    }
  };

  it('the same error, word for word, for each bad layout; valid layouts (and none) accepted', () => {
    const huge: number[] = [0];
    huge.length = 2 ** 32 - 1; // no entries past the first, but a length no w can have
    const layouts: unknown[] = [
      undefined, [], [0], [0, 1, 4], [1], [0, 4, 4], [0, 5], [0, 1.5], [0, -1], [0, Infinity], [0, null],
      [0, , 2], [0, 1, 2, 3, 4, 5], huge,
    ];
    layouts.forEach((layout, i) => {
      const [r, n] = [ref, nativeBackend()].map((b) => call(b, adam(layout)));
      expect(n, `layouts[${i}]: ${r}`).toBe(r);
    });
    expect(call(ref, adam([0, 1, 4]))).toBe('ok');
    expect(call(ref, adam([0, 4, 4]))).toBe('RangeError: adamUpdate: paramStarts[2] must be an integer in [5, 4] (above paramStarts[1], below w.length 5), got 4');
    expect(call(ref, adam([1]))).toBe('RangeError: adamUpdate: paramStarts[0] must be 0, got 1');
    expect(call(ref, adam(huge))).toBe('RangeError: adamUpdate: paramStarts has 4294967295 entries, more than w.length 5');
    expect(call(ref, adam([0, , 2]))).toBe('TypeError: adamUpdate: paramStarts[1] must be a number, got undefined');
  });
});

describe.each([['reference', () => referenceBackend], ['native', nativeBackend]] as const)('optimizer state is stored with subnormals flushed to zero (%s)', (_, get) => {
  // A parameter whose gradient is 0: its state decays geometrically and would pass through the
  // subnormal range (slow on x86); every state buffer holds 0 instead once it would drop below FLT_MIN.
  const justAbove = 1.3e-38; // normal; times 0.9 (or 0.99, 0.999 after a few steps) it is subnormal
  const zero = () => f32([0, 0]);
  const state = () => f32([justAbove, -justAbove]);
  const normal = (a: Float32Array) => Array.from(a).map((v) => (Math.abs(v) >= 1.1754943508222875e-38 || v === 0 ? 'ok' : `subnormal ${v}`));

  it('adam / amsgrad: m, v and vMax', () => {
    const m = state();
    const v = state().map(Math.abs);
    const vMax = state().map(Math.abs);
    for (let step = 1; step <= 40; step++) {
      get().adamUpdate({ lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupledWeightDecay: false, amsgrad: true, step }, f32([1, 2]), zero(), m, v, vMax);
      for (const buf of [m, v, vMax]) expect(normal(buf)).toEqual(['ok', 'ok']);
    }
    expect(Array.from(m)).toEqual([0, 0]);
  });

  it('sgd momentum buffer', () => {
    const buf = state();
    get().sgdUpdate({ lr: 0.1, momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 0, firstStep: false }, f32([1, 2]), zero(), buf);
    expect(Array.from(buf)).toEqual([0, 0]);
  });

  it('rmsprop square and gradient averages and momentum', () => {
    const sq = state().map(Math.abs);
    const ga = state();
    const buf = state();
    for (let i = 0; i < 30; i++) {
      get().rmspropUpdate({ lr: 0.01, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0.5, centered: true }, f32([1, 2]), zero(), sq, ga, buf);
      for (const b of [sq, ga, buf]) expect(normal(b)).toEqual(['ok', 'ok']);
    }
    expect(Array.from(ga)).toEqual([0, 0]);
  });
});
