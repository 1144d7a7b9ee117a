// The native source list exists once (native/sources.gypi) and is read by both binding.gyp and
// CMakeLists.txt. These tests fail when a source file is added without listing it, or listed twice.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, test } from 'vitest';

const root = join(__dirname, '..', '..');
const lists: Record<string, string[]> = JSON.parse(readFileSync(join(root, 'native', 'sources.gypi'), 'utf8')).variables;

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

describe('native source list', () => {
  const listed = Object.values(lists).flat();

  test('every .cc file under native/ is listed exactly once', () => {
    const onDisk = walk(join(root, 'native')).filter((p) => p.endsWith('.cc')).map((p) => relative(root, p).split('\\').join('/'));
    const unlisted = onDisk.filter((p) => !listed.includes(p));
    expect(unlisted, `add these to native/sources.gypi`).toEqual([]);
    const duplicates = listed.filter((p, i) => listed.indexOf(p) !== i);
    expect(duplicates).toEqual([]);
  });

  test('every listed file exists', () => {
    const missing = listed.filter((p) => {
      try {
        return !statSync(join(root, p)).isFile();
      } catch {
        return true;
      }
    });
    expect(missing).toEqual([]);
  });

  test('binding.gyp and CMakeLists.txt both read the list instead of repeating it', () => {
    const gyp = readFileSync(join(root, 'binding.gyp'), 'utf8');
    const cmake = readFileSync(join(root, 'CMakeLists.txt'), 'utf8');
    expect(gyp).toContain('"includes": ["native/sources.gypi"]');
    expect(cmake).toContain('native/sources.gypi');
    for (const file of listed) {
      expect(gyp, `binding.gyp names ${file} directly`).not.toContain(file);
      expect(cmake, `CMakeLists.txt names ${file} directly`).not.toContain(file);
    }
    for (const key of Object.keys(lists)) {
      if (key === 'tf_test_sources' || key === 'tf_bench_sources') continue;
      expect(gyp, `binding.gyp does not use ${key}`).toContain(`<@(${key})`);
      expect(cmake, `CMakeLists.txt does not use ${key}`).toContain(key);
    }
  });
});
