// Turning what users pass into working parts: data into a Dataset, loss names into functions, metric
// specs into Metric objects, optimizer names into optimizers. Shared by fit and evaluate; every error
// starts with the caller's name (`op`) and shows the bad value.

import { DataLoader, Dataset, type ArrayInput } from '../data/dataset.js';
import * as losses from '../losses/index.js';
import { resolveMetric, type Metric, type MetricSpec } from '../metrics/streaming.js';
import type { Module } from '../nn/module.js';
import { Adagrad } from '../optim/adagrad.js';
import { Adam, AdamW } from '../optim/adam.js';
import { Optimizer } from '../optim/optimizer.js';
import { RMSprop } from '../optim/rmsprop.js';
import { SGD } from '../optim/sgd.js';
import { Tensor, formatShape } from '../tensor.js';
import type { AnyOptimizer } from './callbacks.js';

/** Training data: a Dataset, a DataLoader (its own batching), or features and targets. */
export type FitData = Dataset | DataLoader | readonly [ArrayInput, ArrayInput] | { x: ArrayInput; y: ArrayInput };

/** A loss: (model output, target) -> a one-element tensor (e.g. losses.mse with reduction 'mean'). */
export type LossFn = (predicted: Tensor, target: Tensor) => Tensor;

export const LOSS_NAMES = ['mse', 'mae', 'l1', 'huber', 'crossEntropy', 'nll', 'binaryCrossEntropy', 'binaryCrossEntropyWithLogits', 'hinge'] as const;
export type LossName = (typeof LOSS_NAMES)[number];

export const OPTIMIZER_NAMES = ['sgd', 'adam', 'adamw', 'rmsprop', 'adagrad'] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

/** A value for an error message: strings quoted, objects by class. */
export function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || typeof v !== 'object') return String(v);
  return v.constructor?.name ?? 'object';
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

export function resolveOptimizer(op: string, model: Module, spec: unknown, lr: unknown): AnyOptimizer {
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

/** Runs the loss and checks it returned one value. */
export function computeLoss(op: string, loss: LossFn, predicted: Tensor, target: Tensor): Tensor {
  const value = loss(predicted, target);
  if (!(value instanceof Tensor) || value.size !== 1) {
    const got = value instanceof Tensor ? `shape ${formatShape(value.shape)}` : show(value);
    throw new TypeError(`${op}: the loss must return a one-element tensor (reduction 'mean' or 'sum'), got ${got}`);
  }
  return value;
}
