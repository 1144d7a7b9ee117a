// Kernel plans (native/binding/plan.h): recorded kernel calls replayed on a libuv thread. The addon
// API is internal (predictAsync uses it) but JS-reachable, so it must be safe against misuse too.

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, test } from 'vitest';
import type { KernelPlan, NativeAddon } from '../../lib/backend/native.js';
import { nativeAddon } from '../../lib/backend/index.js';
import { Rng, expectKernelError } from '../helpers/parity.js';

const addon = (): NativeAddon => nativeAddon()!;
const mm = (m: number, n: number, k: number) => ({ m, n, k, transA: false, transB: false, accumulate: false, activation: 'relu' as const, alpha: 0 });

/** Records y = relu(relu(x·w1)·w2) for x [rows, 5] with buffers that only the plan keeps afterwards. */
function recordTwoLayers(rows: number, seed: number): { plan: KernelPlan; input: Float32Array; output: Float32Array; w1: Float32Array; w2: Float32Array } {
  const rng = new Rng(seed);
  const w1 = rng.f32(5 * 7);
  const w2 = rng.f32(7 * 3);
  const input = rng.f32(rows * 5);
  const hidden = new Float32Array(rows * 7);
  const output = new Float32Array(rows * 3);
  addon().planBegin();
  try {
    addon().matmul(mm(rows, 7, 5), input, w1, null, hidden);
    addon().matmul(mm(rows, 3, 7), hidden, w2, null, output);
  } catch (e) {
    addon().planEnd();
    throw e;
  }
  return { plan: addon().planEnd(), input, output, w1, w2 };
}

function direct(x: Float32Array, rows: number, w1: Float32Array, w2: Float32Array): Float32Array {
  const hidden = new Float32Array(rows * 7);
  const out = new Float32Array(rows * 3);
  addon().matmul(mm(rows, 7, 5), x, w1, null, hidden);
  addon().matmul(mm(rows, 3, 7), hidden, w2, null, out);
  return out;
}

describe('kernel plans', () => {
  test('replays the recorded calls on new data, batch after batch, bit-identical to direct calls', async () => {
    const rows = 13;
    const { plan, input, output, w1, w2 } = recordTwoLayers(rows, 1);
    expect(plan.calls).toBe(2);
    const batches = 4;
    const x = new Rng(2).f32(batches * rows * 5);
    const y = new Float32Array(batches * rows * 3);
    await addon().planRun(plan, input, output, x, y, batches);
    for (let b = 0; b < batches; b++) {
      const want = direct(x.subarray(b * rows * 5, (b + 1) * rows * 5), rows, w1, w2);
      expect(new Uint32Array(y.buffer, b * rows * 3 * 4, rows * 3)).toEqual(new Uint32Array(want.buffer));
    }
  });

  test('the plan keeps its buffers alive after JS drops them (forced GC)', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const rows = 9;
    const recorded = recordTwoLayers(rows, 3);
    const { plan, input, output } = recorded;
    const weights = [recorded.w1.slice(), recorded.w2.slice()];
    // Only the plan (and input/output, which planRun needs) still refer to the weights and the hidden buffer.
    (recorded as Partial<typeof recorded>).w1 = undefined;
    (recorded as Partial<typeof recorded>).w2 = undefined;
    for (let i = 0; i < 3; i++) {
      gc();
      for (let j = 0; j < 200; j++) new Float32Array(50_000); // churn so freed memory would be reused
    }
    const x = new Rng(4).f32(rows * 5);
    const y = new Float32Array(rows * 3);
    await addon().planRun(plan, input, output, x, y, 1);
    expect(new Uint32Array(y.buffer)).toEqual(new Uint32Array(direct(x, rows, weights[0], weights[1]).buffer));
  });

  test('a kernel that cannot be replayed (an optimizer update) makes planEnd throw; recording stops either way', () => {
    const a = addon();
    a.planBegin();
    a.adamUpdate({ lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupledWeightDecay: false, amsgrad: false, step: 1 },
      new Float32Array(4), new Float32Array(4), new Float32Array(4), new Float32Array(4), null);
    expect(() => a.planEnd()).toThrow(/^planEnd: kernel 'adamUpdate' cannot run in a plan/);
    expect(() => a.planEnd()).toThrow(/^planEnd: no plan is being recorded on this thread/);
    a.planBegin();
    expect(() => a.planBegin()).toThrow(/^planBegin: a plan is already being recorded on this thread/);
    a.planEnd();
  });

  test('planRun validates everything and refuses a second run of a busy plan', async () => {
    const rows = 4;
    const { plan, input, output } = recordTwoLayers(rows, 5);
    const run = (...args: unknown[]) => (addon().planRun as (...a: unknown[]) => unknown)(...args);
    const x = new Float32Array(2 * rows * 5);
    const y = new Float32Array(2 * rows * 3);
    expectKernelError(() => run({ calls: 2 }, input, output, x, y, 2), TypeError, 'planRun');
    expectKernelError(() => run(plan, new Float32Array(input.length), output, x, y, 2), RangeError, 'planRun');
    expectKernelError(() => run(plan, input, new Float32Array(output.length), x, y, 2), RangeError, 'planRun');
    expectKernelError(() => run(plan, input, output, x.subarray(1), y, 2), RangeError, 'planRun');
    expectKernelError(() => run(plan, input, output, x, y.subarray(1), 2), RangeError, 'planRun');
    expectKernelError(() => run(plan, input, output, x, y, 0), RangeError, 'planRun');
    expectKernelError(() => run(plan, input, output, x, new Float64Array(y.length), 2), TypeError, 'planRun');
    expectKernelError(() => run(plan, input, output, input, output, 1), RangeError, 'planRun');
    expectKernelError(() => run(plan, input, output, x, y), TypeError, 'planRun');
    const first = addon().planRun(plan, input, output, x, y, 2);
    expectKernelError(() => run(plan, input, output, x.slice(), y.slice(), 2), RangeError, 'planRun');
    await first;
    await addon().planRun(plan, input, output, x, y, 2); // idle again
  });
});

