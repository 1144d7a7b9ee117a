// fit: the training loop. For each epoch: (reshuffled) batches -> forward -> loss -> backward ->
// optimizer step (TrainingStep: the JS autograd step, or its recorded native replay once verified), with
// running loss/metrics, callbacks and progress; then validation, the scheduler, onEpochEnd, and the
// History record.
//
// fit is async and yields to the event loop after every batch, so timers, sockets and other requests
// keep being served while a model trains (a batch itself runs to completion). Only one fit may run on a
// model at a time: two loops stepping the same weights would interleave their updates silently.

import { higherIsBetterByName } from '../metrics/streaming.js';
import { Module, Parameter } from '../nn/module.js';
import { LRScheduler, LinearWarmup, ReduceLROnPlateau } from '../optim/lr_scheduler.js';
import { monitored, type Callback, type FitContext } from './callbacks.js';
import { EpochTotals, modelLabel, restoreModes, saveModes, yieldToEventLoop } from './epoch.js';
import { evaluateLoaderAsync } from './evaluate.js';
import { History, type Logs } from './history.js';
import { planFit, type FitOptions, type FitPlan } from './options.js';
import type { FitData } from './resolve.js';
import { DataLoader, Dataset, type Batch } from '../data/dataset.js';
import { TrainingStep } from './native-step.js';
import { ProgressLogger } from './progress.js';

/** Models with a fit in progress, and which of them trains each parameter. */
const training = new WeakSet<Module>();
const trainedBy = new WeakMap<Parameter, Module>();

/**
 * Claims the model and its parameters for one fit. Refused when the model is already training, or
 * when another training model shares parameters with it (an encoder inside a model being fitted):
 * two loops stepping the same weights would interleave their updates silently.
 */
function claim(op: string, model: Module): Parameter[] {
  if (training.has(model)) {
    throw new Error(`${op}: model ${modelLabel(model)} is already being trained by another fit() call; await it before starting another (or train a copy)`);
  }
  const params = model.parameters();
  const other = params.map((p) => trainedBy.get(p)).find((m) => m !== undefined);
  if (other !== undefined) {
    throw new Error(`${op}: model ${modelLabel(model)} shares parameters with model ${modelLabel(other)}, which another fit() call is training; await it first`);
  }
  training.add(model);
  for (const p of params) trainedBy.set(p, model);
  return params;
}

function release(model: Module, params: readonly Parameter[]): void {
  training.delete(model);
  for (const p of params) trainedBy.delete(p);
}

/**
 * Trains `model` on `data` and resolves to the History of per-epoch logs. See FitOptions for every
 * option; `loss` is required. Rejects (without training) on a bad option, with a message starting
 * `fit:`; rejects when a fit is already running on this model (or on one sharing its parameters);
 * rejects naming the epoch and step when the loss becomes NaN or infinite (the weights then hold the
 * values from before that step). The model's train/eval flags are restored when fit ends.
 */
export async function fit(model: Module, data: FitData, options: FitOptions): Promise<History> {
  const op = 'fit';
  if (!(model instanceof Module)) throw new TypeError(`${op}: model must be an nn.Module, got ${model === null ? 'null' : typeof model}`);
  const params = claim(op, model);
  const modes = saveModes(model);
  try {
    return await runFit(model, planFit(op, model, data, options));
  } finally {
    restoreModes(modes);
    release(model, params);
  }
}

/** Runs one hook on every callback, in order, awaiting any that return a promise. */
async function dispatch<K extends keyof Callback>(callbacks: readonly Callback[], hook: K, ...args: Parameters<NonNullable<Callback[K]>>): Promise<void> {
  for (const cb of callbacks) {
    const fn = cb[hook] as ((...a: typeof args) => void | Promise<void>) | undefined;
    if (fn === undefined) continue;
    const r = fn.apply(cb, args);
    if (r instanceof Promise) await r;
  }
}

function modeOf(plan: FitPlan, key: string): 'min' | 'max' {
  const name = key.startsWith('val_') ? key.slice(4) : key;
  const metric = plan.metrics.find((m) => m.name === name);
  if (metric !== undefined) return metric.higherIsBetter ? 'max' : 'min';
  return higherIsBetterByName(name) ? 'max' : 'min';
}

function stepScheduler(plan: FitPlan, logs: Logs): void {
  const s = plan.scheduler;
  if (s === null) return;
  if (s instanceof LRScheduler) s.step();
  else if (s instanceof ReduceLROnPlateau) s.step(monitored('fit: scheduler', plan.schedulerMonitor, logs));
  else if (s instanceof LinearWarmup) s.step(s.after instanceof ReduceLROnPlateau ? monitored('fit: scheduler', plan.schedulerMonitor, logs) : undefined);
}

/**
 * One pass of the training loader. A plain DataLoader over a plain Dataset yields the same batches
 * through its indices, so that a batch about to be replayed is gathered straight into the recorded
 * step's input buffers, or was already gathered there by the previous replay (native-step.ts, state 5);
 * anything else (a subclass may batch its own way) is iterated as given.
 */
