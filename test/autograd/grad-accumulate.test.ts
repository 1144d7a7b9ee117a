// Leaf gradients written straight into `.grad`: linear's weight gradient is accumulated by the matmul
// kernel into the existing buffer (accumulate: true) instead of a temporary added in JS. The results
// must match the sum of separately computed gradients, frozen weights get nothing, and a grad buffer
// that is a view into an optimizer's flat buffer is written in place.
import { afterEach, describe, expect, test, vi } from 'vitest';
import type { MatmulArgs } from '../../lib/backend/backend.js';
import { getBackend } from '../../lib/backend/index.js';
import * as ops from '../../lib/ops/index.js';
import { Adam } from '../../lib/optim/index.js';
import { Tensor } from '../../lib/tensor.js';
import { BACKENDS, onBackend, randTensor } from '../helpers/gradcheck.js';
import { Rng, expectClose, type Tolerance } from '../helpers/parity.js';

const TOL: Tolerance = { atol: 1e-5, rtol: 1e-5 };

/** A leaf with the same values as t and its own buffer. */
function copyLeaf(t: Tensor, requiresGrad = true): Tensor {
  return new Tensor((t.data as Float32Array).slice(), t.shape, { requiresGrad });
}

function gradOf(t: Tensor): Float32Array {
  expect(t.grad).not.toBeNull();
  return t.grad!.data as Float32Array;
}

function added(a: Float32Array, b: Float32Array): Float32Array {
  return a.map((v, i) => v + b[i]);
}

/** loss = Σ c ⊙ linear(x, w, b): a fixed weighting so dy is not all ones. */
function weightedLinear(x: Tensor, w: Tensor, b: Tensor, c: Tensor): Tensor {
  return ops.sum(ops.mul(ops.linear(x, w, b), c));
}

afterEach(() => {
  vi.restoreAllMocks();
});

for (const backend of BACKENDS) {
  describe(`gradient accumulation into .grad (${backend})`, () => {
    const run = (name: string, fn: () => void) => test(name, () => onBackend(backend, fn));

    run('linear x=[5,7] w=[7,3]: two backward calls accumulate to the sum of the separate gradients', () => {
      const rng = new Rng(11);
      const w = randTensor(rng, [7, 3]);
      const b = randTensor(rng, [3]);
      const xs = [randTensor(rng, [5, 7], -1, 1, false), randTensor(rng, [5, 7], -1, 1, false)];
      const cs = [randTensor(rng, [5, 3], -1, 1, false), randTensor(rng, [5, 3], -1, 1, false)];
      const separate = xs.map((x, i) => {
        const wi = copyLeaf(w);
        const bi = copyLeaf(b);
        weightedLinear(x, wi, bi, cs[i]).backward();
        return { dw: gradOf(wi).slice(), db: gradOf(bi).slice() };
      });
      weightedLinear(xs[0], w, b, cs[0]).backward();
      const firstGrad = w.grad;
      const firstBuffer = gradOf(w);
      expectClose(firstBuffer, separate[0].dw, TOL, 'dw after the first backward');
      weightedLinear(xs[1], w, b, cs[1]).backward();
      expect(w.grad).toBe(firstGrad); // accumulated in place, not replaced
      expect(gradOf(w)).toBe(firstBuffer);
      expectClose(gradOf(w), added(separate[0].dw, separate[1].dw), TOL, 'dw after two backward calls');
      expectClose(gradOf(b), added(separate[0].db, separate[1].db), TOL, 'db after two backward calls');
    });

    run('a weight used twice, linear(relu(linear(x, w, b)), w, b), w=[4,4]: sum of both uses, twice', () => {
      const rng = new Rng(12);
      const w = randTensor(rng, [4, 4]);
      const b = randTensor(rng, [4]);
      const x = randTensor(rng, [3, 4], -1, 1, false);
      const c = randTensor(rng, [3, 4], -1, 1, false);
      // The same values as two separate leaves per use: the shared weight's gradient is their sum.
      const [w1, w2, b1, b2] = [copyLeaf(w), copyLeaf(w), copyLeaf(b), copyLeaf(b)];
      weightedLinear(ops.relu(ops.linear(x, w1, b1)), w2, b2, c).backward();
      const dw = added(gradOf(w1), gradOf(w2));
      const db = added(gradOf(b1), gradOf(b2));
      const shared = () => weightedLinear(ops.relu(ops.linear(x, w, b)), w, b, c).backward();
      shared();
      expectClose(gradOf(w), dw, TOL, 'shared dw, one backward');
      expectClose(gradOf(b), db, TOL, 'shared db, one backward');
      shared(); // now both uses add into the existing buffer
      expectClose(gradOf(w), added(dw, dw), TOL, 'shared dw, two backward calls');
      expectClose(gradOf(b), added(db, db), TOL, 'shared db, two backward calls');
    });

    run('a frozen weight gets no gradient, also when frozen after the forward; x still does', () => {
      const rng = new Rng(13);
      const x = randTensor(rng, [2, 3]);
      const frozen = randTensor(rng, [3, 2], -1, 1, false);
      ops.sum(ops.linear(x, frozen)).backward();
      expect(frozen.grad).toBeNull();
      expect(x.grad).not.toBeNull();

      const w = randTensor(rng, [3, 2]);
      const y = ops.sum(ops.linear(x, w));
      w.requiresGrad = false;
      y.backward();
      expect(w.grad).toBeNull();
      // And an existing grad of a weight frozen before backward is left untouched.
      const v = randTensor(rng, [3, 2]);
      ops.sum(ops.linear(x, v)).backward();
      const before = gradOf(v).slice();
      const y2 = ops.sum(ops.linear(x, v));
      v.requiresGrad = false;
      y2.backward();
      expect(Array.from(gradOf(v))).toEqual(Array.from(before));
    });

    run('after Adam adopted the grads (flat views), backward writes into the same buffers: over them after zeroGrad, then with matmul accumulate', () => {
      const rng = new Rng(14);
      const w = randTensor(rng, [6, 5]);
      const b = randTensor(rng, [5]);
      const x = randTensor(rng, [4, 6], -1, 1, false);
      const c = randTensor(rng, [4, 5], -1, 1, false);
      weightedLinear(x, w, b, c).backward();
      const opt = new Adam([w, b], { lr: 1e-3 });
      const wGrad = w.grad!;
      const wBuffer = gradOf(w);
      const bBuffer = gradOf(b);
      expect(wBuffer.buffer).toBe(bBuffer.buffer); // both views of the group's one flat buffer
      opt.step();
      opt.zeroGrad();

      const wCopy = copyLeaf(w);
      const bCopy = copyLeaf(b);
      weightedLinear(x, wCopy, bCopy, c).backward();

      // zeroGrad deferred its fill: the flat buffer still holds the old gradient, and the weight
      // gradient is written over it (accumulate false), not added to it.
      const matmul = vi.spyOn(getBackend(), 'matmul');
      weightedLinear(x, w, b, c).backward();
      const weightGradCall = matmul.mock.calls.find((call) => call[4] === wBuffer);
      expect(weightGradCall).toBeDefined();
      expect((weightGradCall![0] as MatmulArgs).accumulate).toBe(false);
      matmul.mockClear();

      expect(w.grad).toBe(wGrad);
      expect(w.grad!.data).toBe(wBuffer);
      expect(b.grad!.data).toBe(bBuffer);
      expectClose(wBuffer, gradOf(wCopy), TOL, 'dw in the flat buffer');
      expectClose(bBuffer, gradOf(bCopy), TOL, 'db in the flat buffer');

      // Without zeroGrad the next backward adds into the same buffers.
      const once = Float32Array.from(wBuffer);
      const onceB = Float32Array.from(bBuffer);
      weightedLinear(x, w, b, c).backward();
      const again = matmul.mock.calls.find((call) => call[4] === wBuffer);
      expect((again![0] as MatmulArgs).accumulate).toBe(true);
      matmul.mockRestore();
      expectClose(wBuffer, once.map((v) => 2 * v), TOL, 'dw accumulated twice');
      expectClose(bBuffer, onceB.map((v) => 2 * v), TOL, 'db accumulated twice');
      opt.step(); // the views are still the optimizer's: the update uses them without relinking
      expect(w.grad!.data).toBe(wBuffer);
    });
  });
}

