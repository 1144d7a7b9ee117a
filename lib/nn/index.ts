// Layers and models (`nn.*`).
export { Module, Parameter } from './module.js';
export type { StateDict, LoadStateDictOptions } from './module.js';
export { Linear } from './linear.js';
export type { LinearOptions } from './linear.js';
export { Conv2d, MaxPool2d, AvgPool2d, GlobalAvgPool2d, GlobalMaxPool2d } from './conv.js';
export type { Conv2dLayerOptions, PoolLayerOptions } from './conv.js';
export { BatchNorm1d, BatchNorm2d, LayerNorm } from './norm.js';
export type { BatchNormOptions, LayerNormOptions } from './norm.js';
export { ActivationModule, ReLU, LeakyReLU, ELU, Sigmoid, Tanh, Softplus, Softmax, LogSoftmax, Maxout } from './activation.js';
export { Sequential, Residual, Identity, Flatten, Dropout } from './container.js';
