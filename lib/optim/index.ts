// Optimizers and learning-rate schedules (`optim.*`).
export { Optimizer } from './optimizer.js';
export type { ParamGroup, ParamGroupSpec, ParamsArg, OptimizerStateDict } from './optimizer.js';
export { SGD } from './sgd.js';
export type { SGDOptions } from './sgd.js';
export { Adagrad } from './adagrad.js';
export type { AdagradOptions } from './adagrad.js';
export { RMSprop } from './rmsprop.js';
export type { RMSpropOptions } from './rmsprop.js';
export { Adam, AdamW } from './adam.js';
export type { AdamOptions } from './adam.js';
export { LRScheduler, StepLR, ExponentialLR, CosineAnnealingLR, ReduceLROnPlateau, LinearWarmup, parseSchedulerState } from './lr_scheduler.js';
export type { ReduceLROnPlateauOptions, LinearWarmupOptions, LrOwner, SchedulerKind, SchedulerState } from './lr_scheduler.js';
