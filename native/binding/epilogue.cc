#include "binding/epilogue.h"

#include <cfloat>
#include <cmath>
#include <sstream>
#include <string>

#include "kernels/gemm.h"

namespace tf::binding {

EpilogueArg read_epilogue(const Args& in, const Napi::Object& o) {
  const std::string name = in.string_prop(o, "activation");
  EpilogueArg e;
  if (!parse_gemm_activation(name.c_str(), &e.activation)) {
    in.range_error("unknown activation '" + name + "' (expected none, relu, leakyRelu, elu, sigmoid, tanh)");
  }
  const double alpha = in.number_prop(o, "alpha");
  // Formatted only on failure: an ostringstream per call cost more than a small matmul.
  const auto got = [alpha] {
    std::ostringstream s;
    s << alpha;
    return s.str();
  };
  if (std::fabs(alpha) > FLT_MAX) in.range_error("alpha must be a finite float32 number, got " + got());
  if (e.activation == GemmActivation::leaky_relu && !(alpha >= 0)) {
    in.range_error("leakyRelu alpha must be >= 0, got " + got());
  }
  if (e.activation == GemmActivation::elu && !(alpha > 0)) in.range_error("elu alpha must be > 0, got " + got());
  e.alpha = static_cast<float>(alpha);
  return e;
}

}  // namespace tf::binding
