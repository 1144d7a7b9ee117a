// The safetensors format, so weights written here load in Python tools and vice versa.
//
// Layout: an 8-byte little-endian header length N, N bytes of JSON, then the raw little-endian tensor
// bytes. The JSON maps each name to {dtype, shape, data_offsets: [begin, end]} (offsets relative to the
// byte after the header) plus an optional "__metadata__" map of strings. Decoding validates everything
// (header bounds, JSON, dtypes, shapes, offsets that tile the data exactly) before reading any tensor,
// and only ever produces numbers: a file can never cause code to run.

export type SafeDtype = 'F32' | 'I32';

export interface SafeTensor {
  dtype: SafeDtype;
  shape: number[];
  data: Float32Array | Int32Array;
}

const BYTES: Record<SafeDtype, number> = { F32: 4, I32: 4 };
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Serializes tensors (in key order) with optional string metadata. */
export function encodeSafetensors(
  tensors: Record<string, SafeTensor>, metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const names = Object.keys(tensors);
  for (const name of names) {
    const t = tensors[name];
    if (name === '__metadata__') throw new RangeError(`safetensors: '__metadata__' cannot name a tensor`);
    if (!(t.dtype in BYTES)) throw new RangeError(`safetensors: tensor '${name}' has unsupported dtype ${String(t.dtype)}`);
    if (elementCount(t.shape) !== t.data.length) {
      throw new RangeError(`safetensors: tensor '${name}' has ${t.data.length} values but shape [${t.shape.join(',')}]`);
    }
    const bytes = t.data.length * BYTES[t.dtype];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  // Pad with spaces so the tensor data starts 8-byte aligned (as the reference implementation does).
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const name of names) {
    const t = tensors[name];
    const src = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    if (isLittleEndian()) {
      out.set(src, pos);
    } else {
      for (let i = 0; i < t.data.length; i++) {
        if (t.dtype === 'F32') view.setFloat32(pos + 4 * i, t.data[i], true);
        else view.setInt32(pos + 4 * i, t.data[i], true);
      }
    }
    pos += src.length;
  }
  return out;
}

export interface DecodedSafetensors {
  tensors: Record<string, SafeTensor>;
  metadata: Record<string, string>;
}

/** Parses and validates a safetensors buffer; throws a RangeError naming the problem. */
export function decodeSafetensors(buf: Uint8Array, source = 'buffer'): DecodedSafetensors {
  const fail = (why: string): never => {
    throw new RangeError(`safetensors: ${source} is not a valid safetensors file: ${why}`);
  };
  if (buf.length < 8) fail(`it has ${buf.length} bytes, fewer than the 8-byte header length`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(Math.min(MAX_HEADER_BYTES, buf.length - 8))) {
    fail(`the header length ${headerLength} runs past the end of the file (${buf.length} bytes)`);
  }
  const dataStart = 8 + Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(buf.buffer, buf.byteOffset + 8, Number(headerLength)).toString('utf8'));
  } catch (e) {
    fail(`the header is not JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('the header is not a JSON object');
  const entries = Object.entries(header as Record<string, unknown>);
  // Null-prototype maps: a tensor named '__proto__' is just a name, never the object's prototype.
  const metadata: Record<string, string> = Object.create(null);
  const spans: { name: string; dtype: SafeDtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, value] of entries) {
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('__metadata__ is not an object');
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__.${k} is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const e = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== 'object' || e === null) fail(`entry '${name}' is not an object`);
    if (e.dtype !== 'F32' && e.dtype !== 'I32') fail(`tensor '${name}' has unsupported dtype ${JSON.stringify(e.dtype)} (F32 and I32 are supported)`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0 && d < 2 ** 32)) {
      fail(`tensor '${name}' has an invalid shape ${JSON.stringify(e.shape)}`);
    }
    const offsets = e.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      fail(`tensor '${name}' has invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    const shape = e.shape as number[];
    const expectedBytes = elementCount(shape) * BYTES[e.dtype as SafeDtype];
    if (end < begin || end - begin !== expectedBytes) {
      fail(`tensor '${name}' spans ${end - begin} bytes but shape [${shape.join(',')}] of ${e.dtype} needs ${expectedBytes}`);
    }
    spans.push({ name, dtype: e.dtype as SafeDtype, shape, begin, end });
  }
  // The spans must tile the data section exactly: no gaps, no overlaps, nothing past the end.
  const sorted = [...spans].sort((a, b) => a.begin - b.begin);
  let cursor = 0;
  for (const s of sorted) {
    if (s.begin !== cursor) fail(`tensor '${s.name}' starts at byte ${s.begin}, expected ${cursor} (gap or overlap)`);
    cursor = s.end;
  }
  if (dataStart + cursor !== buf.length) {
    fail(`the tensors cover ${cursor} data bytes but the file holds ${buf.length - dataStart}`);
  }
  const tensors: Record<string, SafeTensor> = Object.create(null);
  for (const s of spans) {
    const count = (s.end - s.begin) / 4;
    const data = s.dtype === 'F32' ? new Float32Array(count) : new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const at = dataStart + s.begin + 4 * i;
      data[i] = s.dtype === 'F32' ? view.getFloat32(at, true) : view.getInt32(at, true);
    }
    tensors[s.name] = { dtype: s.dtype, shape: s.shape, data };
  }
  return { tensors, metadata };
}

function isLittleEndian(): boolean {
  return new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
}
