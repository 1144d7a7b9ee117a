// Optimizers against the documented update formulas (PyTorch), recomputed here in float64: a few
// steps on fixed parameters with a different fixed gradient at each step.
import { describe, expect, test, vi } from 'vitest';
import { Tensor } from '../../lib/tensor.js';
import { Adagrad, Adam, AdamW, RMSprop, SGD } from '../../lib/optim/index.js';
import type { Optimizer } from '../../lib/optim/optimizer.js';
import { referenceBackend } from '../../lib/backend/reference/index.js';
import { BACKENDS, onBackend } from '../helpers/gradcheck.js';
import { Rng } from '../helpers/parity.js';
import { nativeAddon } from '../../lib/backend/index.js';

type Vec = number[];
/** A float64 model of one optimizer: updates w in place given g and the 1-based step t. */
type Model = (w: Vec, g: Vec, t: number) => void;

const STEPS = 4;

function fixture(seed: number) {
  const rng = new Rng(seed);
  const shapes = [[2, 3], [4]];
  const init = shapes.map((s) => Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => rng.uniform(-1, 1)));
  // grads[step][param]
  const grads = Array.from({ length: STEPS }, () => init.map((p) => p.map(() => rng.uniform(-1, 1))));
  return { shapes, init, grads };
}

/** Runs the optimizer STEPS times and the float64 model alongside; compares every value after each step. */
function check(make: (params: Tensor[]) => Optimizer<{ lr: number }>, model: () => Model, seed = 1) {
  const { shapes, init, grads } = fixture(seed);
  const params = shapes.map((s, i) => new Tensor(Float32Array.from(init[i]), s, { requiresGrad: true }));
  const opt = make(params);
  // Model state per parameter (the formulas are elementwise, so each parameter can run separately).
  const models = params.map(() => model());
  const expected = init.map((p) => Array.from(Float32Array.from(p)));
  for (let t = 1; t <= STEPS; t++) {
    params.forEach((p, i) => { p.grad = new Tensor(Float32Array.from(grads[t - 1][i]), p.shape); });
    opt.step();
    params.forEach((p, i) => {
      const g = Array.from(Float32Array.from(grads[t - 1][i]));
      models[i](expected[i], g, t);
      const actual = Array.from(p.data);
      actual.forEach((a, k) => {
        const e = expected[i][k];
        // float32 kernel vs float64 formula: a few ulps of |w| plus the rounding of small updates
        if (Math.abs(a - e) > 2e-6 + 1e-5 * Math.abs(e)) {
          throw new Error(`step ${t}, param ${i}, element ${k}: expected ${e}, got ${a}`);
        }
      });
    });
  }
  return params;
}

function sgdModel(lr: number, momentum = 0, dampening = 0, wd = 0, nesterov = false): () => Model {
  return () => {
    let buf: Vec | null = null;
    return (w, g0, t) => {
      const g = g0.map((gi, i) => gi + wd * w[i]);
      let d = g;
      if (momentum !== 0) {
        buf = t === 1 || buf === null ? [...g] : buf.map((b, i) => momentum * b + (1 - dampening) * g[i]);
        d = nesterov ? g.map((gi, i) => gi + momentum * buf![i]) : buf;
      }
      for (let i = 0; i < w.length; i++) w[i] -= lr * d[i];
    };
  };
}

function adagradModel(lr: number, lrDecay = 0, wd = 0, initAcc = 0, eps = 1e-10): () => Model {
  return () => {
    let sum: Vec | null = null;
    return (w, g0, t) => {
      sum ??= w.map(() => initAcc);
      const g = g0.map((gi, i) => gi + wd * w[i]);
      const clr = lr / (1 + (t - 1) * lrDecay);
      for (let i = 0; i < w.length; i++) {
        sum[i] += g[i] * g[i];
        w[i] -= (clr * g[i]) / (Math.sqrt(sum[i]) + eps);
      }
    };
  };
}

function rmspropModel(lr: number, alpha = 0.99, eps = 1e-8, wd = 0, momentum = 0, centered = false): () => Model {
  return () => {
    let sq: Vec | null = null;
    let ga: Vec | null = null;
    let buf: Vec | null = null;
    return (w, g0) => {
      sq ??= w.map(() => 0);
      ga ??= w.map(() => 0);
      buf ??= w.map(() => 0);
      const g = g0.map((gi, i) => gi + wd * w[i]);
      for (let i = 0; i < w.length; i++) {
        sq[i] = alpha * sq[i] + (1 - alpha) * g[i] * g[i];
        let avg: number;
        if (centered) {
          ga[i] = alpha * ga[i] + (1 - alpha) * g[i];
          avg = Math.sqrt(sq[i] - ga[i] * ga[i]) + eps;
        } else {
          avg = Math.sqrt(sq[i]) + eps;
        }
        if (momentum > 0) {
          buf[i] = momentum * buf[i] + g[i] / avg;
          w[i] -= lr * buf[i];
        } else {
          w[i] -= (lr * g[i]) / avg;
        }
      }
    };
  };
}

