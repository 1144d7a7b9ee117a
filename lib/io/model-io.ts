// io.save / io.load: a model directory.
//
//   <dir>/model.json                        manifest: format version, architecture, training/frozen
//                                           flags, and the names + SHA-256 of the files below
//   <dir>/weights-<sha256[0:16]>.safetensors   parameters and buffers by dotted name
//   <dir>/optimizer-<sha256[0:16]>.safetensors optimizer state buffers (only with { optimizer })
//
// Crash safety: data files are named by their content hash and written (atomically) BEFORE the
// manifest; the manifest is then switched atomically; only after that are files the new manifest no
// longer names removed. A crash at any point leaves the old manifest with its old files, or the new
// manifest with its new files: never a manifest pointing at the wrong weights. The SHA-256 in the
// manifest is checked on load, so a replaced or corrupted data file is refused, not half-trusted.

import { parseSchedulerState, type SchedulerState } from '../optim/lr_scheduler.js';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Module } from '../nn/module.js';
import { moduleFromNode, moduleToNode } from './architecture.js';
import { writeFileAtomic } from './atomic.js';
import { ConfigReader, FormatError, isJsonObject, parseJson } from './json.js';
import {
  decodeOptimizer, encodeOptimizer, encodeOptimizerTensors, type SavableOptimizer, type SavedOptimizerState,
} from './optimizer-state.js';
import { encodeWeights, loadWeightsInto, modelTensors, sha256 } from './weights.js';

export const FORMAT = 'tensorforge-model';
export const FORMAT_VERSION = 1;
export const MANIFEST = 'model.json';
const DATA_FILE = /^(weights|optimizer)-[0-9a-f]{16}\.safetensors$/;
const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;

export interface SaveOptions {
  /** Also save this optimizer's state (it must optimize parameters of `model`) to resume training. */
  optimizer?: SavableOptimizer;
  /** Also save this learning-rate scheduler's position (its stateDict(), JSON in model.json). */
  scheduler?: { stateDict(): SchedulerState };
}

export interface LoadResult {
  /** The rebuilt model: weights, buffers, train/eval flags and frozen parameters as saved. */
  model: Module;
  /** Present when the model was saved with { optimizer }; pass it to io.restoreOptimizer. */
  optimizerState?: SavedOptimizerState;
  /** Present when the model was saved with { scheduler }; pass it to that scheduler's loadStateDict. */
  schedulerState?: SchedulerState;
}

function dataFileName(kind: 'weights' | 'optimizer', hash: string): string {
  return `${kind}-${hash.slice(0, 16)}.safetensors`;
}

/**
 * Saves `model` (and optionally an optimizer's state) into directory `dir`, creating it if needed
 * and replacing a model saved there before. Synchronous; every file is written atomically.
 */
export function save(model: Module, dir: string, options: SaveOptions = {}): void {
  if (typeof dir !== 'string' || dir === '') throw new TypeError('io.save: path must be a non-empty string');
  // Everything is serialized in memory first, so an unsavable model fails before any file changes.
  const architecture = moduleToNode(model);
  const tensors = modelTensors(model);
  const weights = encodeWeights(tensors);
  const weightsHash = sha256(weights);
  const modules = model.namedModules();
  const manifest: Record<string, unknown> = {
    format: FORMAT,
    formatVersion: FORMAT_VERSION,
    architecture,
    training: model.training,
    // Module paths whose train/eval flag differs from the root's ('' is the root).
    trainingExceptions: modules.filter(([, m]) => m.training !== model.training).map(([name]) => name),
    frozen: model.namedParameters().filter(([, p]) => !p.requiresGrad).map(([name]) => name),
    weights: { file: dataFileName('weights', weightsHash), sha256: weightsHash },
  };
  const files: [string, Uint8Array][] = [[dataFileName('weights', weightsHash), weights]];
  if (options.optimizer !== undefined) {
    const { entry, tensors: state } = encodeOptimizer(options.optimizer, model);
    const bytes = encodeOptimizerTensors(state);
    const hash = sha256(bytes);
    manifest.optimizer = { ...entry, file: dataFileName('optimizer', hash), sha256: hash };
    files.push([dataFileName('optimizer', hash), bytes]);
  }
  if (options.scheduler !== undefined) {
    if (typeof options.scheduler?.stateDict !== 'function') throw new TypeError('io.save: scheduler must be an optim.* learning-rate scheduler');
    manifest.scheduler = parseSchedulerState('io.save: scheduler', options.scheduler.stateDict());
  }

  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new Error(`io.save: ${dir} exists and is not a directory`);
  mkdirSync(dir, { recursive: true });
  const created: string[] = [];
  try {
    for (const [name, bytes] of files) {
      const path = join(dir, name);
      if (!existsSync(path)) created.push(path);
      writeFileAtomic(path, bytes);
    }
    writeFileAtomic(join(dir, MANIFEST), `${JSON.stringify(manifest, null, 1)}\n`);
  } catch (e) {
    // The old manifest (if any) still names its own files; drop only what this save added.
    for (const path of created) rmSync(path, { force: true });
    throw e;
  }
  const keep = new Set(files.map(([name]) => name));
  for (const name of readdirSync(dir)) {
    if (DATA_FILE.test(name) && !keep.has(name)) rmSync(join(dir, name), { force: true });
  }
}

