// fit's recorded training step (lib/train/native-step.ts): once verified, batches replay one recorded
// kernel plan instead of the JS autograd step. It must give exactly the JS step's results, step aside
// whenever the recording no longer describes the step, and never crash on bad data.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { backendInfo, getBackend, setBackend, setNumThreads } from '../../lib/backend/index.js';
import { crossEntropy } from '../../lib/losses/index.js';
import * as nn from '../../lib/nn/index.js';
import { Adam, SGD } from '../../lib/optim/index.js';
import { Generator, globalGenerator, manualSeed } from '../../lib/random.js';
import { Tensor } from '../../lib/tensor.js';
import { fit, type FitOptions } from '../../lib/train/index.js';
import type { Callback } from '../../lib/train/callbacks.js';

const native = getBackend().name === 'native';

afterEach(() => {
  setBackend(native ? 'native' : 'reference');
});

/** n images 6x6x2 (NHWC) with labels in [0, classes). */
function images(n: number, classes = 3, seed = 5): { x: Tensor; y: Tensor } {
  const g = new Generator(seed);
  const x = new Float32Array(n * 6 * 6 * 2);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % classes;
    for (let j = 0; j < 72; j++) x[i * 72 + j] = g.normal(y[i] * 0.3, 1);
  }
  return { x: new Tensor(x, [n, 6, 6, 2]), y: new Tensor(y, [n]) };
}

