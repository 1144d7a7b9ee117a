// Optimizer state for resuming training: hyperparameters, step counts and parameter names go into the
// manifest JSON; the state buffers (momentum, Adam moments, ...) go into a safetensors file, one flat
// F32 tensor per group and buffer, named `<group>.<buffer>` (e.g. `0.expAvg`).
//
// Parameters are recorded by their names in the model, so a restore can check that the new optimizer
// holds the same parameters, in the same groups and order, as the saved one.

import type { Module, Parameter } from '../nn/module.js';
import type { OptimizerStateDict } from '../optim/optimizer.js';
import type { Tensor } from '../tensor.js';
import { ConfigReader, FormatError, checkJsonTree, describe, isJsonObject, type Json, type JsonObject } from './json.js';
import { decodeSafetensors, encodeSafetensors, type SafeTensor } from './safetensors.js';

/** What io.save needs from an optimizer (every optim.* optimizer has it). */
export interface SavableOptimizer {
  readonly paramGroups: readonly { readonly params: readonly Tensor[] }[];
  stateDict(): OptimizerStateDict;
  loadStateDict(state: OptimizerStateDict): void;
}

/** Optimizer state as io.load returns it; give it to io.restoreOptimizer. */
export interface SavedOptimizerState {
  /** The optimizer's class name (e.g. 'Adam'); restoreOptimizer checks it. */
  className: string;
  /** For each parameter group, the model names of its parameters in order. */
  paramNames: string[][];
  stateDict: OptimizerStateDict;
}

const BUFFER_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** The manifest entry (without file/sha256) and the state tensors of `optimizer` over `model`. */
export function encodeOptimizer(optimizer: SavableOptimizer, model: Module): { entry: JsonObject; tensors: Record<string, SafeTensor> } {
  const names = new Map<Tensor, string>(model.namedParameters().map(([n, p]) => [p, n]));
  const sd = optimizer.stateDict();
  const tensors: Record<string, SafeTensor> = {};
  const groups = optimizer.paramGroups.map((group, gi) => {
    const params = group.params.map((p, i) => {
      const name = names.get(p);
      if (name === undefined) throw new RangeError(`io.save: optimizer parameter group ${gi} item ${i} is not a parameter of the model`);
      return name;
    });
    const { paramSizes: _sizes, ...hyper } = sd.paramGroups[gi];
    checkJsonTree(hyper, `io.save: optimizer group ${gi} hyperparameters`);
    const state = sd.state[gi];
    const buffers = Object.keys(state.buffers);
    for (const b of buffers) {
      if (!BUFFER_NAME.test(b)) throw new RangeError(`io.save: optimizer state buffer name ${JSON.stringify(b)} is not supported`);
      const data = state.buffers[b];
      tensors[`${gi}.${b}`] = { dtype: 'F32', shape: [data.length], data };
    }
    return { params, hyper, steps: [...state.steps], buffers };
  });
  return { entry: { class: optimizer.constructor.name, groups }, tensors };
}

/**
 * Reads the manifest entry and state file back into a SavedOptimizerState, checking every field,
 * that each parameter name is a parameter of `model`, and every state tensor's name, dtype and size.
 */
