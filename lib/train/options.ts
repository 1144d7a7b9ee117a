// fit's options, documented field by field, and their validation. Everything is checked before
// training starts; each message starts with `fit:` and shows the bad value.

import { DataLoader, Dataset, takeRows } from '../data/dataset.js';
import type { Metric, MetricSpec } from '../metrics/streaming.js';
import type { Module } from '../nn/module.js';
import { LinearWarmup, LRScheduler, ReduceLROnPlateau } from '../optim/lr_scheduler.js';
import { Optimizer } from '../optim/optimizer.js';
import { checkCallback, type AnyOptimizer, type Callback } from './callbacks.js';
import type { ProgressStream } from './progress.js';
import {
  LOSS_NAMES, resolveLoss, resolveMetrics, resolveOptimizer, show, toDataset,
  type FitData, type LossFn, type LossName, type OptimizerName,
} from './resolve.js';

export type Scheduler = LRScheduler | ReduceLROnPlateau | LinearWarmup;

export interface FitOptions {
  /** Passes over the training data (default 1). */
  epochs?: number;
  /**
   * Samples per gradient step (default 32): 1 is plain stochastic gradient descent, the dataset size
   * (or anything larger) is full-batch gradient descent, values between are mini-batches. The last
   * batch of an epoch may be smaller. Not allowed when `data` is a DataLoader (it has its own).
   */
  batchSize?: number;
  /**
   * An optimizer built on the model's parameters (keeps its state across fit calls), or a name
   * ('sgd', 'adam', 'adamw', 'rmsprop', 'adagrad') for a fresh one over the trainable parameters
   * with `lr`. Default 'adam'.
   */
  optimizer?: AnyOptimizer | OptimizerName;
  /** Learning rate for a named optimizer (default: that optimizer's default, 1e-3 for Adam). */
  lr?: number;
  /**
   * Required. A loss function (output, target) -> one-element tensor, or a name: 'mse', 'mae'/'l1',
   * 'huber', 'crossEntropy' (logits [N, C] vs int32 class indices [N] or probabilities [N, C]), 'nll',
   * 'binaryCrossEntropy', 'binaryCrossEntropyWithLogits', 'hinge'. With 'crossEntropy' and 'nll',
   * float targets holding whole numbers are taken as class indices.
   */
  loss: LossFn | LossName;
  /**
   * Values computed over each epoch besides the loss: names ('accuracy', 'binaryAccuracy',
   * 'topKAccuracy', 'mse', 'mae', 'r2', 'precision', 'recall', 'f1'), metrics.Metric objects, or
   * named functions (output, target) => number (averaged over samples). Default none.
   */
  metrics?: readonly MetricSpec[];
  /** Held-out data evaluated after every epoch (logs `val_loss`, `val_<metric>`). */
  validationData?: FitData;
  /**
   * Fraction in (0, 1) of the training data held out for validation instead of validationData: the
   * LAST samples, taken before any shuffling (as Keras does), so shuffle the data first if it is sorted.
   */
  validationSplit?: number;
  /** Batch size for validation (default: batchSize). */
  validationBatchSize?: number;
  /** Reshuffle the training samples every epoch with the library generator (default true; manualSeed makes it reproducible). */
  shuffle?: boolean;
  /** Callbacks (EarlyStopping, ModelCheckpoint, LearningRateScheduler, or objects with hooks), run in order. */
  callbacks?: readonly Callback[];
  /**
   * A learning-rate scheduler on the optimizer, stepped after every epoch (or batch, see
   * schedulerInterval). ReduceLROnPlateau (and a LinearWarmup leading into one) gets the value of
   * schedulerMonitor.
   */
  scheduler?: Scheduler;
  /** Step the scheduler after each 'epoch' (default) or each 'batch'. */
  schedulerInterval?: 'epoch' | 'batch';
  /**
   * Log key given to ReduceLROnPlateau (default 'val_loss' with validation data, else 'loss'). With
   * schedulerInterval 'batch' it is always the batch's own 'loss'.
   */
  schedulerMonitor?: string;
  /**
   * 0: silent. 1 (default): a progress bar on a TTY, one line per epoch otherwise. 2: one line per
   * epoch.
   */
  verbose?: 0 | 1 | 2;
  /** Where progress goes (default process.stdout): anything with write(text), optionally isTTY and columns. */
  output?: ProgressStream;
  /** Keep per-batch logs in History.batches (default false). */
  recordBatches?: boolean;
  /**
   * Replay the training step as one recorded native kernel plan once it has been checked against the
   * JS step bit for bit (default true; see lib/train/native-step.ts). Same results; false keeps every
   * step on the JS autograd path. History.replayedSteps tells how many steps were replayed. With 2+
   * threads and a plain Dataset the next batch is gathered one step ahead, during the replay
   * (History.gatheredAhead).
   */
  nativeStep?: boolean;
}

