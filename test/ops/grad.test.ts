// Finite-difference gradient checks for every differentiable op, on both backends (same graphs).
import { describe, expect, test } from 'vitest';
import * as ops from '../../lib/ops/index.js';
import { manualSeed } from '../../lib/random.js';
import { Tensor } from '../../lib/tensor.js';
import { BACKENDS, awayFromZero, distinctValues, gradcheck, onBackend, randTensor } from '../helpers/gradcheck.js';
import { Rng } from '../helpers/parity.js';

type Case = { name: string; build: (rng: Rng) => { fn: (...t: Tensor[]) => Tensor; inputs: Tensor[] } };

/** Positive values in [lo, hi) (log, sqrt, div denominators). */
function positive(rng: Rng, shape: number[], lo = 0.5, hi = 1.5) {
  return randTensor(rng, shape, lo, hi);
}

/** Two tensors whose values all differ by at least 0.025 (> h), for maximum/minimum. */
function separated(rng: Rng, aShape: number[], bShape: number[]) {
  const a = distinctValues(rng, aShape, 0.05);
  const b = distinctValues(rng, bShape, 0.05);
  b.data.forEach((v, i) => { b.data[i] = v + 0.025; });
  return [a, b];
}

/**
 * x [M,K], w [K,N], bias [N] with every pre-activation x·w + b at least 0.1 away from 0, so a
 * perturbation of h = 1e-2 (which moves a pre-activation by at most K·h = 0.04) never crosses the
 * relu/leakyRelu kink. Draws again (deterministically) until the margin holds.
 */
function awayFromKink(rng: Rng, m: number, k: number, n: number) {
  for (;;) {
    const x = randTensor(rng, [m, k]);
    const w = randTensor(rng, [k, n]);
    const b = randTensor(rng, [n]);
    let ok = true;
    for (let i = 0; i < m && ok; i++) {
      for (let j = 0; j < n && ok; j++) {
        let z = b.data[j];
        for (let t = 0; t < k; t++) z += x.data[i * k + t] * w.data[t * n + j];
        if (Math.abs(z) < 0.1) ok = false;
      }
    }
    if (ok) return [x, w, b];
  }
}

const unaryCases: Case[] = [
  ['neg', ops.neg, randTensor], ['exp', ops.exp, randTensor], ['log', ops.log, positive], ['sqrt', ops.sqrt, positive],
  ['square', ops.square, randTensor], ['abs', ops.abs, awayFromZero], ['relu', ops.relu, awayFromZero],
  ['leakyRelu(0.2)', (x: Tensor) => ops.leakyRelu(x, 0.2), awayFromZero], ['elu(0.7)', (x: Tensor) => ops.elu(x, 0.7), awayFromZero],
  ['sigmoid', ops.sigmoid, randTensor], ['tanh', ops.tanh, randTensor], ['softplus', ops.softplus, randTensor],
  ['pow(x, 3)', (x: Tensor) => ops.pow(x, 3), positive], ['clamp(-0.5, 0.5)', (x: Tensor) => ops.clamp(x, -0.5, 0.5), (r: Rng, s: number[]) => distinctValues(r, s, 0.09)],
].map(([name, f, gen]) => ({
  name: `${name as string} x=[3,4]`,
  build: (rng: Rng) => ({ fn: f as (x: Tensor) => Tensor, inputs: [(gen as (r: Rng, s: number[]) => Tensor)(rng, [3, 4])] }),
}));

const binaryCases: Case[] = [
  { name: 'add a=[2,3] b=[3]', build: (r) => ({ fn: ops.add, inputs: [randTensor(r, [2, 3]), randTensor(r, [3])] }) },
  { name: 'sub a=[2,1] b=[1,3]', build: (r) => ({ fn: ops.sub, inputs: [randTensor(r, [2, 1]), randTensor(r, [1, 3])] }) },
  { name: 'mul a=[2,3,2] b=[3,1]', build: (r) => ({ fn: ops.mul, inputs: [randTensor(r, [2, 3, 2]), randTensor(r, [3, 1])] }) },
  { name: 'div a=[2,3] b=[2,3]', build: (r) => ({ fn: ops.div, inputs: [randTensor(r, [2, 3]), positive(r, [2, 3])] }) },
  { name: 'mul by scalar tensor a=[2,3] b=[]', build: (r) => ({ fn: ops.mul, inputs: [randTensor(r, [2, 3]), new Tensor(Float32Array.of(0.7), [], { requiresGrad: true })] }) },
  { name: 'add number: x + 2 then * x', build: (r) => ({ fn: (x) => ops.mul(ops.add(x, 2), x), inputs: [randTensor(r, [5])] }) },
  { name: 'maximum a=[2,3] b=[3]', build: (r) => ({ fn: ops.maximum, inputs: separated(r, [2, 3], [3]) }) },
  { name: 'minimum a=[3] b=[2,3]', build: (r) => ({ fn: ops.minimum, inputs: separated(r, [3], [2, 3]) }) },
];

