{
  "variables": {
    "tf_kernel_sources": [
      "native/runtime/cpu.cc",
      "native/runtime/dispatch.cc",
      "native/runtime/thread_pool.cc",
      "native/kernels/norm.cc",
      "native/kernels/dropout.cc",
      "native/kernels/optim.cc"
    ],
    "tf_scalar_sources": [],
    "tf_avx2_sources": [],
    "tf_avx512_sources": [],
    "tf_neon_sources": [],
    "tf_binding_sources": [
      "native/addon.cc",
      "native/binding/args.cc",
      "native/binding/export.cc",
      "native/binding/runtime.cc",
      "native/binding/matmul.cc",
      "native/binding/conv.cc",
      "native/binding/pool.cc",
      "native/binding/elementwise.cc",
      "native/binding/reduce.cc",
      "native/binding/softmax.cc",
      "native/binding/norm.cc",
      "native/binding/dropout.cc",
      "native/binding/optim.cc"
    ],
    "tf_test_sources": [
      "native/tests/testing.cc",
      "native/tests/runtime_test.cc",
      "native/tests/norm_test.cc",
      "native/tests/dropout_test.cc",
      "native/tests/optim_test.cc"
    ],
    "tf_bench_sources": []
  }
}
