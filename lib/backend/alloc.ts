// Output buffers handed straight to a kernel.
//
// Kernels write their outputs in full unless a flag says they accumulate (backend.ts), so such a buffer
// need not be zeroed first. `new Float32Array(n)` always zero-fills, and for activation-sized buffers
// that costs as much as a small kernel (256 KiB: ~20 µs zeroed, ~3 µs not), paid on every layer of
// every step. Large outputs therefore come from Node's unzeroed allocator (Buffer.allocUnsafeSlow: a
// dedicated ArrayBuffer, offset 0, so alignment is the allocator's). Small ones are cheaper zeroed.
// test/backend/outputs.test.ts holds every kernel of both backends to the "write in full" rule by
// prefilling outputs with NaN; `node --zero-fill-buffers` zeroes these buffers too.

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
  return new Float32Array(unzeroed(n * 4), 0, n);
}
