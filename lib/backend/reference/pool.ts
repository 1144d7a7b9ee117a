// Reference pooling kernels, x [N,H,W,C] -> y [N,OH,OW,C], and global pools x [N,HW,C] -> y [N,C].
// Windows are listed once (forEachWindow) and forward and backward read the same list. Max pooling
// picks the FIRST maximum in row-major window order (padding never takes part; a NaN beats any number
// and the first NaN stays), the same rule as the native kernels, so ties agree on both backends.

import type { Backend, F32, Pool2dArgs } from '../backend.js';
import { checkBoolean, checkDims, checkLength, checkPool2dArgs } from '../checks.js';

type Expected = [length: number, how: string];

function poolLengths(op: string, a: Pool2dArgs): { x: Expected; y: Expected } {
  checkPool2dArgs(op, a);
  return {
    x: [a.n * a.h * a.w * a.c, `n*h*w*c (n=${a.n}, h=${a.h}, w=${a.w}, c=${a.c})`],
    y: [a.n * a.oh * a.ow * a.c, `n*oh*ow*c (n=${a.n}, oh=${a.oh}, ow=${a.ow}, c=${a.c})`],
  };
}

function globalLengths(op: string, n: number, hw: number, c: number): { x: Expected; y: Expected } {
  checkDims(op, { n, hw, c });
  return {
    x: [n * hw * c, `n*hw*c (n=${n}, hw=${hw}, c=${c})`],
    y: [n * c, `n*c (n=${n}, c=${c})`],
  };
}

/** Does v replace the running maximum? Strictly greater keeps the first of equal values. */
function takesMax(v: number, best: number): boolean {
  return v > best || (Number.isNaN(v) && !Number.isNaN(best));
}

/**
 * Calls f(yi, window) for every output element, window = the x indices of its real (non-padding)
 * elements in row-major order. Padding is at most half the window, so no window is empty.
 */
function forEachWindow(a: Pool2dArgs, f: (yi: number, window: number[]) => void): void {
  const window: number[] = [];
  for (let n = 0; n < a.n; n++) {
    for (let oh = 0; oh < a.oh; oh++) {
      for (let ow = 0; ow < a.ow; ow++) {
        for (let c = 0; c < a.c; c++) {
          window.length = 0;
          for (let kh = 0; kh < a.kh; kh++) {
            const ih = oh * a.strideH - a.padTop + kh;
            if (ih < 0 || ih >= a.h) continue;
            for (let kw = 0; kw < a.kw; kw++) {
              const iw = ow * a.strideW - a.padLeft + kw;
              if (iw >= 0 && iw < a.w) window.push(((n * a.h + ih) * a.w + iw) * a.c + c);
            }
          }
          f(((n * a.oh + oh) * a.ow + ow) * a.c + c, window);
        }
      }
    }
  }
}

function firstMaxIndex(x: F32, window: readonly number[]): number {
  let best = window[0];
  for (const i of window) if (takesMax(x[i], x[best])) best = i;
  return best;
}

/** x [N,HW,C]: calls f(yi, window) with window = the x indices of (n, :, c) in HW order. */
function forEachGlobalWindow(n: number, hw: number, c: number, f: (yi: number, window: number[]) => void): void {
  const window = new Array<number>(hw);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < c; k++) {
      for (let p = 0; p < hw; p++) window[p] = (i * hw + p) * c + k;
      f(i * c + k, window);
    }
  }
}

type PoolKernelName =
  | 'maxPool2d' | 'maxPool2dBackward' | 'avgPool2d' | 'avgPool2dBackward'
  | 'globalAvgPool2d' | 'globalAvgPool2dBackward' | 'globalMaxPool2d' | 'globalMaxPool2dBackward';

