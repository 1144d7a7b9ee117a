// The autograd engine: accumulation, shared subexpressions, residual reuse, freed graphs, noGrad.
import { describe, expect, test } from 'vitest';
import { noGrad, isGradEnabled } from '../../lib/autograd/graph.js';
import * as ops from '../../lib/ops/index.js';
import { tensor } from '../../lib/ops/creation.js';
import { BACKENDS, onBackend } from '../helpers/gradcheck.js';

for (const backend of BACKENDS) {
  describe(`autograd engine (${backend})`, () => {
    const run = (name: string, fn: () => void) => test(name, () => onBackend(backend, fn));

    run('leaf gradients accumulate across backward calls until zeroed', () => {
      const x = tensor([1, 2, 3], undefined, { requiresGrad: true });
      ops.sum(ops.mul(x, x)).backward(); // d/dx Σx² = 2x
      expect(Array.from(x.grad!.data)).toEqual([2, 4, 6]);
      ops.sum(ops.mul(x, 3)).backward();
      expect(Array.from(x.grad!.data)).toEqual([5, 7, 9]);
      x.grad = null;
      ops.sum(x).backward();
      expect(Array.from(x.grad!.data)).toEqual([1, 1, 1]);
    });

    run('a shared subexpression receives the sum of both paths: y = s·s + s, s = 2x', () => {
      const x = tensor([0.5, -1], undefined, { requiresGrad: true });
      const s = ops.mul(x, 2);
      ops.sum(ops.add(ops.mul(s, s), s)).backward();
      // dy/dx = (2s + 1)·2 = 8x + 2
      expect(Array.from(x.grad!.data)).toEqual([6, -6]);
    });

    run('residual: y = relu(x·w) + x, x used twice', () => {
      const x = tensor([[1, -2]], undefined, { requiresGrad: true });
      const w = tensor([[1, 0], [0, 1]], undefined, { requiresGrad: true });
      const y = ops.add(ops.relu(ops.matmul(x, w)), x);
      expect(y.toArray()).toEqual([[2, -2]]);
      ops.sum(y).backward();
      // relu passes the first column only: dx = [1+1, 0+1]; dw = xᵀ·[1, 0]
      expect(Array.from(x.grad!.data)).toEqual([2, 1]);
      expect(Array.from(w.grad!.data)).toEqual([1, 0, -2, 0]);
    });

    run('a gradient passed through to two inputs is not modified by a later contribution to one of them', () => {
      // h = p + q is used twice (its gradient is an engine-made sum), add hands that same buffer to p
      // and q, then p receives one more contribution from sum(p): q must keep its own value.
      const x = tensor([1], undefined, { requiresGrad: true });
      const p = ops.mul(x, 3);
      const q = ops.mul(x, 5);
      const h = ops.add(p, q);
      ops.add(ops.add(ops.sum(h), ops.sum(h)), ops.sum(p)).backward();
      expect(x.grad!.item()).toBe(3 * 3 + 5 * 2);
    });

    run('the same tensor as both inputs of one op: x·x', () => {
      const x = tensor([3], undefined, { requiresGrad: true });
      ops.mul(x, x).backward();
      expect(x.grad!.item()).toBe(6);
    });

    run('backward twice through a freed graph throws; retainGraph allows it', () => {
      const x = tensor([1, 2], undefined, { requiresGrad: true });
      const loss = ops.sum(ops.exp(x));
      loss.backward();
      expect(() => loss.backward()).toThrow(/backward: trying to backward through the graph a second time .*retainGraph: true/);
      const y = tensor([1, 2], undefined, { requiresGrad: true });
      const l2 = ops.sum(ops.square(y));
      l2.backward(null, { retainGraph: true });
      l2.backward();
      expect(Array.from(y.grad!.data)).toEqual([4, 8]);
    });

    run('the graph is released after backward: nodes drop their inputs', () => {
      const x = tensor([1, 2], undefined, { requiresGrad: true });
      const h = ops.tanh(x);
      const loss = ops.sum(h);
      expect(h.gradFn!.inputs.length).toBe(1);
      loss.backward();
      expect(h.gradFn!.inputs.length).toBe(0);
      expect(h.gradFn!.released).toBe(true);
    });

    run('only tensors that require grad get gradients; constants stay null', () => {
      const x = tensor([1, 2], undefined, { requiresGrad: true });
      const c = tensor([3, 4]);
      ops.sum(ops.mul(x, c)).backward();
      expect(Array.from(x.grad!.data)).toEqual([3, 4]);
      expect(c.grad).toBeNull();
      expect(ops.mul(c, c).requiresGrad).toBe(false);
      expect(ops.mul(c, c).gradFn).toBeNull();
    });

    run('noGrad records nothing and restores grad mode, even after a throw', () => {
      const x = tensor([1], undefined, { requiresGrad: true });
      const y = noGrad(() => ops.mul(x, 2));
      expect(y.requiresGrad).toBe(false);
      expect(y.gradFn).toBeNull();
      expect(() => noGrad(() => { throw new Error('boom'); })).toThrow('boom');
      expect(isGradEnabled()).toBe(true);
      expect(ops.mul(x, 2).requiresGrad).toBe(true);
    });

    run('detach cuts the graph', () => {
      const x = tensor([2], undefined, { requiresGrad: true });
      const y = ops.mul(ops.mul(x, x).detach(), x); // d/dx (c·x) with c = x² held constant = 4
      y.backward();
      expect(x.grad!.item()).toBe(4);
    });

    run('backward on a non-scalar needs a gradient of the same shape', () => {
      const x = tensor([1, 2], undefined, { requiresGrad: true });
      const y = ops.mul(x, 3);
      expect(() => y.backward()).toThrow(/backward: a gradient must be given for a non-scalar tensor of shape \[2\]/);
      y.backward(tensor([1, -1]));
      expect(Array.from(x.grad!.data)).toEqual([3, -3]);
      expect(() => tensor([1]).backward()).toThrow(/does not require grad/);
    });

    run('a deep chain (5000 ops) backpropagates without recursion limits', () => {
      const x = tensor([1], undefined, { requiresGrad: true });
      let h = x;
      for (let i = 0; i < 5000; i++) h = ops.add(h, 0.001);
      h.backward();
      expect(x.grad!.item()).toBe(1);
    });

    run('gradients do not flow into int32 tensors and int32 data movement works', () => {
      const idx = ops.arange(4);
      expect(idx.requiresGrad).toBe(false);
      expect(() => ops.relu(idx)).toThrow(/relu: x must be float32, got int32/);
    });
  });
}

