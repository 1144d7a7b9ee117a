// Batch inference from a saved model, with predictAsync keeping the event loop free.
//
//   node examples/batch-inference.mjs [--model DIR] [--images 10000] [--batch-size 256]
//
// A server or batch job usually does not train: it loads a model that was saved earlier and runs it
// over many inputs. This example
//   1. gets a saved model: --model DIR (e.g. demo-output/lenet5-mnist written by `npm run demo`), or,
//      without --model, trains a small CNN on 2,000 MNIST digits and saves it with io.save to a temp dir;
//   2. loads it with io.load (architecture + weights, checked against each other);
//   3. runs it over --images digits twice, while a 5 ms timer measures how responsive the process is:
//      - model.predict: runs on the JS thread, so no timer (no request, no I/O) fires until it is done;
//      - predictAsync: runs the same batches off the JS thread (a native kernel plan on a libuv thread);
//        the timer keeps firing meanwhile. Its first call for a model records and checks that plan (two
//        batches' forward on the JS thread, with timer turns between), as a server's first request would;
//        the timed call is a later one, the steady state of a process that serves many.
//   Both give bit-identical outputs (same kernels, same batches).
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const tf = require('../dist/cjs/index.js');
const mnist = require('mnist');
const { nn, io, metrics } = tf;

const { values: args } = parseArgs({
  options: {
    model: { type: 'string' },
    images: { type: 'string', default: '10000' },
    'batch-size': { type: 'string', default: '256' },
  },
});
const count = Number(args.images);
const batchSize = Number(args['batch-size']);

/** The first `n` MNIST digits of the `mnist` package, cycling 0..9, as [n, 28, 28, 1] and labels. */
function digits(n) {
  const x = new Float32Array(n * 784);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const digit = i % 10;
    const set = mnist[digit];
    x.set(set.get(Math.floor(i / 10) % set.length), i * 784);
    y[i] = digit;
  }
  return { x: tf.tensor(x, [n, 28, 28, 1]), y: tf.tensor(y, [n]) };
}

/** Trains a small CNN briefly and saves it; returns the directory. */
async function trainAndSave() {
  tf.manualSeed(0);
  const model = new nn.Sequential(
    new nn.Conv2d(1, 8, 5, { padding: 2 }), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(8, 16, 5), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Flatten(), new nn.Linear(400, 10),
  );
  const train = digits(2000);
  await model.fit([train.x, train.y], { epochs: 2, batchSize: 32, optimizer: 'adam', lr: 2e-3, loss: 'crossEntropy', verbose: 0 });
  const dir = mkdtempSync(join(tmpdir(), 'tensorforge-batch-inference-'));
  io.save(model, dir);                                   // model.json (architecture) + weights (safetensors)
  console.log(`trained a small CNN on 2000 digits and saved it with io.save to ${dir}`);
  return dir;
}

/**
 * Runs `work` while a 5 ms interval timer ticks; reports the wall time, how often the timer ran and
 * the longest gap between two ticks (how long the event loop was blocked at worst).
 */
async function whileTicking(work) {
  let ticks = 0;
  let last = performance.now();
  let longestGap = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longestGap = Math.max(longestGap, now - last);
    last = now;
    ticks++;
  }, 5);
  const started = performance.now();
  const result = await work();
  const seconds = (performance.now() - started) / 1000;
  // The gap still open when the work ends counts too (predict never let the timer run at all).
  longestGap = Math.max(longestGap, performance.now() - last);
  clearInterval(timer);
  return { result, seconds, ticks, longestGap };
}

const dir = args.model ?? await trainAndSave();
const { model } = io.load(dir);
console.log(`loaded with io.load from ${dir}:\n${String(model)}\n`);

const { x, y } = digits(count);
console.log(`running ${count} images in batches of ${batchSize} (backend ${tf.backendInfo().name}, ${tf.backendInfo().isa})`);

// Let the process settle (module loading, JIT) before measuring.
await new Promise((r) => setTimeout(r, 20));

const sync = await whileTicking(async () => model.predict(x, { batchSize }));
const line = (name, r) =>
  `${name.padEnd(44)} ${r.seconds.toFixed(2)} s, ${Math.round(count / r.seconds)} images/s; ` +
  `timer fired ${r.ticks} times, event loop blocked up to ${r.longestGap.toFixed(0)} ms`;
console.log(line('model.predict (JS thread):', sync));

const first = await whileTicking(() => tf.predictAsync(model, x, { batchSize }));
console.log(line('predictAsync, first call (records its plan):', first));
const asyncRun = await whileTicking(() => tf.predictAsync(model, x, { batchSize }));
console.log(line('predictAsync (off the JS thread):', asyncRun));

const same = sync.result.data.every((v, i) => Object.is(v, asyncRun.result.data[i]));
const accuracy = metrics.accuracy(asyncRun.result.argmax(1), y);
// (Without --model, these digits include the 2,000 it was trained on: a throughput demo, not a benchmark.)
console.log(`\noutputs identical: ${same ? 'yes' : 'NO'}; accuracy on these ${count} digits: ${(100 * accuracy).toFixed(2)}%`);
console.log(`event loop: blocked up to ${sync.longestGap.toFixed(0)} ms with predict, ${asyncRun.longestGap.toFixed(0)} ms with predictAsync`);

if (args.model === undefined) rmSync(dir, { recursive: true, force: true });   // our temp model only
if (!same) process.exitCode = 1;
