// The functional ops (`ops.*`). Each validates its inputs, runs backend kernels and records its
// backward when gradients are needed.

export { add, sub, mul, div, maximum, minimum, clamp, pow, neg, exp, log, sqrt, square, abs } from './elementwise.js';
export { relu, leakyRelu, elu, sigmoid, tanh, softplus } from './elementwise.js';
export { matmul, linear } from './matmul.js';
export type { ActivationOptions } from './matmul.js';
export { conv2d } from './conv.js';
export type { Conv2dOptions } from './conv.js';
export { maxPool2d, avgPool2d, globalAvgPool2d, globalMaxPool2d } from './pool.js';
export type { Pool2dOptions, AvgPool2dOptions } from './pool.js';
export { sum, mean, max, argmax, maxout } from './reduce.js';
export { softmax, logSoftmax } from './softmax.js';
export { batchNorm, layerNorm } from './norm.js';
export type { BatchNormOptions } from './norm.js';
export { dropout } from './dropout.js';
export {
  reshape, flatten, squeeze, unsqueeze, permute, transpose, slice, concat, stack, broadcastTo, indexSelect,
} from './shape.js';
export { tensor, zeros, ones, full, zerosLike, onesLike, rand, randn, arange } from './creation.js';
export type { CreateOptions } from './creation.js';
