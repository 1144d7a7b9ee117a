// matmul and linear (matmul + bias + optional fused activation). Backward uses the kernel's transpose
// flags (dA = dC·Bᵀ, dB = Aᵀ·dC) so no transposed copy is ever materialized.

import { output } from '../autograd/record.js';
import type { Activation, MatmulArgs } from '../backend/backend.js';
import { kernelOutput } from '../backend/alloc.js';
import { getBackend } from '../backend/index.js';
import { matmulWithPackedWeights } from './packed-weights.js';
import { Tensor, formatShape } from '../tensor.js';
import { checkNumber, floatData } from './check.js';

export interface ActivationOptions {
  /** Activation fused into the kernel epilogue (default 'none'). */
  activation?: Activation;
  /** leakyRelu slope (>= 0, default 0.01) or elu alpha (> 0, default 1). */
  alpha?: number;
}

const ACTIVATIONS: readonly Activation[] = ['none', 'relu', 'leakyRelu', 'elu', 'sigmoid', 'tanh'];

/** Validated epilogue; throws naming the op for an unknown activation or a bad alpha. */
export function resolveActivation(op: string, options: ActivationOptions): { activation: Activation; alpha: number } {
  const activation = options.activation ?? 'none';
  if (!ACTIVATIONS.includes(activation)) {
    throw new RangeError(`${op}: activation must be one of ${ACTIVATIONS.join(', ')}; got ${JSON.stringify(activation)}`);
  }
  let alpha = 0;
  if (activation === 'leakyRelu') alpha = checkNumber(op, 'alpha', options.alpha ?? 0.01, (v) => v >= 0, 'a finite number >= 0');
  if (activation === 'elu') alpha = checkNumber(op, 'alpha', options.alpha ?? 1, (v) => v > 0, 'a finite number > 0');
  return { activation, alpha };
}

function mmArgs(m: number, n: number, k: number, transA: boolean, transB: boolean, ep = { activation: 'none' as Activation, alpha: 0 }, accumulate = false): MatmulArgs {
  return { m, n, k, transA, transB, accumulate, activation: ep.activation, alpha: ep.alpha };
}

/**
 * Gradient of the pre-activation from dy. All fusable activations' derivatives read only y, so the
 * pre-activation is never kept (backend.ts unaryBackward).
 */
export function activationBackward(activation: Activation, alpha: number, dy: Float32Array, y: Float32Array): Float32Array {
  if (activation === 'none') return dy;
  const dz = kernelOutput(dy.length);
  getBackend().unaryBackward(activation, alpha, dz, dy, null, y);
  return dz;
}

/** a [..., K] · b [K, N] -> [..., N] (leading axes of a are flattened into rows). */
export function matmul(a: Tensor, b: Tensor): Tensor {
  return linear(a, b, null, {}, 'matmul');
}

/**
 * y = act(x·w + bias): x [..., in], w [in, out] (tensorforge's Linear layout), bias [out] or null.
 * With an activation the kernel applies it in its epilogue and backward reads only y.
 */
export function linear(x: Tensor, w: Tensor, bias: Tensor | null = null, options: ActivationOptions = {}, op = 'linear'): Tensor {
  const xd = floatData(op, op === 'matmul' ? 'a' : 'x', x);
  const wd = floatData(op, op === 'matmul' ? 'b' : 'w', w);
  const ep = resolveActivation(op, options);
  if (x.rank < 1 || w.rank !== 2) {
    throw new RangeError(`${op}: expected x [..., K] and w [K, N] (rank 2), got ${formatShape(x.shape)} x ${formatShape(w.shape)}`);
  }
  const [k, n] = w.shape;
  if (x.shape[x.rank - 1] !== k) {
    throw new RangeError(`${op}: inner dimensions differ: ${formatShape(x.shape)} x ${formatShape(w.shape)}`);
  }
  let bd: Float32Array | null = null;
  if (bias !== null && bias !== undefined) {
    bd = floatData(op, 'bias', bias);
    if (bias.rank !== 1 || bias.shape[0] !== n) {
      throw new RangeError(`${op}: bias must have shape [${n}] for w ${formatShape(w.shape)}, got ${formatShape(bias.shape)}`);
    }
  }
  const m = x.size / k;
  const outShape = [...x.shape.slice(0, -1), n];
  const y = kernelOutput(m * n);
  if (m > 0) {
    const args = mmArgs(m, n, k, false, false, ep);
    if (!matmulWithPackedWeights(args, xd, wd, bd, y)) getBackend().matmul(args, xd, wd, bd, y);
  }
  const hasBias = bd !== null;
  const inputs = bias ? [x, w, bias] : [x, w];
  const { activation, alpha } = ep;
  const savedY = activation === 'none' ? null : y;
  return output(op, inputs, y, outShape, (dy, needs, into, intoIsZero) => {
    const be = getBackend();
    const dz = savedY === null ? dy : activationBackward(activation, alpha, dy, savedY);
    let dx: Float32Array | null = null;
    let dw: Float32Array | null = null;
    let db: Float32Array | null = null;
    if (needs[0]) {
      dx = kernelOutput(m * k); // dx [M,K] = dz [M,N] · wᵀ
      be.matmul(mmArgs(m, k, n, false, true), dz, wd, null, dx);
    }
    if (needs[1]) {
      // dw [K,N] = xᵀ · dz [M,N]; added (+=) straight into w's existing .grad when the engine offers it,
      // or written over it when that gradient was just zeroed (deferred: its contents are stale).
      const target = into[1];
      dw = target ?? kernelOutput(k * n);
      be.matmul(mmArgs(k, n, m, true, false, undefined, target !== null && !intoIsZero[1]), xd, dz, null, dw);
    }
    if (needs[2]) {
      // db [N] = Σ_rows dz; written straight over the bias's just-zeroed .grad when the engine offers
      // it (as dw above), so the whole backward is kernel calls (a recorded training step replays it).
      const target = into[2];
      db = target !== null && intoIsZero[2] ? target : new Float32Array(n);
      be.reduce('sum', [m, n], [0], dz, db);
    }
    return hasBias ? [dx, dw, db] : [dx, dw];
  });
}
