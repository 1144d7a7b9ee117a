// Convolution and pooling layers over NHWC images. Conv2d's weight is HWIO [kh, kw, in/groups, out].

import type { Epilogue } from '../backend/backend.js';
import type { PaddingSpec } from '../backend/shape.js';
import * as init from '../init/index.js';
import { checkPositiveInt } from '../ops/check.js';
import { conv2d, pair } from '../ops/conv.js';
import { avgPool2d, globalAvgPool2d, globalMaxPool2d, maxPool2d } from '../ops/pool.js';
import type { Tensor } from '../tensor.js';
import { Module, Parameter } from './module.js';

export interface Conv2dLayerOptions {
  stride?: number | [number, number];
  padding?: PaddingSpec;
  dilation?: number | [number, number];
  groups?: number;
  bias?: boolean;
  /** Default: PyTorch's kaiming_uniform_(a=√5), i.e. U(±1/√fanIn), fanIn = kh·kw·in/groups. */
  weightInit?: init.Initializer;
  biasInit?: init.Initializer;
}

function pairRepr(v: number | [number, number]): string {
  return typeof v === 'number' ? String(v) : `[${v.join(',')}]`;
}

export class Conv2d extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly kernelSize: [number, number];

  constructor(
    readonly inChannels: number, readonly outChannels: number, kernelSize: number | [number, number],
    readonly options: Conv2dLayerOptions = {},
  ) {
    super();
    checkPositiveInt('Conv2d', 'inChannels', inChannels);
    checkPositiveInt('Conv2d', 'outChannels', outChannels);
    this.kernelSize = pair('Conv2d', 'kernelSize', kernelSize);
    const groups = checkPositiveInt('Conv2d', 'groups', options.groups ?? 1);
    if (inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new RangeError(`Conv2d: inChannels=${inChannels} and outChannels=${outChannels} must be divisible by groups=${groups}`);
    }
    this.weight = new Parameter([this.kernelSize[0], this.kernelSize[1], inChannels / groups, outChannels]);
    this.bias = options.bias === false ? null : new Parameter([outChannels]);
    this.resetParameters();
  }

  override resetParameters(): void {
    (this.options.weightInit ?? init.torchDefaultWeight)(this.weight);
    if (this.bias) {
      if (this.options.biasInit) this.options.biasInit(this.bias);
      else init.torchDefaultBias(this.bias, init.computeFans(this.weight.shape)[0]);
    }
  }

  forward(x: Tensor): Tensor {
    return this.forwardFused(x, { activation: 'none', alpha: 0 });
  }

  forwardFused(x: Tensor, epilogue: Epilogue): Tensor {
    const { stride, padding, dilation, groups } = this.options;
    return conv2d(x, this.weight, this.bias, { stride, padding, dilation, groups, ...epilogue });
  }

  protected override extraRepr(): string {
    const o = this.options;
    const parts = [`${this.inChannels} -> ${this.outChannels}`, `kernelSize=${pairRepr(this.kernelSize)}`];
    if (o.stride !== undefined && o.stride !== 1) parts.push(`stride=${pairRepr(o.stride)}`);
    if (o.padding !== undefined && o.padding !== 'valid' && o.padding !== 0) parts.push(`padding=${JSON.stringify(o.padding)}`);
    if (o.dilation !== undefined && o.dilation !== 1) parts.push(`dilation=${pairRepr(o.dilation)}`);
    if (o.groups !== undefined && o.groups !== 1) parts.push(`groups=${o.groups}`);
    if (o.bias === false) parts.push('bias=false');
    return parts.join(', ');
  }
}

export interface PoolLayerOptions {
  stride?: number | [number, number];
  padding?: PaddingSpec;
}

export class MaxPool2d extends Module {
  constructor(readonly kernelSize: number | [number, number], readonly options: PoolLayerOptions = {}) {
    super();
    pair('MaxPool2d', 'kernelSize', kernelSize);
  }
  forward(x: Tensor): Tensor {
    return maxPool2d(x, { kernelSize: this.kernelSize, ...this.options });
  }
  protected override extraRepr(): string {
    const s = this.options.stride;
    return `kernelSize=${pairRepr(this.kernelSize)}${s !== undefined ? `, stride=${pairRepr(s)}` : ''}` +
      `${this.options.padding !== undefined ? `, padding=${JSON.stringify(this.options.padding)}` : ''}`;
  }
}

export class AvgPool2d extends Module {
  constructor(
    readonly kernelSize: number | [number, number],
    readonly options: PoolLayerOptions & { countIncludePad?: boolean } = {},
  ) {
    super();
    pair('AvgPool2d', 'kernelSize', kernelSize);
  }
  forward(x: Tensor): Tensor {
    return avgPool2d(x, { kernelSize: this.kernelSize, ...this.options });
  }
  protected override extraRepr(): string {
    const o = this.options;
    return `kernelSize=${pairRepr(this.kernelSize)}${o.stride !== undefined ? `, stride=${pairRepr(o.stride)}` : ''}` +
      `${o.padding !== undefined ? `, padding=${JSON.stringify(o.padding)}` : ''}` +
      `${o.countIncludePad === false ? ', countIncludePad=false' : ''}`;
  }
}

/** [N,H,W,C] -> [N,C] by averaging over H and W. */
export class GlobalAvgPool2d extends Module {
  forward(x: Tensor): Tensor {
    return globalAvgPool2d(x);
  }
}

/** [N,H,W,C] -> [N,C] by the max over H and W. */
export class GlobalMaxPool2d extends Module {
  forward(x: Tensor): Tensor {
    return globalMaxPool2d(x);
  }
}
