// Public exports only.
export { backendInfo, setBackend, setNumThreads, getBackend } from './backend/index.js';
export type { BackendName } from './backend/index.js';
export type { Backend, BackendInfo } from './backend/backend.js';
