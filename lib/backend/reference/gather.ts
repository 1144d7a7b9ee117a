// Row gather: y's row i = x's row indices[i] (what a DataLoader does to build a shuffled batch).

import type { Backend } from '../backend.js';
import { checkF32, checkI32, checkLength, describe } from '../checks.js';

export const gatherKernels: Pick<Backend, 'gatherRows'> = {
  // x [rows, rowSize], indices [n] -> y [n, rowSize]
  gatherRows(rowSize, x, indices, y) {
    const op = 'gatherRows';
    if (typeof rowSize !== 'number') throw new TypeError(`${op}: rowSize must be a number, got ${describe(rowSize)}`);
    if (!Number.isInteger(rowSize) || rowSize < 1 || rowSize > 2 ** 31 - 1) throw new RangeError(`${op}: rowSize must be an integer >= 1, got ${rowSize}`);
    checkF32(op, 'x', x);
    checkI32(op, 'indices', indices);
    if (x.length === 0 || x.length % rowSize !== 0) {
      throw new RangeError(`${op}: x has length ${x.length}, which is not a positive multiple of rowSize ${rowSize}`);
    }
    if (indices.length < 1) throw new RangeError(`${op}: indices must not be empty`);
    checkLength(op, 'y', y, indices.length * rowSize, `indices.length*rowSize (${indices.length}*${rowSize})`);
    const rows = x.length / rowSize;
    for (let i = 0; i < indices.length; i++) {
      const r = indices[i];
      if (r < 0 || r >= rows) throw new RangeError(`${op}: indices[${i}] = ${r} is out of range for ${rows} rows`);
    }
    for (let i = 0; i < indices.length; i++) {
      const src = indices[i] * rowSize;
      for (let k = 0; k < rowSize; k++) y[i * rowSize + k] = x[src + k];
    }
  },
};
