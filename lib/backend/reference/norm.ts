// Placeholder until the norm family lands (replaced, not kept).
import type { Backend } from '../backend.js';

export const normKernels: Partial<Backend> = {};
