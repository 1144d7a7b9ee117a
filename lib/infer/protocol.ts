// Messages between a PredictPool (main side) and its workers. Plain data only (structured clone);
// the input and output arrays are transferred, not copied.

import type { BackendName } from '../backend/index.js';

export interface PredictRequest {
  id: number;
  /** Identifies the model version (architecture + weights); the worker caches models by it. */
  key: string;
  /** Keys the worker must drop from its cache before this job (the pool decides evictions). */
  evict: string[];
  /** Sent only when the worker does not hold `key` yet. */
  model?: { architecture: string; weights: Uint8Array };
  x: { data: Float32Array | Int32Array; shape: number[] };
  batchSize: number;
  backend: BackendName;
}

export type PredictReply =
  | { id: number; ok: true; data: Float32Array | Int32Array; shape: number[]; holds: string[] }
  | { id: number; ok: false; error: { name: string; message: string; stack: string }; holds: string[] };

export interface WorkerSetup {
  /** Modules each worker requires before its first job (e.g. ones that call io.registerModule). */
  setup: string[];
}
