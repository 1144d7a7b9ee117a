// Transfer learning, train/eval switching, and the same program on both backends.
import { describe, expect, test } from 'vitest';
import * as nn from '../../lib/nn/index.js';
import * as losses from '../../lib/losses/index.js';
import { noGrad } from '../../lib/autograd/graph.js';
import { randn, tensor } from '../../lib/ops/creation.js';
import { Adam, SGD } from '../../lib/optim/index.js';
import { Generator, manualSeed } from '../../lib/random.js';
import { Tensor } from '../../lib/tensor.js';
import { BACKENDS, onBackend } from '../helpers/gradcheck.js';

/** n points per class around k centres on a circle (radius 2), labels 0..k-1. */
function blobs(n: number, k: number, gen: Generator, rotate = 0) {
  const xs: number[][] = [];
  const ys: number[] = [];
  for (let c = 0; c < k; c++) {
    const a = rotate + (2 * Math.PI * c) / k;
    for (let i = 0; i < n; i++) {
      xs.push([2 * Math.cos(a) + gen.normal(0, 0.3), 2 * Math.sin(a) + gen.normal(0, 0.3)]);
      ys.push(c);
    }
  }
  return { x: tensor(xs), y: tensor(new Int32Array(ys)) };
}

function accuracy(logits: Tensor, labels: Tensor): number {
  const pred = logits.argmax(-1).data;
  let ok = 0;
  labels.data.forEach((l, i) => { if (pred[i] === l) ok++; });
  return ok / labels.size;
}

function snapshot(m: nn.Module): Map<string, Uint32Array> {
  return new Map(m.namedParameters().map(([k, p]) => [k, new Uint32Array(Float32Array.from(p.data).buffer)]));
}

for (const backend of BACKENDS) {
  describe(`transfer learning (${backend})`, () => {
    test('train, freeze the body, replace the head, retrain: frozen weights bit-identical, new task learned', () => {
      onBackend(backend, () => {
        manualSeed(5);
        const gen = new Generator(21);
        const taskA = blobs(30, 2, gen);
        const taskB = blobs(30, 3, gen, 0.5);
        const body = new nn.Sequential(new nn.Linear(2, 16), new nn.ReLU(), new nn.Linear(16, 16), new nn.ReLU());
        const model = new nn.Sequential(body, new nn.Linear(16, 2));
        let opt = new Adam(model.parameters(), { lr: 0.02 });
        for (let i = 0; i < 100; i++) {
          opt.zeroGrad();
          losses.crossEntropy(model.forward(taskA.x), taskA.y).backward();
          opt.step();
        }
        expect(accuracy(noGrad(() => model.forward(taskA.x)), taskA.y)).toBeGreaterThanOrEqual(0.95);

        body.freeze();
        model.set(1, new nn.Linear(16, 3));
        const frozenBefore = snapshot(body);
        const headBefore = snapshot(model.at(1));
        // All parameters go to the optimizer, with momentum and weight decay that would move any
        // parameter it touched: freezing alone must keep the body out of the updates.
        opt = new Adam(model.parameters(), { lr: 0.02, weightDecay: 1e-3 });
        for (let i = 0; i < 150; i++) {
          opt.zeroGrad();
          losses.crossEntropy(model.forward(taskB.x), taskB.y).backward();
          opt.step();
        }
        expect(accuracy(noGrad(() => model.forward(taskB.x)), taskB.y)).toBeGreaterThanOrEqual(0.9);
        for (const [name, bits] of snapshot(body)) expect(bits, name).toEqual(frozenBefore.get(name));
        // frozen: no gradient flows any more (their grads were zeroed by the new optimizer and stay zero)
        for (const p of body.parameters()) expect(Array.from(p.grad!.data).every((v) => v === 0)).toBe(true);
        for (const [name, bits] of snapshot(model.at(1))) expect(bits, name).not.toEqual(headBefore.get(name));
        expect(model.toString()).toContain('frozen 320');
      });
    });
  });

  describe(`train/eval modes (${backend})`, () => {
    test('eval() turns dropout off; train() turns it back on', () => {
      onBackend(backend, () => {
        manualSeed(6);
        const net = new nn.Sequential(new nn.Linear(4, 64), new nn.Dropout(0.5));
        const x = randn([8, 4]);
        net.eval();
        const a = noGrad(() => net.forward(x));
        const b = noGrad(() => net.forward(x));
        const plain = noGrad(() => net.at(0).forward(x));
        expect(Array.from(a.data)).toEqual(Array.from(plain.data));
        expect(Array.from(b.data)).toEqual(Array.from(plain.data));
        net.train();
        const c = noGrad(() => net.forward(x));
        const zeros = Array.from(c.data).filter((v) => v === 0).length;
        // 512 elements, each dropped with p = 0.5: the count is within ±5 sigma (±57) of 256
        expect(Math.abs(zeros - 256)).toBeLessThan(57);
        Array.from(c.data).forEach((v, i) => { if (v !== 0) expect(v).toBeCloseTo(2 * plain.data[i], 5); });
      });
    });

    test('BatchNorm2d: train normalizes per channel over N,H,W and updates running stats; eval uses them', () => {
      onBackend(backend, () => {
        manualSeed(7);
        const bn = new nn.BatchNorm2d(3, { momentum: 0.5 });
        const x = randn([4, 3, 2, 3]).mul(2).add(1); // NHWC, C = 3
        const y = bn.forward(x);
        // every channel of y has mean 0 and (biased) variance 1 over N·H·W = 24 values
        const m = 24;
        for (let c = 0; c < 3; c++) {
          let s = 0;
          let s2 = 0;
          let xs = 0;
          let xs2 = 0;
          for (let i = 0; i < m; i++) {
            s += y.data[i * 3 + c]; s2 += y.data[i * 3 + c] ** 2;
            xs += x.data[i * 3 + c]; xs2 += x.data[i * 3 + c] ** 2;
          }
          expect(s / m).toBeCloseTo(0, 5);
          expect(s2 / m).toBeCloseTo(1, 3); // eps = 1e-5 shrinks it slightly
          const mean = xs / m;
          const unbiased = (xs2 / m - mean * mean) * (m / (m - 1));
          expect(bn.runningMean!.data[c]).toBeCloseTo(0.5 * 0 + 0.5 * mean, 4);
          expect(bn.runningVar!.data[c]).toBeCloseTo(0.5 * 1 + 0.5 * unbiased, 3);
        }
        bn.eval();
        bn.weight!.data.set([1, 2, 0.5]);
        bn.bias!.data.set([0, -1, 3]);
        const z = randn([2, 1, 1, 3]);
        const out = bn.forward(z);
        for (let i = 0; i < 6; i++) {
          const c = i % 3;
          const expected = ((z.data[i] - bn.runningMean!.data[c]) / Math.sqrt(bn.runningVar!.data[c] + 1e-5)) * bn.weight!.data[c] + bn.bias!.data[c];
          expect(out.data[i]).toBeCloseTo(expected, 5);
        }
        const runningBefore = Array.from(bn.runningMean!.data);
        bn.forward(randn([2, 1, 1, 3]));
        expect(Array.from(bn.runningMean!.data)).toEqual(runningBefore); // eval does not update them
      });
    });
  });
}

