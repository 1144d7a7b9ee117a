// Linear: y = x·W + b with W [in, out] (tensorforge layout) and b [out].

import type { Epilogue } from '../backend/backend.js';
import * as init from '../init/index.js';
import { linear } from '../ops/matmul.js';
import { checkPositiveInt } from '../ops/check.js';
import type { Tensor } from '../tensor.js';
import { Module, Parameter } from './module.js';

export interface LinearOptions {
  bias?: boolean;
  /** Default: PyTorch's kaiming_uniform_(a=√5), i.e. U(±1/√in). */
  weightInit?: init.Initializer;
  /** Default: U(±1/√in). */
  biasInit?: init.Initializer;
}

export class Linear extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, private readonly options: LinearOptions = {}) {
    super();
    checkPositiveInt('Linear', 'inFeatures', inFeatures);
    checkPositiveInt('Linear', 'outFeatures', outFeatures);
    this.weight = new Parameter([inFeatures, outFeatures]);
    this.bias = options.bias === false ? null : new Parameter([outFeatures]);
    this.resetParameters();
  }

  override resetParameters(): void {
    (this.options.weightInit ?? init.torchDefaultWeight)(this.weight);
    if (this.bias) {
      if (this.options.biasInit) this.options.biasInit(this.bias);
      else init.torchDefaultBias(this.bias, this.inFeatures);
    }
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }

  /** forward followed by an activation, fused into the matmul kernel. */
  forwardFused(x: Tensor, epilogue: Epilogue): Tensor {
    return linear(x, this.weight, this.bias, epilogue);
  }

  protected override extraRepr(): string {
    return `${this.inFeatures} -> ${this.outFeatures}${this.bias ? '' : ', bias=false'}`;
  }
}
