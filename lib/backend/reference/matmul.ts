// Placeholder until the matmul family lands (replaced, not kept).
import type { Backend } from '../backend.js';

export const matmulKernels: Partial<Backend> = {};
