// Fashion-MNIST with a multi-layer perceptron (784-256-128-10, ReLU), trained with model.fit.
//
//   node examples/fashion-mnist-mlp.mjs [--data DIR] [--epochs 5] [--limit N] [--test-limit N] [--seed 0]
//
// The data: `apt-get install dataset-fashion-mnist` (default --data /usr/share/datasets/fashion-mnist),
// or any directory holding the four IDX files. An MLP sees an image as 784 unrelated numbers: it has no
// idea that neighbouring pixels belong together. It still reaches about 87% test accuracy after 5
// epochs; compare fashion-mnist-cnn.mjs, which exploits the image structure.
import { createRequire } from 'node:module';
import { reportTest, setUp } from './fashion-mnist-data.mjs';

const require = createRequire(import.meta.url);
const tf = require('../dist/cjs/index.js');
const { nn } = tf;

const { flags, ds } = setUp(tf, 'Fashion-MNIST MLP', 5);

tf.manualSeed(flags.seed);
const model = new nn.Sequential(
  new nn.Flatten(),                            // [N, 28, 28, 1] -> [N, 784]
  new nn.Linear(784, 256), new nn.ReLU(),
  new nn.Linear(256, 128), new nn.ReLU(),
  new nn.Linear(128, 10),                      // one score (logit) per class; crossEntropy applies softmax
);
console.log(String(model));

// Mini-batches of 64 with Adam at its default rate 1e-3; 10% of the training images are held out to
// watch for overfitting (val_loss going up while loss goes down).
const started = performance.now();
await model.fit([ds.xTrain, ds.yTrain], {
  epochs: flags.epochs,
  batchSize: 64,
  optimizer: 'adam',
  lr: 1e-3,
  loss: 'crossEntropy',
  metrics: ['accuracy'],
  validationSplit: 0.1,
  verbose: 1,                                   // a progress bar on a terminal, one line per epoch otherwise
});
const seconds = (performance.now() - started) / 1000;
console.log(`trained ${flags.epochs} epoch(s) in ${seconds.toFixed(1)} s`);

reportTest(model, ds.xTest, ds.yTest);
