// Placeholder until the optim family lands (replaced, not kept).
import type { Backend } from '../backend.js';

export const optimKernels: Partial<Backend> = {};