function* trainingBatches(train: DataLoader, steps: TrainingStep): IterableIterator<Batch> {
  const dataset = train.dataset;
  const plain = train[Symbol.iterator] === DataLoader.prototype[Symbol.iterator] && train.indexBatches === DataLoader.prototype.indexBatches &&
    dataset.batch === Dataset.prototype.batch && dataset.batchInto === Dataset.prototype.batchInto;
  if (!plain) {
    yield* train;
    return;
  }
  if (dataset.y !== null) steps.gatherFrom({ x: dataset.x, y: dataset.y });
  // One batch ahead: a replayed step may gather the next batch while it runs (steps.upcoming).
  const batches = train.indexBatches();
  let next = batches.next();
  while (next.done !== true) {
    const indices = next.value;
    next = batches.next();
    steps.upcoming = next.done === true ? null : next.value;
    const gathered = steps.takePrefetched(indices);
    if (gathered !== null) {
      yield gathered;
      continue;
    }
    const into = steps.replayInputs(indices.length);
    yield (into !== null ? dataset.batchInto(indices, into.x, into.y) : null) ?? dataset.batch(indices);
  }
}

async function runFit(model: Module, plan: FitPlan): Promise<History> {
  const { train, optimizer, epochs } = plan;
  const stepsPerEpoch = train.length;
  const history = new History({
    epochs, stepsPerEpoch, samplesPerEpoch: train.samplesPerEpoch, validationSamples: plan.validation?.dataset.length ?? 0,
  });
  const ctx: FitContext & { epoch: number } = {
    model, optimizer, history, epochs, stepsPerEpoch, samplesPerEpoch: train.samplesPerEpoch, epoch: 0,
    modeOf: (key) => modeOf(plan, key),
    stopTraining: false,
  };
  const steps = new TrainingStep(model, optimizer, plan.loss, { enabled: plan.nativeStep, lossIsNamed: plan.lossIsNamed, batchRows: train.batchSize });
  const progress = plan.verbose === 0 ? null : new ProgressLogger(plan.output, plan.verbose);
  const callbacks: Callback[] = progress === null ? [...plan.callbacks] : [progress, ...plan.callbacks];
  // After the user's hooks run, the recorded step re-checks the modules' configuration before replaying.
  const userHooks = new Set<keyof Callback>(
    (['onTrainBegin', 'onEpochBegin', 'onBatchBegin', 'onBatchEnd', 'onEpochEnd'] as const).filter((hook) => plan.callbacks.some((cb) => typeof cb[hook] === 'function')),
  );
  const userRan = (hook: keyof Callback) => {
    if (userHooks.has(hook)) steps.noteUserCode();
  };
  // Per-batch hooks nobody has cost nothing: no await, no running logs built.
  const batchBegin = callbacks.some((cb) => typeof cb.onBatchBegin === 'function');
  const batchEnd = callbacks.some((cb) => typeof cb.onBatchEnd === 'function');
  let lastLogs: Logs = {};
  try {
    await dispatch(callbacks, 'onTrainBegin', ctx);
    userRan('onTrainBegin');
    for (let epoch = 0; epoch < epochs && !ctx.stopTraining; epoch++) {
      ctx.epoch = epoch;
      await dispatch(callbacks, 'onEpochBegin', epoch, ctx);
      userRan('onEpochBegin');
      const lr = optimizer.paramGroups[0].lr;
      const totals = new EpochTotals(plan.metrics, true);
      model.train();
      let step = 0;
      for (const batch of trainingBatches(train, steps)) {
        if (batchBegin) {
          await dispatch(callbacks, 'onBatchBegin', step, ctx);
          userRan('onBatchBegin');
        }
        const { out, value } = steps.run(batch, () => `epoch ${epoch + 1}/${epochs}, step ${step + 1}/${stepsPerEpoch}`);
        if (plan.schedulerInterval === 'batch') stepScheduler(plan, { loss: value });
        const size = batch.x.shape[0];
        totals.add(value, out, batch.y!, size);
        if (batchEnd || plan.recordBatches) {
          const logs = { ...totals.logs(), batchLoss: value, size };
          if (plan.recordBatches) {
            const { batchLoss: _b, size: _s, ...running } = logs;
            history.batches.push({ epoch, step, size, batchLoss: value, logs: running });
          }
          if (batchEnd) {
            await dispatch(callbacks, 'onBatchEnd', step, logs, ctx);
            userRan('onBatchEnd');
          }
        }
        step++;
        if (ctx.stopTraining) break;
        await yieldToEventLoop();
      }

      const logs = totals.logs();
      if (plan.validation !== null) {
        const val = new EpochTotals(plan.metrics, true);
        await evaluateLoaderAsync('fit: validation', model, plan.validation, plan.loss, val);
        Object.assign(logs, val.logs('val_'));
      }
      logs.lr = lr;
      if (plan.schedulerInterval === 'epoch') stepScheduler(plan, logs);
      await dispatch(callbacks, 'onEpochEnd', epoch, logs, ctx);
      userRan('onEpochEnd');
      history.record(epoch, logs);
      lastLogs = logs;
      if (ctx.stopTraining && epoch + 1 < epochs) history.stoppedEpoch = epoch;
    }
    await dispatch(callbacks, 'onTrainEnd', lastLogs, ctx);
  } finally {
    progress?.close();
    history.replayedSteps = steps.replayed;
    history.gatheredAhead = steps.gatheredAhead;
    history.replayNote = steps.note;
  }
  return history;
}
