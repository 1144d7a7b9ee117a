// Index math shared by the reference kernels that broadcast or reduce: which input element (or which
// output element of a reduction) a flat index of the larger tensor maps to. Deliberately plain: these
// loops are the oracle, so they favour obviously-right over fast.

import { checkShape } from '../checks.js';

/** Largest rank accepted (the native binding has the same limit). */
export const MAX_RANK = 8;

/** A shape of rank <= MAX_RANK whose dims are integers >= 1; returns its element count. */
export function checkRankedShape(op: string, name: string, shape: unknown): number {
  if (!Array.isArray(shape)) throw new TypeError(`${op}: ${name} must be an array of sizes, got ${typeof shape}`);
  const size = checkShape(op, name, shape);
  if ((shape as number[]).length > MAX_RANK) {
    throw new RangeError(`${op}: ${name} has rank ${(shape as number[]).length}, at most ${MAX_RANK}`);
  }
  return size;
}

/**
 * For every element of a tensor of shape `outShape`, the flat index of the element of `inShape` it
 * reads under NumPy broadcasting (`inShape` is right-aligned; its size-1 dims repeat).
 */
export function broadcastIndexMap(outShape: readonly number[], inShape: readonly number[]): number[] {
  const rank = outShape.length;
  const offset = rank - inShape.length;
  // Stride of each output axis inside the input (0 where the input repeats).
  const inStrides = new Array<number>(rank).fill(0);
  let s = 1;
  for (let d = rank - 1; d >= offset; d--) {
    const size = inShape[d - offset];
    inStrides[d] = size === 1 ? 0 : s;
    s *= size;
  }
  let total = 1;
  for (const d of outShape) total *= d;
  const map = new Array<number>(total);
  const idx = new Array<number>(rank).fill(0);
  for (let i = 0; i < total; i++) {
    let j = 0;
    for (let d = 0; d < rank; d++) j += idx[d] * inStrides[d];
    map[i] = j;
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d] < outShape[d]) break;
      idx[d] = 0;
    }
  }
  return map;
}

/**
 * Axes must be a sorted list of unique integers in [0, rank). Returns a per-axis flag "is reduced".
 */
export function checkAxes(op: string, axes: unknown, rank: number): boolean[] {
  if (!Array.isArray(axes)) throw new TypeError(`${op}: axes must be an array of integers, got ${typeof axes}`);
  const reduced = new Array<boolean>(rank).fill(false);
  let previous = -1;
  for (const a of axes) {
    if (typeof a !== 'number' || !Number.isInteger(a) || a < 0 || a >= rank) {
      throw new RangeError(`${op}: axis ${String(a)} is out of range for rank ${rank} (axes ${JSON.stringify(axes)})`);
    }
    if (a <= previous) {
      throw new RangeError(`${op}: axes must be sorted and unique, got ${JSON.stringify(axes)}`);
    }
    reduced[a] = true;
    previous = a;
  }
  return reduced;
}

/**
 * For a reduction of `shape` over the flagged axes: the flat index, in the reduced output, of every
 * input element, and the output element count. Input elements are visited in row-major order, so the
 * elements that share an output arrive in the order of their reduced multi-index ("first" = lowest).
 */
export function reduceIndexMap(shape: readonly number[], reduced: readonly boolean[]): { map: number[]; outCount: number } {
  const rank = shape.length;
  const outStrides = new Array<number>(rank).fill(0);
  let s = 1;
  for (let d = rank - 1; d >= 0; d--) {
    if (!reduced[d]) {
      outStrides[d] = s;
      s *= shape[d];
    }
  }
  let total = 1;
  for (const d of shape) total *= d;
  const map = new Array<number>(total);
  const idx = new Array<number>(rank).fill(0);
  for (let i = 0; i < total; i++) {
    let o = 0;
    for (let d = 0; d < rank; d++) o += idx[d] * outStrides[d];
    map[i] = o;
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return { map, outCount: s };
}
