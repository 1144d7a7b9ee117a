// Losses: values against the formulas (computed here in float64) and finite-difference gradients,
// on both backends.
import { describe, expect, test } from 'vitest';
import * as losses from '../../lib/losses/index.js';
import { tensor } from '../../lib/ops/creation.js';
import { Tensor } from '../../lib/tensor.js';
import { BACKENDS, gradcheck, onBackend, randTensor } from '../helpers/gradcheck.js';
import { Rng } from '../helpers/parity.js';

const x = [0.2, -1.5, 3, 0.7];
const y = [0.5, -1, 0, 0.7];

function mean(a: number[]) {
  return a.reduce((s, v) => s + v, 0) / a.length;
}

for (const backend of BACKENDS) {
  describe(`loss values (${backend})`, () => {
    const run = (name: string, fn: () => void) => test(name, () => onBackend(backend, fn));
    const t = (v: number[]) => tensor(v);

    run('mse mean/sum/none', () => {
      const d = x.map((v, i) => (v - y[i]) ** 2);
      expect(losses.mse(t(x), t(y)).item()).toBeCloseTo(mean(d), 6);
      expect(losses.mse(t(x), t(y), { reduction: 'sum' }).item()).toBeCloseTo(d.reduce((a, b) => a + b), 5);
      const none = losses.mse(t(x), t(y), { reduction: 'none' });
      expect(none.shape).toEqual([4]);
      Array.from(none.data).forEach((v, i) => expect(v).toBeCloseTo(d[i], 6));
    });

    run('l1', () => {
      expect(losses.l1(t(x), t(y)).item()).toBeCloseTo(mean(x.map((v, i) => Math.abs(v - y[i]))), 6);
    });

    run('huber delta=1 and delta=0.5', () => {
      for (const delta of [1, 0.5]) {
        const h = x.map((v, i) => {
          const a = Math.abs(v - y[i]);
          return a < delta ? 0.5 * a * a : delta * (a - 0.5 * delta);
        });
        expect(losses.huber(t(x), t(y), { delta }).item()).toBeCloseTo(mean(h), 6);
      }
    });

    run('binaryCrossEntropy on probabilities, log clamped at -100', () => {
      const p = [0.1, 0.8, 0.5, 0.999];
      const q = [0, 1, 1, 0];
      const expected = mean(p.map((v, i) => -(q[i] * Math.log(v) + (1 - q[i]) * Math.log(1 - v))));
      expect(losses.binaryCrossEntropy(t(p), t(q)).item()).toBeCloseTo(expected, 5);
      // p = 0 with target 1: -max(log 0, -100) = 100
      expect(losses.binaryCrossEntropy(t([0]), t([1])).item()).toBeCloseTo(100, 4);
      expect(() => losses.binaryCrossEntropy(t([1.5]), t([1]))).toThrow(/binaryCrossEntropy: input must hold probabilities in \[0, 1\], got 1.5/);
    });

    run('binaryCrossEntropyWithLogits equals BCE(sigmoid(x)), stable for large |x|, posWeight', () => {
      const q = [1, 0, 1, 0];
      const sig = (v: number) => 1 / (1 + Math.exp(-v));
      const expected = mean(x.map((v, i) => -(q[i] * Math.log(sig(v)) + (1 - q[i]) * Math.log(1 - sig(v)))));
      expect(losses.binaryCrossEntropyWithLogits(t(x), t(q)).item()).toBeCloseTo(expected, 5);
      expect(losses.binaryCrossEntropyWithLogits(t([100]), t([0])).item()).toBeCloseTo(100, 3);
      const pw = 3;
      const weighted = mean(x.map((v, i) => -(pw * q[i] * Math.log(sig(v)) + (1 - q[i]) * Math.log(1 - sig(v)))));
      expect(losses.binaryCrossEntropyWithLogits(t(x), t(q), { posWeight: tensor([pw]) }).item()).toBeCloseTo(weighted, 5);
    });

    const logits = [[1, 2, 0.5], [-1, 0, 3]];
    const lse = (r: number[]) => Math.log(r.reduce((s, v) => s + Math.exp(v), 0));
    run('crossEntropy with class indices, label smoothing and probability targets', () => {
      const cls = tensor(new Int32Array([1, 2]));
      const plain = mean(logits.map((r, i) => lse(r) - r[[1, 2][i]]));
      expect(losses.crossEntropy(tensor(logits), cls).item()).toBeCloseTo(plain, 5);
      const s = 0.1;
      const smoothed = mean(logits.map((r, i) => {
        const target = r.map((_, j) => (1 - s) * (j === [1, 2][i] ? 1 : 0) + s / 3);
        return target.reduce((acc, tj, j) => acc + tj * (lse(r) - r[j]), 0);
      }));
      expect(losses.crossEntropy(tensor(logits), cls, { labelSmoothing: s }).item()).toBeCloseTo(smoothed, 5);
      const probs = [[0.2, 0.5, 0.3], [0, 0, 1]];
      const soft = mean(logits.map((r, i) => probs[i].reduce((acc, tj, j) => acc + tj * (lse(r) - r[j]), 0)));
      expect(losses.crossEntropy(tensor(logits), tensor(probs)).item()).toBeCloseTo(soft, 5);
      expect(() => losses.crossEntropy(tensor(logits), tensor(new Int32Array([0, 3])))).toThrow(/crossEntropy: target class 3 at row 1 is out of range \[0, 3\)/);
    });

    run('crossEntropy reductions: none keeps the rows, mean and sum reduce them; a bad one is named', () => {
      const cls = tensor(new Int32Array([1, 2]));
      const rows = logits.map((r, i) => lse(r) - r[[1, 2][i]]);
      const none = losses.crossEntropy(tensor(logits), cls, { reduction: 'none' });
      expect(none.shape).toEqual([2]);
      Array.from(none.data).forEach((v, i) => expect(v).toBeCloseTo(rows[i], 5));
      const mean = losses.crossEntropy(tensor(logits), cls);
      const sum = losses.crossEntropy(tensor(logits), cls, { reduction: 'sum' });
      expect(mean.shape).toEqual([]);
      expect(sum.item()).toBeCloseTo(rows[0] + rows[1], 5);
      expect(mean.item()).toBe(Math.fround((none.data[0] + none.data[1]) / 2)); // the row losses' float64 mean
      expect(() => losses.crossEntropy(tensor(logits), cls, { reduction: 'avg' as never })).toThrow(/crossEntropy: reduction must be 'mean', 'sum' or 'none', got "avg"/);
    });

    run('nll of logSoftmax equals crossEntropy', () => {
      const cls = tensor(new Int32Array([0, 2]));
      const ce = losses.crossEntropy(tensor(logits), cls).item();
      const nll = losses.nll(tensor(logits).logSoftmax(), cls).item();
      expect(nll).toBeCloseTo(ce, 5);
    });

    run('hinge with ±1 labels', () => {
      const q = [1, -1, -1, 1];
      expect(losses.hinge(t(x), t(q)).item()).toBeCloseTo(mean(x.map((v, i) => Math.max(0, 1 - q[i] * v))), 6);
      expect(() => losses.hinge(t(x), t([1, 0, 1, 1]))).toThrow(/hinge: target must hold -1 or \+1, got 0 at index 1/);
    });

    run('penalties: l1 = λΣ|w|, l2 = (λ/2)Σw²', () => {
      const a = tensor([1, -2]);
      const b = tensor([[0.5], [-0.5]]);
      expect(losses.l1Penalty([a, b], 0.1).item()).toBeCloseTo(0.1 * 4, 6);
      expect(losses.l2Penalty([a, b], 0.1).item()).toBeCloseTo(0.05 * 5.5, 6);
    });

    run('shape mismatch and bad reduction are named', () => {
      expect(() => losses.mse(t([1, 2]), t([1, 2, 3]))).toThrow(/mse: input \[2\] and target \[3\] must have the same shape/);
      expect(() => losses.mse(t([1]), t([1]), { reduction: 'avg' as never })).toThrow(/mse: reduction must be 'mean', 'sum' or 'none'/);
    });
  });

  describe(`loss gradients (${backend})`, () => {
    const rng = new Rng(23);
    const cases: [string, () => { fn: (...t: Tensor[]) => Tensor; inputs: Tensor[] }][] = [
      ['mse', () => ({ fn: (a, b) => losses.mse(a, b), inputs: [randTensor(rng, [3, 2]), randTensor(rng, [3, 2])] })],
      ['l1 (|d| >= 0.05)', () => ({ fn: (a) => losses.l1(a, tensor([[0.5, -0.5], [0, 0.3]])), inputs: [tensor([[0.1, 0.2], [-0.4, 0.9]], undefined, { requiresGrad: true })] })],
      ['huber sum', () => ({ fn: (a) => losses.huber(a, tensor([0, 0, 0, 0]), { reduction: 'sum' }), inputs: [tensor([0.3, -0.6, 1.7, -2.2], undefined, { requiresGrad: true })] })],
      ['binaryCrossEntropy', () => ({ fn: (p) => losses.binaryCrossEntropy(p, tensor([0, 1, 1, 0.3])), inputs: [tensor([0.2, 0.7, 0.4, 0.6], undefined, { requiresGrad: true })] })],
      ['binaryCrossEntropyWithLogits', () => ({ fn: (a) => losses.binaryCrossEntropyWithLogits(a, tensor([0, 1, 1, 0])), inputs: [tensor([0.3, -0.6, 1.7, -2.2], undefined, { requiresGrad: true })] })],
      ['binaryCrossEntropyWithLogits posWeight', () => ({ fn: (a) => losses.binaryCrossEntropyWithLogits(a, tensor([0, 1, 1, 0]), { posWeight: tensor([2]) }), inputs: [tensor([0.3, -0.6, 1.7, -2.2], undefined, { requiresGrad: true })] })],
      ['crossEntropy indices', () => ({ fn: (a) => losses.crossEntropy(a, tensor(new Int32Array([2, 0, 1]))), inputs: [randTensor(rng, [3, 4])] })],
      ['crossEntropy indices labelSmoothing=0.2 sum', () => ({ fn: (a) => losses.crossEntropy(a, tensor(new Int32Array([2, 0, 1])), { labelSmoothing: 0.2, reduction: 'sum' }), inputs: [randTensor(rng, [3, 4])] })],
      ['crossEntropy probabilities labelSmoothing=0.1', () => ({ fn: (a) => losses.crossEntropy(a, tensor([[0.1, 0.9], [0.5, 0.5]]), { labelSmoothing: 0.1 }), inputs: [randTensor(rng, [2, 2])] })],
      ['nll', () => ({ fn: (a) => losses.nll(a.logSoftmax(), tensor(new Int32Array([1, 0]))), inputs: [randTensor(rng, [2, 3])] })],
      ['hinge (margins away from 0)', () => ({ fn: (a) => losses.hinge(a, tensor([1, -1, 1])), inputs: [tensor([0.5, 0.2, 1.4], undefined, { requiresGrad: true })] })],
      ['l1Penalty + l2Penalty', () => ({ fn: (a, b) => losses.l1Penalty([a], 0.3).add(losses.l2Penalty([a, b], 0.2)), inputs: [tensor([0.5, -0.4], undefined, { requiresGrad: true }), randTensor(rng, [3])] })],
    ];
    for (const [name, build] of cases) {
      test(name, () => onBackend(backend, () => {
        const { fn, inputs } = build();
        expect(gradcheck(fn, inputs, { name: `${name} [${backend}]` })).toBeGreaterThan(0);
      }));
    }
  });
}
