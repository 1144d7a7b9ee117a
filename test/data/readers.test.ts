import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { parseIdx, readIdx } from '../../lib/data/idx.js';
import { parseCsv, readCsv } from '../../lib/data/csv.js';

/** Builds an IDX file by hand: big-endian sizes, then values. */
function idx(type: number, shape: number[], values: number[], bytesPer: number): Uint8Array {
  const out = new Uint8Array(4 + 4 * shape.length + values.length * bytesPer);
  const v = new DataView(out.buffer);
  out[2] = type;
  out[3] = shape.length;
  shape.forEach((d, i) => v.setUint32(4 + 4 * i, d, false));
  const at = 4 + 4 * shape.length;
  values.forEach((x, i) => {
    if (bytesPer === 1) v.setUint8(at + i, x);
    else if (type === 0x0d) v.setFloat32(at + 4 * i, x, false);
    else v.setInt32(at + 4 * i, x, false);
  });
  return out;
}

describe('readIdx', () => {
  const images = idx(0x08, [2, 2, 3], [0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255], 1);

  test('reads uint8 images with their shape, plain and gzip', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-idx-'));
    writeFileSync(join(dir, 'x.idx3-ubyte'), images);
    writeFileSync(join(dir, 'x.idx3-ubyte.gz'), gzipSync(images));
    for (const name of ['x.idx3-ubyte', 'x.idx3-ubyte.gz']) {
      const { shape, data } = readIdx(join(dir, name));
      expect(shape).toEqual([2, 2, 3]);
      expect(data).toBeInstanceOf(Uint8Array);
      expect(Array.from(data)).toEqual([0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]);
    }
  });

  test('reads big-endian int32 and float32', () => {
    expect(Array.from(parseIdx(idx(0x0c, [3], [-1, 7, 2 ** 30], 4)).data)).toEqual([-1, 7, 2 ** 30]);
    expect(Array.from(parseIdx(idx(0x0d, [2], [1.5, -2.25], 4)).data)).toEqual([1.5, -2.25]);
  });

  test.each([
    ['truncated data', images.slice(0, images.length - 1), /truncated/],
    ['trailing bytes', new Uint8Array([...images, 0]), /trailing bytes/],
    ['bad magic', new Uint8Array([1, 0, 8, 1, 0, 0, 0, 0]), /two zero bytes/],
    ['unknown type', new Uint8Array([0, 0, 0x42, 1, 0, 0, 0, 0]), /unknown element type 0x42/],
    ['truncated header', new Uint8Array([0, 0, 8, 3, 0, 0]), /header needs 16 bytes/],
    ['corrupt gzip', gzipSync(images).slice(0, 20), /gzip data is corrupt or truncated/],
  ])('rejects %s, naming the file', (_n, bytes, pattern) => {
    expect(() => parseIdx(bytes as Uint8Array, 'train-images')).toThrow(pattern as RegExp);
    expect(() => parseIdx(bytes as Uint8Array, 'train-images')).toThrow(/^readIdx: train-images is not a valid IDX file/);
  });

  test('a missing file names the path', () => {
    expect(() => readIdx('/nonexistent/t10k-images-idx3-ubyte')).toThrow(/^readIdx: cannot read \/nonexistent\/t10k/);
  });
});

describe('readCsv', () => {
  test('numbers, quoted fields, CRLF, categorical labels', () => {
    const t = parseCsv('x,"y, quoted",label\r\n1,2.5,cat\n-3,"4",dog\n5e-1,6,cat\n', { categorical: ['label'] });
    expect(t.columns).toEqual(['x', 'y, quoted', 'label']);
    expect(t.rows).toBe(3);
    expect(Array.from(t.data)).toEqual([1, 2.5, 0, -3, 4, 1, 0.5, 6, 0]);
    expect(t.categories.label).toEqual(['cat', 'dog']);
  });

  test('no header, another delimiter', () => {
    const t = parseCsv('1;2\n3;4', { header: false, delimiter: ';' });
    expect(t.columns).toEqual(['c0', 'c1']);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4]);
  });

  test.each([
    ['a,b\n1,2\n3\n', /line 3 has 1 fields, expected 2/],
    ['a,b\n1,zebra\n', /line 2, column 'b': "zebra" is not a number/],
    ['a,b\n1,\n', /line 2, column 'b': "" is not a number/],
    ['a\n"open\n', /unterminated quoted field/],
    ['', /is empty/],
  ])('rejects malformed input %#', (text, pattern) => {
    expect(() => parseCsv(text, {}, 'data.csv')).toThrow(pattern);
  });

  test('reads from a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-csv-'));
    writeFileSync(join(dir, 'd.csv'), 'a,b\n1,2\n');
    expect(Array.from(readCsv(join(dir, 'd.csv')).data)).toEqual([1, 2]);
  });
});
