// fit's options, documented field by field, and their validation. Everything is checked before
// training starts; each message starts with `fit:` and shows the bad value.

import { DataLoader, Dataset, takeRows, type ArrayInput } from '../data/dataset.js';
import * as losses from '../losses/index.js';
import { resolveMetric, type Metric, type MetricSpec } from '../metrics/streaming.js';
import type { Module } from '../nn/module.js';
import { Adagrad } from '../optim/adagrad.js';
import { Adam, AdamW } from '../optim/adam.js';
import { LinearWarmup, LRScheduler, ReduceLROnPlateau } from '../optim/lr_scheduler.js';
import { Optimizer } from '../optim/optimizer.js';
import { RMSprop } from '../optim/rmsprop.js';
import { SGD } from '../optim/sgd.js';
import { Tensor, formatShape } from '../tensor.js';
import { checkCallback, type AnyOptimizer, type Callback } from './callbacks.js';
import type { ProgressStream } from './progress.js';

/** Training data: a Dataset, a DataLoader (its own batching), or features and targets. */
export type FitData = Dataset | DataLoader | readonly [ArrayInput, ArrayInput] | { x: ArrayInput; y: ArrayInput };

/** A loss: (model output, target) -> a one-element tensor (e.g. losses.mse with reduction 'mean'). */
export type LossFn = (predicted: Tensor, target: Tensor) => Tensor;

export const LOSS_NAMES = ['mse', 'mae', 'l1', 'huber', 'crossEntropy', 'nll', 'binaryCrossEntropy', 'binaryCrossEntropyWithLogits', 'hinge'] as const;
export type LossName = (typeof LOSS_NAMES)[number];

export const OPTIMIZER_NAMES = ['sgd', 'adam', 'adamw', 'rmsprop', 'adagrad'] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

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
  validationData?: Dataset | DataLoader | readonly [ArrayInput, ArrayInput] | { x: ArrayInput; y: ArrayInput };
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
}

/** Every option name; typed against FitOptions, so the compiler keeps it complete and exact. */
const OPTION_KEYS: Record<keyof FitOptions, true> = {
  epochs: true, batchSize: true, optimizer: true, lr: true, loss: true, metrics: true, validationData: true, validationSplit: true,
  validationBatchSize: true, shuffle: true, callbacks: true, scheduler: true, schedulerInterval: true, schedulerMonitor: true,
  verbose: true, output: true, recordBatches: true,
};
const KNOWN_OPTIONS: readonly string[] = Object.keys(OPTION_KEYS);

/** Everything fit needs, checked and resolved. */
export interface FitPlan {
  train: DataLoader;
  validation: DataLoader | null;
  epochs: number;
  optimizer: AnyOptimizer;
  loss: LossFn;
  metrics: Metric[];
  callbacks: Callback[];
  scheduler: Scheduler | null;
  schedulerInterval: 'epoch' | 'batch';
  schedulerMonitor: string;
  verbose: 0 | 1 | 2;
  output: ProgressStream;
  recordBatches: boolean;
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || typeof v !== 'object') return String(v);
  return v.constructor?.name ?? 'object';
}

function positiveInt(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new RangeError(`${op}: ${name} must be an integer >= 1, got ${show(v)}`);
  return v;
}

function flag(op: string, name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new TypeError(`${op}: ${name} must be true or false, got ${show(v)}`);
  return v;
}

/** A Dataset from any accepted form; conversion errors are re-raised under `op: name:`. */
export function toDataset(op: string, name: string, data: unknown): Dataset {
  if (data instanceof Dataset) return data;
  if (data instanceof DataLoader) return data.dataset;
  try {
    if (Array.isArray(data) && data.length === 2) return new Dataset(data[0], data[1]);
    if (data !== null && typeof data === 'object' && 'x' in data) {
      const { x, y } = data as { x: ArrayInput; y?: ArrayInput };
      return new Dataset(x, y ?? null);
    }
    if (data instanceof Tensor || ArrayBuffer.isView(data) || Array.isArray(data)) return new Dataset(data as ArrayInput);
  } catch (e) {
    if (e instanceof Error) {
      const Class = e instanceof RangeError ? RangeError : TypeError;
      throw new Class(`${op}: ${name}: ${e.message}`);
    }
    throw e;
  }
  throw new TypeError(`${op}: ${name} must be a Dataset, a DataLoader, [x, y] or { x, y }, got ${show(data)}`);
}

