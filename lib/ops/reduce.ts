// Reductions over a set of axes (sum, mean, max), argmax, and maxout (a max over groups of units).
// Forward: backend.reduce; backward: backend.reduceBackward (max routes dy to the first maximum).

import { kernelOutput } from '../backend/alloc.js';
import { output } from '../autograd/record.js';
import type { ReduceOp } from '../backend/backend.js';
import { getBackend } from '../backend/index.js';
import { Tensor, formatShape } from '../tensor.js';
import { checkPositiveInt, checkTensor, floatData, normalizeAxis, sizeOf } from './check.js';
import { reshape } from './shape.js';

/** Sorted unique axes; undefined means every axis. */
function resolveAxes(op: string, x: Tensor, axes: number | readonly number[] | undefined): number[] {
  if (axes === undefined) return x.shape.map((_, i) => i);
  const list = typeof axes === 'number' ? [axes] : axes;
  if (!Array.isArray(list)) throw new TypeError(`${op}: axes must be a number or an array of numbers`);
  const norm = [...new Set(list.map((a) => normalizeAxis(op, a, x.rank)))].sort((p, q) => p - q);
  return norm;
}

function reduce(op: ReduceOp, x: Tensor, axesIn: number | readonly number[] | undefined, keepDims: boolean): Tensor {
  const xd = floatData(op, 'x', x);
  const axes = resolveAxes(op, x, axesIn);
  if (x.size === 0) throw new RangeError(`${op}: cannot reduce an empty tensor (shape ${formatShape(x.shape)})`);
  const outShape = keepDims
    ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
    : x.shape.filter((_, i) => !axes.includes(i));
  const y = kernelOutput(sizeOf(outShape));
  if (x.rank === 0 || axes.length === 0) {
    y.set(xd); // nothing to reduce
    return output(op, [x], y, outShape, (dy) => [dy]);
  }
  const shape = x.shape;
  getBackend().reduce(op, shape, axes, xd, y);
  // sum and mean save nothing; max reads x and y to find the first maximum. reduceBackward takes x
  // and y for every op, so sum/mean pass zero-filled buffers of the right length made at backward time.
  const savedX = op === 'max' ? xd : null;
  const savedY = op === 'max' ? y : null;
  return output(op, [x], y, outShape, (dy) => {
    const dx = kernelOutput(sizeOf(shape));
    const xArg = savedX ?? new Float32Array(dx.length);
    const yArg = savedY ?? new Float32Array(dy.length);
    getBackend().reduceBackward(op, shape, axes, dx, dy, xArg, yArg);
    return [dx];
  });
}

export function sum(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  return reduce('sum', x, axes, keepDims);
}
export function mean(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  return reduce('mean', x, axes, keepDims);
}
export function max(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  return reduce('max', x, axes, keepDims);
}

/** Index of the first maximum along `axis` (int32, shape without that axis). Not differentiable. */
export function argmax(x: Tensor, axis = -1): Tensor {
  const xd = floatData('argmax', 'x', x);
  const a = normalizeAxis('argmax', axis, x.rank);
  const outShape = x.shape.filter((_, i) => i !== a);
  const y = new Int32Array(sizeOf(outShape));
  getBackend().argmax(x.shape, a, xd, y);
  return new Tensor(y, outShape);
}

/**
 * Maxout (Goodfellow et al. 2013) over the last axis: its C units form C/pieces groups of `pieces`
 * consecutive units; each output is the max of its group. [..., C] -> [..., C/pieces].
 */
export function maxout(x: Tensor, pieces: number): Tensor {
  checkTensor('maxout', 'x', x);
  checkPositiveInt('maxout', 'pieces', pieces);
  const c = x.shape[x.rank - 1];
  if (x.rank === 0 || c % pieces !== 0) {
    throw new RangeError(`maxout: the last axis of ${formatShape(x.shape)} must be divisible by pieces=${pieces}`);
  }
  const grouped = reshape(x, [...x.shape.slice(0, -1), c / pieces, pieces]);
  return max(grouped, -1);
}
