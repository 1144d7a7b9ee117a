// Placeholder until the pool family lands (replaced, not kept).
import type { Backend } from '../backend.js';

export const poolKernels: Partial<Backend> = {};