/** Wraps named losses; 'crossEntropy' and 'nll' accept float class indices too. */
export function resolveLoss(op: string, spec: unknown): LossFn {
  if (typeof spec === 'function') return spec as LossFn;
  if (typeof spec !== 'string' || !(LOSS_NAMES as readonly string[]).includes(spec)) {
    throw new RangeError(`${op}: loss must be a function or one of ${LOSS_NAMES.join(', ')}, got ${show(spec)}`);
  }
  const name = spec as LossName;
  const asIndices = (t: Tensor): Tensor =>
    t.dtype === 'float32' && t.rank === 1 && t.data.every(Number.isInteger) ? t.int() : t;
  switch (name) {
    case 'mse': return (p, t) => losses.mse(p, t);
    case 'mae':
    case 'l1': return (p, t) => losses.l1(p, t);
    case 'huber': return (p, t) => losses.huber(p, t);
    case 'crossEntropy': return (p, t) => losses.crossEntropy(p, asIndices(t));
    case 'nll': return (p, t) => losses.nll(p, asIndices(t));
    case 'binaryCrossEntropy': return (p, t) => losses.binaryCrossEntropy(p, t);
    case 'binaryCrossEntropyWithLogits': return (p, t) => losses.binaryCrossEntropyWithLogits(p, t);
    case 'hinge': return (p, t) => losses.hinge(p, t);
  }
}

export function resolveMetrics(op: string, specs: unknown): Metric[] {
  if (specs === undefined) return [];
  if (!Array.isArray(specs)) throw new TypeError(`${op}: metrics must be an array, got ${show(specs)}`);
  const out = specs.map((s: MetricSpec) => resolveMetric(s, op));
  const names = new Set<string>();
  for (const m of out) {
    if (m.name === 'loss' || m.name.startsWith('val_') || names.has(m.name)) {
      throw new RangeError(`${op}: metric name ${JSON.stringify(m.name)} is reserved or used twice`);
    }
    names.add(m.name);
  }
  return out;
}

function resolveOptimizer(op: string, model: Module, spec: unknown, lr: unknown): AnyOptimizer {
  if (spec instanceof Optimizer) {
    if (lr !== undefined) throw new RangeError(`${op}: lr is only for a named optimizer; set it on the optimizer instance instead`);
    const own = new Set<Tensor>(model.parameters());
    if (!spec.paramGroups.some((g) => g.params.some((p: Tensor) => own.has(p)))) {
      throw new RangeError(`${op}: the optimizer holds none of the model's parameters; build it with model.parameters()`);
    }
    return spec;
  }
  if (typeof spec !== 'string' || !(OPTIMIZER_NAMES as readonly string[]).includes(spec)) {
    throw new RangeError(`${op}: optimizer must be an optimizer instance or one of ${OPTIMIZER_NAMES.join(', ')}, got ${show(spec)}`);
  }
  if (lr !== undefined && (typeof lr !== 'number' || !Number.isFinite(lr) || lr <= 0)) {
    throw new RangeError(`${op}: lr must be a finite number > 0, got ${show(lr)}`);
  }
  const params = model.trainableParameters();
  if (params.length === 0) throw new RangeError(`${op}: the model has no trainable parameters (all frozen?)`);
  const options = lr === undefined ? {} : { lr };
  switch (spec as OptimizerName) {
    case 'sgd': return new SGD(params, options);
    case 'adam': return new Adam(params, options);
    case 'adamw': return new AdamW(params, options);
    case 'rmsprop': return new RMSprop(params, options);
    case 'adagrad': return new Adagrad(params, options);
  }
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
  // Last: a named optimizer takes over the parameters' storage, so nothing may fail after it.
  if (scheduler !== null && !(o.optimizer instanceof Optimizer)) {
    throw new RangeError(`${op}: a scheduler needs the optimizer instance it was built on (pass optimizer too)`);
  }
  const optimizer = resolveOptimizer(op, model, o.optimizer ?? 'adam', o.lr);
  if (scheduler !== null && scheduler.optimizer !== optimizer) {
    throw new RangeError(`${op}: the scheduler was built on a different optimizer than the one fit uses`);
  }
  return {
    train, validation, epochs, optimizer, loss, metrics, callbacks: checkedCallbacks,
    scheduler, schedulerInterval, schedulerMonitor, verbose, output, recordBatches,
  };
}

/** Runs the loss and checks it returned one value. */
export function computeLoss(op: string, loss: LossFn, predicted: Tensor, target: Tensor): Tensor {
  const value = loss(predicted, target);
  if (!(value instanceof Tensor) || value.size !== 1) {
    const got = value instanceof Tensor ? `shape ${formatShape(value.shape)}` : show(value);
    throw new TypeError(`${op}: the loss must return a one-element tensor (reduction 'mean' or 'sum'), got ${got}`);
  }
  return value;
}
