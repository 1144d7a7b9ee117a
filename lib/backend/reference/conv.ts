// Reference conv2d kernels: the definition written as plain loops, accumulated in float64.
// x [N,H,W,C], w [KH,KW,C/G,OC], bias [OC] -> y [N,OH,OW,OC]. Forward and both backward passes walk
// the same list of product terms (forEachTerm), so the three are visibly the same sum.

import type { Backend, Conv2dArgs, Epilogue, F32 } from '../backend.js';
import { activate, checkEpilogue } from './epilogue.js';
import { checkConv2dArgs, checkLength, checkOptionalLength } from '../checks.js';

type Expected = [length: number, how: string];

/** Validates the shape of one conv2d call and returns the buffer lengths it implies, with how each is made. */
function convLengths(op: string, a: Conv2dArgs): { x: Expected; w: Expected; y: Expected; bias: Expected } {
  checkConv2dArgs(op, a);
  const cg = a.c / a.groups;
  return {
    x: [a.n * a.h * a.w * a.c, `n*h*w*c (n=${a.n}, h=${a.h}, w=${a.w}, c=${a.c})`],
    w: [a.kh * a.kw * cg * a.oc, `kh*kw*c/groups*oc (kh=${a.kh}, kw=${a.kw}, c/groups=${cg}, oc=${a.oc})`],
    y: [a.n * a.oh * a.ow * a.oc, `n*oh*ow*oc (n=${a.n}, oh=${a.oh}, ow=${a.ow}, oc=${a.oc})`],
    bias: [a.oc, `oc (oc=${a.oc})`],
  };
}

/**
 * Calls f(xi, wi, yi) for every product term x[xi]·w[wi] of output y[yi], skipping padding:
 * y[n,oh,ow,oc] += x[n, oh·sh - pt + kh·dh, ow·sw - pl + kw·dw, g·Cg + ci] · w[kh,kw,ci,oc], g = oc / OCg.
 */
function forEachTerm(a: Conv2dArgs, f: (xi: number, wi: number, yi: number) => void): void {
  const cg = a.c / a.groups;
  const ocg = a.oc / a.groups;
  for (let n = 0; n < a.n; n++) {
    for (let oh = 0; oh < a.oh; oh++) {
      for (let ow = 0; ow < a.ow; ow++) {
        for (let oc = 0; oc < a.oc; oc++) {
          const yi = ((n * a.oh + oh) * a.ow + ow) * a.oc + oc;
          const c0 = Math.floor(oc / ocg) * cg;
          for (let kh = 0; kh < a.kh; kh++) {
            const ih = oh * a.strideH - a.padTop + kh * a.dilationH;
            if (ih < 0 || ih >= a.h) continue;
            for (let kw = 0; kw < a.kw; kw++) {
              const iw = ow * a.strideW - a.padLeft + kw * a.dilationW;
              if (iw < 0 || iw >= a.w) continue;
              for (let ci = 0; ci < cg; ci++) {
                f(((n * a.h + ih) * a.w + iw) * a.c + c0 + ci, ((kh * a.kw + kw) * cg + ci) * a.oc + oc, yi);
              }
            }
          }
        }
      }
    }
  }
}

export const convKernels: Pick<Backend, 'conv2d' | 'conv2dBackwardInput' | 'conv2dBackwardFilter'> = {
  // x [N,H,W,C], w [KH,KW,C/G,OC], bias [OC]|null -> y [N,OH,OW,OC] = act(conv + bias)
  conv2d(args: Conv2dArgs, epilogue: Epilogue, x: F32, w: F32, bias: F32 | null, y: F32): void {
    const op = 'conv2d';
    const len = convLengths(op, args);
    checkEpilogue(op, epilogue);
    checkLength(op, 'x', x, ...len.x);
    checkLength(op, 'w', w, ...len.w);
    checkOptionalLength(op, 'bias', bias, ...len.bias);
    checkLength(op, 'y', y, ...len.y);
    const sum = new Float64Array(y.length);
    forEachTerm(args, (xi, wi, yi) => {
      sum[yi] += x[xi] * w[wi];
    });
    for (let i = 0; i < y.length; i++) y[i] = activate(epilogue.activation, epilogue.alpha, sum[i] + (bias ? bias[i % args.oc] : 0));
  },

  // dx [N,H,W,C] <- dy [N,OH,OW,OC], w: dx[xi] = Σ dy[yi]·w[wi] over the terms that read x[xi]
  conv2dBackwardInput(args: Conv2dArgs, dx: F32, dy: F32, w: F32): void {
    const op = 'conv2dBackwardInput';
    const len = convLengths(op, args);
    checkLength(op, 'dx', dx, ...len.x);
    checkLength(op, 'dy', dy, ...len.y);
    checkLength(op, 'w', w, ...len.w);
    const acc = new Float64Array(dx.length);
    forEachTerm(args, (xi, wi, yi) => {
      acc[xi] += dy[yi] * w[wi];
    });
    dx.set(acc);
  },

  // dw [KH,KW,C/G,OC], dbias [OC]|null <- dy, x: dw[wi] = Σ x[xi]·dy[yi]; dbias[oc] = Σ_{n,oh,ow} dy
  conv2dBackwardFilter(args: Conv2dArgs, dw: F32, dbias: F32 | null, dy: F32, x: F32): void {
    const op = 'conv2dBackwardFilter';
    const len = convLengths(op, args);
    checkLength(op, 'dw', dw, ...len.w);
    checkOptionalLength(op, 'dbias', dbias, ...len.bias);
    checkLength(op, 'dy', dy, ...len.y);
    checkLength(op, 'x', x, ...len.x);
    const acc = new Float64Array(dw.length);
    forEachTerm(args, (xi, wi, yi) => {
      acc[wi] += x[xi] * dy[yi];
    });
    dw.set(acc);
    if (dbias) {
      const bsum = new Float64Array(args.oc);
      for (let i = 0; i < dy.length; i++) bsum[i % args.oc] += dy[i];
      dbias.set(bsum);
    }
  },
};
