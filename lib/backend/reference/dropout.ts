// Placeholder until the dropout family lands (replaced, not kept).
import type { Backend } from '../backend.js';

export const dropoutKernels: Partial<Backend> = {};
