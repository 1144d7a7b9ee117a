// Callbacks: hooks fit calls around training, and the stock ones (EarlyStopping,
// LearningRateScheduler; ModelCheckpoint lives in checkpoint.ts).
//
// A callback is any object with some of the hooks below; a plain object literal works:
//   { onEpochEnd(epoch, logs, ctx) { if (logs.loss < 0.01) ctx.stopTraining = true; } }
// Hooks may be async (fit awaits them). Epochs and steps are 0-based here (the progress bar shows them
// 1-based). Setting `ctx.stopTraining = true` ends training after the current batch: the epoch is
// closed normally (its logs, validation and onEpochEnd), then onTrainEnd runs.

import type { Module } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { StateDict } from '../nn/module.js';
import type { History, Logs } from './history.js';

/** Any optimizer of the library (hyperparameters always include lr). */
export type AnyOptimizer = Optimizer<{ lr: number }>;

/** What callbacks see of the running fit. */
export interface FitContext {
  readonly model: Module;
  readonly optimizer: AnyOptimizer;
  /** Epochs finished so far (the current one is recorded after every onEpochEnd has run). */
  readonly history: History;
  readonly epochs: number;
  readonly stepsPerEpoch: number;
  readonly samplesPerEpoch: number;
  /** 0-based epoch in progress. */
  readonly epoch: number;
  /** 'max' for keys whose larger values are better (accuracy-like metrics), else 'min'. */
  modeOf(key: string): 'min' | 'max';
  /** Set to true to end training after the current batch. */
  stopTraining: boolean;
}

type Awaitable = void | Promise<void>;

export interface Callback {
  onTrainBegin?(ctx: FitContext): Awaitable;
  /** `logs`: the last epoch's logs (empty when no epoch ran). */
  onTrainEnd?(logs: Logs, ctx: FitContext): Awaitable;
  onEpochBegin?(epoch: number, ctx: FitContext): Awaitable;
  /** `logs`: loss, metrics, val_* and lr of this epoch. */
  onEpochEnd?(epoch: number, logs: Logs, ctx: FitContext): Awaitable;
  onBatchBegin?(step: number, ctx: FitContext): Awaitable;
  /** `logs`: running means over the epoch so far (loss and metrics) plus `batchLoss` and `size`. */
  onBatchEnd?(step: number, logs: Logs, ctx: FitContext): Awaitable;
}

const HOOKS = ['onTrainBegin', 'onTrainEnd', 'onEpochBegin', 'onEpochEnd', 'onBatchBegin', 'onBatchEnd'] as const;

/** Checks a user callback: an object whose known hook fields are functions, with at least one hook. */
export function checkCallback(op: string, cb: unknown, index: number): Callback {
  if (cb === null || typeof cb !== 'object') throw new TypeError(`${op}: callbacks[${index}] must be an object with hooks (onEpochEnd, ...), got ${String(cb)}`);
  const record = cb as Record<string, unknown>;
  let hooks = 0;
  for (const h of HOOKS) {
    if (record[h] === undefined) continue;
    if (typeof record[h] !== 'function') throw new TypeError(`${op}: callbacks[${index}].${h} must be a function, got ${typeof record[h]}`);
    hooks++;
  }
  if (hooks === 0) throw new TypeError(`${op}: callbacks[${index}] has none of the hooks ${HOOKS.join(', ')}`);
  return cb as Callback;
}

/** The value of `monitor` in logs, or an error listing what is there. */
export function monitored(op: string, monitor: string, logs: Logs): number {
  const v = logs[monitor];
  if (v === undefined) {
    const hint = monitor.startsWith('val_') ? ' (val_* keys need validationData or validationSplit)' : '';
    throw new RangeError(`${op}: monitor '${monitor}' is not in the epoch logs (${Object.keys(logs).join(', ')})${hint}`);
  }
  return v;
}

/** `a` improves on `best` by more than minDelta in the given direction (NaN never improves). */
export function improves(a: number, best: number, mode: 'min' | 'max', minDelta = 0): boolean {
  if (Number.isNaN(a)) return false;
  return mode === 'min' ? a + minDelta < best : a - minDelta > best;
}

export function checkMode(op: string, mode: unknown): 'auto' | 'min' | 'max' {
  if (mode !== 'auto' && mode !== 'min' && mode !== 'max') throw new RangeError(`${op}: mode must be 'auto', 'min' or 'max', got ${JSON.stringify(mode)}`);
  return mode;
}

