// The fused epilogue shared by the reference matmul and conv2d: y = act(x), checked exactly as the
// native bindings check it.

import type { Activation, Epilogue } from '../backend.js';
import { describe } from '../checks.js';

const ACTIVATIONS: readonly Activation[] = ['none', 'relu', 'leakyRelu', 'elu', 'sigmoid', 'tanh'];
const FLOAT32_MAX = 3.4028234663852886e38;

/** The activation in float64. `x < 0 ? ... : x` keeps NaN, as PyTorch does. */
export function activate(activation: Activation, alpha: number, x: number): number {
  switch (activation) {
    case 'none': return x;
    case 'relu': return x < 0 ? 0 : x;
    case 'leakyRelu': return x < 0 ? alpha * x : x;
    case 'elu': return x < 0 ? alpha * Math.expm1(x) : x;
    case 'sigmoid': return 1 / (1 + Math.exp(-x));
    case 'tanh': return Math.tanh(x);
  }
}

/**
 * activation a known string (TypeError if not a string, RangeError if unknown); alpha a finite number
 * that fits a float32, >= 0 for leakyRelu and > 0 for elu.
 */
export function checkEpilogue(op: string, e: Epilogue): void {
  if (typeof e !== 'object' || e === null) throw new TypeError(`${op}: epilogue must be an object, got ${describe(e)}`);
  if (typeof e.activation !== 'string') {
    throw new TypeError(`${op}: activation must be a string, got ${describe(e.activation)}`);
  }
  if (!ACTIVATIONS.includes(e.activation)) {
    throw new RangeError(`${op}: unknown activation '${e.activation}' (expected ${ACTIVATIONS.join(', ')})`);
  }
  if (typeof e.alpha !== 'number') throw new TypeError(`${op}: alpha must be a number, got ${describe(e.alpha)}`);
  if (!Number.isFinite(e.alpha) || Math.abs(e.alpha) > FLOAT32_MAX) {
    throw new RangeError(`${op}: alpha must be a finite float32 number, got ${e.alpha}`);
  }
  if (e.activation === 'leakyRelu' && !(e.alpha >= 0)) {
    throw new RangeError(`${op}: leakyRelu alpha must be >= 0, got ${e.alpha}`);
  }
  if (e.activation === 'elu' && !(e.alpha > 0)) throw new RangeError(`${op}: elu alpha must be > 0, got ${e.alpha}`);
}
