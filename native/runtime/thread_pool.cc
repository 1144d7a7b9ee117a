#include "runtime/thread_pool.h"

#include <algorithm>
#include <atomic>
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

// One job at a time: `run_lock` is held by the submitting thread for the whole job, so a second
// submitter (another JS environment) sees the pool busy and runs its work inline instead of waiting.
class ThreadPool {
 public:
  explicit ThreadPool(int threads) { resize(threads); }

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  void resize(int threads) {
    std::lock_guard<std::mutex> run(run_lock_);
    stop_workers();
    const int extra = std::max(threads, 1) - 1;
    stopping_ = false;
    // A new worker joins from the NEXT job on. No job is in flight (we hold run_lock_), so the
    // current generation is finished; a worker starting at 0 would run a stale round and be counted
    // twice in the next job (the submitter could then wait forever).
    const uint64_t start_generation = generation_;
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
      pending_workers_ = static_cast<int>(workers_.size());
      error_ = nullptr;
      ++generation_;
    }
    wake_.notify_all();
    work();
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return pending_workers_ == 0; });
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
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
        if (stopping_) return;
        seen = generation_;
      }
      work();
      std::lock_guard<std::mutex> lock(mutex_);
      // Each worker reports once per generation it woke for, so the count can neither skip zero nor
      // go below it.
      if (seen == generation_ && --pending_workers_ == 0) done_.notify_one();
    }
  }

  void stop_workers() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
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
  int pending_workers_ = 0;
  uint64_t generation_ = 0;
  bool stopping_ = false;
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