describe('kernel plans and detached buffers', () => {
  /** A recorded product whose weight's ArrayBuffer is then transferred away (detached). */
  function planWithDetachedWeight(seed: number): { plan: KernelPlan; input: Float32Array; output: Float32Array } {
    const rows = 3;
    const rng = new Rng(seed);
    const w = rng.f32(5 * 2);
    const input = rng.f32(rows * 5);
    const output = new Float32Array(rows * 2);
    addon().planBegin();
    addon().matmul(mm(rows, 2, 5), input, w, null, output);
    const plan = addon().planEnd();
    structuredClone(w.buffer, { transfer: [w.buffer as ArrayBuffer] });
    expect(w.length).toBe(0);
    return { plan, input, output };
  }

  test('planRun refuses a plan whose recorded buffer was transferred away since recording', () => {
    const { plan, input, output } = planWithDetachedWeight(8);
    expectKernelError(() => addon().planRun(plan, input, output, new Float32Array(input.length), new Float32Array(output.length), 1), RangeError, 'planRun');
  });

  test('planReplay reads every source before using any: an accessor that detaches an earlier one gives an error, not a copy from freed memory', () => {
    const { plan, input, output } = recordTwoLayers(4, 27);
    const x = new Float32Array(input.length);
    const sources: ArrayBufferView[] = [x];
    Object.defineProperty(sources, 1, {
      enumerable: true,
      get() {
        structuredClone(x.buffer, { transfer: [x.buffer as ArrayBuffer] });
        return new Float32Array(output.length);
      },
    });
    expectKernelError(() => addon().planReplay(plan, sources, [input, output]), RangeError, 'planReplay');
    expect(x.length).toBe(0);
  });

  test('planReplay reads the gathers\' fields before using any pointer: an accessor that detaches a source to copy gives an error', () => {
    const { plan, input } = recordTwoLayers(4, 31);
    const x = new Float32Array(input.length);
    const gather = {
      indices: new Int32Array([0]),
      target: new Float32Array(2),
      get source() {
        structuredClone(x.buffer, { transfer: [x.buffer as ArrayBuffer] });
        return new Float32Array(4);
      },
    };
    expectKernelError(() => addon().planReplay(plan, [x], [input], undefined, [gather]), RangeError, 'planReplay');
    expect(x.length).toBe(0);
  });

  test('planReplay refuses it too', () => {
    const { plan, input } = planWithDetachedWeight(23);
    expectKernelError(() => addon().planReplay(plan, [new Float32Array(input.length)], [input]), RangeError, 'planReplay');
  });
});

