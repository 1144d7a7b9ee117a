#include "runtime/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <memory>
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

// Polls `ready` until it returns true or the spin budget runs out; returns its last answer. After a
// short busy poll it yields the core between polls: on an idle core that costs little, and when the
// core is oversubscribed (other processes, or more pool threads than free cores) the thread we are
// waiting for gets to run instead of being starved by our polling.
template <typename Ready>
bool spin_until(const Ready& ready) {
  const auto budget = spin_budget();
  if (budget.count() == 0) return ready();
  for (int i = 0; i < 256; ++i) {  // ~ a few microseconds of pure polling
    if (ready()) return true;
    cpu_relax();
  }
  const auto deadline = std::chrono::steady_clock::now() + budget;
  for (;;) {
    for (int i = 0; i < 16; ++i) {
      if (ready()) return true;
      std::this_thread::yield();
    }
    if (std::chrono::steady_clock::now() >= deadline) return ready();
  }
}

// One job at a time: `run_lock` is held by the submitting thread for the whole job, so a second
// submitter (another JS environment) sees the pool busy and runs its work inline instead of waiting.
//
// A job is open from its publication until the submitter closes it. Workers *join* an open job (a CAS
// on `state_` that counts them in) before touching any of its fields, and leave it when the tasks run
// out. The submitter runs tasks itself, waits until every task has finished, then closes the job,
// which succeeds only while no worker is inside it. So the job's fields never change under a worker,
// and a worker that is not running (descheduled on a busy machine, or still waking up) is never
// waited for: it finds the job closed, or a newer one, when it gets the CPU.
//
// state_: generation (bits 63..32) | kOpen (bit 31) | workers inside the job (bits 30..0).
class ThreadPool {
 public:
  explicit ThreadPool(int threads) { resize(threads); }

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  void resize(int threads) {
    std::lock_guard<std::mutex> run(run_lock_);
    stop_workers();
    const int extra = std::max(threads, 1) - 1;
    stopping_.store(false);
    // No job is open (we hold run_lock_); a new worker joins jobs published from now on.
    const uint32_t start_generation = generation_of(state_.load());
    slots_ = extra + 1;
    ranges_.reset(new TaskRange[static_cast<size_t>(slots_)]);
    for (int i = 0; i < extra; ++i) {
      workers_.emplace_back([this, start_generation, i] { worker_loop(start_generation, i + 1); });
    }
  }

  // Background work (BackgroundWork): at most one set of units at a time, published by its owner.
  struct Background {
    const std::function<void(int64_t)>* fn;
    int64_t units;
    std::atomic<int64_t> next{0};
  };

  // True when `b` is now the published background work; false if another is (the owner runs its units).
  bool publish_background(Background* b) {
    Background* none = nullptr;
    if (!background_.compare_exchange_strong(none, b)) return false;
    if (sleepers_.load() > 0) {
      std::lock_guard<std::mutex> lock(mutex_);
      wake_.notify_all();
    }
    return true;
  }

  // Runs every unit nobody took, unpublishes `b`, and waits until no worker is inside a unit of it.
  // (A worker counts itself in before it reads background_, and the owner clears background_ before it
  // reads the count, both seq_cst: a worker the owner does not wait for reads nullptr.)
  void finish_background(Background* b) {
    for (int64_t i = b->next.fetch_add(1); i < b->units; i = b->next.fetch_add(1)) (*b->fn)(i);
    background_.store(nullptr);
    while (background_inside_.load() != 0) cpu_relax();
  }

  // One unit of the published background work on this worker; false when none was left.
  bool run_background_unit() {
    background_inside_.fetch_add(1);
    bool ran = false;
    if (Background* b = background_.load()) {
      const int64_t i = b->next.fetch_add(1);
      if (i < b->units) {
        tls_inside_pool_task = true;
        (*b->fn)(i);
        tls_inside_pool_task = false;
        ran = true;
      }
    }
    background_inside_.fetch_sub(1);
    return ran;
  }

