// Reference elementwise kernels: unary activations and math, binary ops with NumPy broadcasting, and
// their backward passes. Plain loops in JS doubles; every value is rounded to float32 once, on store.

import type { Backend, BinaryOp, UnaryOp } from '../backend.js';
import { checkF32, checkLength, checkOptionalLength, describe } from '../checks.js';
import { broadcastShapes, shapeSize } from '../shape.js';
import { broadcastIndexMap, checkRankedShape } from './broadcast.js';

const UNARY_OPS: readonly UnaryOp[] = [
  'relu', 'leakyRelu', 'elu', 'sigmoid', 'tanh', 'softplus', 'exp', 'log', 'sqrt', 'square', 'abs', 'neg',
];
const BINARY_OPS: readonly BinaryOp[] = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum'];

// Which saved tensor each unary backward reads (the other may be null).
const READS_Y: readonly UnaryOp[] = ['relu', 'leakyRelu', 'elu', 'sigmoid', 'tanh', 'exp', 'sqrt'];
const READS_X: readonly UnaryOp[] = ['softplus', 'log', 'square', 'abs'];

/** PyTorch's softplus threshold (beta = 1): above it softplus(x) = x to float precision. */
export const SOFTPLUS_THRESHOLD = 20;

function checkOp<T extends string>(kernel: string, op: unknown, known: readonly T[]): asserts op is T {
  if (typeof op !== 'string') throw new TypeError(`${kernel}: op must be a string, got ${describe(op)}`);
  if (!(known as readonly string[]).includes(op)) {
    throw new RangeError(`${kernel}: unknown op '${op}' (expected one of ${known.join(', ')})`);
  }
}

/** alpha: finite; leakyRelu slope >= 0 and ELU alpha > 0 (so backward can read the sign from y). */
function checkAlpha(kernel: string, op: UnaryOp, alpha: unknown): asserts alpha is number {
  if (typeof alpha !== 'number') throw new TypeError(`${kernel}: alpha must be a number, got ${describe(alpha)}`);
  if (!Number.isFinite(alpha)) throw new RangeError(`${kernel}: alpha must be a finite number, got ${alpha}`);
  if (op === 'leakyRelu' && alpha < 0) throw new RangeError(`${kernel}: leakyRelu alpha must be >= 0, got ${alpha}`);
  if (op === 'elu' && !(alpha > 0)) throw new RangeError(`${kernel}: elu alpha must be > 0, got ${alpha}`);
}

function nonEmptyLength(kernel: string, name: string, buf: unknown): number {
  checkF32(kernel, name, buf);
  if (buf.length < 1) throw new RangeError(`${kernel}: ${name} must not be empty`);
  return buf.length;
}

/** sigmoid without overflow: for x < 0 use e^x / (1 + e^x). */
export function stableSigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

function unaryForward(op: UnaryOp, alpha: number, x: number): number {
  switch (op) {
    case 'relu': return x < 0 ? 0 : x;
    case 'leakyRelu': return x > 0 ? x : alpha * x;
    case 'elu': return x > 0 ? x : alpha * Math.expm1(x);
    case 'sigmoid': return stableSigmoid(x);
    case 'tanh': return Math.tanh(x);
    case 'softplus': return x > SOFTPLUS_THRESHOLD ? x : Math.log1p(Math.exp(x));
    case 'exp': return Math.exp(x);
    case 'log': return Math.log(x);
    case 'sqrt': return Math.sqrt(x);
    case 'square': return x * x;
    case 'abs': return Math.abs(x);
    case 'neg': return -x;
  }
}

/** op'(.)·dy from whichever of x / y the op reads. */
function unaryGradient(op: UnaryOp, alpha: number, dy: number, x: number, y: number): number {
  switch (op) {
    case 'relu': return y > 0 ? dy : 0;
    case 'leakyRelu': return y > 0 ? dy : alpha * dy;
    case 'elu': return y > 0 ? dy : dy * (y + alpha); // d/dx alpha(e^x - 1) = alpha e^x = y + alpha
    case 'sigmoid': return dy * y * (1 - y);
    case 'tanh': return dy * (1 - y * y);
    case 'exp': return dy * y;
    case 'sqrt': return dy / (2 * y);
    case 'softplus': return x > SOFTPLUS_THRESHOLD ? dy : dy * stableSigmoid(x);
    case 'log': return dy / x;
    case 'square': return 2 * x * dy;
    case 'abs': return x > 0 ? dy : x < 0 ? -dy : 0;
    case 'neg': return -dy;
  }
}

function binaryForward(op: BinaryOp, a: number, b: number): number {
  switch (op) {
    case 'add': return a + b;
    case 'sub': return a - b;
    case 'mul': return a * b;
    case 'div': return a / b;
    // NaN propagates from either side (PyTorch); otherwise a tie keeps a (same value).
    case 'maximum': return Number.isNaN(a) || a >= b ? a : b;
    case 'minimum': return Number.isNaN(a) || a <= b ? a : b;
  }
}

