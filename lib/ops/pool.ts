// Pooling over NHWC images: maxPool2d, avgPool2d, and global average/max pooling ([N,H,W,C] -> [N,C]).

import { output } from '../autograd/record.js';
import type { Pool2dArgs } from '../backend/backend.js';
import { kernelOutput } from '../backend/alloc.js';
import { getBackend } from '../backend/index.js';
import { convOutputSize, resolvePadding, type PaddingSpec } from '../backend/shape.js';
import type { Tensor } from '../tensor.js';
import { formatShape } from '../tensor.js';
import { checkRank, floatData } from './check.js';
import { pair } from './conv.js';

export interface Pool2dOptions {
  kernelSize: number | [number, number];
  /** Default: the kernel size (PyTorch). */
  stride?: number | [number, number];
  /** Each pad at most half the kernel size. Default 'valid' (0). */
  padding?: PaddingSpec;
}

export interface AvgPool2dOptions extends Pool2dOptions {
  /** Divide by the full window size including padding (default true, PyTorch). */
  countIncludePad?: boolean;
}

function poolArgs(op: string, x: Tensor, options: Pool2dOptions): Pool2dArgs {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${op}: options { kernelSize, stride?, padding? } are required`);
  checkRank(op, 'x', x, [4]);
  const [n, h, w, c] = x.shape;
  const [kh, kw] = pair(op, 'kernelSize', options.kernelSize);
  const [strideH, strideW] = pair(op, 'stride', options.stride ?? [kh, kw]);
  const pad = resolvePadding(op, options.padding ?? 'valid', h, w, kh, kw, strideH, strideW);
  if (pad.padTop > kh / 2 || pad.padBottom > kh / 2 || pad.padLeft > kw / 2 || pad.padRight > kw / 2) {
    throw new RangeError(`${op}: padding ${JSON.stringify(pad)} must be at most half the ${kh}x${kw} window`);
  }
  const oh = convOutputSize(h, kh, strideH, 1, pad.padTop, pad.padBottom);
  const ow = convOutputSize(w, kw, strideW, 1, pad.padLeft, pad.padRight);
  if (oh < 1 || ow < 1) throw new RangeError(`${op}: the ${kh}x${kw} window does not fit x ${formatShape(x.shape)}`);
  return { n, h, w, c, kh, kw, strideH, strideW, ...pad, oh, ow };
}

/** Max over each window; the gradient goes to the first maximum (row-major scan). */
export function maxPool2d(x: Tensor, options: Pool2dOptions): Tensor {
  const xd = floatData('maxPool2d', 'x', x);
  const args = poolArgs('maxPool2d', x, options);
  const y = kernelOutput(args.n * args.oh * args.ow * args.c);
  getBackend().maxPool2d(args, xd, y);
  return output('maxPool2d', [x], y, [args.n, args.oh, args.ow, args.c], (dy) => {
    const dx = kernelOutput(xd.length);
    getBackend().maxPool2dBackward(args, dx, dy, xd);
    return [dx];
  });
}

/** Mean over each window; saves nothing. */
export function avgPool2d(x: Tensor, options: AvgPool2dOptions): Tensor {
  const xd = floatData('avgPool2d', 'x', x);
  const args = poolArgs('avgPool2d', x, options);
  const countIncludePad = options.countIncludePad ?? true;
  if (typeof countIncludePad !== 'boolean') throw new TypeError(`avgPool2d: countIncludePad must be a boolean, got ${typeof countIncludePad}`);
  const y = kernelOutput(args.n * args.oh * args.ow * args.c);
  getBackend().avgPool2d(args, countIncludePad, xd, y);
  const xSize = xd.length;
  return output('avgPool2d', [x], y, [args.n, args.oh, args.ow, args.c], (dy) => {
    const dx = kernelOutput(xSize);
    getBackend().avgPool2dBackward(args, countIncludePad, dx, dy);
    return [dx];
  });
}

/** Mean over H and W: [N,H,W,C] -> [N,C]. */
export function globalAvgPool2d(x: Tensor): Tensor {
  const xd = floatData('globalAvgPool2d', 'x', x);
  checkRank('globalAvgPool2d', 'x', x, [4]);
  const [n, h, w, c] = x.shape;
  const y = kernelOutput(n * c);
  getBackend().globalAvgPool2d(n, h * w, c, xd, y);
  return output('globalAvgPool2d', [x], y, [n, c], (dy) => {
    const dx = kernelOutput(n * h * w * c);
    getBackend().globalAvgPool2dBackward(n, h * w, c, dx, dy);
    return [dx];
  });
}

/** Max over H and W: [N,H,W,C] -> [N,C]. */
export function globalMaxPool2d(x: Tensor): Tensor {
  const xd = floatData('globalMaxPool2d', 'x', x);
  checkRank('globalMaxPool2d', 'x', x, [4]);
  const [n, h, w, c] = x.shape;
  const y = kernelOutput(n * c);
  getBackend().globalMaxPool2d(n, h * w, c, xd, y);
  return output('globalMaxPool2d', [x], y, [n, c], (dy) => {
    const dx = kernelOutput(xd.length);
    getBackend().globalMaxPool2dBackward(n, h * w, c, dx, dy, xd);
    return [dx];
  });
}
