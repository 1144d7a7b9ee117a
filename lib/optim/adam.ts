// Adam and AdamW (PyTorch torch.optim.Adam / AdamW), step t counting from 1:
//   Adam: g += wd·w.  AdamW: w *= 1 - lr·wd.
//   m = β1·m + (1 - β1)·g;  v = β2·v + (1 - β2)·g²;  amsgrad: v̂max = max(v̂max, v), use it for v
//   w -= lr/(1 - β1^t) · m / (sqrt(v)/sqrt(1 - β2^t) + eps)
// through the fused adamUpdate kernel.

import { getBackend } from '../backend/index.js';
import { Optimizer, checkFlag, checkHyper, type ParamsArg, type Run } from './optimizer.js';

export interface AdamOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
}

function validateAdam(name: string, h: AdamOptions): void {
  checkHyper(name, 'lr', h.lr, (v) => v >= 0, '>= 0');
  if (!Array.isArray(h.betas) || h.betas.length !== 2) throw new RangeError(`${name}: betas must be [beta1, beta2], got ${JSON.stringify(h.betas)}`);
  checkHyper(name, 'betas[0]', h.betas[0], (v) => v >= 0 && v < 1, 'in [0, 1)');
  checkHyper(name, 'betas[1]', h.betas[1], (v) => v >= 0 && v < 1, 'in [0, 1)');
  checkHyper(name, 'eps', h.eps, (v) => v >= 0, '>= 0');
  checkHyper(name, 'weightDecay', h.weightDecay, (v) => v >= 0, '>= 0');
  checkFlag(name, 'amsgrad', h.amsgrad);
}

function adamStep(decoupled: boolean, h: AdamOptions, w: Float32Array, g: Float32Array, state: (name: string) => Float32Array, run: Run): void {
  getBackend().adamUpdate(
    {
      lr: h.lr, beta1: h.betas[0], beta2: h.betas[1], eps: h.eps, weightDecay: h.weightDecay,
      decoupledWeightDecay: decoupled, amsgrad: h.amsgrad, step: run.step + 1, paramStarts: run.paramStarts,
    },
    w, g, state('expAvg'), state('expAvgSq'), h.amsgrad ? state('maxExpAvgSq') : null,
  );
}

export class Adam extends Optimizer<AdamOptions> {
  constructor(params: ParamsArg<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super('Adam', params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, ...options });
  }
  protected validate(h: AdamOptions): void {
    validateAdam('Adam', h);
  }
  protected update(h: AdamOptions, w: Float32Array, g: Float32Array, state: (name: string) => Float32Array, run: Run): void {
    adamStep(false, h, w, g, state, run);
  }
}

/** Adam with decoupled weight decay (Loshchilov & Hutter); PyTorch's default weightDecay 1e-2. */
export class AdamW extends Optimizer<AdamOptions> {
  constructor(params: ParamsArg<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super('AdamW', params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false, ...options });
  }
  protected validate(h: AdamOptions): void {
    validateAdam('AdamW', h);
  }
  protected update(h: AdamOptions, w: Float32Array, g: Float32Array, state: (name: string) => Float32Array, run: Run): void {
    adamStep(true, h, w, g, state, run);
  }
}
