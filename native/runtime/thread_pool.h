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

// Work the pool's idle workers take up while the caller goes on with other kernels: units fn(0) ..
// fn(units - 1), each on some thread, in no particular order. A worker runs a unit whenever it waits
// for the next parallel_for job, so the units fill the gaps the caller's serial work leaves (fit's
// training step gathers the next batch while the current one's small kernels run on one core). A
// unit should take about a microsecond: a parallel_for that arrives meanwhile waits for the worker to
// finish it. The destructor runs the units no worker took, on the caller, and waits for those
// running: fn and everything it touches must outlive the object, and nothing may read what the units write
// before it is destroyed. With one thread, inside a pool task, or while another caller's background
// work is active, every unit runs in the destructor. fn must not throw (the process would end).
class BackgroundWork {
 public:
  BackgroundWork(int64_t units, const std::function<void(int64_t unit)>& fn);
  ~BackgroundWork();
  BackgroundWork(const BackgroundWork&) = delete;
  BackgroundWork& operator=(const BackgroundWork&) = delete;

 private:
  int64_t units_;
  const std::function<void(int64_t)>& fn_;
  void* published_ = nullptr;  // the pool's record of the units while workers may take them
};

}  // namespace tf
