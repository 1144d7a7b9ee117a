// Kernel plans: a sequence of kernel calls recorded once on the JS thread and replayed later: a forward
// pass on a libuv worker thread (predictAsync's native path, planRun), so batch inference never runs JS
// or holds the event loop; and fit's training step (forward, loss, backward) on the JS thread itself
// (planReplay, lib/train/native-step.ts), so a step is one native call instead of an autograd graph.
//
// Recording: planBegin() arms a recorder on the calling thread; every kernel binding then validates its
// arguments as always, runs the kernel, and, through run_or_record, also keeps the call (a closure over
// the validated pointers and sizes) plus a reference to every object argument, so the buffers it reads
// and writes stay alive and in place. planEnd() disarms it and returns the plan as an opaque handle.
// A kernel binding that cannot be replayed marks the recording unusable; planEnd() then throws.
//
// Replaying: planRun(plan, input, output, x, y, batches) copies batch b of x into the `input` buffer the
// recording read, runs every recorded call, and copies the `output` buffer into batch b of y, for each
// b, on a libuv thread; it resolves when done. The plan's buffers are shared by its calls, so one plan
// runs one job at a time (a second planRun while it runs is an error). planRun also refuses to start
// when a recorded buffer was detached (transferred) since recording. The plan API is internal
// (predictAsync records only buffers it owns), so detaching one *during* a run is not guarded against.
//
// planReplay(plan, sources, targets) copies each source into its target (a whole buffer of the plan, of
// the same byte length), checks that no recorded buffer was detached, and runs the calls synchronously
// on the calling thread; refused while the plan runs elsewhere or while this thread records. Its optional
// gathers (fit's next batch, into its second plan's inputs) run on idle pool threads meanwhile
// (BackgroundWork) and never touch an array the plan uses.
//
// Both copy new data into buffers the recording read, so a recorded call re-checks at every run
// whatever that data could make unsafe: class indices of a cross-entropy target, gather indices.
//
// A recorded dropout draws its mask from a seed cell (seed_cell below): planReplay's `seeds` argument
// (one per cell, required when the plan has cells) gives each replay its own masks; planRun refuses
// plans with cells (a forward in eval mode records none).
#pragma once

#include <napi.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

namespace tf::binding {

// Runs `call` now and, while this thread records a plan, keeps it (and references to info's object
// arguments) in the plan. `call` must capture only validated raw pointers and sizes, by value.
void run_or_record(const Napi::CallbackInfo& info, const std::function<void()>& call);

// Called by the trampoline after every binding: `recorded_before` is the recorder's step count before
// the call. A kernel (any binding but the few setup functions) that did not record marks the recording
// unusable, naming itself.
size_t recorder_steps();
void check_recorded(const char* name, size_t recorded_before);

// Random seeds a recorded call draws (dropout's mask). While this thread records, seed_cell(seed) adds a
// cell holding `seed` to the recording and returns it with its index: the recorded call must read its
// seed from there, and every planReplay writes fresh seeds into the cells (in recording order) before
// it runs. Not recording: {nullptr, 0}, and the call uses `seed` itself.
using SeedCells = std::shared_ptr<std::vector<uint32_t>>;
std::pair<SeedCells, size_t> seed_cell(uint32_t seed);

void register_plan(Napi::Env env, Napi::Object exports);

}  // namespace tf::binding
