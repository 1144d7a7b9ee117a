// Finite-difference gradient checking for the autograd ops, on whichever backend is active.
//
// The scalar checked is L = Σ r_i·y_i with a fixed random r, so every output element (and every path
// through the op) contributes. The analytic gradient comes from y.backward(r); the numeric one from
// central differences (L(x+h) - L(x-h)) / (x+h - (x-h)), evaluating L in float64 from the float32 y.
//
// Why the step and tolerance (the kernels compute in float32, so L carries rounding noise):
// - Rounding: each y_i has a relative error of a few float32 ulps (~2e-7·|y_i|). Summed over n outputs
//   with |r_i| <= 1 and divided by 2h, the noise in a numeric derivative is ~ n·2e-7·|y|/(2h). With
//   h = 1e-2 and the small graphs used here (n <= ~100, |y| ~ 1) that is <= 1e-3.
// - Truncation: central differences err by h²/6·|L'''| ~ 2e-5·|L'''|, negligible for inputs of order 1.
// So |numeric - analytic| <= atol + rtol·|analytic| with atol = 3e-3, rtol = 1e-2 separates correct
// gradients from wrong ones (a wrong gradient is typically off by O(1) or by a factor). Ops that are
// not smooth everywhere (relu, abs, max, pooling) get inputs kept farther than h from their kinks.
// Inputs are perturbed in float32, so the denominator uses the actually representable x±h.

import { noGrad } from '../../lib/autograd/graph.js';
import { setBackend, type BackendName } from '../../lib/backend/index.js';
import { Tensor } from '../../lib/tensor.js';
import { Rng, numericGradient } from './parity.js';

export interface GradcheckOptions {
  h?: number;
  atol?: number;
  rtol?: number;
  seed?: number;
  /** Label for failure messages. */
  name?: string;
}

function weightedSum(y: Tensor, r: Float64Array): number {
  let s = 0;
  const d = y.data;
  for (let i = 0; i < d.length; i++) s += r[i] * d[i];
  return s;
}

/**
 * Checks the gradients of fn with respect to every input that requires grad. Throws an Error naming
 * the input, the element, both values and the case when they disagree. Returns the number of
 * element gradients compared (so callers can assert the check ran).
 */
export function gradcheck(fn: (...inputs: Tensor[]) => Tensor, inputs: Tensor[], options: GradcheckOptions = {}): number {
  const h = options.h ?? 1e-2;
  const atol = options.atol ?? 3e-3;
  const rtol = options.rtol ?? 1e-2;
  const name = options.name ?? 'gradcheck';
  const rng = new Rng(options.seed ?? 1234);

  for (const t of inputs) t.grad = null;
  const y = fn(...inputs);
  if (!y.requiresGrad) throw new Error(`${name}: the output does not require grad`);
  const r = new Float64Array(y.size);
  for (let i = 0; i < r.length; i++) r[i] = rng.uniform(-1, 1);
  y.backward(new Tensor(Float32Array.from(r), y.shape));

  let compared = 0;
  inputs.forEach((t, k) => {
    if (!t.requiresGrad) return;
    if (t.grad === null) throw new Error(`${name}: input ${k} received no gradient`);
    const analytic = t.grad.data;
    const numericAll = numericGradient(t.data as Float32Array, () => noGrad(() => weightedSum(fn(...inputs), r)), h);
    for (let i = 0; i < numericAll.length; i++) {
      const numeric = numericAll[i];
      const a = analytic[i];
      if (!(Math.abs(numeric - a) <= atol + rtol * Math.abs(a))) {
        throw new Error(
          `${name}: gradient of input ${k} (shape [${t.shape.join(',')}]) at element ${i}: ` +
            `analytic ${a}, numeric ${numeric} (|diff| ${Math.abs(numeric - a)}, atol ${atol}, rtol ${rtol})`,
        );
      }
      compared++;
    }
  });
  return compared;
}

/** A float32 tensor of uniform values in [lo, hi) from a seeded Rng. */
export function randTensor(rng: Rng, shape: number[], lo = -1, hi = 1, requiresGrad = true): Tensor {
  let n = 1;
  for (const d of shape) n *= d;
  return new Tensor(rng.f32(n, lo, hi), shape, { requiresGrad });
}

/** Uniform values with magnitude in [gap, 1]: keeps inputs away from the kink at 0 (relu, abs, ...). */
export function awayFromZero(rng: Rng, shape: number[], gap = 0.1, requiresGrad = true): Tensor {
  let n = 1;
  for (const d of shape) n *= d;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rng.next() < 0.5 ? -1 : 1) * rng.uniform(gap, 1);
  return new Tensor(a, shape, { requiresGrad });
}

/** Distinct values (a shuffled grid with spacing `step`): max/argmax/pooling have a unique winner by a margin > h. */
export function distinctValues(rng: Rng, shape: number[], step = 0.05, requiresGrad = true): Tensor {
  let n = 1;
  for (const d of shape) n *= d;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (i - n / 2) * step;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return new Tensor(a, shape, { requiresGrad });
}


/** Both backends: the reference oracle and the native addon (tests fail, not skip, if it cannot load). */
export const BACKENDS: readonly BackendName[] = ['reference', 'native'];

/** Runs fn with `name` as the active backend, then restores the reference backend. */
export function onBackend<T>(name: BackendName, fn: () => T): T {
  setBackend(name);
  try {
    return fn();
  } finally {
    setBackend('reference');
  }
}
