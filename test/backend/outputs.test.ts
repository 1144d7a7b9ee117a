// Kernels write their outputs in full (backend.ts). The library relies on it: output buffers come from
// an unzeroed allocator (lib/backend/alloc.ts), so a kernel that skipped an element would hand back
// whatever the memory held. Each kernel runs twice on both backends, once with its outputs zero-filled
// and once prefilled with NaN (or -7 for int32), on identical inputs; the outputs must be bit-identical.

import { describe, expect, test } from 'vitest';
import type { Backend, KernelName } from '../../lib/backend/backend.js';
import { kernelOutput } from '../../lib/backend/alloc.js';
import { validKernelCalls } from '../helpers/kernel-calls.js';
import { Rng, nativeBackend, referenceBackend } from '../helpers/parity.js';

/** Argument positions each kernel writes without reading (optimizers update in place: not listed). */
const WRITE_ONLY: Partial<Record<KernelName, readonly number[]>> = {
  matmul: [4],
  conv2d: [5],
  conv2dBackwardInput: [1],
  conv2dBackwardFilter: [1, 2],
  maxPool2d: [2],
  maxPool2dBackward: [1],
  avgPool2d: [3],
  avgPool2dBackward: [2],
  globalAvgPool2d: [4],
  globalAvgPool2dBackward: [3],
  globalMaxPool2d: [4],
  globalMaxPool2dBackward: [3],
  unary: [3],
  unaryBackward: [2],
  binary: [5],
  binaryBackward: [1, 2],
  reduce: [4],
  reduceBackward: [3],
  argmax: [3],
  softmax: [4],
  softmaxBackward: [3],
  logSoftmax: [4],
  logSoftmaxBackward: [3],
  softmaxCrossEntropy: [5, 6],
  softmaxCrossEntropyBackward: [3],
  batchNormTrain: [9, 10, 11],
  batchNormInference: [8],
  batchNormBackward: [2, 3, 4],
  layerNorm: [6, 7, 8],
  layerNormBackward: [2, 3, 4],
  dropout: [3, 4],
  gatherRows: [3],
};
const IN_PLACE: readonly KernelName[] = ['sgdUpdate', 'adagradUpdate', 'rmspropUpdate', 'adamUpdate'];

/** Inputs in [0.1, 1.1): positive where a variance or a probability is expected, varied elsewhere. */
function callsSeeded(seed: number): Record<KernelName, () => unknown[]> {
  const rng = new Rng(seed);
  return validKernelCalls((n) => Float32Array.from({ length: n }, () => 0.1 + rng.next()));
}

function prefill(args: unknown[], positions: readonly number[], how: 'zero' | 'poison'): void {
  for (const i of positions) {
    const out = args[i];
    if (out instanceof Float32Array) out.fill(how === 'zero' ? 0 : NaN);
    else if (out instanceof Int32Array) out.fill(how === 'zero' ? 0 : -7);
  }
}

function bits(a: unknown): Uint32Array {
  const t = a as Float32Array | Int32Array;
  return new Uint32Array(t.buffer, t.byteOffset, t.length);
}

const backends: [string, () => Backend][] = [['reference', () => referenceBackend], ['native', nativeBackend]];

describe.each(backends)('%s backend: every output element is written', (_, get) => {
  test('the list covers every kernel', () => {
    const listed = new Set<string>([...Object.keys(WRITE_ONLY), ...IN_PLACE]);
    expect(Object.keys(validKernelCalls()).filter((k) => !listed.has(k))).toEqual([]);
  });

  test.each(Object.keys(WRITE_ONLY) as KernelName[])('%s', (name) => {
    const positions = WRITE_ONLY[name]!;
    const zeroed = callsSeeded(7)[name]();
    const poisoned = callsSeeded(7)[name]();
    prefill(zeroed, positions, 'zero');
    prefill(poisoned, positions, 'poison');
    const kernel = get()[name] as (...args: unknown[]) => void;
    kernel.apply(get(), zeroed);
    kernel.apply(get(), poisoned);
    for (const i of positions) {
      if (zeroed[i] === null) continue;
      const want = bits(zeroed[i]);
      const got = bits(poisoned[i]);
      const bad = want.findIndex((w, j) => w !== got[j]);
      if (bad >= 0) {
        throw new Error(`${name}: argument ${i} element ${bad} depends on the buffer's prior contents: `
          + `zero-filled gave ${(zeroed[i] as Float32Array)[bad]}, NaN-filled gave ${(poisoned[i] as Float32Array)[bad]} (length ${want.length})`);
      }
      expect(got.length).toBe(want.length);
    }
  });
});

describe('kernelOutput', () => {
  test('small buffers are zeroed, large ones have the requested length, a 64-byte boundary and their own memory', () => {
    expect(Array.from(kernelOutput(5))).toEqual([0, 0, 0, 0, 0]);
    const big = kernelOutput(100_003);
    expect(big.length).toBe(100_003);
    expect(big.buffer.byteLength).toBe(100_003 * 4 + 64); // room to start on a boundary
    expect(big.byteOffset).toBeLessThan(64);
    const other = kernelOutput(100_003);
    other.fill(3);
    big.fill(1);
    expect(other[0]).toBe(3);
  });
});