/** Every option name; typed against FitOptions, so the compiler keeps it complete and exact. */
const OPTION_KEYS: Record<keyof FitOptions, true> = {
  epochs: true, batchSize: true, optimizer: true, lr: true, loss: true, metrics: true, validationData: true, validationSplit: true,
  validationBatchSize: true, shuffle: true, callbacks: true, scheduler: true, schedulerInterval: true, schedulerMonitor: true,
  verbose: true, output: true, recordBatches: true, nativeStep: true,
};
const KNOWN_OPTIONS: readonly string[] = Object.keys(OPTION_KEYS);

/** Everything fit needs, checked and resolved. */
export interface FitPlan {
  train: DataLoader;
  validation: DataLoader | null;
  epochs: number;
  optimizer: AnyOptimizer;
  loss: LossFn;
  /** The loss was given by name (a built-in: the recorded step may replay it). */
  lossIsNamed: boolean;
  metrics: Metric[];
  callbacks: Callback[];
  scheduler: Scheduler | null;
  schedulerInterval: 'epoch' | 'batch';
  schedulerMonitor: string;
  verbose: 0 | 1 | 2;
  output: ProgressStream;
  recordBatches: boolean;
  nativeStep: boolean;
}

function positiveInt(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new RangeError(`${op}: ${name} must be an integer >= 1, got ${show(v)}`);
  return v;
}

function flag(op: string, name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new TypeError(`${op}: ${name} must be true or false, got ${show(v)}`);
  return v;
}

/** The last `fraction` of the samples as validation data (views, no copies). */
function splitTail(op: string, data: Dataset, fraction: unknown): [Dataset, Dataset] {
  if (typeof fraction !== 'number' || !(fraction > 0 && fraction < 1)) {
    throw new RangeError(`${op}: validationSplit must be a fraction in (0, 1), got ${show(fraction)}`);
  }
  const n = data.length;
  const at = Math.floor(n * (1 - fraction));
  if (at < 1 || at >= n) throw new RangeError(`${op}: validationSplit ${fraction} of ${n} samples leaves an empty training or validation part`);
  const range = (a: number, b: number) => Int32Array.from({ length: b - a }, (_, i) => a + i);
  const part = (idx: Int32Array) => new Dataset(takeRows(data.x, idx), data.y === null ? null : takeRows(data.y, idx));
  return [part(range(0, at)), part(range(at, n))];
}

function checkSupervised(op: string, name: string, d: Dataset): void {
  if (d.y === null) throw new RangeError(`${op}: ${name} has no targets; pass [x, y], { x, y } or a Dataset with y`);
  if (d.length === 0) throw new RangeError(`${op}: ${name} has no samples`);
}

function loaderFor(op: string, name: string, d: Dataset, batchSize: number, shuffle: boolean): DataLoader {
  checkSupervised(op, name, d);
  // A batch larger than the data is the whole data (full-batch).
  return new DataLoader(d, { batchSize: Math.min(batchSize, d.length), shuffle });
}