export function decodeOptimizer(entry: ConfigReader, bytes: Uint8Array, model: Module, stateSource: string): SavedOptimizerState {
  const params = new Map<string, Parameter>(model.namedParameters());
  const className = entry.string('class');
  const { tensors } = decodeSafetensors(bytes, stateSource);
  const used = new Set<string>();
  const paramNames: string[][] = [];
  const stateDict: OptimizerStateDict = { paramGroups: [], state: [] };
  entry.array('groups').forEach((g, gi) => {
    const group: ConfigReader = isJsonObject(g)
      ? new ConfigReader(g, `${entry.where}.groups[${gi}]`)
      : entry.fail(`groups[${gi}] must be an object, got ${describe(g)}`);
    const names = group.strings('params');
    const sizes = names.map((n) => {
      const p = params.get(n);
      return p === undefined ? group.fail(`'${n}' is not a parameter of the model`) : p.size;
    });
    const hyper = group.object('hyper');
    for (const [k, v] of Object.entries(hyper)) checkHyperValue(group, k, v);
    const steps = group.ints('steps', 0);
    if (steps.length !== names.length) group.fail(`'steps' has ${steps.length} entries for ${names.length} parameters`);
    const total = sizes.reduce((a, b) => a + b, 0);
    const buffers: Record<string, Float32Array> = {};
    for (const b of group.strings('buffers')) {
      if (!BUFFER_NAME.test(b)) group.fail(`buffer name ${JSON.stringify(b)} is not valid`);
      const key = `${gi}.${b}`;
      const t = tensors[key];
      if (t === undefined) throw new FormatError(`${stateSource}: missing optimizer state tensor '${key}'`);
      if (t.dtype !== 'F32' || t.shape.length !== 1 || t.shape[0] !== total) {
        throw new FormatError(`${stateSource}: optimizer state tensor '${key}' is ${t.dtype} [${t.shape.join(',')}], expected F32 [${total}]`);
      }
      used.add(key);
      buffers[b] = t.data as Float32Array;
    }
    group.done();
    paramNames.push(names);
    stateDict.paramGroups.push({ ...(hyper as Record<string, number | boolean | number[]>), paramSizes: sizes });
    stateDict.state.push({ steps, buffers });
  });
  entry.done();
  const extra = Object.keys(tensors).filter((k) => !used.has(k));
  if (extra.length > 0) throw new FormatError(`${stateSource}: unexpected optimizer state tensor${extra.length > 1 ? 's' : ''} ${extra.map((k) => `'${k}'`).join(', ')}`);
  return { className, paramNames, stateDict };
}

function checkHyperValue(group: ConfigReader, key: string, v: Json): void {
  const ok = typeof v === 'number' || typeof v === 'boolean' || (Array.isArray(v) && v.every((x) => typeof x === 'number'));
  if (!ok) group.fail(`hyperparameter '${key}' must be a number, a boolean or an array of numbers, got ${describe(v)}`);
  if (key === 'params' || key === 'paramSizes') group.fail(`hyperparameter name '${key}' is reserved`);
}

/**
 * Loads saved optimizer state into `optimizer`, which must be of the same class and hold the same
 * parameters of `model` (by name), in the same groups and order, as the optimizer that was saved.
 * Hyperparameters (lr, betas, ...) are restored too, replacing those the optimizer was built with.
 */
export function restoreOptimizer(optimizer: SavableOptimizer, model: Module, saved: SavedOptimizerState): void {
  const op = 'io.restoreOptimizer';
  if (optimizer.constructor.name !== saved.className) {
    throw new TypeError(`${op}: the state was saved from a ${saved.className}, not a ${optimizer.constructor.name}`);
  }
  if (optimizer.paramGroups.length !== saved.paramNames.length) {
    throw new RangeError(`${op}: the optimizer has ${optimizer.paramGroups.length} parameter groups, the saved state ${saved.paramNames.length}`);
  }
  const names = new Map<Tensor, string>(model.namedParameters().map(([n, p]) => [p, n]));
  optimizer.paramGroups.forEach((group, gi) => {
    const want = saved.paramNames[gi];
    const have = group.params.map((p) => names.get(p) ?? '(not a parameter of the model)');
    if (have.length !== want.length || have.some((n, i) => n !== want[i])) {
      throw new RangeError(`${op}: group ${gi} holds [${have.join(', ')}], the saved state [${want.join(', ')}]`);
    }
  });
  optimizer.loadStateDict(saved.stateDict);
}

export function encodeOptimizerTensors(tensors: Record<string, SafeTensor>): Uint8Array {
  return encodeSafetensors(tensors, { format: 'tensorforge-optimizer' });
}
