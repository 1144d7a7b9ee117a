// fit's training step as one recorded kernel plan (native/binding/plan.h), replayed batch after batch:
// the forward, the loss and the backward of a batch then run as one native call, with no autograd
// graph, tensor objects or kernel-argument checks built in JS. The optimizer update stays in JS (it
// reads the learning rate and step count, which change), as do the metrics and callbacks.
//
// How a fit gets there (states below):
//   1. warmup: the first batch runs the plain JS step, so every trained parameter has its gradient
//      buffer (the optimizer's flat buffer) before anything is recorded: the recorded backward must
//      write into those buffers, not into fresh ones that JS would copy over.
//   2. record: the next batch of the same shape runs the JS step with the addon's recorder armed, on
//      private copies of its x and y (the buffers each later batch is gathered or copied into).
//   3. verify: the next such batch runs both ways: replayed, then through JS from the same state. The
//      loss, the output, every gradient and every module buffer must agree bit for bit, or the plan is
//      dropped. This catches a step that computes anything in JS between kernels (a replay would repeat
//      the recorded value): such a model simply keeps the JS step.
//   4. ready: replays. Batches of another shape (an epoch's last, smaller one) run the JS step.
//   5. with 2 or more threads, when fit gathers its batches from a plain Dataset (gatherFrom), a second
//      plan is recorded and verified the same way on private x and y of its own. The two then take
//      turns, and each replay hands planReplay the gather of the next batch (fit tells it, upcoming)
//      into the other plan's inputs: the pool's idle thread copies those rows while this step's
//      one-core kernels run (in the MLP of bench-train, a fifth of a step is such kernels), instead of
//      both threads gathering between steps. The next batch is thus read from the dataset one step
//      early: a callback that rewrites the training arrays in place mid-epoch reaches the replays a
//      batch later. Skipped when the recorded arrays exceed PAIR_MAX_BYTES (a second plan doubles the
//      step's activation memory).
// Replays are only tried for trees of built-in modules and a named loss (user code could have side
// effects a replay would skip), on the native backend, and only while nothing the recording captured
// changed: the parameters' data and gradient arrays, the module buffers' arrays, which parameters
// train, every module's train/eval flag, and (checked after user callbacks ran) the modules'
// configuration, e.g. a dropout rate (a callback may swap weights in, freeze a layer or change a rate;
// the step is then recorded again).
// Dropout draws one seed per call from the global generator for its mask: a replay draws the same
// seeds in the same order and hands them to the plan's seed cells, so masks match the JS step's.
// Batch norm in training mode updates its running statistics (module buffers) in its kernel, so a
// replay does too; the verifying step runs the replay and the JS step from the same buffer values.

import { getBackend, nativeAddon } from '../backend/index.js';
import type { KernelPlan, NativeAddon, PlanGather } from '../backend/native.js';
import { isBuiltinModuleTree, moduleToNode } from '../io/architecture.js';
import { globalGenerator } from '../random.js';
import type { Module, Parameter } from '../nn/module.js';
import type { Batch } from '../data/dataset.js';
import { Tensor, sameBits } from '../tensor.js';
import type { LossFn } from './resolve.js';
import { computeLoss } from './resolve.js';

/** What one optimizer needs from fit here (the optimizers of lib/optim). */
interface StepOptimizer {
  zeroGrad(): void;
  step(): void;
}

export interface StepResult {
  out: Tensor;
  value: number;
}

/** Throws fit's error for a non-finite loss; `where` names the step. */
function checkFinite(value: number, where: () => string): void {
  if (!Number.isFinite(value)) {
    throw new Error(
      `fit: the loss is ${value} at ${where()}; training stopped before this step changed the weights. ` +
        'Try a lower learning rate, check the data for NaN/Infinity, or scale the inputs.',
    );
  }
}

/** How many times a fit may record its step again after something it captured changed. */
const MAX_RECORDINGS = 4;

/** A second plan (state 5 above) only while the first one's arrays take at most this many bytes. */
const PAIR_MAX_BYTES = 256 * 2 ** 20;

/** Where fit's batches come from, for the gather planReplay runs ahead (the dataset's arrays). */
export interface BatchSource {
  x: Tensor;
  y: Tensor;
}

