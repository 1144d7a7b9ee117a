// Weight initializers (`init.*`). Each fills a tensor in place from the global generator (so
// manualSeed makes it reproducible) and returns it. Fans follow tensorforge's layouts: Linear
// weight [in, out], conv filter HWIO [kh, kw, in/groups, out]; so for rank >= 2,
// fanIn = shape[-2]·receptive, fanOut = shape[-1]·receptive, receptive = Π shape[:-2].
// Formulas and defaults match torch.nn.init.

import { noGrad } from '../autograd/graph.js';
import { globalGenerator } from '../random.js';
import { Tensor, formatShape } from '../tensor.js';

export type Initializer = (t: Tensor) => Tensor;
export type Nonlinearity = 'linear' | 'sigmoid' | 'tanh' | 'relu' | 'leakyRelu' | 'selu';
export type FanMode = 'fanIn' | 'fanOut';

function floatTarget(op: string, t: Tensor): Float32Array {
  if (!(t instanceof Tensor) || t.dtype !== 'float32') throw new TypeError(`init.${op}: expected a float32 Tensor`);
  return t.data as Float32Array;
}

/** [fanIn, fanOut] for the layouts above. */
export function computeFans(shape: readonly number[]): [number, number] {
  if (shape.length < 2) throw new RangeError(`init: fan in/out need a tensor of rank >= 2, got shape ${formatShape(shape)}`);
  let receptive = 1;
  for (let i = 0; i < shape.length - 2; i++) receptive *= shape[i];
  return [shape[shape.length - 2] * receptive, shape[shape.length - 1] * receptive];
}

/** torch.nn.init.calculate_gain. */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leakyRelu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      throw new RangeError(`init.calculateGain: unknown nonlinearity ${JSON.stringify(nonlinearity)}`);
  }
}

function fill(op: string, t: Tensor, draw: () => number): Tensor {
  const d = floatTarget(op, t);
  noGrad(() => {
    for (let i = 0; i < d.length; i++) d[i] = draw();
  });
  return t;
}

export function zeros(t: Tensor): Tensor {
  return fill('zeros', t, () => 0);
}

export function constant(t: Tensor, value: number): Tensor {
  if (!Number.isFinite(value)) throw new RangeError(`init.constant: value must be finite, got ${value}`);
  return fill('constant', t, () => value);
}

/** U(a, b). */
export function uniform(t: Tensor, a = 0, b = 1): Tensor {
  if (!(a <= b)) throw new RangeError(`init.uniform: need a <= b, got a=${a}, b=${b}`);
  return fill('uniform', t, () => globalGenerator.uniform(a, b));
}

/** N(mean, std²). */
export function normal(t: Tensor, mean = 0, std = 1): Tensor {
  if (!(std >= 0)) throw new RangeError(`init.normal: std must be >= 0, got ${std}`);
  return fill('normal', t, () => globalGenerator.normal(mean, std));
}

/** Glorot/Xavier uniform: U(±gain·sqrt(6 / (fanIn + fanOut))). */
export function glorotUniform(t: Tensor, gain = 1): Tensor {
  const [fanIn, fanOut] = computeFans(t.shape);
  const bound = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform(t, -bound, bound);
}

/** Glorot/Xavier normal: N(0, gain²·2 / (fanIn + fanOut)). */
export function glorotNormal(t: Tensor, gain = 1): Tensor {
  const [fanIn, fanOut] = computeFans(t.shape);
  return normal(t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)));
}

export interface HeOptions {
  /** Negative slope for leakyRelu (PyTorch's `a`, default 0). */
  a?: number;
  mode?: FanMode;
  nonlinearity?: Nonlinearity;
}

function heStd(t: Tensor, options: HeOptions): number {
  const [fanIn, fanOut] = computeFans(t.shape);
  const mode = options.mode ?? 'fanIn';
  if (mode !== 'fanIn' && mode !== 'fanOut') throw new RangeError(`init.he: mode must be 'fanIn' or 'fanOut', got ${JSON.stringify(mode)}`);
  const gain = calculateGain(options.nonlinearity ?? 'leakyRelu', options.a ?? 0);
  return gain / Math.sqrt(mode === 'fanIn' ? fanIn : fanOut);
}

/** He/Kaiming uniform: U(±gain·sqrt(3 / fan)) (PyTorch kaiming_uniform_, default nonlinearity leakyRelu with a = 0). */
export function heUniform(t: Tensor, options: HeOptions = {}): Tensor {
  const bound = Math.sqrt(3) * heStd(t, options);
  return uniform(t, -bound, bound);
}

/** He/Kaiming normal: N(0, gain² / fan). */
export function heNormal(t: Tensor, options: HeOptions = {}): Tensor {
  return normal(t, 0, heStd(t, options));
}

/** LeCun normal: N(0, 1 / fanIn). */
export function lecunNormal(t: Tensor): Tensor {
  const [fanIn] = computeFans(t.shape);
  return normal(t, 0, 1 / Math.sqrt(fanIn));
}

/**
 * PyTorch's default for Linear and Conv weights: kaiming_uniform_(a = √5), i.e. U(±1/√fanIn), and
 * for their biases U(±1/√fanIn) of the weight's fanIn.
 */
export function torchDefaultWeight(t: Tensor): Tensor {
  return heUniform(t, { a: Math.sqrt(5) });
}

export function torchDefaultBias(t: Tensor, fanIn: number): Tensor {
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  return uniform(t, -bound, bound);
}
