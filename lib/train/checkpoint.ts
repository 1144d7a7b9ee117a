// ModelCheckpoint: saves the model at the end of epochs (every epoch, or only when the monitored value
// improves). Saving goes through a `save(model, path)` function; the default writes the state dict
// (parameters and buffers, by dotted name) as a safetensors file, atomically.

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Module } from '../nn/module.js';
import { writeFileAtomic } from '../io/atomic.js';
import { encodeSafetensors, type SafeTensor } from '../io/safetensors.js';
import { checkMode, improves, monitored, type Callback, type FitContext } from './callbacks.js';
import type { Logs } from './history.js';

export type SaveFn = (model: Module, path: string) => void | Promise<void>;

/**
 * Writes model.stateDict() to `path` as safetensors (F32/I32 tensors keyed by dotted names, metadata
 * format=tensorforge-state-dict), creating the directory if needed. Atomic: a crash leaves the old
 * file or the new one, never a torn one.
 */
export function saveStateDict(model: Module, path: string): void {
  const tensors: Record<string, SafeTensor> = {};
  for (const [name, t] of Object.entries(model.stateDict())) {
    tensors[name] = { dtype: t.dtype === 'int32' ? 'I32' : 'F32', shape: [...t.shape], data: t.data };
  }
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, encodeSafetensors(tensors, { format: 'tensorforge-state-dict' }));
}

export interface ModelCheckpointOptions {
  /**
   * Where to save. `{epoch}` becomes the 1-based epoch number (zero-padded to 2 digits); `{key}` for any
   * log key becomes its value with 4 decimals, e.g. 'ckpt/model-{epoch}-{val_loss}.safetensors'.
   */
  path: string;
  /** Log key that decides "best" (default 'val_loss'). */
  monitor?: string;
  /** Save only when the monitored value improves on the best so far (default false: every epoch). */
  saveBestOnly?: boolean;
  /** 'min', 'max', or 'auto' (default: 'max' for accuracy-like keys, else 'min'). */
  mode?: 'auto' | 'min' | 'max';
  /** Save every this many epochs (default 1). */
  every?: number;
  /** How to write (default saveStateDict). Pass io.save to write the full model. */
  save?: SaveFn;
}

export class ModelCheckpoint implements Callback {
  readonly path: string;
  readonly monitor: string;
  readonly saveBestOnly: boolean;
  readonly mode: 'auto' | 'min' | 'max';
  readonly every: number;
  readonly save: SaveFn;
  /** Best monitored value so far (saveBestOnly) and every path written, in order. */
  best = NaN;
  readonly saved: string[] = [];
  private direction: 'min' | 'max' = 'min';

  constructor(options: ModelCheckpointOptions) {
    const op = 'ModelCheckpoint';
    if (options === null || typeof options !== 'object') throw new TypeError(`${op}: expected options { path, ... }`);
    if (typeof options.path !== 'string' || options.path === '') throw new TypeError(`${op}: path must be a non-empty string, got ${String(options.path)}`);
    this.path = options.path;
    this.monitor = options.monitor ?? 'val_loss';
    this.saveBestOnly = options.saveBestOnly ?? false;
    this.mode = checkMode(op, options.mode ?? 'auto');
    this.every = options.every ?? 1;
    if (!Number.isInteger(this.every) || this.every < 1) throw new RangeError(`${op}: every must be an integer >= 1, got ${String(options.every)}`);
    this.save = options.save ?? saveStateDict;
    if (typeof this.save !== 'function') throw new TypeError(`${op}: save must be a function (model, path) => void | Promise<void>`);
  }

  /** The path for one epoch's save (placeholders filled in). */
  formatPath(epoch: number, logs: Logs): string {
    return this.path.replace(/\{([A-Za-z0-9_]+)\}/g, (whole, key: string) => {
      if (key === 'epoch') return String(epoch + 1).padStart(2, '0');
      const v = logs[key];
      if (v === undefined) throw new RangeError(`ModelCheckpoint: path placeholder ${whole} is not a log key (${Object.keys(logs).join(', ')})`);
      return v.toFixed(4);
    });
  }

  onTrainBegin(ctx: FitContext): void {
    this.direction = this.mode === 'auto' ? ctx.modeOf(this.monitor) : this.mode;
    this.best = this.direction === 'min' ? Infinity : -Infinity;
  }

  async onEpochEnd(epoch: number, logs: Logs, ctx: FitContext): Promise<void> {
    if ((epoch + 1) % this.every !== 0) return;
    if (this.saveBestOnly) {
      const current = monitored('ModelCheckpoint', this.monitor, logs);
      if (!improves(current, this.best, this.direction)) return;
      this.best = current;
    }
    const path = this.formatPath(epoch, logs);
    await this.save(ctx.model, path);
    this.saved.push(path);
  }
}
