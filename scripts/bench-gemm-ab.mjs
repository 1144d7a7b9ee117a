// A/B timing of GEMM builds on a shared host: runs harness binaries built from scripts/bench-gemm-harness.cc
// (e.g. ours at two commits, oneDNN, OpenBLAS) alternately, round by round, on the bench-gemm shapes and
// prints the best GFLOP/s per shape and binary. Alternating keeps a slow minute from favouring one build.
//
//   node scripts/bench-gemm-ab.mjs ROUNDS THREADS harness-a harness-b [...]
//   TF_BENCH_CPU_TIME=1  time in process CPU time (1 thread only; see the harness)
//   SHAPES="m,n,k,ta,tb ..."  other shapes (m,n,k order, as the harness takes them)
//
// Build a harness: g++ -O2 -std=c++17 scripts/bench-gemm-harness.cc -o h-ours -DTF_BENCH_OURS -Inative \
//   build-cmake/libtf_kernels.a -pthread   (-DTF_BENCH_DNNL -ldnnl, -DTF_BENCH_OPENBLAS ... -lopenblas: bench-gemm.mjs)
import { spawnSync } from 'node:child_process';

const [rounds, threads, ...bins] = process.argv.slice(2);
if (!rounds || !threads || bins.length === 0) {
  console.error('usage: node scripts/bench-gemm-ab.mjs ROUNDS THREADS harness [harness ...]');
  process.exit(2);
}
const squares = [64, 128, 256, 512, 1024, 2048].map((s) => `${s},${s},${s},0,0`);
const training = [];
for (const [m, k, n] of [[64, 784, 256], [64, 256, 128], [256, 4096, 1024], [64, 256, 784]]) {
  for (const [ta, tb] of [[0, 0], [1, 0], [0, 1]]) training.push(`${m},${n},${k},${ta},${tb}`);
}
const shapes = process.env.SHAPES ? process.env.SHAPES.trim().split(/\s+/) : [...squares, ...training];
const best = bins.map(() => new Map());
for (let r = 0; r < Number(rounds); r++) {
  for (const [i, bin] of bins.entries()) {
    const out = spawnSync(bin, ['gemm', '--threads', threads, '--trials', '3', '--min-ms', '25', ...shapes], {
      encoding: 'utf8',
      env: { ...process.env, TENSORFORGE_NUM_THREADS: threads, OMP_NUM_THREADS: threads, OPENBLAS_NUM_THREADS: threads },
    });
    if (out.status !== 0) throw new Error(`${bin} failed: ${out.stderr}`);
    for (const line of out.stdout.trim().split('\n')) {
      const rec = JSON.parse(line);
      if (rec.gflops === undefined) continue;
      const key = `${rec.m},${rec.n},${rec.k},${rec.ta ? 1 : 0},${rec.tb ? 1 : 0}`;
      best[i].set(key, Math.max(best[i].get(key) ?? 0, rec.gflops));
    }
  }
}
console.log(['shape (m,n,k,ta,tb)'.padEnd(22), ...bins.map((b) => b.split('/').pop())].join('\t'));
for (const s of shapes) console.log([s.padEnd(22), ...best.map((m) => (m.get(s) ?? 0).toFixed(1))].join('\t'));
