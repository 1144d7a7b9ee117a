// predict / evaluate / forwardInBatches pack each Linear weight once per call (ops/packed-weights.ts)
// and must give exactly the bits of plain forwards, batch by batch, on every ISA and thread count.

import { afterEach, describe, expect, test } from 'vitest';
import { noGrad } from '../../lib/autograd/graph.js';
import { getBackend, nativeAddon, setBackend } from '../../lib/backend/index.js';
import { forwardInBatches } from '../../lib/infer/batches.js';
import * as nn from '../../lib/nn/index.js';
import { withPackedWeights } from '../../lib/ops/packed-weights.js';
import { manualSeed } from '../../lib/random.js';
import { Tensor } from '../../lib/tensor.js';
import { evaluate, predict } from '../../lib/train/evaluate.js';
import { Rng, nativeConfigs, withNativeConfig } from '../helpers/parity.js';

function mlp(): nn.Sequential {
  manualSeed(11);
  return new nn.Sequential(new nn.Linear(37, 45), new nn.ReLU(), new nn.Linear(45, 19), new nn.Tanh(), new nn.Linear(19, 3)).eval();
}

/** Plain forwards over the same batches (no packing scope): the reference bits. */
function batchedForward(model: nn.Module, x: Tensor, batchSize: number): Float32Array {
  const n = x.shape[0];
  const row = x.size / n;
  const parts: Float32Array[] = [];
  noGrad(() => {
    for (let b = 0; b < n; b += batchSize) {
      const rows = Math.min(batchSize, n - b);
      parts.push(model.forward(new Tensor(x.data.subarray(b * row, (b + rows) * row), [rows, row])).data as Float32Array);
    }
  });
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

function expectSameBits(got: Float32Array, want: Float32Array, what: string): void {
  expect(got.length).toBe(want.length);
  const a = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const b = new Uint32Array(want.buffer, want.byteOffset, want.length);
  const i = a.findIndex((v, j) => v !== b[j]);
  if (i >= 0) throw new Error(`${what}: element ${i} expected ${want[i]}, got ${got[i]} (length ${want.length})`);
}

afterEach(() => setBackend('native'));

describe('packed weights in batched inference', () => {
  // 133 rows in batches of 40: three full batches and a 13-row tail (both above the m <= 8 small path),
  // and batches of 4 (all on the small path, which never packs).
  const x = new Tensor(new Rng(5).f32(133 * 37), [133, 37]);

  test.each(nativeConfigs())('%s: predict and forwardInBatches equal plain forwards bit for bit', (config) => {
    withNativeConfig(config, () => {
      const model = mlp();
      for (const batchSize of [40, 4]) {
        const want = batchedForward(model, x, batchSize);
        expectSameBits(predict(model, x, { batchSize }).data as Float32Array, want, `predict batch ${batchSize}`);
        expectSameBits(forwardInBatches(model, x, batchSize).data as Float32Array, want, `forwardInBatches batch ${batchSize}`);
      }
    });
  });

  test('each weight is packed once per call, not once per batch; the scope ends with the call', () => {
    const addon = nativeAddon()!;
    const original = addon.packMatmulB;
    let packs = 0;
    addon.packMatmulB = (...args) => { packs++; return original.apply(addon, args); };
    try {
      const model = mlp();
      predict(model, x, { batchSize: 40 });
      expect(packs).toBe(3);
      const y = new Tensor(Int32Array.from({ length: 133 }, (_, i) => i % 3), [133]);
      evaluate(model, [x, y], { batchSize: 40, metrics: ['accuracy'] });
      expect(packs).toBe(6);
      predict(model, x, { batchSize: 4 }); // m <= 8: the small-M path, no packing
      expect(packs).toBe(6);
      noGrad(() => model.forward(new Tensor(x.data.subarray(0, 40 * 37), [40, 37])));
      expect(packs).toBe(6); // outside a scope nothing is cached or packed
      // Every new scope packs afresh: the weights may have changed since the last call.
      withPackedWeights(() => noGrad(() => model.forward(new Tensor(x.data.subarray(0, 40 * 37), [40, 37]))));
      expect(packs).toBe(9);
      // One batch has nothing to reuse: predict, evaluate and a one-forward scope run plain.
      const one = new Tensor(x.data.subarray(0, 40 * 37), [40, 37]);
      const want = batchedForward(model, one, 40);
      expectSameBits(predict(model, one, { batchSize: 40 }).data as Float32Array, want, 'one-batch predict');
      expectSameBits(predict(model, x, { batchSize: 133 }).data as Float32Array, batchedForward(model, x, 133), 'one-batch predict, 133 rows');
      evaluate(model, [one, new Tensor(Int32Array.from({ length: 40 }, (_, i) => i % 3), [40])], { batchSize: 64, metrics: ['accuracy'] });
      withPackedWeights(() => noGrad(() => model.forward(one)), 1);
      expect(packs).toBe(9);
      predict(model, x, { batchSize: 132 }); // two batches: packs again
      expect(packs).toBe(12);
      // ... and frees its packed copies when the call returns (not at garbage collection).
      const released = addon.releasePackedB;
      let frees = 0;
      addon.releasePackedB = (...args) => { frees++; return released.apply(addon, args); };
      try {
        predict(model, x, { batchSize: 40 });
        expect(frees).toBe(3);
      } finally {
        addon.releasePackedB = released;
      }
    } finally {
      addon.packMatmulB = original;
    }
  });

  test('the reference backend ignores the scope', () => {
    const model = mlp();
    setBackend('reference');
    expect(getBackend().name).toBe('reference');
    const want = batchedForward(model, x, 40);
    expectSameBits(predict(model, x, { batchSize: 40 }).data as Float32Array, want, 'reference predict');
  });
});
