// Placeholder until the elementwise family lands (replaced, not kept).
import type { Backend } from '../backend.js';

export const elementwiseKernels: Partial<Backend> = {};
