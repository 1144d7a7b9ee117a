// Learning-rate schedules (PyTorch torch.optim.lr_scheduler semantics). A scheduler remembers each
// group's initial lr, sets the lr for epoch 0 when built, and moves one epoch per step() (call it
// after optimizer.step(), once per epoch or per iteration, as you choose). The closed-form schedules
// compute lr(t) from the initial lr, so they compose cleanly with a warm-up.

import { checkHyper } from './optimizer.js';

/** What a scheduler needs from an optimizer: its groups' learning rates. */
export interface LrOwner {
  paramGroups: { lr: number }[];
}

function checkOptimizer(name: string, optimizer: LrOwner): void {
  if (!optimizer || !Array.isArray(optimizer.paramGroups)) throw new TypeError(`${name}: expected an optimizer`);
}

// --- saved state (PyTorch's scheduler.state_dict()) --------------------------------------------------
// Plain JSON (io.save writes it into model.json): a schedule's position and what it derived from the
// run so far. Hyperparameters (stepSize, gamma, ...) are the constructor's and are not saved: build the
// same scheduler, then loadStateDict. The optimizer's own state (io.restoreOptimizer) restores the lrs.

export type SchedulerKind = 'StepLR' | 'ExponentialLR' | 'CosineAnnealingLR' | 'ReduceLROnPlateau' | 'LinearWarmup';
const KINDS: readonly SchedulerKind[] = ['StepLR', 'ExponentialLR', 'CosineAnnealingLR', 'ReduceLROnPlateau', 'LinearWarmup'];

