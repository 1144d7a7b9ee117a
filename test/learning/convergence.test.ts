// Learning tests that must converge (seeded, full-batch, small): XOR with 2-2-1 (and a single layer
// that cannot), two spirals, sin(x) on [-π, π] with one hidden layer, and a small CNN on synthetic
// horizontal-vs-vertical bars.
import { describe, expect, test } from 'vitest';
import * as nn from '../../lib/nn/index.js';
import * as losses from '../../lib/losses/index.js';
import { noGrad } from '../../lib/autograd/graph.js';
import { tensor } from '../../lib/ops/creation.js';
import { Adam, SGD } from '../../lib/optim/index.js';
import type { Optimizer } from '../../lib/optim/optimizer.js';
import { Generator, manualSeed } from '../../lib/random.js';
import { Tensor } from '../../lib/tensor.js';
import { BACKENDS, onBackend } from '../helpers/gradcheck.js';

function train(model: nn.Module, opt: Optimizer<{ lr: number }>, steps: number, lossOf: () => Tensor): number {
  let last = Infinity;
  for (let i = 0; i < steps; i++) {
    opt.zeroGrad();
    const loss = lossOf();
    loss.backward();
    opt.step();
    last = loss.item();
  }
  return last;
}

function accuracy(logits: Tensor, labels: Int32Array): number {
  const pred = logits.argmax(-1).data;
  let ok = 0;
  for (let i = 0; i < labels.length; i++) if (pred[i] === labels[i]) ok++;
  return ok / labels.length;
}

const XOR_X = tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
const XOR_Y = tensor([[0], [1], [1], [0]]);

/** Two interleaved spirals, n points each, labels 0/1 (points along r = θ, the second turned by π). */
function spirals(n: number, gen: Generator) {
  const xs: number[][] = [];
  const labels: number[] = [];
  for (let cls = 0; cls < 2; cls++) {
    for (let i = 0; i < n; i++) {
      const t = (i / n) * 3 * Math.PI + 0.3;
      const r = t / (3 * Math.PI);
      const a = t + cls * Math.PI;
      xs.push([r * Math.cos(a) + gen.normal(0, 0.01), r * Math.sin(a) + gen.normal(0, 0.01)]);
      labels.push(cls);
    }
  }
  return { x: tensor(xs), y: tensor(new Int32Array(labels)) };
}

/** 8x8 one-channel images (NHWC) holding one horizontal (label 0) or vertical (label 1) bar, plus noise. */
function bars(n: number, gen: Generator) {
  const size = 8;
  const data = new Float32Array(n * size * size);
  const labels = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const vertical = gen.randint(0, 2);
    const pos = gen.randint(1, size - 1);
    const from = gen.randint(0, 3);
    const len = gen.randint(4, size - from + 1);
    labels[k] = vertical;
    for (let i = 0; i < size * size; i++) data[k * size * size + i] = gen.normal(0, 0.1);
    for (let j = from; j < from + len; j++) {
      const [r, c] = vertical ? [j, pos] : [pos, j];
      data[k * size * size + r * size + c] += 1;
    }
  }
  return { x: new Tensor(data, [n, size, size, 1]), y: new Tensor(labels, [n]) };
}

