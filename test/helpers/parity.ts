// Shared helpers for backend tests: the native configurations to sweep (ISA levels x thread counts),
// a seeded RNG for inputs, and comparisons whose failures print the index, expected and actual values
// and the case (shapes, options, backend configuration).

import { expect } from 'vitest';
import { referenceBackend } from '../../lib/backend/reference/index.js';
import { nativeAddon, nativeBackendOrError } from '../../lib/backend/index.js';
import type { Backend, KernelName } from '../../lib/backend/backend.js';

export { referenceBackend };

/** The native backend. Tests fail (not skip) when it cannot load: CI must exercise it. */
export function nativeBackend(): Backend {
  const b = nativeBackendOrError();
  if (b instanceof Error) throw b;
  return b;
}

export interface NativeConfig {
  isa: string;
  threads: number;
  /** e.g. 'avx2 x2' for test names */
  label: string;
}

/** Every ISA level this machine can run x {1, 2} threads. */
export function nativeConfigs(): NativeConfig[] {
  const addon = nativeAddon();
  if (!addon) throw nativeBackendOrError();
  const out: NativeConfig[] = [];
  for (const isa of addon.backendInfo().availableIsas) {
    for (const threads of [1, 2]) out.push({ isa, threads, label: `${isa} x${threads}` });
  }
  return out;
}

/** Runs fn with the given ISA and thread count active, restoring the previous ones afterwards. */
export function withNativeConfig<T>(cfg: NativeConfig, fn: () => T): T {
  const addon = nativeAddon();
  if (!addon) throw nativeBackendOrError();
  const before = addon.backendInfo();
  addon.setIsa(cfg.isa);
  addon.setNumThreads(cfg.threads);
  try {
    return fn();
  } finally {
    addon.setIsa(before.isa);
    addon.setNumThreads(before.numThreads);
  }
}

/** Mulberry32: small, seeded, good enough for test inputs. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  /** Integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  f32(n: number, lo = -1, hi = 1): Float32Array {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = this.uniform(lo, hi);
    return a;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
}

export interface Tolerance {
  atol: number;
  rtol: number;
}

/**
 * Tolerance for outputs that sum k products of inputs of order 1. The float32 kernel rounds each of k
 * partial sums (relative error ~6e-8 each) while the reference accumulates in float64, so the gap grows
 * with k; 2e-7·k bounds it with margin, and 1e-5 relative covers the final rounding of large outputs.
 */
export function reductionTolerance(k: number): Tolerance {
  return { atol: 1e-5 + 2e-7 * k, rtol: 1e-5 };
}

/** Throws an Error naming the first index where |actual-expected| > atol + rtol·|expected|. */
export function expectClose(
  actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance, context: string,
): void {
  if (actual.length !== expected.length) {
    throw new Error(`length ${actual.length} != expected ${expected.length} | ${context}`);
  }
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const a = actual[i];
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (!(Math.abs(a - e) <= tol.atol + tol.rtol * Math.abs(e))) {
      throw new Error(
        `mismatch at index ${i}: expected ${e}, actual ${a} (|diff| ${Math.abs(a - e)}, ` +
          `atol ${tol.atol}, rtol ${tol.rtol}, length ${expected.length}) | ${context}`,
      );
    }
  }
}

/** Bit-identical (for thread-count independence). */
export function expectIdentical(actual: Float32Array, expected: Float32Array, context: string): void {
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  if (a.length !== e.length) throw new Error(`length ${a.length} != ${e.length} | ${context}`);
  for (let i = 0; i < e.length; i++) {
    if (a[i] !== e[i]) {
      throw new Error(`not bit-identical at index ${i}: ${expected[i]} vs ${actual[i]} | ${context}`);
    }
  }
}

/** Asserts that fn throws `cls` (TypeError or RangeError) with a message matching `pattern`. */
export function expectThrown(
  fn: () => unknown, cls: typeof TypeError | typeof RangeError, pattern: RegExp, label = String(pattern),
): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, `${label}: expected ${cls.name}, nothing or something else thrown`).toBeInstanceOf(cls);
  expect((caught as Error).message, label).toMatch(pattern);
}

/** Asserts that fn throws `cls` (TypeError or RangeError) with a message starting with `${op}:`. */
export function expectKernelError(
  fn: () => void, cls: typeof TypeError | typeof RangeError, op: string, label: string = op,
): void {
  expectThrown(fn, cls, new RegExp(`^${op.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:`), label);
}

/** Calls a kernel with arguments the type system would reject (bad-input tests). */
export function callLoose(b: Backend, name: KernelName, ...args: unknown[]): void {
  Reflect.apply(b[name], b, args);
}

/**
 * Central differences of loss() with respect to every entry of buf: buf[i] is set to buf[i] ± step in
 * place (and restored), and the difference of the two losses is divided by the difference of the two
 * values float32 actually stored, not by 2·step, so the rounding of the perturbed input adds no error.
 */
export function numericGradient(buf: Float32Array, loss: () => number, step: number): number[] {
  const out = new Array<number>(buf.length);
  for (let i = 0; i < buf.length; i++) {
    const saved = buf[i];
    buf[i] = saved + step;
    const up = buf[i];
    const lossUp = loss();
    buf[i] = saved - step;
    const down = buf[i];
    const lossDown = loss();
    buf[i] = saved;
    out[i] = (lossUp - lossDown) / (up - down);
  }
  return out;
}
