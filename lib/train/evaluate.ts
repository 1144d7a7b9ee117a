// evaluate and predict: the model in eval mode (dropout off, batch norm on running statistics), no
// graph recorded, data in batches. The model's train/eval flags are restored afterwards, even on error.

import { noGrad } from '../autograd/graph.js';
import { forwardInBatches } from '../infer/batches.js';
import { withPackedWeights } from '../ops/packed-weights.js';
import { DataLoader, Dataset, type ArrayInput, type Batch } from '../data/dataset.js';
import type { MetricSpec } from '../metrics/streaming.js';
import { Module } from '../nn/module.js';
import { Tensor, formatShape } from '../tensor.js';
import { EpochTotals, restoreModes, saveModes, yieldToEventLoop } from './epoch.js';
import type { Logs } from './history.js';
import { computeLoss, resolveLoss, resolveMetrics, toDataset, type FitData, type LossFn, type LossName } from './resolve.js';

export interface EvaluateOptions {
  /** Samples per forward pass (default 32). */
  batchSize?: number;
  /** Loss to report as `loss` (a function or a name, as in fit). */
  loss?: LossFn | LossName;
  /** Metrics to report (names, Metric objects or named functions, as in fit). */
  metrics?: readonly MetricSpec[];
}

export interface PredictOptions {
  /** Samples per forward pass (default 32). */
  batchSize?: number;
}

function checkModel(op: string, model: unknown): asserts model is Module {
  if (!(model instanceof Module)) throw new TypeError(`${op}: model must be an nn.Module, got ${model === null ? 'null' : typeof model}`);
}

function batchSizeOf(op: string, v: unknown): number {
  const b = v ?? 32;
  if (typeof b !== 'number' || !Number.isInteger(b) || b < 1) throw new RangeError(`${op}: batchSize must be an integer >= 1, got ${String(v)}`);
  return b;
}

/** One evaluation batch, added to the totals (call inside noGrad with the model in eval mode). */
function evaluateBatch(op: string, model: Module, batch: Batch, loss: LossFn | null, totals: EpochTotals): void {
  const out = model.forward(batch.x);
  const value = loss === null ? 0 : computeLoss(op, loss, out, batch.y!).item();
  totals.add(value, out, batch.y!, batch.x.shape[0]);
}

/** fit's validation pass: the same as evaluate, yielding to the event loop between batches. */
export async function evaluateLoaderAsync(
  op: string, model: Module, loader: DataLoader, loss: LossFn, totals: EpochTotals,
): Promise<void> {
  const modes = saveModes(model);
  try {
    for (const batch of loader) {
      model.eval();
      noGrad(() => evaluateBatch(op, model, batch, loss, totals));
      await yieldToEventLoop();
    }
  } finally {
    restoreModes(modes);
  }
}

/**
 * Loss and metrics of the model over `data` (a Dataset, a DataLoader, [x, y] or { x, y }), e.g.
 * { loss: 0.21, accuracy: 0.94 }. Synchronous.
 */
export function evaluate(model: Module, data: FitData, options: EvaluateOptions = {}): Logs {
  const op = 'evaluate';
  checkModel(op, model);
  const loss = options.loss === undefined ? null : resolveLoss(op, options.loss);
  const metrics = resolveMetrics(op, options.metrics);
  if (loss === null && metrics.length === 0) throw new RangeError(`${op}: nothing to compute; give a loss and/or metrics`);
  const loader = data instanceof DataLoader ? data : new DataLoader(toDataset(op, 'data', data), { batchSize: batchSizeOf(op, options.batchSize) });
  if (loader.dataset.y === null) throw new RangeError(`${op}: data has no targets; pass [x, y], { x, y } or a Dataset with y`);
  if (loader.length === 0) throw new RangeError(`${op}: data has no samples`);
  const totals = new EpochTotals(metrics, loss !== null);
  const modes = saveModes(model);
  try {
    model.eval();
    // Synchronous, so the weights cannot change between batches: pack each one once (packed-weights.ts).
    noGrad(() => withPackedWeights(() => {
      for (const batch of loader) evaluateBatch(op, model, batch, loss, totals);
    }, loader.length));
  } finally {
    restoreModes(modes);
  }
  return totals.logs();
}

/**
 * The model's outputs for every sample of x, computed in batches and concatenated along axis 0
 * (eval mode, no graph). x: a Tensor [N, ...], { data, shape }, nested arrays, or a Dataset (its x).
 */
export function predict(model: Module, x: ArrayInput | Dataset, options: PredictOptions = {}): Tensor {
  const op = 'predict';
  checkModel(op, model);
  const batchSize = batchSizeOf(op, options.batchSize);
  // A Dataset was validated when it was made; its targets play no part here.
  const xs = x instanceof Dataset ? x.x : toDataset(op, 'x', { x }).x;
  if (xs.shape[0] === 0) throw new RangeError(`${op}: x has no samples (shape ${formatShape(xs.shape)})`);
  const modes = saveModes(model);
  try {
    model.eval();
    return forwardInBatches(model, xs, batchSize, op);
  } finally {
    restoreModes(modes);
  }
}
