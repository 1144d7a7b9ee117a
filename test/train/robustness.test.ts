// fit under stress: NaN/Inf loss, concurrent fits, event-loop responsiveness, bad options.
import { describe, expect, test } from 'vitest';
import { Dataset, DataLoader } from '../../lib/data/dataset.js';
import * as losses from '../../lib/losses/index.js';
import * as nn from '../../lib/nn/index.js';
import { ReduceLROnPlateau, SGD } from '../../lib/optim/index.js';
import { manualSeed } from '../../lib/random.js';
import { Tensor } from '../../lib/tensor.js';
import { fit, type FitOptions } from '../../lib/train/index.js';
import { blobs, classifier, linearTargets, untyped, weights } from './helpers.js';

const { x, y } = blobs(32);
const xy = [x, y] as const;

describe('non-finite loss', () => {
  for (const bad of [NaN, Infinity]) {
    test(`a ${bad} loss at the 7th batch rejects naming epoch 2/5, step 3/4; the weights are those before that step`, async () => {
      const model = classifier();
      let calls = 0;
      const lossFn = (p: Tensor, t: Tensor) => {
        calls++;
        const l = losses.crossEntropy(p, t);
        return calls === 7 ? l.mul(bad) : l;
      };
      let before: number[][] = [];
      const run = fit(model, xy, {
        epochs: 5, batchSize: 8, loss: lossFn, verbose: 0, shuffle: false,
        callbacks: [{ onBatchEnd: () => { before = weights(model); } }],
      });
      await expect(run).rejects.toThrow(new RegExp(`^fit: the loss is ${bad} at epoch 2/5, step 3/4; training stopped`));
      expect(weights(model)).toEqual(before);
      // The model is free again.
      await expect(fit(model, xy, { loss: 'crossEntropy', verbose: 0 })).resolves.toBeDefined();
    });
  }

  test('a diverging SGD run (lr 1e6) is stopped with the epoch and step, not trained on silently', async () => {
    const model = new nn.Linear(2, 1);
    const data = linearTargets(64);
    const run = fit(model, data, { epochs: 50, batchSize: 8, loss: 'mse', optimizer: new SGD(model.parameters(), { lr: 1e6 }), verbose: 0 });
    await expect(run).rejects.toThrow(/^fit: the loss is (NaN|Infinity) at epoch \d+\/50, step \d\/8/);
  });
});

describe('one fit per model', () => {
  test('a second concurrent fit on the same model is refused, naming the model; other models train meanwhile', async () => {
    const model = classifier();
    const first = fit(model, xy, { epochs: 3, batchSize: 4, loss: 'crossEntropy', verbose: 0 });
    await expect(fit(model, xy, { loss: 'crossEntropy', verbose: 0 })).rejects.toThrow(
      /^fit: model Sequential is already being trained by another fit\(\) call; await it/,
    );
    await expect(model.fit(xy, { loss: 'crossEntropy', verbose: 0 })).rejects.toThrow(/already being trained/);
    const other = fit(classifier(), xy, { epochs: 3, batchSize: 4, loss: 'crossEntropy', verbose: 0 });
    const [h1, h2] = await Promise.all([first, other]);
    expect(h1.epoch).toEqual([0, 1, 2]);
    expect(h2.epoch).toEqual([0, 1, 2]);
    await expect(fit(model, xy, { loss: 'crossEntropy', verbose: 0 })).resolves.toBeDefined();
  });

  test('a model sharing parameters with one in training is refused too (an encoder inside the fitted model)', async () => {
    const encoder = new nn.Linear(2, 8);
    const full = new nn.Sequential(encoder, new nn.ReLU(), new nn.Linear(8, 2));
    const first = fit(full, xy, { epochs: 2, batchSize: 8, loss: 'crossEntropy', verbose: 0 });
    await expect(fit(encoder, [x, new Tensor(new Float32Array(32 * 8), [32, 8])], { loss: 'mse', verbose: 0 })).rejects.toThrow(
      /^fit: model Linear shares parameters with model Sequential, which another fit\(\) call is training/,
    );
    await first;
    await expect(fit(encoder, [x, new Tensor(new Float32Array(32 * 8), [32, 8])], { loss: 'mse', verbose: 0 })).resolves.toBeDefined();
  });

  test("a model with a name field is named by it: 'encoder' (Net)", async () => {
    class Net extends nn.Module {
      name = 'encoder';
      fc = new nn.Linear(2, 2);
      forward(t: Tensor): Tensor {
        return this.fc.forward(t);
      }
    }
    const model = new Net();
    const first = fit(model, xy, { epochs: 2, loss: 'crossEntropy', verbose: 0 });
    await expect(fit(model, xy, { loss: 'crossEntropy', verbose: 0 })).rejects.toThrow(/fit: model 'encoder' \(Net\) is already being trained/);
    await first;
  });
});

describe('event loop', () => {
  test('a 2 ms setInterval keeps firing while fit runs (batch size 1, thousands of steps)', async () => {
    manualSeed(13);
    const big = blobs(3000);
    const model = classifier();
    const ticks: number[] = [];
    const timer = setInterval(() => ticks.push(performance.now()), 2);
    const started = performance.now();
    await fit(model, [big.x, big.y], { epochs: 1, batchSize: 1, loss: 'crossEntropy', verbose: 0 });
    const elapsed = performance.now() - started;
    clearInterval(timer);
    const during = ticks.filter((t) => t <= started + elapsed);
    let maxGap = 0;
    for (let i = 1; i < during.length; i++) maxGap = Math.max(maxGap, during[i] - during[i - 1]);
    // A loop that never yielded would give 0 ticks. Lenient bounds: the machine is shared.
    expect(elapsed).toBeGreaterThan(20);
    expect(during.length).toBeGreaterThanOrEqual(Math.min(10, Math.floor(elapsed / 20)));
    expect(maxGap).toBeLessThan(Math.max(100, elapsed / 4));
  });
});

