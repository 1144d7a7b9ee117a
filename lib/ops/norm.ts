// Batch norm and layer norm. Channels are the last axis (NHWC), so batch norm sees x as [M, C] with
// M = N·H·W (or N for [N, C]), and layer norm sees x as [M, D] with D the normalized trailing axes.

import { output } from '../autograd/record.js';
import { getBackend } from '../backend/index.js';
import { Tensor, formatShape } from '../tensor.js';
import { checkNumber, floatData, sizeOf } from './check.js';

export interface BatchNormOptions {
  /** true: batch statistics (and update the running ones); false: running statistics. */
  training: boolean;
  /** Running-stat update weight (PyTorch default 0.1). */
  momentum?: number;
  eps?: number;
}

function checkChannelVector(op: string, name: string, t: Tensor | null, c: number): Float32Array | null {
  if (t === null || t === undefined) return null;
  const d = floatData(op, name, t);
  if (t.size !== c) throw new RangeError(`${op}: ${name} must have ${c} elements (one per channel), got shape ${formatShape(t.shape)}`);
  return d;
}

/**
 * y = (x - mean) / sqrt(var + eps) · weight + bias per channel (the last axis). In training mode the
 * batch statistics are used and runningMean/runningVar (if given) are updated in place; in eval mode
 * the running statistics are used and must be given.
 */
export function batchNorm(
  x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null,
  weight: Tensor | null, bias: Tensor | null, options: BatchNormOptions,
): Tensor {
  const op = 'batchNorm';
  const xd = floatData(op, 'x', x);
  if (x.rank < 2) throw new RangeError(`${op}: x must be [N, C] or [N, ..., C] (channels last), got ${formatShape(x.shape)}`);
  const c = x.shape[x.rank - 1];
  const m = x.size / c;
  const momentum = checkNumber(op, 'momentum', options.momentum ?? 0.1, (v) => v >= 0 && v <= 1, 'in [0, 1]');
  const eps = checkNumber(op, 'eps', options.eps ?? 1e-5, (v) => v > 0, '> 0');
  const rm = checkChannelVector(op, 'runningMean', runningMean, c);
  const rv = checkChannelVector(op, 'runningVar', runningVar, c);
  const gamma = checkChannelVector(op, 'weight', weight, c);
  const beta = checkChannelVector(op, 'bias', bias, c);
  if ((rm === null) !== (rv === null)) throw new RangeError(`${op}: give both runningMean and runningVar, or neither`);
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  const y = new Float32Array(xd.length);

  if (!options.training) {
    if (rm === null || rv === null) throw new RangeError(`${op}: eval mode (training: false) needs runningMean and runningVar`);
    getBackend().batchNormInference(m, c, eps, xd, gamma, beta, rm, rv, y);
    return output(op, inputs, y, x.shape, batchNormEvalBackward(m, c, eps, xd, gamma, rm.slice(), rv.slice(), beta !== null));
  }

  if (rm !== null && m < 2) {
    throw new RangeError(`${op}: training needs more than one value per channel to update running statistics, got x ${formatShape(x.shape)}`);
  }
  const saveMean = new Float32Array(c);
  const saveInvStd = new Float32Array(c);
  getBackend().batchNormTrain(m, c, eps, momentum, xd, gamma, beta, rm, rv, y, saveMean, saveInvStd);
  const hasBeta = beta !== null;
  return output(op, inputs, y, x.shape, (dy, needs, into, intoIsZero) => {
    const dx = new Float32Array(xd.length); // the kernel always writes dx
    // dgamma and dbeta are written in full: straight over a just-zeroed .grad when the engine offers
    // one, so a recorded training step replays them with no JS copy.
    const over = (k: number) => (into[k] !== null && intoIsZero[k] ? into[k] : null);
    const betaAt = needs.length - 1;
    const dgamma = gamma !== null && needs[1] ? over(1) ?? new Float32Array(c) : null;
    const dbeta = hasBeta && needs[betaAt] ? over(betaAt) ?? new Float32Array(c) : null;
    getBackend().batchNormBackward(m, c, dx, dgamma, dbeta, dy, xd, gamma, saveMean, saveInvStd);
    return [needs[0] ? dx : null, ...(gamma !== null ? [dgamma] : []), ...(hasBeta ? [dbeta] : [])];
  });
}

