// TensorFlow.js peer of scripts/bench-train: the same two models with tf.layers, trained with
// model.fit (batch 64, Adam lr 1e-3, eps 1e-8 as PyTorch), on the 'cpu' backend (@tensorflow/tfjs,
// plain JS) or the 'wasm' backend (@tensorflow/tfjs-backend-wasm, XNNPACK + SIMD).
//
// Both are single-threaded under Node: tfjs-backend-wasm 4.x turns its threaded build off when IS_NODE
// (WASM_HAS_MULTITHREAD_SUPPORT is false), and the cpu backend is JavaScript on the main thread.
//
// Init family as PyTorch's defaults: weights U(-1/sqrt(fanIn), 1/sqrt(fanIn)) (variance scaling 1/3,
// fan-in, uniform = kaiming_uniform with a = sqrt(5)), biases U(-1/sqrt(fanIn), 1/sqrt(fanIn)).
// The last layer ends in softmax with categorical cross-entropy on one-hot labels: the usual tfjs form
// of cross-entropy on logits (tfjs layers have no from-logits option).
import { accuracyOf } from './bench-train-data.mjs';

/** tfjs and, for 'wasm', the wasm backend, resolved with `requireFrom`; throws when absent. */
export async function loadTfjs(requireFrom, backend) {
  const tf = requireFrom('@tensorflow/tfjs');
  if (backend === 'wasm') requireFrom('@tensorflow/tfjs-backend-wasm');
  if (!(await tf.setBackend(backend))) throw new Error(`tf.setBackend('${backend}') failed`);
  await tf.ready();
  return tf;
}

function torchLikeInit(tf, fanIn) {
  const bound = 1 / Math.sqrt(fanIn);
  return {
    kernelInitializer: tf.initializers.varianceScaling({ scale: 1 / 3, mode: 'fanIn', distribution: 'uniform' }),
    biasInitializer: tf.initializers.randomUniform({ minval: -bound, maxval: bound }),
  };
}

function buildModel(tf, name) {
  const L = tf.layers;
  const dense = (units, fanIn, activation) => L.dense({ units, activation, ...torchLikeInit(tf, fanIn) });
  const conv = (filters, inC, padding) => L.conv2d({ filters, kernelSize: 5, padding, activation: 'relu', ...torchLikeInit(tf, 25 * inC) });
  const layers = name === 'mlp'
    ? [L.flatten({ inputShape: [28, 28, 1] }), dense(256, 784, 'relu'), dense(128, 256, 'relu'), dense(10, 128, 'softmax')]
    : [
      L.zeroPadding2d({ inputShape: [28, 28, 1], padding: 2 }), conv(6, 1, 'valid'), L.maxPooling2d({ poolSize: 2 }),
      conv(16, 6, 'valid'), L.maxPooling2d({ poolSize: 2 }),
      L.flatten(), dense(120, 400, 'relu'), dense(84, 120, 'relu'), dense(10, 84, 'softmax'),
    ];
  const model = tf.sequential({ layers });
  model.compile({ optimizer: tf.train.adam(1e-3, 0.9, 0.999, 1e-8), loss: 'categoricalCrossentropy' });
  return model;
}

/**
 * Trains `model` ('mlp' | 'lenet') and measures it. Returns per-epoch training rates (samples/s),
 * test accuracy and the best batch-inference rate (images/s) over `repeats` timed passes.
 */
export async function runTfjs(tf, { model: name, data, epochs, batchSize, inferenceBatch, repeats }) {
  const { train, test } = data;
  const model = buildModel(tf, name);
  const x = tf.tensor4d(train.x, [train.n, 28, 28, 1]);
  const y = tf.oneHot(tf.tensor1d(train.y, 'int32'), 10).toFloat();
  const epochRates = [];
  let began = 0;
  let history = null;
  let trainError = null;
  try {
    history = await model.fit(x, y, {
      epochs, batchSize, shuffle: true, verbose: 0,
      callbacks: {
        onEpochBegin: async () => { began = performance.now(); },
        onEpochEnd: async () => { epochRates.push(train.n / ((performance.now() - began) / 1000)); },
      },
    });
  } catch (e) {
    // tfjs-backend-wasm 4.x has no Conv2DBackpropFilter kernel, so it cannot train LeNet-5: report
    // that, and still time inference (its speed does not depend on the weights).
    if (!/not registered for backend/.test(e.message)) throw e;
    trainError = e.message;
  }
  const xTest = tf.tensor4d(test.x, [test.n, 28, 28, 1]);
  const predictAll = () => tf.tidy(() => model.predict(xTest, { batchSize: inferenceBatch })).dataSync();
  predictAll(); // warm-up
  let best = 0;
  let logits = null;
  for (let r = 0; r < repeats; r++) {
    const started = performance.now();
    logits = predictAll();
    best = Math.max(best, test.n / ((performance.now() - started) / 1000));
  }
  const losses = history?.history.loss ?? [NaN];
  return {
    epochRates,
    finalLoss: Number(losses[losses.length - 1]),
    accuracy: trainError ? null : accuracyOf(logits, test.y),
    trainError,
    inferenceRate: best,
    version: tf.version?.tfjs ?? '?',
  };
}
