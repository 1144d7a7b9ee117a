// Inference with weights packed once per call instead of once per batch.
//
// Every matmul packs its B operand (the weights, for a Linear) into the micro-kernel's panel layout
// before multiplying. Training must repack each step (the weights change), but a batched inference call
// (predict, predictAsync) runs the same weights over many batches: inside `withPackedWeights`, linear()
// packs each weight buffer the first time it meets it and reuses the panels for the remaining batches.
// A call of one batch runs without the scope (withPackedWeights' `forwards`).
//
// Safety: the cache lives only for the duration of one synchronous call, which the caller owns (no user
// code runs between batches but the model's own forward), and is keyed by the weight's Float32Array.
// Only rows > SMALL_M use it: matmul runs m <= 8 on an unpacked path, and matmulPacked gives the same
// bits as matmul for m > 8 (native.ts), so predictions are identical with or without the cache.

import type { MatmulArgs } from '../backend/backend.js';
import { getBackend, nativeAddon } from '../backend/index.js';
import type { PackedMatmulB } from '../backend/native.js';

const SMALL_M = 8;

let cache: Map<Float32Array, PackedMatmulB> | null = null;

/**
 * Runs fn with weight packing cached per weight buffer (nested calls share the outer cache). `forwards`:
 * how many forward passes fn will run with the same weights; with 1 there is nothing to reuse, and fn
 * runs plain (same bits): packing costs more than a single batch's product, and each packed copy is
 * external memory that hastens V8's next full GC (a one-batch predict of 64 MLP rows took 3.4 ms with
 * packing against 0.2 ms without, called in a loop).
 */
export function withPackedWeights<T>(fn: () => T, forwards = Infinity): T {
  if (cache !== null || forwards <= 1) return fn();
  const scope = new Map<Float32Array, PackedMatmulB>();
  cache = scope;
  try {
    return fn();
  } finally {
    cache = null;
    // Free the panels now: left to the GC, every call's copies pile up as external memory and bring on
    // full collections (2,560 MLP rows in batches of 256, predict in a loop: 11.1 ms a call, against
    // 9.0 ms for plain forwards).
    const addon = nativeAddon();
    if (typeof addon?.releasePackedB === 'function') for (const packed of scope.values()) addon.releasePackedB(packed);
  }
}

/**
 * c = act(a·w + bias) through a cached packed w when a withPackedWeights scope is active, the native
 * backend runs and m is large enough; returns false (nothing done) otherwise.
 */
export function matmulWithPackedWeights(args: MatmulArgs, a: Float32Array, w: Float32Array, bias: Float32Array | null, c: Float32Array): boolean {
  if (cache === null || args.m <= SMALL_M || args.transB || args.accumulate || getBackend().name !== 'native') return false;
  const addon = nativeAddon();
  if (addon === undefined) return false;
  let packed = cache.get(w);
  if (packed === undefined || packed.k !== args.k || packed.n !== args.n) {
    packed = addon.packMatmulB({ k: args.k, n: args.n, transB: false }, w);
    cache.set(w, packed);
  }
  addon.matmulPacked({ m: args.m, n: args.n, k: args.k, transA: args.transA, accumulate: false, activation: args.activation, alpha: args.alpha }, a, packed, bias, c);
  return true;
}
