// Elementwise ops: unary math and activations, and binary arithmetic with NumPy broadcasting.
// Forward and backward are both single backend kernels (unary/unaryBackward, binary/binaryBackward);
// add and sub need no saved inputs, so their backward is a reduce over the broadcast axes instead.

import type { BackwardFn } from '../autograd/graph.js';
import { output } from '../autograd/record.js';
import type { BinaryOp, UnaryOp } from '../backend/backend.js';
import { kernelOutput } from '../backend/alloc.js';
import { getBackend } from '../backend/index.js';
import { broadcastShapes } from '../backend/shape.js';
import { Tensor, formatShape } from '../tensor.js';
import { checkNumber, floatData, sizeOf } from './check.js';

// ---------------------------------------------------------------------------------------------
// unary: y = op(x)
// ---------------------------------------------------------------------------------------------

/** Which side unaryBackward reads (backend.ts): y for these, x for the rest (neg reads neither). */
const READS_Y: ReadonlySet<UnaryOp> = new Set<UnaryOp>(['relu', 'leakyRelu', 'elu', 'sigmoid', 'tanh', 'exp', 'sqrt']);

function unary(op: UnaryOp, x: Tensor, alpha = 0): Tensor {
  const xd = floatData(op, 'x', x);
  const y = kernelOutput(xd.length);
  getBackend().unary(op, alpha, xd, y);
  // Save only the side the derivative reads: y (its own output) or x.
  const savedX = op !== 'neg' && !READS_Y.has(op) ? xd : null;
  const savedY = READS_Y.has(op) ? y : null;
  return output(op, [x], y, x.shape, (dy) => {
    const dx = kernelOutput(dy.length);
    getBackend().unaryBackward(op, alpha, dx, dy, savedX, savedY);
    return [dx];
  });
}

export function neg(x: Tensor): Tensor { return unary('neg', x); }
export function exp(x: Tensor): Tensor { return unary('exp', x); }
export function log(x: Tensor): Tensor { return unary('log', x); }
export function sqrt(x: Tensor): Tensor { return unary('sqrt', x); }
export function square(x: Tensor): Tensor { return unary('square', x); }
export function abs(x: Tensor): Tensor { return unary('abs', x); }
export function relu(x: Tensor): Tensor { return unary('relu', x); }
export function sigmoid(x: Tensor): Tensor { return unary('sigmoid', x); }
export function tanh(x: Tensor): Tensor { return unary('tanh', x); }
/** log(1 + exp(x)), computed stably by the kernel. */
export function softplus(x: Tensor): Tensor { return unary('softplus', x); }

/** max(x, 0) + slope·min(x, 0). The slope must be >= 0 so the derivative can be read from y. */
export function leakyRelu(x: Tensor, slope = 0.01): Tensor {
  checkNumber('leakyRelu', 'slope', slope, (v) => v >= 0, 'a finite number >= 0');
  return unary('leakyRelu', x, slope);
}

/** x for x > 0, alpha·(exp(x) - 1) otherwise. */
export function elu(x: Tensor, alpha = 1): Tensor {
  checkNumber('elu', 'alpha', alpha, (v) => v > 0, 'a finite number > 0');
  return unary('elu', x, alpha);
}

// ---------------------------------------------------------------------------------------------
// binary with broadcasting: y = a op b, y.shape = broadcast(a.shape, b.shape)
// ---------------------------------------------------------------------------------------------

function asTensor(op: string, v: Tensor | number): Tensor {
  if (v instanceof Tensor) return v;
  if (typeof v === 'number') return new Tensor(Float32Array.of(v), []);
  throw new TypeError(`${op}: operands must be Tensors or numbers, got ${v === null ? 'null' : typeof v}`);
}

/** Kernels take shapes of rank >= 1; a rank-0 tensor is passed as [1] (broadcasts the same way). */
function kernelShape(shape: readonly number[]): readonly number[] {
  return shape.length === 0 ? [1] : shape;
}

/** The axes of `outShape` that `shape` was broadcast along (missing leading axes and size-1 axes). */
export function broadcastAxes(shape: readonly number[], outShape: readonly number[]): number[] {
  const lead = outShape.length - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < outShape.length; i++) {
    if (i < lead || (shape[i - lead] === 1 && outShape[i] !== 1)) axes.push(i);
  }
  return axes;
}

