import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { decodeSafetensors, encodeSafetensors } from '../../lib/io/safetensors.js';
import { writeFileAtomic } from '../../lib/io/atomic.js';

function header(json: string, data = new Uint8Array(0)): Uint8Array {
  const h = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

describe('safetensors', () => {
  test('round trip is bit-exact, including NaN payloads, -0 and metadata', () => {
    const w = new Float32Array([1.5, -0, NaN, Infinity, 3.4028234e38, 1e-45]);
    const idx = Int32Array.from([0, -7, 2 ** 31 - 1]);
    const bytes = encodeSafetensors(
      { 'layer.weight': { dtype: 'F32', shape: [2, 3], data: w }, steps: { dtype: 'I32', shape: [3], data: idx } },
      { format: 'tensorforge' },
    );
    const back = decodeSafetensors(bytes);
    expect(back.metadata).toEqual({ format: 'tensorforge' });
    expect(back.tensors['layer.weight'].shape).toEqual([2, 3]);
    expect(new Uint32Array(back.tensors['layer.weight'].data.buffer)).toEqual(new Uint32Array(w.buffer));
    expect(Array.from(back.tensors.steps.data)).toEqual([0, -7, 2 ** 31 - 1]);
  });

  test('the layout follows the format: u64 header length, JSON with data_offsets, 8-byte aligned data', () => {
    const bytes = encodeSafetensors({ a: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) } });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const json = JSON.parse(Buffer.from(bytes.slice(8, 8 + n)).toString());
    expect(json.a).toEqual({ dtype: 'F32', shape: [2], data_offsets: [0, 8] });
    expect(new Float32Array(bytes.slice(8 + n).buffer)).toEqual(new Float32Array([1, 2]));
  });

  test.each([
    ['too short', new Uint8Array(3), /fewer than the 8-byte header length/],
    ['header length past the end', (() => { const b = new Uint8Array(16); new DataView(b.buffer).setBigUint64(0, 1000n, true); return b; })(), /runs past the end/],
    ['header not JSON', header('{nope'), /not JSON/],
    ['header an array', header('[1,2]'), /not a JSON object/],
    ['unknown dtype', header('{"a":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}', new Uint8Array(2)), /unsupported dtype "F16"/],
    ['negative dim', header('{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', new Uint8Array(4)), /invalid shape/],
    ['size mismatch', header('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', new Uint8Array(4)), /needs 8/],
    ['overlap', header('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', new Uint8Array(4)), /gap or overlap/],
    ['trailing bytes', header('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', new Uint8Array(8)), /file holds 8/],
    ['truncated data', header('{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', new Uint8Array(8)), /file holds 8/],
    ['metadata not strings', header('{"__metadata__":{"x":1}}'), /__metadata__.x is not a string/],
  ])('rejects %s with a clear error', (_name, bytes, pattern) => {
    expect(() => decodeSafetensors(bytes as Uint8Array, 'model.safetensors')).toThrow(RangeError);
    expect(() => decodeSafetensors(bytes as Uint8Array, 'model.safetensors')).toThrow(pattern as RegExp);
  });

  test('names like __proto__ are only ever data', () => {
    const bogus = header('{"__proto__":{"polluted":"yes"}}');
    expect(() => decodeSafetensors(bogus)).toThrow(/tensor '__proto__' has unsupported dtype/);
    const tricky = header('{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"__metadata__":{"constructor":"x"}}', new Uint8Array(4));
    const out = decodeSafetensors(tricky);
    expect(Object.keys(out.tensors)).toEqual(['__proto__']);
    expect(out.tensors['__proto__'].shape).toEqual([1]);
    expect(out.metadata.constructor).toBe('x');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('encoding refuses inconsistent tensors', () => {
    expect(() => encodeSafetensors({ a: { dtype: 'F32', shape: [3], data: new Float32Array(2) } })).toThrow(/has 2 values but shape \[3\]/);
  });
});

describe('writeFileAtomic', () => {
  test('replaces the file and leaves no temporary file behind', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-atomic-'));
    const path = join(dir, 'model.bin');
    writeFileSync(path, 'old');
    writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    expect(Array.from(readFileSync(path))).toEqual([1, 2, 3]);
    expect(readdirSync(dir)).toEqual(['model.bin']);
  });

  test('a failed write leaves the old file intact', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-atomic-'));
    const path = join(dir, 'sub', 'missing-dir', 'model.bin');
    expect(() => writeFileAtomic(path, 'x')).toThrow();
    const existing = join(dir, 'keep.txt');
    writeFileSync(existing, 'old');
    expect(() => writeFileAtomic(join(existing, 'not-a-dir'), 'x')).toThrow();
    expect(readFileSync(existing, 'utf8')).toBe('old');
  });
});
