// Data-movement ops: forward values, errors, and gradients (finite differences) on both backends.
import { describe, expect, test } from 'vitest';
import * as ops from '../../lib/ops/index.js';
import { tensor } from '../../lib/ops/creation.js';
import { BACKENDS, gradcheck, onBackend, randTensor } from '../helpers/gradcheck.js';
import { Rng } from '../helpers/parity.js';

describe('data movement: forward', () => {
  const x = tensor([[1, 2, 3], [4, 5, 6]]);

  test('reshape shares data, infers -1, rejects bad sizes', () => {
    const y = x.reshape([3, -1]);
    expect(y.shape).toEqual([3, 2]);
    expect(y.data).toBe(x.data);
    expect(() => x.reshape([4, 2])).toThrow(/reshape: cannot reshape \[2,3\] \(6 elements\) into \[4,2\]/);
    expect(() => x.reshape([-1, -1])).toThrow(/reshape: invalid shape/);
  });

  test('transpose and permute', () => {
    expect(x.transpose().toArray()).toEqual([[1, 4], [2, 5], [3, 6]]);
    const t = tensor(Float32Array.from({ length: 24 }, (_, i) => i), [2, 3, 4]);
    const p = t.permute([2, 0, 1]);
    expect(p.shape).toEqual([4, 2, 3]);
    // p[k,i,j] = t[i,j,k] = 12i + 4j + k
    expect(p.toArray()).toEqual(
      Array.from({ length: 4 }, (_, k) => Array.from({ length: 2 }, (_, i) => Array.from({ length: 3 }, (_, j) => 12 * i + 4 * j + k))),
    );
    expect(() => t.permute([0, 0, 1])).toThrow(/permute: axes \[0,0,1\] must be a permutation of 0..2 for shape \[2,3,4\]/);
  });

  test('slice with negative begin and -1 size; out of bounds names the shape', () => {
    expect(x.slice([0, 1]).toArray()).toEqual([[2, 3], [5, 6]]);
    expect(x.slice([-1, 0], [1, 2]).toArray()).toEqual([[4, 5]]);
    expect(() => x.slice([0, 2], [1, 2])).toThrow(/slice: .* out of bounds for shape \[2,3\] \(axis 1\)/);
  });

  test('concat and stack', () => {
    const y = tensor([[7, 8, 9]]);
    expect(ops.concat([x, y], 0).toArray()).toEqual([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
    expect(ops.concat([x, x], 1).toArray()).toEqual([[1, 2, 3, 1, 2, 3], [4, 5, 6, 4, 5, 6]]);
    expect(ops.stack([tensor([1, 2]), tensor([3, 4])], 1).toArray()).toEqual([[1, 3], [2, 4]]);
    expect(() => ops.concat([x, tensor([1, 2])], 0)).toThrow(/concat: shapes \[2,3\] float32, \[2\] float32 differ outside axis 0/);
  });

  test('flatten, squeeze, unsqueeze', () => {
    const t = ops.zeros([2, 1, 3, 4]);
    expect(t.flatten(1).shape).toEqual([2, 12]);
    expect(t.flatten().shape).toEqual([24]);
    expect(t.squeeze(1).shape).toEqual([2, 3, 4]);
    expect(t.squeeze().shape).toEqual([2, 3, 4]);
    expect(t.unsqueeze(-1).shape).toEqual([2, 1, 3, 4, 1]);
    expect(() => t.squeeze(0)).toThrow(/squeeze: axis 0 of shape \[2,1,3,4\] has size 2, not 1/);
  });

  test('broadcastTo copies along size-1 and leading axes', () => {
    expect(tensor([[1], [2]]).broadcastTo([2, 3]).toArray()).toEqual([[1, 1, 1], [2, 2, 2]]);
    expect(tensor([1, 2]).broadcastTo([2, 2]).toArray()).toEqual([[1, 2], [1, 2]]);
    expect(() => tensor([1, 2]).broadcastTo([3])).toThrow(/broadcastTo: cannot broadcast \[2\] to \[3\]/);
  });

  test('indexSelect gathers rows (repeats allowed) and works on int32', () => {
    expect(x.indexSelect(0, [1, 0, 1]).toArray()).toEqual([[4, 5, 6], [1, 2, 3], [4, 5, 6]]);
    expect(x.indexSelect(1, [2]).toArray()).toEqual([[3], [6]]);
    const labels = tensor(new Int32Array([5, 6, 7]));
    const picked = labels.indexSelect(0, [2, 0]);
    expect(picked.dtype).toBe('int32');
    expect(Array.from(picked.data)).toEqual([7, 5]);
    expect(() => x.indexSelect(0, [2])).toThrow(/indexSelect: index 2 is out of range for axis 0 of size 2/);
  });
});

for (const backend of BACKENDS) {
  describe(`data movement gradients (${backend})`, () => {
    const rng = new Rng(7);
    const cases: [string, (t: ReturnType<typeof randTensor>) => ReturnType<typeof randTensor>, number[]][] = [
      ['reshape [2,3,4]->[6,4]', (t) => t.reshape([6, 4]), [2, 3, 4]],
      ['permute [2,3,4] by [2,0,1]', (t) => t.permute([2, 0, 1]), [2, 3, 4]],
      ['transpose [3,5]', (t) => t.transpose(), [3, 5]],
      ['slice [4,5] begin [1,2] size [2,-1]', (t) => t.slice([1, 2], [2, -1]), [4, 5]],
      ['broadcastTo [3,1]->[2,3,4]', (t) => t.broadcastTo([2, 3, 4]), [3, 1]],
      ['indexSelect axis 1 [2,0,2]', (t) => t.indexSelect(1, [2, 0, 2]), [2, 3, 2]],
      ['flatten+unsqueeze', (t) => t.flatten(1).unsqueeze(0), [2, 2, 3]],
    ];
    for (const [name, fn, shape] of cases) {
      test(name, () => {
        onBackend(backend, () => {
          const x = randTensor(rng, shape);
          expect(gradcheck(fn, [x], { name })).toBe(x.size);
        });
      });
    }
    test('concat of three inputs along axis 1 (one reused twice)', () => {
      onBackend(backend, () => {
        const a = randTensor(rng, [2, 2]);
        const b = randTensor(rng, [2, 3]);
        expect(gradcheck((p, q) => ops.concat([p, q, p], 1), [a, b], { name: 'concat' })).toBe(10);
      });
    });
  });
}
