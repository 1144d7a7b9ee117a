// A persistent, process-wide thread pool shared by every kernel (and every worker_threads environment).
//
// Determinism rule for kernel authors: split work over OUTPUT elements. A chunk boundary must never
// change how any single output is computed (no partial sums combined across chunks, unless they are
// combined exactly as the serial loop combines them: gemm's K split), so results are bit-identical for
// every thread count, including when the pool is busy and work runs inline.
#pragma once

#include <cstdint>
#include <functional>

namespace tf {

// Number of threads used by parallel_for (the caller counts as one). Always >= 1.
int num_threads();
// Resizes the pool; n >= 1. Safe to call between kernels from any JS thread.
void set_num_threads(int n);
// How long an idle worker polls for the next job (and the submitter for its workers) before sleeping
// on a condition variable. Default 200; TENSORFORGE_SPIN_US at load; 0 = always sleep.
constexpr int64_t kMaxSpinMicroseconds = 100000;
int64_t spin_microseconds();
void set_spin_microseconds(int64_t us);  // clamped to [0, kMaxSpinMicroseconds]
// Cores this process may run on (affinity mask where the OS has one).
int available_cores();

// Calls fn(begin, end) over disjoint ranges covering [0, n). Ranges hold at least `grain` items
// (except the last), so tiny jobs stay on the calling thread. Runs inline when the pool is busy with
// another caller (e.g. another worker_threads environment) or when called from inside a pool task.
// An exception thrown by fn is rethrown on the calling thread after all ranges finish.
// Thread t (the caller is 0) runs the t-th contiguous share of the ranges unless another thread is done
// first and takes some from its end: two kernels that split the same rows the same way mostly run each
// row on the same core, so the second finds the first's output in that core's cache. Speed only: which
// thread runs a range never changes a result (the rule above).
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t begin, int64_t end)>& fn);

}  // namespace tf
