// predictAsync's native path: the batched forward recorded once as a kernel plan and replayed on a
// libuv thread by the addon (native/binding/plan.h), so no JS runs and the event loop stays free.
//
// A plan is recorded by running the model's forward once, on a snapshot of the model, with the addon's
// recorder armed: every kernel call is kept with its validated buffers. Replaying it on new input data
// is only right when the forward is a fixed sequence of kernels, so plans are made only for trees of
// built-in modules, and each new plan is checked before use: it is replayed on a second input and must
// reproduce the JS forward of that input bit for bit. Anything else (user modules, the reference
// backend, int32 input, a kernel that cannot be recorded, a failed check) goes to the worker pool.
//
// Recording and checking run one batch's forward each on this thread (with event-loop turns between
// them), once per model version and batch row count; after that, calls run no JS until they resolve.
//
// Plans are cached per model version (the pool's key: architecture + SHA-256 of every weight bit) and
// per batch row count. A plan's buffers are its own, so one plan runs one call at a time; concurrent
// calls on the same model record another plan.

import { noGrad } from '../autograd/graph.js';
import { getBackend, nativeAddon } from '../backend/index.js';
import type { KernelPlan, NativeAddon } from '../backend/native.js';
import { isBuiltinModuleTree, moduleFromNode, moduleToNode } from '../io/architecture.js';
import { parseJson } from '../io/json.js';
import { encodeWeights, loadWeightsInto, modelTensors, weightsKey } from '../io/weights.js';
import type { Module } from '../nn/module.js';
import { withPackedWeights } from '../ops/packed-weights.js';
import { Tensor, formatShape, sameBits } from '../tensor.js';

/**
 * A full event-loop turn, timers included: setImmediate alone can resume in the same loop iteration,
 * so two steps of plan building could still block timers back to back. Plans are built rarely; ~1 ms.
 */
