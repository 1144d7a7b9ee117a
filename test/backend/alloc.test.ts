// kernelOutput's batch arena: large outputs of a finished batch back the next batch's outputs, never
// before endBatch, never outside the arena, and never the lasting outputs.
import { describe, expect, test } from 'vitest';
import { kernelOutput, lastingKernelOutput, withBatchArena } from '../../lib/backend/alloc.js';

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
