// Fused optimizer updates as plain float64 loops (PyTorch torch.optim formulas). Each optimizer's math
// is one plain function (sgdStep, adagradStep, rmspropStep, adamStep); the kernels validate their
// arguments and call it. State buffers are updated in place. Weight decay 0 is skipped rather than
// added as 0·w, as in PyTorch (so an infinite weight does not turn into NaN through it).

import type { AdagradArgs, AdamArgs, Backend, F32, RmspropArgs, SgdArgs } from '../backend.js';
import { checkBoolean, checkLength, checkOptionalLength, describe } from '../checks.js';

// --- the update math ------------------------------------------------------------------------------

const FLT_MIN = 1.1754943508222875e-38;
/**
 * State values (momentum buffers, moments, square averages) are stored with subnormal magnitudes
 * flushed to zero, as the native kernels do (kernels/optim.h: on x86 arithmetic on subnormals costs a
 * microcode assist each, and decaying state of a parameter with zero gradient passes through them).
 */
function flushSubnormal(x: number): number {
  return Math.abs(x) < FLT_MIN ? 0 : x;
}

/** g += wd·w; buf = first ? g : momentum·buf + (1-dampening)·g; g = nesterov ? g + momentum·buf : buf; w -= lr·g. */
export function sgdStep(a: SgdArgs, w: F32, g: F32, buf: F32 | null): void {
  for (let i = 0; i < w.length; i++) {
    let gi = a.weightDecay !== 0 ? g[i] + a.weightDecay * w[i] : g[i];
    if (buf !== null) {
      buf[i] = flushSubnormal(a.firstStep ? gi : a.momentum * buf[i] + (1 - a.dampening) * gi);
      gi = a.nesterov ? gi + a.momentum * buf[i] : buf[i];
    }
    w[i] -= a.lr * gi;
  }
}

/** g += wd·w; sum += g²; w -= clr·g/(sqrt(sum) + eps) with clr = lr/(1 + (step-1)·lrDecay). */
export function adagradStep(a: AdagradArgs, w: F32, g: F32, sumSq: F32): void {
  const clr = a.lr / (1 + (a.step - 1) * a.lrDecay);
  for (let i = 0; i < w.length; i++) {
    const gi = a.weightDecay !== 0 ? g[i] + a.weightDecay * w[i] : g[i];
    sumSq[i] = flushSubnormal(sumSq[i] + gi * gi);
    w[i] -= (clr * gi) / (Math.sqrt(sumSq[i]) + a.eps);
  }
}

/**
 * g += wd·w; sq = alpha·sq + (1-alpha)·g²; centered: ga = alpha·ga + (1-alpha)·g and
 * avg = sqrt(max(sq - ga², 0)) + eps, else avg = sqrt(sq) + eps; momentum: buf = momentum·buf + g/avg,
 * w -= lr·buf, else w -= lr·g/avg. (max(·, 0) only guards rounding; mathematically sq >= ga².)
 */
export function rmspropStep(a: RmspropArgs, w: F32, g: F32, squareAvg: F32, gradAvg: F32 | null, buf: F32 | null): void {
  for (let i = 0; i < w.length; i++) {
    const gi = a.weightDecay !== 0 ? g[i] + a.weightDecay * w[i] : g[i];
    squareAvg[i] = flushSubnormal(a.alpha * squareAvg[i] + (1 - a.alpha) * gi * gi);
    let avg: number;
    if (gradAvg !== null) {
      gradAvg[i] = flushSubnormal(a.alpha * gradAvg[i] + (1 - a.alpha) * gi);
      avg = Math.sqrt(Math.max(squareAvg[i] - gradAvg[i] * gradAvg[i], 0)) + a.eps;
    } else {
      avg = Math.sqrt(squareAvg[i]) + a.eps;
    }
    if (buf !== null) {
      buf[i] = flushSubnormal(a.momentum * buf[i] + gi / avg);
      w[i] -= a.lr * buf[i];
    } else {
      w[i] -= (a.lr * gi) / avg;
    }
  }
}

/**
 * AdamW: w *= 1 - lr·wd; Adam: g += wd·w. m = b1·m + (1-b1)·g; v = b2·v + (1-b2)·g²; amsgrad: vMax =
 * max(vMax, v) replaces v; w -= (lr/(1-b1^step))·m / (sqrt(v)/sqrt(1-b2^step) + eps).
 */
