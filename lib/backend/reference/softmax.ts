// Placeholder until the softmax family lands (replaced, not kept).
import type { Backend } from '../backend.js';

export const softmaxKernels: Partial<Backend> = {};
