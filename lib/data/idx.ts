// Reader for the IDX format used by MNIST and Fashion-MNIST, plain or gzip-compressed.
//
// IDX: two zero bytes, a type byte, a rank byte, then `rank` big-endian uint32 sizes, then the values
// (big-endian) in row-major order. The whole file is validated before anything is returned: a
// truncated or malformed file raises an error that names the file and the problem.

import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  shape: number[];
  data: IdxData;
}

const TYPES: Record<number, { name: string; bytes: number; make: (n: number) => IdxData }> = {
  0x08: { name: 'uint8', bytes: 1, make: (n) => new Uint8Array(n) },
  0x09: { name: 'int8', bytes: 1, make: (n) => new Int8Array(n) },
  0x0b: { name: 'int16', bytes: 2, make: (n) => new Int16Array(n) },
  0x0c: { name: 'int32', bytes: 4, make: (n) => new Int32Array(n) },
  0x0d: { name: 'float32', bytes: 4, make: (n) => new Float32Array(n) },
  0x0e: { name: 'float64', bytes: 8, make: (n) => new Float64Array(n) },
};

/** Parses IDX bytes (gunzipping first when they start with the gzip magic). */
export function parseIdx(bytes: Uint8Array, source = 'buffer'): IdxArray {
  const fail = (why: string): never => {
    throw new RangeError(`readIdx: ${source} is not a valid IDX file: ${why}`);
  };
  let buf = bytes;
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = gunzipSync(buf);
    } catch (e) {
      fail(`gzip data is corrupt or truncated (${(e as Error).message})`);
    }
  }
  if (buf.length < 4) fail(`only ${buf.length} bytes`);
  if (buf[0] !== 0 || buf[1] !== 0) fail('the magic number does not start with two zero bytes');
  const type = TYPES[buf[2]];
  if (!type) fail(`unknown element type 0x${buf[2].toString(16)}`);
  const rank = buf[3];
  if (rank < 1) fail('rank 0');
  const headerBytes = 4 + 4 * rank;
  if (buf.length < headerBytes) fail(`the header needs ${headerBytes} bytes, the file has ${buf.length}`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const shape: number[] = [];
  let count = 1;
  for (let i = 0; i < rank; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    shape.push(d);
    count *= d;
  }
  const expected = headerBytes + count * type.bytes;
  if (buf.length !== expected) {
    fail(`shape [${shape.join(',')}] of ${type.name} needs ${expected} bytes, the file has ${buf.length} (${buf.length < expected ? 'truncated' : 'trailing bytes'})`);
  }
  const data = type.make(count);
  for (let i = 0; i < count; i++) {
    const at = headerBytes + i * type.bytes;
    switch (type.bytes) {
      case 1: data[i] = type.name === 'uint8' ? view.getUint8(at) : view.getInt8(at); break;
      case 2: data[i] = view.getInt16(at, false); break;
      case 4: data[i] = type.name === 'float32' ? view.getFloat32(at, false) : view.getInt32(at, false); break;
      default: data[i] = view.getFloat64(at, false);
    }
  }
  return { shape, data };
}

/** Reads an IDX file (`.idx3-ubyte`, `.idx1-ubyte`, optionally `.gz`). */
export function readIdx(path: string): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`readIdx: cannot read ${path}: ${(e as Error).message}`);
  }
  return parseIdx(bytes, path);
}
