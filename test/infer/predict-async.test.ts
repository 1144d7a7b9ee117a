// predictAsync: batched inference off the JS thread, as a native kernel plan on a libuv thread
// (runner 'native', the default for built-in models) or on worker_threads (runner 'workers', which run
// the built package in dist/, rebuilt by `npm test`). Results must equal the same batched forward on
// this thread bit for bit; the event loop must keep running meanwhile; calls run concurrently, from
// workers too; errors keep their text.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, test } from 'vitest';
import { getBackend, setBackend } from '../../lib/backend/index.js';
import { PredictPool, forwardInBatches, predictAsync } from '../../lib/infer/index.js';
import * as io from '../../lib/io/index.js';
import * as nn from '../../lib/nn/index.js';
import { manualSeed } from '../../lib/random.js';
import { Tensor } from '../../lib/tensor.js';
import { bits, randomInput, randomize, tempDir } from '../io/helpers.js';

const root = join(__dirname, '..', '..');
const entry = join(root, 'dist', 'cjs', 'index.js');

function mlp(): nn.Sequential {
  manualSeed(1);
  return new nn.Sequential(
    new nn.Linear(12, 32), new nn.ReLU(), new nn.BatchNorm1d(32), new nn.Dropout(0.5),
    new nn.Linear(32, 16), new nn.Tanh(), new nn.Linear(16, 3), new nn.LogSoftmax(),
  );
}

function cnn(): nn.Sequential {
  manualSeed(2);
  return new nn.Sequential(
    new nn.Conv2d(2, 6, 3, { padding: 'same' }), new nn.BatchNorm2d(6), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Residual(new nn.Sequential(new nn.Conv2d(6, 6, 3, { padding: 1 }), new nn.ELU())),
    new nn.GlobalAvgPool2d(), new nn.Linear(6, 4),
  );
}

/** The synchronous reference: the same batches through the model in eval mode on this thread. */
function syncForward(model: nn.Module, x: Tensor, batchSize: number): Tensor {
  const wasTraining = model.training;
  model.eval();
  try {
    return forwardInBatches(model, x, batchSize);
  } finally {
    model.train(wasTraining);
  }
}

const pools: PredictPool[] = [];
function pool(options: ConstructorParameters<typeof PredictPool>[0] = {}): PredictPool {
  const p = new PredictPool(options);
  pools.push(p);
  return p;
}
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

