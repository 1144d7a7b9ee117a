// gatherRows on both backends: y's row i is x's row indices[i], bit for bit, on every ISA and thread
// count; repeated and out-of-order indices; bad input throws naming the kernel.
import { describe, expect, it } from 'vitest';
import type { Backend } from '../../lib/backend/backend.js';
import { Rng, callLoose, expectIdentical, expectKernelError, nativeBackend, nativeConfigs, referenceBackend, withNativeConfig } from '../helpers/parity.js';

function gather(b: Backend, rowSize: number, x: Float32Array, indices: Int32Array): Float32Array {
  const y = new Float32Array(indices.length * rowSize).fill(NaN);
  b.gatherRows(rowSize, x, indices, y);
  return y;
}

describe('gatherRows reference', () => {
  it('rowSize 3, rows [3, 0, 3, 1]: copies whole rows, repeats allowed', () => {
    const x = Float32Array.from({ length: 12 }, (_, i) => i);
    const y = gather(referenceBackend, 3, x, Int32Array.from([3, 0, 3, 1]));
    expect(Array.from(y)).toEqual([9, 10, 11, 0, 1, 2, 9, 10, 11, 3, 4, 5]);
  });
});

describe('gatherRows native vs reference', () => {
  const rng = new Rng(21);
  const cases: [number, number, number][] = [[1, 7, 5], [3, 10, 64], [17, 33, 100], [784, 301, 64], [4099, 9, 23], [5, 1000, 1]];
  for (const config of nativeConfigs()) {
    for (const [rowSize, rows, n] of cases) {
      it(`${config.label}: rowSize=${rowSize} rows=${rows} n=${n}`, () => {
        const x = rng.f32(rowSize * rows);
        const indices = Int32Array.from({ length: n }, () => rng.int(0, rows - 1));
        const want = gather(referenceBackend, rowSize, x, indices);
        withNativeConfig(config, () => expectIdentical(gather(nativeBackend(), rowSize, x, indices), want, `rowSize=${rowSize} n=${n}`));
      });
    }
  }
});

describe.each([['reference', () => referenceBackend], ['native', nativeBackend]] as const)('gatherRows bad input (%s)', (_, get) => {
  const x = new Float32Array(12);
  const y = new Float32Array(6);
  const ok = Int32Array.from([1, 2]);
  it.each([
    ['index past the last row', [3, x, Int32Array.from([1, 4]), y], RangeError],
    ['negative index', [3, x, Int32Array.from([-1, 0]), y], RangeError],
    ['x not a whole number of rows', [5, x, ok, new Float32Array(10)], RangeError],
    ['y of the wrong length', [3, x, ok, new Float32Array(7)], RangeError],
    ['empty indices', [3, x, new Int32Array(0), new Float32Array(0)], RangeError],
    ['rowSize 0', [0, x, ok, y], RangeError],
    ['rowSize NaN', [NaN, x, ok, y], RangeError],
    ['Float32Array indices', [3, x, Float32Array.from([1, 2]), y], TypeError],
    ['Float64Array x', [3, new Float64Array(12), ok, y], TypeError],
    ['plain array y', [3, x, ok, [0, 0, 0, 0, 0, 0]], TypeError],
  ] as const)('%s', (_label, args, cls) => {
    expectKernelError(() => callLoose(get(), 'gatherRows', ...args), cls, 'gatherRows');
  });
  it('a refused call writes nothing', () => {
    const out = new Float32Array(6).fill(7);
    expect(() => get().gatherRows(3, x, Int32Array.from([0, 9]), out)).toThrow(/out of range/);
    expect(Array.from(out)).toEqual([7, 7, 7, 7, 7, 7]);
  });
});
