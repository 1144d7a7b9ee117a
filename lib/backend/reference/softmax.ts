// Reference softmax, log-softmax and fused softmax cross-entropy. Softmax runs over the middle axis of
// [outer, dim, inner]: element (o, d, i) sits at (o*dim + d)*inner + i. Every row subtracts its maximum
// first, so exp never overflows; log-softmax is x - max - log(sum exp(x - max)).

import type { Backend } from '../backend.js';
import { checkDims, checkLength, describe } from '../checks.js';

function checkSoftmaxArgs(k: string, outer: number, dim: number, inner: number): number {
  checkDims(k, { outer, dim, inner });
  const n = outer * dim * inner;
  if (n > 2 ** 32) throw new RangeError(`${k}: outer*dim*inner = ${n} is too many elements`);
  return n;
}

const how = (outer: number, dim: number, inner: number) => `outer*dim*inner (${outer}*${dim}*${inner})`;

/** Calls fn with the flat index of element d of every softmax row (o, i). */
function forEachRow(outer: number, dim: number, inner: number, fn: (at: (d: number) => number) => void): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) fn((d) => (o * dim + d) * inner + i);
  }
}

/** max over the row and log(sum exp(x - max)) in doubles. */
function rowStats(x: Float32Array, dim: number, at: (d: number) => number): { max: number; logSum: number } {
  let max = -Infinity;
  for (let d = 0; d < dim; d++) max = Math.max(max, x[at(d)]);
  let sum = 0;
  for (let d = 0; d < dim; d++) sum += Math.exp(x[at(d)] - max);
  return { max, logSum: Math.log(sum) };
}

function checkLabelSmoothing(k: string, s: unknown): asserts s is number {
  if (typeof s !== 'number') throw new TypeError(`${k}: labelSmoothing must be a number, got ${describe(s)}`);
  if (!(s >= 0 && s < 1)) throw new RangeError(`${k}: labelSmoothing must be in [0, 1), got ${s}`);
}

/**
 * Validates a cross-entropy target and returns the target distribution of row r as a function of the
 * class j: (1-s)·onehot(t[r]) + s/C for class indices, (1-s)·t[r,j] + s/C for probabilities (PyTorch
 * smooths both kinds the same way).
 */
function targetDistribution(
  k: string, n: number, c: number, s: number, target: unknown,
): (r: number, j: number) => number {
  if (target instanceof Int32Array) {
    if (target.length !== n) throw new RangeError(`${k}: target has length ${target.length}, expected n = ${n}`);
    for (let r = 0; r < n; r++) {
      if (target[r] < 0 || target[r] >= c) {
        throw new RangeError(`${k}: target[${r}] = ${target[r]} is not a class index in [0, ${c})`);
      }
    }
    return (r, j) => (j === target[r] ? 1 - s : 0) + s / c;
  }
  if (target instanceof Float32Array) {
    checkLength(k, 'target', target, n * c, `n*c (n=${n}, c=${c})`);
    return (r, j) => (1 - s) * target[r * c + j] + s / c;
  }
  throw new TypeError(`${k}: target must be an Int32Array of class indices or a Float32Array of probabilities, got ${describe(target)}`);
}

export const softmaxKernels: Pick<
  Backend,
  'softmax' | 'softmaxBackward' | 'logSoftmax' | 'logSoftmaxBackward' | 'softmaxCrossEntropy' | 'softmaxCrossEntropyBackward'