interface Recorded {
  handle: KernelPlan;
  x: Tensor;
  y: Tensor;
  out: Tensor;
  loss: Tensor;
  /** Per parameter at recording: its data array, gradient array (or null) and requiresGrad. */
  data: Float32Array[];
  grads: (Float32Array | null)[];
  trains: boolean[];
  /** Every module's training flag at recording, in namedModules order. */
  modes: boolean[];
  /** The architecture (every module's configuration) as JSON at recording. */
  architecture: string;
  /** Each module buffer (running statistics) at recording, and its data array then. */
  bufferTensors: Tensor[];
  buffers: ArrayBufferView[];
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** fit's gradient steps: the JS step, or the recorded plan once it has been verified. */
export class TrainingStep {
  /** Steps that ran as replays. */
  replayed = 0;
  /** Batches a replay gathered ahead, that the next step then used. */
  gatheredAhead = 0;
  /** Why steps ran through JS ('' while nothing stood in the way). */
  note = '';
  private state: 'warmup' | 'record' | 'verify' | 'ready' | 'off';
  /** Verified plans (one, or two taking turns), and the one the next replay runs. */
  private plans: Recorded[] = [];
  private turn = 0;
  /** A plan recorded and not yet verified. */
  private pending: Recorded | null = null;
  private recordings = 0;
  /** The dataset fit gathers from (null: no gathering ahead, one plan). */
  private source: BatchSource | null = null;
  /** The batch after the one about to run (fit sets it before each step); null at an epoch's end. */
  upcoming: Int32Array | null = null;
  /** The batch the last replay gathered into plans[turn]'s inputs. */
  private prefetched: Int32Array | null = null;
  /**
   * One plan is verified and a second is to be recorded next: a batch source, 2+ threads, arrays small
   * enough (decided when the first was verified; cleared when the second is, or on a drop).
   */
  private secondPlanDue = false;
  /** User callbacks ran since the configuration was last compared with the recording's. */
  private userCodeRan = false;
  private readonly addon: NativeAddon | undefined;
  private readonly params: Parameter[];
  private readonly modules: Module[];
  /** The loader's batch size: only a batch of that many rows is recorded (not an epoch's short last one). */
  private readonly batchRows: number;

  constructor(
    private readonly model: Module,
    private readonly optimizer: StepOptimizer,
    private readonly loss: LossFn,
    options: { enabled: boolean; lossIsNamed: boolean; batchRows: number },
  ) {
    this.params = model.parameters();
    this.modules = model.namedModules().map(([, m]) => m);
    this.batchRows = options.batchRows;
    this.addon = nativeAddon();
    this.state = 'warmup';
    const off = (why: string) => {
      this.state = 'off';
      this.note = why;
    };
    if (!options.enabled) off('disabled by the nativeStep option');
    else if (getBackend().name !== 'native') off('the active backend is not native');
    else if (this.addon === undefined || typeof this.addon.planReplay !== 'function') off('the addon has no plan replay');
    else if (!isBuiltinModuleTree(model)) off('the model contains non-built-in module classes');
    else if (!options.lossIsNamed) off('the loss is a function (only named losses are replayed)');
  }

  /** fit ran user callbacks: before the next replay, compare the modules' configuration again. */
  noteUserCode(): void {
    this.userCodeRan = true;
  }

  /**
   * The recorded step's own x and y when a batch of `rows` rows would be replayed now: fit gathers the
   * batch straight into them (Dataset.batchInto), and the replay then copies nothing. Null otherwise.
   */
  replayInputs(rows: number): { x: Tensor; y: Tensor } | null {
    if (this.state !== 'ready' || this.secondPlanDue) return null;
    const r = this.plans[this.turn];
    return r.x.shape[0] === rows ? { x: r.x, y: r.y } : null;
  }

  /**
   * fit gathers from a plain Dataset with these arrays: replays may gather its next batch ahead (into a
   * second plan's inputs, state 5 above).
   */
  gatherFrom(source: BatchSource): void {
    this.source = source;
  }

  /** The batch `indices` when the last replay already gathered it (into the next plan's inputs), else null. */
  takePrefetched(indices: Int32Array): Batch | null {
    const ready = this.prefetched === indices && this.state === 'ready' && this.plans.length === 2;
    this.prefetched = null;
    if (!ready) return null;
    const r = this.plans[this.turn];
    this.gatheredAhead++;
    return { x: r.x, y: r.y, indices };
  }