function adamModel(lr: number, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0, amsgrad = false, decoupled = false): () => Model {
  return () => {
    let m: Vec | null = null;
    let v: Vec | null = null;
    let vmax: Vec | null = null;
    return (w, g0, t) => {
      m ??= w.map(() => 0);
      v ??= w.map(() => 0);
      vmax ??= w.map(() => 0);
      if (decoupled) for (let i = 0; i < w.length; i++) w[i] *= 1 - lr * wd;
      const g = decoupled ? g0 : g0.map((gi, i) => gi + wd * w[i]);
      const bc1 = 1 - b1 ** t;
      const bc2 = 1 - b2 ** t;
      for (let i = 0; i < w.length; i++) {
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        vmax[i] = Math.max(vmax[i], v[i]);
        const denom = Math.sqrt(amsgrad ? vmax[i] : v[i]) / Math.sqrt(bc2) + eps;
        w[i] -= (lr / bc1) * (m[i] / denom);
      }
    };
  };
}

for (const backend of BACKENDS) {
  describe(`optimizer formulas (${backend})`, () => {
    const run = (name: string, make: (p: Tensor[]) => Optimizer<{ lr: number }>, model: () => Model) =>
      test(name, () => onBackend(backend, () => { check(make, model); }));

    run('SGD lr=0.1', (p) => new SGD(p, { lr: 0.1 }), sgdModel(0.1));
    run('SGD lr=0.05 momentum=0.9 dampening=0.1 weightDecay=0.01',
      (p) => new SGD(p, { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 }), sgdModel(0.05, 0.9, 0.1, 0.01));
    run('SGD nesterov momentum=0.8 weightDecay=0.1',
      (p) => new SGD(p, { lr: 0.1, momentum: 0.8, nesterov: true, weightDecay: 0.1 }), sgdModel(0.1, 0.8, 0, 0.1, true));
    run('Adagrad lr=0.1 lrDecay=0.05 weightDecay=0.01 initialAccumulatorValue=0.1',
      (p) => new Adagrad(p, { lr: 0.1, lrDecay: 0.05, weightDecay: 0.01, initialAccumulatorValue: 0.1 }), adagradModel(0.1, 0.05, 0.01, 0.1));
    run('RMSprop defaults lr=0.01', (p) => new RMSprop(p), rmspropModel(0.01));
    run('RMSprop centered momentum=0.9 weightDecay=0.01 alpha=0.9',
      (p) => new RMSprop(p, { lr: 0.01, alpha: 0.9, centered: true, momentum: 0.9, weightDecay: 0.01 }),
      rmspropModel(0.01, 0.9, 1e-8, 0.01, 0.9, true));
    run('Adam defaults lr=1e-3', (p) => new Adam(p), adamModel(1e-3));
    run('Adam amsgrad weightDecay=0.1 betas=[0.8,0.9] lr=0.01',
      (p) => new Adam(p, { lr: 0.01, betas: [0.8, 0.9], amsgrad: true, weightDecay: 0.1 }), adamModel(0.01, 0.8, 0.9, 1e-8, 0.1, true));
    run('AdamW lr=0.01 weightDecay=0.1', (p) => new AdamW(p, { lr: 0.01, weightDecay: 0.1 }), adamModel(0.01, 0.9, 0.999, 1e-8, 0.1, false, true));
  });
}

