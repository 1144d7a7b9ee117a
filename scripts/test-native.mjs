// Builds and runs the native C++ kernel tests with CMake + ctest (part of `npm test`).
// Skips with a note when CMake is not installed: the addon itself builds with node-gyp alone.
//
//   node scripts/test-native.mjs             Release build in build-ctest/
//   node scripts/test-native.mjs --sanitize  AddressSanitizer + UBSan build in build-asan/
//   node scripts/test-native.mjs --tsan      ThreadSanitizer build in build-tsan/
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sanitize = process.argv.includes('--sanitize');
const tsan = process.argv.includes('--tsan');
const buildDir = join(root, sanitize ? 'build-asan' : tsan ? 'build-tsan' : 'build-ctest');

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.error) throw r.error;
  if (r.status !== 0) {
    console.error(`test-native: '${cmd} ${args.join(' ')}' failed with exit code ${r.status}`);
    process.exit(r.status ?? 1);
  }
}

const probe = spawnSync('cmake', ['--version'], { encoding: 'utf8' });
if (probe.error || probe.status !== 0) {
  console.log('test-native: cmake not found; skipping the native C++ kernel tests (the vitest suites still ran).');
  process.exit(0);
}

run('cmake', [
  '-S', root, '-B', buildDir,
  `-DCMAKE_BUILD_TYPE=${sanitize || tsan ? 'RelWithDebInfo' : 'Release'}`,
  '-DTF_BUILD_ADDON=OFF', '-DTF_BUILD_BENCH=OFF', `-DTF_SANITIZE=${sanitize ? 'ON' : 'OFF'}`, `-DTF_TSAN=${tsan ? 'ON' : 'OFF'}`,
]);
run('cmake', ['--build', buildDir, '--target', 'tf_native_tests', '-j', '2']);
run('ctest', ['--test-dir', buildDir, '--output-on-failure']);