describe('the same program on both backends', () => {
  /** A seeded training run through conv, batch norm, dropout, pooling, linear, SGD then Adam. */
  function program(): { losses: number[]; params: Float32Array[] } {
    manualSeed(99);
    const x = randn([6, 6, 6, 2]);
    const y = tensor(new Int32Array([0, 1, 2, 0, 1, 2]));
    const net = new nn.Sequential(
      // no conv bias before batch norm: its gradient is exactly 0 in theory, so Adam would amplify
      // pure rounding noise into full-size steps that differ between backends
      new nn.Conv2d(2, 4, 3, { padding: 'same', bias: false }), new nn.BatchNorm2d(4), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Flatten(), new nn.Dropout(0.2), new nn.Linear(36, 8), new nn.ELU(), new nn.LayerNorm(8), new nn.Linear(8, 3),
    );
    const sgd = new SGD(net.parameters(), { lr: 0.05, momentum: 0.9 });
    const out: number[] = [];
    for (let i = 0; i < 10; i++) {
      sgd.zeroGrad();
      const loss = losses.crossEntropy(net.forward(x), y, { labelSmoothing: 0.1 });
      loss.backward();
      sgd.step();
      out.push(loss.item());
    }
    const adam = new Adam(net.parameters(), { lr: 0.01 });
    for (let i = 0; i < 10; i++) {
      adam.zeroGrad();
      const loss = losses.crossEntropy(net.forward(x), y);
      loss.backward();
      adam.step();
      out.push(loss.item());
    }
    return { losses: out, params: net.parameters().map((p) => Float32Array.from(p.data)) };
  }

  test('20 training steps give the same losses and parameters within float tolerance', () => {
    const ref = onBackend('reference', program);
    const nat = onBackend('native', program);
    expect(ref.losses[19]).toBeLessThan(ref.losses[0]);
    // Rounding differs (summation order, FMA), and 20 steps of training amplify it a little.
    ref.losses.forEach((l, i) => expect(Math.abs(nat.losses[i] - l), `loss ${i}`).toBeLessThan(1e-4 * Math.max(1, Math.abs(l))));
    ref.params.forEach((p, k) => p.forEach((v, i) => {
      expect(Math.abs(nat.params[k][i] - v), `param ${k}[${i}]`).toBeLessThan(1e-3 + 1e-3 * Math.abs(v));
    }));
  });
});