  /** One gradient step on `batch`: forward, loss, backward, optimizer update. */
  run(batch: Batch, where: () => string): StepResult {
    const y = batch.y!;
    if (this.state === 'ready' && this.fits(this.plans[this.turn], batch.x, y)) {
      const r = this.plans[this.turn];
      if (!this.unchanged(r)) {
        this.drop('something the recording captured changed (a parameter, gradient or buffer array, requiresGrad, a train/eval mode or a module setting)');
        if (this.recordings < MAX_RECORDINGS) this.state = 'record';
        return this.jsStep(batch.x, y, where);
      }
      if (this.secondPlanDue) return this.record(batch, where);
      return this.replay(r, batch, where);
    }
    const p = this.pending;
    if (this.state === 'verify' && p !== null && this.fits(p, batch.x, y)) return this.verify(p, batch, where);
    if (this.state === 'record' && batch.x.shape[0] === this.batchRows) return this.record(batch, where);
    const result = this.jsStep(batch.x, y, where);
    if (this.state === 'warmup') this.state = 'record';
    return result;
  }

  /** The plain step: the autograd graph on this thread. */
  private jsStep(x: Tensor, y: Tensor, where: () => string): StepResult {
    const result = this.jsGradients(x, y, where);
    this.optimizer.step();
    return result;
  }

  /** The plain step up to the gradients (no update): forward, loss (checked finite), backward. */
  private jsGradients(x: Tensor, y: Tensor, where: () => string): StepResult {
    this.optimizer.zeroGrad();
    const out = this.model.forward(x);
    const loss = computeLoss('fit', this.loss, out, y);
    const value = loss.item();
    checkFinite(value, where);
    loss.backward();
    return { out, value };
  }

  private fits(r: Recorded, x: Tensor, y: Tensor): boolean {
    return x.dtype === r.x.dtype && y.dtype === r.y.dtype && sameShape(x.shape, r.x.shape) && sameShape(y.shape, r.y.shape);
  }

  private unchanged(r: Recorded): boolean {
    for (let i = 0; i < this.params.length; i++) {
      const p = this.params[i];
      if (p.data !== r.data[i] || (p.storedGrad()?.data ?? null) !== r.grads[i] || p.requiresGrad !== r.trains[i]) return false;
    }
    for (let i = 0; i < this.modules.length; i++) if (this.modules[i].training !== r.modes[i]) return false;
    for (let i = 0; i < r.bufferTensors.length; i++) if (r.bufferTensors[i].data !== r.buffers[i]) return false;
    if (this.userCodeRan) {
      // Only user code assigns a module a new buffer tensor or changes its configuration; comparing the
      // architecture takes ~15 us for a LeNet-sized model, so it waits until such code ran.
      const tensors = this.bufferTensors();
      if (tensors.length !== r.bufferTensors.length || tensors.some((t, i) => t !== r.bufferTensors[i])) return false;
      if (this.architecture() !== r.architecture) return false;
      this.userCodeRan = false;
    }
    return true;
  }

  /** Every module buffer, now (a callback may assign a new tensor to one). */
  private bufferTensors(): Tensor[] {
    return this.model.namedBuffers().map(([, t]) => t);
  }

  private architecture(): string {
    return JSON.stringify(moduleToNode(this.model, 'fit'));
  }

  private drop(why: string): void {
    this.plans = [];
    this.turn = 0;
    this.pending = null;
    this.prefetched = null;
    this.secondPlanDue = false;
    this.state = 'off';
    this.note = why;
  }

  /**
   * The JS step on private copies of the batch, recorded; the plan is verified on the next batch. (The
   * first plan, or the second: recorded from the same modules, it differs only in its arrays.)
   */
  private record(batch: Batch, where: () => string): StepResult {
    const addon = this.addon!;
    const x = new Tensor(batch.x.data.slice(), batch.x.shape);
    const y = new Tensor(batch.y!.data.slice(), batch.y!.shape);
    if (this.plans.length === 0) this.recordings++; // (a second plan is part of the same recording)
    this.optimizer.zeroGrad();
    addon.planBegin();
    let out: Tensor;
    let loss: Tensor;
    try {
      out = this.model.forward(x);
      loss = computeLoss('fit', this.loss, out, y);
      loss.backward();
    } catch (e) {
      try {
        addon.planEnd();
      } catch {
        // discarded with the failed step
      }
      throw e;
    }
    let handle: KernelPlan | null = null;
    try {
      handle = addon.planEnd();
    } catch (e) {
      this.drop((e as Error).message);
    }
    const value = loss.item();
    checkFinite(value, where);
    // A loss or module that reads the batch in JS (nll builds its one-hot mask from y) would replay with
    // the recorded batch's values: such a step keeps the JS path.
    if (handle !== null && !(addon.planUses(handle, x.data) && addon.planUses(handle, y.data))) {
      handle = null;
      this.drop("the recorded step does not read the batch's x and y through kernels (the loss or a module reads them in JS)");
    }
    if (handle !== null) {
      const bufferTensors = this.bufferTensors();
      this.pending = {
        handle, x, y, out, loss,
        data: this.params.map((p) => p.data as Float32Array),
        grads: this.params.map((p) => (p.storedGrad()?.data as Float32Array | undefined) ?? null),
        trains: this.params.map((p) => p.requiresGrad),
        modes: this.modules.map((m) => m.training),
        architecture: this.architecture(),
        bufferTensors,
        buffers: bufferTensors.map((t) => t.data),
      };
      this.userCodeRan = false;
      this.state = 'verify';
    }
    this.optimizer.step();
    return { out, value };
  }

