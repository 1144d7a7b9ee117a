// Kernel plans: record a forward pass on the JS thread, replay it on a libuv thread (see plan.h).
#include "binding/plan.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "binding/args.h"
#include "binding/export.h"

namespace tf::binding {
namespace {

// Bindings that set things up rather than compute (they may run while recording without being kept).
// releasePackedB frees only the handle's share of its panels: a recorded matmulPacked holds its own.
constexpr const char* kSetupFunctions[] = {"backendInfo",    "setNumThreads", "setIsa",  "packMatmulB", "releasePackedB",
                                           "planBegin",      "planEnd",       "planRun", "planReplay",  "planUses"};

bool is_setup_function(const char* name) {
  for (const char* s : kSetupFunctions) {
    if (std::strcmp(s, name) == 0) return true;
  }
  return false;
}

// A typed array the recorded calls read or write: where, and how many bytes.
using BufferSpan = std::pair<const void*, size_t>;

struct Recording {
  napi_env env = nullptr;
  std::vector<std::function<void()>> calls;
  std::vector<napi_ref> refs;      // every object argument of a recorded call, kept alive
  std::set<BufferSpan> buffers;    // typed arrays among them
  std::vector<std::pair<napi_ref, BufferSpan>> typed;  // a typed-array reference per distinct span
  std::string unrecordable;        // the first kernel that could not be kept ("" = none)
  SeedCells seeds = std::make_shared<std::vector<uint32_t>>();  // read by recorded dropout calls

  void release() {
    for (napi_ref r : refs) napi_delete_reference(env, r);
    refs.clear();
  }
};

// Armed by planBegin on this JS thread only; every recorded binding runs synchronously on it.
thread_local Recording* tls_recording = nullptr;

// The recorded calls and the references that keep their buffers alive. Owned by a JS handle object
// (napi_wrap); freed when that handle is collected, which cannot happen while a run holds it.
class Plan {
 public:
  explicit Plan(Recording&& r) : recording_(std::move(r)) {}
  ~Plan() { recording_.release(); }
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;

  size_t size() const { return recording_.calls.size(); }
  size_t seed_count() const { return recording_.seeds->size(); }
  // Only while the plan is held (running flag) by the caller.
  void set_seeds(const uint32_t* seeds) const { std::copy_n(seeds, seed_count(), recording_.seeds->data()); }
  bool holds(const F32Arg& a) const { return holds(BufferSpan{a.data, static_cast<size_t>(a.length) * sizeof(float)}); }
  bool holds(const BufferSpan& span) const { return recording_.buffers.count(span) > 0; }
  void run() const {
    for (const auto& call : recording_.calls) call();
  }
  // True when every typed array the calls use still has the memory it had when recorded: a buffer
  // whose ArrayBuffer was detached (transferred) since would leave the calls pointing at freed memory.
  bool buffers_unchanged(napi_env env) const {
    for (const auto& [ref, span] : recording_.typed) {
      napi_value v = nullptr;
      if (napi_get_reference_value(env, ref, &v) != napi_ok || v == nullptr) return false;
      napi_typedarray_type type;
      size_t length = 0;
      void* data = nullptr;
      napi_value buffer = nullptr;
      size_t offset = 0;
      if (napi_get_typedarray_info(env, v, &type, &length, &data, &buffer, &offset) != napi_ok) return false;
      const size_t bytes = length * (type == napi_float64_array || type == napi_bigint64_array ||
                                             type == napi_biguint64_array ? 8
                                     : type == napi_int16_array || type == napi_uint16_array ? 2
                                     : type == napi_int8_array || type == napi_uint8_array ||
                                               type == napi_uint8_clamped_array ? 1
                                     : 4);
      if (data != span.first || bytes != span.second) return false;
    }
    return true;
  }
  std::atomic<bool> running{false};