/** [∂y/∂a · dy, ∂y/∂b · dy]. maximum/minimum: the winner takes dy, a tie splits it, NaN gives 0. */
function binaryGradients(op: BinaryOp, dy: number, a: number, b: number): [number, number] {
  switch (op) {
    case 'add': return [dy, dy];
    case 'sub': return [dy, -dy];
    case 'mul': return [dy * b, dy * a];
    case 'div': return [dy / b, (-dy * a) / (b * b)];
    case 'maximum': return a === b ? [dy * 0.5, dy * 0.5] : [a > b ? dy : 0, b > a ? dy : 0];
    case 'minimum': return a === b ? [dy * 0.5, dy * 0.5] : [a < b ? dy : 0, b < a ? dy : 0];
  }
}

export const elementwiseKernels: Pick<Backend, 'unary' | 'unaryBackward' | 'binary' | 'binaryBackward'> = {
  // x [n] -> y [n]
  unary(op, alpha, x, y) {
    const k = 'unary';
    checkOp(k, op, UNARY_OPS);
    checkAlpha(k, op, alpha);
    const n = nonEmptyLength(k, 'x', x);
    checkLength(k, 'y', y, n, 'x.length');
    for (let i = 0; i < n; i++) y[i] = unaryForward(op, alpha, x[i]);
  },

  // dy [n], x [n] | null, y [n] | null -> dx [n]
  unaryBackward(op, alpha, dx, dy, x, y) {
    const k = 'unaryBackward';
    checkOp(k, op, UNARY_OPS);
    checkAlpha(k, op, alpha);
    const n = nonEmptyLength(k, 'dy', dy);
    checkLength(k, 'dx', dx, n, 'dy.length');
    for (const [name, buf, required] of [['x', x, READS_X.includes(op)], ['y', y, READS_Y.includes(op)]] as const) {
      if (required && buf === null) throw new TypeError(`${k}: ${op} backward reads ${name}, which must not be null`);
      checkOptionalLength(k, name, buf, n, 'dy.length');
    }
    for (let i = 0; i < n; i++) dx[i] = unaryGradient(op, alpha, dy[i], x ? x[i] : NaN, y ? y[i] : NaN);
  },

  // a [aShape], b [bShape] -> y [broadcast(aShape, bShape)]
  binary(op, aShape, a, bShape, b, y) {
    const k = 'binary';
    checkOp(k, op, BINARY_OPS);
    const { outShape, aSize, bSize } = checkBinaryShapes(k, aShape, bShape);
    checkLength(k, 'a', a, aSize, `size of aShape [${aShape.join(',')}]`);
    checkLength(k, 'b', b, bSize, `size of bShape [${bShape.join(',')}]`);
    const n = shapeSize(outShape);
    checkLength(k, 'y', y, n, `size of the broadcast shape [${outShape.join(',')}]`);
    const ia = broadcastIndexMap(outShape, aShape);
    const ib = broadcastIndexMap(outShape, bShape);
    for (let i = 0; i < n; i++) y[i] = binaryForward(op, a[ia[i]], b[ib[i]]);
  },

  // dy [broadcast(aShape, bShape)], a [aShape], b [bShape] -> da [aShape] | null, db [bShape] | null
  binaryBackward(op, da, db, dy, aShape, a, bShape, b) {
    const k = 'binaryBackward';
    checkOp(k, op, BINARY_OPS);
    const { outShape, aSize, bSize } = checkBinaryShapes(k, aShape, bShape);
    checkOptionalLength(k, 'da', da, aSize, `size of aShape [${aShape.join(',')}]`);
    checkOptionalLength(k, 'db', db, bSize, `size of bShape [${bShape.join(',')}]`);
    const n = shapeSize(outShape);
    checkLength(k, 'dy', dy, n, `size of the broadcast shape [${outShape.join(',')}]`);
    checkLength(k, 'a', a, aSize, `size of aShape [${aShape.join(',')}]`);
    checkLength(k, 'b', b, bSize, `size of bShape [${bShape.join(',')}]`);
    const ia = broadcastIndexMap(outShape, aShape);
    const ib = broadcastIndexMap(outShape, bShape);
    // Each input gradient sums the contributions of every output element that read it.
    const sa = new Float64Array(aSize);
    const sb = new Float64Array(bSize);
    for (let i = 0; i < n; i++) {
      const [ga, gb] = binaryGradients(op, dy[i], a[ia[i]], b[ib[i]]);
      sa[ia[i]] += ga;
      sb[ib[i]] += gb;
    }
    if (da) da.set(sa);
    if (db) db.set(sb);
  },
};

function checkBinaryShapes(
  k: string, aShape: readonly number[], bShape: readonly number[],
): { outShape: number[]; aSize: number; bSize: number } {
  const aSize = checkRankedShape(k, 'aShape', aShape);
  const bSize = checkRankedShape(k, 'bShape', bShape);
  return { outShape: broadcastShapes(k, aShape, bShape), aSize, bSize };
}
