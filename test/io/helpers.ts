// Shared helpers for the io tests: temp dirs, bit views, and re-stamping a tampered data file's hash
// into the manifest (so a test reaches the validation behind the SHA-256 check, as a deliberate
// attacker who edits both files would).
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Module } from '../../lib/nn/module.js';
import { Tensor } from '../../lib/tensor.js';
import { Generator } from '../../lib/random.js';

export function tempDir(prefix = 'tf-io-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** The raw bits of a tensor's elements (so NaN payloads and -0 compare exactly). */
export function bits(t: Tensor): Uint32Array {
  return new Uint32Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength));
}

/** Fills every parameter and buffer with seeded random values (buffers positive, like variances). */
export function randomize(model: Module, seed: number): void {
  const g = new Generator(seed);
  for (const p of model.parameters()) for (let i = 0; i < p.size; i++) p.data[i] = g.normal();
  for (const [, b] of model.namedBuffers()) for (let i = 0; i < b.size; i++) b.data[i] = 0.5 + g.uniform();
}

export function randomInput(shape: number[], seed: number): Tensor {
  const g = new Generator(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(Float32Array.from({ length: n }, () => g.normal()), shape);
}

export function readManifest(dir: string): Record<string, any> {
  return JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
}

export function writeManifest(dir: string, manifest: unknown): void {
  writeFileSync(join(dir, 'model.json'), JSON.stringify(manifest));
}

export function weightsPath(dir: string): string {
  return join(dir, readManifest(dir).weights.file);
}

/** Replaces the weights file's bytes and fixes the manifest's SHA-256 to match them. */
export function replaceWeights(dir: string, bytes: Uint8Array): void {
  const manifest = readManifest(dir);
  writeFileSync(join(dir, manifest.weights.file), bytes);
  manifest.weights.sha256 = createHash('sha256').update(bytes).digest('hex');
  writeManifest(dir, manifest);
}

export function listDir(dir: string): string[] {
  return readdirSync(dir).sort();
}
