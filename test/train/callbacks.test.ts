// Callbacks: hook order, stopTraining, EarlyStopping on scripted values, restoreBestWeights,
// LearningRateScheduler, the scheduler option, ModelCheckpoint.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { decodeSafetensors } from '../../lib/io/safetensors.js';
import type { Module } from '../../lib/nn/module.js';
import { Adam, ReduceLROnPlateau, SGD, StepLR } from '../../lib/optim/index.js';
import { manualSeed } from '../../lib/random.js';
import {
  EarlyStopping, History, LearningRateScheduler, ModelCheckpoint, fit, type Callback, type FitContext, type Logs,
} from '../../lib/train/index.js';
import { blobs, classifier, untyped, weights } from './helpers.js';

const data = blobs(32);
const xy = [data.x, data.y] as const;

/**
 * A metric whose epoch value is script[epoch] exactly (a function metric is the sample-weighted mean
 * of its per-batch values, all equal here). `epochOf` tracks the running epoch through a callback.
 */
function scripted(script: number[]): { metric: () => number; tracker: Callback } {
  let epoch = 0;
  const metric = function scriptedValue(): number {
    return script[epoch];
  };
  return { metric, tracker: { onEpochBegin: (e) => { epoch = e; } } };
}

describe('hooks', () => {
  test('order: trainBegin, then per epoch epochBegin, batchBegin/batchEnd per step, epochEnd; trainEnd; async hooks awaited', async () => {
    const calls: string[] = [];
    let asyncDone = false;
    const cb: Callback = {
      onTrainBegin: () => { calls.push('trainBegin'); },
      onEpochBegin: (e) => { calls.push(`epochBegin${e}`); expect(e === 0 || asyncDone).toBe(true); },
      onBatchBegin: (s) => { calls.push(`batchBegin${s}`); },
      onBatchEnd: (s, logs) => { calls.push(`batchEnd${s}`); expect(Object.keys(logs).sort()).toEqual(['batchLoss', 'loss', 'size']); },
      onEpochEnd: async (e, logs) => {
        calls.push(`epochEnd${e}`);
        expect(Object.keys(logs).sort()).toEqual(['loss', 'lr']);
        await new Promise((r) => setTimeout(r, 5));
        asyncDone = true;
      },
      onTrainEnd: (logs) => { calls.push('trainEnd'); expect(logs.loss).toBeGreaterThan(0); },
    };
    await fit(classifier(), xy, { epochs: 2, batchSize: 16, loss: 'crossEntropy', verbose: 0, callbacks: [cb] });
    expect(calls).toEqual([
      'trainBegin',
      'epochBegin0', 'batchBegin0', 'batchEnd0', 'batchBegin1', 'batchEnd1', 'epochEnd0',
      'epochBegin1', 'batchBegin0', 'batchEnd0', 'batchBegin1', 'batchEnd1', 'epochEnd1',
      'trainEnd',
    ]);
  });

  test('a plain onBatchEnd hook setting ctx.stopTraining ends training after that batch; the epoch still closes', async () => {
    const ends: number[] = [];
    const h = await fit(classifier(), xy, {
      epochs: 5, batchSize: 4, loss: 'crossEntropy', verbose: 0, recordBatches: true,
      callbacks: [
        { onBatchEnd: (step: number, _logs: Logs, ctx: FitContext) => { if (step === 2) ctx.stopTraining = true; } },
        { onEpochEnd: (e: number) => { ends.push(e); } },
      ],
    });
    expect(h.epoch).toEqual([0]);
    expect(h.stoppedEpoch).toBe(0);
    expect(h.batches.map((b) => b.step)).toEqual([0, 1, 2]);
    expect(ends).toEqual([0]);
    expect(h.last('loss')).toBeCloseTo(h.batches[2].logs.loss, 12);
  });

  test('a callback without hooks, or with a non-function hook, is rejected naming fit and the index', async () => {
    await expect(fit(classifier(), xy, { loss: 'mse', callbacks: [{} as Callback] })).rejects.toThrow(/fit: callbacks\[0\] has none of the hooks/);
    await expect(fit(classifier(), xy, { loss: 'mse', callbacks: [untyped<Callback>({ onEpochEnd: 3 })] })).rejects.toThrow(/fit: callbacks\[0\]\.onEpochEnd must be a function, got number/);
  });
});