describe('predictAsync', () => {
  const cases: [string, () => nn.Sequential, number[], number][] = [
    ['MLP with batch norm and dropout, N=37 batch=8', mlp, [37, 12], 8],
    ['CNN with residual, N=10 batch=3', cnn, [10, 8, 8, 2], 3],
    ['MLP, one batch bigger than N', mlp, [5, 12], 64],
  ];
  test.each(cases.flatMap(([name, make, shape, batchSize]) => (['native', 'workers'] as const).map((runner) => [`${name}, runner ${runner}`, make, shape, batchSize, runner] as const)))(
    '%s: equals the synchronous batched forward bit for bit', async (_name, make, shape, batchSize, runner) => {
    const model = make();
    randomize(model, 4); // includes running statistics, so eval mode matters
    const x = randomInput([...shape], 5);
    const y = await predictAsync(model, x, { batchSize, runner });
    expect(model.training).toBe(true); // the caller's model is not switched to eval
    const ref = syncForward(model, x, batchSize);
    expect(y.shape).toEqual(ref.shape);
    expect(bits(y)).toEqual(bits(ref));
  });

  test('a loaded model gives the same predictions as the original', async () => {
    const model = cnn();
    randomize(model, 8);
    const dir = tempDir();
    io.save(model, dir);
    const x = randomInput([6, 8, 8, 2], 9);
    const [a, b] = await Promise.all([predictAsync(model, x, { batchSize: 4 }), predictAsync(io.load(dir).model, x, { batchSize: 4 })]);
    expect(bits(b)).toEqual(bits(a));
  });

  test('the model is sent once per worker and resent after its weights change', async () => {
    const p = pool({ size: 1 });
    const model = mlp();
    const x = randomInput([9, 12], 1);
    await p.predict(model, x, { batchSize: 4 });
    await p.predict(model, x, { batchSize: 4 });
    expect(p.stats).toEqual({ calls: 2, modelsSent: 1 });
    model.at(0).parameters()[0].data[3] += 1; // any weight change is a new model version
    const y = await p.predict(model, x, { batchSize: 4 });
    expect(p.stats.modelsSent).toBe(2);
    expect(bits(y)).toEqual(bits(syncForward(model, x, 4)));
  });

  test('the model is snapshotted at the call: later edits do not leak into a call in flight', async () => {
    const p = pool({ size: 1 });
    const model = mlp();
    const x = randomInput([16, 12], 2);
    const before = syncForward(model, x, 16);
    const pending = p.predict(model, x, { batchSize: 16 });
    for (const q of model.parameters()) q.data.fill(0);
    expect(bits(await pending)).toEqual(bits(before));
  });

  test('two concurrent calls (different models, same model) each equal their synchronous result', async () => {
    const a = mlp();
    const b = cnn();
    randomize(b, 3);
    const xa = randomInput([50, 12], 6);
    const xb = randomInput([12, 8, 8, 2], 7);
    const p = pool({ size: 2 });
    const [ya, yb, ya2] = await Promise.all([
      p.predict(a, xa, { batchSize: 7 }), p.predict(b, xb, { batchSize: 5 }), p.predict(a, xa, { batchSize: 7 }),
    ]);
    expect(p.liveWorkers).toBe(2);
    expect(bits(ya)).toEqual(bits(syncForward(a, xa, 7)));
    expect(bits(ya2)).toEqual(bits(ya));
    expect(bits(yb)).toEqual(bits(syncForward(b, xb, 5)));
  });

  test.each(['native', 'workers'] as const)('the event loop keeps ticking during a long predictAsync (runner %s)', async (runner) => {
    manualSeed(3);
    const layers: nn.Module[] = [new nn.Linear(256, 512), new nn.ReLU()];
    for (let i = 0; i < 5; i++) layers.push(new nn.Linear(512, 512), new nn.ReLU());
    const model = new nn.Sequential(...layers, new nn.Linear(512, 4));
    const x = randomInput([6000, 256], 1);
    const p = pool({ size: 1 });
    const run = (input: Tensor, batchSize: number) => (runner === 'workers' ? p.predict(model, input, { batchSize }) : predictAsync(model, input, { batchSize, runner }));
    await run(x.slice([0, 0], [1000, 256]), 500); // warm up (worker start and model, or plan recording)
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const t0 = performance.now();
    const y = await run(x, 500);
    const elapsed = performance.now() - t0;
    clearInterval(timer);
    expect(y.shape).toEqual([6000, 4]);
    // A blocked loop would tick at most once; a free one about elapsed/5 times (loose: shared CPU).
    expect(elapsed).toBeGreaterThan(30);
    expect(ticks).toBeGreaterThanOrEqual(Math.max(3, Math.floor((elapsed / 5) * 0.3)));
  });

  test('runs on the caller\'s backend: reference in, reference out', async () => {
    const previous = getBackend().name;
    setBackend('reference');
    try {
      const model = mlp();
      const x = randomInput([7, 12], 3);
      const y = await pool({ size: 1 }).predict(model, x, { batchSize: 3 });
      expect(bits(y)).toEqual(bits(syncForward(model, x, 3)));
    } finally {
      setBackend(previous);
    }
  });

  test('an error inside the worker rejects with the original class and message', async () => {
    const model = new nn.Sequential(new nn.Linear(5, 3));
    const x = randomInput([4, 6], 1);
    let syncError: Error | undefined;
    try {
      syncForward(model, x, 2);
    } catch (e) {
      syncError = e as Error;
    }
    expect(syncError).toBeDefined();
    const err = await predictAsync(model, x, { batchSize: 2, runner: 'workers' }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(syncError!.constructor);
    expect((err as Error).message).toBe(syncError!.message);
    expect((err as Error).stack).toContain('--- in the predictAsync worker ---');
    // The native path meets the error while recording the plan, on this thread.
    const native = await predictAsync(model, x, { batchSize: 2, runner: 'native' }).catch((e: Error) => e);
    expect(native).toBeInstanceOf(syncError!.constructor);
    expect((native as Error).message).toBe(syncError!.message);
  });

  test('runner native: user modules and the reference backend are refused with the reason; auto falls back to workers', async () => {
    class Half extends nn.Module {
      forward(x: Tensor) {
        return x.mul(0.5);
      }
    }
    io.registerModule('test.Half', { type: Half, toConfig: () => ({}), fromConfig: () => new Half() });
    const model = new nn.Sequential(new nn.Linear(3, 2), new Half());
    const x = randomInput([5, 3], 1);
    await expect(predictAsync(model, x, { runner: 'native' })).rejects.toThrow(/^predictAsync: runner 'native' is not available: the model contains non-built-in module classes/);
    const previous = getBackend().name;
    setBackend('reference');
    try {
      await expect(predictAsync(mlp(), randomInput([3, 12], 1), { runner: 'native' })).rejects.toThrow(/the active backend is not native/);
    } finally {
      setBackend(previous);
    }
    await expect(predictAsync(model, x, { runner: 'fast' as never })).rejects.toThrow(/^predictAsync: runner must be 'auto', 'native' or 'workers', got "fast"/);
  });

  test('runner native: the model and x are snapshotted at the call; concurrent calls on one model each get their own plan', async () => {
    const model = mlp();
    randomize(model, 6);
    const x = randomInput([40, 12], 2);
    const before = syncForward(model, x, 16);
    const pending = predictAsync(model, x, { batchSize: 16, runner: 'native' });
    for (const q of model.parameters()) q.data.fill(0);
    x.data.fill(7);
    expect(bits(await pending)).toEqual(bits(before));

    const fresh = mlp();
    const xs = [randomInput([48, 12], 3), randomInput([48, 12], 4), randomInput([48, 12], 5)];
    const ys = await Promise.all(xs.map((xi) => predictAsync(fresh, xi, { batchSize: 16, runner: 'native' })));
    ys.forEach((y, i) => expect(bits(y)).toEqual(bits(syncForward(fresh, xs[i], 16))));
  });

  test('runner native: back-to-back calls of one size reuse the input copy without mixing inputs', async () => {
    const model = mlp();
    randomize(model, 8);
    const xs = [randomInput([40, 12], 11), randomInput([40, 12], 12), randomInput([40, 12], 13)];
    const want = xs.map((xi) => bits(syncForward(model, xi, 16)));
    for (const [i, xi] of xs.entries()) {
      const pending = predictAsync(model, xi, { batchSize: 16, runner: 'native' });
      xi.data.fill(-3); // after the call: must not reach it, whichever copy it runs on
      expect(bits(await pending)).toEqual(want[i]);
    }
    // Overlapping calls of the same size: one takes the kept copy, the other a fresh one.
    const again = [randomInput([40, 12], 14), randomInput([40, 12], 15)];
    const wantAgain = again.map((xi) => bits(syncForward(model, xi, 16)));
    const got = await Promise.all(again.map((xi) => predictAsync(model, xi, { batchSize: 16, runner: 'native' })));
    got.forEach((y, i) => expect(bits(y)).toEqual(wantAgain[i]));
  });

  test('bad arguments and unsavable models reject before any work', async () => {
    const model = mlp();
    await expect(predictAsync(model, randomInput([3, 12], 1), { batchSize: 0 })).rejects.toThrow(/^predictAsync: batchSize must be an integer >= 1, got 0/);
    await expect(predictAsync(model, [1, 2] as never)).rejects.toThrow(TypeError);
    await expect(predictAsync(model, new Tensor(new Float32Array(0), [0, 12]))).rejects.toThrow(/at least one row/);
    class Custom extends nn.Module {
      forward(x: Tensor) {
        return x;
      }
    }
    await expect(predictAsync(new Custom(), randomInput([2, 2], 1))).rejects.toThrow(/^predictAsync: model is a Custom, which is not a registered module class/);
  });

  test('user module classes run when the workers register them through `setup`', async () => {
    class Scale extends nn.Module {
      constructor(readonly factor: number) {
        super();
      }
      forward(x: Tensor) {
        return x.mul(this.factor);
      }
    }
    io.registerModule('test.Scale', {
      type: Scale,
      toConfig: (m) => ({ factor: m.factor }),
      fromConfig: (c) => new Scale(c.number('factor')),
    });
    const setup = join(tempDir(), 'register-scale.js');
    writeFileSync(setup, `
      const tf = require(${JSON.stringify(entry)});
      class Scale extends tf.nn.Module {
        constructor(factor) { super(); this.factor = factor; }
        forward(x) { return x.mul(this.factor); }
      }
      tf.io.registerModule('test.Scale', { type: Scale, toConfig: (m) => ({ factor: m.factor }), fromConfig: (c) => new Scale(c.number('factor')) });
    `);
    const model = new nn.Sequential(new nn.Linear(3, 2), new Scale(-2.5));
    const x = randomInput([5, 3], 1);
    const y = await pool({ size: 1, setup: [setup] }).predict(model, x, { batchSize: 2 });
    expect(bits(y)).toEqual(bits(syncForward(model, x, 2)));
    await expect(pool({ size: 1 }).predict(model, x)).rejects.toThrow(/unknown module class "test.Scale"/);
  });

  test('a worker that dies rejects its call with the cause; the pool starts a fresh worker', async () => {
    const setup = join(tempDir(), 'crash.js');
    writeFileSync(setup, `if (!globalThis.__crashedOnce) { globalThis.__crashedOnce = true; throw new Error('boom in setup'); }`);
    const p = pool({ size: 1, setup: [setup] });
    await expect(p.predict(mlp(), randomInput([2, 12], 1))).rejects.toThrow(/boom in setup/);
    expect(p.liveWorkers).toBe(0);
    // Each worker is a fresh JS realm, so the next worker throws again: still a clean rejection.
    await expect(p.predict(mlp(), randomInput([2, 12], 1))).rejects.toThrow(/boom in setup/);
  });

  test('idle workers exit after idleTimeoutMs', async () => {
    const p = pool({ size: 1, idleTimeoutMs: 20 });
    await p.predict(mlp(), randomInput([2, 12], 1));
    expect(p.liveWorkers).toBe(1);
    for (let i = 0; i < 100 && p.liveWorkers > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(p.liveWorkers).toBe(0);
    const y = await p.predict(mlp(), randomInput([2, 12], 1));
    expect(y.shape).toEqual([2, 3]);
  });

  test('a pool can be closed; later calls are refused', async () => {
    const p = new PredictPool({ size: 1 });
    await p.predict(mlp(), randomInput([2, 12], 1));
    await p.close();
    await expect(p.predict(mlp(), randomInput([2, 12], 1))).rejects.toThrow(/the pool is closed/);
  });
});

describe('predictAsync across threads and processes', () => {
  test('from inside a worker_threads worker: concurrent calls equal the synchronous forward', async () => {
    const source = `
      const { parentPort, workerData } = require('node:worker_threads');
      const tf = require(workerData.entry);
      tf.manualSeed(5);
      const model = new tf.nn.Sequential(new tf.nn.Linear(6, 16), new tf.nn.ReLU(), new tf.nn.Linear(16, 2));
      const x = tf.randn([40, 6]);
      Promise.all([tf.predictAsync(model, x, { batchSize: 40 }), tf.predictAsync(model, x.mul(2), { batchSize: 40 })]).then(([a, b]) => {
        model.eval();
        const ra = tf.noGrad(() => model.forward(x));
        const rb = tf.noGrad(() => model.forward(x.mul(2)));
        parentPort.postMessage({ a: a.data, b: b.data, ra: ra.data, rb: rb.data });
      }, (e) => parentPort.postMessage({ error: String(e && e.stack || e) }));
    `;
    const result = await new Promise<Record<string, Float32Array | string>>((resolve, reject) => {
      const w = new Worker(source, { eval: true, workerData: { entry } });
      w.once('message', resolve);
      w.once('error', reject);
      w.once('exit', (code) => code !== 0 && reject(new Error(`worker exited with code ${code}`)));
    });
    expect(result.error).toBeUndefined();
    const u32 = (v: Float32Array | string) => new Uint32Array((v as Float32Array).buffer);
    expect(u32(result.a)).toEqual(u32(result.ra));
    expect(u32(result.b)).toEqual(u32(result.rb));
    expect(u32(result.a)).not.toEqual(u32(result.b));
  });

  test('a process that used predictAsync exits on its own, long before the idle timeout', () => {
    const script = `
      const tf = require(${JSON.stringify(entry)});
      const model = new tf.nn.Sequential(new tf.nn.Linear(4, 3));
      tf.predictAsync(model, tf.randn([10, 4]), { batchSize: 4 }).then((y) => console.log(JSON.stringify(y.shape)));
    `;
    const t0 = Date.now();
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 25_000 });
    expect(out.trim()).toBe('[10,3]');
    expect(Date.now() - t0).toBeLessThan(20_000); // the default idle timeout is 30 s
  });
});