/**
 * Eval-mode backward (the statistics are constants): with s = weight / sqrt(runningVar + eps),
 * dx = dy·s, dweight = Σ_m dy·x̂, dbias = Σ_m dy, where x̂ is the normalized x. Written with kernels:
 * the interface has no fused eval-mode batch-norm backward.
 */
function batchNormEvalBackward(
  m: number, c: number, eps: number, xd: Float32Array, gamma: Float32Array | null,
  rm: Float32Array, rv: Float32Array, hasBeta: boolean,
) {
  return (dy: Float32Array, needs: readonly boolean[]): (Float32Array | null)[] => {
    const be = getBackend();
    const grads: (Float32Array | null)[] = [null];
    if (needs[0]) {
      const varEps = new Float32Array(c);
      be.binary('add', [c], rv, [1], Float32Array.of(eps), varEps);
      const std = new Float32Array(c);
      be.unary('sqrt', 0, varEps, std);
      const scale = new Float32Array(c);
      be.binary('div', [c], gamma ?? new Float32Array(c).fill(1), [c], std, scale);
      const dx = new Float32Array(m * c);
      be.binary('mul', [m, c], dy, [c], scale, dx);
      grads[0] = dx;
    }
    if (gamma !== null) {
      let dgamma: Float32Array | null = null;
      if (needs[1]) {
        const xhat = new Float32Array(m * c);
        be.batchNormInference(m, c, eps, xd, null, null, rm, rv, xhat);
        const dyXhat = new Float32Array(m * c);
        be.binary('mul', [m, c], dy, [m, c], xhat, dyXhat);
        dgamma = new Float32Array(c);
        be.reduce('sum', [m, c], [0], dyXhat, dgamma);
      }
      grads.push(dgamma);
    }
    if (hasBeta) {
      let dbeta: Float32Array | null = null;
      if (needs[needs.length - 1]) {
        dbeta = new Float32Array(c);
        be.reduce('sum', [m, c], [0], dy, dbeta);
      }
      grads.push(dbeta);
    }
    return grads;
  };
}

/** Normalizes over the trailing axes `normalizedShape`, then scales and shifts by weight/bias (that shape). */
export function layerNorm(
  x: Tensor, normalizedShape: readonly number[], weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-5,
): Tensor {
  const op = 'layerNorm';
  const xd = floatData(op, 'x', x);
  const k = normalizedShape.length;
  const tail = x.shape.slice(x.rank - k);
  if (k === 0 || k > x.rank || tail.some((d, i) => d !== normalizedShape[i])) {
    throw new RangeError(`${op}: normalizedShape ${formatShape(normalizedShape)} must match the trailing axes of x ${formatShape(x.shape)}`);
  }
  checkNumber(op, 'eps', eps, (v) => v > 0, '> 0');
  const d = sizeOf(normalizedShape);
  const m = x.size / d;
  const gamma = checkChannelVector(op, 'weight', weight, d);
  const beta = checkChannelVector(op, 'bias', bias, d);
  const y = new Float32Array(xd.length);
  const saveMean = new Float32Array(m);
  const saveInvStd = new Float32Array(m);
  getBackend().layerNorm(m, d, eps, xd, gamma, beta, y, saveMean, saveInvStd);
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  const hasBeta = beta !== null;
  return output(op, inputs, y, x.shape, (dy, needs) => {
    const dx = new Float32Array(xd.length);
    const dgamma = gamma !== null && needs[1] ? new Float32Array(d) : null;
    const dbeta = hasBeta && needs[needs.length - 1] ? new Float32Array(d) : null;
    getBackend().layerNormBackward(m, d, dx, dgamma, dbeta, dy, xd, gamma, saveMean, saveInvStd);
    return [needs[0] ? dx : null, ...(gamma !== null ? [dgamma] : []), ...(hasBeta ? [dbeta] : [])];
  });
}