export const poolKernels: Pick<Backend, PoolKernelName> = {
  // x [N,H,W,C] -> y [N,OH,OW,C]: the first maximum of each window
  maxPool2d(args: Pool2dArgs, x: F32, y: F32): void {
    const op = 'maxPool2d';
    const len = poolLengths(op, args);
    checkLength(op, 'x', x, ...len.x);
    checkLength(op, 'y', y, ...len.y);
    forEachWindow(args, (yi, window) => {
      y[yi] = x[firstMaxIndex(x, window)];
    });
  },

  // dx [N,H,W,C] <- dy [N,OH,OW,C], x: each dy goes to the first maximum of its window
  maxPool2dBackward(args: Pool2dArgs, dx: F32, dy: F32, x: F32): void {
    const op = 'maxPool2dBackward';
    const len = poolLengths(op, args);
    checkLength(op, 'dx', dx, ...len.x);
    checkLength(op, 'dy', dy, ...len.y);
    checkLength(op, 'x', x, ...len.x);
    const acc = new Float64Array(dx.length);
    forEachWindow(args, (yi, window) => {
      acc[firstMaxIndex(x, window)] += dy[yi];
    });
    dx.set(acc);
  },

  // x -> y: window sum / (KH*KW when countIncludePad, else the number of real elements)
  avgPool2d(args: Pool2dArgs, countIncludePad: boolean, x: F32, y: F32): void {
    const op = 'avgPool2d';
    const len = poolLengths(op, args);
    checkBoolean(op, { countIncludePad });
    checkLength(op, 'x', x, ...len.x);
    checkLength(op, 'y', y, ...len.y);
    forEachWindow(args, (yi, window) => {
      let sum = 0;
      for (const i of window) sum += x[i];
      y[yi] = sum / (countIncludePad ? args.kh * args.kw : window.length);
    });
  },

  // dx <- dy: every element of a window receives dy / (the forward divisor)
  avgPool2dBackward(args: Pool2dArgs, countIncludePad: boolean, dx: F32, dy: F32): void {
    const op = 'avgPool2dBackward';
    const len = poolLengths(op, args);
    checkBoolean(op, { countIncludePad });
    checkLength(op, 'dx', dx, ...len.x);
    checkLength(op, 'dy', dy, ...len.y);
    const acc = new Float64Array(dx.length);
    forEachWindow(args, (yi, window) => {
      const share = dy[yi] / (countIncludePad ? args.kh * args.kw : window.length);
      for (const i of window) acc[i] += share;
    });
    dx.set(acc);
  },

  // x [N,HW,C] -> y [N,C]: mean over HW
  globalAvgPool2d(n: number, hw: number, c: number, x: F32, y: F32): void {
    const op = 'globalAvgPool2d';
    const len = globalLengths(op, n, hw, c);
    checkLength(op, 'x', x, ...len.x);
    checkLength(op, 'y', y, ...len.y);
    forEachGlobalWindow(n, hw, c, (yi, window) => {
      let sum = 0;
      for (const i of window) sum += x[i];
      y[yi] = sum / hw;
    });
  },

  // dx [N,HW,C] <- dy [N,C]: dy / HW everywhere
  globalAvgPool2dBackward(n: number, hw: number, c: number, dx: F32, dy: F32): void {
    const op = 'globalAvgPool2dBackward';
    const len = globalLengths(op, n, hw, c);
    checkLength(op, 'dx', dx, ...len.x);
    checkLength(op, 'dy', dy, ...len.y);
    forEachGlobalWindow(n, hw, c, (yi, window) => {
      for (const i of window) dx[i] = dy[yi] / hw;
    });
  },

  // x [N,HW,C] -> y [N,C]: the first maximum over HW
  globalMaxPool2d(n: number, hw: number, c: number, x: F32, y: F32): void {
    const op = 'globalMaxPool2d';
    const len = globalLengths(op, n, hw, c);
    checkLength(op, 'x', x, ...len.x);
    checkLength(op, 'y', y, ...len.y);
    forEachGlobalWindow(n, hw, c, (yi, window) => {
      y[yi] = x[firstMaxIndex(x, window)];
    });
  },

  // dx [N,HW,C] <- dy [N,C], x: dy to the first maximum over HW, zero elsewhere
  globalMaxPool2dBackward(n: number, hw: number, c: number, dx: F32, dy: F32, x: F32): void {
    const op = 'globalMaxPool2dBackward';
    const len = globalLengths(op, n, hw, c);
    checkLength(op, 'dx', dx, ...len.x);
    checkLength(op, 'dy', dy, ...len.y);
    checkLength(op, 'x', x, ...len.x);
    forEachGlobalWindow(n, hw, c, (yi, window) => {
      for (const i of window) dx[i] = 0;
      dx[firstMaxIndex(x, window)] = dy[yi];
    });
  },
};
