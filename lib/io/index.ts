// `io.*`: saving and loading models, optimizer state and bare state dicts.
//
//   io.save(model, dir, { optimizer })           write a model directory (see model-io.ts for the layout)
//   const { model, optimizerState } = io.load(dir)
//   io.restoreOptimizer(optimizer, model, optimizerState)   resume training where it stopped
//   io.registerModule('MyBlock', { type: MyBlock, toConfig, fromConfig })   user module classes
//   io.saveStateDict(model, file) / io.loadStateDict(file)   weights only, one safetensors file
export { save, load, FORMAT, FORMAT_VERSION } from './model-io.js';
export type { SaveOptions, LoadResult } from './model-io.js';
export { restoreOptimizer } from './optimizer-state.js';
export type { SavableOptimizer, SavedOptimizerState } from './optimizer-state.js';
export { registerModule } from './architecture.js';
export type { ModuleSerializer, ModuleNode, SaveContext, LoadContext } from './architecture.js';
export { ConfigReader, FormatError } from './json.js';
export type { Json, JsonObject } from './json.js';
export { saveStateDict, loadStateDict } from './state-dict.js';
export { encodeSafetensors, decodeSafetensors } from './safetensors.js';
export type { SafeTensor, SafeDtype, DecodedSafetensors } from './safetensors.js';
