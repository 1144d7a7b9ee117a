// conv2d: x [N,H,W,C], w [KH,KW,C/groups,OC], bias [OC] -> y [N,OH,OW,OC], with an optional fused
// activation. Backward: conv2dBackwardInput (dx) and conv2dBackwardFilter (dw, dbias).

import { output } from '../autograd/record.js';
import type { Conv2dArgs } from '../backend/backend.js';
import { kernelOutput } from '../backend/alloc.js';
import { getBackend } from '../backend/index.js';
import { convOutputSize, resolvePadding, type PaddingSpec } from '../backend/shape.js';
import { Tensor, formatShape } from '../tensor.js';
import { checkPositiveInt, floatData } from './check.js';
import { activationBackward, resolveActivation, type ActivationOptions } from './matmul.js';

export interface Conv2dOptions extends ActivationOptions {
  stride?: number | [number, number];
  /** 'valid' (default), 'same', a number, [vertical, horizontal] or [top, bottom, left, right]. */
  padding?: PaddingSpec;
  dilation?: number | [number, number];
  groups?: number;
}

/** A number or a [height, width] pair, each an integer >= 1. */
export function pair(op: string, name: string, v: number | [number, number]): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : Array.isArray(v) && v.length === 2 ? [v[0], v[1]] : [NaN, NaN];
  if (!p.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new RangeError(`${op}: ${name} must be an integer >= 1 or a pair of them, got ${JSON.stringify(v)}`);
  }
  return p;
}

export function conv2d(x: Tensor, w: Tensor, bias: Tensor | null = null, options: Conv2dOptions = {}): Tensor {
  const op = 'conv2d';
  const xd = floatData(op, 'x', x);
  const wd = floatData(op, 'w', w);
  if (x.rank !== 4 || w.rank !== 4) {
    throw new RangeError(`${op}: expected x [N,H,W,C] and w [KH,KW,C/groups,OC], got ${formatShape(x.shape)} and ${formatShape(w.shape)}`);
  }
  const [n, h, wd_, c] = x.shape;
  const [kh, kw, cg, oc] = w.shape;
  const groups = checkPositiveInt(op, 'groups', options.groups ?? 1);
  if (c % groups !== 0 || oc % groups !== 0 || cg !== c / groups) {
    throw new RangeError(
      `${op}: x ${formatShape(x.shape)} has ${c} channels; with groups=${groups} w must be [KH,KW,${c / groups},OC] with OC divisible by ${groups}, got ${formatShape(w.shape)}`,
    );
  }
  let bd: Float32Array | null = null;
  if (bias !== null && bias !== undefined) {
    bd = floatData(op, 'bias', bias);
    if (bias.rank !== 1 || bias.shape[0] !== oc) throw new RangeError(`${op}: bias must have shape [${oc}], got ${formatShape(bias.shape)}`);
  }
  const [strideH, strideW] = pair(op, 'stride', options.stride ?? 1);
  const [dilationH, dilationW] = pair(op, 'dilation', options.dilation ?? 1);
  const pad = resolvePadding(op, options.padding ?? 'valid', h, wd_, kh, kw, strideH, strideW, dilationH, dilationW);
  const oh = convOutputSize(h, kh, strideH, dilationH, pad.padTop, pad.padBottom);
  const ow = convOutputSize(wd_, kw, strideW, dilationW, pad.padLeft, pad.padRight);
  if (oh < 1 || ow < 1) {
    throw new RangeError(`${op}: the ${kh}x${kw} kernel (dilation ${dilationH},${dilationW}) does not fit the padded ${h}x${wd_} input of x ${formatShape(x.shape)}`);
  }
  const ep = resolveActivation(op, options);
  const args: Conv2dArgs = { n, h, w: wd_, c, kh, kw, oc, strideH, strideW, dilationH, dilationW, ...pad, groups, oh, ow };
  const y = kernelOutput(n * oh * ow * oc);
  getBackend().conv2d(args, ep, xd, wd, bd, y);

  const { activation, alpha } = ep;
  const savedY = activation === 'none' ? null : y;
  const hasBias = bd !== null;
  const inputs = bias ? [x, w, bias] : [x, w];
  return output(op, inputs, y, [n, oh, ow, oc], (dy, needs, into, intoIsZero) => {
    const be = getBackend();
    const dz = savedY === null ? dy : activationBackward(activation, alpha, dy, savedY);
    let dx: Float32Array | null = null;
    let dw: Float32Array | null = null;
    let db: Float32Array | null = null;
    if (needs[0]) {
      dx = kernelOutput(xd.length);
      be.conv2dBackwardInput(args, dx, dz, wd);
    }
    if (needs[1] || (hasBias && needs[2])) {
      // The filter kernel computes dw and dbias together; dw is computed even if only dbias is needed.
      // Both are written straight over a just-zeroed .grad when the engine offers one (the kernel
      // writes its outputs in full), so a recorded training step replays them with no JS copy.
      const over = (k: number) => (needs[k] && into[k] !== null && intoIsZero[k] ? into[k] : null);
      dw = over(1) ?? kernelOutput(wd.length);
      db = hasBias && needs[2] ? over(2) ?? new Float32Array(oc) : null;
      be.conv2dBackwardFilter(args, dw, db, dz, xd);
    }
    return hasBias ? [needs[0] ? dx : null, needs[1] ? dw : null, db] : [dx, needs[1] ? dw : null];
  });
}