describe('op input validation (errors name the op and the shapes)', () => {
  test('matmul / linear', () => {
    expect(() => ops.matmul(ops.zeros([2, 3]), ops.zeros([4, 5]))).toThrow(/^matmul: inner dimensions differ: \[2,3\] x \[4,5\]$/);
    expect(() => ops.linear(ops.zeros([2, 3]), ops.zeros([3, 4]), ops.zeros([5]))).toThrow(/linear: bias must have shape \[4\]/);
    expect(() => ops.linear(ops.zeros([2, 3]), ops.zeros([3, 4]), null, { activation: 'gelu' as never })).toThrow(/linear: activation must be one of/);
  });
  test('conv2d and pooling', () => {
    expect(() => ops.conv2d(ops.zeros([1, 4, 4]), ops.zeros([3, 3, 1, 2]))).toThrow(/conv2d: expected x \[N,H,W,C\]/);
    expect(() => ops.conv2d(ops.zeros([1, 4, 4, 3]), ops.zeros([3, 3, 2, 2]))).toThrow(/conv2d: x \[1,4,4,3\] has 3 channels/);
    expect(() => ops.conv2d(ops.zeros([1, 2, 2, 1]), ops.zeros([3, 3, 1, 1]))).toThrow(/conv2d: the 3x3 kernel .* does not fit/);
    expect(() => ops.maxPool2d(ops.zeros([1, 4, 4, 1]), { kernelSize: 2, padding: 2 })).toThrow(/maxPool2d: padding .* at most half/);
  });
  test('binary broadcasting, reductions, softmax', () => {
    expect(() => ops.add(ops.zeros([2, 3]), ops.zeros([4]))).toThrow(/add: shapes \[2,3\] and \[4\] cannot be broadcast together/);
    expect(() => ops.sum(ops.zeros([2, 3]), 2)).toThrow(/sum: axis 2 is out of range for rank 2/);
    expect(() => ops.softmax(ops.zeros([2, 3]), -3)).toThrow(/softmax: axis -3 is out of range/);
    expect(() => ops.maxout(ops.zeros([2, 5]), 2)).toThrow(/maxout: the last axis of \[2,5\] must be divisible by pieces=2/);
    expect(() => ops.leakyRelu(ops.zeros([1]), -0.1)).toThrow(/leakyRelu: slope must be a finite number >= 0, got -0.1/);
    expect(() => ops.add(ops.zeros([1]), 'a' as never)).toThrow(/add: operands must be Tensors or numbers/);
  });
  test('norms and dropout', () => {
    expect(() => ops.batchNorm(ops.zeros([4, 3]), null, null, ops.ones([2]), null, { training: true })).toThrow(/batchNorm: weight must have 3 elements/);
    expect(() => ops.batchNorm(ops.zeros([4, 3]), null, null, null, null, { training: false })).toThrow(/batchNorm: eval mode .* needs runningMean and runningVar/);
    expect(() => ops.layerNorm(ops.zeros([2, 3]), [2])).toThrow(/layerNorm: normalizedShape \[2\] must match the trailing axes of x \[2,3\]/);
    expect(() => ops.dropout(ops.zeros([2]), 1.5)).toThrow(/dropout: p must be in \[0, 1\], got 1.5/);
  });
});
