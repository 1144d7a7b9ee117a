// A predictAsync worker: rebuilds models from their architecture JSON and safetensors weights (with
// the same validation as io.load), keeps a few by key, and runs batched eval-mode forwards.
//
// Threads: the native addon's thread pool is ONE per process, shared by the main thread and every
// worker, so a worker must not resize it (that would change the main thread's setting too). A
// worker's kernels use the pool when it is free and run on the worker's own thread when another
// thread is using it; results are bit-identical either way.

import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { setBackend } from '../backend/index.js';
import { moduleFromNode } from '../io/architecture.js';
import { parseJson } from '../io/json.js';
import { loadWeightsInto } from '../io/weights.js';
import type { Module } from '../nn/module.js';
import { Tensor } from '../tensor.js';
import { forwardInBatches } from './batches.js';
import type { PredictReply, PredictRequest, WorkerSetup } from './protocol.js';

const cache = new Map<string, Module>();

function buildModel(payload: NonNullable<PredictRequest['model']>): Module {
  const where = 'predictAsync architecture';
  const model = moduleFromNode(parseJson(payload.architecture, where), where, Math.floor(payload.weights.length / 4));
  loadWeightsInto(model, payload.weights, 'predictAsync weights');
  return model.eval();
}

function run(msg: PredictRequest): Tensor {
  for (const key of msg.evict) cache.delete(key);
  let model = cache.get(msg.key);
  if (model === undefined) {
    if (msg.model === undefined) throw new Error(`predictAsync: internal error: the worker does not hold model ${msg.key.slice(0, 12)}`);
    model = buildModel(msg.model);
  }
  // Most recently used last: the pool evicts from the front.
  cache.delete(msg.key);
  cache.set(msg.key, model);
  setBackend(msg.backend);
  return forwardInBatches(model, new Tensor(msg.x.data, msg.x.shape), msg.batchSize, 'predictAsync');
}

if (!isMainThread && parentPort !== null) {
  const port = parentPort;
  for (const path of (workerData as WorkerSetup).setup) require(path);
  port.on('message', (msg: PredictRequest) => {
    let reply: PredictReply;
    try {
      const y = run(msg);
      reply = { id: msg.id, ok: true, data: y.data, shape: [...y.shape], holds: [...cache.keys()] };
      // forwardInBatches allocated y's buffer for this reply alone, so it can move instead of copy.
      const buffer = y.data.buffer;
      port.postMessage(reply, buffer instanceof ArrayBuffer ? [buffer] : []);
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      reply = { id: msg.id, ok: false, error: { name: err.name, message: err.message, stack: err.stack ?? '' }, holds: [...cache.keys()] };
      port.postMessage(reply);
    }
  });
}
