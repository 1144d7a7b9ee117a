// Reference reductions: sum / mean / max over a sorted set of axes, their backward passes, and argmax.
// Every input element is visited in row-major order, so the first maximum of a group is the one with
// the lowest reduced multi-index (the one argmax names).

import type { Backend, ReduceOp } from '../backend.js';
import { checkI32, checkLength, describe } from '../checks.js';
import { checkAxes, checkRankedShape, reduceIndexMap } from './broadcast.js';

const REDUCE_OPS: readonly ReduceOp[] = ['sum', 'mean', 'max'];

function checkReduceOp(kernel: string, op: unknown): asserts op is ReduceOp {
  if (typeof op !== 'string') throw new TypeError(`${kernel}: op must be a string, got ${describe(op)}`);
  if (!(REDUCE_OPS as readonly string[]).includes(op)) {
    throw new RangeError(`${kernel}: unknown op '${op}' (expected one of ${REDUCE_OPS.join(', ')})`);
  }
}

/** NaN beats everything (and the first NaN stays); otherwise only a strictly larger value wins. */
export function beatsMax(v: number, best: number): boolean {
  return v > best || (Number.isNaN(v) && !Number.isNaN(best));
}

interface ReducePlan {
  map: number[];
  outCount: number;
  xSize: number;
  /** elements per output */
  count: number;
  how: string;
}

function plan(kernel: string, shape: readonly number[], axes: readonly number[]): ReducePlan {
  const xSize = checkRankedShape(kernel, 'shape', shape);
  const reduced = checkAxes(kernel, axes, shape.length);
  const { map, outCount } = reduceIndexMap(shape, reduced);
  const kept = shape.filter((_, d) => !reduced[d]);
  return { map, outCount, xSize, count: xSize / outCount, how: `size of [${kept.join(',')}] (shape without axes)` };
}

/** Index (in row-major order of x) of the first maximum of each output group. */
function firstMaxima(p: ReducePlan, x: Float32Array): { best: Float64Array; at: Float64Array } {
  const best = new Float64Array(p.outCount);
  const at = new Float64Array(p.outCount).fill(-1); // flat indices can exceed 2^31
  for (let i = 0; i < p.xSize; i++) {
    const o = p.map[i];
    if (at[o] < 0 || beatsMax(x[i], best[o])) {
      best[o] = x[i];
      at[o] = i;
    }
  }
  return { best, at };
}

export const reduceKernels: Pick<Backend, 'reduce' | 'reduceBackward' | 'argmax'> = {
  // x [shape] -> y [shape without axes]
  reduce(op, shape, axes, x, y) {
    const k = 'reduce';
    checkReduceOp(k, op);
    const p = plan(k, shape, axes);
    checkLength(k, 'x', x, p.xSize, `size of shape [${shape.join(',')}]`);
    checkLength(k, 'y', y, p.outCount, p.how);
    if (op === 'max') {
      y.set(firstMaxima(p, x).best);
      return;
    }
    const sum = new Float64Array(p.outCount);
    for (let i = 0; i < p.xSize; i++) sum[p.map[i]] += x[i];
    for (let o = 0; o < p.outCount; o++) y[o] = op === 'mean' ? sum[o] / p.count : sum[o];
  },

  // dy [shape without axes], x [shape], y [shape without axes] -> dx [shape]
  reduceBackward(op, shape, axes, dx, dy, x, y) {
    const k = 'reduceBackward';
    checkReduceOp(k, op);
    const p = plan(k, shape, axes);
    checkLength(k, 'dx', dx, p.xSize, `size of shape [${shape.join(',')}]`);
    checkLength(k, 'dy', dy, p.outCount, p.how);
    checkLength(k, 'x', x, p.xSize, `size of shape [${shape.join(',')}]`);
    checkLength(k, 'y', y, p.outCount, p.how);
    if (op === 'max') {
      const { at } = firstMaxima(p, x);
      dx.fill(0);
      for (let o = 0; o < p.outCount; o++) dx[at[o]] = dy[o];
      return;
    }
    const scale = op === 'mean' ? 1 / p.count : 1;
    for (let i = 0; i < p.xSize; i++) dx[i] = dy[p.map[i]] * scale;
  },

  // x [shape] -> y (Int32Array) [shape without axis]
  argmax(shape, axis, x, y) {
    const k = 'argmax';
    const xSize = checkRankedShape(k, 'shape', shape);
    if (shape.length < 1) throw new RangeError(`${k}: shape must have rank >= 1, got []`);
    if (typeof axis !== 'number') throw new TypeError(`${k}: axis must be a number, got ${describe(axis)}`);
    if (!Number.isInteger(axis) || axis < 0 || axis >= shape.length) {
      throw new RangeError(`${k}: axis ${String(axis)} is out of range for rank ${shape.length}`);
    }
    checkLength(k, 'x', x, xSize, `size of shape [${shape.join(',')}]`);
    checkI32(k, 'y', y);
    const outCount = xSize / shape[axis];
    if (y.length !== outCount) {
      throw new RangeError(`${k}: y has length ${y.length}, expected size of shape without axis ${axis} = ${outCount}`);
    }
    const p = plan(k, shape, [axis]);
    const { at } = firstMaxima(p, x);
    // Position along `axis` of the flat index: (i / stride(axis)) % shape[axis].
    let stride = 1;
    for (let d = shape.length - 1; d > axis; d--) stride *= shape[d];
    for (let o = 0; o < outCount; o++) y[o] = Math.floor(at[o] / stride) % shape[axis];
  },
};