/** Sums dy [outShape] down to `shape` (the gradient of a broadcast), optionally negated. */
function reduceToShape(dy: Float32Array, outShape: readonly number[], shape: readonly number[], negate: boolean): Float32Array {
  const be = getBackend();
  const axes = broadcastAxes(shape, outShape);
  let g = dy;
  if (axes.length > 0) {
    g = new Float32Array(sizeOf(shape));
    be.reduce('sum', kernelShape(outShape), axes, dy, g);
  }
  if (negate) {
    const n = new Float32Array(g.length);
    be.unary('neg', 0, g, n);
    g = n;
  }
  return g;
}

function binary(op: BinaryOp, aIn: Tensor | number, bIn: Tensor | number): Tensor {
  const a = asTensor(op, aIn);
  const b = asTensor(op, bIn);
  const ad = floatData(op, 'a', a);
  const bd = floatData(op, 'b', b);
  const outShape = broadcastShapes(op, a.shape, b.shape);
  const aShape = kernelShape(a.shape);
  const bShape = kernelShape(b.shape);
  const y = kernelOutput(sizeOf(outShape));
  getBackend().binary(op, aShape, ad, bShape, bd, y);

  const backward = op === 'add' || op === 'sub'
    ? addSubBackward(op, outShape, a.shape, b.shape)
    : savingBackward(op, aShape, ad, bShape, bd);
  return output(op, [a, b], y, outShape, backward);
}

// The two backward closures are made in separate functions so each captures only its own variables
// (closures made in one scope share that scope's captured variables).

/** d(a ± b) = dy, ±dy summed over the broadcast axes: nothing saved. */
function addSubBackward(
  op: 'add' | 'sub', outShape: readonly number[], aShape: readonly number[], bShape: readonly number[],
): BackwardFn {
  return (dy, needs) => [
    needs[0] ? reduceToShape(dy, outShape, aShape, false) : null,
    needs[1] ? reduceToShape(dy, outShape, bShape, op === 'sub') : null,
  ];
}

/** mul, div, maximum, minimum read both inputs. */
function savingBackward(
  op: BinaryOp, aShape: readonly number[], ad: Float32Array, bShape: readonly number[], bd: Float32Array,
): BackwardFn {
  return (dy, needs) => {
    const da = needs[0] ? kernelOutput(ad.length) : null;
    const db = needs[1] ? kernelOutput(bd.length) : null;
    getBackend().binaryBackward(op, da, db, dy, aShape, ad, bShape, bd);
    return [da, db];
  };
}

export function add(a: Tensor | number, b: Tensor | number): Tensor { return binary('add', a, b); }
export function sub(a: Tensor | number, b: Tensor | number): Tensor { return binary('sub', a, b); }
export function mul(a: Tensor | number, b: Tensor | number): Tensor { return binary('mul', a, b); }
export function div(a: Tensor | number, b: Tensor | number): Tensor { return binary('div', a, b); }
/** Elementwise max; on a tie the gradient is split half and half (PyTorch). */
export function maximum(a: Tensor | number, b: Tensor | number): Tensor { return binary('maximum', a, b); }
export function minimum(a: Tensor | number, b: Tensor | number): Tensor { return binary('minimum', a, b); }

/** min(max(x, lo), hi). */
export function clamp(x: Tensor, lo: number, hi: number): Tensor {
  if (!(lo <= hi)) throw new RangeError(`clamp: lo ${lo} must be <= hi ${hi}`);
  return minimum(maximum(x, lo), hi);
}

/** x^p for a number p, as exp(p·log x) for x > 0; p = 2 and p = 0.5 use square/sqrt. */
export function pow(x: Tensor, p: number): Tensor {
  checkNumber('pow', 'p', p, () => true, 'a finite number');
  if (p === 1) return x;
  if (p === 2) return square(x);
  if (p === 0.5) return sqrt(x);
  const xd = floatData('pow', 'x', x);
  for (let i = 0; i < xd.length; i++) {
    if (!(xd[i] > 0)) throw new RangeError(`pow: x must be > 0 for a general exponent ${p}, got x[${i}] = ${xd[i]} (shape ${formatShape(x.shape)})`);
  }
  return exp(mul(log(x), p));
}
