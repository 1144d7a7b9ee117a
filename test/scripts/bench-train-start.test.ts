// scripts/bench-train-start.mjs hands tensorforge's starting weights and batch order to the PyTorch
// peer. Checked here without PyTorch: a plain NCHW forward written with PyTorch's layouts (conv OIHW,
// Linear [out, in], flatten in (c, h, w) order) over the written weights must give our model's outputs,
// and the written order must be the batches a shuffling DataLoader with the twin seed yields.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { Generator, manualSeed, nn, predict, tensor, data } from '../../lib/index.js';
import type { Module } from '../../lib/nn/module.js';

type WriteStart = (dir: string, o: { modelName: string; model: Module; n: number; epochs: number; twin: Generator }) => void;
const startModule = join(__dirname, '..', '..', 'scripts', 'bench-train-start.mjs');
const dir = mkdtempSync(join(tmpdir(), 'bench-train-start-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Written { params: Float32Array[]; shapes: number[][]; order: Int32Array; n: number; epochs: number }

async function writeAndRead(name: string, model: Module, n: number, epochs: number, seed: number): Promise<Written> {
  const { writeStart } = (await import(startModule)) as { writeStart: WriteStart };
  const out = join(dir, `${name}-${seed}`);
  writeStart(out, { modelName: name, model, n, epochs, twin: new Generator(seed) });
  const spec = JSON.parse(readFileSync(join(out, 'start.json'), 'utf8')) as { n: number; epochs: number; params: { shape: number[]; offset: number }[] };
  const bin = readFileSync(join(out, 'params.bin'));
  const flat = new Float32Array(bin.buffer, bin.byteOffset, bin.byteLength / 4);
  const params = spec.params.map((p) => flat.slice(p.offset, p.offset + p.shape.reduce((a, b) => a * b, 1)));
  const ord = readFileSync(join(out, 'order.bin'));
  return { params, shapes: spec.params.map((p) => p.shape), order: new Int32Array(ord.buffer.slice(ord.byteOffset, ord.byteOffset + ord.byteLength)), n: spec.n, epochs: spec.epochs };
}

// --- a PyTorch-layout reference forward (one image, [C, H, W]) ---------------------------------------
interface Chw { c: number; h: number; w: number; v: Float64Array }

function conv(x: Chw, w: Float32Array, [o, i, kh, kw]: number[], b: Float32Array, pad: number): Chw {
  const h = x.h + 2 * pad - kh + 1, wd = x.w + 2 * pad - kw + 1;
  const v = new Float64Array(o * h * wd);
  for (let oc = 0; oc < o; oc++) for (let y = 0; y < h; y++) for (let xx = 0; xx < wd; xx++) {
    let s = b[oc];
    for (let ic = 0; ic < i; ic++) for (let dy = 0; dy < kh; dy++) for (let dx = 0; dx < kw; dx++) {
      const sy = y + dy - pad, sx = xx + dx - pad;
      if (sy >= 0 && sy < x.h && sx >= 0 && sx < x.w) s += w[((oc * i + ic) * kh + dy) * kw + dx] * x.v[(ic * x.h + sy) * x.w + sx];
    }
    v[(oc * h + y) * wd + xx] = s;
  }
  return { c: o, h, w: wd, v };
}

function relu(x: Chw): Chw {
  return { ...x, v: x.v.map((a) => Math.max(a, 0)) };
}

function maxpool2(x: Chw): Chw {
  const h = x.h >> 1, w = x.w >> 1;
  const v = new Float64Array(x.c * h * w);
  for (let c = 0; c < x.c; c++) for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) {
    let m = -Infinity;
    for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) m = Math.max(m, x.v[(c * x.h + 2 * y + dy) * x.w + 2 * xx + dx]);
    v[(c * h + y) * w + xx] = m;
  }
  return { c: x.c, h, w, v };
}

/** y = W x + b with W [out, in] (PyTorch's Linear); x is the (c, h, w)-ordered flatten. */
function linear(x: Float64Array, w: Float32Array, [o, i]: number[], b: Float32Array): Float64Array {
  const y = new Float64Array(o);
  for (let r = 0; r < o; r++) {
    let s = b[r];
    for (let k = 0; k < i; k++) s += w[r * i + k] * x[k];
    y[r] = s;
  }
  return y;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (Math.abs(actual[i] - expected[i]) > 1e-4 * (1 + Math.abs(expected[i]))) {
      throw new Error(`${what}: index ${i}: expected ${expected[i]}, actual ${actual[i]} (length ${expected.length})`);
    }
  }
}

