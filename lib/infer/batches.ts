// The forward pass over a big input in batches, with no autograd graph: what predictAsync runs in its
// worker, and the synchronous reference it must equal bit for bit (same batches, same kernels). Each
// weight is packed once for the whole call (ops/packed-weights.ts).

import { noGrad } from '../autograd/graph.js';
import { lastingKernelOutput, withBatchArena } from '../backend/alloc.js';
import { isBuiltinModuleTree } from '../io/architecture.js';
import { withPackedWeights } from '../ops/packed-weights.js';
import type { Module } from '../nn/module.js';
import { Tensor, formatShape, type TensorData } from '../tensor.js';

export function checkBatchSize(op: string, batchSize: unknown): number {
  if (typeof batchSize !== 'number' || !Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`${op}: batchSize must be an integer >= 1, got ${String(batchSize)}`);
  }
  return batchSize;
}

export function checkInput(op: string, x: unknown): Tensor {
  if (!(x instanceof Tensor)) throw new TypeError(`${op}: x must be a Tensor`);
  if (x.rank < 1 || x.shape[0] < 1) throw new RangeError(`${op}: x must have at least one row (axis 0), got shape ${formatShape(x.shape)}`);
  return x;
}

/**
 * model.forward over consecutive row batches of x (axis 0), concatenated. Runs the model in whatever
 * mode it is in (callers set eval()). x [N, ...] -> y [N, ...]; every batch output must have as many
 * rows as its input and the same trailing shape. A tree of built-in modules keeps nothing of a batch
 * once its rows are copied out, so its kernel outputs are recycled from batch to batch (withBatchArena);
 * a user module might keep a batch's tensors, so its batches get fresh buffers.
 */
export function forwardInBatches(model: Module, x: Tensor, batchSize: number, op = 'forwardInBatches'): Tensor {
  checkInput(op, x);
  checkBatchSize(op, batchSize);
  const n = x.shape[0];
  const rowSize = x.size / n;
  const rest = x.shape.slice(1);
  let out: TensorData | null = null;
  let outShape: number[] = [];
  let outRow = 0;
  const run = (endBatch: () => void): void => {
    for (let begin = 0; begin < n; begin += batchSize) {
      const rows = Math.min(batchSize, n - begin);
      const xb = new Tensor(x.data.subarray(begin * rowSize, (begin + rows) * rowSize), [rows, ...rest]);
      const yb = model.forward(xb);
      if (!(yb instanceof Tensor) || yb.rank < 1 || yb.shape[0] !== rows) {
        const got = yb instanceof Tensor ? `shape ${formatShape(yb.shape)}` : 'a non-Tensor';
        throw new RangeError(`${op}: the model returned ${got} for a batch of ${rows} rows; the output needs ${rows} rows`);
      }
      if (out === null) {
        outRow = yb.size / rows;
        outShape = [n, ...yb.shape.slice(1)];
        out = yb.dtype === 'int32' ? new Int32Array(n * outRow) : lastingKernelOutput(n * outRow); // every batch fills its rows
      } else if (yb.size / rows !== outRow || yb.shape.slice(1).some((d, i) => d !== outShape[i + 1]) || (yb.dtype === 'int32') !== (out instanceof Int32Array)) {
        throw new RangeError(`${op}: batch outputs differ: ${formatShape(yb.shape)} ${yb.dtype} after [${outShape.slice(1).join(',')}] rows`);
      }
      out.set(yb.data, begin * outRow);
      endBatch();
    }
  };
  noGrad(() => withPackedWeights(() => (isBuiltinModuleTree(model) ? withBatchArena(run) : run(() => {})), Math.ceil(n / batchSize)));
  return new Tensor(out!, outShape);
}
