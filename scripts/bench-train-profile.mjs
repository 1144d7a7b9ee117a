// Where does a training step of scripts/bench-train go? Wraps every kernel of the active backend with
// a timer, trains the model with fit (batch 64, Adam lr 1e-3) and prints, for the last epoch, the time
// per kernel (matmul split by shape and transposes, conv by direction) and the rest of the step (autograd,
// allocation, JS, fit's bookkeeping) = wall time minus kernel time. With --predict it profiles batch
// inference instead (predict over the training images at batch 256 after training, best of 3 passes).
//
//   node scripts/bench-train-profile.mjs [--model mlp|lenet] [--threads 1] [--limit 6400] [--epochs 2]
//                                        [--synthetic] [--data DIR] [--predict]
import { createRequire } from 'node:module';
import { DEFAULT_DATA_DIR, loadFashionMnist, syntheticData } from './bench-train-data.mjs';

const require = createRequire(import.meta.url);
const tf = require('../dist/cjs/index.js');

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const modelName = arg('model', 'lenet');
const threads = Number(arg('threads', '1'));
const limit = Number(arg('limit', '6400'));
const epochs = Number(arg('epochs', '2'));

tf.setNumThreads(threads);
tf.manualSeed(2026);
const { train } = process.argv.includes('--synthetic')
  ? syntheticData(limit, 16, 2026)
  : loadFashionMnist(tf.data.readIdx, arg('data', DEFAULT_DATA_DIR), limit, 16);

// --- timers around every kernel --------------------------------------------------------------------
const stats = new Map();
const backend = tf.getBackend();
/** A readable key: matmul by (M,K,N) and transposes, elementwise ops by their op string. */
function keyOf(name, args) {
  if (name === 'matmul' && args[0] && typeof args[0] === 'object') {
    const a = args[0];
    return `matmul (M,K,N)=(${a.m},${a.k},${a.n})${a.transA ? ' tA' : ''}${a.transB ? ' tB' : ''}${a.accumulate ? ' +=' : ''}${a.activation && a.activation !== 'none' ? ` ${a.activation}` : ''}`;
  }
  if (name.startsWith('conv2d') || name.startsWith('maxPool')) {
    const a = args[0];
    return `${name} ${a.c}->${a.oc ?? a.c} ${a.h}x${a.w} k${a.kh}`;
  }
  if ((name === 'unary' || name === 'unaryBackward' || name === 'binary' || name === 'binaryBackward' || name === 'reduce') && typeof args[0] === 'string') {
    return `${name} ${args[0]}`;
  }
  return name;
}
for (const [name, fn] of Object.entries(backend)) {
  if (typeof fn !== 'function' || name === 'info' || name === 'setNumThreads' || name === 'backendInfo') continue;
  backend[name] = (...args) => {
    const started = performance.now();
    const r = fn(...args);
    const ms = performance.now() - started;
    const key = keyOf(name, args);
    const s = stats.get(key) ?? { calls: 0, ms: 0 };
    s.calls += 1;
    s.ms += ms;
    stats.set(key, s);
    return r;
  };
}

// --- the model, as in bench-train ------------------------------------------------------------------
const { nn } = tf;
const model = modelName === 'mlp'
  ? new nn.Sequential(new nn.Flatten(), new nn.Linear(784, 256), new nn.ReLU(), new nn.Linear(256, 128), new nn.ReLU(), new nn.Linear(128, 10))
  : new nn.Sequential(
    new nn.Conv2d(1, 6, 5, { padding: 2 }), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(6, 16, 5), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(400, 120), new nn.ReLU(), new nn.Linear(120, 84), new nn.ReLU(), new nn.Linear(84, 10),
  );
let began = 0;
let wall = 0;
await model.fit([tf.tensor(train.x, [train.n, 28, 28, 1]), tf.tensor(train.y, [train.n])], {
  epochs, batchSize: 64, optimizer: new tf.optim.Adam(model.parameters(), { lr: 1e-3 }), loss: 'crossEntropy', verbose: 0,
  callbacks: [{
    onEpochBegin() { stats.clear(); began = performance.now(); },
    onEpochEnd() { wall = performance.now() - began; },
  }],
});

const predicting = process.argv.includes('--predict');
const batch = predicting ? 256 : 64;
if (predicting) {
  const x = tf.tensor(train.x, [train.n, 28, 28, 1]);
  wall = Infinity;
  let best = null;
  for (let pass = 0; pass < 4; pass++) { // pass 0 warms up
    stats.clear();
    const started = performance.now();
    tf.predict(model, x, { batchSize: batch });
    const ms = performance.now() - started;
    if (pass > 0 && ms < wall) { wall = ms; best = new Map(stats); }
  }
  stats.clear();
  for (const [k, v] of best) stats.set(k, v);
}
const steps = Math.ceil(train.n / batch);
const kernelMs = [...stats.values()].reduce((s, v) => s + v.ms, 0);
console.log(`${modelName}${predicting ? ' predict (batch 256)' : ''}, ${threads} thread(s), ${tf.backendInfo().isa}: ${predicting ? 'best pass' : 'last epoch'} ${train.n} samples, ${steps} steps, `
  + `${wall.toFixed(0)} ms = ${(1000 * train.n / wall).toFixed(0)} samples/s; ${(1000 * wall / steps).toFixed(0)} µs per step\n`);
console.log('| kernel | calls/step | µs/step | % of step |\n|---|---:|---:|---:|');
const rows = [...stats.entries()].sort((a, b) => b[1].ms - a[1].ms);
for (const [key, s] of rows) {
  if (100 * s.ms / wall < 0.3) continue;
  console.log(`| ${key} | ${(s.calls / steps).toFixed(1)} | ${(1000 * s.ms / steps).toFixed(0)} | ${(100 * s.ms / wall).toFixed(1)} |`);
}
console.log(`| (all kernels) | ${([...stats.values()].reduce((s, v) => s + v.calls, 0) / steps).toFixed(0)} | ${(1000 * kernelMs / steps).toFixed(0)} | ${(100 * kernelMs / wall).toFixed(1)} |`);
console.log(`| outside kernels (${predicting ? 'batching, JS, predict' : 'autograd, allocation, JS, fit'}) | | ${(1000 * (wall - kernelMs) / steps).toFixed(0)} | ${(100 * (wall - kernelMs) / wall).toFixed(1)} |`);
