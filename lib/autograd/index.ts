export { noGrad, isGradEnabled, Node } from './graph.js';
export type { BackwardFn } from './graph.js';
export type { BackwardOptions } from './backward.js';
export { output } from './record.js';
