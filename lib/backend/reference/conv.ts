// Placeholder until the conv family lands (replaced, not kept).
import type { Backend } from '../backend.js';

export const convKernels: Partial<Backend> = {};
