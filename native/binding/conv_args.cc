#include "binding/conv_args.h"

namespace tf::binding {
namespace {

std::string str(int64_t v) { return std::to_string(v); }

// Output size along one axis; throws when the window does not fit or oh/ow disagrees.
void check_output_size(const Args& args, int64_t out_h, int64_t out_w, int64_t oh, int64_t ow,
                       const std::string& what) {
  if (out_h < 1 || out_w < 1) args.range_error(what + " does not fit the padded input");
  if (out_h != oh || out_w != ow) {
    args.range_error("output size " + str(oh) + "x" + str(ow) + " does not match the computed " + str(out_h) +
                     "x" + str(out_w));
  }
}

}  // namespace

std::string size_how(std::initializer_list<std::pair<const char*, int64_t>> named) {
  std::string product, values;
  for (const auto& [name, value] : named) {
    product += (product.empty() ? "" : "*") + std::string(name);
    values += (values.empty() ? "" : ", ") + std::string(name) + "=" + str(value);
  }
  return product + " (" + values + ")";
}

Conv2dShape read_conv2d_shape(const Args& args, size_t i) {
  const Napi::Object o = args.object(i, "args");
  Conv2dShape s{};
  s.n = args.dim_prop(o, "n");
  s.h = args.dim_prop(o, "h");
  s.w = args.dim_prop(o, "w");
  s.c = args.dim_prop(o, "c");
  s.kh = args.dim_prop(o, "kh");
  s.kw = args.dim_prop(o, "kw");
  s.oc = args.dim_prop(o, "oc");
  s.stride_h = args.dim_prop(o, "strideH");
  s.stride_w = args.dim_prop(o, "strideW");
  s.dilation_h = args.dim_prop(o, "dilationH");
  s.dilation_w = args.dim_prop(o, "dilationW");
  s.pad_top = args.nonneg_prop(o, "padTop");
  s.pad_bottom = args.nonneg_prop(o, "padBottom");
  s.pad_left = args.nonneg_prop(o, "padLeft");
  s.pad_right = args.nonneg_prop(o, "padRight");
  s.groups = args.dim_prop(o, "groups");
  s.oh = args.dim_prop(o, "oh");
  s.ow = args.dim_prop(o, "ow");
  if (s.c % s.groups != 0 || s.oc % s.groups != 0) {
    args.range_error("channels c=" + str(s.c) + " and oc=" + str(s.oc) + " must be divisible by groups=" +
                     str(s.groups));
  }
  check_output_size(args, conv_output_size(s.h, s.kh, s.stride_h, s.dilation_h, s.pad_top, s.pad_bottom),
                    conv_output_size(s.w, s.kw, s.stride_w, s.dilation_w, s.pad_left, s.pad_right), s.oh, s.ow,
                    "the kernel " + str(s.kh) + "x" + str(s.kw) + " (dilation " + str(s.dilation_h) + "," +
                        str(s.dilation_w) + ")");
  checked_product(args.op(), "x", {s.n, s.h, s.w, s.c});
  checked_product(args.op(), "w", {s.kh, s.kw, s.c_per_group(), s.oc});
  checked_product(args.op(), "y", {s.n, s.oh, s.ow, s.oc});
  return s;
}

Pool2dShape read_pool2d_shape(const Args& args, size_t i) {
  const Napi::Object o = args.object(i, "args");
  Pool2dShape s{};
  s.n = args.dim_prop(o, "n");
  s.h = args.dim_prop(o, "h");
  s.w = args.dim_prop(o, "w");
  s.c = args.dim_prop(o, "c");
  s.kh = args.dim_prop(o, "kh");
  s.kw = args.dim_prop(o, "kw");
  s.stride_h = args.dim_prop(o, "strideH");
  s.stride_w = args.dim_prop(o, "strideW");
  s.pad_top = args.nonneg_prop(o, "padTop");
  s.pad_bottom = args.nonneg_prop(o, "padBottom");
  s.pad_left = args.nonneg_prop(o, "padLeft");
  s.pad_right = args.nonneg_prop(o, "padRight");
  s.oh = args.dim_prop(o, "oh");
  s.ow = args.dim_prop(o, "ow");
  // Padding at most half the window (PyTorch's rule) keeps at least one real element in every window.
  if (s.pad_top > s.kh / 2 || s.pad_bottom > s.kh / 2) {
    args.range_error("padding along height (" + str(s.pad_top) + ", " + str(s.pad_bottom) +
                     ") must be at most half the kernel size " + str(s.kh));
  }
  if (s.pad_left > s.kw / 2 || s.pad_right > s.kw / 2) {
    args.range_error("padding along width (" + str(s.pad_left) + ", " + str(s.pad_right) +
                     ") must be at most half the kernel size " + str(s.kw));
  }
  check_output_size(args, conv_output_size(s.h, s.kh, s.stride_h, 1, s.pad_top, s.pad_bottom),
                    conv_output_size(s.w, s.kw, s.stride_w, 1, s.pad_left, s.pad_right), s.oh, s.ow,
                    "the window " + str(s.kh) + "x" + str(s.kw));
  checked_product(args.op(), "x", {s.n, s.h, s.w, s.c});
  checked_product(args.op(), "y", {s.n, s.oh, s.ow, s.c});
  return s;
}

}  // namespace tf::binding
