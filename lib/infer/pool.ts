// PredictPool: a few worker_threads that run batched inference off the calling thread.
//
// Each call snapshots the model at once (architecture JSON + a SHA-256 key over every weight bit), so
// later changes to the model do not affect a call in flight. A worker keeps the last few models it
// built, by key; the weights are encoded and sent only to a worker that does not hold that key yet,
// so repeated calls on an unchanged model send only the input. Any weight change (optimizer step,
// loadStateDict, manual edit) changes the key, so a stale model is never used. The price is hashing
// the weights on every call (SHA-256 runs at several hundred MB/s; ~10 ms for a 1M-parameter model
// on a slow core).
//
// Scheduling: one job per worker at a time, first come first served; `size` calls run at the same
// time. Workers are unref'd while idle (they never keep the process alive) and exit after
// `idleTimeoutMs` without work, freeing their cached models.

import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { getBackend, type BackendName } from '../backend/index.js';
import { packageRoot } from '../backend/native.js';
import { moduleToNode } from '../io/architecture.js';
import { encodeWeights, modelTensors, weightsKey } from '../io/weights.js';
import type { Module } from '../nn/module.js';
import { Tensor } from '../tensor.js';
import { checkBatchSize, checkInput } from './batches.js';
import type { PredictReply, PredictRequest, WorkerSetup } from './protocol.js';

export interface PredictPoolOptions {
  /** Worker threads (calls that run at the same time). Default: min(2, available cores). */
  size?: number;
  /** A worker idle this long exits and frees its cached models. Default 30 000 ms. */
  idleTimeoutMs?: number;
  /** Models each worker keeps built. Default 4. */
  cacheSize?: number;
  /**
   * Absolute paths of modules each worker requires before its first job: the place to call
   * io.registerModule for user module classes, which the workers must know to rebuild a model.
   */
  setup?: string[];
}

export interface PredictOptions {
  /** Rows per forward call. Default 32. */
  batchSize?: number;
}

interface Job {
  id: number;
  key: string;
  architecture: string;
  weights: Uint8Array | null;
  x: { data: Float32Array | Int32Array; shape: number[] };
  batchSize: number;
  backend: BackendName;
  resolve: (t: Tensor) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  /** Model keys the worker holds, least recently used first (mirrors the worker's cache). */
  keys: string[];
  job: Job | null;
  idleTimer: NodeJS.Timeout | null;
  exited: boolean;
}

/** The compiled worker: next to this file when running from the build, else in the built package. */
function workerFile(): string {
  const sibling = join(__dirname, 'worker.js');
  if (__filename.endsWith('.js') && existsSync(sibling)) return sibling;
  const built = join(packageRoot(), 'dist', 'cjs', 'infer', 'worker.js');
  if (!existsSync(built)) {
    throw new Error(`predictAsync: the worker runs the built package, but ${built} is missing; run \`npm run build:ts\``);
  }
  return built;
}

/** An Error of the worker's class (TypeError/RangeError/...) with its message and both stacks. */
function rebuildError(e: { name: string; message: string; stack: string }): Error {
  const Ctor = e.name === 'TypeError' ? TypeError : e.name === 'RangeError' || e.name === 'FormatError' ? RangeError : Error;
  const err = new Ctor(e.message);
  if (err.name !== e.name) Object.defineProperty(err, 'name', { value: e.name, enumerable: false, configurable: true, writable: true });
  const workerFrames = e.stack.split('\n').filter((l) => l.trimStart().startsWith('at ')).join('\n');
  err.stack = `${err.stack ?? `${e.name}: ${e.message}`}\n    --- in the predictAsync worker ---\n${workerFrames}`;
  return err;
}

export class PredictPool {
  readonly size: number;
  readonly idleTimeoutMs: number;
  readonly cacheSize: number;
  private readonly setup: string[];
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  /** Calls made, and how many times a model's weights were sent to a worker (the rest hit a cache). */
  readonly stats = { calls: 0, modelsSent: 0 };

  constructor(options: PredictPoolOptions = {}) {
    const op = 'PredictPool';
    this.size = options.size ?? Math.min(2, availableParallelism());
    this.idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
    this.cacheSize = options.cacheSize ?? 4;
    this.setup = options.setup ?? [];
    if (!Number.isSafeInteger(this.size) || this.size < 1) throw new RangeError(`${op}: size must be an integer >= 1, got ${String(options.size)}`);
    if (!Number.isSafeInteger(this.cacheSize) || this.cacheSize < 1) throw new RangeError(`${op}: cacheSize must be an integer >= 1, got ${String(options.cacheSize)}`);
    if (typeof this.idleTimeoutMs !== 'number' || !(this.idleTimeoutMs >= 0)) {
      throw new RangeError(`${op}: idleTimeoutMs must be a number >= 0, got ${String(options.idleTimeoutMs)}`);
    }
    if (!Array.isArray(this.setup) || !this.setup.every((p) => typeof p === 'string')) throw new TypeError(`${op}: setup must be an array of module paths`);
  }

  /** Workers currently alive (started on demand, up to `size`). */
  get liveWorkers(): number {
    return this.slots.length;
  }

