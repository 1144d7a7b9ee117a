// Tensor: a contiguous, row-major float32 or int32 array with a shape, plus the autograd fields.
// The math lives in lib/ops (functional forms); the methods here only forward to it, so
// `x.matmul(w).add(b).relu()` and `ops.relu(ops.add(ops.matmul(x, w), b))` are the same graph.

import { runBackward, type BackwardOptions } from './autograd/backward.js';
import type { Node } from './autograd/graph.js';
import * as ew from './ops/elementwise.js';
import * as mm from './ops/matmul.js';
import * as red from './ops/reduce.js';
import * as sm from './ops/softmax.js';
import * as mv from './ops/shape.js';

export type DType = 'float32' | 'int32';
export type TensorData = Float32Array | Int32Array;
export type Scalar = number;
export type NestedArray = number | NestedArray[];

/** Whether two float32 arrays hold the same bits (-0 vs 0 and NaN payloads count): a replayed plan is checked this way. */
export function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return false;
  return true;
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export interface TensorOptions {
  requiresGrad?: boolean;
  gradFn?: Node | null;
}

export class Tensor {
  /**
   * The elements, row-major. May be a view into a larger buffer (an optimizer keeps each parameter
   * group in one flat buffer); ops never assume they own it.
   */
  data: TensorData;
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** True when gradients flow to (leaf) or through (non-leaf) this tensor. */
  requiresGrad: boolean;
  /**
   * Accumulated gradient of a leaf (same shape, float32), or null until a backward reaches it.
   * zeroGrad defers its fill: the buffer is zeroed when next read here, or overwritten (not added to)
   * by the next backward, which saves a pass over every gradient per training step.
   */
  get grad(): Tensor | null {
    if (this.gradStandsForZero) {
      this.gradStandsForZero = false;
      (this.gradTensor?.data as Float32Array | undefined)?.fill(0);
    }
    return this.gradTensor;
  }
  set grad(g: Tensor | null) {
    this.gradTensor = g;
    this.gradStandsForZero = false;
  }
  private gradTensor: Tensor | null = null;
  /** @internal The gradient buffer's contents stand for zeros (see `grad`); set by zeroGrad. */
  gradStandsForZero = false;

  /** @internal The gradient tensor as stored, without zeroing a deferred fill (the autograd engine). */
  storedGrad(): Tensor | null {
    return this.gradTensor;
  }

  /** @internal Marks the gradient as zero without touching its buffer (zeroGrad). */
  deferZeroGrad(): void {
    if (this.gradTensor !== null) this.gradStandsForZero = true;
  }
  /** The node that produced this tensor; null for leaves. */
  gradFn: Node | null;

  constructor(data: TensorData, shape: readonly number[], options: TensorOptions = {}) {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new RangeError(`Tensor: shape ${formatShape(shape)} has an invalid dimension ${d}`);
    }
    if (data.length !== sizeOf(shape)) {
      throw new RangeError(`Tensor: data has ${data.length} elements but shape ${formatShape(shape)} needs ${sizeOf(shape)}`);
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
    this.dtype = data instanceof Int32Array ? 'int32' : 'float32';
    this.gradFn = options.gradFn ?? null;
    this.requiresGrad = options.requiresGrad ?? this.gradFn !== null;
    if (this.requiresGrad && this.dtype !== 'float32') {
      throw new TypeError('Tensor: only float32 tensors can require gradients (got int32)');
    }
  }

