// A model's tensors <-> safetensors: the names are the model's dotted parameter and buffer names
// (`0.weight`, `2.block.1.runningMean`), so Python's safetensors reads them as they are. Used by
// io.save/io.load and by predictAsync (which ships a model to a worker the same way).

import { createHash } from 'node:crypto';
import { Module, Parameter } from '../nn/module.js';
import { Tensor, formatShape } from '../tensor.js';
import { FormatError } from './json.js';
import { decodeSafetensors, encodeSafetensors, type SafeTensor } from './safetensors.js';

/**
 * Every parameter and buffer of `model` by name, in namedParameters then namedBuffers order. Refuses
 * a parameter reachable from two places (tied weights): the rebuilt model would get two copies.
 */
export function modelTensors(model: Module, op = 'io.save'): [string, Tensor][] {
  const owner = new Map<Parameter, string>();
  for (const [prefix, m] of model.namedModules()) {
    for (const [key, value] of Object.entries(m)) {
      if (!(value instanceof Parameter)) continue;
      const name = prefix ? `${prefix}.${key}` : key;
      const first = owner.get(value);
      if (first !== undefined) {
        throw new RangeError(`${op}: parameter '${name}' is the same tensor as '${first}'; shared (tied) parameters cannot be saved yet`);
      }
      owner.set(value, name);
    }
  }
  return [...model.namedParameters(), ...model.namedBuffers()];
}

function toSafe(t: Tensor): SafeTensor {
  return { dtype: t.dtype === 'int32' ? 'I32' : 'F32', shape: [...t.shape], data: t.data };
}

/** The safetensors bytes of a model's weights (names as in modelTensors). */
export function encodeWeights(tensors: [string, Tensor][]): Uint8Array {
  return encodeSafetensors(Object.fromEntries(tensors.map(([name, t]) => [name, toSafe(t)])), { format: 'tensorforge' });
}

/**
 * Decodes `bytes` and copies every tensor into the matching tensor of `model` after checking that
 * the names are exactly the model's (none missing, none extra) and each dtype and shape matches.
 * Nothing is copied unless everything matches. `source` names the file in errors.
 */
export function loadWeightsInto(model: Module, bytes: Uint8Array, source: string): void {
  const { tensors } = decodeSafetensors(bytes, source);
  const expected = modelTensors(model, 'io.load');
  const names = new Set(expected.map(([n]) => n));
  const problems: string[] = [];
  for (const [name, target] of expected) {
    const t = tensors[name];
    if (t === undefined) {
      problems.push(`missing tensor '${name}' (${target.dtype} ${formatShape(target.shape)})`);
      continue;
    }
    const dtype = target.dtype === 'int32' ? 'I32' : 'F32';
    if (t.dtype !== dtype) problems.push(`tensor '${name}' is ${t.dtype}, the model needs ${dtype}`);
    if (t.shape.length !== target.shape.length || t.shape.some((d, i) => d !== target.shape[i])) {
      problems.push(`tensor '${name}' has shape ${formatShape(t.shape)}, the model needs ${formatShape(target.shape)}`);
    }
  }
  for (const name of Object.keys(tensors)) {
    if (!names.has(name)) problems.push(`unexpected tensor '${name}' (the architecture has no such parameter or buffer)`);
  }
  if (problems.length > 0) throw new FormatError(`${source}: weights do not match the architecture: ${problems.join('; ')}`);
  for (const [name, target] of expected) target.data.set(tensors[name].data);
}

/** SHA-256 of bytes, hex. */
export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * A key that changes whenever the architecture or any weight bit changes: SHA-256 over the
 * architecture JSON and every tensor's name, dtype, shape and bytes (hashed in place, no copy).
 */
export function weightsKey(architectureJson: string, tensors: [string, Tensor][]): string {
  const h = createHash('sha256').update(architectureJson);
  for (const [name, t] of tensors) {
    h.update(`\0${name}\0${t.dtype}\0${t.shape.join(',')}\0`);
    h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return h.digest('hex');
}