export interface EarlyStoppingOptions {
  /** Log key to watch (default 'val_loss'). */
  monitor?: string;
  /** Smallest change that counts as an improvement (default 0). */
  minDelta?: number;
  /** Epochs without improvement tolerated before stopping (default 0: stop at the first). */
  patience?: number;
  /** 'min', 'max', or 'auto' (default: 'max' for accuracy-like keys, else 'min'). */
  mode?: 'auto' | 'min' | 'max';
  /** Also require beating this value before the patience counter resets. */
  baseline?: number;
  /** At the end of training (stopped early or not), load the weights of the best epoch. */
  restoreBestWeights?: boolean;
}

/**
 * Stops training when the monitored value has not improved for `patience` epochs (Keras semantics:
 * an epoch improves when it beats the best so far by more than minDelta).
 */
export class EarlyStopping implements Callback {
  readonly monitor: string;
  readonly minDelta: number;
  readonly patience: number;
  readonly mode: 'auto' | 'min' | 'max';
  readonly baseline: number | undefined;
  readonly restoreBestWeights: boolean;
  /** Best value so far, its 0-based epoch, and the epochs since it. */
  best = NaN;
  bestEpoch = -1;
  wait = 0;
  /** 0-based epoch at which this callback stopped training, or null. */
  stoppedEpoch: number | null = null;
  private bestWeights: StateDict | null = null;
  private direction: 'min' | 'max' = 'min';

  constructor(options: EarlyStoppingOptions = {}) {
    const op = 'EarlyStopping';
    this.monitor = options.monitor ?? 'val_loss';
    if (typeof this.monitor !== 'string' || this.monitor === '') throw new TypeError(`${op}: monitor must be a log key such as 'val_loss', got ${String(options.monitor)}`);
    this.minDelta = Math.abs(options.minDelta ?? 0);
    if (!Number.isFinite(this.minDelta)) throw new RangeError(`${op}: minDelta must be a finite number, got ${String(options.minDelta)}`);
    this.patience = options.patience ?? 0;
    if (!Number.isInteger(this.patience) || this.patience < 0) throw new RangeError(`${op}: patience must be an integer >= 0, got ${String(options.patience)}`);
    this.mode = checkMode(op, options.mode ?? 'auto');
    this.baseline = options.baseline;
    if (this.baseline !== undefined && !Number.isFinite(this.baseline)) throw new RangeError(`${op}: baseline must be a finite number, got ${String(this.baseline)}`);
    this.restoreBestWeights = options.restoreBestWeights ?? false;
  }

  onTrainBegin(ctx: FitContext): void {
    this.direction = this.mode === 'auto' ? ctx.modeOf(this.monitor) : this.mode;
    this.best = this.direction === 'min' ? Infinity : -Infinity;
    this.bestEpoch = -1;
    this.wait = 0;
    this.stoppedEpoch = null;
    this.bestWeights = null;
  }

  onEpochEnd(epoch: number, logs: Logs, ctx: FitContext): void {
    const current = monitored('EarlyStopping', this.monitor, logs);
    this.wait++;
    if (improves(current, this.best, this.direction, this.minDelta)) {
      this.best = current;
      this.bestEpoch = epoch;
      if (this.restoreBestWeights) this.bestWeights = ctx.model.stateDict();
      if (this.baseline === undefined || improves(current, this.baseline, this.direction, this.minDelta)) this.wait = 0;
      return;
    }
    if (this.wait >= this.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      ctx.stopTraining = true;
    }
  }

  onTrainEnd(_logs: Logs, ctx: FitContext): void {
    if (this.bestWeights !== null) ctx.model.loadStateDict(this.bestWeights);
    this.bestWeights = null;
  }
}

/**
 * Sets the learning rate of every parameter group at the start of each epoch to
 * `schedule(epoch, currentLr)` (epoch 0-based; currentLr is the first group's lr).
 */
export class LearningRateScheduler implements Callback {
  constructor(readonly schedule: (epoch: number, lr: number) => number) {
    if (typeof schedule !== 'function') throw new TypeError(`LearningRateScheduler: schedule must be a function (epoch, lr) => lr, got ${typeof schedule}`);
  }

  onEpochBegin(epoch: number, ctx: FitContext): void {
    const groups = ctx.optimizer.paramGroups;
    const lr = this.schedule(epoch, groups[0].lr);
    if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) {
      throw new RangeError(`LearningRateScheduler: schedule(${epoch}) must return a finite lr >= 0, got ${String(lr)}`);
    }
    for (const g of groups) g.lr = lr;
  }
}
