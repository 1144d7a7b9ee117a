// `npm run demo` is the README's main job: it must train LeNet-5 to at least 97% held-out accuracy
// and write the model, the learning curves and the confusion matrix. Runs the real script in a
// scratch directory against the built package (dist/, which `npm test` builds first).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';

const root = join(__dirname, '..', '..');

test('npm run demo trains LeNet-5 on MNIST to >= 97% and writes its outputs', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'tf-demo-'));
  const out = execFileSync(process.execPath, [join(root, 'scripts', 'demo.mjs')], { cwd, encoding: 'utf8' });
  const accuracy = Number(/held-out accuracy: ([\d.]+)%/.exec(out)?.[1]);
  expect(accuracy).toBeGreaterThanOrEqual(97);
  expect(out).toMatch(/Epoch 12\/12/);
  expect(out).toMatch(/\d+ samples\/s/);
  const dir = join(cwd, 'demo-output');
  for (const file of ['learning-curves.svg', 'confusion-matrix.svg', 'lenet5-mnist/model.json']) {
    expect(existsSync(join(dir, file)), file).toBe(true);
  }
  expect(readFileSync(join(dir, 'learning-curves.svg'), 'utf8')).toMatch(/^<svg /);
}, 300_000);
