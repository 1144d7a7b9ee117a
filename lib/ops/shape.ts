// Data movement, written in TypeScript (no arithmetic, so no kernel): reshape, permute/transpose,
// slice, concat, broadcastTo, indexSelect. Each works on float32 and int32; only float32 tensors
// carry gradients. Reshapes share the input's buffer (a view); the others copy.

import { output } from '../autograd/record.js';
import { getBackend } from '../backend/index.js';
import { Tensor, formatShape, type TensorData } from '../tensor.js';
import { stridesOf } from '../backend/shape.js';
import { checkTensor, isArray, normalizeAxis, sizeOf } from './check.js';

function allocLike(x: TensorData, n: number): TensorData {
  return x instanceof Int32Array ? new Int32Array(n) : new Float32Array(n);
}

/**
 * Gathers `dst[i] = src[offset(i)]` where the source offset of output index (i0..ir) is
 * start + Σ ik·srcStrides[k]. Covers permute (permuted strides) and broadcast (stride 0).
 */
function gatherStrided(
  src: TensorData, start: number, srcStrides: readonly number[], dst: TensorData, dstShape: readonly number[],
): void {
  const rank = dstShape.length;
  const idx = new Array<number>(rank).fill(0);
  let off = start;
  for (let i = 0; i < dst.length; i++) {
    dst[i] = src[off];
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      off += srcStrides[d];
      if (idx[d] < dstShape[d]) break;
      off -= srcStrides[d] * dstShape[d];
      idx[d] = 0;
    }
  }
}

/**
 * Copies the box `region` from src (at srcBegin) to dst (at dstBegin), row by row along the last axis.
 * With accumulate, adds instead (float32 only).
 */
