// SGD with momentum, dampening, Nesterov and weight decay (PyTorch torch.optim.SGD):
//   g += wd·w;  b = g (first step) or momentum·b + (1 - dampening)·g;
//   g = nesterov ? g + momentum·b : b;  w -= lr·g
// The math runs in the backend's fused sgdUpdate kernel.

import { getBackend } from '../backend/index.js';
import { Optimizer, checkFlag, checkHyper, type ParamsArg, type Run } from './optimizer.js';

export interface SGDOptions {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

export class SGD extends Optimizer<SGDOptions> {
  constructor(params: ParamsArg<SGDOptions>, options: Partial<SGDOptions> = {}) {
    super('SGD', params, { lr: 1e-3, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, ...options });
  }

  protected validate(h: SGDOptions): void {
    checkHyper('SGD', 'lr', h.lr, (v) => v >= 0, '>= 0');
    checkHyper('SGD', 'momentum', h.momentum, (v) => v >= 0, '>= 0');
    checkHyper('SGD', 'dampening', h.dampening, () => true, 'a finite number');
    checkHyper('SGD', 'weightDecay', h.weightDecay, (v) => v >= 0, '>= 0');
    checkFlag('SGD', 'nesterov', h.nesterov);
    if (h.nesterov && (h.momentum <= 0 || h.dampening !== 0)) {
      throw new RangeError(`SGD: nesterov needs momentum > 0 and dampening 0, got momentum ${h.momentum}, dampening ${h.dampening}`);
    }
  }

  protected update(h: SGDOptions, w: Float32Array, g: Float32Array, state: (name: string) => Float32Array, run: Run): void {
    const momentumBuf = h.momentum !== 0 ? state('momentumBuffer') : null;
    getBackend().sgdUpdate(
      { lr: h.lr, momentum: h.momentum, dampening: h.dampening, nesterov: h.nesterov, weightDecay: h.weightDecay, firstStep: run.step === 0, paramStarts: run.paramStarts },
      w, g, momentumBuf,
    );
  }
}