export function planFit(op: string, model: Module, data: unknown, options: FitOptions): FitPlan {
  if (options === null || typeof options !== 'object') throw new TypeError(`${op}: options must be an object with at least { loss }, got ${show(options)}`);
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.includes(key)) throw new RangeError(`${op}: unknown option ${JSON.stringify(key)}; known options: ${KNOWN_OPTIONS.join(', ')}`);
  }
  const o = options as unknown as Record<string, unknown>;
  if (o.loss === undefined) throw new TypeError(`${op}: options.loss is required (a loss function or one of ${LOSS_NAMES.join(', ')})`);
  const epochs = positiveInt(op, 'epochs', o.epochs ?? 1);
  const shuffle = flag(op, 'shuffle', o.shuffle ?? true);
  const verbose = o.verbose ?? 1;
  if (verbose !== 0 && verbose !== 1 && verbose !== 2) throw new RangeError(`${op}: verbose must be 0, 1 or 2, got ${show(verbose)}`);
  const output = (o.output ?? process.stdout) as ProgressStream;
  if (output === null || typeof output !== 'object' || typeof output.write !== 'function') {
    throw new TypeError(`${op}: output must be a stream with write(text), got ${show(o.output)}`);
  }

  let train: DataLoader;
  let validation: DataLoader | null = null;
  if (data instanceof DataLoader) {
    for (const key of ['batchSize', 'shuffle', 'validationSplit'] as const) {
      if (o[key] !== undefined) throw new RangeError(`${op}: ${key} cannot be set when data is a DataLoader (configure the loader instead), got ${show(o[key])}`);
    }
    checkSupervised(op, 'data', data.dataset);
    if (data.length === 0) throw new RangeError(`${op}: the DataLoader yields no batches (dropLast with fewer samples than batchSize)`);
    train = data;
  } else {
    const batchSize = positiveInt(op, 'batchSize', o.batchSize ?? 32);
    let trainSet = toDataset(op, 'data', data);
    checkSupervised(op, 'data', trainSet);
    if (o.validationSplit !== undefined) {
      if (o.validationData !== undefined) throw new RangeError(`${op}: give validationData or validationSplit, not both`);
      const [a, b] = splitTail(op, trainSet, o.validationSplit);
      trainSet = a;
      validation = loaderFor(op, 'validation data', b, positiveInt(op, 'validationBatchSize', o.validationBatchSize ?? batchSize), false);
    }
    train = loaderFor(op, 'data', trainSet, batchSize, shuffle);
  }
  if (o.validationData !== undefined) {
    const v = o.validationData;
    validation = v instanceof DataLoader
      ? v
      : loaderFor(op, 'validationData', toDataset(op, 'validationData', v), positiveInt(op, 'validationBatchSize', o.validationBatchSize ?? train.batchSize), false);
    checkSupervised(op, 'validationData', validation.dataset);
  }

  const callbacks = o.callbacks ?? [];
  if (!Array.isArray(callbacks)) throw new TypeError(`${op}: callbacks must be an array, got ${show(callbacks)}`);
  const scheduler = o.scheduler ?? null;
  if (scheduler !== null && !(scheduler instanceof LRScheduler || scheduler instanceof ReduceLROnPlateau || scheduler instanceof LinearWarmup)) {
    throw new TypeError(`${op}: scheduler must be an optim scheduler (StepLR, ReduceLROnPlateau, ...), got ${show(scheduler)}`);
  }
  const schedulerInterval = o.schedulerInterval ?? 'epoch';
  if (schedulerInterval !== 'epoch' && schedulerInterval !== 'batch') {
    throw new RangeError(`${op}: schedulerInterval must be 'epoch' or 'batch', got ${show(schedulerInterval)}`);
  }
  const schedulerMonitor = o.schedulerMonitor ?? (validation !== null && schedulerInterval === 'epoch' ? 'val_loss' : 'loss');
  if (typeof schedulerMonitor !== 'string') throw new TypeError(`${op}: schedulerMonitor must be a log key, got ${show(schedulerMonitor)}`);
  if (schedulerInterval === 'batch' && schedulerMonitor !== 'loss') {
    throw new RangeError(`${op}: with schedulerInterval 'batch' the scheduler can only watch the batch 'loss', got schedulerMonitor ${show(schedulerMonitor)}`);
  }

  const loss = resolveLoss(op, o.loss);
  const metrics = resolveMetrics(op, o.metrics);
  const checkedCallbacks = callbacks.map((cb: unknown, i: number) => checkCallback(op, cb, i));
  const recordBatches = flag(op, 'recordBatches', o.recordBatches ?? false);
  const nativeStep = flag(op, 'nativeStep', o.nativeStep ?? true);
  // Last: a named optimizer takes over the parameters' storage, so nothing may fail after it.
  if (scheduler !== null && !(o.optimizer instanceof Optimizer)) {
    throw new RangeError(`${op}: a scheduler needs the optimizer instance it was built on (pass optimizer too)`);
  }
  const optimizer = resolveOptimizer(op, model, o.optimizer ?? 'adam', o.lr);
  if (scheduler !== null && scheduler.optimizer !== optimizer) {
    throw new RangeError(`${op}: the scheduler was built on a different optimizer than the one fit uses`);
  }
  return {
    train, validation, epochs, optimizer, loss, lossIsNamed: typeof o.loss === 'string', metrics, callbacks: checkedCallbacks,
    scheduler, schedulerInterval, schedulerMonitor, verbose, output, recordBatches, nativeStep,
  };
}