> = {
  // x [outer,dim,inner] -> y [outer,dim,inner]
  softmax(outer, dim, inner, x, y) {
    const k = 'softmax';
    const n = checkSoftmaxArgs(k, outer, dim, inner);
    checkLength(k, 'x', x, n, how(outer, dim, inner));
    checkLength(k, 'y', y, n, how(outer, dim, inner));
    forEachRow(outer, dim, inner, (at) => {
      const { max, logSum } = rowStats(x, dim, at);
      for (let d = 0; d < dim; d++) y[at(d)] = Math.exp(x[at(d)] - max - logSum);
    });
  },

  // dy, y [outer,dim,inner] -> dx = y·(dy - Σ_d dy·y)
  softmaxBackward(outer, dim, inner, dx, dy, y) {
    const k = 'softmaxBackward';
    const n = checkSoftmaxArgs(k, outer, dim, inner);
    for (const [name, buf] of [['dx', dx], ['dy', dy], ['y', y]] as const) checkLength(k, name, buf, n, how(outer, dim, inner));
    forEachRow(outer, dim, inner, (at) => {
      let dot = 0;
      for (let d = 0; d < dim; d++) dot += dy[at(d)] * y[at(d)];
      for (let d = 0; d < dim; d++) dx[at(d)] = y[at(d)] * (dy[at(d)] - dot);
    });
  },

  // x [outer,dim,inner] -> y = x - max - log Σ exp(x - max)
  logSoftmax(outer, dim, inner, x, y) {
    const k = 'logSoftmax';
    const n = checkSoftmaxArgs(k, outer, dim, inner);
    checkLength(k, 'x', x, n, how(outer, dim, inner));
    checkLength(k, 'y', y, n, how(outer, dim, inner));
    forEachRow(outer, dim, inner, (at) => {
      const { max, logSum } = rowStats(x, dim, at);
      for (let d = 0; d < dim; d++) y[at(d)] = x[at(d)] - max - logSum;
    });
  },

  // dy, y (log-probabilities) -> dx = dy - exp(y)·Σ_d dy
  logSoftmaxBackward(outer, dim, inner, dx, dy, y) {
    const k = 'logSoftmaxBackward';
    const n = checkSoftmaxArgs(k, outer, dim, inner);
    for (const [name, buf] of [['dx', dx], ['dy', dy], ['y', y]] as const) checkLength(k, name, buf, n, how(outer, dim, inner));
    forEachRow(outer, dim, inner, (at) => {
      let sum = 0;
      for (let d = 0; d < dim; d++) sum += dy[at(d)];
      for (let d = 0; d < dim; d++) dx[at(d)] = dy[at(d)] - Math.exp(y[at(d)]) * sum;
    });
  },

  // logits [N,C], target [N] (Int32) | [N,C] (F32) -> loss [N] = -Σ_j q_j log p_j, probs [N,C] = p
  softmaxCrossEntropy(n, c, labelSmoothing, logits, target, loss, probs) {
    const k = 'softmaxCrossEntropy';
    checkDims(k, { n, c });
    checkLabelSmoothing(k, labelSmoothing);
    checkLength(k, 'logits', logits, n * c, `n*c (n=${n}, c=${c})`);
    const q = targetDistribution(k, n, c, labelSmoothing, target);
    checkLength(k, 'loss', loss, n, `n (n=${n})`);
    checkLength(k, 'probs', probs, n * c, `n*c (n=${n}, c=${c})`);
    for (let r = 0; r < n; r++) {
      const at = (j: number) => r * c + j;
      const { max, logSum } = rowStats(logits, c, at);
      let sum = 0;
      for (let j = 0; j < c; j++) {
        const logp = logits[at(j)] - max - logSum;
        probs[at(j)] = Math.exp(logp);
        sum -= q(r, j) * logp;
      }
      loss[r] = sum;
    }
  },

  // dloss [N], probs [N,C], target -> dlogits [N,C] = (probs - q)·dloss[row]
  softmaxCrossEntropyBackward(n, c, labelSmoothing, dlogits, dloss, probs, target) {
    const k = 'softmaxCrossEntropyBackward';
    checkDims(k, { n, c });
    checkLabelSmoothing(k, labelSmoothing);
    checkLength(k, 'dlogits', dlogits, n * c, `n*c (n=${n}, c=${c})`);
    checkLength(k, 'dloss', dloss, n, `n (n=${n})`);
    checkLength(k, 'probs', probs, n * c, `n*c (n=${n}, c=${c})`);
    const q = targetDistribution(k, n, c, labelSmoothing, target);
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < c; j++) dlogits[r * c + j] = (probs[r * c + j] - q(r, j)) * dloss[r];
    }
  },
};
