// fit learns, records what it did, validates, and leaves the model as it found it (apart from weights).
import { describe, expect, test } from 'vitest';
import { Dataset, DataLoader } from '../../lib/data/dataset.js';
import * as nn from '../../lib/nn/index.js';
import { Adam, SGD } from '../../lib/optim/index.js';
import { manualSeed } from '../../lib/random.js';
import { Tensor } from '../../lib/tensor.js';
import { evaluate, fit, History, predict } from '../../lib/train/index.js';
import { blobs, classifier, linearTargets } from './helpers.js';

describe('fit learns a small problem', () => {
  const { x, y } = blobs(64);

  for (const [label, batchSize, steps] of [['batchSize 1 (SGD)', 1, 64], ['mini-batch 16', 16, 4], ['full batch 64', 64, 1]] as const) {
    test(`${label}: ${steps} steps per epoch, loss falls, accuracy >= 0.95`, async () => {
      manualSeed(3);
      const model = classifier();
      const sizes: number[] = [];
      const history = await fit(model, [x, y], {
        epochs: 20, batchSize, loss: 'crossEntropy', metrics: ['accuracy'], verbose: 0,
        optimizer: new Adam(model.parameters(), { lr: batchSize === 1 ? 0.01 : 0.05 }),
        callbacks: [{ onBatchEnd: (_step, logs) => { sizes.push(logs.size); } }],
      });
      expect(history.params.stepsPerEpoch).toBe(steps);
      expect(sizes.length).toBe(20 * steps);
      expect(sizes.every((s) => s === batchSize)).toBe(true);
      const loss = history.get('loss');
      expect(loss).toHaveLength(20);
      expect(loss[19]).toBeLessThan(loss[0] * 0.5);
      expect(history.last('accuracy')).toBeGreaterThanOrEqual(0.95);
      // The recorded accuracy is the model's: evaluate agrees on the training data.
      expect(evaluate(model, [x, y], { metrics: ['accuracy'] }).accuracy).toBeGreaterThanOrEqual(0.95);
    });
  }

  test('regression with a plain SGD optimizer: mse falls below 1e-3 and the weights approach (2, -3, 0.5)', async () => {
    manualSeed(4);
    const data = linearTargets(128);
    const model = new nn.Linear(2, 1);
    const history = await fit(model, data, { epochs: 60, batchSize: 16, loss: 'mse', metrics: ['mae', 'r2'], optimizer: new SGD(model.parameters(), { lr: 0.1 }), verbose: 0 });
    expect(history.last('loss')).toBeLessThan(1e-3);
    expect(history.last('r2')).toBeGreaterThan(0.999);
    expect(model.weight.data[0]).toBeCloseTo(2, 1);
    expect(model.weight.data[1]).toBeCloseTo(-3, 1);
    expect(model.bias!.data[0]).toBeCloseTo(0.5, 1);
  });

  test('model.fit is the same as fit(model, ...): identical weights from the same seed', async () => {
    const run = async (useMethod: boolean) => {
      manualSeed(5);
      const model = classifier();
      const opts = { epochs: 3, batchSize: 8, loss: 'crossEntropy' as const, verbose: 0 as const };
      if (useMethod) await model.fit([x, y], opts);
      else await fit(model, [x, y], opts);
      return model.parameters().map((p) => Array.from(p.data));
    };
    expect(await run(true)).toEqual(await run(false));
  });
});

