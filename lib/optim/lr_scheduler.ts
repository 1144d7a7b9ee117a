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

export abstract class LRScheduler {
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
}

/** lr = base·gamma^floor(t / stepSize). */
export class StepLR extends LRScheduler {
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
}
