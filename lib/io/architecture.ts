// Module <-> JSON architecture. A saved model is a tree of nodes `{ "class": name, "config": {...} }`;
// containers hold their children's nodes inside their config. Each class name maps to a serializer
// in ONE registry: `toConfig` reads a module's constructor arguments, `fromConfig` rebuilds the module
// from them (with fresh weights: the weights come from the safetensors file afterwards).
//
// Loading never runs code named by a file: a class name is only a key into this registry, and a name
// that is not registered is an error. User classes register themselves with `registerModule`.

import type { PaddingSpec } from '../backend/shape.js';
import {
  ELU, LeakyReLU, LogSoftmax, Maxout, ReLU, Sigmoid, Softmax, Softplus, Tanh,
} from '../nn/activation.js';
import { Dropout, Flatten, Identity, Residual, Sequential } from '../nn/container.js';
import { AvgPool2d, Conv2d, GlobalAvgPool2d, GlobalMaxPool2d, MaxPool2d } from '../nn/conv.js';
import { Linear } from '../nn/linear.js';
import { Module } from '../nn/module.js';
import { BatchNorm1d, BatchNorm2d, LayerNorm } from '../nn/norm.js';
import {
  ConfigReader, FormatError, MAX_JSON_DEPTH, checkJsonTree, describe, isJsonObject, type Json, type JsonObject,
} from './json.js';

/** One module in the saved architecture. */
// A type alias (not an interface) so a node is itself a JsonObject and nests inside configs.
export type ModuleNode = {
  class: string;
  config: JsonObject;
};

/** Given to `toConfig`: turns a child module into its node (for containers and composite models). */
export interface SaveContext {
  node(child: Module): ModuleNode;
}

/** Given to `fromConfig`: rebuilds child modules from nodes stored in the config. */
export interface LoadContext {
  /** The module whose node is stored under `key`. */
  module(config: ConfigReader, key: string): Module;
  /** The module stored under `key`, or null when the value is null. */
  optionalModule(config: ConfigReader, key: string): Module | null;
  /** The modules of the array of nodes stored under `key`. */
  modules(config: ConfigReader, key: string): Module[];
  /**
   * Call before allocating `elements` parameter/buffer values: throws when the architecture would
   * need more values than the weights file holds, so a hostile config cannot make us allocate (and
   * initialize) gigabytes before the weights are checked.
   */
  reserve(elements: number): void;
}

/**
 * How one module class is saved and rebuilt. `type` is matched exactly (a subclass is a different
 * class and needs its own entry). `fromConfig` reads its fields through the ConfigReader, which
 * checks each type; any field it does not read is reported as unexpected.
 */
export interface ModuleSerializer<M extends Module = Module> {
  type: abstract new (...args: never[]) => M;
  toConfig(module: M, ctx: SaveContext): JsonObject;
  fromConfig(config: ConfigReader, ctx: LoadContext): M;
}

const byName = new Map<string, ModuleSerializer>();
const byType = new Map<unknown, string>();
const builtinNames = new Set<string>();

const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$/;

function register<M extends Module>(name: string, serializer: ModuleSerializer<M>): void {
  byName.set(name, serializer);
  byType.set(serializer.type, name);
}

/**
 * Registers a user module class so `io.save` can write it and `io.load` rebuild it. The name is what
 * the file stores; it must be unique. Registering the same class under the same name again replaces
 * its functions (e.g. after a hot reload).
 */
export function registerModule<M extends Module>(name: string, serializer: ModuleSerializer<M>): void {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new TypeError(`io.registerModule: name must match ${NAME_PATTERN}, got ${describe(name)}`);
  }
  if (typeof serializer !== 'object' || serializer === null || typeof serializer.type !== 'function' ||
      !(serializer.type.prototype instanceof Module) ||
      typeof serializer.toConfig !== 'function' || typeof serializer.fromConfig !== 'function') {
    throw new TypeError(`io.registerModule: '${name}' needs { type: a Module subclass, toConfig(module, ctx), fromConfig(config, ctx) }`);
  }
  if (builtinNames.has(name)) throw new RangeError(`io.registerModule: '${name}' is a built-in module name`);
  const existing = byName.get(name);
  if (existing !== undefined && existing.type !== serializer.type) {
    throw new RangeError(`io.registerModule: '${name}' is already registered for another class (${existing.type.name})`);
  }
  const otherName = byType.get(serializer.type);
  if (otherName !== undefined && otherName !== name) {
    throw new RangeError(`io.registerModule: class ${serializer.type.name} is already registered as '${otherName}'`);
  }
  register(name, serializer);
}

