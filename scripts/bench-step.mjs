// Milliseconds per training step outside fit: MLP 784-256-128-10, batch 64, Adam lr 1e-3, random data,
// native backend, 1 thread. Each step is zeroGrad, forward, cross-entropy, backward, optimizer step;
// the batches are made up front so only the step itself is timed. Prints the best of --repeats runs.
//
//   node scripts/bench-step.mjs [--steps 200] [--repeats 5] [--threads 1] [--backend native]
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const tf = require('../dist/cjs/index.js');

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const steps = Number(arg('steps', '200'));
const repeats = Number(arg('repeats', '5'));
tf.setBackend(arg('backend', 'native'));
tf.setNumThreads(Number(arg('threads', '1')));
tf.manualSeed(2026);

const { nn } = tf;
const model = new nn.Sequential(
  new nn.Linear(784, 256), new nn.ReLU(),
  new nn.Linear(256, 128), new nn.ReLU(),
  new nn.Linear(128, 10),
);
const opt = new tf.optim.Adam(model.parameters(), { lr: 1e-3 });
const batches = Array.from({ length: 16 }, () => ({
  x: tf.rand([64, 784]),
  y: new tf.Tensor(Int32Array.from({ length: 64 }, (_, i) => (i * 7) % 10), [64]),
}));

function step(b) {
  opt.zeroGrad();
  const loss = tf.losses.crossEntropy(model.forward(b.x), b.y);
  loss.backward();
  opt.step();
  return loss;
}

for (let i = 0; i < 50; i++) step(batches[i % batches.length]); // warm-up (JIT, first-use state)
let best = Infinity;
for (let r = 0; r < repeats; r++) {
  const started = performance.now();
  for (let i = 0; i < steps; i++) step(batches[i % batches.length]);
  best = Math.min(best, (performance.now() - started) / steps);
}
console.log(`mlp 784-256-128-10 batch 64 adam, ${tf.backendInfo().name ?? ''} ${steps} steps x ${repeats}: best ${best.toFixed(3)} ms/step`);
