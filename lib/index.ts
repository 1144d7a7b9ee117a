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

// The training workflow (issue 6). Importing it also installs model.fit / model.evaluate / model.predict.
export * as data from './data/index.js';
export * as metrics from './metrics/index.js';
export * as report from './report/svg.js';
export { fit, evaluate, predict, History, EarlyStopping, LearningRateScheduler, ModelCheckpoint, saveStateDict } from './train/index.js';
export type {
  FitOptions, FitData, LossFn, LossName, OptimizerName, Scheduler, EvaluateOptions, PredictOptions, Logs, BatchLog,
  Callback, FitContext, EarlyStoppingOptions, ModelCheckpointOptions, SaveFn, ProgressStream,
} from './train/index.js';
// Save/load and batch inference off the JS thread (issue 6).
export * as io from './io/index.js';
export { predictAsync, PredictPool } from './infer/index.js';
export type { PredictAsyncOptions, PredictPoolOptions, PredictOptions as PoolPredictOptions } from './infer/index.js';
