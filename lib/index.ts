// Public exports only.
export { backendInfo, setBackend, setNumThreads, getBackend } from './backend/index.js';
export type { BackendName } from './backend/index.js';
export type { Backend, BackendInfo } from './backend/backend.js';

// The training library (issue 5).
export { Tensor } from './tensor.js';
export type { DType, TensorData, NestedArray } from './tensor.js';
export { tensor, zeros, ones, full, zerosLike, onesLike, rand, randn, arange } from './ops/creation.js';
export type { CreateOptions } from './ops/creation.js';
export { manualSeed, randperm, Generator } from './random.js';
export { noGrad, isGradEnabled } from './autograd/graph.js';
export type { BackwardOptions } from './autograd/backward.js';
export * as ops from './ops/index.js';
export * as nn from './nn/index.js';
export * as losses from './losses/index.js';
export * as init from './init/index.js';
export * as optim from './optim/index.js';

// Save/load and batch inference off the JS thread (issue 6).
export * as io from './io/index.js';
export { predictAsync, PredictPool } from './infer/index.js';
export type { PredictAsyncOptions, PredictPoolOptions, PredictOptions } from './infer/index.js';