describe('History', () => {
  test('keys loss, metrics, val_*, lr; epoch indices; params; per-batch records on request', async () => {
    manualSeed(6);
    const { x, y } = blobs(40);
    const val = blobs(20, 9);
    const model = classifier();
    const history = await fit(model, { x, y }, {
      epochs: 3, batchSize: 16, loss: 'crossEntropy', metrics: ['accuracy', 'f1'], validationData: [val.x, val.y],
      optimizer: new Adam(model.parameters(), { lr: 0.01 }), verbose: 0, recordBatches: true,
    });
    expect(history).toBeInstanceOf(History);
    expect(history.epoch).toEqual([0, 1, 2]);
    expect(Object.keys(history.history).sort()).toEqual(['accuracy', 'f1', 'loss', 'lr', 'val_accuracy', 'val_f1', 'val_loss']);
    expect(history.get('lr')).toEqual([0.01, 0.01, 0.01]);
    expect(history.params).toEqual({ epochs: 3, stepsPerEpoch: 3, samplesPerEpoch: 40, validationSamples: 20 });
    expect(history.stoppedEpoch).toBeNull();
    // 3 batches per epoch (16, 16, 8); the epoch loss is the sample-weighted mean of the batch losses.
    expect(history.batches).toHaveLength(9);
    expect(history.batches.map((b) => b.size)).toEqual([16, 16, 8, 16, 16, 8, 16, 16, 8]);
    for (let e = 0; e < 3; e++) {
      const bs = history.batches.filter((b) => b.epoch === e);
      expect(bs.map((b) => b.step)).toEqual([0, 1, 2]);
      const weighted = bs.reduce((s, b) => s + b.batchLoss * b.size, 0) / 40;
      expect(history.get('loss')[e]).toBeCloseTo(weighted, 10);
      expect(bs[2].logs.loss).toBeCloseTo(weighted, 10); // the running mean after the last batch
    }
    // The val_ values are exactly what evaluate reports on the same data after that epoch (last epoch here).
    const again = evaluate(model, [val.x, val.y], { loss: 'crossEntropy', metrics: ['accuracy'], batchSize: 7 });
    expect(history.last('val_loss')).toBeCloseTo(again.loss, 5);
    expect(history.last('val_accuracy')).toBe(again.accuracy);
    expect(JSON.parse(JSON.stringify(history)).history.loss).toEqual(history.get('loss'));
    expect(() => history.get('nope')).toThrow(/no values for 'nope'; recorded: loss/);
  });
});

describe('validation', () => {
  test('validationSplit 0.25 holds out the LAST quarter (before shuffling) and never trains on it', async () => {
    manualSeed(7);
    const { x, y } = blobs(40);
    const inner = classifier();
    // Records the first feature of every sample the model sees in training mode.
    const trainedOn = new Set<number>();
    class Recorder extends nn.Module {
      inner = inner;
      forward(t: Tensor): Tensor {
        if (this.training) for (let i = 0; i < t.shape[0]; i++) trainedOn.add(t.data[2 * i]);
        return this.inner.forward(t);
      }
    }
    const model = new Recorder();
    const history = await fit(model, [x, y], { epochs: 2, batchSize: 5, validationSplit: 0.25, loss: 'crossEntropy', metrics: ['accuracy'], verbose: 0 });
    expect(history.params.samplesPerEpoch).toBe(30);
    expect(history.params.validationSamples).toBe(10);
    const firstFeature = (i: number) => x.data[2 * i];
    expect([...trainedOn].sort()).toEqual(Array.from({ length: 30 }, (_, i) => firstFeature(i)).sort());
    // The held-out part is samples 30..39: evaluating on them reproduces val_loss and val_accuracy.
    const tail = new Dataset(x.slice([30, 0]), y.slice([30]));
    const r = evaluate(model, tail, { loss: 'crossEntropy', metrics: ['accuracy'] });
    expect(history.last('val_loss')).toBeCloseTo(r.loss, 5);
    expect(history.last('val_accuracy')).toBe(r.accuracy);
  });

  test('validationData as a Dataset or a DataLoader; validation runs in eval mode (dropout off)', async () => {
    manualSeed(8);
    const { x, y } = blobs(32);
    const model = new nn.Sequential(new nn.Linear(2, 8), new nn.ReLU(), new nn.Dropout(0.5), new nn.Linear(8, 2));
    const val = new Dataset(x, y);
    const h1 = await fit(model, [x, y], { epochs: 1, loss: 'crossEntropy', validationData: val, verbose: 0 });
    // In eval mode dropout is the identity, so validation is deterministic: evaluate gives the same number.
    expect(h1.last('val_loss')).toBeCloseTo(evaluate(model, val, { loss: 'crossEntropy' }).loss, 5);
    const h2 = await fit(model, [x, y], { epochs: 1, loss: 'crossEntropy', validationData: new DataLoader(val, { batchSize: 5 }), verbose: 0 });
    expect(h2.last('val_loss')).toBeCloseTo(evaluate(model, val, { loss: 'crossEntropy' }).loss, 5);
  });

  test('a batchSize larger than the data is full-batch: one step of every sample', async () => {
    const { x, y } = blobs(30);
    const h = await fit(classifier(), [x, y], { epochs: 2, batchSize: 1000, loss: 'crossEntropy', verbose: 0, recordBatches: true });
    expect(h.params.stepsPerEpoch).toBe(1);
    expect(h.batches.map((b) => b.size)).toEqual([30, 30]);
  });

  test('data given as a DataLoader uses its batching', async () => {
    const { x, y } = blobs(30);
    const loader = new DataLoader(new Dataset(x, y), { batchSize: 8, dropLast: true });
    const h = await fit(classifier(), loader, { epochs: 1, loss: 'crossEntropy', verbose: 0, recordBatches: true });
    expect(h.batches.map((b) => b.size)).toEqual([8, 8, 8]);
    expect(h.params.samplesPerEpoch).toBe(24);
  });
});

