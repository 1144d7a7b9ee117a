// scripts/bench-train must keep working: a smoke run on synthetic data (no dataset, no peer) against
// the built package (dist/, which `npm test` builds first).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';

const script = join(__dirname, '..', '..', 'scripts', 'bench-train.mjs');
const dir = mkdtempSync(join(tmpdir(), 'bench-train-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function bench(...args: string[]) {
  return spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', timeout: 60_000 });
}

interface Summary { train: number; accuracy: number; inference: number }

test('synthetic smoke run: both models at 1 and 2 threads, table, targets and JSON', () => {
  const json = join(dir, 'out.json');
  const r = bench('--synthetic', '--limit', '256', '--epochs', '2', '--peers', 'none', '--threads', '1,2', '--json', json);
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/\| model \| threads \| framework \|/);
  expect(r.stdout).toMatch(/\| mlp \| 1 \| tensorforge \| 256 \|/);
  expect(r.stdout).toMatch(/\| lenet training, 2 threads ≥ 1\.6× our 1 thread \| \d+\.\d\d× \| (met|\*\*missed\*\*) \|/);
  expect(r.stdout).toMatch(/mlp training, 1 thread ≥ 2× PyTorch \| not measured/);

  const out = JSON.parse(readFileSync(json, 'utf8')) as { results: Record<string, Summary>; runs: Record<string, { epochRates: number[] }[]> };
  for (const key of ['ours|mlp|1', 'ours|mlp|2', 'ours|lenet|1', 'ours|lenet|2']) {
    const s = out.results[key];
    expect(s.train, key).toBeGreaterThan(0);
    expect(s.inference, key).toBeGreaterThan(0);
    expect(s.accuracy, key).toBeGreaterThanOrEqual(0);
    expect(s.accuracy, key).toBeLessThanOrEqual(1);
    expect(out.runs[key][0].epochRates).toHaveLength(2);
  }
  // The synthetic classes are easy: a trained MLP is far above chance (10%), so training really ran
  // and the accuracy is computed against the right labels.
  expect(out.results['ours|mlp|1'].accuracy).toBeGreaterThan(0.5);
  // Results do not depend on the thread count, so neither does the accuracy.
  expect(out.results['ours|mlp|2'].accuracy).toBe(out.results['ours|mlp|1'].accuracy);
});

test('a peer that cannot run is skipped with a note, not a failure', () => {
  // onnxruntime needs the pytorch peer's ONNX export (and onnxruntime-node): either way it is skipped.
  const r = bench('--synthetic', '--limit', '128', '--epochs', '1', '--models', 'mlp', '--threads', '1', '--peers', 'onnxruntime');
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/note: onnxruntime skipped: /);
  expect(r.stdout).toMatch(/mlp inference, 1 thread\(s\) ≥ 1\.0× onnxruntime-node \| not measured/);
});

test('bad options fail with a message naming the option', () => {
  const r = bench('--models', 'resnet');
  expect(r.status).not.toBe(0);
  expect(r.stderr).toMatch(/bench-train: unknown model resnet/);
  expect(bench('--epochs', '0').stderr).toMatch(/bench-train: --epochs must be an integer >= 1/);
  expect(bench('--peer-limit', 'tfjs-cpu').stderr).toMatch(/bench-train: --peer-limit wants peer=N pairs/);
});