export interface SchedulerState {
  type: SchedulerKind;
  /** Steps taken so far. */
  lastEpoch: number;
  /** Closed-form schedules and LinearWarmup: each group's initial lr. */
  baseLrs?: number[];
  /** ReduceLROnPlateau: the best metric so far (null before the first step). */
  best?: number | null;
  numBadEpochs?: number;
  cooldownCounter?: number;
  /** LinearWarmup: the state of its `after` schedule (null when it has none). */
  after?: SchedulerState | null;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stepCount(where: string, key: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new RangeError(`${where}: ${key} must be an integer >= 0, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Checks the shape of a saved scheduler state (e.g. read back from a file) and returns a clean copy;
 * throws naming `where` and the bad field. Whether it fits a given scheduler is loadStateDict's check.
 */
export function parseSchedulerState(where: string, raw: unknown): SchedulerState {
  if (!isRecord(raw)) throw new TypeError(`${where}: a scheduler state must be an object, got ${JSON.stringify(raw)}`);
  const type = raw.type as SchedulerKind;
  if (!KINDS.includes(type)) throw new RangeError(`${where}: type must be one of ${KINDS.join(', ')}, got ${JSON.stringify(raw.type)}`);
  const known = new Set(['type', 'lastEpoch', 'baseLrs', 'best', 'numBadEpochs', 'cooldownCounter', 'after']);
  for (const key of Object.keys(raw)) if (!known.has(key)) throw new RangeError(`${where}: unknown field '${key}'`);
  const out: SchedulerState = { type, lastEpoch: stepCount(where, 'lastEpoch', raw.lastEpoch) };
  if (type === 'ReduceLROnPlateau') {
    if (raw.best !== null && (typeof raw.best !== 'number' || !Number.isFinite(raw.best))) {
      throw new RangeError(`${where}: best must be a finite number or null, got ${JSON.stringify(raw.best)}`);
    }
    out.best = raw.best as number | null;
    out.numBadEpochs = stepCount(where, 'numBadEpochs', raw.numBadEpochs);
    out.cooldownCounter = stepCount(where, 'cooldownCounter', raw.cooldownCounter);
    return out;
  }
  const lrs = raw.baseLrs;
  if (!Array.isArray(lrs) || lrs.length === 0 || lrs.some((v) => typeof v !== 'number' || !Number.isFinite(v) || v < 0)) {
    throw new RangeError(`${where}: baseLrs must be a non-empty array of finite numbers >= 0, got ${JSON.stringify(lrs)}`);
  }
  out.baseLrs = [...lrs] as number[];
  if (type === 'LinearWarmup') out.after = raw.after === null || raw.after === undefined ? null : parseSchedulerState(`${where} (after)`, raw.after);
  return out;
}

/** parseSchedulerState plus the checks that `sd` was saved by a scheduler like this one. */
function readState(kind: SchedulerKind, sd: unknown, groups: number): SchedulerState {
  const where = `${kind}.loadStateDict`;
  const state = parseSchedulerState(where, sd);
  if (state.type !== kind) throw new RangeError(`${where}: the state was saved by a ${state.type}`);
  if (state.baseLrs !== undefined && state.baseLrs.length !== groups) {
    throw new RangeError(`${where}: the state has ${state.baseLrs.length} parameter groups, the optimizer ${groups}`);
  }
  return state;
}

export abstract class LRScheduler {
  /** The class, as saved in stateDict(). */
  abstract readonly kind: SchedulerKind;
  readonly baseLrs: number[];
  /** Epochs stepped so far (0 right after construction). */
  lastEpoch = 0;

  protected constructor(readonly optimizer: LrOwner) {
    this.baseLrs = optimizer.paramGroups.map((g) => g.lr);
  }

  /** The lr of a group whose initial lr is `base`, at epoch t. */
  protected abstract lrAt(t: number, base: number): number;

  /** Sets every group's lr for epoch t. */
  setEpoch(t: number): void {
    this.lastEpoch = t;
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = this.lrAt(t, this.baseLrs[i]);
    });
  }

  step(): void {
    this.setEpoch(this.lastEpoch + 1);
  }

  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  stateDict(): SchedulerState {
    return { type: this.kind, lastEpoch: this.lastEpoch, baseLrs: [...this.baseLrs] };
  }

  /** Resumes from stateDict() of the same kind of schedule: sets each group's lr for the saved epoch. */
  loadStateDict(sd: SchedulerState): void {
    const state = readState(this.kind, sd, this.baseLrs.length);
    this.baseLrs.splice(0, this.baseLrs.length, ...state.baseLrs!);
    this.setEpoch(state.lastEpoch);
  }
}

/** lr = base·gamma^floor(t / stepSize). */
export class StepLR extends LRScheduler {
  readonly kind = 'StepLR';
  constructor(optimizer: LrOwner, readonly stepSize: number, readonly gamma = 0.1) {
    checkOptimizer('StepLR', optimizer);
    checkHyper('StepLR', 'stepSize', stepSize, (v) => Number.isInteger(v) && v >= 1, 'an integer >= 1');
    checkHyper('StepLR', 'gamma', gamma, (v) => v > 0, '> 0');
    super(optimizer);
    this.setEpoch(0);
  }
  protected lrAt(t: number, base: number): number {
    return base * this.gamma ** Math.floor(t / this.stepSize);
  }
}

/** lr = base·gamma^t. */
export class ExponentialLR extends LRScheduler {
  readonly kind = 'ExponentialLR';
  constructor(optimizer: LrOwner, readonly gamma: number) {
    checkOptimizer('ExponentialLR', optimizer);
    checkHyper('ExponentialLR', 'gamma', gamma, (v) => v > 0, '> 0');
    super(optimizer);
    this.setEpoch(0);
  }
  protected lrAt(t: number, base: number): number {
    return base * this.gamma ** t;
  }
}

/** lr = etaMin + (base - etaMin)·(1 + cos(π·t/tMax))/2 (SGDR without restarts; periodic beyond tMax). */
export class CosineAnnealingLR extends LRScheduler {
  readonly kind = 'CosineAnnealingLR';
  constructor(optimizer: LrOwner, readonly tMax: number, readonly etaMin = 0) {
    checkOptimizer('CosineAnnealingLR', optimizer);
    checkHyper('CosineAnnealingLR', 'tMax', tMax, (v) => Number.isInteger(v) && v >= 1, 'an integer >= 1');
    checkHyper('CosineAnnealingLR', 'etaMin', etaMin, (v) => v >= 0, '>= 0');
    super(optimizer);
    this.setEpoch(0);
  }
  protected lrAt(t: number, base: number): number {
    return this.etaMin + ((base - this.etaMin) * (1 + Math.cos((Math.PI * t) / this.tMax))) / 2;
  }
}

export interface ReduceLROnPlateauOptions {
  /** 'min': lower metric is better (a loss); 'max': higher is better (an accuracy). */
  mode?: 'min' | 'max';
  factor?: number;
  /** Epochs without improvement tolerated before reducing. */
  patience?: number;
  threshold?: number;
  thresholdMode?: 'rel' | 'abs';
  /** Epochs to wait after a reduction before counting bad epochs again. */
  cooldown?: number;
  minLr?: number | number[];
  /** Reductions smaller than eps are skipped. */
  eps?: number;
}

/** Multiplies the lr by `factor` when the metric has not improved for more than `patience` epochs. */
export class ReduceLROnPlateau {
  readonly kind = 'ReduceLROnPlateau';
  readonly mode: 'min' | 'max';
  readonly factor: number;
  readonly patience: number;
  readonly threshold: number;
  readonly thresholdMode: 'rel' | 'abs';
  readonly cooldown: number;
  readonly minLrs: number[];
  readonly eps: number;
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;
  lastEpoch = 0;

  constructor(readonly optimizer: LrOwner, options: ReduceLROnPlateauOptions = {}) {
    const name = 'ReduceLROnPlateau';
    checkOptimizer(name, optimizer);
    this.mode = options.mode ?? 'min';
    if (this.mode !== 'min' && this.mode !== 'max') throw new RangeError(`${name}: mode must be 'min' or 'max', got ${JSON.stringify(this.mode)}`);
    this.thresholdMode = options.thresholdMode ?? 'rel';
    if (this.thresholdMode !== 'rel' && this.thresholdMode !== 'abs') {
      throw new RangeError(`${name}: thresholdMode must be 'rel' or 'abs', got ${JSON.stringify(this.thresholdMode)}`);
    }
    this.factor = options.factor ?? 0.1;
    checkHyper(name, 'factor', this.factor, (v) => v >= 0 && v < 1, 'in [0, 1)');
    this.patience = options.patience ?? 10;
    checkHyper(name, 'patience', this.patience, (v) => Number.isInteger(v) && v >= 0, 'an integer >= 0');
    this.threshold = options.threshold ?? 1e-4;
    checkHyper(name, 'threshold', this.threshold, (v) => v >= 0, '>= 0');
    this.cooldown = options.cooldown ?? 0;
    checkHyper(name, 'cooldown', this.cooldown, (v) => Number.isInteger(v) && v >= 0, 'an integer >= 0');
    this.eps = options.eps ?? 1e-8;
    const minLr = options.minLr ?? 0;
    this.minLrs = Array.isArray(minLr) ? [...minLr] : optimizer.paramGroups.map(() => minLr);
    if (this.minLrs.length !== optimizer.paramGroups.length) {
      throw new RangeError(`${name}: minLr has ${this.minLrs.length} entries for ${optimizer.paramGroups.length} parameter groups`);
    }
    this.best = this.mode === 'min' ? Infinity : -Infinity;
  }

  private isBetter(a: number): boolean {
    const { best, threshold } = this;
    if (this.mode === 'min') return this.thresholdMode === 'rel' ? a < best * (1 - threshold) : a < best - threshold;
    return this.thresholdMode === 'rel' ? a > best * (1 + threshold) : a > best + threshold;
  }

  /** Reports this epoch's metric; may reduce the learning rates. */
  step(metric: number): void {
    if (typeof metric !== 'number' || Number.isNaN(metric)) throw new RangeError(`ReduceLROnPlateau.step: metric must be a number, got ${String(metric)}`);
    this.lastEpoch++;
    if (this.isBetter(metric)) {
      this.best = metric;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs++;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      this.optimizer.paramGroups.forEach((g, i) => {
        const reduced = Math.max(g.lr * this.factor, this.minLrs[i]);
        if (g.lr - reduced > this.eps) g.lr = reduced;
      });
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
  }

  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  stateDict(): SchedulerState {
    return {
      type: this.kind, lastEpoch: this.lastEpoch, best: Number.isFinite(this.best) ? this.best : null,
      numBadEpochs: this.numBadEpochs, cooldownCounter: this.cooldownCounter,
    };
  }

  /** Resumes the plateau tracking; the lrs themselves come back with the optimizer's state. */
  loadStateDict(sd: SchedulerState): void {
    const state = readState(this.kind, sd, this.optimizer.paramGroups.length);
    this.lastEpoch = state.lastEpoch;
    this.best = state.best ?? (this.mode === 'min' ? Infinity : -Infinity);
    this.numBadEpochs = state.numBadEpochs!;
    this.cooldownCounter = state.cooldownCounter!;
  }
}

export interface LinearWarmupOptions {
  warmupSteps: number;
  /** Fraction of the initial lr at step 0, in (0, 1] (default 1/3, as PyTorch's LinearLR). */
  startFactor?: number;
  /** Schedule that takes over after the warm-up (its epoch 0 is the first step after warm-up). */
  after?: LRScheduler | ReduceLROnPlateau;
}

/**
 * Linear warm-up: lr = base·(startFactor + (1 - startFactor)·t/warmupSteps) for t < warmupSteps,
 * then base, handed to `after` if given. Build `after` first, then wrap it.
 */
export class LinearWarmup {
  readonly kind = 'LinearWarmup';
  readonly warmupSteps: number;
  readonly startFactor: number;
  readonly after: LRScheduler | ReduceLROnPlateau | null;
  readonly baseLrs: number[];
  lastEpoch = 0;

  constructor(readonly optimizer: LrOwner, options: LinearWarmupOptions) {
    const name = 'LinearWarmup';
    checkOptimizer(name, optimizer);
    this.warmupSteps = options?.warmupSteps;
    checkHyper(name, 'warmupSteps', this.warmupSteps, (v) => Number.isInteger(v) && v >= 1, 'an integer >= 1');
    this.startFactor = options.startFactor ?? 1 / 3;
    checkHyper(name, 'startFactor', this.startFactor, (v) => v > 0 && v <= 1, 'in (0, 1]');
    this.after = options.after ?? null;
    if (this.after !== null && this.after.optimizer !== optimizer) throw new RangeError(`${name}: 'after' must schedule the same optimizer`);
    this.baseLrs = this.after instanceof LRScheduler ? [...this.after.baseLrs] : optimizer.paramGroups.map((g) => g.lr);
    this.apply();
  }

  private apply(): void {
    const t = this.lastEpoch;
    if (t < this.warmupSteps) {
      const f = this.startFactor + ((1 - this.startFactor) * t) / this.warmupSteps;
      this.optimizer.paramGroups.forEach((g, i) => { g.lr = this.baseLrs[i] * f; });
    } else if (this.after instanceof LRScheduler) {
      this.after.setEpoch(t - this.warmupSteps);
    } else if (t === this.warmupSteps) {
      this.optimizer.paramGroups.forEach((g, i) => { g.lr = this.baseLrs[i]; });
    }
  }

  /** One step; during warm-up the metric is ignored, afterwards it goes to a ReduceLROnPlateau `after`. */
  step(metric?: number): void {
    this.lastEpoch++;
    this.apply();
    if (this.lastEpoch > this.warmupSteps && this.after instanceof ReduceLROnPlateau) {
      if (metric === undefined) throw new RangeError('LinearWarmup.step: the ReduceLROnPlateau after the warm-up needs a metric');
      this.after.step(metric);
    }
  }

  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  stateDict(): SchedulerState {
    return { type: this.kind, lastEpoch: this.lastEpoch, baseLrs: [...this.baseLrs], after: this.after?.stateDict() ?? null };
  }

  /** Resumes the warm-up and the schedule after it (which must be of the same kind as when saved). */
  loadStateDict(sd: SchedulerState): void {
    const state = readState(this.kind, sd, this.baseLrs.length);
    if ((state.after ?? null) === null ? this.after !== null : this.after === null) {
      throw new RangeError(`LinearWarmup.loadStateDict: the state was saved ${this.after === null ? 'with' : 'without'} an 'after' schedule`);
    }
    if (this.after !== null) this.after.loadStateDict(state.after!);
    this.baseLrs.splice(0, this.baseLrs.length, ...state.baseLrs!);
    this.lastEpoch = state.lastEpoch;
    this.apply();
  }
}
