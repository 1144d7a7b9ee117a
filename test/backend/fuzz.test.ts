// Bad input never crashes the process, on either backend.
//
// Every kernel gets a small valid call (checked to succeed first); then each argument, and each field of
// an options object, is replaced in turn by hostile values. Every call must either succeed or throw a
// TypeError/RangeError whose message starts with the kernel name. A crash would kill this test process.

import { describe, expect, test } from 'vitest';
import type { Backend, KernelName } from '../../lib/backend/backend.js';
import { KERNEL_NAMES } from '../../lib/backend/backend.js';
import { validKernelCalls } from '../helpers/kernel-calls.js';
import { nativeBackend, referenceBackend } from '../helpers/parity.js';

const VALID = validKernelCalls();

/** Values that must never crash a kernel, whatever argument or option they replace. */
const HOSTILE: readonly unknown[] = [
  undefined, null, NaN, Infinity, -1, 0, 0.5, 2 ** 31, 2 ** 53, -(2 ** 31), 'relu', 'nonsense', true, {}, [],
  [-1], [0, 3], [2 ** 31, 2 ** 31], new Float32Array(0), new Float32Array(1), new Float64Array(24),
  new Int32Array(24), new Uint8Array(96), [1.5, 2], Symbol('x'), () => 1, 10n,
];

interface Outcome { ok: boolean; error?: unknown }

function attempt(fn: () => unknown): Outcome {
  try {
    fn();
    return { ok: true };
  } catch (error) {
    return { ok: false, error };
  }
}

function checkOutcome(kernel: string, outcome: Outcome, what: string): void {
  if (outcome.ok) return;
  const e = outcome.error;
  const ok = (e instanceof TypeError || e instanceof RangeError) && (e as Error).message.startsWith(`${kernel}:`);
  if (!ok) {
    throw new Error(
      `${kernel} with ${what}: expected a TypeError/RangeError starting with '${kernel}:', got ` +
        `${e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e)}`,
    );
  }
}

function describeValue(v: unknown): string {
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as unknown as { length: number }).length})`;
  if (typeof v === 'symbol' || typeof v === 'function' || typeof v === 'bigint') return typeof v;
  return JSON.stringify(v) ?? String(v);
}

function fuzzBackend(name: string, getBackend: () => Backend): void {
  describe(`${name} backend: hostile arguments`, () => {
    for (const kernel of KERNEL_NAMES) {
      test(`${kernel}: the valid call succeeds; every mutated argument succeeds or throws a named error`, () => {
        const backend = getBackend();
        const fn = backend[kernel] as (...args: unknown[]) => void;
        expect(typeof fn).toBe('function');
        const baseOutcome = attempt(() => fn(...VALID[kernel]()));
        if (!baseOutcome.ok) throw baseOutcome.error;

        const arity = VALID[kernel]().length;
        for (let pos = 0; pos < arity; pos++) {
          for (const bad of HOSTILE) {
            const args = VALID[kernel]();
            args[pos] = bad;
            checkOutcome(kernel, attempt(() => fn(...args)), `argument ${pos} = ${describeValue(bad)}`);
          }
          const template = VALID[kernel]()[pos];
          if (template !== null && typeof template === 'object' && !ArrayBuffer.isView(template) && !Array.isArray(template)) {
            for (const key of Object.keys(template)) {
              for (const bad of HOSTILE) {
                const args = VALID[kernel]();
                (args[pos] as Record<string, unknown>)[key] = bad;
                checkOutcome(kernel, attempt(() => fn(...args)), `argument ${pos}.${key} = ${describeValue(bad)}`);
              }
            }
          }
        }
        for (const count of [0, arity - 1, arity + 1]) {
          const args = VALID[kernel]().slice(0, count);
          while (args.length < count) args.push(new Float32Array(1).fill(0.5));
          checkOutcome(kernel, attempt(() => fn(...args)), `${count} arguments`);
        }
        // The process still computes correctly afterwards.
        expect(attempt(() => fn(...VALID[kernel]())).ok).toBe(true);
      });
    }
  });
}

fuzzBackend('reference', () => referenceBackend);
fuzzBackend('native', nativeBackend);
