// Creating tensors: from nested arrays or typed arrays, constants, ranges and random draws.

import { zeroedFloat32 } from '../backend/alloc.js';
import { globalGenerator } from '../random.js';
import { Tensor, formatShape, type DType, type NestedArray, type TensorData } from '../tensor.js';
import { sizeOf } from './check.js';

export interface CreateOptions {
  requiresGrad?: boolean;
  dtype?: DType;
}

function checkShapeArg(op: string, shape: readonly number[]): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new RangeError(`${op}: shape must be an array of integers >= 0, got ${JSON.stringify(shape)}`);
  }
  return [...shape];
}

function checkDType(op: string, dtype: unknown): DType {
  if (dtype !== 'float32' && dtype !== 'int32') throw new RangeError(`${op}: dtype must be 'float32' or 'int32', got ${JSON.stringify(dtype)}`);
  return dtype;
}

function alloc(dtype: DType, n: number): TensorData {
  return dtype === 'int32' ? new Int32Array(n) : zeroedFloat32(n);
}

function make(op: string, data: TensorData, shape: readonly number[], options: CreateOptions): Tensor {
  if (options.requiresGrad && data instanceof Int32Array) throw new TypeError(`${op}: an int32 tensor cannot require grad`);
  return new Tensor(data, shape, { requiresGrad: options.requiresGrad ?? false });
}

/** Shape of a nested array; throws on ragged input or non-numbers. */
function inferShape(values: NestedArray): number[] {
  const shape: number[] = [];
  let v: NestedArray = values;
  while (Array.isArray(v)) {
    shape.push(v.length);
    if (v.length === 0) break;
    v = v[0];
  }
  return shape;
}

function flattenInto(op: string, values: NestedArray, shape: readonly number[], dim: number, out: number[]): void {
  if (dim === shape.length) {
    if (typeof values !== 'number') throw new TypeError(`${op}: expected a number at depth ${dim}, got ${Array.isArray(values) ? 'an array' : typeof values}`);
    out.push(values);
    return;
  }
  if (!Array.isArray(values) || values.length !== shape[dim]) {
    throw new RangeError(`${op}: ragged nested array: expected length ${shape[dim]} at depth ${dim} (shape ${formatShape(shape)})`);
  }
  for (const v of values) flattenInto(op, v, shape, dim + 1, out);
}

/**
 * A tensor from a number, nested arrays or a typed array (copied). `shape` reshapes flat input;
 * dtype defaults to int32 for an Int32Array and float32 otherwise.
 */
export function tensor(
  values: NestedArray | Float32Array | Int32Array | readonly number[], shape?: readonly number[], options: CreateOptions = {},
): Tensor {
  const op = 'tensor';
  let flat: ArrayLike<number>;
  let inferred: number[];
  if (values instanceof Float32Array || values instanceof Int32Array) {
    flat = values;
    inferred = [values.length];
  } else if (typeof values === 'number' || Array.isArray(values)) {
    inferred = inferShape(values as NestedArray);
    const out: number[] = [];
    flattenInto(op, values as NestedArray, inferred, 0, out);
    flat = out;
  } else {
    throw new TypeError(`${op}: values must be a number, nested arrays of numbers, a Float32Array or an Int32Array`);
  }
  const finalShape = shape === undefined ? inferred : checkShapeArg(op, shape);
  if (sizeOf(finalShape) !== flat.length) {
    throw new RangeError(`${op}: ${flat.length} values do not fill shape ${formatShape(finalShape)} (${sizeOf(finalShape)} elements)`);
  }
  const dtype = checkDType(op, options.dtype ?? (values instanceof Int32Array ? 'int32' : 'float32'));
  const data = alloc(dtype, flat.length);
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i];
    if (dtype === 'int32' && !Number.isInteger(v)) throw new RangeError(`${op}: int32 tensor value ${v} at index ${i} is not an integer`);
    data[i] = v;
  }
  return make(op, data, finalShape, options);
}

export function full(shape: readonly number[], value: number, options: CreateOptions = {}): Tensor {
  const s = checkShapeArg('full', shape);
  const dtype = checkDType('full', options.dtype ?? 'float32');
  if (typeof value !== 'number' || (dtype === 'int32' && !Number.isInteger(value))) {
    throw new RangeError(`full: value must be a number (an integer for int32), got ${String(value)}`);
  }
  return make('full', alloc(dtype, sizeOf(s)).fill(value), s, options);
}

export function zeros(shape: readonly number[], options: CreateOptions = {}): Tensor {
  return full(shape, 0, options);
}

export function ones(shape: readonly number[], options: CreateOptions = {}): Tensor {
  return full(shape, 1, options);
}

export function zerosLike(t: Tensor, options: CreateOptions = {}): Tensor {
  return full(t.shape, 0, { dtype: t.dtype, ...options });
}

export function onesLike(t: Tensor, options: CreateOptions = {}): Tensor {
  return full(t.shape, 1, { dtype: t.dtype, ...options });
}

/** Uniform on [0, 1) from the global generator (float32). */
export function rand(shape: readonly number[], options: { requiresGrad?: boolean } = {}): Tensor {
  const s = checkShapeArg('rand', shape);
  const data = zeroedFloat32(sizeOf(s));
  for (let i = 0; i < data.length; i++) data[i] = globalGenerator.nextDouble();
  return make('rand', data, s, options);
}

/** Standard normal from the global generator (float32). */
export function randn(shape: readonly number[], options: { requiresGrad?: boolean } = {}): Tensor {
  const s = checkShapeArg('randn', shape);
  const data = zeroedFloat32(sizeOf(s));
  for (let i = 0; i < data.length; i++) data[i] = globalGenerator.normal();
  return make('randn', data, s, options);
}

/**
 * start, start+step, ... < stop (or arange(stop) from 0). Like PyTorch, the result is int32 when
 * start, stop and step are all integers, float32 otherwise (unless dtype is given).
 */
export function arange(start: number, stop?: number, step = 1, options: CreateOptions = {}): Tensor {
  if (stop === undefined) {
    stop = start;
    start = 0;
  }
  for (const [name, v] of [['start', start], ['stop', stop], ['step', step]] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`arange: ${name} must be a finite number, got ${v}`);
  }
  if (step === 0) throw new RangeError('arange: step must not be 0');
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const allInts = Number.isInteger(start) && Number.isInteger(stop) && Number.isInteger(step);
  const dtype = checkDType('arange', options.dtype ?? (allInts ? 'int32' : 'float32'));
  const data = alloc(dtype, n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return make('arange', data, [n], options);
}
