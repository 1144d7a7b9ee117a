// RMSprop (PyTorch torch.optim.RMSprop):
//   g += wd·w;  v = alpha·v + (1 - alpha)·g²;  centered: ḡ = alpha·ḡ + (1 - alpha)·g, v̂ = v - ḡ²;
//   momentum > 0: b = momentum·b + g / (sqrt(v̂) + eps), w -= lr·b;  else w -= lr·g / (sqrt(v̂) + eps)
// through the fused rmspropUpdate kernel.

import { getBackend } from '../backend/index.js';
import { Optimizer, checkFlag, checkHyper, type ParamsArg, type Run } from './optimizer.js';

export interface RMSpropOptions {
  lr: number;
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
}

export class RMSprop extends Optimizer<RMSpropOptions> {
  constructor(params: ParamsArg<RMSpropOptions>, options: Partial<RMSpropOptions> = {}) {
    super('RMSprop', params, { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, ...options });
  }

  protected validate(h: RMSpropOptions): void {
    checkHyper('RMSprop', 'lr', h.lr, (v) => v >= 0, '>= 0');
    checkHyper('RMSprop', 'alpha', h.alpha, (v) => v >= 0 && v <= 1, 'in [0, 1]');
    checkHyper('RMSprop', 'eps', h.eps, (v) => v >= 0, '>= 0');
    checkHyper('RMSprop', 'weightDecay', h.weightDecay, (v) => v >= 0, '>= 0');
    checkHyper('RMSprop', 'momentum', h.momentum, (v) => v >= 0, '>= 0');
    checkFlag('RMSprop', 'centered', h.centered);
  }

  protected update(h: RMSpropOptions, w: Float32Array, g: Float32Array, state: (name: string) => Float32Array, run: Run): void {
    getBackend().rmspropUpdate(
      { lr: h.lr, alpha: h.alpha, eps: h.eps, weightDecay: h.weightDecay, momentum: h.momentum, centered: h.centered, paramStarts: run.paramStarts },
      w, g, state('squareAvg'), h.centered ? state('gradAvg') : null, h.momentum > 0 ? state('momentumBuffer') : null,
    );
  }
}