export function adamStep(a: AdamArgs, w: F32, g: F32, m: F32, v: F32, vMax: F32 | null): void {
  const stepSize = a.lr / (1 - a.beta1 ** a.step);
  const sqrtBc2 = Math.sqrt(1 - a.beta2 ** a.step);
  for (let i = 0; i < w.length; i++) {
    let gi = g[i];
    if (a.weightDecay !== 0) {
      if (a.decoupledWeightDecay) w[i] *= 1 - a.lr * a.weightDecay;
      else gi += a.weightDecay * w[i];
    }
    m[i] = flushSubnormal(a.beta1 * m[i] + (1 - a.beta1) * gi);
    v[i] = flushSubnormal(a.beta2 * v[i] + (1 - a.beta2) * gi * gi);
    let vUsed = v[i];
    if (vMax !== null) {
      vMax[i] = Math.max(vMax[i], v[i]);
      vUsed = vMax[i];
    }
    w[i] -= (stepSize * m[i]) / (Math.sqrt(vUsed) / sqrtBc2 + a.eps);
  }
}

// --- argument checks (the same rules as native/binding/optim.cc) ---------------------------------------

function checkOptions(op: string, args: unknown): asserts args is Record<string, unknown> {
  if (typeof args !== 'object' || args === null || Array.isArray(args) || ArrayBuffer.isView(args)) {
    throw new TypeError(`${op}: args must be an options object, got ${describe(args)}`);
  }
}

/** A finite number in [lo, hi] ([lo, hi) when hiOpen); hi = Infinity means no upper bound. */
function checkOption(op: string, args: Record<string, unknown>, key: string, lo: number, hi: number, hiOpen = false): number {
  const v = args[key];
  if (typeof v !== 'number') throw new TypeError(`${op}: ${key} must be a number, got ${describe(v)}`);
  if (!Number.isFinite(v) || v < lo || v > hi || (hiOpen && v === hi)) {
    const range = hi === Infinity ? `>= ${lo}` : `in [${lo}, ${hi}${hiOpen ? ')' : ']'}`;
    throw new RangeError(`${op}: ${key} must be ${range}, got ${v}`);
  }
  return v;
}

function checkPositive(op: string, args: Record<string, unknown>, key: string): void {
  const v = args[key];
  if (typeof v !== 'number') throw new TypeError(`${op}: ${key} must be a number, got ${describe(v)}`);
  if (!Number.isFinite(v) || !(v > 0)) throw new RangeError(`${op}: ${key} must be > 0, got ${v}`);
}

function checkStep(op: string, args: Record<string, unknown>): void {
  const v = args.step;
  if (typeof v !== 'number') throw new TypeError(`${op}: step must be a number, got ${describe(v)}`);
  if (!Number.isInteger(v) || v < 1 || v > 2 ** 31 - 1) throw new RangeError(`${op}: step must be an integer >= 1, got ${v}`);
}

/** w fixes the length; g must match it. */
function checkParams(op: string, w: unknown, g: unknown): number {
  if (!(w instanceof Float32Array)) throw new TypeError(`${op}: w must be a Float32Array, got ${describe(w)}`);
  if (w.length < 1) throw new RangeError(`${op}: w must not be empty`);
  checkLength(op, 'g', g, w.length, 'w.length');
  return w.length;
}

/**
 * The optional paramStarts (backend.ts: ParamLayout): integer offsets into w, the first 0, strictly
 * ascending, each below n. The reference loops do not split, so only the check matters here.
 */
function checkParamStarts(op: string, args: { paramStarts?: unknown }, n: number): void {
  const starts = args.paramStarts;
  if (starts === undefined) return;
  if (!Array.isArray(starts)) throw new TypeError(`${op}: paramStarts must be an array of offsets into w, got ${describe(starts)}`);
  if (starts.length > n) throw new RangeError(`${op}: paramStarts has ${starts.length} entries, more than w.length ${n}`);
  for (let k = 0; k < starts.length; k++) { // a plain loop: a hole reads as undefined, as natively
    const d: unknown = starts[k];
    const name = `paramStarts[${k}]`;
    if (typeof d !== 'number') throw new TypeError(`${op}: ${name} must be a number, got ${describe(d)}`);
    const lo = k === 0 ? 0 : (starts[k - 1] as number) + 1;
    const hi = k === 0 ? 0 : n - 1;
    if (!(d >= lo && d <= hi) || !Number.isInteger(d)) {
      if (k === 0) throw new RangeError(`${op}: ${name} must be 0, got ${d}`);
      throw new RangeError(`${op}: ${name} must be an integer in [${lo}, ${hi}] (above paramStarts[${k - 1}], below w.length ${n}), got ${d}`);
    }
  }
}