describe('zeroGrad defers its fill', () => {
  test('a zeroed gradient reads as zeros, from the optimizer and from Module.zeroGrad', async () => {
    const { Linear } = await import('../../lib/nn/index.js');
    const rng = new Rng(3);
    const layer = new Linear(4, 3);
    const x = randTensor(rng, [2, 4], -1, 1, false);
    ops.sum(layer.forward(x)).backward();
    const opt = new Adam(layer.parameters());
    expect(gradOf(layer.weight).some((v) => v !== 0)).toBe(true);
    opt.zeroGrad();
    expect(Array.from(gradOf(layer.weight)).every((v) => v === 0)).toBe(true);
    ops.sum(layer.forward(x)).backward();
    layer.zeroGrad();
    expect(Array.from(gradOf(layer.bias!)).every((v) => v === 0)).toBe(true);
  });

  test('the optimizer step after a backward that reaches only some parameters matches eager zeroing bit for bit', async () => {
    const { Linear, Sequential } = await import('../../lib/nn/index.js');
    const make = () => {
      const m = new Sequential(new Linear(5, 4), new Linear(4, 3));
      const rng = new Rng(9);
      for (const p of m.parameters()) (p.data as Float32Array).set(rng.f32(p.size));
      return m;
    };
    const x = randTensor(new Rng(4), [3, 5], -1, 1, false);
    const h = randTensor(new Rng(5), [3, 4], -1, 1, false);
    const deferred = make();
    const eager = make();
    const optD = new Adam(deferred.parameters(), { lr: 0.01 });
    const optE = new Adam(eager.parameters(), { lr: 0.01 });
    for (const [model, opt, zero] of [[deferred, optD, () => optD.zeroGrad()], [eager, optE, () => {
      for (const p of eager.parameters()) (p.grad?.data as Float32Array | undefined)?.fill(0);
    }]] as const) {
      ops.sum(model.forward(x)).backward(); // every parameter gets a gradient
      opt.step();
      zero();
      ops.sum((model as InstanceType<typeof Sequential>).at(1).forward(h)).backward(); // only the second layer
      opt.step();
    }
    const bits = (t: Tensor) => Array.from(new Uint32Array((t.data as Float32Array).slice().buffer));
    deferred.parameters().forEach((p, i) => expect(bits(p), `parameter ${i}`).toEqual(bits(eager.parameters()[i])));
  });
});
