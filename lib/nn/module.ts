// Module: the base of every layer and model. A module's parameters, buffers and submodules are found
// from its own fields: a `Parameter` field is a parameter, a `Module` field (or an array of modules)
// is a child, and tensors registered with `registerBuffer` are buffers (saved in the state dict but not
// trained, e.g. batch-norm running statistics). So a user model is just:
//
//   class Net extends Module {
//     fc1 = new Linear(2, 8);
//     fc2 = new Linear(8, 1);
//     forward(x: Tensor) { return this.fc2.forward(this.fc1.forward(x).relu()); }
//   }

import { noGrad } from '../autograd/graph.js';
import { zeroedFloat32 } from '../backend/alloc.js';
import { Tensor, formatShape } from '../tensor.js';

/** A trainable tensor owned by a module (requiresGrad true until frozen). */
export class Parameter extends Tensor {
  constructor(shape: readonly number[], data?: Float32Array) {
    let n = 1;
    for (const d of shape) n *= d;
    super(data ?? zeroedFloat32(n), shape, { requiresGrad: true });
  }

  /** A parameter holding a copy of t's values. */
  static from(t: Tensor): Parameter {
    const data = zeroedFloat32(t.size);
    data.set(t.data);
    return new Parameter(t.shape, data);
  }
}

export type StateDict = Record<string, Tensor>;

export interface LoadStateDictOptions {
  /** true (default): names must match exactly; false: missing and unexpected names are ignored. */
  strict?: boolean;
}

export abstract class Module {
  /** Training mode (dropout active, batch norm on batch statistics). Set by train()/eval(). */
  training = true;
  private readonly bufferNames: string[] = [];

  abstract forward(...inputs: Tensor[]): Tensor;

  /** (Re)initializes the parameters with the module's initializers. Modules call it from their constructor. */
  resetParameters(): void {}

  /** One line describing the module's non-default configuration, e.g. `2 -> 8, bias=false`. */
  protected extraRepr(): string {
    return '';
  }

  /** Registers a non-trainable tensor saved in the state dict (like PyTorch's register_buffer). */
  protected registerBuffer(name: string, t: Tensor): Tensor {
    if (!this.bufferNames.includes(name)) this.bufferNames.push(name);
    Object.defineProperty(this, name, { value: t, writable: true, enumerable: true, configurable: true });
    return t;
  }

  /** Direct children with their names (fields holding modules; arrays of modules give `name.i`). */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [key, value] of Object.entries(this)) {
      if (value instanceof Module) out.push([key, value]);
      else if (Array.isArray(value)) {
        value.forEach((v, i) => {
          if (v instanceof Module) out.push([`${key}.${i}`, v]);
        });
      }
    }
    return out;
  }

  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module and every descendant, depth first, with dotted names ('' for this one). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.namedChildren()) {
      out.push(...child.namedModules(prefix ? `${prefix}.${name}` : name));
    }
    return out;
  }

  /** Every parameter with its dotted name; a parameter shared by two modules is listed once. */
  namedParameters(): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    const seen = new Set<Parameter>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [key, value] of Object.entries(m)) {
        if (value instanceof Parameter && !seen.has(value)) {
          seen.add(value);
          out.push([prefix ? `${prefix}.${key}` : key, value]);
        }
      }
    }
    return out;
  }

  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Parameters that currently train (requiresGrad true). */
  trainableParameters(): Parameter[] {
    return this.parameters().filter((p) => p.requiresGrad);
  }

  namedBuffers(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const name of m.bufferNames) {
        const t: unknown = Reflect.get(m, name);
        if (t instanceof Tensor) out.push([prefix ? `${prefix}.${name}` : name, t]);
      }
    }
    return out;
  }

  /** Number of parameter elements (trainable only, or all). */
  numParameters(trainableOnly = false): number {
    return this.parameters().reduce((n, p) => n + (trainableOnly && !p.requiresGrad ? 0 : p.size), 0);
  }

  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Stops gradients and optimizer updates for every parameter of this module (transfer learning). */
  freeze(): this {
    for (const p of this.parameters()) p.requiresGrad = false;
    return this;
  }

  unfreeze(): this {
    for (const p of this.parameters()) p.requiresGrad = true;
    return this;
  }

  /**
   * Zeroes existing gradients in place (an optimizer may hold views of them). The fill is deferred to
   * the next read of `.grad` or overwritten by the next backward (see Tensor.grad).
   */
  zeroGrad(): void {
    for (const p of this.parameters()) p.deferZeroGrad();
  }

  /** Copies of every parameter and buffer, by dotted name. */
  stateDict(): StateDict {
    const out: StateDict = {};
    for (const [name, p] of this.namedParameters()) out[name] = new Tensor(Float32Array.from(p.data), p.shape);
    for (const [name, b] of this.namedBuffers()) out[name] = new Tensor(b.data.slice(), b.shape);
    return out;
  }

  /**
   * Copies values into the existing parameters and buffers (in place, so optimizers keep working).
   * Throws listing every missing or unexpected name and every shape mismatch; nothing is copied then.
   */
  loadStateDict(state: StateDict, options: LoadStateDictOptions = {}): void {
    const strict = options.strict ?? true;
    if (typeof state !== 'object' || state === null) throw new TypeError('loadStateDict: state must be an object of tensors');
    const targets = new Map<string, Tensor>([...this.namedParameters(), ...this.namedBuffers()]);
    const problems: string[] = [];
    const missing = [...targets.keys()].filter((k) => !(k in state));
    const unexpected = Object.keys(state).filter((k) => !targets.has(k));
    if (strict && missing.length > 0) problems.push(`missing: ${missing.join(', ')}`);
    if (strict && unexpected.length > 0) problems.push(`unexpected: ${unexpected.join(', ')}`);
    for (const [name, target] of targets) {
      const src = state[name];
      if (src === undefined) continue;
      if (!(src instanceof Tensor)) {
        problems.push(`${name}: expected a Tensor`);
      } else if (src.shape.length !== target.shape.length || src.shape.some((d, i) => d !== target.shape[i])) {
        problems.push(`${name}: shape ${formatShape(src.shape)} in the state dict, ${formatShape(target.shape)} in the model`);
      }
    }
    if (problems.length > 0) throw new RangeError(`loadStateDict: ${problems.join('; ')}`);
    noGrad(() => {
      for (const [name, target] of targets) {
        const src = state[name];
        if (src !== undefined) target.data.set(src.data);
      }
    });
  }

  /** Architecture, one module per line, with parameter counts. */
  toString(): string {
    const total = this.numParameters();
    const trainable = this.numParameters(true);
    const frozen = total - trainable;
    return `${this.describe('')}\nparameters: ${total} (trainable ${trainable}${frozen > 0 ? `, frozen ${frozen}` : ''})`;
  }

  private describe(indent: string): string {
    const name = this.constructor.name;
    const extra = this.extraRepr();
    const children = this.namedChildren();
    const own = Object.values(this).filter((v): v is Parameter => v instanceof Parameter);
    const ownCount = own.reduce((n, p) => n + p.size, 0);
    const count = ownCount > 0 ? `  # ${ownCount} params${own.some((p) => !p.requiresGrad) ? ' (frozen)' : ''}` : '';
    if (children.length === 0) return `${name}(${extra})${count}`;
    const inner = indent + '  ';
    const lines = children.map(([key, child]) => `${inner}(${key}): ${child.describe(inner)}`);
    return `${name}(${extra}\n${lines.join('\n')}\n${indent})${count}`;
  }
}