  /**
   * Replays the plan on `batch`: copies x and y in, draws the step's dropout seeds from the global
   * generator (as the JS step's dropout calls would, in the same order), runs the recorded kernels,
   * reads the loss.
   */
  private runPlan(r: Recorded, batch: Batch, ahead: PlanGather[] = []): number {
    this.optimizer.zeroGrad();
    const own = batch.x === r.x && batch.y === r.y; // gathered in place (replayInputs, takePrefetched)
    const seeds = new Uint32Array(r.handle.seeds);
    for (let i = 0; i < seeds.length; i++) seeds[i] = globalGenerator.nextUint32();
    this.addon!.planReplay(r.handle, own ? [] : [batch.x.data, batch.y!.data], own ? [] : [r.x.data, r.y.data], seeds, ahead);
    // The replay wrote every gradient the recorded backward wrote (over the deferred zeros).
    for (let i = 0; i < this.params.length; i++) if (r.grads[i] !== null) this.params[i].gradStandsForZero = false;
    return (r.loss.data as Float32Array)[0];
  }

  private replay(r: Recorded, batch: Batch, where: () => string): StepResult {
    const ahead = this.gatherAhead();
    const value = this.runPlan(r, batch, ahead);
    this.turn = (this.turn + 1) % this.plans.length;
    if (ahead.length > 0) this.prefetched = this.upcoming;
    checkFinite(value, where);
    this.optimizer.step();
    this.replayed++;
    return { out: r.out, value };
  }

  /** With two plans: the next batch's gather into the other plan's inputs, when it is a full one. */
  private gatherAhead(): PlanGather[] {
    const next = this.upcoming;
    const source = this.source;
    if (this.plans.length !== 2 || next === null || source === null) return [];
    const other = this.plans[(this.turn + 1) % 2];
    if (next.length !== other.x.shape[0] || source.x.dtype !== other.x.dtype || source.y.dtype !== other.y.dtype) return [];
    return [
      { source: source.x.data, indices: next, target: other.x.data },
      { source: source.y.data, indices: next, target: other.y.data },
    ];
  }

  /** The replay and the JS step on the same batch from the same weights must agree bit for bit. */
  private verify(r: Recorded, batch: Batch, where: () => string): StepResult {
    // The JS step below must start from where the replay started: the same generator state (it draws
    // the same dropout seeds) and the same module buffers (batch norm updates its running statistics).
    const random = globalGenerator.saveState();
    const buffers = r.buffers as Float32Array[];
    const buffersBefore = buffers.map((b) => b.slice());
    const value = this.runPlan(r, batch);
    const replayOut = (r.out.data as Float32Array).slice();
    const replayGrads = r.grads.map((g) => g?.slice() ?? null);
    const replayBuffers = buffers.map((b) => b.slice());
    globalGenerator.restoreState(random);
    buffers.forEach((b, i) => b.set(buffersBefore[i]));
    const { out, value: jsValue } = this.jsGradients(batch.x, batch.y!, where);
    const same =
      Object.is(Math.fround(value), Math.fround(jsValue)) &&
      sameBits(replayOut, out.data as Float32Array) &&
      r.grads.every((g, i) => g === null || sameBits(replayGrads[i]!, g)) &&
      buffers.every((b, i) => sameBits(replayBuffers[i], b));
    this.pending = null;
    if (same) {
      this.plans.push(r);
      this.turn = 0;
      this.state = 'ready';
      this.secondPlanDue = this.plans.length === 1 && this.source !== null && r.handle.bytes <= PAIR_MAX_BYTES &&
        this.addon!.backendInfo().numThreads >= 2;
    } else {
      this.drop('the recorded step did not reproduce the JS step bit for bit');
    }
    this.optimizer.step();
    return { out, value: jsValue };
  }
}
