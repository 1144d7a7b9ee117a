// `npm run demo`: trains a small classifier end to end through the public API and reports what it did.
//
// Three interleaved spirals (1,500 points, 3 classes; a linear model cannot separate them), a
// 2-64-64-3 ReLU network, mini-batch Adam with cross-entropy. Prints the backend, per-epoch loss and
// accuracy, throughput, and the held-out accuracy. Seeded: the same numbers every run.
import { createRequire } from 'node:module';

const tf = createRequire(import.meta.url)('../dist/cjs/index.js');
const { nn, losses, optim } = tf;

const CLASSES = 3;
const PER_CLASS = 500;
const EPOCHS = 40;
const BATCH = 32;

/** Points on 3 noisy spirals: class k turns through 1.5 revolutions starting at angle 2πk/3. */
function spirals(seedOffset) {
  let s = 12345 + seedOffset;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  const n = CLASSES * PER_CLASS;
  const x = new Float32Array(n * 2);
  const y = new Int32Array(n);
  for (let k = 0; k < CLASSES; k++) {
    for (let i = 0; i < PER_CLASS; i++) {
      const j = k * PER_CLASS + i;
      const r = i / PER_CLASS;
      const t = (2 * Math.PI * k) / CLASSES + 3 * Math.PI * r + (rand() - 0.5) * 0.3;
      x[2 * j] = r * Math.cos(t);
      x[2 * j + 1] = r * Math.sin(t);
      y[j] = k;
    }
  }
  return { x, y, n };
}

function accuracyOf(model, x, y, n) {
  const predicted = tf.noGrad(() => model.forward(tf.tensor(x, [n, 2])).argmax(1));
  let hits = 0;
  for (let i = 0; i < n; i++) if (predicted.data[i] === y[i]) hits++;
  return hits / n;
}

tf.manualSeed(7);
const info = tf.backendInfo();
console.log(`tensorforge demo: backend ${info.name}, ISA ${info.isa}, ${info.numThreads} thread(s)`);

const train = spirals(0);
const test = spirals(1);
const model = new nn.Sequential(new nn.Linear(2, 64), new nn.ReLU(), new nn.Linear(64, 64), new nn.ReLU(), new nn.Linear(64, CLASSES));
console.log(String(model));
const optimizer = new optim.Adam(model.parameters(), { lr: 0.01 });

const order = Int32Array.from({ length: train.n }, (_, i) => i);
const bx = new Float32Array(BATCH * 2);
const by = new Int32Array(BATCH);
const started = performance.now();
for (let epoch = 1; epoch <= EPOCHS; epoch++) {
  // Shuffle with the library's seeded generator, so runs repeat exactly.
  const perm = tf.randperm(train.n);
  for (let i = 0; i < train.n; i++) order[i] = perm[i];
  let lossSum = 0;
  let batches = 0;
  for (let start = 0; start + BATCH <= train.n; start += BATCH) {
    for (let b = 0; b < BATCH; b++) {
      const j = order[start + b];
      bx[2 * b] = train.x[2 * j];
      bx[2 * b + 1] = train.x[2 * j + 1];
      by[b] = train.y[j];
    }
    optimizer.zeroGrad();
    const loss = losses.crossEntropy(model.forward(tf.tensor(bx, [BATCH, 2])), tf.tensor(by, [BATCH]));
    loss.backward();
    optimizer.step();
    lossSum += loss.item();
    batches++;
  }
  if (epoch % 5 === 0 || epoch === 1) {
    const acc = accuracyOf(model, train.x, train.y, train.n);
    console.log(`epoch ${String(epoch).padStart(2)}  loss ${(lossSum / batches).toFixed(4)}  train accuracy ${(100 * acc).toFixed(1)}%`);
  }
}
const seconds = (performance.now() - started) / 1000;
const testAccuracy = accuracyOf(model, test.x, test.y, test.n);
console.log(`trained ${EPOCHS} epochs in ${seconds.toFixed(2)} s (${Math.round((EPOCHS * train.n) / seconds)} samples/s)`);
console.log(`held-out accuracy: ${(100 * testAccuracy).toFixed(1)}%`);
if (testAccuracy < 0.9) {
  console.error('demo: the network did not learn the spirals (held-out accuracy below 90%)');
  process.exit(1);
}
