// Output buffers handed straight to a kernel.
//
// Kernels write their outputs in full unless a flag says they accumulate (backend.ts), so such a buffer
// need not be zeroed first. `new Float32Array(n)` always zero-fills, and for activation-sized buffers
// that costs as much as a small kernel (256 KiB: ~20 µs zeroed, ~3 µs not), paid on every layer of
// every step. Large outputs therefore come from Node's unzeroed allocator (Buffer.allocUnsafeSlow: a
// dedicated ArrayBuffer, offset 0, so alignment is the allocator's). Small ones are cheaper zeroed.
// test/backend/outputs.test.ts holds every kernel of both backends to the "write in full" rule by
// prefilling outputs with NaN; `node --zero-fill-buffers` zeroes these buffers too.
//
// A batched forward (predict) allocates the same outputs batch after batch. Inside `withBatchArena`
// the large ones of a finished batch are handed to the next batch instead of new buffers: a fresh
// buffer is cold in the caches (and sometimes in the page tables), a recycled one is still in L2. Only
// callers that know nothing of a finished batch survives it may open an arena (see withBatchArena).

/** Below this many bytes a zeroed allocation is as fast as an unzeroed one. */
const UNZEROED_MIN_BYTES = 16 * 1024;

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
  if (unzeroed === null || n * 4 < UNZEROED_MIN_BYTES) return new Float32Array(n);
  if (arena === null) return new Float32Array(unzeroed(n * 4), 0, n);
  const buffer = arena.free.get(n * 4)?.pop() ?? unzeroed(n * 4);
  arena.used.push(buffer);
  return new Float32Array(buffer, 0, n);
}

/** kernelOutput that is never recycled by an arena: for results that outlive the batch (predict's y). */
export function lastingKernelOutput(n: number): Float32Array {
  if (unzeroed === null || n * 4 < UNZEROED_MIN_BYTES) return new Float32Array(n);
  return new Float32Array(unzeroed(n * 4), 0, n);
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
