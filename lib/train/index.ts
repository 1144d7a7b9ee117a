// Training workflow: fit / evaluate / predict, History, callbacks, progress output.
import './model-methods.js';

export { fit } from './fit.js';
export { evaluate, predict } from './evaluate.js';
export type { EvaluateOptions, PredictOptions } from './evaluate.js';
export type { FitOptions, Scheduler } from './options.js';
export type { FitData, LossFn, LossName, OptimizerName } from './resolve.js';
export { LOSS_NAMES, OPTIMIZER_NAMES } from './resolve.js';
export { History } from './history.js';
export type { Logs, BatchLog, HistoryParams } from './history.js';
export { EarlyStopping, LearningRateScheduler } from './callbacks.js';
export type { Callback, FitContext, EarlyStoppingOptions, AnyOptimizer } from './callbacks.js';
export { ModelCheckpoint, saveStateDict } from './checkpoint.js';
export type { ModelCheckpointOptions, SaveFn } from './checkpoint.js';
export type { ProgressStream } from './progress.js';
