// Argument checks for kernels implemented in TypeScript. Each throws an error whose message starts with
// the kernel name and shows the bad value, so a user can tell which call went wrong and why.

import { convOutputSize, shapeSize } from './shape.js';
import type { Conv2dArgs, Pool2dArgs } from './backend.js';

export function checkF32(op: string, name: string, buf: unknown): asserts buf is Float32Array {
  if (!(buf instanceof Float32Array)) {
    throw new TypeError(`${op}: ${name} must be a Float32Array, got ${describe(buf)}`);
  }
}

export function checkI32(op: string, name: string, buf: unknown): asserts buf is Int32Array {
  if (!(buf instanceof Int32Array)) {
    throw new TypeError(`${op}: ${name} must be an Int32Array, got ${describe(buf)}`);
  }
}

/** A Float32Array of exactly `expected` elements; `how` explains the expectation (e.g. 'm*k (m=3, k=4)'). */
export function checkLength(op: string, name: string, buf: unknown, expected: number, how: string): void {
  checkF32(op, name, buf);
  if (buf.length !== expected) {
    throw new RangeError(`${op}: ${name} has length ${buf.length}, expected ${how} = ${expected}`);
  }
}

export function checkOptionalLength(
  op: string, name: string, buf: unknown, expected: number, how: string,
): void {
  if (buf !== null) checkLength(op, name, buf, expected, how);
}

/** Every named value must be an integer >= 1 (sizes) and small enough to index a typed array. */
export function checkDims(op: string, dims: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(dims)) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 2 ** 31 - 1) {
      throw new RangeError(`${op}: ${name} must be an integer >= 1, got ${String(value)}`);
    }
  }
}

/** Every named value must be an integer >= 0 (paddings). */
export function checkNonNegative(op: string, values: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(values)) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 2 ** 31 - 1) {
      throw new RangeError(`${op}: ${name} must be an integer >= 0, got ${String(value)}`);
    }
  }
}

export function checkFinite(op: string, values: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(values)) {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new RangeError(`${op}: ${name} must be a finite number, got ${String(value)}`);
    }
  }
}

export function checkBoolean(op: string, values: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(values)) {
    if (typeof value !== 'boolean') throw new TypeError(`${op}: ${name} must be a boolean, got ${describe(value)}`);
  }
}

/** A shape: a non-empty-or-empty array of integers >= 1. Returns its element count. */
export function checkShape(op: string, name: string, shape: unknown): number {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 1 && d <= 2 ** 31 - 1)) {
    throw new RangeError(`${op}: ${name} must be an array of integers >= 1, got ${JSON.stringify(shape)}`);
  }
  const size = shapeSize(shape);
  if (size > 2 ** 32) throw new RangeError(`${op}: ${name} [${shape.join(',')}] has too many elements (${size})`);
  return size;
}

function checkWindowPadding(op: string, axis: string, k: number, before: number, after: number, halfRule: boolean) {
  const limit = halfRule ? Math.floor(k / 2) : Infinity;
  if (before > limit || after > limit) {
    throw new RangeError(`${op}: padding along ${axis} (${before}, ${after}) must be at most half the kernel size ${k}`);
  }
}

/** Validates conv2d arguments and the buffer sizes they imply. */
export function checkConv2dArgs(op: string, a: Conv2dArgs): void {
  if (typeof a !== 'object' || a === null) throw new TypeError(`${op}: args must be an object, got ${describe(a)}`);
  checkDims(op, {
    n: a.n, h: a.h, w: a.w, c: a.c, kh: a.kh, kw: a.kw, oc: a.oc, strideH: a.strideH, strideW: a.strideW,
    dilationH: a.dilationH, dilationW: a.dilationW, groups: a.groups, oh: a.oh, ow: a.ow,
  });
  checkNonNegative(op, { padTop: a.padTop, padBottom: a.padBottom, padLeft: a.padLeft, padRight: a.padRight });
  if (a.c % a.groups !== 0 || a.oc % a.groups !== 0) {
    throw new RangeError(`${op}: channels c=${a.c} and oc=${a.oc} must be divisible by groups=${a.groups}`);
  }
  const oh = convOutputSize(a.h, a.kh, a.strideH, a.dilationH, a.padTop, a.padBottom);
  const ow = convOutputSize(a.w, a.kw, a.strideW, a.dilationW, a.padLeft, a.padRight);
  if (oh < 1 || ow < 1) {
    throw new RangeError(`${op}: the kernel ${a.kh}x${a.kw} (dilation ${a.dilationH},${a.dilationW}) does not fit the padded input ${a.h}x${a.w}`);
  }
  if (oh !== a.oh || ow !== a.ow) {
    throw new RangeError(`${op}: output size ${a.oh}x${a.ow} does not match the computed ${oh}x${ow}`);
  }
}

export function checkPool2dArgs(op: string, a: Pool2dArgs): void {
  if (typeof a !== 'object' || a === null) throw new TypeError(`${op}: args must be an object, got ${describe(a)}`);
  checkDims(op, {
    n: a.n, h: a.h, w: a.w, c: a.c, kh: a.kh, kw: a.kw, strideH: a.strideH, strideW: a.strideW, oh: a.oh, ow: a.ow,
  });
  checkNonNegative(op, { padTop: a.padTop, padBottom: a.padBottom, padLeft: a.padLeft, padRight: a.padRight });
  checkWindowPadding(op, 'height', a.kh, a.padTop, a.padBottom, true);
  checkWindowPadding(op, 'width', a.kw, a.padLeft, a.padRight, true);
  const oh = convOutputSize(a.h, a.kh, a.strideH, 1, a.padTop, a.padBottom);
  const ow = convOutputSize(a.w, a.kw, a.strideW, 1, a.padLeft, a.padRight);
  if (oh < 1 || ow < 1) {
    throw new RangeError(`${op}: the window ${a.kh}x${a.kw} does not fit the padded input ${a.h}x${a.w}`);
  }
  if (oh !== a.oh || ow !== a.ow) {
    throw new RangeError(`${op}: output size ${a.oh}x${a.ow} does not match the computed ${oh}x${ow}`);
  }
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined'; // as the addon's describe says it
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as unknown as { length: number }).length})`;
  if (Array.isArray(value)) return `Array(${value.length})`;
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return `${typeof value} ${String(value)}`;
}
