#include "runtime/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <sched.h>
#endif

namespace tf {

int available_cores() {
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int count = CPU_COUNT(&set);
    if (count > 0) return count;
  }
#endif
  const unsigned hw = std::thread::hardware_concurrency();
  return hw > 0 ? static_cast<int>(hw) : 1;
}

namespace {

thread_local bool tls_inside_pool_task = false;

// Short-lived waits spin before they sleep. A training step issues dozens of kernels a few
// microseconds to a millisecond apart; waking a worker blocked in the kernel costs tens of
// microseconds on a VM, which is more than many of those kernels take. A worker therefore polls for
// the next job for `spin_budget()` before it parks on the condition variable, and the submitter polls
// for the workers' completion the same way. The budget bounds the CPU burnt by an idle pool.
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// TENSORFORGE_SPIN_US (0 disables spinning); default 200 microseconds; set_spin_microseconds().
std::atomic<int64_t>& spin_us() {
  static std::atomic<int64_t> us{[] {
    if (const char* env = std::getenv("TENSORFORGE_SPIN_US")) {
      const long v = std::atol(env);
      if (v >= 0) return std::min<int64_t>(v, kMaxSpinMicroseconds);
    }
    return int64_t{200};
  }()};
  return us;
}

std::chrono::microseconds spin_budget() { return std::chrono::microseconds(spin_us().load(std::memory_order_relaxed)); }

// Polls `ready` until it returns true or the spin budget runs out; returns its last answer.
template <typename Ready>
bool spin_until(const Ready& ready) {
  const auto budget = spin_budget();
  if (budget.count() == 0) return ready();
  const auto deadline = std::chrono::steady_clock::now() + budget;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (ready()) return true;
      cpu_relax();
    }
    if (std::chrono::steady_clock::now() >= deadline) return ready();
  }
}

// One job at a time: `run_lock` is held by the submitting thread for the whole job, so a second
// submitter (another JS environment) sees the pool busy and runs its work inline instead of waiting.
//
// Handshake: the submitter publishes the job (task_fn_, task_count_, pending_workers_) and then bumps
// `generation_` (release); a worker that observes the new generation (acquire) sees the job. Every
// worker takes part in every generation and decrements `pending_workers_` once when its share is done,
// so no generation can start before all workers have left the previous one. Sleepers are woken
// through `wake_`; the mutex orders the bump against a worker's decision to sleep, so no wake-up is lost.
class ThreadPool {
 public:
  explicit ThreadPool(int threads) { resize(threads); }

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  void resize(int threads) {
    std::lock_guard<std::mutex> run(run_lock_);
    stop_workers();
    const int extra = std::max(threads, 1) - 1;
    stopping_.store(false);
    // A new worker joins from the NEXT job on. No job is in flight (we hold run_lock_), so the
    // current generation is finished; a worker starting at 0 would run a stale round and be counted
    // twice in the next job (the submitter could then wait forever).
    const uint64_t start_generation = generation_.load();
    for (int i = 0; i < extra; ++i) {
      workers_.emplace_back([this, start_generation] { worker_loop(start_generation); });
    }
  }

  // Returns false without running anything when another caller holds the pool.
  bool try_run(int64_t tasks, const std::function<void(int64_t)>& task_fn) {
    std::unique_lock<std::mutex> run(run_lock_, std::try_to_lock);
    if (!run.owns_lock()) return false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      task_fn_ = &task_fn;
      task_count_ = tasks;
      next_task_.store(0);
      pending_workers_.store(static_cast<int>(workers_.size()));
      error_ = nullptr;
      generation_.fetch_add(1, std::memory_order_acq_rel);
    }
    if (sleepers_.load() > 0) wake_.notify_all();
    work();
    if (!spin_until([this] { return pending_workers_.load(std::memory_order_acquire) == 0; })) {
      std::unique_lock<std::mutex> lock(mutex_);
      done_.wait(lock, [this] { return pending_workers_.load() == 0; });
    }
    std::lock_guard<std::mutex> lock(mutex_);
    task_fn_ = nullptr;
    if (error_) std::rethrow_exception(error_);
    return true;
  }

 private:
  void work() {
    tls_inside_pool_task = true;
    for (;;) {
      const int64_t t = next_task_.fetch_add(1);
      if (t >= task_count_) break;
      try {
        (*task_fn_)(t);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!error_) error_ = std::current_exception();
      }
    }
    tls_inside_pool_task = false;
  }

  void worker_loop(uint64_t seen) {
    for (;;) {
      const auto has_news = [&] { return stopping_.load() || generation_.load(std::memory_order_acquire) != seen; };
      if (!spin_until(has_news)) {
        std::unique_lock<std::mutex> lock(mutex_);
        sleepers_.fetch_add(1);
        wake_.wait(lock, has_news);
        sleepers_.fetch_sub(1);
      }
      if (stopping_.load()) return;
      seen = generation_.load(std::memory_order_acquire);
      work();
      // Each worker reports once per generation it woke for, so the count can neither skip zero nor
      // go below it. The lock pairs the last decrement with a submitter about to sleep on done_.
      if (pending_workers_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lock(mutex_);
        done_.notify_one();
      }
    }
  }

  void stop_workers() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_.store(true);
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  std::mutex run_lock_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::vector<std::thread> workers_;
  const std::function<void(int64_t)>* task_fn_ = nullptr;
  int64_t task_count_ = 0;
  std::atomic<int64_t> next_task_{0};
  std::atomic<int> pending_workers_{0};
  std::atomic<int> sleepers_{0};
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stopping_{false};
  std::exception_ptr error_;
};

int initial_thread_count() {
  if (const char* env = std::getenv("TENSORFORGE_NUM_THREADS")) {
    const int n = std::atoi(env);
    if (n >= 1) return std::min(n, 1024);
  }
  return available_cores();
}

// Created on first use and never destroyed: joining threads during static destruction at process
// exit is a classic hang, and the OS reclaims them anyway.
ThreadPool& pool() {
  static ThreadPool* instance = new ThreadPool(initial_thread_count());
  return *instance;
}

std::mutex resize_lock;

}  // namespace

int num_threads() { return pool().size(); }

int64_t spin_microseconds() { return spin_us().load(); }

void set_spin_microseconds(int64_t us) { spin_us().store(std::clamp<int64_t>(us, 0, kMaxSpinMicroseconds)); }

void set_num_threads(int n) {
  std::lock_guard<std::mutex> lock(resize_lock);
  if (n != pool().size()) pool().resize(n);
}

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  const int threads = tls_inside_pool_task ? 1 : num_threads();
  // A few chunks per thread balance uneven work without changing any output (see header).
  const int64_t max_chunks = std::min<int64_t>((n + grain - 1) / grain, int64_t{threads} * 4);
  if (threads <= 1 || max_chunks <= 1) {
    fn(0, n);
    return;
  }
  const int64_t chunk = (n + max_chunks - 1) / max_chunks;
  const int64_t chunks = (n + chunk - 1) / chunk;
  const std::function<void(int64_t)> task = [&](int64_t t) {
    const int64_t begin = t * chunk;
    fn(begin, std::min(n, begin + chunk));
  };
  if (!pool().try_run(chunks, task)) fn(0, n);
}

}  // namespace tf
