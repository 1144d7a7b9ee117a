// The reference backend: every kernel as plain TypeScript loops. It is the oracle the native
// kernels are tested against and the fallback when the addon cannot load. One file per family.

import type { Backend } from '../backend.js';
import { matmulKernels } from './matmul.js';
import { convKernels } from './conv.js';
import { poolKernels } from './pool.js';
import { elementwiseKernels } from './elementwise.js';
import { reduceKernels } from './reduce.js';
import { softmaxKernels } from './softmax.js';
import { normKernels } from './norm.js';
import { dropoutKernels } from './dropout.js';
import { gatherKernels } from './gather.js';
import { optimKernels } from './optim.js';

export const referenceBackend: Backend = {
  name: 'reference',
  info: () => ({ name: 'reference', isa: 'typescript', detectedIsa: 'typescript', numThreads: 1 }),
  setNumThreads: () => {},
  ...matmulKernels,
  ...convKernels,
  ...poolKernels,
  ...elementwiseKernels,
  ...reduceKernels,
  ...softmaxKernels,
  ...normKernels,
  ...dropoutKernels,
  ...gatherKernels,
  ...optimKernels,
};
