// The README's code must keep working: its "A first model" example is extracted and run against the
// built package (dist/, which `npm test` builds first).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';

const root = join(__dirname, '..', '..');

test('the README example runs and trains one step', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const match = /## A first model\n\n```js\n([\s\S]*?)```/.exec(readme);
  expect(match, 'README has an "A first model" js block').not.toBeNull();
  const code = match![1].replace("require('tensorforge')", `require(${JSON.stringify(join(root, 'dist', 'cjs', 'index.js'))})`);
  const out = execFileSync(process.execPath, ['-e', code], { encoding: 'utf8' });
  expect(out).toMatch(/^Sequential\(/);
  expect(out).toMatch(/Linear\(1568 -> 10\)/);
  const loss = Number(out.trim().split(/\s+/).pop());
  expect(Number.isFinite(loss) && loss > 0).toBe(true);
});