 private:
  Recording recording_;
};

// Tags plan handles so planRun can tell one from any other object before unwrapping it.
const napi_type_tag kPlanTag = {0x5f3a0c2e91d84b67ULL, 0xa41e7c09d2b6f358ULL};

// The Plan behind argument 0, or a TypeError.
Plan* unwrap_plan(const Args& in) {
  const Napi::Value handle = in.at(0);
  if (!handle.IsObject() || !handle.As<Napi::Object>().CheckTypeTag(&kPlanTag)) {
    in.type_error("plan must be a handle returned by planEnd, got " + describe(handle));
  }
  void* raw = nullptr;
  if (napi_unwrap(in.env(), handle, &raw) != napi_ok || raw == nullptr) in.type_error("plan is not a live plan handle");
  return static_cast<Plan*>(raw);
}

Napi::Value plan_begin(const Napi::CallbackInfo& info) {
  Args in(info, "planBegin");
  in.expect_count(0);
  if (tls_recording != nullptr) in.range_error("a plan is already being recorded on this thread");
  tls_recording = new Recording();
  tls_recording->env = info.Env();
  return info.Env().Undefined();
}

// planEnd() -> handle { calls }: stops recording; throws (after stopping) if a kernel could not be kept.
Napi::Value plan_end(const Napi::CallbackInfo& info) {
  Args in(info, "planEnd");
  in.expect_count(0);
  if (tls_recording == nullptr) in.range_error("no plan is being recorded on this thread");
  std::unique_ptr<Recording> recording(tls_recording);
  tls_recording = nullptr;
  if (!recording->unrecordable.empty()) {
    const std::string name = recording->unrecordable;
    recording->release();
    in.range_error("kernel '" + name + "' cannot run in a plan");
  }
  Napi::Env env = info.Env();
  auto plan = std::make_unique<Plan>(std::move(*recording));
  Napi::Object handle = Napi::Object::New(env);
  handle.Set("calls", Napi::Number::New(env, static_cast<double>(plan->size())));
  handle.Set("seeds", Napi::Number::New(env, static_cast<double>(plan->seed_count())));
  handle.TypeTag(&kPlanTag);
  napi_status status = napi_wrap(
      env, handle, plan.get(), [](napi_env, void* data, void*) { delete static_cast<Plan*>(data); }, nullptr,
      nullptr);
  if (status != napi_ok) throw Napi::Error::New(env, "planEnd: could not attach the plan to its handle");
  plan.release();
  handle.Freeze();
  return handle;
}

// Replays a plan over `batches` consecutive slices of x into y on a libuv thread.
class PlanRun : public Napi::AsyncWorker {
 public:
  PlanRun(Napi::Env env, Plan* plan, const Napi::Object& handle, const Napi::CallbackInfo& info, F32Arg input,
          F32Arg output, F32Arg x, F32Arg y, int64_t batches)
      : Napi::AsyncWorker(env, "tensorforge.planRun"),
        deferred_(Napi::Promise::Deferred::New(env)),
        plan_(plan),
        handle_(Napi::Persistent(handle)),
        input_(input),
        output_(output),
        x_(x),
        y_(y),
        batches_(batches) {
    // The typed arrays must outlive the run: references released on the JS thread when it ends.
    for (size_t i = 1; i <= 4; ++i) args_.push_back(Napi::Persistent(info[i].As<Napi::Object>()));
  }

  Napi::Promise promise() const { return deferred_.Promise(); }

  void Execute() override {
    try {
      const size_t in_bytes = static_cast<size_t>(input_.length) * sizeof(float);
      const size_t out_bytes = static_cast<size_t>(output_.length) * sizeof(float);
      for (int64_t b = 0; b < batches_; ++b) {
        std::memcpy(input_.data, x_.data + b * input_.length, in_bytes);
        plan_->run();
        std::memcpy(y_.data + b * output_.length, output_.data, out_bytes);
      }
    } catch (const std::bad_alloc&) {
      SetError("planRun: out of memory (allocation failed)");
    } catch (const std::exception& e) {
      SetError(std::string("planRun: internal error: ") + e.what());
    } catch (...) {
      SetError("planRun: internal error (unknown C++ exception)");
    }
  }

  void OnOK() override {
    plan_->running = false;
    deferred_.Resolve(Env().Undefined());
  }

