// Placeholder until the reduce family lands (replaced, not kept).
import type { Backend } from '../backend.js';

export const reduceKernels: Partial<Backend> = {};
