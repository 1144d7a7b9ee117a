// Input checks shared by the ops. Every message starts with the op name and shows the bad value.

import { Tensor, formatShape } from '../tensor.js';

export function checkTensor(op: string, name: string, x: unknown): asserts x is Tensor {
  if (!(x instanceof Tensor)) {
    const got = x === null ? 'null' : typeof x === 'object' ? (x as object).constructor?.name ?? 'object' : typeof x;
    throw new TypeError(`${op}: ${name} must be a Tensor, got ${got}`);
  }
}

/** The float32 data of x; throws for int32 tensors (math ops are float32 only). */
export function floatData(op: string, name: string, x: unknown): Float32Array {
  checkTensor(op, name, x);
  if (x.dtype !== 'float32') {
    throw new TypeError(`${op}: ${name} must be float32, got int32 (shape ${formatShape(x.shape)}); convert with .float()`);
  }
  return x.data as Float32Array;
}

export function checkRank(op: string, name: string, x: Tensor, ranks: readonly number[]): void {
  if (!ranks.includes(x.rank)) {
    const want = ranks.length === 1 ? `rank ${ranks[0]}` : `rank ${ranks.join(' or ')}`;
    throw new RangeError(`${op}: ${name} must be ${want}, got shape ${formatShape(x.shape)}`);
  }
}

/** Normalizes a possibly negative axis into [0, rank). */
export function normalizeAxis(op: string, axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= Math.max(rank, 1)) {
    throw new RangeError(`${op}: axis ${axis} is out of range for rank ${rank}`);
  }
  return axis < 0 ? axis + rank : axis;
}

export function checkNumber(op: string, name: string, value: unknown, predicate: (v: number) => boolean, rule: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !predicate(value)) {
    throw new RangeError(`${op}: ${name} must be ${rule}, got ${String(value)}`);
  }
  return value;
}

export function checkPositiveInt(op: string, name: string, value: unknown): number {
  return checkNumber(op, name, value, (v) => Number.isInteger(v) && v >= 1, 'an integer >= 1');
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Array test without type narrowing (Array.isArray narrows readonly arrays to any[]). */
export function isArray(v: unknown): boolean {
  return Array.isArray(v);
}

/** `[2,3] float32`-style description for messages. */
export function formatShapeOf(x: Tensor): string {
  return `${formatShape(x.shape)}`;
}