const linalgCases: Case[] = [
  { name: 'matmul a=[3,4] b=[4,5]', build: (r) => ({ fn: ops.matmul, inputs: [randTensor(r, [3, 4]), randTensor(r, [4, 5])] }) },
  { name: 'matmul a=[2,3,4] b=[4,2] (leading axes flattened)', build: (r) => ({ fn: ops.matmul, inputs: [randTensor(r, [2, 3, 4]), randTensor(r, [4, 2])] }) },
  { name: 'linear x=[3,4] w=[4,5] bias', build: (r) => ({ fn: (x, w, b) => ops.linear(x, w, b), inputs: [randTensor(r, [3, 4]), randTensor(r, [4, 5]), randTensor(r, [5])] }) },
  { name: 'linear no bias, only w requires grad', build: (r) => ({ fn: (x, w) => ops.linear(x, w), inputs: [randTensor(r, [3, 4], -1, 1, false), randTensor(r, [4, 2])] }) },
  ...(['relu', 'leakyRelu', 'elu', 'sigmoid', 'tanh'] as const).map((activation) => ({
    name: `linear fused ${activation} x=[3,4] w=[4,3]`,
    build: (r: Rng) => ({ fn: (x: Tensor, w: Tensor, b: Tensor) => ops.linear(x, w, b, { activation, alpha: activation === 'leakyRelu' ? 0.1 : undefined }), inputs: awayFromKink(r, 3, 4, 3) }),
  })),
];

const convCases: Case[] = [
  { name: 'conv2d x=[2,5,5,3] w=[3,3,3,4] valid', build: (r) => ({ fn: (x, w, b) => ops.conv2d(x, w, b), inputs: [randTensor(r, [2, 5, 5, 3]), randTensor(r, [3, 3, 3, 4]), randTensor(r, [4])] }) },
  { name: 'conv2d x=[1,6,5,2] w=[3,2,2,3] stride=2 pad=same', build: (r) => ({ fn: (x, w) => ops.conv2d(x, w, null, { stride: 2, padding: 'same' }), inputs: [randTensor(r, [1, 6, 5, 2]), randTensor(r, [3, 2, 2, 3])] }) },
  { name: 'conv2d x=[1,7,7,2] w=[3,3,2,2] dilation=2 pad=1', build: (r) => ({ fn: (x, w) => ops.conv2d(x, w, null, { dilation: 2, padding: 1 }), inputs: [randTensor(r, [1, 7, 7, 2]), randTensor(r, [3, 3, 2, 2])] }) },
  { name: 'conv2d x=[1,4,4,4] w=[3,3,2,6] groups=2 bias', build: (r) => ({ fn: (x, w, b) => ops.conv2d(x, w, b, { groups: 2, padding: 'same' }), inputs: [randTensor(r, [1, 4, 4, 4]), randTensor(r, [3, 3, 2, 6]), randTensor(r, [6])] }) },
  { name: 'conv2d fused tanh x=[1,4,4,2] w=[2,2,2,3]', build: (r) => ({ fn: (x, w, b) => ops.conv2d(x, w, b, { activation: 'tanh' }), inputs: [randTensor(r, [1, 4, 4, 2]), randTensor(r, [2, 2, 2, 3]), randTensor(r, [3])] }) },
  { name: 'maxPool2d x=[2,4,4,3] k=2', build: (r) => ({ fn: (x) => ops.maxPool2d(x, { kernelSize: 2 }), inputs: [distinctValues(r, [2, 4, 4, 3])] }) },
  { name: 'maxPool2d x=[1,5,5,2] k=3 s=2 pad=1', build: (r) => ({ fn: (x) => ops.maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1 }), inputs: [distinctValues(r, [1, 5, 5, 2])] }) },
  { name: 'avgPool2d x=[1,5,5,2] k=3 s=2 pad=1 countIncludePad', build: (r) => ({ fn: (x) => ops.avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1 }), inputs: [randTensor(r, [1, 5, 5, 2])] }) },
  { name: 'avgPool2d x=[1,4,4,2] k=2 pad=1 countIncludePad=false', build: (r) => ({ fn: (x) => ops.avgPool2d(x, { kernelSize: 2, padding: 1, countIncludePad: false }), inputs: [randTensor(r, [1, 4, 4, 2])] }) },
  { name: 'globalAvgPool2d x=[2,3,3,4]', build: (r) => ({ fn: ops.globalAvgPool2d, inputs: [randTensor(r, [2, 3, 3, 4])] }) },
  { name: 'globalMaxPool2d x=[2,3,3,4]', build: (r) => ({ fn: ops.globalMaxPool2d, inputs: [distinctValues(r, [2, 3, 3, 4])] }) },
];

