// Shared by fashion-mnist-mlp.mjs and fashion-mnist-cnn.mjs: command-line flags and loading the
// Fashion-MNIST IDX files into tensors. (Not an example by itself.)
//
// Fashion-MNIST has the layout of MNIST (28x28 grey images, 10 classes, 60,000 to train and 10,000 to
// test) with photos of clothing instead of digits. It comes as four IDX files, plain or gzipped:
//   train-images-idx3-ubyte  train-labels-idx1-ubyte  t10k-images-idx3-ubyte  t10k-labels-idx1-ubyte
// The Debian package `dataset-fashion-mnist` installs them in /usr/share/datasets/fashion-mnist.
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const tf = require('../dist/cjs/index.js');

export const DEFAULT_DIR = '/usr/share/datasets/fashion-mnist';
export const CLASS_NAMES = ['T-shirt', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Boot'];

/**
 * The flags both examples take:
 *   --data DIR        where the IDX files are (default /usr/share/datasets/fashion-mnist)
 *   --epochs N        passes over the training images
 *   --limit N         train on the first N training images only (quick runs)
 *   --test-limit N    evaluate on the first N test images only
 *   --seed N          initialization and shuffling seed
 */
export function parseFlags(defaultEpochs) {
  const { values } = parseArgs({
    options: {
      data: { type: 'string', default: DEFAULT_DIR },
      epochs: { type: 'string', default: String(defaultEpochs) },
      limit: { type: 'string' },
      'test-limit': { type: 'string' },
      seed: { type: 'string', default: '0' },
    },
  });
  const int = (name, v) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    const min = name === 'seed' ? 0 : 1;
    if (!Number.isInteger(n) || n < min) throw new RangeError(`--${name} must be a whole number >= ${min}, got ${JSON.stringify(v)}`);
    return n;
  };
  return {
    dir: values.data,
    epochs: int('epochs', values.epochs),
    limit: int('limit', values.limit),
    testLimit: int('test-limit', values['test-limit']),
    seed: int('seed', values.seed),
  };
}

/** The path of `name` or `name.gz` in dir; a clear error naming the directory when neither exists. */
function findIdx(dir, name) {
  for (const candidate of [join(dir, name), join(dir, `${name}.gz`)]) {
    if (existsSync(candidate)) return candidate;
  }
  const why = !existsSync(dir)
    ? `the directory ${dir} does not exist`
    : !statSync(dir).isDirectory()
      ? `${dir} is not a directory`
      : `${dir} has no ${name} (nor ${name}.gz)`;
  throw new Error(
    `Fashion-MNIST not found: ${why}.\n` +
    'Install it with `apt-get install dataset-fashion-mnist` (files go to /usr/share/datasets/fashion-mnist),\n' +
    'or pass --data DIR pointing at train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte\n' +
    'and t10k-labels-idx1-ubyte (each plain or .gz).',
  );
}

/** Reads one images/labels pair, keeps the first `limit` samples, scales pixels to [0, 1]. */
function readPart(dir, prefix, limit) {
  const images = tf.data.readIdx(findIdx(dir, `${prefix}-images-idx3-ubyte`));
  const labels = tf.data.readIdx(findIdx(dir, `${prefix}-labels-idx1-ubyte`));
  const [n, h, w] = images.shape;
  if (images.shape.length !== 3 || h !== 28 || w !== 28) throw new Error(`${prefix} images: expected [N, 28, 28], got [${images.shape}]`);
  if (labels.shape.length !== 1 || labels.shape[0] !== n) throw new Error(`${prefix} labels: expected [${n}], got [${labels.shape}]`);
  const count = Math.min(n, limit ?? n);
  // NHWC: [count, 28, 28, 1]. Bytes 0..255 become floats 0..1, the range the default initializers expect.
  const x = new Float32Array(count * 784);
  for (let i = 0; i < x.length; i++) x[i] = images.data[i] / 255;
  const y = Int32Array.from(labels.data.subarray(0, count));
  y.forEach((c, i) => {
    if (c > 9) throw new Error(`${prefix} labels: label ${c} at index ${i} is not a class 0..9`);
  });
  return { x: tf.tensor(x, [count, 28, 28, 1]), y: tf.tensor(y, [count]) };
}

/** { xTrain, yTrain, xTest, yTest } as NHWC float images in [0, 1] and int32 labels 0..9. */
/**
 * The flags and the data set for an example titled `title`, with a banner naming the backend and the
 * data; bad flags or missing files end the program with a message instead of a stack trace.
 */
export function setUp(tf, title, defaultEpochs) {
  let flags;
  let ds;
  try {
    flags = parseFlags(defaultEpochs);
    ds = loadFashionMnist(flags.dir, flags);
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
  const info = tf.backendInfo();
  console.log(`${title} | backend ${info.name} (${info.isa}, ${info.numThreads} thread(s)) | data ${flags.dir}`);
  console.log(`${ds.xTrain.shape[0]} training images, ${ds.xTest.shape[0]} test images, classes: ${CLASS_NAMES.join(', ')}`);
  return { flags, ds };
}

export function loadFashionMnist(dir, { limit, testLimit } = {}) {
  const train = readPart(dir, 'train', limit);
  const test = readPart(dir, 't10k', testLimit);
  return { xTrain: train.x, yTrain: train.y, xTest: test.x, yTest: test.y };
}

/** Test accuracy, per-class accuracy and the confusion matrix, printed; returns the accuracy. */
export function reportTest(model, xTest, yTest) {
  const predicted = model.predict(xTest, { batchSize: 256 }).argmax(1);
  const accuracy = tf.metrics.accuracy(predicted, yTest);
  const confusion = tf.metrics.confusionMatrix(predicted, yTest, 10).toArray().flat();
  console.log(`\nconfusion matrix (rows: true class, columns: predicted)\n${tf.report.formatConfusionMatrix(confusion, CLASS_NAMES)}`);
  const perClass = tf.metrics.recall(predicted, yTest, { average: 'none', numClasses: 10 });
  console.log(`per-class accuracy: ${CLASS_NAMES.map((c, i) => `${c} ${(100 * perClass[i]).toFixed(0)}%`).join(', ')}`);
  console.log(`\ntest accuracy: ${(100 * accuracy).toFixed(2)}% on ${yTest.shape[0]} images`);
  return accuracy;
}
