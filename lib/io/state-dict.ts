// A bare state dict (or a model's weights) as one safetensors file, for tools that want only the
// tensors: io.saveStateDict(model, 'w.safetensors') and later model.loadStateDict(io.loadStateDict(path)).

import { readFileSync } from 'node:fs';
import { Module, type StateDict } from '../nn/module.js';
import { Tensor } from '../tensor.js';
import { writeFileAtomic } from './atomic.js';
import { decodeSafetensors } from './safetensors.js';
import { encodeWeights, modelTensors } from './weights.js';

/** Writes a module's parameters and buffers, or a state dict, to `path` (atomically). */
export function saveStateDict(source: Module | StateDict, path: string): void {
  let tensors: [string, Tensor][];
  if (source instanceof Module) {
    tensors = modelTensors(source, 'io.saveStateDict');
  } else {
    if (typeof source !== 'object' || source === null) throw new TypeError('io.saveStateDict: source must be a Module or a state dict of tensors');
    tensors = Object.entries(source);
    for (const [name, t] of tensors) {
      if (!(t instanceof Tensor)) throw new TypeError(`io.saveStateDict: '${name}' is not a Tensor`);
    }
  }
  writeFileAtomic(path, encodeWeights(tensors));
}

/**
 * Reads a safetensors file (ours or Python's, F32/I32) as a state dict. The result has no prototype,
 * so a tensor named like an Object method is only a name.
 */
export function loadStateDict(path: string): StateDict {
  const { tensors } = decodeSafetensors(readFileSync(path), path);
  const out: StateDict = Object.create(null);
  for (const [name, t] of Object.entries(tensors)) out[name] = new Tensor(t.data, t.shape);
  return out;
}
