// Containers and shape/regularization layers: Sequential, Residual, Identity, Flatten, Dropout.

import { dropout } from '../ops/dropout.js';
import { add } from '../ops/elementwise.js';
import { checkNumber } from '../ops/check.js';
import { flatten } from '../ops/shape.js';
import type { Tensor } from '../tensor.js';
import { ActivationModule } from './activation.js';
import { Conv2d } from './conv.js';
import { Linear } from './linear.js';
import { Module } from './module.js';

/**
 * Runs its layers in order. A Linear or Conv2d directly followed by a fusable activation (ReLU,
 * LeakyReLU, ELU, Sigmoid, Tanh) runs as one kernel with the activation in its epilogue; the result
 * is the same as running the two layers one after the other.
 */
export class Sequential extends Module {
  readonly layers: Module[];

  constructor(...layers: Module[]) {
    super();
    layers.forEach((l, i) => {
      if (!(l instanceof Module)) throw new TypeError(`Sequential: layer ${i} is not a Module`);
    });
    this.layers = layers;
  }

  /** Children are named by position, as in PyTorch ('0', '1', ...). */
  override namedChildren(): [string, Module][] {
    return this.layers.map((l, i) => [String(i), l]);
  }

  get length(): number {
    return this.layers.length;
  }

  at(i: number): Module {
    const layer = this.layers.at(i);
    if (!layer) throw new RangeError(`Sequential.at: index ${i} is out of range for ${this.layers.length} layers`);
    return layer;
  }

  /** Replaces layer i (e.g. a new head for transfer learning). */
  set(i: number, layer: Module): void {
    const j = i < 0 ? i + this.layers.length : i;
    if (!(layer instanceof Module)) throw new TypeError('Sequential.set: layer must be a Module');
    if (j < 0 || j >= this.layers.length) throw new RangeError(`Sequential.set: index ${i} is out of range for ${this.layers.length} layers`);
    this.layers[j] = layer;
  }

  append(layer: Module): this {
    if (!(layer instanceof Module)) throw new TypeError('Sequential.append: layer must be a Module');
    this.layers.push(layer);
    return this;
  }

  forward(x: Tensor): Tensor {
    let h = x;
    for (let i = 0; i < this.layers.length; i++) {
      const layer = this.layers[i];
      const next = this.layers[i + 1];
      const epilogue = next instanceof ActivationModule ? next.fusedActivation() : null;
      if (epilogue !== null && (layer instanceof Linear || layer instanceof Conv2d)) {
        h = layer.forwardFused(h, epilogue);
        i++; // the activation ran inside the kernel
      } else {
        h = layer.forward(h);
      }
    }
    return h;
  }
}

/** y = block(x) + shortcut(x); the shortcut defaults to the identity. */
export class Residual extends Module {
  constructor(readonly block: Module, readonly shortcut: Module | null = null) {
    super();
    if (!(block instanceof Module)) throw new TypeError('Residual: block must be a Module');
    if (shortcut !== null && !(shortcut instanceof Module)) throw new TypeError('Residual: shortcut must be a Module or null');
  }

  forward(x: Tensor): Tensor {
    const skip = this.shortcut ? this.shortcut.forward(x) : x;
    return add(this.block.forward(x), skip);
  }
}

export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

/** Merges axes startAxis..endAxis (default: all but the batch axis). */
export class Flatten extends Module {
  constructor(readonly startAxis = 1, readonly endAxis = -1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return flatten(x, this.startAxis, this.endAxis);
  }
  protected override extraRepr(): string {
    return this.startAxis === 1 && this.endAxis === -1 ? '' : `startAxis=${this.startAxis}, endAxis=${this.endAxis}`;
  }
}

/** Inverted dropout in training mode; the identity in eval mode. */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    checkNumber('Dropout', 'p', p, (v) => v >= 0 && v <= 1, 'in [0, 1]');
  }
  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training);
  }
  protected override extraRepr(): string {
    return `p=${this.p}`;
  }
}