for (const backend of BACKENDS) {
  describe(`convergence (${backend})`, () => {
    // A 2-2-1 net has genuine bad local minima on XOR (one tanh unit saturates and two inputs get
    // 0.5, loss log(2)/2). With this recipe (PyTorch default init, SGD lr 0.5 momentum 0.9, 1000
    // steps) 17 of seeds 1..20 converge, the same seeds on both backends; the test uses seed 1.
    test('XOR with a 2-2-1 network (tanh hidden, sigmoid output, BCE, SGD momentum)', () => {
      onBackend(backend, () => {
        manualSeed(1);
        const net = new nn.Sequential(new nn.Linear(2, 2), new nn.Tanh(), new nn.Linear(2, 1), new nn.Sigmoid());
        const opt = new SGD(net.parameters(), { lr: 0.5, momentum: 0.9 });
        const loss = train(net, opt, 1000, () => losses.binaryCrossEntropy(net.forward(XOR_X), XOR_Y));
        expect(loss).toBeLessThan(0.05);
        const p = Array.from(noGrad(() => net.forward(XOR_X)).data);
        expect(p[0]).toBeLessThan(0.1);
        expect(p[1]).toBeGreaterThan(0.9);
        expect(p[2]).toBeGreaterThan(0.9);
        expect(p[3]).toBeLessThan(0.1);
      });
    });

    test('XOR: a single linear layer cannot (at most 3 of 4 right, loss stays near log 2)', () => {
      onBackend(backend, () => {
        manualSeed(1);
        const net = new nn.Sequential(new nn.Linear(2, 1), new nn.Sigmoid());
        const opt = new Adam(net.parameters(), { lr: 0.1 });
        const loss = train(net, opt, 300, () => losses.binaryCrossEntropy(net.forward(XOR_X), XOR_Y));
        const p = Array.from(noGrad(() => net.forward(XOR_X)).data);
        const right = p.filter((v, i) => (v > 0.5 ? 1 : 0) === XOR_Y.data[i]).length;
        expect(right).toBeLessThanOrEqual(3);
        expect(loss).toBeGreaterThan(0.6); // log 2 = 0.693 is the best a linear separator can do here
      });
    });

    test('two spirals: 2-32-32-2 MLP reaches >= 97% training accuracy', () => {
      onBackend(backend, () => {
        manualSeed(2);
        const { x, y } = spirals(100, new Generator(7));
        const net = new nn.Sequential(new nn.Linear(2, 32), new nn.Tanh(), new nn.Linear(32, 32), new nn.Tanh(), new nn.Linear(32, 2));
        const opt = new Adam(net.parameters(), { lr: 0.01 });
        train(net, opt, 700, () => losses.crossEntropy(net.forward(x), y));
        expect(accuracy(noGrad(() => net.forward(x)), y.data as Int32Array)).toBeGreaterThanOrEqual(0.97);
      });
    });

    test('sin(x) on [-π, π]: one hidden layer of 24 tanh units, max error < 0.05 on a held-out grid', () => {
      onBackend(backend, () => {
        manualSeed(3);
        const n = 64;
        const xs = Array.from({ length: n }, (_, i) => -Math.PI + (2 * Math.PI * i) / (n - 1));
        const x = tensor(xs.map((v) => [v]));
        const y = tensor(xs.map((v) => [Math.sin(v)]));
        const net = new nn.Sequential(new nn.Linear(1, 24), new nn.Tanh(), new nn.Linear(24, 1));
        const opt = new Adam(net.parameters(), { lr: 0.02 });
        const loss = train(net, opt, 1500, () => losses.mse(net.forward(x), y));
        expect(loss).toBeLessThan(5e-4);
        // held-out points between the training points
        const test = xs.slice(0, -1).map((v) => v + Math.PI / (n - 1));
        const pred = noGrad(() => net.forward(tensor(test.map((v) => [v])))).data;
        const maxErr = Math.max(...test.map((v, i) => Math.abs(pred[i] - Math.sin(v))));
        expect(maxErr).toBeLessThan(0.05);
      });
    });

    test('small CNN on horizontal vs vertical bars: >= 95% on held-out images', () => {
      onBackend(backend, () => {
        manualSeed(4);
        const gen = new Generator(11);
        const trainSet = bars(64, gen);
        const testSet = bars(64, gen);
        const net = new nn.Sequential(
          new nn.Conv2d(1, 4, 3, { padding: 'same' }), new nn.ReLU(), new nn.MaxPool2d(2),
          new nn.Conv2d(4, 8, 3, { padding: 'same' }), new nn.ReLU(), new nn.GlobalAvgPool2d(),
          new nn.Linear(8, 2),
        );
        const opt = new Adam(net.parameters(), { lr: 0.02 });
        train(net, opt, 80, () => losses.crossEntropy(net.forward(trainSet.x), trainSet.y));
        expect(accuracy(noGrad(() => net.forward(testSet.x)), testSet.y.data as Int32Array)).toBeGreaterThanOrEqual(0.95);
      });
    });
  });
}
