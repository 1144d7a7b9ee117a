// kernelOutput's batch arena: large outputs of a finished batch back the next batch's outputs, never
// before endBatch, never outside the arena, and never the lasting outputs.
import { describe, expect, test } from 'vitest';
import { kernelOutput, lastingKernelOutput, withBatchArena, zeroedFloat32 } from '../../lib/backend/alloc.js';
import { nativeAddon } from '../../lib/backend/index.js';

const LARGE = 8192; // floats: 32 KiB, above the unzeroed threshold
const SMALL = 16; // zeroed allocations are never recycled

describe('withBatchArena', () => {
  test('recycles a batch\'s large outputs only after endBatch, by size', () => {
    withBatchArena((endBatch) => {
      const a = kernelOutput(LARGE);
      const b = kernelOutput(LARGE);
      const other = kernelOutput(LARGE + 16);
      const lasting = lastingKernelOutput(LARGE);
      expect(new Set([a.buffer, b.buffer, other.buffer, lasting.buffer]).size).toBe(4); // same batch: all distinct
      endBatch();
      const c = kernelOutput(LARGE);
      const d = kernelOutput(LARGE);
      const e = kernelOutput(LARGE);
      expect(new Set([c.buffer, d.buffer])).toEqual(new Set([a.buffer, b.buffer]));
      expect([a.buffer, b.buffer, lasting.buffer]).not.toContain(e.buffer); // only two were free
      expect(kernelOutput(LARGE + 16).buffer).toBe(other.buffer);
      expect(kernelOutput(SMALL).buffer).not.toBe(kernelOutput(SMALL).buffer);
    });
  });

  test('outside an arena, and after it ends, every output is fresh', () => {
    let kept: ArrayBufferLike | null = null;
    withBatchArena((endBatch) => {
      kept = kernelOutput(LARGE).buffer;
      endBatch();
    });
    expect(kernelOutput(LARGE).buffer).not.toBe(kept);
    expect(kernelOutput(LARGE).buffer).not.toBe(kernelOutput(LARGE).buffer);
  });

  test('a nested arena runs inside the outer one: its endBatch recycles nothing', () => {
    withBatchArena((endOuter) => {
      const a = kernelOutput(LARGE);
      withBatchArena((endInner) => {
        endInner();
        expect(kernelOutput(LARGE).buffer).not.toBe(a.buffer);
      });
      endOuter();
      const reused = new Set([kernelOutput(LARGE).buffer, kernelOutput(LARGE).buffer]);
      expect(reused.has(a.buffer)).toBe(true);
    });
  });

  test('an error inside closes the arena', () => {
    expect(() => withBatchArena(() => { throw new Error('boom'); })).toThrow('boom');
    let first: ArrayBufferLike | null = null;
    withBatchArena((endBatch) => {
      first = kernelOutput(LARGE).buffer;
      endBatch();
    });
    expect(kernelOutput(LARGE).buffer).not.toBe(first);
  });
});

// Large buffers start on a 64-byte boundary (alloc.ts: the GEMM tiles read B and write C in 64-byte
// vectors), as the addon reports where that boundary falls; small ones are plain zeroed arrays.
describe('64-byte alignment', () => {
  const addon = nativeAddon();
  const boundary = (a: Float32Array) => (a.byteOffset - addon!.alignOffset(a.buffer as ArrayBuffer) + 64) % 64;

  test.skipIf(addon === undefined)('kernel outputs, lasting outputs and zeroed storage of 4 KiB and more', () => {
    for (const n of [1024, 4099, LARGE, 100_003, 1 << 20]) {
      for (const a of [kernelOutput(n), lastingKernelOutput(n), zeroedFloat32(n)]) {
        expect(a.length).toBe(n);
        expect(boundary(a), `n=${n} byteOffset=${a.byteOffset}`).toBe(0);
      }
      expect(zeroedFloat32(n).every((v) => v === 0)).toBe(true);
    }
    withBatchArena((endBatch) => {
      kernelOutput(LARGE);
      endBatch();
      expect(boundary(kernelOutput(LARGE))).toBe(0); // a recycled buffer too
    });
  });

  test('small allocations are zeroed Float32Arrays of their own', () => {
    const a = zeroedFloat32(SMALL);
    expect(a.length).toBe(SMALL);
    expect(a.byteOffset).toBe(0);
    expect(a.buffer.byteLength).toBe(SMALL * 4);
    expect(Array.from(a).every((v) => v === 0)).toBe(true);
  });

  test.skipIf(addon === undefined)('alignOffset takes only an ArrayBuffer', () => {
    const buffer = new ArrayBuffer(8192);
    const at = addon!.alignOffset(buffer);
    expect(Number.isInteger(at) && at >= 0 && at < 64).toBe(true);
    expect(addon!.alignOffset(buffer)).toBe(at); // the memory does not move
    expect(() => addon!.alignOffset(new Float32Array(4) as unknown as ArrayBuffer)).toThrow(/^alignOffset: buffer must be an ArrayBuffer, got Float32Array/);
    expect(() => (addon!.alignOffset as (...a: unknown[]) => number)()).toThrow(TypeError);
  });
});