describe('EarlyStopping', () => {
  // min mode, patience 2, minDelta 0.01:
  //   e0 1.0 best | e1 0.8 best | e2 0.795 (not better by 0.01) wait 1 | e3 0.7 best |
  //   e4 0.72 wait 1 | e5 0.695 (better, but by < 0.01) wait 2 -> stop after epoch 5.
  const script = [1.0, 0.8, 0.795, 0.7, 0.72, 0.695, 0.5, 0.4, 0.3, 0.2];

  test('stops at the right epoch on a scripted sequence (patience 2, minDelta 0.01); restoreBestWeights restores epoch 3 exactly', async () => {
    manualSeed(11);
    const model = classifier();
    const { metric, tracker } = scripted(script);
    const snapshots: number[][][] = [];
    const stopper = new EarlyStopping({ monitor: 'scriptedValue', patience: 2, minDelta: 0.01, restoreBestWeights: true });
    const h = await fit(model, xy, {
      epochs: 10, batchSize: 8, loss: 'crossEntropy', metrics: [metric], verbose: 0,
      optimizer: new Adam(model.parameters(), { lr: 0.05 }),
      callbacks: [tracker, { onEpochEnd: () => { snapshots.push(weights(model)); } }, stopper],
    });
    expect(h.get('scriptedValue')).toEqual(script.slice(0, 6));
    expect(h.epoch).toEqual([0, 1, 2, 3, 4, 5]);
    expect(stopper.stoppedEpoch).toBe(5);
    expect(h.stoppedEpoch).toBe(5);
    expect(stopper.bestEpoch).toBe(3);
    expect(stopper.best).toBe(0.7);
    expect(weights(model)).toEqual(snapshots[3]);
    expect(weights(model)).not.toEqual(snapshots[5]);
  });

  test('without restoreBestWeights the last weights stay; patience 0 stops at the first non-improving epoch', async () => {
    const model = classifier();
    const { metric, tracker } = scripted([3, 2, 2.5, 1]);
    const snapshots: number[][][] = [];
    const stopper = new EarlyStopping({ monitor: 'scriptedValue' });
    const h = await fit(model, xy, {
      epochs: 4, loss: 'crossEntropy', metrics: [metric], verbose: 0,
      callbacks: [tracker, { onEpochEnd: () => { snapshots.push(weights(model)); } }, stopper],
    });
    expect(h.epoch).toEqual([0, 1, 2]);
    expect(weights(model)).toEqual(snapshots[2]);
  });

  test("mode 'auto' is 'max' for accuracy-like keys; baseline must be beaten; called directly with a context", () => {
    const model = classifier();
    const ctx: FitContext = {
      model, optimizer: new SGD(model.parameters(), { lr: 0.1 }), epochs: 5, stepsPerEpoch: 1, samplesPerEpoch: 1, epoch: 0,
      history: new History({ epochs: 5, stepsPerEpoch: 1, samplesPerEpoch: 1, validationSamples: 0 }),
      modeOf: (k: string) => (k.includes('accuracy') ? 'max' : 'min'),
      stopTraining: false,
    };
    const run = (stopper: EarlyStopping) => {
      ctx.stopTraining = false;
      stopper.onTrainBegin(ctx);
      const seq = [0.5, 0.6, 0.6, 0.6, 0.6];
      for (let e = 0; e < seq.length && !ctx.stopTraining; e++) stopper.onEpochEnd(e, { val_accuracy: seq[e] }, ctx);
      return stopper;
    };
    // 0.5 then 0.6 improve ('max'), then no change: patience 2 stops at epoch 3.
    const plain = run(new EarlyStopping({ monitor: 'val_accuracy', patience: 2 }));
    expect(plain.best).toBe(0.6);
    expect(plain.bestEpoch).toBe(1);
    expect(plain.stoppedEpoch).toBe(3);
    // With a baseline of 0.9 the improvements do not reset the wait (Keras): it stops one epoch earlier.
    const stopper = run(new EarlyStopping({ monitor: 'val_accuracy', patience: 2, baseline: 0.9 }));
    expect(stopper.best).toBe(0.6);
    expect(stopper.stoppedEpoch).toBe(2);
    expect(() => stopper.onEpochEnd(2, { loss: 1 }, ctx)).toThrow(/EarlyStopping: monitor 'val_accuracy' is not in the epoch logs \(loss\) \(val_\* keys need validationData/);
    expect(() => new EarlyStopping({ patience: -1 })).toThrow(/EarlyStopping: patience must be an integer >= 0, got -1/);
    expect(() => new EarlyStopping({ mode: 'up' as 'min' })).toThrow(/EarlyStopping: mode must be 'auto', 'min' or 'max', got "up"/);
  });
});

describe('learning-rate control', () => {
  test('LearningRateScheduler sets every group to schedule(epoch, lr) before the epoch', async () => {
    const model = classifier();
    const opt = new SGD([{ params: model.parameters().slice(0, 2) }, { params: model.parameters().slice(2), lr: 0.5 }], { lr: 0.1 });
    const during: number[][] = [];
    const h = await fit(model, xy, {
      epochs: 3, batchSize: 16, loss: 'crossEntropy', optimizer: opt, verbose: 0,
      callbacks: [
        new LearningRateScheduler((epoch) => 0.2 * 0.5 ** epoch),
        { onBatchEnd: () => { during.push(opt.paramGroups.map((g) => g.lr)); } },
      ],
    });
    expect(h.get('lr')).toEqual([0.2, 0.1, 0.05]);
    expect(during).toEqual([[0.2, 0.2], [0.2, 0.2], [0.1, 0.1], [0.1, 0.1], [0.05, 0.05], [0.05, 0.05]]);
    const bad = fit(classifier(), xy, { loss: 'crossEntropy', verbose: 0, callbacks: [new LearningRateScheduler(() => NaN)] });
    await expect(bad).rejects.toThrow(/LearningRateScheduler: schedule\(0\) must return a finite lr >= 0, got NaN/);
  });

  test("scheduler option: StepLR steps once per epoch (default) or per batch (schedulerInterval 'batch')", async () => {
    let model = classifier();
    let opt = new SGD(model.parameters(), { lr: 0.1 });
    const h = await fit(model, xy, { epochs: 5, batchSize: 16, loss: 'crossEntropy', optimizer: opt, scheduler: new StepLR(opt, 2, 0.1), verbose: 0 });
    const expected = [0.1, 0.1, 0.01, 0.01, 0.001];
    h.get('lr').forEach((lr, i) => expect(lr).toBeCloseTo(expected[i], 12));

    model = classifier();
    opt = new SGD(model.parameters(), { lr: 0.1 });
    const perBatch: number[] = [];
    await fit(model, xy, {
      epochs: 2, batchSize: 8, loss: 'crossEntropy', optimizer: opt, scheduler: new StepLR(opt, 3, 0.5), schedulerInterval: 'batch', verbose: 0,
      callbacks: [{ onBatchBegin: () => { perBatch.push(opt.paramGroups[0].lr); } }],
    });
    // 4 batches per epoch, 8 in all: lr halves every 3 batches.
    expect(perBatch).toEqual([0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025]);
  });

  test('ReduceLROnPlateau gets the schedulerMonitor value each epoch and halves the lr after patience', async () => {
    const model = classifier();
    const opt = new SGD(model.parameters(), { lr: 0.1 });
    const { metric, tracker } = scripted([1, 1, 1, 1, 1]);
    const h = await fit(model, xy, {
      epochs: 5, loss: 'crossEntropy', optimizer: opt, metrics: [metric], verbose: 0, callbacks: [tracker],
      scheduler: new ReduceLROnPlateau(opt, { patience: 1, factor: 0.5 }), schedulerMonitor: 'scriptedValue',
    });
    // e0 best; e1 bad 1; e2 bad 2 > patience -> reduce before e3; e3 bad 1; e4 bad 2 -> reduce (after the last epoch).
    expect(h.get('lr')).toEqual([0.1, 0.1, 0.1, 0.05, 0.05]);
    expect(opt.paramGroups[0].lr).toBe(0.025);
  });

  test('a scheduler needs the optimizer it was built on', async () => {
    const model = classifier();
    const other = new SGD(classifier().parameters(), { lr: 0.1 });
    await expect(fit(model, xy, { loss: 'mse', scheduler: new StepLR(other, 1) })).rejects.toThrow(/fit: a scheduler needs the optimizer instance/);
    const own = new SGD(model.parameters(), { lr: 0.1 });
    await expect(fit(model, xy, { loss: 'mse', optimizer: own, scheduler: new StepLR(other, 1) })).rejects.toThrow(/fit: the scheduler was built on a different optimizer/);
  });
});

describe('ModelCheckpoint', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tf-ckpt-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('saveBestOnly writes safetensors at improving epochs; each file holds that epoch\'s state dict exactly', async () => {
    manualSeed(12);
    const model = classifier();
    const { metric, tracker } = scripted([3, 2, 2.5, 1]);
    const states: Record<string, number[]>[] = [];
    const ckpt = new ModelCheckpoint({ path: join(dir, 'best', 'm-{epoch}-{scriptedValue}.safetensors'), monitor: 'scriptedValue', saveBestOnly: true });
    await fit(model, xy, {
      epochs: 4, loss: 'crossEntropy', metrics: [metric], verbose: 0,
      callbacks: [tracker, { onEpochEnd: () => { states.push(Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) => [k, Array.from(t.data)]))); } }, ckpt],
    });
    expect(readdirSync(join(dir, 'best')).sort()).toEqual(['m-01-3.0000.safetensors', 'm-02-2.0000.safetensors', 'm-04-1.0000.safetensors']);
    expect(ckpt.saved.map((p) => p.slice(dir.length + 1))).toEqual(['best/m-01-3.0000.safetensors', 'best/m-02-2.0000.safetensors', 'best/m-04-1.0000.safetensors']);
    for (const [file, epoch] of [['m-02-2.0000.safetensors', 1], ['m-04-1.0000.safetensors', 3]] as const) {
      const decoded = decodeSafetensors(readFileSync(join(dir, 'best', file)));
      expect(decoded.metadata.format).toBe('tensorforge-state-dict');
      expect(Object.keys(decoded.tensors)).toEqual(Object.keys(states[epoch]));
      for (const [k, t] of Object.entries(decoded.tensors)) expect(Array.from(t.data)).toEqual(states[epoch][k]);
    }
  });

  test('a custom (async) save function is awaited with the model and the formatted path; every 2 epochs', async () => {
    const calls: [Module, string][] = [];
    const model = classifier();
    await fit(model, xy, {
      epochs: 5, loss: 'crossEntropy', validationSplit: 0.25, verbose: 0,
      callbacks: [new ModelCheckpoint({ path: 'ck/e{epoch}.bin', every: 2, save: async (m, p) => { await new Promise((r) => setTimeout(r, 1)); calls.push([m, p]); } })],
    });
    expect(calls.map(([, p]) => p)).toEqual(['ck/e02.bin', 'ck/e04.bin']);
    expect(calls.every(([m]) => m === model)).toBe(true);
    expect(() => new ModelCheckpoint({ path: '' })).toThrow(/ModelCheckpoint: path must be a non-empty string/);
    const badKey = fit(classifier(), xy, { loss: 'crossEntropy', verbose: 0, callbacks: [new ModelCheckpoint({ path: join(dir, '{val_loss}.st') })] });
    await expect(badKey).rejects.toThrow(/ModelCheckpoint: path placeholder \{val_loss\} is not a log key \(loss, lr\)/);
  });
});
