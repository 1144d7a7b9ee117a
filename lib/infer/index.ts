// Batch inference off the JS thread.
//
//   const y = await predictAsync(model, x, { batchSize: 256 });
//
// With the native backend and a model built from built-in modules, the batches run as a recorded
// kernel plan on a libuv thread (native-plan.ts): no JS runs meanwhile. Otherwise (user module classes,
// the reference backend, int32 input) they run on a shared default PredictPool of worker_threads
// (min(2, cores) workers, created on first use); pass { pool: new PredictPool({ size, setup }) } for
// another pool. See pool.ts for how models are cached there.

import type { Module } from '../nn/module.js';
import type { Tensor } from '../tensor.js';
import { checkBatchSize, checkInput } from './batches.js';
import { nativePlanUnavailable, predictNative } from './native-plan.js';
import { PredictPool, type PredictOptions } from './pool.js';

export { PredictPool } from './pool.js';
export type { PredictPoolOptions, PredictOptions } from './pool.js';
export { forwardInBatches } from './batches.js';

let defaultPool: PredictPool | undefined;

export interface PredictAsyncOptions extends PredictOptions {
  /**
   * 'auto' (default): a native kernel plan when the model allows it, else worker threads; 'native':
   * a native plan or a rejection saying why not; 'workers': always worker threads.
   */
  runner?: 'auto' | 'native' | 'workers';
  /** The worker pool to use (implies runner 'workers'; default: one shared pool per thread). */
  pool?: PredictPool;
}

/**
 * model.forward over x's rows in batches of `batchSize` (default 32), in eval mode and without
 * gradients, off the JS thread (a native kernel plan on a libuv thread, or a worker thread): the event
 * loop stays free meanwhile. Resolves with the concatenated output, bit-identical to the same batched
 * forward on this thread (same backend, ISA and kernels). The model and x are snapshotted when the
 * call is made. Errors reject with the original class and message.
 */
export async function predictAsync(model: Module, x: Tensor, options: PredictAsyncOptions = {}): Promise<Tensor> {
  const op = 'predictAsync';
  const { pool, runner = pool === undefined ? 'auto' : 'workers', ...rest } = options;
  if (!['auto', 'native', 'workers'].includes(runner)) throw new RangeError(`${op}: runner must be 'auto', 'native' or 'workers', got ${JSON.stringify(runner)}`);
  if (runner !== 'workers') {
    checkInput(op, x);
    const batchSize = checkBatchSize(op, rest.batchSize ?? 32);
    const y = await predictNative(model, x, batchSize, op);
    if (y !== null) return y;
    if (runner === 'native') {
      const why = nativePlanUnavailable(model, x) || 'the model\'s forward pass could not be recorded as a kernel plan';
      throw new Error(`${op}: runner 'native' is not available: ${why}`);
    }
  }
  return (pool ?? (defaultPool ??= new PredictPool())).predict(model, x, rest);
}