/** The registered name of a module's class, or undefined. */
export function registeredName(m: Module): string | undefined {
  return byType.get(m.constructor);
}

/**
 * True when every module in the tree is a built-in nn class (not a user class, even a registered
 * one): their forward passes are fixed sequences of kernels, which predictAsync can record and replay.
 */
export function isBuiltinModuleTree(model: Module): boolean {
  return model.namedModules().every(([, m]) => {
    const name = byType.get(m.constructor);
    return name !== undefined && builtinNames.has(name);
  });
}

// --- module -> node

/** The architecture of `model` as a JSON tree; throws naming the first module that cannot be saved. */
export function moduleToNode(model: Module, op = 'io.save'): ModuleNode {
  const visit = (m: Module, path: string, depth: number): ModuleNode => {
    if (!(m instanceof Module)) throw new TypeError(`${op}: ${path} is not a Module (${describe(m)})`);
    if (depth > MAX_JSON_DEPTH / 4) throw new RangeError(`${op}: modules nested deeper than ${MAX_JSON_DEPTH / 4} levels at ${path}`);
    const name = registeredName(m);
    if (name === undefined) {
      throw new TypeError(
        `${op}: ${path} is a ${m.constructor.name}, which is not a registered module class; ` +
        `call io.registerModule('${m.constructor.name}', { type: ${m.constructor.name}, toConfig, fromConfig }) first`,
      );
    }
    let children = 0;
    const ctx: SaveContext = { node: (child) => visit(child, `${path}/${children++}`, depth + 1) };
    const config = byName.get(name)!.toConfig(m, ctx);
    checkJsonTree(config, `${op}: config of ${path} (${name})`);
    if (!isJsonObject(config)) throw new TypeError(`${op}: toConfig of '${name}' must return an object`);
    return { class: name, config };
  };
  return visit(model, 'model', 0);
}

// --- node -> module

/**
 * Rebuilds a module tree from its JSON node; `where` names the file for errors. `budget` is the
 * most parameter/buffer values the tree may allocate (the element count of its weights file).
 */
export function moduleFromNode(node: Json, where: string, budget = Infinity): Module {
  let reserved = 0;
  const build = (value: Json, path: string, depth: number): Module => {
    if (depth > MAX_JSON_DEPTH / 4) throw new FormatError(`${where}: modules nested deeper than ${MAX_JSON_DEPTH / 4} levels at ${path}`);
    if (!isJsonObject(value)) throw new FormatError(`${where}: ${path} must be a module node { class, config }, got ${describe(value)}`);
    const n = new ConfigReader(value, `${where}: ${path}`);
    const name = n.string('class');
    const serializer = byName.get(name);
    if (serializer === undefined) {
      throw new FormatError(`${where}: ${path} has unknown module class ${JSON.stringify(name)} (not built in and not registered with io.registerModule)`);
    }
    const config = new ConfigReader(n.object('config'), `${where}: ${path}.config (${name})`);
    n.done();
    const field = (c: ConfigReader, key: string): Json => {
      const v = c.raw(key);
      return v === undefined ? c.fail(`missing field '${key}'`) : v;
    };
    const ctx: LoadContext = {
      module: (c, key) => build(field(c, key), `${path}.config.${key}`, depth + 1),
      optionalModule: (c, key) => {
        const v = field(c, key);
        return v === null ? null : build(v, `${path}.config.${key}`, depth + 1);
      },
      modules: (c, key) => c.array(key).map((v, i) => build(v, `${path}.config.${key}[${i}]`, depth + 1)),
      reserve: (elements) => {
        reserved += elements;
        if (!(reserved <= budget)) {
          throw new FormatError(`${where}: ${path} (${name}) needs more parameter and buffer values than the weights hold (${budget})`);
        }
      },
    };
    let m: Module;
    try {
      m = serializer.fromConfig(config, ctx);
    } catch (e) {
      if (e instanceof FormatError) throw e;
      // A constructor refused the values (e.g. groups not dividing the channels): same error, with the place.
      throw new FormatError(`${config.where}: ${(e as Error).message}`);
    }
    config.done();
    if (!(m instanceof serializer.type)) throw new FormatError(`${where}: fromConfig of '${name}' did not return a ${serializer.type.name}`);
    return m;
  };
  return build(node, 'architecture', 0);
}

