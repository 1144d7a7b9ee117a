// Small pieces shared by fit, evaluate and predict: running totals over an epoch, the event-loop
// yield, and saving/restoring every submodule's train/eval flag.

import type { Metric } from '../metrics/streaming.js';
import type { Module } from '../nn/module.js';
import type { Tensor } from '../tensor.js';
import type { Logs } from './history.js';

/** Sample-weighted mean loss and streaming metrics over the batches seen since construction. */
export class EpochTotals {
  private lossSum = 0;
  private samples = 0;

  constructor(private readonly metrics: readonly Metric[], private readonly withLoss: boolean) {
    for (const m of metrics) m.reset();
  }

  /** One batch: its mean loss (ignored without a loss) and outputs against targets, n samples. */
  add(batchLoss: number, predicted: Tensor, target: Tensor, n: number): void {
    this.lossSum += batchLoss * n;
    this.samples += n;
    for (const m of this.metrics) m.update(predicted, target);
  }

  /** { loss, <metric>... } with an optional key prefix ('val_'). */
  logs(prefix = ''): Logs {
    const out: Logs = {};
    if (this.withLoss) out[`${prefix}loss`] = this.lossSum / this.samples;
    for (const m of this.metrics) out[`${prefix}${m.name}`] = m.result();
    return out;
  }
}

/**
 * Lets timers, I/O and other requests run. setImmediate (not a resolved promise) is needed: promise
 * continuations run before the event loop gets a turn. Costs ~2 µs, so fit yields after every batch.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Every submodule's training flag, to put back with restoreModes (a user may mix train and eval parts). */
export function saveModes(model: Module): [Module, boolean][] {
  return model.namedModules().map(([, m]) => [m, m.training]);
}

export function restoreModes(modes: readonly [Module, boolean][]): void {
  for (const [m, training] of modes) m.training = training;
}

/** How errors and messages name a model: its `name` field when it has one, else its class. */
export function modelLabel(model: Module): string {
  const own: unknown = Reflect.get(model, 'name');
  const cls = model.constructor.name || 'Module';
  return typeof own === 'string' && own !== '' ? `'${own}' (${cls})` : cls;
}
