// Loss functions (`losses.*`), PyTorch formulas and defaults. Each takes `reduction`: 'mean' (default)
// averages the per-element losses, 'sum' adds them, 'none' returns them unreduced.
// Most losses are compositions of differentiable ops; cross-entropy uses the fused kernel.

import { kernelOutput } from '../backend/alloc.js';
import { output } from '../autograd/record.js';
import { getBackend } from '../backend/index.js';
import { checkNumber, checkTensor, floatData } from '../ops/check.js';
import { abs, add, log, maximum, minimum, mul, neg, relu, softplus, square, sub } from '../ops/elementwise.js';
import { mean as meanOp, sum as sumOp } from '../ops/reduce.js';
import { Tensor, formatShape } from '../tensor.js';

export type Reduction = 'mean' | 'sum' | 'none';

export interface LossOptions {
  reduction?: Reduction;
}

function checkReduction(op: string, reduction: unknown): Reduction {
  if (reduction === 'none' || reduction === 'mean' || reduction === 'sum') return reduction;
  throw new RangeError(`${op}: reduction must be 'mean', 'sum' or 'none', got ${JSON.stringify(reduction)}`);
}

function reduce(op: string, loss: Tensor, reduction: Reduction = 'mean'): Tensor {
  const r = checkReduction(op, reduction);
  if (r === 'none') return loss;
  return r === 'mean' ? meanOp(loss) : sumOp(loss);
}

function sameShape(op: string, input: Tensor, target: Tensor): void {
  floatData(op, 'input', input);
  floatData(op, 'target', target);
  if (input.rank !== target.rank || input.shape.some((d, i) => d !== target.shape[i])) {
    throw new RangeError(`${op}: input ${formatShape(input.shape)} and target ${formatShape(target.shape)} must have the same shape`);
  }
}

/** Mean squared error: (input - target)². */
export function mse(input: Tensor, target: Tensor, options: LossOptions = {}): Tensor {
  sameShape('mse', input, target);
  return reduce('mse', square(sub(input, target)), options.reduction);
}

/** Mean absolute error: |input - target|. */
export function l1(input: Tensor, target: Tensor, options: LossOptions = {}): Tensor {
  sameShape('l1', input, target);
  return reduce('l1', abs(sub(input, target)), options.reduction);
}

/**
 * Huber: ½d² where |d| < delta, delta·(|d| - ½delta) elsewhere (d = input - target). Written as
 * ½q² + delta·(|d| - q) with q = min(|d|, delta), which is the same function built from ops.
 */
export function huber(input: Tensor, target: Tensor, options: LossOptions & { delta?: number } = {}): Tensor {
  sameShape('huber', input, target);
  const delta = checkNumber('huber', 'delta', options.delta ?? 1, (v) => v > 0, '> 0');
  const a = abs(sub(input, target));
  const q = minimum(a, delta);
  return reduce('huber', add(mul(square(q), 0.5), mul(sub(a, q), delta)), options.reduction);
}

/**
 * Binary cross-entropy on probabilities: -(y·log p + (1-y)·log(1-p)), each log clamped at -100 as
 * PyTorch does (so p = 0 or 1 gives a finite loss).
 */
export function binaryCrossEntropy(input: Tensor, target: Tensor, options: LossOptions = {}): Tensor {
  sameShape('binaryCrossEntropy', input, target);
  const p = input.data;
  for (let i = 0; i < p.length; i++) {
    if (!(p[i] >= 0 && p[i] <= 1)) {
      throw new RangeError(`binaryCrossEntropy: input must hold probabilities in [0, 1], got ${p[i]} at index ${i} (use binaryCrossEntropyWithLogits for logits)`);
    }
  }
  const logP = maximum(log(input), -100);
  const log1mP = maximum(log(sub(1, input)), -100);
  const loss = neg(add(mul(target, logP), mul(sub(1, target), log1mP)));
  return reduce('binaryCrossEntropy', loss, options.reduction);
}

/**
 * Binary cross-entropy on logits, stable form: max(x, 0) - x·y + log(1 + exp(-|x|)).
 * posWeight (broadcast over the last axis) weights the positive term, as in PyTorch.
 */
export function binaryCrossEntropyWithLogits(
  input: Tensor, target: Tensor, options: LossOptions & { posWeight?: Tensor } = {},
): Tensor {
  sameShape('binaryCrossEntropyWithLogits', input, target);
  let loss: Tensor;
  if (options.posWeight) {
    // (1 - y)·x + (1 + (pw - 1)·y)·softplus(-x), softplus(-x) = log(1 + exp(-x)) stably.
    const w = add(mul(sub(options.posWeight, 1), target), 1);
    loss = add(mul(sub(1, target), input), mul(w, softplus(neg(input))));
  } else {
    loss = add(sub(relu(input), mul(input, target)), softplus(neg(abs(input))));
  }
  return reduce('binaryCrossEntropyWithLogits', loss, options.reduction);
}

export interface CrossEntropyOptions extends LossOptions {
  /** s in [0, 1): the target distribution becomes (1 - s)·target + s/C, for index and probability targets (PyTorch). */
  labelSmoothing?: number;
}

/**
 * Cross-entropy of logits [N, C] against class indices (int32 [N]) or class probabilities
 * (float32 [N, C]), through the fused softmax + cross-entropy kernel. Gradients flow to the logits.
 */
