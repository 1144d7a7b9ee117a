// Every example in examples/ runs as a child process against the built package (dist/, which `npm test`
// builds first), with small arguments, and its printed outcome is checked. The Fashion-MNIST examples
// run on a tiny synthetic IDX set written to a temp dir (so their code path always runs), on the real
// dataset when /usr/share/datasets/fashion-mnist is installed, and with a missing directory.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const root = join(__dirname, '..', '..');
const FASHION_DIR = '/usr/share/datasets/fashion-mnist';
const haveFashion = existsSync(join(FASHION_DIR, 'train-images-idx3-ubyte.gz')) || existsSync(join(FASHION_DIR, 'train-images-idx3-ubyte'));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function runExample(name: string, args: string[] = []): Run {
  const r = spawnSync(process.execPath, [join(root, 'examples', name), ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The number captured by `re` in text (fails the test with the output when absent). */
function numberFrom(text: string, re: RegExp): number {
  const m = re.exec(text);
  expect(m, `output should match ${re}:\n${text}`).not.toBeNull();
  return Number(m![1]);
}

beforeAll(() => {
  expect(existsSync(join(root, 'dist', 'cjs', 'index.js')), 'dist/ is missing: run `npm run build:ts` first').toBe(true);
});

test('examples/README.md lists every example, and this file runs every one', () => {
  const readme = readFileSync(join(root, 'examples', 'README.md'), 'utf8');
  const self = readFileSync(__filename, 'utf8');
  const examples = readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.mjs') && f !== 'fashion-mnist-data.mjs');
  expect(examples.length).toBeGreaterThanOrEqual(6);
  for (const f of examples) {
    expect(readme, `README lists ${f}`).toContain(`node examples/${f}`);
    expect(self, `a test here runs ${f}`).toContain(`'${f}'`);
  }
});

test('xor.mjs: the 2-2-1 network gets all four right; a single layer cannot', () => {
  const r = runExample('xor.mjs');
  expect(r.status, r.stderr).toBe(0);
  const m = /XOR: single layer (\d)\/4, 2-2-1 network (\d)\/4/.exec(r.stdout);
  expect(m, r.stdout).not.toBeNull();
  expect(Number(m![1])).toBeLessThanOrEqual(3);
  expect(Number(m![2])).toBe(4);
  // the four lines printed for the 2-2-1 network, each with its probability on the right side of 0.5
  const mlpPart = r.stdout.slice(r.stdout.indexOf('two layers 2-2-1'));
  for (const [a, b, target] of [[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 0]]) {
    const p = numberFrom(mlpPart, new RegExp(`${a} xor ${b} -> p=([0-9.]+)`));
    expect(target === 1 ? p > 0.9 : p < 0.1, `${a} xor ${b}: p=${p}`).toBe(true);
  }
});

test('regression.mjs: standardized inputs reach a low test error, far below the unscaled run', () => {
  const r = runExample('regression.mjs', ['--samples', '1000', '--epochs', '40']);
  expect(r.status, r.stderr).toBe(0);
  const unscaled = numberFrom(r.stdout, /unscaled\s+inputs: .*test RMSE ([0-9.]+)/);
  const scaled = numberFrom(r.stdout, /standardized inputs: .*test RMSE ([0-9.]+)/);
  const r2 = numberFrom(r.stdout, /standardized inputs: .*R² ([0-9.-]+)/);
  // The synthetic prices carry noise of standard deviation 10 and spread over several hundred.
  expect(scaled).toBeLessThan(25);
  expect(r2).toBeGreaterThan(0.98);
  expect(scaled).toBeLessThan(unscaled / 2);
});

test('transfer-learning.mjs: frozen body bit-identical, new head learns task B from 50 images', () => {
  const r = runExample('transfer-learning.mjs', ['--epochs-a', '1', '--limit-a', '1500', '--epochs-b', '20']);
  expect(r.status, r.stderr).toBe(0);
  expect(numberFrom(r.stdout, /task A held-out accuracy: ([0-9.]+)%/)).toBeGreaterThan(85);
  expect(r.stdout).toContain('parameters: 5429 (trainable 2005, frozen 3424)');
  expect(r.stdout).toContain('body weights: 3424 frozen, bit-identical after retraining: yes');
  expect(r.stdout).toContain('head weights: 2005 trained, changed: yes');
  // a fresh head is near chance (20%); after training the head alone, far above it
  expect(numberFrom(r.stdout, /new head before training: ([0-9.]+)%/)).toBeLessThan(45);
  expect(numberFrom(r.stdout, /frozen body \+ retrained head: ([0-9.]+)%/)).toBeGreaterThan(65);
});

test('batch-inference.mjs: io.save/io.load round trip, predictAsync leaves the event loop free, same outputs as predict', () => {
  const r = runExample('batch-inference.mjs', ['--images', '6000']); // enough work that predict's stall dwarfs predictAsync's per-call setup
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/saved it with io\.save to /);
  expect(r.stdout).toMatch(/loaded with io\.load from /);
  expect(r.stdout).toContain('outputs identical: yes');
  expect(numberFrom(r.stdout, /accuracy on these 6000 digits: ([0-9.]+)%/)).toBeGreaterThan(80);
  // predict runs on the JS thread: the timer cannot fire until it returns. predictAsync runs off it
  // (a native plan): the timer keeps firing and the longest stall is a fraction of predict's.
  const syncTicks = numberFrom(r.stdout, /model\.predict .*timer fired (\d+) times/);
  const syncStall = numberFrom(r.stdout, /model\.predict .*blocked up to (\d+) ms/);
  const asyncTicks = numberFrom(r.stdout, /predictAsync .*timer fired (\d+) times/);
  const asyncStall = numberFrom(r.stdout, /predictAsync .*blocked up to (\d+) ms/);
  expect(syncTicks).toBe(0);
  expect(asyncTicks).toBeGreaterThanOrEqual(5);
  expect(asyncStall).toBeLessThan(syncStall / 2);
});

/** Writes an IDX uint8 file (optionally gzipped): magic 0x00000803/0x00000801, big-endian sizes, bytes. */
function writeIdx(path: string, shape: number[], bytes: Uint8Array, gzip: boolean): void {
  const header = Buffer.alloc(4 + 4 * shape.length);
  header[2] = 0x08;
  header[3] = shape.length;
  shape.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  const file = Buffer.concat([header, bytes]);
  writeFileSync(path, gzip ? gzipSync(file) : file);
}

/**
 * n 28x28 images of 10 easy classes: class c is a bright 12x4 bar in cell c of a 2x5 grid, moved by
 * up to ±1 pixel, over a noisy background. Deterministic (a small LCG).
 */
function syntheticFashion(n: number, seed: number): { images: Uint8Array; labels: Uint8Array } {
  let s = seed >>> 0;
  const rand = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const images = new Uint8Array(n * 784);
  const labels = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    const c = Math.floor(rand() * 10);
    labels[k] = c;
    const top = 1 + 14 * Math.floor(c / 5) + Math.floor(rand() * 3);
    const left = 1 + 5 * (c % 5) + Math.floor(rand() * 2);
    for (let i = 0; i < 784; i++) images[k * 784 + i] = Math.floor(rand() * 90);
    for (let r = top; r < top + 12; r++) {
      for (let col = left; col < left + 4; col++) images[k * 784 + r * 28 + col] = 170 + Math.floor(rand() * 85);
    }
  }
  return { images, labels };
}

describe('Fashion-MNIST examples', () => {
  let synthetic = '';

  beforeAll(() => {
    synthetic = mkdtempSync(join(tmpdir(), 'tf-fashion-'));
    const train = syntheticFashion(1500, 1);
    const test = syntheticFashion(300, 2);
    // training files plain, test files gzipped: both spellings must be found
    writeIdx(join(synthetic, 'train-images-idx3-ubyte'), [1500, 28, 28], train.images, false);
    writeIdx(join(synthetic, 'train-labels-idx1-ubyte'), [1500], train.labels, false);
    writeIdx(join(synthetic, 't10k-images-idx3-ubyte.gz'), [300, 28, 28], test.images, true);
    writeIdx(join(synthetic, 't10k-labels-idx1-ubyte.gz'), [300], test.labels, true);
  });

  afterAll(() => {
    if (synthetic) rmSync(synthetic, { recursive: true, force: true });
  });

  for (const name of ['fashion-mnist-mlp.mjs', 'fashion-mnist-cnn.mjs']) {
    test(`${name} on a synthetic IDX set (--data tmp --limit 1200 --epochs 2): learns the 10 easy classes`, () => {
      const r = runExample(name, ['--data', synthetic, '--limit', '1200', '--epochs', '2']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain('1200 training images, 300 test images');
      expect(r.stdout).toMatch(/Epoch 2\/2/);
      expect(r.stdout).toMatch(/confusion matrix/);
      expect(numberFrom(r.stdout, /test accuracy: ([0-9.]+)% on 300 images/)).toBeGreaterThan(80);
    });

    test(`${name} with a nonexistent --data directory: exit 1 and a message naming the path`, () => {
      const missing = join(tmpdir(), 'tf-no-such-fashion-dir');
      const r = runExample(name, ['--data', missing, '--epochs', '1']);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`the directory ${missing} does not exist`);
      expect(r.stderr).toContain('apt-get install dataset-fashion-mnist');
      expect(r.stderr).toContain('--data DIR');
      expect(r.stderr, 'a message, not a stack trace').not.toMatch(/\n\s+at /);
    });
  }

  test('fashion-mnist-mlp.mjs with a directory lacking the files: names the missing file', () => {
    const empty = mkdtempSync(join(tmpdir(), 'tf-fashion-empty-'));
    try {
      const r = runExample('fashion-mnist-mlp.mjs', ['--data', empty]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`${empty} has no train-images-idx3-ubyte (nor train-images-idx3-ubyte.gz)`);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  const noDataset = `the dataset is not installed in ${FASHION_DIR} (apt-get install dataset-fashion-mnist)`;
  // 5000 images x 2 epochs: 77-78% for seeds 0-2
  test.skipIf(!haveFashion)(`fashion-mnist-mlp.mjs on the real dataset (--limit 5000 --epochs 2 --test-limit 1000)${haveFashion ? '' : `: skipped, ${noDataset}`}`, () => {
    const r = runExample('fashion-mnist-mlp.mjs', ['--limit', '5000', '--epochs', '2', '--test-limit', '1000']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('5000 training images, 1000 test images');
    expect(numberFrom(r.stdout, /test accuracy: ([0-9.]+)% on 1000 images/)).toBeGreaterThan(70);
  });

  // 4000 images x 2 epochs: 70-72% for seeds 0-2
  test.skipIf(!haveFashion)(`fashion-mnist-cnn.mjs on the real dataset (--limit 4000 --epochs 2 --test-limit 1000)${haveFashion ? '' : `: skipped, ${noDataset}`}`, () => {
    const r = runExample('fashion-mnist-cnn.mjs', ['--limit', '4000', '--epochs', '2', '--test-limit', '1000']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('4000 training images, 1000 test images');
    expect(numberFrom(r.stdout, /test accuracy: ([0-9.]+)% on 1000 images/)).toBeGreaterThan(62);
  });
});
