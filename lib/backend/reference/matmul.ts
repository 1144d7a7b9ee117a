// Reference matmul: C[M,N] = act(op(A)·op(B) + bias + (accumulate ? C : 0)) as plain loops with
// float64 accumulation. The oracle the native GEMM is tested against, and the fallback backend.

import type { Backend, F32, MatmulArgs } from '../backend.js';
import { checkBoolean, checkDims, checkLength, checkOptionalLength, describe } from '../checks.js';
import { activate, checkEpilogue } from './epilogue.js';

function overlaps(x: F32, y: F32 | null): boolean {
  if (y === null || x.buffer !== y.buffer) return false;
  return x.byteOffset < y.byteOffset + y.byteLength && y.byteOffset < x.byteOffset + x.byteLength;
}

function checkMatmul(args: MatmulArgs, a: F32, b: F32, bias: F32 | null, c: F32): void {
  const op = 'matmul';
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    throw new TypeError(`${op}: args must be an options object, got ${describe(args)}`);
  }
  const { m, n, k } = args;
  for (const [name, v] of Object.entries({ m, n, k })) {
    if (typeof v !== 'number') throw new TypeError(`${op}: ${name} must be a number, got ${describe(v)}`);
  }
  checkDims(op, { m, n, k });
  checkBoolean(op, { transA: args.transA, transB: args.transB, accumulate: args.accumulate });
  checkEpilogue(op, args);
  checkLength(op, 'a', a, m * k, `${args.transA ? 'k*m' : 'm*k'} (m=${m}, k=${k})`);
  checkLength(op, 'b', b, k * n, `${args.transB ? 'n*k' : 'k*n'} (k=${k}, n=${n})`);
  checkOptionalLength(op, 'bias', bias, n, `n (n=${n})`);
  checkLength(op, 'c', c, m * n, `m*n (m=${m}, n=${n})`);
  if (overlaps(c, a) || overlaps(c, b) || overlaps(c, bias)) {
    throw new RangeError(`${op}: c must not share memory with a, b or bias`);
  }
}

export const matmulKernels: Pick<Backend, 'matmul'> = {
  // a [M,K] | [K,M] (transA), b [K,N] | [N,K] (transB), bias [N] | null -> c [M,N]
  matmul(args, a, b, bias, c) {
    checkMatmul(args, a, b, bias, c);
    const { m, n, k, transA, transB, accumulate, activation, alpha } = args;
    // Element strides of op(A) (i, p) and op(B) (p, j) in the row-major buffers.
    const [aRow, aCol] = transA ? [1, m] : [k, 1];
    const [bRow, bCol] = transB ? [1, k] : [n, 1];
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[i * aRow + p * aCol] * b[p * bRow + j * bCol];
        if (bias !== null) s += bias[j];
        if (accumulate) s += c[i * n + j];
        c[i * n + j] = activate(activation, alpha, s);
      }
    }
  },
};