const mlp = () => new nn.Sequential(new nn.Flatten(), new nn.Linear(72, 24), new nn.ReLU(), new nn.Linear(24, 16), new nn.ReLU(), new nn.Linear(16, 3));
const cnn = () => new nn.Sequential(
  new nn.Conv2d(2, 4, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
  new nn.Conv2d(4, 5, 3, { padding: 1 }), new nn.ReLU(), new nn.AvgPool2d(3), new nn.Flatten(), new nn.Linear(5, 3),
);

/** fit from seed 9 twice, with and without the recorded step; returns both models and histories. */
async function both(make: () => nn.Module, data: { x: Tensor; y: Tensor }, options: Partial<FitOptions>, callbacks: () => Callback[] = () => []) {
  const run = async (nativeStep: boolean) => {
    manualSeed(9);
    const model = make();
    const history = await fit(model, [data.x, data.y], {
      epochs: 3, batchSize: 8, loss: 'crossEntropy', metrics: ['accuracy'], verbose: 0,
      optimizer: new Adam(model.parameters(), { lr: 0.01 }), ...options, callbacks: callbacks(), nativeStep,
    } as FitOptions);
    return { model, history };
  };
  return { replayed: await run(true), js: await run(false) };
}

function expectSameWeights(a: nn.Module, b: nn.Module): void {
  const pa = a.parameters();
  const pb = b.parameters();
  expect(pa.length).toBe(pb.length);
  pa.forEach((p, i) => {
    const wa = new Uint32Array(p.data.buffer, p.data.byteOffset, p.data.length);
    const wb = new Uint32Array(pb[i].data.buffer, pb[i].data.byteOffset, pb[i].data.length);
    const at = wa.findIndex((v, j) => v !== wb[j]);
    if (at >= 0) throw new Error(`parameter ${i} (shape [${p.shape.join(',')}]) differs at index ${at}: replayed ${p.data[at]}, JS ${pb[i].data[at]}`);
  });
}

/** Runs a describe block's tests with `threads` pool threads (restored after). */
function withThreads(threads: number): void {
  let before = 1;
  beforeAll(() => {
    before = backendInfo().numThreads;
    setNumThreads(threads);
  });
  afterAll(() => setNumThreads(before));
}

// With 2+ threads, fit records a second plan after the first (two more JS steps: record, verify) and
// then gathers each batch a step ahead; so with 2 threads the first 5 full batches run JS.
describe.runIf(native)('fit replays a recorded step, bit-identical to the JS step', () => {
  withThreads(2);

  test('MLP, 4 epochs of 5 batches (the last one smaller): every full batch after the fifth is replayed', async () => {
    const data = images(37); // batches 8,8,8,8,5 per epoch
    const { replayed, js } = await both(mlp, data, { epochs: 4 });
    expectSameWeights(replayed.model, js.model);
    expect(replayed.history.history).toEqual(js.history.history);
    // 4 full batches per epoch: the first five steps warm up, record and verify two plans; epoch-end
    // batches run JS.
    expect(replayed.history.replayedSteps).toBe(4 * 4 - 5);
    // A replay gathers the next batch when it is a full one of the same epoch: batches 3 and 4 of epoch
    // 2 (batch 1 is the second plan's verification), then 2, 3 and 4 of epochs 3 and 4.
    expect(replayed.history.gatheredAhead).toBe(2 + 3 + 3);
    expect(replayed.history.replayNote).toBe('');
    expect(js.history.replayedSteps).toBe(0);
    expect(js.history.replayNote).toMatch(/nativeStep option/);
  });

  test('with 1 thread: one recorded step, no second plan, nothing gathered ahead; same bits', async () => {
    const data = images(37);
    setNumThreads(1);
    try {
      const { replayed, js } = await both(mlp, data, { epochs: 3 });
      expectSameWeights(replayed.model, js.model);
      expect(replayed.history.history).toEqual(js.history.history);
      expect(replayed.history.replayedSteps).toBe(3 * 4 - 3);
      expect(replayed.history.gatheredAhead).toBe(0);
    } finally {
      setNumThreads(2);
    }
  });

  test('shuffled batches gathered ahead are the batches the JS step trains on (same bits, 2 threads)', async () => {
    const data = images(64);
    const { replayed, js } = await both(mlp, data, { epochs: 3, shuffle: true });
    expectSameWeights(replayed.model, js.model);
    expect(replayed.history.history).toEqual(js.history.history);
    expect(replayed.history.replayedSteps).toBe(3 * 8 - 5);
    expect(replayed.history.gatheredAhead).toBeGreaterThan(10);
  });

  test('an epoch of one full and one short batch: the step is recorded on a full batch, and only full ones replay', async () => {
    const data = images(12); // batches of 8 and 4
    const { replayed, js } = await both(mlp, data, { epochs: 6 });
    expectSameWeights(replayed.model, js.model);
    // warmup (epoch 1), record and verify two plans (epochs 2-5), replay (epoch 6): the short batches
    // run JS, and none is gathered ahead (each full batch's next one is short).
    expect(replayed.history.replayedSteps).toBe(1);
    expect(replayed.history.gatheredAhead).toBe(0);
  });

  test('CNN (conv with padding, max and average pooling, conv bias gradients) and SGD with momentum', async () => {
    const data = images(32);
    const run = async (nativeStep: boolean) => {
      manualSeed(9);
      const model = cnn();
      const history = await fit(model, [data.x, data.y], {
        epochs: 2, batchSize: 8, loss: 'crossEntropy', verbose: 0, nativeStep,
        optimizer: new SGD(model.parameters(), { lr: 0.05, momentum: 0.9 }),
      });
      return { model, history };
    };
    const a = await run(true);
    const b = await run(false);
    expectSameWeights(a.model, b.model);
    expect(a.history.replayedSteps).toBe(2 * 4 - 5);
    expect(a.history.gatheredAhead).toBe(2);
    expect(a.history.history).toEqual(b.history.history);
  });

  test('a callback that freezes a layer, and one that swaps weights in, mid-epoch: the step is recorded again, results unchanged', async () => {
    const data = images(64);
    const callbacks = (): Callback[] => {
      let batches = 0;
      return [{
        onBatchEnd(_step, _logs, ctx) {
          batches++;
          const params = ctx.model.parameters();
          if (batches === 6) params[0].requiresGrad = false; // freeze the first layer's weight
          if (batches === 12) params[2].data = params[2].data.map((v) => v * 0.5); // a new array: relinked by the optimizer
          if (batches === 18) ctx.model.eval().train(); // modes toggled back: still the same step
        },
      }];
    };
    const { replayed, js } = await both(mlp, data, { epochs: 3 }, callbacks);
    expectSameWeights(replayed.model, js.model);
    expect(replayed.history.history).toEqual(js.history.history);
    expect(replayed.history.replayedSteps).toBeGreaterThan(0);
    expect(replayed.history.replayedSteps).toBeLessThan(3 * 8 - 5); // the changes cost JS steps (re-recording)
  });

  test('dropout: each replay draws its masks\' seeds as the JS step would (same masks, same weights, same generator stream after)', async () => {
    const data = images(40);
    const make = () => new nn.Sequential(new nn.Flatten(), new nn.Linear(72, 16), new nn.ReLU(), new nn.Dropout(0.3), new nn.Linear(16, 8), new nn.Dropout(0.5), new nn.Linear(8, 3));
    const after: number[] = [];
    const callbacks = (): Callback[] => [{ onTrainEnd: () => { after.push(new Generator(0).uniform() + globalGenerator.uniform()); } }];
    const { replayed, js } = await both(make, data, { epochs: 3 }, callbacks);
    expectSameWeights(replayed.model, js.model);
    expect(replayed.history.history).toEqual(js.history.history);
    expect(replayed.history.replayedSteps).toBe(3 * 5 - 5);
    expect(after[0]).toBe(after[1]); // the global generator was left where the JS step leaves it
  });

  test('residual connections: the gradient of a tensor used twice is summed by a kernel, so it replays', async () => {
    const data = images(40);
    const make = () => new nn.Sequential(
      new nn.Flatten(), new nn.Linear(72, 16), new nn.ReLU(),
      new nn.Residual(new nn.Sequential(new nn.Linear(16, 16), new nn.ReLU(), new nn.Linear(16, 16))), new nn.Linear(16, 3),
    );
    const { replayed, js } = await both(make, data, { epochs: 3 });
    expectSameWeights(replayed.model, js.model);
    expect(replayed.history.history).toEqual(js.history.history);
    expect(replayed.history.replayedSteps).toBe(3 * 5 - 5);
  });

  test('batch norm in training (1d and 2d): running statistics updated by the replay as by the JS step, bit for bit', async () => {
    const data = images(40);
    const make = () => new nn.Sequential(
      new nn.Conv2d(2, 4, 3, { padding: 1 }), new nn.BatchNorm2d(4), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Flatten(), new nn.Linear(36, 12), new nn.BatchNorm1d(12, { momentum: 0.3 }), new nn.ReLU(), new nn.Linear(12, 3),
    );
    const { replayed, js } = await both(make, data, { epochs: 3 });
    expectSameWeights(replayed.model, js.model);
    const buffers = (m: nn.Module) => m.namedBuffers().map(([name, t]) => [name, Array.from(new Uint32Array(t.data.buffer, t.data.byteOffset, t.size))]);
    expect(buffers(replayed.model)).toEqual(buffers(js.model));
    expect(buffers(replayed.model).length).toBe(4);
    expect(replayed.history.history).toEqual(js.history.history);
    expect(replayed.history.replayedSteps).toBe(3 * 5 - 5);
  });

  test('a callback that gives batch norm a new running-mean tensor mid-epoch: the replay notices', async () => {
    const data = images(40);
    const make = () => new nn.Sequential(new nn.Flatten(), new nn.Linear(72, 12), new nn.BatchNorm1d(12), new nn.ReLU(), new nn.Linear(12, 3));
    const callbacks = (): Callback[] => {
      let batches = 0;
      return [{
        onBatchEnd(_step, _logs, ctx) {
          const bn = (ctx.model as nn.Sequential).layers[2] as nn.BatchNorm1d;
          if (++batches === 7) bn.runningMean = new Tensor(bn.runningMean!.data.slice(), [12]);
        },
      }];
    };
    const { replayed, js } = await both(make, data, { epochs: 3 }, callbacks);
    expectSameWeights(replayed.model, js.model);
    const buffers = (m: nn.Module) => m.namedBuffers().map(([name, t]) => [name, Array.from(t.data)]);
    expect(buffers(replayed.model)).toEqual(buffers(js.model));
    expect(replayed.history.replayedSteps).toBeGreaterThan(0);
    expect(replayed.history.replayedSteps).toBeLessThan(3 * 5 - 5);
  });

  test('a callback that changes a dropout rate mid-epoch: the replay notices (configuration re-checked after user hooks)', async () => {
    const data = images(40);
    const make = () => new nn.Sequential(new nn.Flatten(), new nn.Linear(72, 16), new nn.ReLU(), new nn.Dropout(0.3), new nn.Linear(16, 3));
    const callbacks = (): Callback[] => {
      let batches = 0;
      return [{
        onBatchEnd(_step, _logs, ctx) {
          // p is readonly in the types; plain JS (or a cast) can still change it.
          if (++batches === 7) ((ctx.model as nn.Sequential).layers[3] as unknown as { p: number }).p = 0.6;
        },
      }];
    };
    const { replayed, js } = await both(make, data, { epochs: 3 }, callbacks);
    expectSameWeights(replayed.model, js.model);
    expect(replayed.history.replayedSteps).toBeGreaterThan(0);
    expect(replayed.history.replayedSteps).toBeLessThan(3 * 5 - 5);
  });

  test("a named loss that reads the labels in JS (nll's one-hot mask) keeps the JS step, with no error", async () => {
    const data = images(40);
    const make = () => new nn.Sequential(new nn.Flatten(), new nn.Linear(72, 16), new nn.ReLU(), new nn.Linear(16, 3), new nn.LogSoftmax());
    const { replayed, js } = await both(make, data, { loss: 'nll' });
    expectSameWeights(replayed.model, js.model);
    expect(replayed.history.replayedSteps).toBe(0);
    expect(replayed.history.replayNote).toMatch(/does not read the batch's x and y through kernels/);
  });

  test('a loss given as a function keeps the JS step (user code could have side effects)', async () => {
    const data = images(24);
    let calls = 0;
    const { replayed } = await both(mlp, data, {
      loss: (p: Tensor, t: Tensor) => {
        calls++;
        return crossEntropy(p, t);
      },
    });
    expect(replayed.history.replayedSteps).toBe(0);
    expect(replayed.history.replayNote).toMatch(/loss is a function/);
    expect(calls).toBeGreaterThan(0);
  });

  test('the reference backend keeps the JS step', async () => {
    setBackend('reference');
    const data = images(16);
    manualSeed(9);
    const model = mlp();
    const history = await fit(model, [data.x, data.y], { epochs: 2, batchSize: 4, loss: 'crossEntropy', verbose: 0 });
    expect(history.replayedSteps).toBe(0);
    expect(history.replayNote).toMatch(/backend is not native/);
  });
});

describe.runIf(native)('fit with a recorded step still rejects bad data cleanly', () => {
  test('a label out of range in a replayed batch: fit rejects naming the kernel and the class; the weights keep their last values', async () => {
    const data = images(48);
    (data.y.data as Int32Array)[40] = 7; // in the 6th batch without shuffling: replayed by then
    manualSeed(9);
    const model = mlp();
    const seen: number[][] = [];
    const run = fit(model, [data.x, data.y], {
      epochs: 1, batchSize: 8, shuffle: false, loss: 'crossEntropy', verbose: 0,
      callbacks: [{ onBatchEnd: () => { seen.push(Array.from(model.parameters()[0].data)); } }],
    });
    await expect(run).rejects.toThrow(/target\[0\] = 7 is not a class index in \[0, 3\)/);
    expect(seen).toHaveLength(5);
    expect(Array.from(model.parameters()[0].data)).toEqual(seen[4]);
  });

  test('a NaN input in a replayed batch: the same message as the JS step names epoch and step', async () => {
    const data = images(48);
    (data.x.data as Float32Array)[45 * 72 + 3] = NaN; // the 6th batch
    const message = async (nativeStep: boolean) => {
      manualSeed(9);
      const model = mlp();
      try {
        await fit(model, [data.x, data.y], { epochs: 1, batchSize: 8, shuffle: false, loss: 'crossEntropy', verbose: 0, nativeStep });
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    const replayed = await message(true);
    expect(replayed).toMatch(/^fit: the loss is NaN at epoch 1\/1, step 6\/6/);
    expect(replayed).toBe(await message(false));
  });

  test('a label out of range in a batch gathered ahead (2 threads): rejected by the replay that reads it, as any other', async () => {
    const data = images(80);
    (data.y.data as Int32Array)[60] = 9; // batch 8: gathered by batch 7's replay, replayed next
    manualSeed(9);
    const model = mlp();
    const before = backendInfo().numThreads;
    setNumThreads(2);
    let history = null;
    try {
      const run = fit(model, [data.x, data.y], {
        epochs: 1, batchSize: 8, shuffle: false, loss: 'crossEntropy', verbose: 0,
        callbacks: [{ onBatchEnd: (step) => { if (step === 6) history = 'batch 7 done'; } }],
      });
      await expect(run).rejects.toThrow(/target\[4\] = 9 is not a class index in \[0, 3\)/);
    } finally {
      setNumThreads(before);
    }
    expect(history).toBe('batch 7 done');
  });

  test('nativeStep must be a boolean', async () => {
    const data = images(8);
    await expect(fit(mlp(), [data.x, data.y], { epochs: 1, loss: 'crossEntropy', verbose: 0, nativeStep: 'yes' as never })).rejects.toThrow(/^fit: nativeStep must be true or false/);
  });
});