  void OnError(const Napi::Error& e) override {
    plan_->running = false;
    deferred_.Reject(e.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  Plan* plan_;
  Napi::ObjectReference handle_;  // keeps the plan (and so its buffers) alive while running
  std::vector<Napi::ObjectReference> args_;
  F32Arg input_, output_, x_, y_;
  int64_t batches_;
};

// planRun(plan, input, output, x, y, batches) -> Promise<void>
//   input: the buffer the recording read as its input, [rows*inRow]; output: the buffer holding its
//   result, [rows*outRow]; x [batches*rows*inRow] -> y [batches*rows*outRow].
Napi::Value plan_run(const Napi::CallbackInfo& info) {
  Args in(info, "planRun");
  in.expect_count(6);
  const Napi::Value handle = in.at(0);
  Plan* plan = unwrap_plan(in);
  if (plan->seed_count() > 0) in.range_error("the plan draws random seeds (dropout): replay it with planReplay");
  const int64_t batches = in.dim(5, "batches");
  // Any length: each is checked against the plan's own buffers instead.
  const F32Arg input = in.f32(1, "input", in.f32_length(1, "input"), "input.length");
  const F32Arg output = in.f32(2, "output", in.f32_length(2, "output"), "output.length");
  if (!plan->holds(input)) in.range_error("input is not a buffer the plan reads");
  if (!plan->holds(output)) in.range_error("output is not a buffer the plan writes");
  const F32Arg x = in.f32(3, "x", checked_product(in.op(), "x", {batches, input.length}), [&] {
    return "batches*input.length (" + std::to_string(batches) + "*" + std::to_string(input.length) + ")";
  });
  const F32Arg y = in.f32(4, "y", checked_product(in.op(), "y", {batches, output.length}), [&] {
    return "batches*output.length (" + std::to_string(batches) + "*" + std::to_string(output.length) + ")";
  });
  const auto overlaps = [](const F32Arg& a, const F32Arg& b) {
    return a.data < b.data + b.length && b.data < a.data + a.length;
  };
  if (overlaps(x, y) || overlaps(x, input) || overlaps(x, output) || overlaps(y, input) || overlaps(y, output)) {
    in.range_error("x and y must not share memory with each other or with the plan's buffers");
  }
  bool idle = false;
  if (!plan->running.compare_exchange_strong(idle, true)) in.range_error("the plan is already running");
  if (!plan->buffers_unchanged(info.Env())) {
    plan->running = false;
    in.range_error("a buffer the plan uses was detached or moved since it was recorded");
  }
  auto* work = new PlanRun(info.Env(), plan, handle.As<Napi::Object>(), info, input, output, x, y, batches);
  Napi::Promise promise = work->promise();
  work->Queue();
  return promise;
}

// The byte span of a typed array (any element type), or a TypeError naming it.
BufferSpan typed_span(const Args& in, const Napi::Value& v, const std::string& name) {
  if (!v.IsTypedArray()) in.type_error(name + " must be a typed array, got " + describe(v));
  const auto ta = v.As<Napi::TypedArray>();
  const auto* data = static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  return {data, ta.ByteLength()};
}

// planReplay(plan, sources, targets[, seeds]) -> undefined
//   Copies sources[i] into targets[i] (each target a typed array the plan uses, whole, of the same byte
//   length) and seeds (a Uint32Array, one per seed cell; required when the plan has any) into the seed
//   cells, then runs every recorded call on this thread, synchronously: fit's recorded training step.
//   Refused while the plan runs elsewhere (planRun), while this thread records, or when a buffer of the
//   plan was detached or moved since recording.
Napi::Value plan_replay(const Napi::CallbackInfo& info) {
  Args in(info, "planReplay");
  if (info.Length() != 3 && info.Length() != 4) in.expect_count(3);
  Plan* plan = unwrap_plan(in);
  if (tls_recording != nullptr) in.range_error("cannot replay a plan while one is being recorded on this thread");
  const Napi::Value sources_value = in.at(1), targets_value = in.at(2);
  if (!sources_value.IsArray() || !targets_value.IsArray()) in.type_error("sources and targets must be arrays of typed arrays");
  const auto sources = sources_value.As<Napi::Array>(), targets = targets_value.As<Napi::Array>();
  if (sources.Length() != targets.Length()) {
    in.range_error("sources and targets differ in length (" + std::to_string(sources.Length()) + " vs " +
                   std::to_string(targets.Length()) + ")");
  }
  // Element reads may run JS (an accessor could detach a buffer): read them all before taking any
  // pointer; from there on no JS runs until the calls are done.
  std::vector<Napi::Value> source_values, target_values;
  for (uint32_t i = 0; i < sources.Length(); ++i) {
    source_values.push_back(sources.Get(i));
    target_values.push_back(targets.Get(i));
  }
  const uint32_t* seeds = nullptr;
  if (info.Length() == 4) {
    const Napi::Value v = in.at(3);
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
      in.type_error("seeds must be a Uint32Array, got " + describe(v));
    }
    const auto a = v.As<Napi::TypedArray>();
    if (a.ElementLength() != plan->seed_count()) {
      in.range_error("seeds has " + std::to_string(a.ElementLength()) + " values, the plan has " +
                     std::to_string(plan->seed_count()) + " seed cells");
    }
    seeds = reinterpret_cast<const uint32_t*>(static_cast<const uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset());
  } else if (plan->seed_count() > 0) {
    in.range_error("the plan draws " + std::to_string(plan->seed_count()) + " random seeds (dropout): pass seeds");
  }
  std::vector<std::pair<BufferSpan, BufferSpan>> copies;
  for (size_t i = 0; i < source_values.size(); ++i) {
    const std::string at = "[" + std::to_string(i) + "]";
    const BufferSpan src = typed_span(in, source_values[i], "sources" + at);
    const BufferSpan dst = typed_span(in, target_values[i], "targets" + at);
    if (!plan->holds(dst)) in.range_error("targets" + at + " is not a buffer the plan uses");
    if (src.second != dst.second) {
      in.range_error("sources" + at + " has " + std::to_string(src.second) + " bytes, targets" + at + " " +
                     std::to_string(dst.second));
    }
    const auto* s0 = static_cast<const uint8_t*>(src.first);
    const auto* d0 = static_cast<const uint8_t*>(dst.first);
    if (s0 < d0 + dst.second && d0 < s0 + src.second) in.range_error("sources" + at + " overlaps targets" + at);
    copies.emplace_back(src, dst);
  }
  bool idle = false;
  if (!plan->running.compare_exchange_strong(idle, true)) in.range_error("the plan is already running");
  struct Done {
    Plan* p;
    ~Done() { p->running = false; }
  } done{plan};
  if (!plan->buffers_unchanged(info.Env())) in.range_error("a buffer the plan uses was detached or moved since it was recorded");
  for (const auto& [src, dst] : copies) std::memcpy(const_cast<void*>(dst.first), src.first, src.second);
  if (seeds != nullptr) plan->set_seeds(seeds);
  plan->run();
  return info.Env().Undefined();
}

// planUses(plan, array) -> boolean: whether the recorded calls read or write exactly this typed array's
// bytes (fit checks that its recorded step reads the batch through kernels before replaying it).
Napi::Value plan_uses(const Napi::CallbackInfo& info) {
  Args in(info, "planUses");
  in.expect_count(2);
  const Plan* plan = unwrap_plan(in);
  return Napi::Boolean::New(info.Env(), plan->holds(typed_span(in, in.at(1), "array")));
}

}  // namespace

void run_or_record(const Napi::CallbackInfo& info, const std::function<void()>& call) {
  call();
  Recording* r = tls_recording;
  if (r == nullptr) return;
  r->calls.push_back(call);
  for (size_t i = 0; i < info.Length(); ++i) {
    const Napi::Value v = info[i];
    if (!v.IsObject()) continue;
    napi_ref ref = nullptr;
    if (napi_create_reference(info.Env(), v, 1, &ref) != napi_ok) {
      throw Napi::Error::New(info.Env(), "planBegin: could not keep a recorded argument alive");
    }
    r->refs.push_back(ref);
    if (v.IsTypedArray()) {
      const auto ta = v.As<Napi::TypedArray>();
      const auto* data = static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
      // One detach check per span: arrays over the same bytes are views of one ArrayBuffer, detached
      // together (a weight or an activation is an argument of several calls).
      if (r->buffers.insert({data, ta.ByteLength()}).second) r->typed.emplace_back(ref, BufferSpan{data, ta.ByteLength()});
    }
  }
}

std::pair<SeedCells, size_t> seed_cell(uint32_t seed) {
  Recording* r = tls_recording;
  if (r == nullptr) return {nullptr, 0};
  r->seeds->push_back(seed);
  return {r->seeds, r->seeds->size() - 1};
}

size_t recorder_steps() { return tls_recording == nullptr ? 0 : tls_recording->calls.size(); }

void check_recorded(const char* name, size_t recorded_before) {
  Recording* r = tls_recording;
  if (r == nullptr || !r->unrecordable.empty() || is_setup_function(name)) return;
  if (r->calls.size() == recorded_before) r->unrecordable = name;
}

void register_plan(Napi::Env env, Napi::Object exports) {
  export_function(env, exports, "planBegin", plan_begin);
  export_function(env, exports, "planEnd", plan_end);
  export_function(env, exports, "planRun", plan_run);
  export_function(env, exports, "planReplay", plan_replay);
  export_function(env, exports, "planUses", plan_uses);
}

}  // namespace tf::binding
