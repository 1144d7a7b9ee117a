// Both backends implement the whole kernel interface.
import { describe, expect, test } from 'vitest';
import { KERNEL_NAMES } from '../../lib/backend/backend.js';
import { nativeBackend, referenceBackend } from '../helpers/parity.js';

describe('kernel interface', () => {
  test.each(KERNEL_NAMES)('%s exists on both backends', (name) => {
    expect(typeof referenceBackend[name]).toBe('function');
    expect(typeof nativeBackend()[name]).toBe('function');
  });
});
