// `model.fit(...)`, `model.evaluate(...)` and `model.predict(...)` as methods of every Module. They are
// installed here, by lib/train, onto Module.prototype (lib/nn stays free of training code); the
// `declare module` block adds them to Module's type. Importing the library's entry point (or lib/train)
// installs them. Each simply calls the function of the same name with the model as first argument.

import type { ArrayInput, Dataset } from '../data/dataset.js';
import { Module } from '../nn/module.js';
import type { Tensor } from '../tensor.js';
import { evaluate, predict, type EvaluateOptions, type PredictOptions } from './evaluate.js';
import { fit } from './fit.js';
import type { History, Logs } from './history.js';
import type { FitOptions } from './options.js';
import type { FitData } from './resolve.js';

declare module '../nn/module.js' {
  interface Module {
    /** fit(this, data, options): trains the model; see FitOptions. */
    fit(data: FitData, options: FitOptions): Promise<History>;
    /** evaluate(this, data, options): loss and metrics in eval mode. */
    evaluate(data: FitData, options?: EvaluateOptions): Logs;
    /** predict(this, x, options): batched outputs in eval mode. */
    predict(x: ArrayInput | Dataset, options?: PredictOptions): Tensor;
  }
}

Module.prototype.fit = function fitMethod(this: Module, data: FitData, options: FitOptions): Promise<History> {
  return fit(this, data, options);
};

Module.prototype.evaluate = function evaluateMethod(this: Module, data: FitData, options?: EvaluateOptions): Logs {
  return evaluate(this, data, options);
};

Module.prototype.predict = function predictMethod(this: Module, x: ArrayInput | Dataset, options?: PredictOptions): Tensor {
  return predict(this, x, options);
};
