// Batch inference off the JS thread.
//
//   const y = await predictAsync(model, x, { batchSize: 256 });
//
// runs on a shared default PredictPool (min(2, cores) workers, created on first use); pass
// { pool: new PredictPool({ size, setup }) } for another pool. See pool.ts for how models are cached.

import type { Module } from '../nn/module.js';
import type { Tensor } from '../tensor.js';
import { PredictPool, type PredictOptions } from './pool.js';

export { PredictPool } from './pool.js';
export type { PredictPoolOptions, PredictOptions } from './pool.js';
export { forwardInBatches } from './batches.js';

let defaultPool: PredictPool | undefined;

export interface PredictAsyncOptions extends PredictOptions {
  /** The pool to run on (default: one shared pool per thread, created on first use). */
  pool?: PredictPool;
}

/**
 * model.forward over x's rows in batches of `batchSize` (default 32), in eval mode and without
 * gradients, on a worker thread: the event loop stays free meanwhile. Resolves with the concatenated
 * output, bit-identical to the same batched forward on this thread (same backend, ISA and kernels).
 * The model is snapshotted when the call is made. A worker error rejects with the original message.
 */
export function predictAsync(model: Module, x: Tensor, options: PredictAsyncOptions = {}): Promise<Tensor> {
  const { pool, ...rest } = options;
  return (pool ?? (defaultPool ??= new PredictPool())).predict(model, x, rest);
}
