// Data for scripts/bench-train: Fashion-MNIST from its IDX files (plain or .gz), or a synthetic stand-in
// for smoke runs. Images come back as one Float32Array [N, 28, 28, 1] in [0, 1] (NHWC; with one channel
// the same bytes as NCHW [N, 1, 28, 28]) and labels as an Int32Array.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const DEFAULT_DATA_DIR = '/usr/share/datasets/fashion-mnist';
const PIXELS = 28 * 28;

const FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
};

/** The path of `stem` or `stem.gz` in dir, or null. */
function findFile(dir, stem) {
  for (const name of [stem, `${stem}.gz`]) {
    if (existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

/** Why the dataset cannot be used (a message with the fix), or null when all four files are there. */
export function missingDataset(dir) {
  const missing = Object.values(FILES).filter((stem) => findFile(dir, stem) === null);
  if (missing.length === 0) return null;
  return `Fashion-MNIST not found in ${dir} (missing ${missing.join(', ')}); `
    + 'install it with `apt-get install dataset-fashion-mnist`, pass --data DIR, or use --synthetic';
}

/** First `limit` samples (0 = all) of one split, read with tensorforge's IDX reader. */
function readSplit(readIdx, dir, images, labels, limit) {
  const x = readIdx(findFile(dir, images));
  const y = readIdx(findFile(dir, labels));
  const n = limit > 0 ? Math.min(limit, x.shape[0]) : x.shape[0];
  const pixels = new Float32Array(n * PIXELS);
  for (let i = 0; i < pixels.length; i++) pixels[i] = x.data[i] / 255;
  return { x: pixels, y: Int32Array.from(y.data.subarray(0, n)), n };
}

/**
 * { train: {x, y, n}, test: {x, y, n} }: the first trainLimit training and testLimit test samples
 * (0 = all), in both this script and the PyTorch one.
 */
export function loadFashionMnist(readIdx, dir, trainLimit, testLimit) {
  return {
    train: readSplit(readIdx, dir, FILES.trainImages, FILES.trainLabels, trainLimit),
    test: readSplit(readIdx, dir, FILES.testImages, FILES.testLabels, testLimit),
  };
}

/**
 * A learnable stand-in with Fashion-MNIST's shapes (no files needed): class c lights up a horizontal
 * band of rows 2c+2..2c+5 over noise. Deterministic (a small LCG seeded with `seed`).
 */
export function syntheticData(nTrain, nTest, seed) {
  let state = seed >>> 0;
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const make = (n) => {
    const x = new Float32Array(n * PIXELS);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const c = Math.floor(random() * 10);
      y[i] = c;
      for (let p = 0; p < PIXELS; p++) {
        const row = Math.floor(p / 28);
        const col = p % 28;
        const band = row >= 2 * c + 2 && row < 2 * c + 6 && col >= 4 && col < 24;
        x[i * PIXELS + p] = random() * 0.3 + (band ? 0.7 : 0);
      }
    }
    return { x, y, n };
  };
  return { train: make(nTrain), test: make(nTest) };
}

/** Fraction of rows of logits [n, 10] whose argmax equals the label. */
export function accuracyOf(logits, labels) {
  let right = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let c = 1; c < 10; c++) if (logits[i * 10 + c] > logits[i * 10 + best]) best = c;
    if (best === labels[i]) right++;
  }
  return right / labels.length;
}

/** Mean softmax cross-entropy of [n, 10] logits against labels (in float64, so two libraries' figures compare). */
export function meanCrossEntropy(logits, labels) {
  let sum = 0;
  for (let i = 0; i < labels.length; i++) {
    let top = -Infinity;
    for (let c = 0; c < 10; c++) top = Math.max(top, logits[i * 10 + c]);
    let z = 0;
    for (let c = 0; c < 10; c++) z += Math.exp(logits[i * 10 + c] - top);
    sum += top + Math.log(z) - logits[i * 10 + labels[i]];
  }
  return sum / labels.length;
}

/** Median of the values (mean of the middle two for an even count). */
export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