describe('train/eval state and predict/evaluate', () => {
  test('fit restores every submodule flag it found (a frozen-in-eval submodule stays in eval)', async () => {
    const { x, y } = blobs(16);
    const model = new nn.Sequential(new nn.Linear(2, 4), new nn.BatchNorm1d(4), new nn.ReLU(), new nn.Linear(4, 2));
    model.at(1).eval();
    const modesDuring: boolean[] = [];
    await fit(model, [x, y], { epochs: 1, loss: 'crossEntropy', verbose: 0, callbacks: [{ onBatchEnd: () => { modesDuring.push(model.at(1).training); } }] });
    expect(modesDuring.every((m) => m)).toBe(true); // trains in train mode
    expect(model.training).toBe(true);
    expect(model.at(1).training).toBe(false);
    model.eval();
    await fit(model, [x, y], { epochs: 1, loss: 'crossEntropy', verbose: 0 });
    expect(model.namedModules().every(([, m]) => !m.training)).toBe(true);
  });

  test('predict: batched outputs concatenated in order equal one full forward; train mode restored; no graph', () => {
    const { x } = blobs(37);
    const model = new nn.Sequential(new nn.Linear(2, 5), new nn.Dropout(0.5), new nn.Linear(5, 3));
    model.train();
    const out = predict(model, x, { batchSize: 8 });
    expect(out.shape).toEqual([37, 3]);
    expect(out.requiresGrad).toBe(false);
    expect(model.training).toBe(true);
    model.eval();
    const full = model.forward(x);
    expect(Array.from(out.data)).toEqual(Array.from(full.data));
    expect(Array.from(model.predict({ data: x.data, shape: [37, 2] }, { batchSize: 100 }).data)).toEqual(Array.from(full.data));
  });

  test('predict recycles built-in models\' buffers between batches without mixing batches; a user module keeps its tensors', () => {
    manualSeed(5);
    const rows = 203; // batches of 64, 64, 64, 11: every layer output of a full batch is >= 16 KiB
    const x = new Tensor(Float32Array.from({ length: rows * 40 }, (_, i) => Math.sin(i * 0.37)), [rows, 40]);
    const model = new nn.Sequential(new nn.Linear(40, 96), new nn.ReLU(), new nn.Linear(96, 80), new nn.Tanh(), new nn.Linear(80, 70));
    const out = predict(model, x, { batchSize: 64 });
    model.eval();
    const want = model.forward(x); // one batch, no recycling
    expect(Array.from(out.data)).toEqual(Array.from(want.data));
    expect(Array.from(predict(model, x, { batchSize: 64 }).data)).toEqual(Array.from(want.data)); // and again

    class Keeper extends nn.Module {
      readonly kept: Tensor[] = [];
      constructor(readonly inner: nn.Module) { super(); }
      forward(t: Tensor): Tensor {
        const y = this.inner.forward(t);
        this.kept.push(y);
        return y;
      }
    }
    const keeper = new Keeper(model);
    predict(keeper, x, { batchSize: 64 });
    const keptRows = keeper.kept.flatMap((t) => Array.from(t.data));
    expect(keptRows).toEqual(Array.from(want.data)); // every batch's output intact after later batches
  });

  test('evaluate restores train mode even when the loss throws', () => {
    const { x } = blobs(8);
    const model = classifier();
    model.train();
    const badTargets = new Tensor(new Int32Array(8).fill(5), [8]); // class 5 of 2
    expect(() => evaluate(model, [x, badTargets], { loss: 'crossEntropy' })).toThrow(/crossEntropy: target class 5/);
    expect(model.training).toBe(true);
    expect(() => evaluate(model, [x, badTargets], {})).toThrow(/evaluate: nothing to compute/);
    expect(() => predict(model, x, { batchSize: 0 })).toThrow(/predict: batchSize must be an integer >= 1, got 0/);
  });
});
