// Kernel plans: record a forward pass on the JS thread, replay it on a libuv thread (see plan.h).
#include "binding/plan.h"

#include <algorithm>
#include <array>
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
#include "kernels/gather.h"
#include "runtime/thread_pool.h"

namespace tf::binding {
namespace {

// Bindings that set things up rather than compute (they may run while recording without being kept).
// releasePackedB frees only the handle's share of its panels: a recorded matmulPacked holds its own.
// alignOffset only reads an address (the allocator asks it for every large buffer).
constexpr const char* kSetupFunctions[] = {"backendInfo", "setNumThreads",  "setIsa",    "packMatmulB",
                                           "releasePackedB", "alignOffset", "planBegin", "planEnd",
                                           "planRun",     "planReplay",     "planUses"};

bool is_setup_function(const char* name) {
  for (const char* s : kSetupFunctions) {
    if (std::strcmp(s, name) == 0) return true;
  }
  return false;
}

// A typed array the recorded calls read or write: where, and how many bytes.
using BufferSpan = std::pair<const void*, size_t>;

// Whether two spans share a byte.
bool spans_overlap(const BufferSpan& a, const BufferSpan& b) {
  const auto* a0 = static_cast<const uint8_t*>(a.first);
  const auto* b0 = static_cast<const uint8_t*>(b.first);
  return a0 < b0 + b.second && b0 < a0 + a.second;
}

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
  // Whether any byte of `span` is a byte of an array the calls use.
  bool overlaps(const BufferSpan& span) const {
    for (const BufferSpan& b : recording_.buffers) {
      if (spans_overlap(span, b)) return true;
    }
    return false;
  }
  // Bytes of the distinct arrays the calls use (weights and gradients included).
  size_t bytes() const {
    size_t total = 0;
    for (const auto& [data, bytes] : recording_.buffers) total += bytes;
    return total;
  }
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
  handle.Set("bytes", Napi::Number::New(env, static_cast<double>(plan->bytes())));
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

// One row gather of planReplay's, validated: rows [0, n) of `row_bytes` bytes.
struct ReplayGather {
  const void* source;
  const int32_t* indices;
  void* target;
  int64_t n;
  int64_t row_bytes;
};

// planReplay's gathers argument as values: { source, indices, target } per gather. Reading elements
// and fields may run JS (accessors), so planReplay reads these with its other arguments, before it
// takes any pointer.
using GatherFields = std::vector<std::array<Napi::Value, 3>>;

GatherFields read_gather_fields(const Args& in, const Napi::Value& value) {
  if (!value.IsArray()) in.type_error("gathers must be an array of { source, indices, target }, got " + describe(value));
  const auto list = value.As<Napi::Array>();
  GatherFields fields;
  for (uint32_t i = 0; i < list.Length(); ++i) {
    const Napi::Value g = list.Get(i);
    if (!g.IsObject()) in.type_error("gathers[" + std::to_string(i) + "] must be an object { source, indices, target }, got " + describe(g));
    const auto o = g.As<Napi::Object>();
    fields.push_back({o.Get("source"), o.Get("indices"), o.Get("target")});
  }
  return fields;
}

// The gathers, validated (no JS runs here).
std::vector<ReplayGather> replay_gathers(const Args& in, const Plan& plan, const GatherFields& fields) {
  std::vector<ReplayGather> gathers;
  std::vector<BufferSpan> sources, targets;
  for (size_t i = 0; i < fields.size(); ++i) {
    const std::string at = "gathers[" + std::to_string(i) + "]";
    const auto& [source_value, indices_value, target_value] = fields[i];
    const BufferSpan source = typed_span(in, source_value, at + ".source");
    const BufferSpan target = typed_span(in, target_value, at + ".target");
    const auto source_array = source_value.As<Napi::TypedArray>(), target_array = target_value.As<Napi::TypedArray>();
    if (source_array.TypedArrayType() != target_array.TypedArrayType()) {
      in.type_error(at + ".source and .target must be typed arrays of one type, got " + describe(source_value) + " and " +
                    describe(target_value));
    }
    if (!indices_value.IsTypedArray() || indices_value.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
      in.type_error(at + ".indices must be an Int32Array, got " + describe(indices_value));
    }
    const auto indices_array = indices_value.As<Napi::TypedArray>();
    const auto n = static_cast<int64_t>(indices_array.ElementLength());
    const auto target_length = static_cast<int64_t>(target_array.ElementLength());
    const auto source_length = static_cast<int64_t>(source_array.ElementLength());
    if (n < 1 || target_length < n || target_length % n != 0) {
      in.range_error(at + ": target has " + std::to_string(target_length) + " elements, not a positive multiple of indices.length " +
                     std::to_string(n));
    }
    const int64_t row = target_length / n;
    if (source_length % row != 0) {
      in.range_error(at + ": source has " + std::to_string(source_length) + " elements, not a whole number of rows of " +
                     std::to_string(row));
    }
    const int64_t rows = source_length / row;
    const auto* indices = reinterpret_cast<const int32_t*>(static_cast<const uint8_t*>(indices_array.ArrayBuffer().Data()) +
                                                           indices_array.ByteOffset());
    for (int64_t r = 0; r < n; ++r) {
      if (indices[r] < 0 || indices[r] >= rows) {
        in.range_error(at + ".indices[" + std::to_string(r) + "] = " + std::to_string(indices[r]) + " is out of range for " +
                       std::to_string(rows) + " rows");
      }
    }
    if (plan.overlaps(target)) in.range_error(at + ".target overlaps an array the plan uses");
    const BufferSpan index_span{indices, static_cast<size_t>(n) * sizeof(int32_t)};
    sources.push_back(source);
    sources.push_back(index_span);
    targets.push_back(target);
    gathers.push_back({source.first, indices, const_cast<void*>(target.first), n, static_cast<int64_t>(target.second) / n});
  }
  for (size_t i = 0; i < targets.size(); ++i) {
    for (const BufferSpan& s : sources) {
      if (spans_overlap(targets[i], s)) in.range_error("gathers[" + std::to_string(i) + "].target overlaps a gather's source or indices");
    }
    for (size_t j = 0; j < i; ++j) {
      if (spans_overlap(targets[i], targets[j])) in.range_error("gathers[" + std::to_string(i) + "].target overlaps gathers[" + std::to_string(j) + "].target");
    }
  }
  return gathers;
}

// planReplay(plan, sources, targets[, seeds[, gathers]]) -> undefined
//   Copies sources[i] into targets[i] (each target a typed array the plan uses, whole, of the same byte
//   length) and seeds (a Uint32Array, one per seed cell; required when the plan has any) into the seed
//   cells, then runs every recorded call on this thread, synchronously: fit's recorded training step.
//   Refused while the plan runs elsewhere (planRun), while this thread records, or when a buffer of the
//   plan was detached or moved since recording.
//   gathers (optional; seeds may then be undefined): [{ source, indices, target }, ...], row gathers run
//   by the pool's idle workers while the calls run (BackgroundWork): target's row i = source's row
//   indices[i], rows of target.length / indices.length elements. fit gathers the next batch into its
//   second recorded step's inputs this way, in the gaps the step's one-core kernels leave. Every target
//   must be apart from every array the plan uses and from every other source and target (no call and
//   no other gather may touch it while it is written); all gathers are done when planReplay returns.
Napi::Value plan_replay(const Napi::CallbackInfo& info) {
  Args in(info, "planReplay");
  if (info.Length() < 3 || info.Length() > 5) in.expect_count(3);
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
  const GatherFields gather_fields = info.Length() == 5 ? read_gather_fields(in, in.at(4)) : GatherFields{};
  const uint32_t* seeds = nullptr;
  if (info.Length() >= 4 && !(info.Length() == 5 && in.at(3).IsUndefined())) {
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
    if (spans_overlap(src, dst)) in.range_error("sources" + at + " overlaps targets" + at);
    copies.emplace_back(src, dst);
  }
  const std::vector<ReplayGather> gathers = replay_gathers(in, *plan, gather_fields);
  bool idle = false;
  if (!plan->running.compare_exchange_strong(idle, true)) in.range_error("the plan is already running");
  struct Done {
    Plan* p;
    ~Done() { p->running = false; }
  } done{plan};
  if (!plan->buffers_unchanged(info.Env())) in.range_error("a buffer the plan uses was detached or moved since it was recorded");
  for (const auto& [src, dst] : copies) std::memcpy(const_cast<void*>(dst.first), src.first, src.second);
  if (seeds != nullptr) plan->set_seeds(seeds);
  if (gathers.empty()) {
    plan->run();
    return info.Env().Undefined();
  }
  // Units of about 4 KB (one image row of a batch; all of a batch's labels), in gather order.
  struct Unit {
    const ReplayGather* gather;
    int64_t begin, end;
  };
  std::vector<Unit> units;
  for (const ReplayGather& g : gathers) {
    const int64_t per_unit = std::max<int64_t>(1, 4096 / g.row_bytes);
    for (int64_t r = 0; r < g.n; r += per_unit) units.push_back({&g, r, std::min(g.n, r + per_unit)});
  }
  const std::function<void(int64_t)> run_unit = [&](int64_t u) {
    const Unit& unit = units[static_cast<size_t>(u)];
    const ReplayGather& g = *unit.gather;
    gather_row_bytes(unit.begin, unit.end, g.n, g.row_bytes, g.source, g.indices, g.target);
  };
  BackgroundWork background(static_cast<int64_t>(units.size()), run_unit);
  plan->run();  // (on a throw, background's destructor still finishes the gathers before the error leaves)
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
