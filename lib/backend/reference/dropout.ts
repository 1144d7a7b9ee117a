// Inverted dropout with the counter-based mask documented on Backend.dropout: element i's fate depends
// only on (seed, i), so the native kernel reproduces it bit for bit on any thread count.

import type { Backend } from '../backend.js';
import { checkLength, describe } from '../checks.js';

/** lowbias32 integer hash; Math.imul and >>> 0 keep every step mod 2^32. */
export function lowbias32(v: number): number {
  v = (v ^ (v >>> 16)) >>> 0;
  v = Math.imul(v, 0x7feb352d) >>> 0;
  v = (v ^ (v >>> 15)) >>> 0;
  v = Math.imul(v, 0x846ca68b) >>> 0;
  return (v ^ (v >>> 16)) >>> 0;
}

/** true iff element i survives: u = (h >>> 8) / 2^24 >= p with h = lowbias32(i·0x9E3779B9 + lowbias32(seed)). */
export function dropoutKeep(seedHash: number, i: number, p: number): boolean {
  const h = lowbias32((Math.imul(i, 0x9e3779b9) + seedHash) >>> 0);
  return (h >>> 8) / 16777216 >= p;
}

export const dropoutKernels: Pick<Backend, 'dropout'> = {
  // x [n] -> y [n], mask [n] with mask[i] = keep ? 1/(1-p) : 0 and y = x·mask.
  dropout(p, seed, x, y, mask) {
    const op = 'dropout';
    if (typeof p !== 'number') throw new TypeError(`${op}: p must be a number, got ${describe(p)}`);
    if (!(p >= 0 && p < 1)) throw new RangeError(`${op}: p must be in [0, 1), got ${p}`);
    if (typeof seed !== 'number') throw new TypeError(`${op}: seed must be a number, got ${describe(seed)}`);
    if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) {
      throw new RangeError(`${op}: seed must be an integer in [0, 2^32), got ${seed}`);
    }
    if (!(x instanceof Float32Array)) throw new TypeError(`${op}: x must be a Float32Array, got ${describe(x)}`);
    if (x.length < 1) throw new RangeError(`${op}: x must not be empty`);
    checkLength(op, 'y', y, x.length, 'x.length');
    checkLength(op, 'mask', mask, x.length, 'x.length');

    // Rounded to float once, as native does; x·scale is then the same correctly rounded product.
    const scale = Math.fround(1 / (1 - p));
    const seedHash = lowbias32(seed);
    for (let i = 0; i < x.length; i++) {
      const m = dropoutKeep(seedHash, i, p) ? scale : 0;
      mask[i] = m;
      y[i] = x[i] * m;
    }
  },
};
