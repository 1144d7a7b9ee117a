// Reading and validating the options objects shared by the conv and pool bindings (Conv2dArgs,
// Pool2dArgs of lib/backend/backend.ts). The output size is recomputed with conv_output_size
// (kernels/conv_shape.h) and a caller's oh/ow must match it; every buffer size the shape implies is
// checked to fit (overflow-safe), so the *_size() products are safe to use afterwards.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>

#include "binding/args.h"
#include "kernels/conv_shape.h"

namespace tf::binding {

// Conv2dArgs at position i: sizes >= 1, pads >= 0, groups divide c and oc, oh/ow consistent.
Conv2dShape read_conv2d_shape(const Args& args, size_t i);
// Pool2dArgs at position i: as above, and each pad at most half its kernel size.
Pool2dShape read_pool2d_shape(const Args& args, size_t i);

// "n*h*w*c (n=2, h=5, w=5, c=3)": how an expected buffer length is made, for messages.
std::string size_how(std::initializer_list<std::pair<const char*, int64_t>> named);

}  // namespace tf::binding
