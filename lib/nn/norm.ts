// Normalization layers. Channels are the last axis: BatchNorm1d takes [N, C] (or [N, L, C]),
// BatchNorm2d takes NHWC [N, H, W, C] and normalizes per channel over N, H and W.

import * as init from '../init/index.js';
import { checkNumber, checkPositiveInt, formatShapeOf } from '../ops/check.js';
import { batchNorm, layerNorm } from '../ops/norm.js';
import { Tensor } from '../tensor.js';
import { Module, Parameter } from './module.js';

export interface BatchNormOptions {
  eps?: number;
  /** Running-stat update weight (default 0.1). */
  momentum?: number;
  /** Learnable per-channel scale and shift (default true). */
  affine?: boolean;
  /** Keep running statistics for eval mode (default true); without them eval uses batch statistics. */
  trackRunningStats?: boolean;
}

abstract class BatchNormBase extends Module {
  readonly weight: Parameter | null;
  readonly bias: Parameter | null;
  declare runningMean: Tensor | null;
  declare runningVar: Tensor | null;
  readonly eps: number;
  readonly momentum: number;

  constructor(private readonly layer: string, readonly numFeatures: number, private readonly options: BatchNormOptions) {
    super();
    checkPositiveInt(layer, 'numFeatures', numFeatures);
    this.eps = checkNumber(layer, 'eps', options.eps ?? 1e-5, (v) => v > 0, '> 0');
    this.momentum = checkNumber(layer, 'momentum', options.momentum ?? 0.1, (v) => v >= 0 && v <= 1, 'in [0, 1]');
    const affine = options.affine ?? true;
    this.weight = affine ? new Parameter([numFeatures]) : null;
    this.bias = affine ? new Parameter([numFeatures]) : null;
    if (options.trackRunningStats ?? true) {
      this.registerBuffer('runningMean', new Tensor(new Float32Array(numFeatures), [numFeatures]));
      this.registerBuffer('runningVar', new Tensor(new Float32Array(numFeatures), [numFeatures]));
    } else {
      this.runningMean = null;
      this.runningVar = null;
    }
    this.resetParameters();
  }

  /** weight 1, bias 0, running mean 0, running variance 1 (PyTorch). */
  override resetParameters(): void {
    if (this.weight) init.constant(this.weight, 1);
    if (this.bias) init.zeros(this.bias);
    if (this.runningMean) this.runningMean.data.fill(0);
    if (this.runningVar) this.runningVar.data.fill(1);
  }

  protected abstract checkInput(x: Tensor): void;

  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) throw new TypeError(`${this.layer}: input must be a Tensor`);
    this.checkInput(x);
    if (x.shape[x.rank - 1] !== this.numFeatures) {
      throw new RangeError(`${this.layer}: expected ${this.numFeatures} channels in the last axis, got input ${formatShapeOf(x)}`);
    }
    const useBatchStats = this.training || this.runningMean === null;
    return batchNorm(x, this.runningMean, this.runningVar, this.weight, this.bias, {
      training: useBatchStats, momentum: this.momentum, eps: this.eps,
    });
  }

  protected override extraRepr(): string {
    const o = this.options;
    const parts = [String(this.numFeatures)];
    if (o.eps !== undefined && o.eps !== 1e-5) parts.push(`eps=${o.eps}`);
    if (o.momentum !== undefined && o.momentum !== 0.1) parts.push(`momentum=${o.momentum}`);
    if (o.affine === false) parts.push('affine=false');
    if (o.trackRunningStats === false) parts.push('trackRunningStats=false');
    return parts.join(', ');
  }
}

export class BatchNorm1d extends BatchNormBase {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super('BatchNorm1d', numFeatures, options);
  }
  protected checkInput(x: Tensor): void {
    if (x.rank !== 2 && x.rank !== 3) throw new RangeError(`BatchNorm1d: expected input [N, C] or [N, L, C], got ${formatShapeOf(x)}`);
  }
}

export class BatchNorm2d extends BatchNormBase {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super('BatchNorm2d', numFeatures, options);
  }
  protected checkInput(x: Tensor): void {
    if (x.rank !== 4) throw new RangeError(`BatchNorm2d: expected NHWC input [N, H, W, C], got ${formatShapeOf(x)}`);
  }
}

export interface LayerNormOptions {
  eps?: number;
  /** Learnable weight and bias of shape normalizedShape (default true). */
  elementwiseAffine?: boolean;
}

export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  readonly weight: Parameter | null;
  readonly bias: Parameter | null;
  readonly eps: number;

  constructor(normalizedShape: number | readonly number[], private readonly options: LayerNormOptions = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    this.normalizedShape.forEach((d, i) => checkPositiveInt('LayerNorm', `normalizedShape[${i}]`, d));
    this.eps = checkNumber('LayerNorm', 'eps', options.eps ?? 1e-5, (v) => v > 0, '> 0');
    const affine = options.elementwiseAffine ?? true;
    this.weight = affine ? new Parameter(this.normalizedShape) : null;
    this.bias = affine ? new Parameter(this.normalizedShape) : null;
    this.resetParameters();
  }

  override resetParameters(): void {
    if (this.weight) init.constant(this.weight, 1);
    if (this.bias) init.zeros(this.bias);
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }

  protected override extraRepr(): string {
    const parts = [`[${this.normalizedShape.join(',')}]`];
    if (this.options.eps !== undefined && this.options.eps !== 1e-5) parts.push(`eps=${this.options.eps}`);
    if (this.options.elementwiseAffine === false) parts.push('elementwiseAffine=false');
    return parts.join(', ');
  }
}