function readDataFile(dir: string, entry: ConfigReader, kind: 'weights' | 'optimizer'): { bytes: Uint8Array; path: string } {
  const file = entry.string('file');
  // Only our own file names: a manifest can never point outside its directory.
  if (!DATA_FILE.test(file) || !file.startsWith(`${kind}-`)) entry.fail(`'file' must be a ${kind}-<16 hex>.safetensors name, got ${JSON.stringify(file)}`);
  const hash = entry.string('sha256');
  if (!/^[0-9a-f]{64}$/.test(hash)) entry.fail(`'sha256' must be 64 lowercase hex digits`);
  const path = join(dir, file);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new FormatError(`${path}: cannot read the ${kind} file named by ${MANIFEST} (${(e as Error).message})`);
  }
  const actual = sha256(bytes);
  if (actual !== hash) {
    throw new FormatError(`${path}: SHA-256 ${actual.slice(0, 16)}... does not match ${hash.slice(0, 16)}... in ${MANIFEST} (the file was changed or damaged)`);
  }
  return { bytes, path };
}

/** Loads a model directory written by io.save, validating every file before trusting any of it. */
export function load(dir: string): LoadResult {
  if (typeof dir !== 'string' || dir === '') throw new TypeError('io.load: path must be a non-empty string');
  const manifestPath = join(dir, MANIFEST);
  let text: string;
  try {
    if (statSync(manifestPath).size > MAX_MANIFEST_BYTES) throw new Error(`larger than ${MAX_MANIFEST_BYTES} bytes`);
    text = readFileSync(manifestPath, 'utf8');
  } catch (e) {
    throw new FormatError(`io.load: ${manifestPath}: cannot read the model manifest (${(e as Error).message})`);
  }
  const json = parseJson(text, manifestPath);
  if (!isJsonObject(json)) throw new FormatError(`${manifestPath}: the manifest must be a JSON object`);
  const m: ConfigReader = new ConfigReader(json, manifestPath);
  const format = m.raw('format');
  if (format !== FORMAT) m.fail(`not a tensorforge model manifest ('format' is ${JSON.stringify(format)}, expected "${FORMAT}")`);
  const version = m.int('formatVersion', 1);
  if (version > FORMAT_VERSION) {
    m.fail(`format version ${version} was written by a newer tensorforge; this version reads up to ${FORMAT_VERSION}`);
  }

  const architecture = m.raw('architecture') ?? m.fail(`missing field 'architecture'`);
  const weights = readDataFile(dir, m.child('weights'), 'weights');
  // Every value is 4 bytes, so the file size bounds what the architecture may allocate.
  const model = moduleFromNode(architecture, manifestPath, Math.floor(weights.bytes.length / 4));
  loadWeightsInto(model, weights.bytes, weights.path);

  const modules = new Map(model.namedModules());
  const training = m.bool('training');
  model.train(training);
  for (const name of m.strings('trainingExceptions')) {
    const sub = modules.get(name);
    if (sub === undefined) m.fail(`trainingExceptions names '${name}', which is not a module of the architecture`);
    sub.training = !training;
  }
  const params = new Map(model.namedParameters());
  for (const name of m.strings('frozen')) {
    const p = params.get(name);
    if (p === undefined) m.fail(`frozen names '${name}', which is not a parameter of the architecture`);
    p.requiresGrad = false;
  }

  let optimizerState: SavedOptimizerState | undefined;
  if (m.has('optimizer')) {
    const entry = m.child('optimizer');
    const state = readDataFile(dir, entry, 'optimizer');
    optimizerState = decodeOptimizer(entry, state.bytes, model, state.path);
  }
  let schedulerState: SchedulerState | undefined;
  if (m.has('scheduler')) {
    try {
      schedulerState = parseSchedulerState('scheduler', m.raw('scheduler'));
    } catch (e) {
      m.fail((e as Error).message);
    }
  }
  m.done();
  return {
    model,
    ...(optimizerState === undefined ? {} : { optimizerState }),
    ...(schedulerState === undefined ? {} : { schedulerState }),
  };
}
