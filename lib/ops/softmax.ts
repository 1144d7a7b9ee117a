// softmax and logSoftmax along one axis. The kernels see x as [outer, dim, inner], which covers any
// axis of a row-major tensor without a transpose. Both backward kernels read only the output y.

import { output } from '../autograd/record.js';
import { kernelOutput } from '../backend/alloc.js';
import { getBackend } from '../backend/index.js';
import type { Tensor } from '../tensor.js';
import { floatData, normalizeAxis, sizeOf } from './check.js';

function split(op: string, x: Tensor, axis: number): [number, number, number] {
  const a = normalizeAxis(op, axis, x.rank);
  if (x.rank === 0) throw new RangeError(`${op}: x must have rank >= 1, got a scalar`);
  return [sizeOf(x.shape.slice(0, a)), x.shape[a], sizeOf(x.shape.slice(a + 1))];
}

/** y = exp(x) / Σ exp(x) along `axis`. */
export function softmax(x: Tensor, axis = -1): Tensor {
  const xd = floatData('softmax', 'x', x);
  const [outer, dim, inner] = split('softmax', x, axis);
  const y = kernelOutput(xd.length);
  getBackend().softmax(outer, dim, inner, xd, y);
  return output('softmax', [x], y, x.shape, (dy) => {
    const dx = kernelOutput(dy.length);
    getBackend().softmaxBackward(outer, dim, inner, dx, dy, y);
    return [dx];
  });
}

/** y = x - log Σ exp(x) along `axis` (stable). */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const xd = floatData('logSoftmax', 'x', x);
  const [outer, dim, inner] = split('logSoftmax', x, axis);
  const y = kernelOutput(xd.length);
  getBackend().logSoftmax(outer, dim, inner, xd, y);
  return output('logSoftmax', [x], y, x.shape, (dy) => {
    const dx = kernelOutput(dy.length);
    getBackend().logSoftmaxBackward(outer, dim, inner, dx, dy, y);
    return [dx];
  });
}