describe('planReplay (fit\'s recorded training step): copies in, replays on this thread', () => {
  test('replays bit-identically to direct calls, on the data copied into the recorded input', () => {
    const rows = 11;
    const { plan, input, output, w1, w2 } = recordTwoLayers(rows, 21);
    for (let r = 0; r < 3; r++) {
      const x = new Rng(30 + r).f32(rows * 5);
      addon().planReplay(plan, [x], [input]);
      expect(new Uint32Array(input.buffer)).toEqual(new Uint32Array(x.buffer));
      expect(new Uint32Array(output.buffer)).toEqual(new Uint32Array(direct(x, rows, w1, w2).buffer));
    }
    addon().planReplay(plan, [], []); // nothing to copy: replays on what the buffers hold
    expect(new Uint32Array(output.buffer)).toEqual(new Uint32Array(direct(input.slice(), rows, w1, w2).buffer));
  });

  test('planUses tells whether the recorded calls use exactly an array\'s bytes', () => {
    const { plan, input, output, w1 } = recordTwoLayers(5, 28);
    expect(addon().planUses(plan, input)).toBe(true);
    expect(addon().planUses(plan, output)).toBe(true);
    expect(addon().planUses(plan, w1)).toBe(true);
    expect(addon().planUses(plan, input.subarray(1))).toBe(false);
    expect(addon().planUses(plan, new Float32Array(input.length))).toBe(false);
    expectKernelError(() => (addon().planUses as (...a: unknown[]) => unknown)(plan, [1]), TypeError, 'planUses');
    expectKernelError(() => (addon().planUses as (...a: unknown[]) => unknown)({}, input), TypeError, 'planUses');
  });

  test('validates every argument, and refuses while recording or while the plan runs elsewhere', async () => {
    const rows = 4;
    const { plan, input, output } = recordTwoLayers(rows, 22);
    const replay = (...args: unknown[]) => (addon().planReplay as (...a: unknown[]) => unknown)(...args);
    const x = new Float32Array(input.length);
    expectKernelError(() => replay({ calls: 2 }, [x], [input]), TypeError, 'planReplay');
    expectKernelError(() => replay(plan, x, [input]), TypeError, 'planReplay');
    expectKernelError(() => replay(plan, [x], [input, output]), RangeError, 'planReplay');
    expectKernelError(() => replay(plan, [[1, 2]], [input]), TypeError, 'planReplay');
    expectKernelError(() => replay(plan, [x], [new Float32Array(input.length)]), RangeError, 'planReplay'); // not the plan's
    expectKernelError(() => replay(plan, [x], [input.subarray(1)]), RangeError, 'planReplay'); // part of one of its buffers
    expectKernelError(() => replay(plan, [x.subarray(1)], [input]), RangeError, 'planReplay'); // byte lengths differ
    expectKernelError(() => replay(plan, [input], [input]), RangeError, 'planReplay'); // overlap
    expectKernelError(() => replay(plan, [new Int16Array(input.length)], [input]), RangeError, 'planReplay'); // half the bytes
    expectKernelError(() => replay(plan, [x], [input], 1), TypeError, 'planReplay');
    addon().planBegin();
    try {
      expectKernelError(() => replay(plan, [x], [input]), RangeError, 'planReplay');
    } finally {
      addon().planEnd();
    }
    const running = addon().planRun(plan, input, output, new Float32Array(input.length), new Float32Array(output.length), 1);
    expectKernelError(() => replay(plan, [x], [input]), RangeError, 'planReplay');
    await running;
    replay(plan, [x], [input]); // idle again
  });


  test('gathers run while the plan replays: every target row is its source row, for 1 and 2 threads', () => {
    const rows = 6;
    const { plan, input, output, w1, w2 } = recordTwoLayers(rows, 25);
    const before = addon().backendInfo().numThreads;
    try {
      for (const threads of [1, 2]) {
        addon().setNumThreads(threads);
        // 53 source rows of 784 floats (an image row each: one unit per row) and int32 labels (one unit).
        const images = new Rng(26 + threads).f32(53 * 784);
        const labels = Int32Array.from({ length: 53 }, (_, i) => 1000 + i);
        const indices = Int32Array.from({ length: 37 }, (_, i) => (i * 17 + threads) % 53);
        const x = new Float32Array(37 * 784);
        const y = new Int32Array(37);
        const batch = new Rng(27).f32(rows * 5);
        addon().planReplay(plan, [batch], [input], undefined, [
          { source: images, indices, target: x },
          { source: labels, indices, target: y },
        ]);
        expect(new Uint32Array(output.buffer)).toEqual(new Uint32Array(direct(batch, rows, w1, w2).buffer));
        for (let i = 0; i < 37; i++) {
          const row = indices[i];
          const got = new Uint32Array(x.buffer, i * 784 * 4, 784);
          const want = new Uint32Array(images.buffer, row * 784 * 4, 784);
          const at = got.findIndex((v, j) => v !== want[j]);
          if (at >= 0) throw new Error(`threads ${threads}: target row ${i} (source row ${row}) differs at column ${at}: expected ${want[at]}, got ${got[at]}`);
          expect(y[i]).toBe(1000 + row);
        }
      }
    } finally {
      addon().setNumThreads(before);
    }
  });

  test('gathers are validated before anything runs: types, sizes, every index, and no target overlapping the plan or another array', () => {
    const { plan, input, output } = recordTwoLayers(3, 29);
    const replay = (gathers: unknown) => (addon().planReplay as (...a: unknown[]) => unknown)(plan, [], [], undefined, gathers);
    const source = new Float32Array(10 * 4);
    const indices = new Int32Array([3, 0, 9]);
    const target = new Float32Array(3 * 4);
    const outputBefore = output.slice();
    const cases: [unknown, typeof TypeError | typeof RangeError, RegExp][] = [
      [{}, TypeError, /gathers must be an array/],
      [[1], TypeError, /gathers\[0\] must be an object/],
      [[{ source: [1], indices, target }], TypeError, /gathers\[0\]\.source must be a typed array/],
      [[{ source, indices, target: new Int32Array(12) }], TypeError, /must be typed arrays of one type/],
      [[{ source, indices: [3, 0, 9], target }], TypeError, /gathers\[0\]\.indices must be an Int32Array/],
      [[{ source, indices: new Int32Array(0), target }], RangeError, /not a positive multiple of indices\.length 0/],
      [[{ source, indices, target: new Float32Array(13) }], RangeError, /target has 13 elements, not a positive multiple of indices\.length 3/],
      [[{ source: new Float32Array(42), indices, target }], RangeError, /source has 42 elements, not a whole number of rows of 4/],
      [[{ source, indices: new Int32Array([3, 10, 0]), target }], RangeError, /gathers\[0\]\.indices\[1\] = 10 is out of range for 10 rows/],
      [[{ source, indices: new Int32Array([-1, 0, 0]), target }], RangeError, /indices\[0\] = -1 is out of range/],
      [[{ source: new Float32Array(input.length * 2), indices: new Int32Array(input.length / 5).fill(1), target: input }], RangeError, /target overlaps an array the plan uses/],
      [[{ source, indices, target: source.subarray(0, 12) }], RangeError, /gathers\[0\]\.target overlaps a gather's source or indices/],
      [[{ source, indices, target }, { source: new Float32Array(40), indices, target: target.subarray(0, 12) }], RangeError, /gathers\[1\]\.target overlaps gathers\[0\]\.target/],
    ];
    for (const [gathers, cls, message] of cases) {
      let error: unknown = null;
      try {
        replay(gathers);
      } catch (e) {
        error = e;
      }
      expect(error, `gathers ${JSON.stringify(gathers)?.slice(0, 80)}`).toBeInstanceOf(cls);
      expect((error as Error).message).toMatch(/^planReplay: /);
      expect((error as Error).message).toMatch(message);
    }
    expect(output).toEqual(outputBefore); // nothing ran
    expect(target).toEqual(new Float32Array(12));
  });

  test('class indices copied into a recorded cross-entropy are checked again at every replay', () => {
    const n = 3, c = 4;
    const logits = new Rng(24).f32(n * c);
    const target = new Int32Array([0, 3, 1]);
    const loss = new Float32Array(n);
    const probs = new Float32Array(n * c);
    const a = addon();
    a.planBegin();
    a.softmaxCrossEntropy(n, c, 0, logits, target, loss, probs);
    const plan = a.planEnd();
    a.planReplay(plan, [new Int32Array([2, 2, 0])], [target]);
    const want = new Float32Array(n);
    a.softmaxCrossEntropy(n, c, 0, logits, new Int32Array([2, 2, 0]), want, new Float32Array(n * c));
    expect(new Uint32Array(loss.buffer)).toEqual(new Uint32Array(want.buffer));
    expectThrownKernel(() => a.planReplay(plan, [new Int32Array([0, 4, 1])], [target]), /^softmaxCrossEntropy: target\[1\] = 4 is not a class index in \[0, 4\)/);
    expectThrownKernel(() => a.planReplay(plan, [new Int32Array([-1, 0, 1])], [target]), /^softmaxCrossEntropy: target\[0\] = -1 is not a class index/);
  });
});

describe('planReplay with dropout: the recorded mask draws its seed from a cell each replay refills', () => {
  test('replays with the given seeds bit-identically to direct dropout calls; seeds are required and checked', async () => {
    const a = addon();
    const n = 37;
    const x = new Rng(25).f32(n);
    const y = new Float32Array(n);
    const mask = new Float32Array(n);
    a.planBegin();
    a.dropout(0.4, 123, x, y, mask);
    a.dropout(0.2, 456, y, y, mask); // a second cell
    const plan = a.planEnd();
    expect(plan.seeds).toBe(2);
    const direct = (s1: number, s2: number) => {
      const yy = new Float32Array(n);
      const mm = new Float32Array(n);
      a.dropout(0.4, s1, x, yy, mm);
      a.dropout(0.2, s2, yy, yy, mm);
      return { yy, mm };
    };
    for (const [s1, s2] of [[1, 2], [4000000000, 7], [123, 456]]) {
      a.planReplay(plan, [], [], Uint32Array.from([s1, s2]));
      const want = direct(s1, s2);
      expect(new Uint32Array(y.buffer)).toEqual(new Uint32Array(want.yy.buffer));
      expect(new Uint32Array(mask.buffer)).toEqual(new Uint32Array(want.mm.buffer));
    }
    const replay = (...args: unknown[]) => (a.planReplay as (...x: unknown[]) => unknown)(...args);
    expectKernelError(() => replay(plan, [], []), RangeError, 'planReplay');
    expectKernelError(() => replay(plan, [], [], new Uint32Array(1)), RangeError, 'planReplay');
    expectKernelError(() => replay(plan, [], [], new Int32Array(2)), TypeError, 'planReplay');
    expectKernelError(() => replay(plan, [], [], [1, 2]), TypeError, 'planReplay');
    expectKernelError(() => a.planRun(plan, x, y, new Float32Array(n), new Float32Array(n), 1), RangeError, 'planRun');
    // A plan without cells takes an empty seeds array or none.
    const { plan: plain, input } = recordTwoLayers(3, 26);
    expect(plain.seeds).toBe(0);
    a.planReplay(plain, [], [], new Uint32Array(0));
    a.planReplay(plain, [new Float32Array(input.length)], [input]);
  });
});

function expectThrownKernel(fn: () => void, message: RegExp): void {
  let thrown: unknown = null;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(RangeError);
  expect((thrown as Error).message).toMatch(message);
}