describe('bad options are rejected before training, naming fit: and the bad value', () => {
  const base: FitOptions = { loss: 'crossEntropy', verbose: 0 };
  const cases: [string, () => Promise<unknown>, RegExp][] = [
    ['epochs 0', () => fit(classifier(), xy, { ...base, epochs: 0 }), /^fit: epochs must be an integer >= 1, got 0$/],
    ['epochs 2.5', () => fit(classifier(), xy, { ...base, epochs: 2.5 }), /^fit: epochs must be an integer >= 1, got 2.5$/],
    ['batchSize -1', () => fit(classifier(), xy, { ...base, batchSize: -1 }), /^fit: batchSize must be an integer >= 1, got -1$/],
    ["batchSize '32'", () => fit(classifier(), xy, { ...base, batchSize: untyped<number>('32') }), /^fit: batchSize must be an integer >= 1, got "32"$/],
    ['loss missing', () => fit(classifier(), xy, untyped<FitOptions>({ epochs: 1 })), /^fit: options.loss is required/],
    ["loss 'mse2'", () => fit(classifier(), xy, { ...base, loss: untyped<'mse'>('mse2') }), /^fit: loss must be a function or one of mse, .*, got "mse2"$/],
    ["metric 'acuracy'", () => fit(classifier(), xy, { ...base, metrics: ['acuracy'] }), /^fit: unknown metric "acuracy"; known: accuracy/],
    ['metric used twice', () => fit(classifier(), xy, { ...base, metrics: ['mse', 'mse'] }), /^fit: metric name "mse" is reserved or used twice$/],
    ["optimizer 'adamm'", () => fit(classifier(), xy, { ...base, optimizer: untyped<'adam'>('adamm') }), /^fit: optimizer must be an optimizer instance or one of sgd, adam, .*, got "adamm"$/],
    ['lr -1', () => fit(classifier(), xy, { ...base, lr: -1 }), /^fit: lr must be a finite number > 0, got -1$/],
    ['optimizer of another model', () => fit(classifier(), xy, { ...base, optimizer: new SGD(classifier().parameters()) }), /^fit: the optimizer holds none of the model's parameters/],
    ['validationSplit 1.5', () => fit(classifier(), xy, { ...base, validationSplit: 1.5 }), /^fit: validationSplit must be a fraction in \(0, 1\), got 1.5$/],
    ['validationSplit and validationData', () => fit(classifier(), xy, { ...base, validationSplit: 0.2, validationData: xy }), /^fit: give validationData or validationSplit, not both$/],
    ['verbose 3', () => fit(classifier(), xy, { ...base, verbose: untyped<0>(3) }), /^fit: verbose must be 0, 1 or 2, got 3$/],
    ["shuffle 'yes'", () => fit(classifier(), xy, { ...base, shuffle: untyped<boolean>('yes') }), /^fit: shuffle must be true or false, got "yes"$/],
    ['unknown option batch_size', () => fit(classifier(), xy, untyped<FitOptions>({ ...base, batch_size: 8 })), /^fit: unknown option "batch_size"; known options: epochs, batchSize/],
    ['x and y of different lengths', () => fit(classifier(), [x, y.slice([0], [10])], base), /^fit: data: Dataset: x has 32 samples \(shape \[32,2\]\) but y has 10/],
    ['no targets', () => fit(classifier(), new Dataset(x), base), /^fit: data has no targets/],
    ['data of the wrong kind', () => fit(classifier(), untyped<Dataset>('data.csv'), base), /^fit: data must be a Dataset, a DataLoader, \[x, y\] or \{ x, y \}, got "data.csv"$/],
    ['batchSize with a DataLoader', () => fit(classifier(), new DataLoader(new Dataset(x, y)), { ...base, batchSize: 8 }), /^fit: batchSize cannot be set when data is a DataLoader .*, got 8$/],
    ['model not a Module', () => fit(untyped<nn.Module>({}), xy, base), /^fit: model must be an nn.Module, got object$/],
    ['options null', () => fit(classifier(), xy, untyped<FitOptions>(null)), /^fit: options must be an object with at least \{ loss \}, got null$/],
    ['output without write()', () => fit(classifier(), xy, { ...base, output: untyped<{ write: () => void }>({}) }), /^fit: output must be a stream with write\(text\), got Object$/],
    ["schedulerMonitor 'val_loss' with schedulerInterval 'batch'", () => {
      const model = classifier();
      const opt = new SGD(model.parameters());
      return fit(model, xy, { ...base, optimizer: opt, scheduler: new ReduceLROnPlateau(opt), schedulerInterval: 'batch', schedulerMonitor: 'val_loss' });
    }, /^fit: with schedulerInterval 'batch' the scheduler can only watch the batch 'loss', got schedulerMonitor "val_loss"$/],
    ['loss returning a vector', () => fit(classifier(), xy, { ...base, loss: (p, t) => losses.crossEntropy(p, t, { reduction: 'none' }) }), /^fit: the loss must return a one-element tensor .*, got shape \[32\]$/],
  ];
  test.each(cases)('%s', async (_name, run, message) => {
    await expect(run()).rejects.toThrow(message);
  });

  test('a rejected fit leaves the model free and its weights untouched', async () => {
    const model = classifier();
    const w = weights(model);
    await expect(fit(model, xy, { ...base, epochs: 0 })).rejects.toThrow();
    expect(weights(model)).toEqual(w);
    await expect(fit(model, xy, { ...base, epochs: 1 })).resolves.toBeDefined();
  });
});
