// Shape arithmetic written once: element counts, broadcasting, conv/pool output sizes and padding.
// Used by the ops layer (to resolve 'same'/'valid' and allocate outputs) and by the reference backend
// (to validate kernel arguments). The native addon repeats these checks in C++ because it never trusts JS.

export function shapeSize(shape: readonly number[]): number {
  let size = 1;
  for (const d of shape) size *= d;
  return size;
}

/** Row-major strides of a contiguous tensor. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** NumPy broadcasting of two shapes; throws a RangeError naming `op` when they do not broadcast. */
export function broadcastShapes(op: string, a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = i < rank - a.length ? 1 : a[i - (rank - a.length)];
    const db = i < rank - b.length ? 1 : b[i - (rank - b.length)];
    if (da !== db && da !== 1 && db !== 1) {
      throw new RangeError(`${op}: shapes [${a.join(',')}] and [${b.join(',')}] cannot be broadcast together`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Output length along one spatial axis of a convolution or pooling window. */
export function convOutputSize(
  input: number, kernel: number, stride: number, dilation: number, padBefore: number, padAfter: number,
): number {
  const effectiveKernel = dilation * (kernel - 1) + 1;
  return Math.floor((input + padBefore + padAfter - effectiveKernel) / stride) + 1;
}

/**
 * TensorFlow-style 'same' padding: the output has ceil(input/stride) elements and the extra padding
 * element, when the total is odd, goes after (bottom/right).
 */
export function samePadding(input: number, kernel: number, stride: number, dilation: number): [number, number] {
  const out = Math.ceil(input / stride);
  const effectiveKernel = dilation * (kernel - 1) + 1;
  const total = Math.max((out - 1) * stride + effectiveKernel - input, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** Padding as users write it: 'valid', 'same', one number, [vertical, horizontal], or [top, bottom, left, right]. */
export type PaddingSpec = 'valid' | 'same' | number | [number, number] | [number, number, number, number];

export interface ResolvedPadding { padTop: number; padBottom: number; padLeft: number; padRight: number }

export function resolvePadding(
  op: string, padding: PaddingSpec, h: number, w: number, kh: number, kw: number,
  strideH: number, strideW: number, dilationH = 1, dilationW = 1,
): ResolvedPadding {
  if (padding === 'valid') return { padTop: 0, padBottom: 0, padLeft: 0, padRight: 0 };
  if (padding === 'same') {
    const [padTop, padBottom] = samePadding(h, kh, strideH, dilationH);
    const [padLeft, padRight] = samePadding(w, kw, strideW, dilationW);
    return { padTop, padBottom, padLeft, padRight };
  }
  const values = typeof padding === 'number' ? [padding, padding, padding, padding]
    : Array.isArray(padding) && padding.length === 2 ? [padding[0], padding[0], padding[1], padding[1]]
      : Array.isArray(padding) && padding.length === 4 ? padding
        : null;
  if (values === null || !values.every((p) => Number.isInteger(p) && p >= 0)) {
    throw new RangeError(
      `${op}: padding must be 'valid', 'same', a non-negative integer, [v, h] or [top, bottom, left, right]; got ${JSON.stringify(padding)}`,
    );
  }
  return { padTop: values[0], padBottom: values[1], padLeft: values[2], padRight: values[3] };
}
