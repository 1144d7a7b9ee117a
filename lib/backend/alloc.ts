// Output buffers handed straight to a kernel.
//
// Kernels write their outputs in full unless a flag says they accumulate (backend.ts), so such a buffer
// need not be zeroed first. `new Float32Array(n)` always zero-fills, and for activation-sized buffers
// that costs as much as a small kernel (256 KiB: ~20 µs zeroed, ~3 µs not), paid on every layer of
// every step. Large outputs therefore come from Node's unzeroed allocator (Buffer.allocUnsafeSlow: a
// dedicated ArrayBuffer; the view starts at its first 64-byte boundary, below). Small ones are cheaper
// zeroed.
// test/backend/outputs.test.ts holds every kernel of both backends to the "write in full" rule by
// prefilling outputs with NaN; `node --zero-fill-buffers` zeroes these buffers too.
//
// A batched forward (predict) allocates the same outputs batch after batch. Inside `withBatchArena`
// the large ones of a finished batch are handed to the next batch instead of new buffers: a fresh
// buffer is cold in the caches (and sometimes in the page tables), a recycled one is still in L2. Only
// callers that know nothing of a finished batch survives it may open an arena (see withBatchArena).

import { nativeAddon } from './index.js';

// Large buffers also start on a 64-byte boundary. V8 takes ArrayBuffer memory from malloc, which puts
// big blocks 16 bytes past one, and the AVX-512 GEMM tiles read B's rows (and write C's) in place in
// 64-byte vectors: misaligned, each vector spans two cache lines. C++, 1 thread, the same product with
// its buffers 16 bytes off and aligned, GFLOP/s: (M,K,N) (64,256,784) 154 vs 169, (784,64,256) tA 155
// vs 167, (64,784,256) 169 vs 173 (scripts/bench-gemm-harness.cc with TF_BENCH_OFFSET=4). The addon
// reports where the boundary falls in a buffer (alignOffset); without it views start at offset 0.

/** Below this many bytes a zeroed allocation is as fast as an unzeroed one. */
const UNZEROED_MIN_BYTES = 16 * 1024;
/** From this many bytes an allocation starts on a 64-byte boundary (64 bytes longer to make room). */
const ALIGNED_MIN_BYTES = 4 * 1024;
const ALIGNMENT = 64;

let alignOffsetOf: ((buffer: ArrayBuffer) => number) | null | undefined;

/** Bytes from the start of buffer's memory to its first 64-byte boundary (0 without the addon). */
function alignOffset(buffer: ArrayBuffer): number {
  if (alignOffsetOf === undefined) {
    const addon = process.env.TENSORFORGE_BACKEND === 'reference' ? undefined : nativeAddon();
    alignOffsetOf = addon !== undefined && typeof addon.alignOffset === 'function' ? (b) => addon.alignOffset(b) : null;
  }
  return alignOffsetOf === null ? 0 : alignOffsetOf(buffer);
}

/** n floats of a buffer of n*4 + 64 bytes, from its first 64-byte boundary. */
function alignedView(buffer: ArrayBuffer, n: number): Float32Array {
  return new Float32Array(buffer, alignOffset(buffer), n);
}

const unzeroed: ((bytes: number) => ArrayBuffer) | null =
  typeof Buffer === 'function' && typeof Buffer.allocUnsafeSlow === 'function'
    ? (bytes) => {
      const b = Buffer.allocUnsafeSlow(bytes);
      return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? (b.buffer as ArrayBuffer) : new ArrayBuffer(bytes);
    }
    : null;

/**
 * A float32 buffer of n elements whose contents are unspecified: pass it to a kernel as a
 * non-accumulating output (which overwrites every element) before anything reads it.
 */
export function kernelOutput(n: number): Float32Array {
  if (unzeroed === null || n * 4 < UNZEROED_MIN_BYTES) return zeroedFloat32(n);
  const bytes = n * 4 + ALIGNMENT;
  if (arena === null) return alignedView(unzeroed(bytes), n);
  const buffer = arena.free.get(bytes)?.pop() ?? unzeroed(bytes);
  arena.used.push(buffer);
  return alignedView(buffer, n);
}

/** kernelOutput that is never recycled by an arena: for results that outlive the batch (predict's y). */
export function lastingKernelOutput(n: number): Float32Array {
  if (unzeroed === null || n * 4 < UNZEROED_MIN_BYTES) return zeroedFloat32(n);
  return alignedView(unzeroed(n * 4 + ALIGNMENT), n);
}

/** A zeroed Float32Array of n elements, on a 64-byte boundary from 4 KiB: tensor storage (weights, data). */
export function zeroedFloat32(n: number): Float32Array {
  if (n * 4 < ALIGNED_MIN_BYTES) return new Float32Array(n);
  return alignedView(new ArrayBuffer(n * 4 + ALIGNMENT), n);
}

interface Arena {
  /** Buffers of finished batches by byte length, free for the current batch. */
  free: Map<number, ArrayBuffer[]>;
  /** Buffers handed out during the current batch. */
  used: ArrayBuffer[];
}

let arena: Arena | null = null;

/**
 * Runs fn with kernel outputs recycled between batches: fn calls `endBatch()` after each batch, and
 * every large kernelOutput of that batch may then back an output of a later batch. The caller promises
 * that after endBatch nothing reads or writes a tensor made during that batch (predict copies each
 * batch's result out first, and runs only built-in modules, which keep no outputs). Nested calls run
 * inside the outer arena, whose batch ends they never cut short.
 */
export function withBatchArena<T>(fn: (endBatch: () => void) => T): T {
  if (arena !== null) return fn(() => {});
  const own: Arena = { free: new Map(), used: [] };
  arena = own;
  try {
    return fn(() => {
      for (const buffer of own.used) {
        const list = own.free.get(buffer.byteLength);
        if (list === undefined) own.free.set(buffer.byteLength, [buffer]);
        else list.push(buffer);
      }
      own.used = [];
    });
  } finally {
    arena = null;
  }
}
