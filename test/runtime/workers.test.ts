// The addon is context-aware: it loads in worker_threads, and several environments can run kernels at
// the same time (the shared pool runs a second caller's work inline). Results stay bit-identical to a
// single-threaded run in one environment.
import { Worker } from 'node:worker_threads';
import { describe, expect, test } from 'vitest';
import { loadNativeAddon } from '../../lib/backend/native.js';

const load = loadNativeAddon();
if (!load.ok) throw new Error(`native addon did not load: ${load.cause}`);

// Plain JS run in each worker: loads the addon itself and returns a checksum of many matmuls.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const addon = require(workerData.addonPath);
const m = 37, n = 29, k = 53;
const a = new Float32Array(m * k), b = new Float32Array(k * n), c = new Float32Array(m * n);
let s = workerData.seed;
const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296) - 0.5;
for (let i = 0; i < a.length; i++) a[i] = rand();
for (let i = 0; i < b.length; i++) b[i] = rand();
const out = new Float32Array(m * n);
for (let iter = 0; iter < workerData.iterations; iter++) {
  addon.matmul({ m, n, k, transA: false, transB: false, accumulate: false, activation: 'tanh', alpha: 0 }, a, b, null, c);
  for (let i = 0; i < out.length; i++) out[i] += c[i];
}
parentPort.postMessage({ envId: addon.backendInfo().envId, out });
`;

function runWorker(seed: number, iterations: number): Promise<{ envId: number; out: Float32Array }> {
  return new Promise((resolve, reject) => {
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { addonPath: load.ok ? load.path : '', seed, iterations } });
    w.once('message', resolve);
    w.once('error', reject);
    w.once('exit', (code) => code !== 0 && reject(new Error(`worker exited with code ${code}`)));
  });
}

describe('worker_threads', () => {
  test('two workers run kernels at the same time; results match solo runs bit for bit', async () => {
    const solo1 = await runWorker(1, 200);
    const solo2 = await runWorker(2, 200);
    const [c1, c2] = await Promise.all([runWorker(1, 200), runWorker(2, 200)]);
    expect(c1.envId).not.toBe(c2.envId);
    expect(new Uint32Array(c1.out.buffer)).toEqual(new Uint32Array(solo1.out.buffer));
    expect(new Uint32Array(c2.out.buffer)).toEqual(new Uint32Array(solo2.out.buffer));
    expect(c1.out.some((v) => v !== 0)).toBe(true);
  });
});