function copyBox(
  src: TensorData, srcShape: readonly number[], srcBegin: readonly number[],
  dst: TensorData, dstShape: readonly number[], dstBegin: readonly number[],
  region: readonly number[],
): void {
  const rank = region.length;
  if (sizeOf(region) === 0) return;
  if (rank === 0) {
    dst[0] = src[0];
    return;
  }
  const ss = stridesOf(srcShape);
  const ds = stridesOf(dstShape);
  const rowLen = region[rank - 1];
  const rows = sizeOf(region) / rowLen;
  const idx = new Array<number>(rank - 1).fill(0);
  for (let r = 0; r < rows; r++) {
    let so = srcBegin[rank - 1];
    let dOff = dstBegin[rank - 1];
    for (let d = 0; d < rank - 1; d++) {
      so += (srcBegin[d] + idx[d]) * ss[d];
      dOff += (dstBegin[d] + idx[d]) * ds[d];
    }
    dst.set(src.subarray(so, so + rowLen), dOff);
    for (let d = rank - 2; d >= 0; d--) {
      if (++idx[d] < region[d]) break;
      idx[d] = 0;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// reshape family (views)
// ---------------------------------------------------------------------------------------------

/** Resolves one -1 in `shape` against `size`. */
function resolveShape(op: string, x: Tensor, shape: readonly number[]): number[] {
  if (!isArray(shape)) throw new TypeError(`${op}: shape must be an array, got ${typeof shape}`);
  const out = [...shape];
  const unknown = out.indexOf(-1);
  if (out.some((d, i) => !Number.isInteger(d) || d < -1 || (d === -1 && i !== unknown))) {
    throw new RangeError(`${op}: invalid shape ${formatShape(shape)} (dimensions are integers >= 0, at most one -1)`);
  }
  if (unknown >= 0) {
    const known = sizeOf(out.filter((_, i) => i !== unknown));
    if (known === 0 || x.size % known !== 0) {
      throw new RangeError(`${op}: cannot reshape ${formatShape(x.shape)} (${x.size} elements) into ${formatShape(shape)}`);
    }
    out[unknown] = x.size / known;
  }
  if (sizeOf(out) !== x.size) {
    throw new RangeError(`${op}: cannot reshape ${formatShape(x.shape)} (${x.size} elements) into ${formatShape(shape)}`);
  }
  return out;
}

/** Same elements, new shape (one dimension may be -1). Shares the buffer. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  checkTensor('reshape', 'x', x);
  const outShape = resolveShape('reshape', x, shape);
  // The gradient has the same elements in the same order: pass dy through unchanged.
  return output('reshape', [x], x.data, outShape, (dy) => [dy]);
}

/** Merges axes startAxis..endAxis (inclusive) into one. */
export function flatten(x: Tensor, startAxis = 0, endAxis = -1): Tensor {
  checkTensor('flatten', 'x', x);
  if (x.rank === 0) return reshape(x, [1]);
  const s = normalizeAxis('flatten', startAxis, x.rank);
  const e = normalizeAxis('flatten', endAxis, x.rank);
  if (e < s) throw new RangeError(`flatten: endAxis ${endAxis} comes before startAxis ${startAxis} (shape ${formatShape(x.shape)})`);
  const shape = [...x.shape.slice(0, s), sizeOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return reshape(x, shape);
}

/** Removes `axis` (which must have size 1), or every size-1 axis. */
export function squeeze(x: Tensor, axis?: number): Tensor {
  checkTensor('squeeze', 'x', x);
  if (axis === undefined) return reshape(x, x.shape.filter((d) => d !== 1));
  const a = normalizeAxis('squeeze', axis, x.rank);
  if (x.shape[a] !== 1) throw new RangeError(`squeeze: axis ${axis} of shape ${formatShape(x.shape)} has size ${x.shape[a]}, not 1`);
  return reshape(x, x.shape.filter((_, i) => i !== a));
}

/** Inserts a size-1 axis at `axis` (in [-(rank+1), rank]). */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  checkTensor('unsqueeze', 'x', x);
  const a = normalizeAxis('unsqueeze', axis, x.rank + 1);
  return reshape(x, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)]);
}

// ---------------------------------------------------------------------------------------------
// permute / transpose: y.shape[i] = x.shape[axes[i]]
// ---------------------------------------------------------------------------------------------

function permuteData(x: TensorData, shape: readonly number[], axes: readonly number[]): TensorData {
  const strides = stridesOf(shape);
  const out = allocLike(x, x.length);
  gatherStrided(x, 0, axes.map((a) => strides[a]), out, axes.map((a) => shape[a]));
  return out;
}

export function permute(x: Tensor, axes: readonly number[]): Tensor {
  checkTensor('permute', 'x', x);
  const norm = isArray(axes) ? axes.map((a) => normalizeAxis('permute', a, x.rank)) : [];
  if (norm.length !== x.rank || new Set(norm).size !== x.rank) {
    throw new RangeError(`permute: axes ${JSON.stringify(axes)} must be a permutation of 0..${x.rank - 1} for shape ${formatShape(x.shape)}`);
  }
  const outShape = norm.map((a) => x.shape[a]);
  const inverse = new Array<number>(x.rank);
  norm.forEach((a, i) => { inverse[a] = i; });
  const y = permuteData(x.data, x.shape, norm);
  // dx is dy permuted back by the inverse permutation.
  return output('permute', [x], y, outShape, (dy) => [permuteData(dy, outShape, inverse) as Float32Array]);
}

/** Swaps two axes (default: the last two, a matrix transpose). */
export function transpose(x: Tensor, axis0 = -2, axis1 = -1): Tensor {
  checkTensor('transpose', 'x', x);
  const a = normalizeAxis('transpose', axis0, x.rank);
  const b = normalizeAxis('transpose', axis1, x.rank);
  const axes = x.shape.map((_, i) => i);
  axes[a] = b;
  axes[b] = a;
  return permute(x, axes);
}

// ---------------------------------------------------------------------------------------------
// slice / concat
// ---------------------------------------------------------------------------------------------

/**
 * The box starting at `begin` with `size` elements per axis (tfjs semantics): missing trailing entries
 * mean "the whole axis"; a negative begin counts from the end; size -1 means "to the end".
 */
export function slice(x: Tensor, begin: readonly number[], size?: readonly number[]): Tensor {
  checkTensor('slice', 'x', x);
  if (!isArray(begin) || begin.length > x.rank || (size !== undefined && (!isArray(size) || size.length > x.rank))) {
    throw new RangeError(`slice: begin ${JSON.stringify(begin)} / size ${JSON.stringify(size)} do not fit shape ${formatShape(x.shape)}`);
  }
  const b = x.shape.map((d, i) => {
    const v = begin[i] ?? 0;
    return v < 0 ? v + d : v;
  });
  const s = x.shape.map((d, i) => {
    const v = size?.[i] ?? -1;
    return v === -1 ? d - b[i] : v;
  });
  for (let i = 0; i < x.rank; i++) {
    if (!Number.isInteger(b[i]) || !Number.isInteger(s[i]) || b[i] < 0 || s[i] < 0 || b[i] + s[i] > x.shape[i]) {
      throw new RangeError(
        `slice: begin ${JSON.stringify(begin)} size ${JSON.stringify(size ?? [])} is out of bounds for shape ${formatShape(x.shape)} (axis ${i})`,
      );
    }
  }
  const y = allocLike(x.data, sizeOf(s));
  const zero = s.map(() => 0);
  copyBox(x.data, x.shape, b, y, s, zero, s);
  const xShape = x.shape;
  return output('slice', [x], y, s, (dy) => {
    const dx = new Float32Array(sizeOf(xShape));
    copyBox(dy, s, zero, dx, xShape, b, s);
    return [dx];
  });
}

/** Joins tensors along `axis`; all other dimensions must match. */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (!isArray(tensors) || tensors.length === 0) throw new RangeError('concat: needs a non-empty array of tensors');
  tensors.forEach((t, i) => checkTensor('concat', `tensors[${i}]`, t));
  const first = tensors[0];
  const a = normalizeAxis('concat', axis, first.rank);
  for (const t of tensors) {
    const same = t.rank === first.rank && t.dtype === first.dtype && t.shape.every((d, i) => i === a || d === first.shape[i]);
    if (!same) {
      throw new RangeError(
        `concat: shapes ${tensors.map((u) => `${formatShape(u.shape)} ${u.dtype}`).join(', ')} differ outside axis ${axis}`,
      );
    }
  }
  const outShape = [...first.shape];
  outShape[a] = tensors.reduce((n, t) => n + t.shape[a], 0);
  const y = allocLike(first.data, sizeOf(outShape));
  const offsets: number[][] = [];
  let at = 0;
  for (const t of tensors) {
    const begin = outShape.map((_, i) => (i === a ? at : 0));
    offsets.push(begin);
    copyBox(t.data, t.shape, t.shape.map(() => 0), y, outShape, begin, t.shape);
    at += t.shape[a];
  }
  const shapes = tensors.map((t) => t.shape);
  return output('concat', [...tensors], y, outShape, (dy, needs) =>
    shapes.map((shape, k) => {
      if (!needs[k]) return null;
      const dx = new Float32Array(sizeOf(shape));
      copyBox(dy, outShape, offsets[k], dx, shape, shape.map(() => 0), shape);
      return dx;
    }),
  );
}

