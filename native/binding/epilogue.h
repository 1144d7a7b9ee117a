// Reading a fused epilogue ({activation, alpha}) from a JS options object, for every kernel that
// has one (matmul, matmulPacked, conv2d). The rules and messages match the reference backend's
// checkEpilogue (lib/backend/reference/epilogue.ts).
#pragma once

#include <napi.h>

#include "binding/args.h"
#include "ukernels/gemm_ukernels.h"

namespace tf::binding {

struct EpilogueArg {
  GemmActivation activation = GemmActivation::none;
  float alpha = 0.0f;
};

// activation: a known name (RangeError otherwise); alpha: a finite number that fits a float32,
// >= 0 for leakyRelu and > 0 for elu.
EpilogueArg read_epilogue(const Args& in, const Napi::Object& o);

}  // namespace tf::binding
