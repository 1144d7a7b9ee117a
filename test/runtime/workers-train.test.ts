// Two worker_threads train models at the same time through the public API (the built package in
// dist/, which `npm test` rebuilds first). Each run is seeded, so a concurrent run must reproduce the
// solo run of the same seed bit for bit: environments do not disturb each other.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, test } from 'vitest';

const entry = join(__dirname, '..', '..', 'dist', 'cjs', 'index.js');

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const tf = require(workerData.entry);
tf.manualSeed(workerData.seed);
const n = 256, d = 8;
const x = tf.randn([n, d]);
const w = tf.randn([d, 1]);
const y = x.matmul(w).tanh().detach();
const model = new tf.nn.Sequential(new tf.nn.Linear(d, 16), new tf.nn.Tanh(), new tf.nn.Linear(16, 1));
const opt = new tf.optim.Adam(model.parameters(), { lr: 0.01 });
let first = 0, last = 0;
for (let step = 0; step < 150; step++) {
  opt.zeroGrad();
  const loss = tf.losses.mse(model.forward(x), y);
  loss.backward();
  opt.step();
  if (step === 0) first = loss.item();
  last = loss.item();
}
const weights = model.parameters().map((p) => Array.from(p.data));
parentPort.postMessage({ first, last, weights, backend: tf.backendInfo().name });
`;

interface Result { first: number; last: number; weights: number[][]; backend: string }

function train(seed: number): Promise<Result> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { entry, seed } });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => code !== 0 && reject(new Error(`worker exited with code ${code}`)));
  });
}

describe('training in worker_threads', () => {
  test.runIf(existsSync(entry))('two workers train concurrently; each matches its solo run exactly', async () => {
    const solo = [await train(1), await train(2)];
    const together = await Promise.all([train(1), train(2)]);
    for (let i = 0; i < 2; i++) {
      expect(together[i].backend).toBe('native');
      expect(together[i].last).toBeLessThan(together[i].first * 0.2);
      expect(together[i].weights).toEqual(solo[i].weights);
    }
    expect(together[0].weights).not.toEqual(together[1].weights);
  });

  test('the built package exists (npm test builds it first)', () => {
    expect(existsSync(entry), `${entry} is missing: run npm run build:ts`).toBe(true);
  });
});
