// Data loading and preparation (`data.*`): datasets and batching, splitting, scaling, file readers.
export { Dataset, DataLoader, trainTestSplit } from './dataset.js';
export type { ArrayInput, ShapedArray, NumericArray, Batch, DataLoaderOptions, TrainTestSplitOptions, TrainTestSplit } from './dataset.js';
export { StandardScaler, MinMaxScaler, oneHot } from './preprocess.js';
export type { StandardScalerOptions, MinMaxScalerOptions } from './preprocess.js';
export { readIdx, parseIdx } from './idx.js';
export type { IdxArray, IdxData } from './idx.js';
export { readCsv, parseCsv } from './csv.js';
export type { CsvOptions, CsvTable } from './csv.js';