/** Stacks same-shaped tensors along a new axis. */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  if (!isArray(tensors) || tensors.length === 0) throw new RangeError('stack: needs a non-empty array of tensors');
  return concat(tensors.map((t) => unsqueeze(t, axis)), axis);
}

// ---------------------------------------------------------------------------------------------
// broadcastTo: copy along size-1 (or missing leading) axes; backward sums them (reduce kernel)
// ---------------------------------------------------------------------------------------------

export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  checkTensor('broadcastTo', 'x', x);
  const target = [...shape];
  const lead = target.length - x.rank;
  const ok = lead >= 0 && x.shape.every((d, i) => d === 1 || d === target[lead + i]);
  if (!ok || !target.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new RangeError(`broadcastTo: cannot broadcast ${formatShape(x.shape)} to ${formatShape(shape)}`);
  }
  const xStrides = stridesOf(x.shape);
  const srcStrides = target.map((d, i) => (i < lead || x.shape[i - lead] === 1 ? 0 : xStrides[i - lead]));
  const y = allocLike(x.data, sizeOf(target));
  gatherStrided(x.data, 0, srcStrides, y, target);
  const axes = target.map((_, i) => i).filter((i) => srcStrides[i] === 0 && (i < lead || target[i] !== 1));
  const xSize = x.size;
  return output('broadcastTo', [x], y, target, (dy) => {
    if (axes.length === 0) return [dy];
    const dx = new Float32Array(xSize);
    getBackend().reduce('sum', target, axes, dy, dx);
    return [dx];
  });
}

// ---------------------------------------------------------------------------------------------
// indexSelect: y = x gathered along `axis` at `indices` (rows of a batch, embedding lookups)
// ---------------------------------------------------------------------------------------------

function toIndexArray(op: string, indices: Tensor | Int32Array | readonly number[]): Int32Array {
  if (indices instanceof Tensor) {
    if (indices.dtype !== 'int32' || indices.rank > 1) {
      throw new TypeError(`${op}: indices must be a 1-D int32 tensor, got ${indices.dtype} ${formatShape(indices.shape)}`);
    }
    return indices.data as Int32Array;
  }
  if (indices instanceof Int32Array) return indices;
  if (isArray(indices)) return Int32Array.from(indices);
  throw new TypeError(`${op}: indices must be an int32 Tensor, an Int32Array or an array of integers`);
}

export function indexSelect(x: Tensor, axis: number, indices: Tensor | Int32Array | readonly number[]): Tensor {
  checkTensor('indexSelect', 'x', x);
  const a = normalizeAxis('indexSelect', axis, x.rank);
  const idx = toIndexArray('indexSelect', indices).slice();
  const n = x.shape[a];
  for (const i of idx) {
    if (!Number.isInteger(i) || i < 0 || i >= n) {
      throw new RangeError(`indexSelect: index ${i} is out of range for axis ${axis} of size ${n} (shape ${formatShape(x.shape)})`);
    }
  }
  const outer = sizeOf(x.shape.slice(0, a));
  const inner = sizeOf(x.shape.slice(a + 1));
  const outShape = [...x.shape];
  outShape[a] = idx.length;
  const y = allocLike(x.data, sizeOf(outShape));
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < idx.length; j++) {
      const src = (o * n + idx[j]) * inner;
      y.set(x.data.subarray(src, src + inner), (o * idx.length + j) * inner);
    }
  }
  // Backward scatters rows back, adding where an index repeats.
  const xSize = x.size;
  return output('indexSelect', [x], y, outShape, (dy) => {
    const dx = new Float32Array(xSize);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < idx.length; j++) {
        const dst = (o * n + idx[j]) * inner;
        const src = (o * idx.length + j) * inner;
        for (let k = 0; k < inner; k++) dx[dst + k] += dy[src + k];
      }
    }
    return [dx];
  });
}