export function crossEntropy(logits: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const op = 'crossEntropy';
  const ld = floatData(op, 'logits', logits);
  checkTensor(op, 'target', target);
  if (logits.rank !== 2) throw new RangeError(`${op}: logits must be [N, C], got ${formatShape(logits.shape)}`);
  const [n, c] = logits.shape;
  const s = checkNumber(op, 'labelSmoothing', options.labelSmoothing ?? 0, (v) => v >= 0 && v < 1, 'in [0, 1)');
  let td: Int32Array | Float32Array;
  if (target.dtype === 'int32') {
    if (target.rank !== 1 || target.shape[0] !== n) {
      throw new RangeError(`${op}: class-index target must be [${n}] for logits ${formatShape(logits.shape)}, got ${formatShape(target.shape)}`);
    }
    td = target.data as Int32Array;
    for (let i = 0; i < n; i++) {
      if (td[i] < 0 || td[i] >= c) throw new RangeError(`${op}: target class ${td[i]} at row ${i} is out of range [0, ${c})`);
    }
  } else {
    if (target.rank !== 2 || target.shape[0] !== n || target.shape[1] !== c) {
      throw new RangeError(`${op}: probability target must be [${n},${c}] like the logits, got ${formatShape(target.shape)}`);
    }
    td = target.data as Float32Array;
  }
  const reduction = checkReduction(op, options.reduction ?? 'mean');
  const rowLoss = kernelOutput(n);
  const probs = kernelOutput(n * c);
  getBackend().softmaxCrossEntropy(n, c, s, ld, td, rowLoss, probs);
  const savedTarget = td; // (targets are constants: no gradient flows to them)
  const backward = (dloss: Float32Array): Float32Array[] => {
    const dlogits = kernelOutput(n * c);
    getBackend().softmaxCrossEntropyBackward(n, c, s, dlogits, dloss, probs, savedTarget);
    return [dlogits];
  };
  if (reduction === 'none') return output(op, [logits], rowLoss, [n], backward);
  // The mean or sum of the n row losses: one reduce kernel call (no graph node of its own; backward
  // spreads dloss·(1/n), or dloss, over the rows). A kernel rather than a JS loop so that the whole
  // step is kernel calls, which fit's recorded step (lib/train/native-step.ts) replays.
  const scale = reduction === 'mean' ? 1 / n : 1;
  const value = new Float32Array(1);
  getBackend().reduce(reduction === 'mean' ? 'mean' : 'sum', [n], [0], rowLoss, value);
  return output(op, [logits], value, [], ([g]) => backward(new Float32Array(n).fill(g * scale)));
}

/** Negative log-likelihood of log-probabilities [N, C] at class indices (int32 [N]): -x[n, t_n]. */
export function nll(logProbs: Tensor, target: Tensor, options: LossOptions = {}): Tensor {
  const op = 'nll';
  floatData(op, 'logProbs', logProbs);
  checkTensor(op, 'target', target);
  if (logProbs.rank !== 2) throw new RangeError(`${op}: logProbs must be [N, C], got ${formatShape(logProbs.shape)}`);
  const [n, c] = logProbs.shape;
  if (target.dtype !== 'int32' || target.rank !== 1 || target.shape[0] !== n) {
    throw new RangeError(`${op}: target must be int32 [${n}] class indices, got ${target.dtype} ${formatShape(target.shape)}`);
  }
  // A constant one-hot mask picks x[n, t_n]; the gradient flows through the mul and the sum.
  const onehot = new Float32Array(n * c);
  target.data.forEach((t, i) => {
    if (t < 0 || t >= c) throw new RangeError(`${op}: target class ${t} at row ${i} is out of range [0, ${c})`);
    onehot[i * c + t] = 1;
  });
  const picked = sumOp(mul(logProbs, new Tensor(onehot, [n, c])), 1);
  return reduce(op, neg(picked), options.reduction);
}

/** Binary hinge (SVM) loss max(0, margin - y·x) with labels y in {-1, +1}. */
export function hinge(input: Tensor, target: Tensor, options: LossOptions & { margin?: number } = {}): Tensor {
  sameShape('hinge', input, target);
  const margin = checkNumber('hinge', 'margin', options.margin ?? 1, (v) => v >= 0, '>= 0');
  target.data.forEach((y, i) => {
    if (y !== 1 && y !== -1) throw new RangeError(`hinge: target must hold -1 or +1, got ${y} at index ${i}`);
  });
  return reduce('hinge', relu(sub(margin, mul(input, target))), options.reduction);
}

function checkParams(op: string, params: readonly Tensor[]): void {
  if (!Array.isArray(params) || params.length === 0) throw new RangeError(`${op}: params must be a non-empty array of tensors`);
  params.forEach((p, i) => floatData(op, `params[${i}]`, p));
}

/** λ·Σ|w| over the given parameters (add it to the loss for L1 regularization). */
export function l1Penalty(params: readonly Tensor[], lambda: number): Tensor {
  checkParams('l1Penalty', params);
  checkNumber('l1Penalty', 'lambda', lambda, (v) => v >= 0, '>= 0');
  let total = sumOp(abs(params[0]));
  for (let i = 1; i < params.length; i++) total = add(total, sumOp(abs(params[i])));
  return mul(total, lambda);
}

/**
 * (λ/2)·Σw² over the given parameters. Its gradient is λ·w, so it matches an optimizer's
 * weightDecay = λ (for SGD) exactly.
 */
export function l2Penalty(params: readonly Tensor[], lambda: number): Tensor {
  checkParams('l2Penalty', params);
  checkNumber('l2Penalty', 'lambda', lambda, (v) => v >= 0, '>= 0');
  let total = sumOp(square(params[0]));
  for (let i = 1; i < params.length; i++) total = add(total, sumOp(square(params[i])));
  return mul(total, lambda / 2);
}
