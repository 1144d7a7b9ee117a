// Adagrad (PyTorch torch.optim.Adagrad):
//   g += wd·w;  clr = lr / (1 + (step - 1)·lrDecay);  sum += g²;  w -= clr·g / (sqrt(sum) + eps)
// through the fused adagradUpdate kernel. The accumulator starts at initialAccumulatorValue.

import { getBackend } from '../backend/index.js';
import { Optimizer, checkHyper, type ParamsArg, type Run } from './optimizer.js';

export interface AdagradOptions {
  lr: number;
  lrDecay: number;
  weightDecay: number;
  initialAccumulatorValue: number;
  eps: number;
}

export class Adagrad extends Optimizer<AdagradOptions> {
  constructor(params: ParamsArg<AdagradOptions>, options: Partial<AdagradOptions> = {}) {
    super('Adagrad', params, { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, ...options });
  }

  protected validate(h: AdagradOptions): void {
    checkHyper('Adagrad', 'lr', h.lr, (v) => v >= 0, '>= 0');
    checkHyper('Adagrad', 'lrDecay', h.lrDecay, (v) => v >= 0, '>= 0');
    checkHyper('Adagrad', 'weightDecay', h.weightDecay, (v) => v >= 0, '>= 0');
    checkHyper('Adagrad', 'initialAccumulatorValue', h.initialAccumulatorValue, (v) => v >= 0, '>= 0');
    checkHyper('Adagrad', 'eps', h.eps, (v) => v >= 0, '>= 0');
  }

  protected update(h: AdagradOptions, w: Float32Array, g: Float32Array, state: (name: string, init?: number) => Float32Array, run: Run): void {
    getBackend().adagradUpdate(
      { lr: h.lr, lrDecay: h.lrDecay, weightDecay: h.weightDecay, eps: h.eps, step: run.step + 1, paramStarts: run.paramStarts },
      w, g, state('sum', h.initialAccumulatorValue),
    );
  }
}
