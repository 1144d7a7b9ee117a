// Layer forward passes and Sequential's fusion, on both backends.
import { describe, expect, test } from 'vitest';
import * as nn from '../../lib/nn/index.js';
import * as ops from '../../lib/ops/index.js';
import { randn, tensor } from '../../lib/ops/creation.js';
import { manualSeed } from '../../lib/random.js';
import { Tensor } from '../../lib/tensor.js';
import { BACKENDS, onBackend } from '../helpers/gradcheck.js';

function close(a: Tensor, b: Tensor, tol = 1e-5) {
  expect(a.shape).toEqual(b.shape);
  a.data.forEach((v, i) => expect(Math.abs(v - b.data[i]), `index ${i}`).toBeLessThan(tol + tol * Math.abs(b.data[i])));
}

for (const backend of BACKENDS) {
  describe(`layers (${backend})`, () => {
    const run = (name: string, fn: () => void) => test(name, () => onBackend(backend, fn));

    for (const [name, act, fn] of [
      ['ReLU', new nn.ReLU(), ops.relu], ['LeakyReLU(0.2)', new nn.LeakyReLU(0.2), (x: Tensor) => ops.leakyRelu(x, 0.2)],
      ['ELU(0.5)', new nn.ELU(0.5), (x: Tensor) => ops.elu(x, 0.5)], ['Sigmoid', new nn.Sigmoid(), ops.sigmoid], ['Tanh', new nn.Tanh(), ops.tanh],
    ] as const) {
      run(`Sequential(Linear, ${name}) fuses and equals the unfused layers, gradients included`, () => {
        manualSeed(8);
        const lin = new nn.Linear(5, 4);
        const seq = new nn.Sequential(lin, act);
        const x = randn([3, 5]);
        const fused = seq.forward(x);
        expect(fused.gradFn!.name).toBe('linear'); // one node: the activation ran in the epilogue
        const unfused = fn(lin.forward(x));
        close(fused, unfused);
        ops.sum(ops.mul(fused, fused)).backward();
        const gFused = Float32Array.from(lin.weight.grad!.data);
        lin.zeroGrad();
        ops.sum(ops.mul(unfused, unfused)).backward();
        close(new Tensor(gFused, lin.weight.shape), lin.weight.grad!, 1e-4);
      });
    }

    run('Sequential(Conv2d, ReLU) fuses and equals conv then relu', () => {
      manualSeed(9);
      const conv = new nn.Conv2d(2, 3, 3, { padding: 'same' });
      const x = randn([2, 4, 4, 2]);
      close(new nn.Sequential(conv, new nn.ReLU()).forward(x), ops.relu(conv.forward(x)));
    });

    run('Residual(block) = block(x) + x; with a shortcut module = block(x) + shortcut(x)', () => {
      manualSeed(10);
      const block = new nn.Linear(3, 3);
      const x = randn([2, 3]);
      close(new nn.Residual(block).forward(x), ops.add(block.forward(x), x));
      const proj = new nn.Linear(3, 3, { bias: false });
      close(new nn.Residual(block, proj).forward(x), ops.add(block.forward(x), proj.forward(x)));
    });

    run('Flatten, MaxPool2d, AvgPool2d, GlobalAvgPool2d shapes and values', () => {
      const x = tensor(Float32Array.from({ length: 16 }, (_, i) => i), [1, 4, 4, 1]);
      expect(new nn.MaxPool2d(2).forward(x).toArray()).toEqual([[[[5], [7]], [[13], [15]]]]);
      expect(new nn.AvgPool2d(2).forward(x).toArray()).toEqual([[[[2.5], [4.5]], [[10.5], [12.5]]]]);
      expect(new nn.GlobalAvgPool2d().forward(x).toArray()).toEqual([[7.5]]);
      expect(new nn.GlobalMaxPool2d().forward(x).toArray()).toEqual([[15]]);
      expect(new nn.Flatten().forward(x).shape).toEqual([1, 16]);
    });

    run('LayerNorm normalizes each row; Maxout takes group maxima; Softmax rows sum to 1', () => {
      const x = tensor([[1, 2, 3, 4], [2, 2, 2, 6]]);
      const y = new nn.LayerNorm(4).forward(x);
      for (let r = 0; r < 2; r++) {
        const row = Array.from(y.data.slice(r * 4, r * 4 + 4));
        expect(row.reduce((a, b) => a + b) / 4).toBeCloseTo(0, 5);
        expect(row.reduce((a, b) => a + b * b, 0) / 4).toBeCloseTo(1, 3);
      }
      expect(new nn.Maxout(2).forward(x).toArray()).toEqual([[2, 4], [2, 6]]);
      const s = new nn.Softmax().forward(x);
      expect(s.data[0] + s.data[1] + s.data[2] + s.data[3]).toBeCloseTo(1, 6);
    });

    run('BatchNorm1d on [N, C] and trackRunningStats=false uses batch statistics in eval', () => {
      manualSeed(12);
      const bn = new nn.BatchNorm1d(2, { trackRunningStats: false, affine: false });
      bn.eval();
      const y = bn.forward(tensor([[1, 10], [3, 30]]));
      close(y, tensor([[-1, -1], [1, 1]]), 1e-4);
      expect(() => new nn.BatchNorm2d(2).forward(tensor([[1, 2]]))).toThrow(/BatchNorm2d: expected NHWC input \[N, H, W, C\], got \[1,2\]/);
      expect(() => new nn.BatchNorm1d(3).forward(tensor([[1, 2]]))).toThrow(/BatchNorm1d: expected 3 channels in the last axis, got input \[1,2\]/);
    });
  });
}