  get size(): number {
    return this.data.length;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** A leaf was created by the user (not by an op); only leaves accumulate `.grad`. */
  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  /**
   * Backpropagates from this tensor. Without `grad`, the tensor must hold one element (a loss) and
   * its gradient is 1. Leaf gradients accumulate until zeroed.
   */
  backward(grad?: Tensor | null, options: BackwardOptions = {}): void {
    if (!this.requiresGrad) {
      throw new Error(`backward: this tensor (shape ${formatShape(this.shape)}) does not require grad and has no graph`);
    }
    let seed: Float32Array;
    if (grad === undefined || grad === null) {
      if (this.size !== 1) {
        throw new Error(`backward: a gradient must be given for a non-scalar tensor of shape ${formatShape(this.shape)}`);
      }
      seed = new Float32Array([1]);
    } else {
      if (grad.size !== this.size || grad.dtype !== 'float32') {
        throw new RangeError(`backward: grad has shape ${formatShape(grad.shape)} (${grad.dtype}), expected ${formatShape(this.shape)} float32`);
      }
      seed = (grad.data as Float32Array).slice();
    }
    runBackward(this, seed, options);
  }

  /** Same data, cut from the graph. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape);
  }

  /** A copy with its own buffer, cut from the graph. */
  clone(): Tensor {
    return new Tensor(this.data.slice(), this.shape);
  }

  /** The single element of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new RangeError(`item: tensor has ${this.size} elements (shape ${formatShape(this.shape)}), expected 1`);
    return this.data[0];
  }

  /** Nested arrays of numbers (a number for a rank-0 tensor). */
  toArray(): NestedArray {
    const build = (dim: number, offset: number): NestedArray => {
      if (dim === this.shape.length) return this.data[offset];
      const stride = sizeOf(this.shape.slice(dim + 1));
      const out: NestedArray[] = [];
      for (let i = 0; i < this.shape[dim]; i++) out.push(build(dim + 1, offset + i * stride));
      return out;
    };
    return build(0, 0);
  }

  /** A copy of the elements as float32. */
  toFloat32Array(): Float32Array {
    return Float32Array.from(this.data);
  }

  toString(): string {
    const flag = this.requiresGrad ? ', requiresGrad' : '';
    const preview = Array.from(this.data.subarray(0, 8), (v) => Number(v.toPrecision(6))).join(', ');
    return `Tensor(${formatShape(this.shape)}, ${this.dtype}${flag}) [${preview}${this.size > 8 ? ', ...' : ''}]`;
  }

  // --- dtype
  /** float32 copy (int32 -> float32); the tensor itself when already float32. */
  float(): Tensor {
    return this.dtype === 'float32' ? this : new Tensor(Float32Array.from(this.data), this.shape);
  }
  /** int32 copy, truncating toward zero (like a C cast). */
  int(): Tensor {
    return this.dtype === 'int32' ? this : new Tensor(Int32Array.from(this.data, (v) => Math.trunc(v)), this.shape);
  }

  // --- elementwise (broadcasting binary ops accept a tensor or a number)
  add(other: Tensor | Scalar): Tensor { return ew.add(this, other); }
  sub(other: Tensor | Scalar): Tensor { return ew.sub(this, other); }
  mul(other: Tensor | Scalar): Tensor { return ew.mul(this, other); }
  div(other: Tensor | Scalar): Tensor { return ew.div(this, other); }
  maximum(other: Tensor | Scalar): Tensor { return ew.maximum(this, other); }
  minimum(other: Tensor | Scalar): Tensor { return ew.minimum(this, other); }
  neg(): Tensor { return ew.neg(this); }
  exp(): Tensor { return ew.exp(this); }
  log(): Tensor { return ew.log(this); }
  sqrt(): Tensor { return ew.sqrt(this); }
  square(): Tensor { return ew.square(this); }
  abs(): Tensor { return ew.abs(this); }
  relu(): Tensor { return ew.relu(this); }
  leakyRelu(slope = 0.01): Tensor { return ew.leakyRelu(this, slope); }
  elu(alpha = 1): Tensor { return ew.elu(this, alpha); }
  sigmoid(): Tensor { return ew.sigmoid(this); }
  tanh(): Tensor { return ew.tanh(this); }
  softplus(): Tensor { return ew.softplus(this); }

  // --- linear algebra
  matmul(other: Tensor): Tensor { return mm.matmul(this, other); }

  // --- reductions
  sum(axes?: number | readonly number[], keepDims = false): Tensor { return red.sum(this, axes, keepDims); }
  mean(axes?: number | readonly number[], keepDims = false): Tensor { return red.mean(this, axes, keepDims); }
  max(axes?: number | readonly number[], keepDims = false): Tensor { return red.max(this, axes, keepDims); }
  argmax(axis = -1): Tensor { return red.argmax(this, axis); }
  softmax(axis = -1): Tensor { return sm.softmax(this, axis); }
  logSoftmax(axis = -1): Tensor { return sm.logSoftmax(this, axis); }

  // --- data movement
  reshape(shape: readonly number[]): Tensor { return mv.reshape(this, shape); }
  flatten(startAxis = 0, endAxis = -1): Tensor { return mv.flatten(this, startAxis, endAxis); }
  squeeze(axis?: number): Tensor { return mv.squeeze(this, axis); }
  unsqueeze(axis: number): Tensor { return mv.unsqueeze(this, axis); }
  permute(axes: readonly number[]): Tensor { return mv.permute(this, axes); }
  transpose(axis0 = -2, axis1 = -1): Tensor { return mv.transpose(this, axis0, axis1); }
  slice(begin: readonly number[], size?: readonly number[]): Tensor { return mv.slice(this, begin, size); }
  concat(others: Tensor | readonly Tensor[], axis = 0): Tensor {
    return mv.concat([this, ...(Array.isArray(others) ? others : [others as Tensor])], axis);
  }
  broadcastTo(shape: readonly number[]): Tensor { return mv.broadcastTo(this, shape); }
  indexSelect(axis: number, indices: Tensor | Int32Array | readonly number[]): Tensor {
    return mv.indexSelect(this, axis, indices);
  }
}