  /**
   * Runs `model` (in eval mode, without gradients) over x's rows in batches on a worker thread and
   * resolves with the concatenated output: bit-identical to forwardInBatches(model.eval(), x, batchSize)
   * on this thread with the same backend, ISA and kernels. The model must consist of built-in or
   * registered module classes (registered in the workers too: see `setup`).
   */
  async predict(model: Module, x: Tensor, options: PredictOptions = {}): Promise<Tensor> {
    const op = 'predictAsync';
    if (this.closed) throw new Error(`${op}: the pool is closed`);
    checkInput(op, x);
    const batchSize = checkBatchSize(op, options.batchSize ?? 32);
    this.stats.calls++;
    // Snapshot now: the caller may change the model while the job waits or runs.
    const architecture = JSON.stringify(moduleToNode(model, op));
    const tensors = modelTensors(model, op);
    const key = weightsKey(architecture, tensors);
    const everyoneHasIt = this.slots.length === this.size && this.slots.every((s) => s.keys.includes(key));
    const weights = everyoneHasIt ? null : this.sharedPayload(key) ?? encodeWeights(tensors);
    return new Promise<Tensor>((resolve, reject) => {
      this.queue.push({
        id: this.nextId++, key, architecture, weights, batchSize, backend: getBackend().name,
        x: { data: x.data.slice(), shape: [...x.shape] }, resolve, reject,
      });
      this.dispatch();
    });
  }

  /** Stops every worker; queued and running calls reject. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('predictAsync: the pool was closed before this call ran'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  /** A weights payload some queued job already holds for this key (concurrent calls share it). */
  private sharedPayload(key: string): Uint8Array | null {
    return this.queue.find((j) => j.key === key && j.weights !== null)?.weights ??
      this.slots.find((s) => s.job?.key === key && s.job.weights !== null)?.job?.weights ?? null;
  }

  private dispatch(): void {
    while (this.queue.length > 0 && !this.closed) {
      const job = this.queue[0];
      const idle = this.slots.filter((s) => s.job === null && !s.exited);
      let slot = idle.find((s) => s.keys.includes(job.key));
      if (slot === undefined && job.weights !== null) {
        slot = idle.length > 0 ? idle.reduce((a, b) => (b.keys.length < a.keys.length ? b : a)) : undefined;
        if (slot === undefined && this.slots.length < this.size) slot = this.spawn();
      }
      if (slot === undefined) {
        if (job.weights === null && !this.slots.some((s) => s.keys.includes(job.key))) {
          // Only after a worker died: nobody holds the model any more and this call did not keep it.
          this.queue.shift();
          job.reject(new Error('predictAsync: the worker holding this model exited before the call ran; call again'));
          continue;
        }
        return; // wait for a worker to finish
      }
      this.queue.shift();
      this.start(slot, job);
    }
  }

  private start(slot: Slot, job: Job): void {
    const held = slot.keys.includes(job.key);
    const evict: string[] = [];
    if (!held) {
      // Make room, least recently used first, never dropping a model a waiting call relies on.
      const pinned = new Set(this.queue.map((j) => j.key));
      for (const k of slot.keys) {
        if (slot.keys.length - evict.length < this.cacheSize) break;
        if (!pinned.has(k)) evict.push(k);
      }
    }
    slot.keys = [...slot.keys.filter((k) => !evict.includes(k) && k !== job.key), job.key];
    slot.job = job;
    if (slot.idleTimer !== null) clearTimeout(slot.idleTimer);
    slot.idleTimer = null;
    slot.worker.ref();
    const msg: PredictRequest = {
      id: job.id, key: job.key, evict, batchSize: job.batchSize, backend: job.backend, x: job.x,
      ...(held || job.weights === null ? {} : { model: { architecture: job.architecture, weights: job.weights } }),
    };
    if (msg.model !== undefined) this.stats.modelsSent++;
    const buffer = job.x.data.buffer;
    slot.worker.postMessage(msg, buffer instanceof ArrayBuffer ? [buffer] : []);
  }

  private spawn(): Slot {
    const worker = new Worker(workerFile(), { workerData: { setup: this.setup } satisfies WorkerSetup });
    const slot: Slot = { worker, keys: [], job: null, idleTimer: null, exited: false };
    worker.unref();
    worker.on('message', (reply: PredictReply) => this.finish(slot, reply));
    worker.on('error', (err) => this.fail(slot, err));
    worker.on('exit', (code) => this.fail(slot, new Error(`predictAsync: a worker exited with code ${code}`)));
    this.slots.push(slot);
    return slot;
  }

  private finish(slot: Slot, reply: PredictReply): void {
    const job = slot.job;
    slot.job = null;
    slot.keys = reply.holds;
    slot.worker.unref();
    if (!this.closed) {
      slot.idleTimer = setTimeout(() => void slot.worker.terminate(), this.idleTimeoutMs);
      slot.idleTimer.unref();
    }
    if (job !== null) {
      if (job.id !== reply.id) job.reject(new Error(`predictAsync: internal error: reply ${reply.id} for call ${job.id}`));
      else if (reply.ok) job.resolve(new Tensor(reply.data, reply.shape));
      else job.reject(rebuildError(reply.error));
    }
    this.dispatch();
  }

  /** A worker crashed or exited: its running call fails, the slot goes, waiting calls move on. */
  private fail(slot: Slot, err: Error): void {
    if (slot.exited) return;
    slot.exited = true;
    if (slot.idleTimer !== null) clearTimeout(slot.idleTimer);
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    const job = slot.job;
    slot.job = null;
    if (job !== null) job.reject(err);
    void slot.worker.terminate();
    this.dispatch();
  }
}
