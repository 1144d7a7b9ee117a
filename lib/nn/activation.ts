// Activation layers. Those a matmul/conv epilogue can apply say so through `fusedActivation()`, which
// Sequential uses to run Linear/Conv2d + activation as one kernel.

import type { Epilogue } from '../backend/backend.js';
import * as ops from '../ops/index.js';
import { checkNumber } from '../ops/check.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

export abstract class ActivationModule extends Module {
  /** The kernel epilogue equal to this layer, or null when it cannot be fused. */
  fusedActivation(): Epilogue | null {
    return null;
  }
}

export class ReLU extends ActivationModule {
  forward(x: Tensor): Tensor { return ops.relu(x); }
  override fusedActivation(): Epilogue { return { activation: 'relu', alpha: 0 }; }
}

export class LeakyReLU extends ActivationModule {
  constructor(readonly negativeSlope = 0.01) {
    super();
    checkNumber('LeakyReLU', 'negativeSlope', negativeSlope, (v) => v >= 0, 'a finite number >= 0');
  }
  forward(x: Tensor): Tensor { return ops.leakyRelu(x, this.negativeSlope); }
  override fusedActivation(): Epilogue { return { activation: 'leakyRelu', alpha: this.negativeSlope }; }
  protected override extraRepr(): string { return this.negativeSlope === 0.01 ? '' : `negativeSlope=${this.negativeSlope}`; }
}

export class ELU extends ActivationModule {
  constructor(readonly alpha = 1) {
    super();
    checkNumber('ELU', 'alpha', alpha, (v) => v > 0, 'a finite number > 0');
  }
  forward(x: Tensor): Tensor { return ops.elu(x, this.alpha); }
  override fusedActivation(): Epilogue { return { activation: 'elu', alpha: this.alpha }; }
  protected override extraRepr(): string { return this.alpha === 1 ? '' : `alpha=${this.alpha}`; }
}

export class Sigmoid extends ActivationModule {
  forward(x: Tensor): Tensor { return ops.sigmoid(x); }
  override fusedActivation(): Epilogue { return { activation: 'sigmoid', alpha: 0 }; }
}

export class Tanh extends ActivationModule {
  forward(x: Tensor): Tensor { return ops.tanh(x); }
  override fusedActivation(): Epilogue { return { activation: 'tanh', alpha: 0 }; }
}

export class Softplus extends ActivationModule {
  forward(x: Tensor): Tensor { return ops.softplus(x); }
}

export class Softmax extends ActivationModule {
  constructor(readonly axis = -1) { super(); }
  forward(x: Tensor): Tensor { return ops.softmax(x, this.axis); }
  protected override extraRepr(): string { return this.axis === -1 ? '' : `axis=${this.axis}`; }
}

export class LogSoftmax extends ActivationModule {
  constructor(readonly axis = -1) { super(); }
  forward(x: Tensor): Tensor { return ops.logSoftmax(x, this.axis); }
  protected override extraRepr(): string { return this.axis === -1 ? '' : `axis=${this.axis}`; }
}

/** Max over groups of `pieces` consecutive units of the last axis: [..., C] -> [..., C/pieces]. */
export class Maxout extends ActivationModule {
  constructor(readonly pieces: number) {
    super();
    checkNumber('Maxout', 'pieces', pieces, (v) => Number.isInteger(v) && v >= 1, 'an integer >= 1');
  }
  forward(x: Tensor): Tensor { return ops.maxout(x, this.pieces); }
  protected override extraRepr(): string { return `pieces=${this.pieces}`; }
}