describe('optimizer mechanics (reference)', () => {
  test('one fused kernel call per parameter group per step', () => {
    const spy = vi.spyOn(referenceBackend, 'adamUpdate');
    const a = new Tensor(new Float32Array(6).fill(1), [2, 3], { requiresGrad: true });
    const b = new Tensor(new Float32Array(3).fill(1), [3], { requiresGrad: true });
    const c = new Tensor(new Float32Array(2).fill(1), [2], { requiresGrad: true });
    const opt = new Adam([{ params: [a, b] }, { params: [c], lr: 0.1 }]);
    for (const p of [a, b, c]) p.grad = new Tensor(new Float32Array(p.size).fill(0.5), p.shape);
    opt.step();
    expect(spy).toHaveBeenCalledTimes(2);
    expect(spy.mock.calls[0][1].length).toBe(9); // a and b updated together
    expect(spy.mock.calls[1][0].lr).toBe(0.1);
    spy.mockRestore();
  });

  test("each call says where its run's parameters start (paramStarts: the native thread split)", () => {
    const spy = vi.spyOn(referenceBackend, 'sgdUpdate');
    const [a, b, c, d] = [1500, 10, 7, 2000].map((n) => new Tensor(new Float32Array(n).fill(1), [n], { requiresGrad: true }));
    const opt = new SGD([a, b, c, d], { lr: 0.1 });
    b.requiresGrad = false; // frozen: splits the group into two runs, [a] and [c, d]
    for (const p of [a, b, c, d]) p.grad = new Tensor(new Float32Array(p.size).fill(0.5), p.shape);
    opt.step();
    expect(spy).toHaveBeenCalledTimes(2);
    expect(spy.mock.calls[0][0].paramStarts).toEqual([0]);
    // c starts at 1510 (right after b), d at 1520 (1517 rounded up to 16 floats)
    expect(spy.mock.calls[1][0].paramStarts).toEqual([0, 10]);
    expect(spy.mock.calls[1][1].length).toBe(2010);
    spy.mockRestore();
  });

  test('parameter data become views of one flat buffer; updates are visible through the tensors', () => {
    const a = new Tensor(Float32Array.of(1, 2), [2], { requiresGrad: true });
    const b = new Tensor(Float32Array.of(3), [1], { requiresGrad: true });
    const opt = new SGD([a, b], { lr: 1 });
    expect(a.data.buffer).toBe(b.data.buffer);
    a.grad = new Tensor(Float32Array.of(1, 1), [2]);
    b.grad = new Tensor(Float32Array.of(2), [1]);
    opt.step();
    expect(Array.from(a.data)).toEqual([0, 1]);
    expect(Array.from(b.data)).toEqual([1]);
    opt.zeroGrad();
    expect(Array.from(a.grad!.data)).toEqual([0, 0]);
  });

  test('frozen parameters and parameters without a gradient are not updated (bit-identical)', () => {
    const a = new Tensor(Float32Array.of(1, 2), [2], { requiresGrad: true });
    const b = new Tensor(Float32Array.of(3, 4), [2], { requiresGrad: true });
    const c = new Tensor(Float32Array.of(5), [1], { requiresGrad: true });
    const opt = new SGD([a, b, c], { lr: 0.5, momentum: 0.9, weightDecay: 0.1 });
    b.requiresGrad = false;
    for (const p of [a, b]) p.grad = new Tensor(new Float32Array(p.size).fill(1), p.shape);
    opt.step();
    opt.step();
    expect(Array.from(b.data)).toEqual([3, 4]);
    expect(Array.from(c.data)).toEqual([5]);
    expect(a.data[0]).not.toBe(1);
  });

  test('setToNone drops gradients; a fresh gradient is adopted into the flat buffer at the next step', () => {
    const a = new Tensor(Float32Array.of(1, 2), [2], { requiresGrad: true });
    const opt = new SGD([a], { lr: 1 });
    opt.zeroGrad({ setToNone: true });
    expect(a.grad).toBeNull();
    a.grad = new Tensor(Float32Array.of(0.5, 0.25), [2]);
    opt.step();
    expect(Array.from(a.data)).toEqual([0.5, 1.75]);
  });

  test('stateDict/loadStateDict: a restored optimizer continues exactly like the original', () => {
    const mk = () => [new Tensor(Float32Array.of(1, -1, 0.5), [3], { requiresGrad: true })];
    const p1 = mk();
    const p2 = mk();
    const o1 = new Adam(p1, { lr: 0.1 });
    const grad = () => new Tensor(Float32Array.of(0.3, -0.2, 0.1), [3]);
    p1[0].grad = grad();
    o1.step();
    o1.step();
    const saved = o1.stateDict();
    p2[0].data.set(p1[0].data);
    const o2 = new Adam(p2, { lr: 0.5 });
    o2.loadStateDict(saved);
    expect(o2.paramGroups[0].lr).toBe(0.1);
    p2[0].grad = grad();
    o1.step();
    o2.step();
    expect(Array.from(p2[0].data)).toEqual(Array.from(p1[0].data));
  });

  test('parameters of 1024 floats or more start on 16-float boundaries of the flat buffers; the padding stays zero and out of state dicts', () => {
    const rng = new Rng(31);
    const sizes = [10, 1500, 7, 2000, 3];
    const values = sizes.map((n) => rng.f32(n));
    const grads = [0, 1, 2].map(() => sizes.map((n) => rng.f32(n)));
    const makers = [
      (ps: Tensor[]) => new Adam(ps, { lr: 0.01, weightDecay: 0.1 }),
      (ps: Tensor[]) => new SGD(ps, { lr: 0.1, momentum: 0.9, nesterov: true }),
      (ps: Tensor[]) => new Adagrad(ps, { lr: 0.1, initialAccumulatorValue: 0.5 }),
      (ps: Tensor[]) => new RMSprop(ps, { lr: 0.01, momentum: 0.5, centered: true }),
    ];
    for (const make of makers) {
      const params = values.map((v) => new Tensor(v.slice(), [v.length], { requiresGrad: true }));
      const opt = make(params);
      const flat = params[0].data;
      const starts = params.map((p) => (p.data.byteOffset - flat.byteOffset) / 4);
      expect(starts).toEqual([0, 16, 1516, 1536, 3536]); // 10 | pad to 16 | 1500 | 7 | pad to 1536 | 2000 | 3
      const addon = nativeAddon();
      if (addon !== undefined) expect((flat.byteOffset - addon.alignOffset(flat.buffer as ArrayBuffer)) % 64).toBe(0);
      params.forEach((p, i) => expect(p.data).toEqual(values[i]));
      // The same parameters each in an optimizer of its own (no padding next to them) take the same steps.
      const alone = values.map((v) => new Tensor(v.slice(), [v.length], { requiresGrad: true }));
      const singles = alone.map((p) => make([p]));
      for (const stepGrads of grads) {
        params.forEach((p, i) => { p.grad = new Tensor(stepGrads[i].slice(), p.shape); });
        alone.forEach((p, i) => { p.grad = new Tensor(stepGrads[i].slice(), p.shape); });
        opt.step();
        singles.forEach((o) => o.step());
      }
      alone.forEach((p, i) => expect(params[i].data).toEqual(p.data));
      const whole = new Float32Array(flat.buffer, flat.byteOffset, 3539);
      expect([...whole.subarray(10, 16), ...whole.subarray(1523, 1536)]).toEqual(new Array(19).fill(0));
      const sd = opt.stateDict();
      for (const buf of Object.values(sd.state[0].buffers)) expect(buf.length).toBe(3520); // the parameters back to back
      expect(sd.paramGroups[0].paramSizes).toEqual(sizes);
      // Restored into a fresh optimizer, the next step matches.
      const copies = params.map((p) => new Tensor(p.data.slice(), p.shape, { requiresGrad: true }));
      const restored = make(copies);
      restored.loadStateDict(sd);
      params.forEach((p, i) => { p.grad = new Tensor(grads[0][i].slice(), p.shape); });
      copies.forEach((p, i) => { p.grad = new Tensor(grads[0][i].slice(), p.shape); });
      opt.step();
      restored.step();
      copies.forEach((p, i) => expect(p.data).toEqual(params[i].data));
    }
  });

  test('loadStateDict rejects a mismatched layout', () => {
    const o1 = new SGD([new Tensor(new Float32Array(3), [3], { requiresGrad: true })], { lr: 0.1 });
    const o2 = new SGD([new Tensor(new Float32Array(4), [4], { requiresGrad: true })], { lr: 0.1 });
    expect(() => o2.loadStateDict(o1.stateDict())).toThrow(/SGD.loadStateDict: group 0 has parameter sizes \[4\], the state dict \[3\]/);
  });

  test('bad hyperparameters name the optimizer, the field and the value', () => {
    const p = [new Tensor(new Float32Array(1), [1], { requiresGrad: true })];
    expect(() => new SGD(p, { lr: -1 })).toThrow(/SGD: lr must be >= 0, got -1/);
    expect(() => new SGD(p, { nesterov: true })).toThrow(/SGD: nesterov needs momentum > 0/);
    expect(() => new Adam(p, { betas: [0.9, 1] })).toThrow(/Adam: betas\[1\] must be in \[0, 1\), got 1/);
    expect(() => new RMSprop(p, { alpha: 2 })).toThrow(/RMSprop: alpha must be in \[0, 1\], got 2/);
    expect(() => new Adagrad([])).toThrow(/Adagrad: params must be a non-empty array/);
    expect(() => new SGD([p[0], p[0]])).toThrow(/appears in more than one place/);
  });
});