/** An optional state buffer: required (non-null) when `needed`; when present, as long as w. */
function checkState(op: string, name: string, buf: unknown, n: number, needed: boolean, why: string): void {
  if (needed && buf === null) throw new TypeError(`${op}: ${name} must be a Float32Array when ${why}, got null`);
  checkOptionalLength(op, name, buf, n, 'w.length');
}

export const optimKernels: Pick<Backend, 'sgdUpdate' | 'adagradUpdate' | 'rmspropUpdate' | 'adamUpdate'> = {
  sgdUpdate(args, w, g, momentumBuf) {
    const op = 'sgdUpdate';
    checkOptions(op, args);
    checkOption(op, args, 'lr', 0, Infinity);
    const momentum = checkOption(op, args, 'momentum', 0, 1);
    const dampening = checkOption(op, args, 'dampening', 0, 1);
    checkOption(op, args, 'weightDecay', 0, Infinity);
    checkBoolean(op, { nesterov: args.nesterov, firstStep: args.firstStep });
    if (args.nesterov && (momentum === 0 || dampening !== 0)) {
      throw new RangeError(
        `${op}: nesterov requires momentum > 0 and dampening = 0, got momentum=${momentum}, dampening=${dampening}`,
      );
    }
    const n = checkParams(op, w, g);
    checkState(op, 'momentumBuf', momentumBuf, n, momentum !== 0, 'momentum != 0');
    checkParamStarts(op, args, n);
    sgdStep(args, w, g, momentum !== 0 ? momentumBuf : null);
  },

  adagradUpdate(args, w, g, sumSq) {
    const op = 'adagradUpdate';
    checkOptions(op, args);
    checkOption(op, args, 'lr', 0, Infinity);
    checkOption(op, args, 'lrDecay', 0, Infinity);
    checkOption(op, args, 'weightDecay', 0, Infinity);
    checkPositive(op, args, 'eps');
    checkStep(op, args);
    const n = checkParams(op, w, g);
    checkLength(op, 'sumSq', sumSq, n, 'w.length');
    checkParamStarts(op, args, n);
    adagradStep(args, w, g, sumSq);
  },

  rmspropUpdate(args, w, g, squareAvg, gradAvg, momentumBuf) {
    const op = 'rmspropUpdate';
    checkOptions(op, args);
    checkOption(op, args, 'lr', 0, Infinity);
    checkOption(op, args, 'alpha', 0, 1);
    checkPositive(op, args, 'eps');
    checkOption(op, args, 'weightDecay', 0, Infinity);
    const momentum = checkOption(op, args, 'momentum', 0, 1);
    checkBoolean(op, { centered: args.centered });
    const n = checkParams(op, w, g);
    checkLength(op, 'squareAvg', squareAvg, n, 'w.length');
    checkState(op, 'gradAvg', gradAvg, n, args.centered, 'centered');
    checkState(op, 'momentumBuf', momentumBuf, n, momentum !== 0, 'momentum != 0');
    checkParamStarts(op, args, n);
    rmspropStep(args, w, g, squareAvg, args.centered ? gradAvg : null, momentum !== 0 ? momentumBuf : null);
  },

  adamUpdate(args, w, g, m, v, vMax) {
    const op = 'adamUpdate';
    checkOptions(op, args);
    checkOption(op, args, 'lr', 0, Infinity);
    checkOption(op, args, 'beta1', 0, 1, true);
    checkOption(op, args, 'beta2', 0, 1, true);
    checkPositive(op, args, 'eps');
    checkOption(op, args, 'weightDecay', 0, Infinity);
    checkBoolean(op, { decoupledWeightDecay: args.decoupledWeightDecay, amsgrad: args.amsgrad });
    checkStep(op, args);
    const n = checkParams(op, w, g);
    checkLength(op, 'm', m, n, 'w.length');
    checkLength(op, 'v', v, n, 'w.length');
    checkState(op, 'vMax', vMax, n, args.amsgrad, 'amsgrad');
    checkParamStarts(op, args, n);
    adamStep(args, w, g, m, v, args.amsgrad ? vMax : null);
  },
};