function randomImages(count: number, seed: number): Float32Array {
  const g = new Generator(seed);
  return Float32Array.from({ length: count * 784 }, () => g.uniform(0, 1));
}

test('LeNet-5: the written weights in PyTorch layouts compute what our model computes', async () => {
  manualSeed(11);
  const model = new nn.Sequential(
    new nn.Conv2d(1, 6, 5, { padding: 2 }), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(6, 16, 5), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Flatten(), new nn.Linear(400, 120), new nn.ReLU(), new nn.Linear(120, 84), new nn.ReLU(), new nn.Linear(84, 10),
  );
  const { params: p, shapes: s } = await writeAndRead('lenet', model, 8, 1, 1);
  expect(s).toEqual([[6, 1, 5, 5], [6], [16, 6, 5, 5], [16], [120, 400], [120], [84, 120], [84], [10, 84], [10]]);
  const images = randomImages(3, 5);
  const ours = predict(model, tensor(images, [3, 28, 28, 1])).data;
  for (let i = 0; i < 3; i++) {
    // One channel: the NHWC image is also its NCHW one.
    let x: Chw = { c: 1, h: 28, w: 28, v: Float64Array.from(images.subarray(i * 784, (i + 1) * 784)) };
    x = maxpool2(relu(conv(x, p[0], s[0], p[1], 2)));
    x = maxpool2(relu(conv(x, p[2], s[2], p[3], 0)));
    let h = linear(x.v, p[4], s[4], p[5]).map((a) => Math.max(a, 0));
    h = linear(h, p[6], s[6], p[7]).map((a) => Math.max(a, 0));
    expectClose(ours.subarray(i * 10, (i + 1) * 10), linear(h, p[8], s[8], p[9]), `lenet image ${i}`);
  }
});

test('MLP: the written weights in PyTorch layouts compute what our model computes', async () => {
  manualSeed(12);
  const model = new nn.Sequential(new nn.Flatten(), new nn.Linear(784, 256), new nn.ReLU(), new nn.Linear(256, 128), new nn.ReLU(), new nn.Linear(128, 10));
  const { params: p, shapes: s } = await writeAndRead('mlp', model, 8, 1, 1);
  expect(s).toEqual([[256, 784], [256], [128, 256], [128], [10, 128], [10]]);
  const images = randomImages(2, 6);
  const ours = predict(model, tensor(images, [2, 28, 28, 1])).data;
  for (let i = 0; i < 2; i++) {
    let h = linear(Float64Array.from(images.subarray(i * 784, (i + 1) * 784)), p[0], s[0], p[1]).map((a) => Math.max(a, 0));
    h = linear(h, p[2], s[2], p[3]).map((a) => Math.max(a, 0));
    expectClose(ours.subarray(i * 10, (i + 1) * 10), linear(h, p[4], s[4], p[5]), `mlp image ${i}`);
  }
});

test('the written order is the batches a shuffling DataLoader seeded alike yields, epoch after epoch', async () => {
  const n = 37, epochs = 3, seed = 2029;
  manualSeed(13);
  const model = new nn.Sequential(new nn.Flatten(), new nn.Linear(784, 256), new nn.ReLU(), new nn.Linear(256, 128), new nn.ReLU(), new nn.Linear(128, 10));
  const written = await writeAndRead('mlp', model, n, epochs, seed);
  expect([written.n, written.epochs, written.order.length]).toEqual([n, epochs, n * epochs]);
  // Each sample's feature is its own index, so the batches spell out the order the loader drew.
  const ids = tensor(Float32Array.from({ length: n }, (_, i) => i), [n, 1]);
  const loader = new data.DataLoader(new data.Dataset(ids, ids), { batchSize: 8, shuffle: true, generator: new Generator(seed) });
  const seen: number[] = [];
  for (let e = 0; e < epochs; e++) for (const batch of loader) seen.push(...batch.x.data);
  expect(seen).toEqual(Array.from(written.order));
  expect(new Set(seen.slice(0, n)).size).toBe(n); // a permutation, not a constant
});