function letTimersRun(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

interface Plan {
  handle: KernelPlan;
  input: Float32Array;
  output: Float32Array;
  /** Output shape without the batch axis. */
  rowShape: number[];
  busy: boolean;
}

interface ModelEntry {
  model: Module;
  plans: Map<number, Plan[]>;
  /**
   * The buffer the last call copied its input into, kept for the next call of the same size while idle:
   * a fresh copy of a big input costs twice the copy itself in first-touch page faults.
   */
  staging: Float32Array | null;
}

/** Inputs up to this many floats (64 MB) keep their staging copy between calls; bigger ones do not. */
const MAX_STAGING_FLOATS = 16 * 1024 * 1024;

/** A private copy of x's data: the entry's idle staging buffer when it has x's size, else a new one. */
function takeStaging(entry: ModelEntry, x: Float32Array): Float32Array {
  const kept = entry.staging;
  if (kept !== null && kept.length === x.length) {
    entry.staging = null; // busy until given back
    kept.set(x);
    return kept;
  }
  return x.slice();
}

function giveBackStaging(entry: ModelEntry, staging: Float32Array): void {
  if (staging.length <= MAX_STAGING_FLOATS) entry.staging = staging;
}

/** Model versions kept with their plans, least recently used first. */
const CACHE_SIZE = 4;
const cache = new Map<string, ModelEntry>();

/** Why a call cannot take the native path ('' when it can), before any work. */
export function nativePlanUnavailable(model: Module, x: Tensor): string {
  if (getBackend().name !== 'native') return 'the active backend is not native';
  const addon = nativeAddon();
  if (addon === undefined || typeof addon.planRun !== 'function') return 'the addon has no plan support';
  if (x.dtype !== 'float32') return 'x is not float32';
  if (!isBuiltinModuleTree(model)) return 'the model contains non-built-in module classes';
  return '';
}

/** The cached snapshot of this model version, or a new one (eval mode). */
function entryFor(model: Module, op: string): ModelEntry {
  const architecture = JSON.stringify(moduleToNode(model, op));
  const tensors = modelTensors(model, op);
  const key = weightsKey(architecture, tensors);
  let entry = cache.get(key);
  if (entry === undefined) {
    const weights = encodeWeights(tensors);
    const snapshot = moduleFromNode(parseJson(architecture, op), op, Math.floor(weights.length / 4));
    loadWeightsInto(snapshot, weights, op);
    entry = { model: snapshot.eval(), plans: new Map(), staging: null };
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  }
  cache.delete(key);
  cache.set(key, entry); // most recently used last
  return entry;
}

function forward(model: Module, data: Float32Array, shape: number[]): Tensor {
  return noGrad(() => withPackedWeights(() => model.forward(new Tensor(data, shape))));
}

/**
 * Records the forward over `rows` rows (sample: those rows' data) and checks the plan. Returns the plan,
 * or a string saying why this model cannot run natively. Errors of the forward itself are thrown.
 */
async function recordPlan(addon: NativeAddon, entry: ModelEntry, op: string, sample: Float32Array, shape: number[]): Promise<Plan | string> {
  const rows = shape[0];
  const input = new Float32Array(sample);
  addon.planBegin();
  let y: Tensor;
  try {
    y = forward(entry.model, input, shape);
  } catch (e) {
    try {
      addon.planEnd();
    } catch {
      // discarded with the failed forward
    }
    throw e;
  }
  let handle: KernelPlan;
  try {
    handle = addon.planEnd();
  } catch (e) {
    return (e as Error).message;
  }
  if (!(y instanceof Tensor) || y.rank < 1 || y.shape[0] !== rows) {
    const got = y instanceof Tensor ? `shape ${formatShape(y.shape)}` : 'a non-Tensor';
    throw new RangeError(`${op}: the model returned ${got} for a batch of ${rows} rows; the output needs ${rows} rows`);
  }
  if (!(y.data instanceof Float32Array)) return 'the model output is not float32';
  const plan: Plan = { handle, input, output: y.data, rowShape: y.shape.slice(1), busy: true };
  await letTimersRun(); // the forwards run on this thread: let timers and I/O in between them
  // The check: another input through the plan and through the JS forward must agree bit for bit.
  const probe = new Float32Array(sample.length);
  for (let i = 0; i < probe.length; i++) probe[i] = sample[i] * 0.5 + (i % 7) * 0.125 - 0.25;
  const want = forward(entry.model, probe.slice(), shape).data;
  const got = new Float32Array(plan.output.length);
  try {
    await addon.planRun(handle, input, plan.output, probe, got, 1);
  } catch (e) {
    return `the recorded plan could not run (${(e as Error).message})`;
  } finally {
    plan.busy = false;
  }
  if (!(want instanceof Float32Array) || !sameBits(got, want)) return 'the recorded plan does not reproduce the forward pass';
  return plan;
}

/** An idle plan for this row count, recorded if none is free; marked busy. */
async function takePlan(addon: NativeAddon, entry: ModelEntry, op: string, sample: Float32Array, shape: number[]): Promise<Plan | string> {
  const list = entry.plans.get(shape[0]) ?? [];
  const idle = list.find((p) => !p.busy);
  if (idle !== undefined) {
    idle.busy = true;
    return idle;
  }
  const made = await recordPlan(addon, entry, op, sample, shape);
  if (typeof made === 'string') return made;
  made.busy = true;
  entry.plans.set(shape[0], [...list, made]);
  return made;
}

/**
 * model.forward over x's rows in batches on a libuv thread, bit-identical to forwardInBatches on this
 * thread; resolves null (with nothing run) when this model or input cannot take the native path.
 * The model and x are snapshotted at the call.
 */
export async function predictNative(model: Module, x: Tensor, batchSize: number, op = 'predictAsync'): Promise<Tensor | null> {
  if (nativePlanUnavailable(model, x) !== '') return null;
  const addon = nativeAddon()!;
  const entry = entryFor(model, op);
  const data = takeStaging(entry, x.data as Float32Array); // the caller may change x while this runs
  try {
    return await runParts(addon, entry, op, x, data, batchSize);
  } finally {
    giveBackStaging(entry, data);
  }
}

/** predictNative's batches over `data` (the private copy of x's data), part by part. */
async function runParts(addon: NativeAddon, entry: ModelEntry, op: string, x: Tensor, data: Float32Array, batchSize: number): Promise<Tensor | null> {
  await letTimersRun(); // the snapshot (hashing every weight, copying x) ran on this thread
  const n = x.shape[0];
  const inRow = x.size / n;
  const rest = x.shape.slice(1);
  const full = Math.floor(n / batchSize);
  const tail = n - full * batchSize;
  const parts: { rows: number; batches: number; begin: number }[] = [];
  if (full > 0) parts.push({ rows: batchSize, batches: full, begin: 0 });
  if (tail > 0) parts.push({ rows: tail, batches: 1, begin: full * batchSize });

  let y: Float32Array | null = null;
  let rowShape: number[] = [];
  for (const part of parts) {
    const sample = data.subarray(part.begin * inRow, (part.begin + part.rows) * inRow);
    const plan = await takePlan(addon, entry, op, sample, [part.rows, ...rest]);
    if (typeof plan === 'string') return null;
    try {
      const outRow = plan.output.length / part.rows;
      if (y === null) {
        rowShape = plan.rowShape;
        y = new Float32Array(n * outRow);
      } else if (plan.rowShape.length !== rowShape.length || plan.rowShape.some((d, i) => d !== rowShape[i])) {
        throw new RangeError(`${op}: batch outputs differ: [${plan.rowShape.join(',')}] rows after [${rowShape.join(',')}] rows`);
      }
      const xs = data.subarray(part.begin * inRow, (part.begin + part.rows * part.batches) * inRow);
      const ys = y.subarray(part.begin * outRow, (part.begin + part.rows * part.batches) * outRow);
      await addon.planRun(plan.handle, plan.input, plan.output, xs, ys, part.batches);
    } finally {
      plan.busy = false;
    }
  }
  return new Tensor(y!, [n, ...rowShape]);
}

/** Drops every cached snapshot and plan (tests; frees native memory once collected). */
export function clearNativePlans(): void {
  cache.clear();
}
