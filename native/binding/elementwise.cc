// Bindings for the elementwise kernel family: argument checks, then a call into native/kernels/.
//   unary(op, alpha, x, y)                                   x [n] -> y [n]
//   unaryBackward(op, alpha, dx, dy, x|null, y|null)         -> dx [n]
//   binary(op, aShape, a, bShape, b, y)                      -> y [broadcast(aShape, bShape)]
//   binaryBackward(op, da|null, db|null, dy, aShape, a, bShape, b)
#include <napi.h>

#include <string>

#include "binding/args.h"
#include "binding/export.h"
#include "binding/plan.h"
#include "kernels/broadcast.h"
#include "kernels/elementwise.h"

namespace tf::binding {
namespace {

using kernels::BinaryOp;
using kernels::UnaryOp;

UnaryOp unary_op(const Args& args, size_t i) {
  static const struct {
    const char* name;
    UnaryOp op;
  } table[] = {{"relu", UnaryOp::relu},       {"leakyRelu", UnaryOp::leaky_relu}, {"elu", UnaryOp::elu},
               {"sigmoid", UnaryOp::sigmoid}, {"tanh", UnaryOp::tanh},            {"softplus", UnaryOp::softplus},
               {"exp", UnaryOp::exp},         {"log", UnaryOp::log},              {"sqrt", UnaryOp::sqrt},
               {"square", UnaryOp::square},   {"abs", UnaryOp::abs},              {"neg", UnaryOp::neg}};
  const std::string name = args.string(i, "op");
  for (const auto& e : table) {
    if (name == e.name) return e.op;
  }
  args.range_error("unknown op '" + name +
                   "' (expected one of relu, leakyRelu, elu, sigmoid, tanh, softplus, exp, log, sqrt, square, abs, neg)");
}

BinaryOp binary_op(const Args& args, size_t i) {
  static const struct {
    const char* name;
    BinaryOp op;
  } table[] = {{"add", BinaryOp::add}, {"sub", BinaryOp::sub},         {"mul", BinaryOp::mul},
               {"div", BinaryOp::div}, {"maximum", BinaryOp::maximum}, {"minimum", BinaryOp::minimum}};
  const std::string name = args.string(i, "op");
  for (const auto& e : table) {
    if (name == e.name) return e.op;
  }
  args.range_error("unknown op '" + name + "' (expected one of add, sub, mul, div, maximum, minimum)");
}

// Finite alpha; leakyRelu needs >= 0 and elu > 0 so that backward can read the sign of x from y.
float unary_alpha(const Args& args, size_t i, UnaryOp op) {
  const double alpha = args.number(i, "alpha");
  if (op == UnaryOp::leaky_relu && alpha < 0) {
    args.range_error("leakyRelu alpha must be >= 0, got " + std::to_string(alpha));
  }
  if (op == UnaryOp::elu && !(alpha > 0)) args.range_error("elu alpha must be > 0, got " + std::to_string(alpha));
  return static_cast<float>(alpha);
}

struct BinaryShapes {
  std::vector<int64_t> a, b, out;
  int64_t a_size, b_size, out_size;
};

BinaryShapes binary_shapes(const Args& args, size_t ia, size_t ib) {
  BinaryShapes s;
  s.a = args.shape(ia, "aShape");
  s.b = args.shape(ib, "bShape");
  if (!kernels::broadcastable(s.a, s.b)) {
    args.range_error("shapes " + shape_string(s.a) + " and " + shape_string(s.b) + " cannot be broadcast together");
  }
  s.out = kernels::broadcast_shape(s.a, s.b);
  s.a_size = checked_product(args.op(), "aShape", s.a);
  s.b_size = checked_product(args.op(), "bShape", s.b);
  s.out_size = checked_product(args.op(), "the broadcast shape", s.out);
  return s;
}

Napi::Value unary(const Napi::CallbackInfo& info) {
  Args args(info, "unary");
  args.expect_count(4);
  const UnaryOp op = unary_op(args, 0);
  const float alpha = unary_alpha(args, 1, op);
  const int64_t n = args.f32_length(2, "x");
  const F32Arg x = args.f32(2, "x", n, "x.length");
  const F32Arg y = args.f32(3, "y", n, "x.length");
  run_or_record(info, [=] { kernels::unary(op, alpha, x.data, y.data, n); });
  return info.Env().Undefined();
}

Napi::Value unary_backward(const Napi::CallbackInfo& info) {
  Args args(info, "unaryBackward");
  args.expect_count(6);
  const UnaryOp op = unary_op(args, 0);
  const float alpha = unary_alpha(args, 1, op);
  const int64_t n = args.f32_length(3, "dy");
  const F32Arg dx = args.f32(2, "dx", n, "dy.length");
  const F32Arg dy = args.f32(3, "dy", n, "dy.length");
  const std::string op_name = args.string(0, "op");
  if (kernels::unary_backward_reads_x(op) && args.at(4).IsNull()) {
    args.type_error(op_name + " backward reads x, which must not be null");
  }
  if (kernels::unary_backward_reads_y(op) && args.at(5).IsNull()) {
    args.type_error(op_name + " backward reads y, which must not be null");
  }
  const F32Arg x = args.f32_or_null(4, "x", n, "dy.length");
  const F32Arg y = args.f32_or_null(5, "y", n, "dy.length");
  run_or_record(info, [=] { kernels::unary_backward(op, alpha, dx.data, dy.data, x.data, y.data, n); });
  return info.Env().Undefined();
}

Napi::Value binary(const Napi::CallbackInfo& info) {
  Args args(info, "binary");
  args.expect_count(6);
  const BinaryOp op = binary_op(args, 0);
  const BinaryShapes s = binary_shapes(args, 1, 3);
  const F32Arg a = args.f32(2, "a", s.a_size, [&] { return "size of aShape " + shape_string(s.a); });
  const F32Arg b = args.f32(4, "b", s.b_size, [&] { return "size of bShape " + shape_string(s.b); });
  const F32Arg y = args.f32(5, "y", s.out_size, [&] { return "size of the broadcast shape " + shape_string(s.out); });
  run_or_record(info, [=] { kernels::binary(op, s.a, a.data, s.b, b.data, y.data); });
  return info.Env().Undefined();
}

Napi::Value binary_backward(const Napi::CallbackInfo& info) {
  Args args(info, "binaryBackward");
  args.expect_count(8);
  const BinaryOp op = binary_op(args, 0);
  const BinaryShapes s = binary_shapes(args, 4, 6);
  const F32Arg da = args.f32_or_null(1, "da", s.a_size, [&] { return "size of aShape " + shape_string(s.a); });
  const F32Arg db = args.f32_or_null(2, "db", s.b_size, [&] { return "size of bShape " + shape_string(s.b); });
  const F32Arg dy = args.f32(3, "dy", s.out_size, [&] { return "size of the broadcast shape " + shape_string(s.out); });
  const F32Arg a = args.f32(5, "a", s.a_size, [&] { return "size of aShape " + shape_string(s.a); });
  const F32Arg b = args.f32(7, "b", s.b_size, [&] { return "size of bShape " + shape_string(s.b); });
  run_or_record(info, [=] { kernels::binary_backward(op, da.data, db.data, dy.data, s.a, a.data, s.b, b.data); });
  return info.Env().Undefined();
}

}  // namespace

void register_elementwise(Napi::Env env, Napi::Object exports) {
  export_function(env, exports, "unary", unary);
  export_function(env, exports, "unaryBackward", unary_backward);
  export_function(env, exports, "binary", binary);
  export_function(env, exports, "binaryBackward", binary_backward);
}

}  // namespace tf::binding