  // Whether published background work has units left; counted in as run_background_unit is, since the
  // record is freed once its owner sees no worker inside.
  bool background_waiting() {
    if (background_.load() == nullptr) return false;  // the common case, without touching the count
    background_inside_.fetch_add(1);
    const Background* b = background_.load();
    const bool waiting = b != nullptr && b->next.load(std::memory_order_relaxed) < b->units;
    background_inside_.fetch_sub(1);
    return waiting;
  }

  // Returns false without running anything when another caller holds the pool.
  bool try_run(int64_t tasks, const std::function<void(int64_t)>& task_fn) {
    std::unique_lock<std::mutex> run(run_lock_, std::try_to_lock);
    if (!run.owns_lock()) return false;
    // The previous job is closed, so no worker reads these while they change.
    if (tasks >= (int64_t{1} << 31)) return false;  // ranges hold 32-bit task indices
    task_fn_ = &task_fn;
    task_count_ = tasks;
    const int slots = slots_;
    for (int s = 0; s < slots; ++s) {
      const uint64_t lo = static_cast<uint64_t>(tasks * s / slots);
      const uint64_t hi = static_cast<uint64_t>(tasks * (s + 1) / slots);
      ranges_[s].bounds.store(hi << 32 | lo, std::memory_order_relaxed);
    }
    tasks_done_.store(0);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      error_ = nullptr;
      const uint64_t generation = generation_of(state_.load()) + 1u;
      state_.store((generation << 32) | kOpen);  // publishes the fields above (seq_cst store)
    }
    if (sleepers_.load() > 0) wake_.notify_all();
    work(0);
    wait_until([this] { return tasks_done_.load() == task_count_; });
    for (;;) {  // close the job once no worker is inside it
      uint64_t s = state_.load();
      if ((s & kInsideMask) == 0) {
        if (state_.compare_exchange_weak(s, s & ~kOpen)) break;
        continue;
      }
      wait_until([this] { return (state_.load() & kInsideMask) == 0; });
    }
    task_fn_ = nullptr;
    std::lock_guard<std::mutex> lock(mutex_);
    if (error_) std::rethrow_exception(error_);
    return true;
  }

 private:
  static constexpr uint64_t kOpen = uint64_t{1} << 31;
  static constexpr uint64_t kInsideMask = kOpen - 1;
  static uint32_t generation_of(uint64_t state) { return static_cast<uint32_t>(state >> 32); }

  // Task ranges: thread `slot` (the submitter is 0, worker i is i) owns tasks
  // [count * slot / threads, count * (slot + 1) / threads) and runs them front to back; a thread whose
  // own range is empty takes the other ranges' tasks from their back ends. So when the threads keep
  // pace, each runs the same contiguous share of every job: consecutive kernels that split the same
  // rows (a convolution's images, then the activation's and the pooling's) find the rows the previous
  // kernel wrote in their own core's L2 instead of the other core's. A late or descheduled thread still
  // never holds anyone up. Outputs do not depend on who runs a task (see the header's rule).
  struct alignas(64) TaskRange {
    std::atomic<uint64_t> bounds{0};  // hi (bits 63..32) | lo (bits 31..0): tasks [lo, hi) not yet taken
  };

  int64_t take_front(TaskRange& r) {
    uint64_t b = r.bounds.load();
    for (;;) {
      const uint64_t lo = b & 0xffffffffu, hi = b >> 32;
      if (lo >= hi) return -1;
      if (r.bounds.compare_exchange_weak(b, b + 1)) return static_cast<int64_t>(lo);
    }
  }

  int64_t take_back(TaskRange& r) {
    uint64_t b = r.bounds.load();
    for (;;) {
      const uint64_t lo = b & 0xffffffffu, hi = b >> 32;
      if (lo >= hi) return -1;
      if (r.bounds.compare_exchange_weak(b, (hi - 1) << 32 | lo)) return static_cast<int64_t>(hi - 1);
    }
  }

  // The next task for thread `slot`, or -1 when none is left.
  int64_t next_task(int slot) {
    const int64_t own = take_front(ranges_[slot]);
    if (own >= 0) return own;
    const int slots = slots_;
    for (int k = 1; k < slots; ++k) {
      const int64_t stolen = take_back(ranges_[(slot + k) % slots]);
      if (stolen >= 0) return stolen;
    }
    return -1;
  }

  void work(int slot) {
    tls_inside_pool_task = true;
    for (;;) {
      const int64_t t = next_task(slot);
      if (t < 0) break;
      try {
        (*task_fn_)(t);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!error_) error_ = std::current_exception();
      }
      if (tasks_done_.fetch_add(1) + 1 == task_count_) wake_submitter();
    }
    tls_inside_pool_task = false;
  }

  // The submitter polls, then sleeps on done_; whoever changes what it waits for calls this after.
  // (seq_cst on both sides: either the waker sees submitter_waiting_, or the submitter's check under
  // the mutex sees the change.)
  template <typename Ready>
  void wait_until(const Ready& ready) {
    if (spin_until(ready)) return;
    submitter_waiting_.store(true);
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, ready);
    submitter_waiting_.store(false);
  }

  void wake_submitter() {
    if (!submitter_waiting_.load()) return;
    std::lock_guard<std::mutex> lock(mutex_);
    done_.notify_one();
  }

  void worker_loop(uint32_t seen, int slot) {
    for (;;) {
      const auto has_news = [&] {
        const uint64_t s = state_.load();
        return stopping_.load() || ((s & kOpen) != 0 && generation_of(s) != seen);
      };
      // Idle: background units until a job (or the stop) comes or they run out, one unit at a time.
      while (!has_news() && run_background_unit()) {
      }
      const auto has_work = [&] { return has_news() || background_waiting(); };
      if (!spin_until(has_work)) {
        std::unique_lock<std::mutex> lock(mutex_);
        sleepers_.fetch_add(1);
        wake_.wait(lock, has_work);
        sleepers_.fetch_sub(1);
      }
      if (stopping_.load()) return;
      uint64_t s = state_.load();  // (no job: back to the background units above)
      if ((s & kOpen) == 0 || generation_of(s) == seen) continue;  // closed meanwhile
      if (!state_.compare_exchange_strong(s, s + 1)) continue;      // changed meanwhile: look again
      seen = generation_of(s);
      work(slot);
      if (((state_.fetch_sub(1) - 1) & kInsideMask) == 0) wake_submitter();
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
  int slots_ = 1;                         // threads including the submitter; fixed between resizes
  std::unique_ptr<TaskRange[]> ranges_;  // one per thread (slot 0: the submitter)
  std::atomic<int64_t> tasks_done_{0};
  std::atomic<uint64_t> state_{0};
  std::atomic<int> sleepers_{0};
  std::atomic<bool> submitter_waiting_{false};
  std::atomic<bool> stopping_{false};
  std::exception_ptr error_;
  std::atomic<Background*> background_{nullptr};
  std::atomic<int> background_inside_{0};  // workers inside run_background_unit or background_waiting
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

BackgroundWork::BackgroundWork(int64_t units, const std::function<void(int64_t)>& fn) : units_(units), fn_(fn) {
  if (units <= 0 || tls_inside_pool_task || num_threads() < 2) return;
  auto record = std::make_unique<ThreadPool::Background>();
  record->fn = &fn;
  record->units = units;
  if (pool().publish_background(record.get())) published_ = record.release();
}

BackgroundWork::~BackgroundWork() {
  if (published_ == nullptr) {
    for (int64_t i = 0; i < units_; ++i) fn_(i);
    return;
  }
  std::unique_ptr<ThreadPool::Background> record(static_cast<ThreadPool::Background*>(published_));
  pool().finish_background(record.get());
}

}  // namespace tf