const reduceCases: Case[] = [
  { name: 'sum all x=[3,4]', build: (r) => ({ fn: (x) => ops.sum(x), inputs: [randTensor(r, [3, 4])] }) },
  { name: 'sum axes [0,2] keepDims x=[2,3,4]', build: (r) => ({ fn: (x) => ops.sum(x, [0, 2], true), inputs: [randTensor(r, [2, 3, 4])] }) },
  { name: 'mean axis -1 x=[3,4]', build: (r) => ({ fn: (x) => ops.mean(x, -1), inputs: [randTensor(r, [3, 4])] }) },
  { name: 'max axis 1 x=[3,5,2]', build: (r) => ({ fn: (x) => ops.max(x, 1), inputs: [distinctValues(r, [3, 5, 2])] }) },
  { name: 'maxout pieces=3 x=[2,6]', build: (r) => ({ fn: (x) => ops.maxout(x, 3), inputs: [distinctValues(r, [2, 6])] }) },
  { name: 'softmax axis -1 x=[3,4]', build: (r) => ({ fn: (x) => ops.softmax(x), inputs: [randTensor(r, [3, 4])] }) },
  { name: 'softmax axis 1 x=[2,3,4]', build: (r) => ({ fn: (x) => ops.softmax(x, 1), inputs: [randTensor(r, [2, 3, 4])] }) },
  { name: 'logSoftmax axis 0 x=[4,3]', build: (r) => ({ fn: (x) => ops.logSoftmax(x, 0), inputs: [randTensor(r, [4, 3])] }) },
];

const normCases: Case[] = [
  {
    name: 'batchNorm training x=[6,3] weight bias',
    build: (r) => ({
      fn: (x, g, b) => ops.batchNorm(x, new Tensor(new Float32Array(3), [3]), new Tensor(new Float32Array(3).fill(1), [3]), g, b, { training: true }),
      inputs: [randTensor(r, [6, 3], -2, 2), positive(r, [3]), randTensor(r, [3])],
    }),
  },
  {
    name: 'batchNorm training x=[2,3,3,2] (NHWC) no affine',
    build: (r) => ({ fn: (x) => ops.batchNorm(x, null, null, null, null, { training: true }), inputs: [randTensor(r, [2, 3, 3, 2], -2, 2)] }),
  },
  {
    name: 'batchNorm eval x=[4,3] running stats, weight bias',
    build: (r) => {
      const rm = randTensor(r, [3], -1, 1, false);
      const rv = positive(r, [3]);
      rv.requiresGrad = false;
      return { fn: (x, g, b) => ops.batchNorm(x, rm, rv, g, b, { training: false }), inputs: [randTensor(r, [4, 3]), positive(r, [3]), randTensor(r, [3])] };
    },
  },
  {
    name: 'layerNorm x=[3,4] over [4] weight bias',
    build: (r) => ({ fn: (x, g, b) => ops.layerNorm(x, [4], g, b), inputs: [randTensor(r, [3, 4], -2, 2), positive(r, [4]), randTensor(r, [4])] }),
  },
  {
    name: 'layerNorm x=[2,2,3] over [2,3] no affine',
    build: (r) => ({ fn: (x) => ops.layerNorm(x, [2, 3]), inputs: [randTensor(r, [2, 2, 3], -2, 2)] }),
  },
  {
    name: 'dropout p=0.3 (seeded mask)',
    build: (r) => ({ fn: (x) => { manualSeed(5); return ops.dropout(x, 0.3, true); }, inputs: [randTensor(r, [4, 5])] }),
  },
];

const movementCases: Case[] = [
  { name: 'reshape+transpose+matmul chain', build: (r) => ({ fn: (x, w) => ops.matmul(x.reshape([3, 4]).transpose(), w), inputs: [randTensor(r, [2, 6]), randTensor(r, [3, 2])] }) },
  { name: 'residual: relu(x·w) + x', build: (r) => ({ fn: (x, w) => ops.add(ops.tanh(ops.matmul(x, w)), x), inputs: [randTensor(r, [3, 3]), randTensor(r, [3, 3])] }) },
  { name: 'shared subexpression: s = sigmoid(x); s*s + s', build: (r) => ({ fn: (x) => { const s = ops.sigmoid(x); return ops.add(ops.mul(s, s), s); }, inputs: [randTensor(r, [4])] }) },
];

const groups: [string, Case[]][] = [
  ['unary', unaryCases], ['binary', binaryCases], ['matmul/linear', linalgCases], ['conv/pool', convCases],
  ['reduce/softmax', reduceCases], ['norm/dropout', normCases], ['graphs', movementCases],
];

for (const backend of BACKENDS) {
  for (const [group, cases] of groups) {
    describe(`gradients: ${group} (${backend})`, () => {
      for (const c of cases) {
        test(c.name, () => {
          onBackend(backend, () => {
            const { fn, inputs } = c.build(new Rng(17));
            const expected = inputs.filter((t) => t.requiresGrad).reduce((n, t) => n + t.size, 0);
            expect(gradcheck(fn, inputs, { name: `${c.name} [${backend}]` })).toBe(expected);
          });
        });
      }
    });
  }
}