// --- built-in modules

function readPadding(c: ConfigReader, key: string): PaddingSpec {
  const v = c.raw(key);
  const nonNeg = (d: Json) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0;
  if (v === 'valid' || v === 'same') return v;
  if (typeof v === 'number' && nonNeg(v)) return v;
  if (Array.isArray(v) && (v.length === 2 || v.length === 4) && v.every(nonNeg)) return [...v] as PaddingSpec;
  return c.fail(`'${key}' must be 'valid', 'same', an integer >= 0, or 2 or 4 of them, got ${JSON.stringify(v)}`);
}

/** Copies the keys that are set (not undefined) so a rebuilt module's options equal the original's. */
function definedOnly(o: Record<string, Json | undefined>): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out;
}

function stateless<M extends Module>(name: string, type: new () => M): void {
  register(name, { type, toConfig: () => ({}), fromConfig: () => new type() });
}

function registerBuiltins(): void {
  register('Linear', {
    type: Linear,
    toConfig: (m) => ({ inFeatures: m.inFeatures, outFeatures: m.outFeatures, bias: m.bias !== null }),
    fromConfig: (c, ctx) => {
      const [inF, outF, bias] = [c.int('inFeatures', 1), c.int('outFeatures', 1), c.bool('bias')];
      ctx.reserve(inF * outF + (bias ? outF : 0));
      return new Linear(inF, outF, { bias });
    },
  });
  register('Conv2d', {
    type: Conv2d,
    toConfig: (m) => ({
      inChannels: m.inChannels, outChannels: m.outChannels, kernelSize: m.kernelSize, bias: m.bias !== null,
      ...definedOnly({ stride: m.options.stride, padding: m.options.padding, dilation: m.options.dilation, groups: m.options.groups }),
    }),
    fromConfig: (c, ctx) => {
      const [inC, outC, kernelSize] = [c.int('inChannels', 1), c.int('outChannels', 1), c.intOrPair('kernelSize')];
      const options = {
        bias: c.bool('bias'),
        stride: c.has('stride') ? c.intOrPair('stride') : undefined,
        padding: c.has('padding') ? readPadding(c, 'padding') : undefined,
        dilation: c.has('dilation') ? c.intOrPair('dilation') : undefined,
        groups: c.has('groups') ? c.int('groups', 1) : undefined,
      };
      const [kh, kw] = typeof kernelSize === 'number' ? [kernelSize, kernelSize] : kernelSize;
      ctx.reserve(kh * kw * (inC / (options.groups ?? 1)) * outC + (options.bias ? outC : 0));
      return new Conv2d(inC, outC, kernelSize, options);
    },
  });
  register('MaxPool2d', {
    type: MaxPool2d,
    toConfig: (m) => ({ kernelSize: m.kernelSize, ...definedOnly({ stride: m.options.stride, padding: m.options.padding }) }),
    fromConfig: (c) => new MaxPool2d(c.intOrPair('kernelSize'), {
      stride: c.has('stride') ? c.intOrPair('stride') : undefined,
      padding: c.has('padding') ? readPadding(c, 'padding') : undefined,
    }),
  });
  register('AvgPool2d', {
    type: AvgPool2d,
    toConfig: (m) => ({
      kernelSize: m.kernelSize,
      ...definedOnly({ stride: m.options.stride, padding: m.options.padding, countIncludePad: m.options.countIncludePad }),
    }),
    fromConfig: (c) => new AvgPool2d(c.intOrPair('kernelSize'), {
      stride: c.has('stride') ? c.intOrPair('stride') : undefined,
      padding: c.has('padding') ? readPadding(c, 'padding') : undefined,
      countIncludePad: c.has('countIncludePad') ? c.bool('countIncludePad') : undefined,
    }),
  });
  for (const [name, type] of [['BatchNorm1d', BatchNorm1d], ['BatchNorm2d', BatchNorm2d]] as const) {
    register<BatchNorm1d | BatchNorm2d>(name, {
      type,
      toConfig: (m) => ({
        numFeatures: m.numFeatures, eps: m.eps, momentum: m.momentum,
        affine: m.weight !== null, trackRunningStats: m.runningMean !== null,
      }),
      fromConfig: (c, ctx) => {
        const n = c.int('numFeatures', 1);
        const options = { eps: c.number('eps'), momentum: c.number('momentum'), affine: c.bool('affine'), trackRunningStats: c.bool('trackRunningStats') };
        ctx.reserve(n * ((options.affine ? 2 : 0) + (options.trackRunningStats ? 2 : 0)));
        return new type(n, options);
      },
    });
  }
  register('LayerNorm', {
    type: LayerNorm,
    toConfig: (m) => ({ normalizedShape: m.normalizedShape, eps: m.eps, elementwiseAffine: m.weight !== null }),
    fromConfig: (c, ctx) => {
      const shape = c.ints('normalizedShape', 1);
      const options = { eps: c.number('eps'), elementwiseAffine: c.bool('elementwiseAffine') };
      ctx.reserve(options.elementwiseAffine ? 2 * shape.reduce((a, b) => a * b, 1) : 0);
      return new LayerNorm(shape, options);
    },
  });
  register('LeakyReLU', {
    type: LeakyReLU,
    toConfig: (m) => ({ negativeSlope: m.negativeSlope }),
    fromConfig: (c) => new LeakyReLU(c.number('negativeSlope')),
  });
  register('ELU', { type: ELU, toConfig: (m) => ({ alpha: m.alpha }), fromConfig: (c) => new ELU(c.number('alpha')) });
  register('Softmax', { type: Softmax, toConfig: (m) => ({ axis: m.axis }), fromConfig: (c) => new Softmax(c.int('axis')) });
  register('LogSoftmax', { type: LogSoftmax, toConfig: (m) => ({ axis: m.axis }), fromConfig: (c) => new LogSoftmax(c.int('axis')) });
  register('Maxout', { type: Maxout, toConfig: (m) => ({ pieces: m.pieces }), fromConfig: (c) => new Maxout(c.int('pieces', 1)) });
  register('Flatten', {
    type: Flatten,
    toConfig: (m) => ({ startAxis: m.startAxis, endAxis: m.endAxis }),
    fromConfig: (c) => new Flatten(c.int('startAxis'), c.int('endAxis')),
  });
  register('Dropout', { type: Dropout, toConfig: (m) => ({ p: m.p }), fromConfig: (c) => new Dropout(c.number('p')) });
  stateless('ReLU', ReLU);
  stateless('Sigmoid', Sigmoid);
  stateless('Tanh', Tanh);
  stateless('Softplus', Softplus);
  stateless('Identity', Identity);
  stateless('GlobalAvgPool2d', GlobalAvgPool2d);
  stateless('GlobalMaxPool2d', GlobalMaxPool2d);
  register('Sequential', {
    type: Sequential,
    toConfig: (m, ctx) => ({ layers: m.layers.map((l) => ctx.node(l)) }),
    fromConfig: (c, ctx) => new Sequential(...ctx.modules(c, 'layers')),
  });
  register('Residual', {
    type: Residual,
    toConfig: (m, ctx) => ({
      block: ctx.node(m.block),
      shortcut: m.shortcut === null ? null : ctx.node(m.shortcut),
    }),
    fromConfig: (c, ctx) => new Residual(ctx.module(c, 'block'), ctx.optionalModule(c, 'shortcut')),
  });
  for (const name of byName.keys()) builtinNames.add(name);
}

registerBuiltins();
