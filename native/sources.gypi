{
  "variables": {
    "tf_kernel_sources": [
      "native/runtime/cpu.cc",
      "native/runtime/dispatch.cc",
      "native/runtime/thread_pool.cc",
      "native/kernels/gemm.cc",
      "native/kernels/conv2d.cc",
      "native/kernels/pool.cc",
      "native/kernels/broadcast.cc",
      "native/kernels/elementwise.cc",
      "native/kernels/reduce.cc",
      "native/kernels/softmax.cc",
      "native/kernels/norm.cc",
      "native/kernels/dropout.cc",
      "native/kernels/optim.cc",
      "native/kernels/conv2d_gemm.cc",
      "native/kernels/conv2d_filter.cc",
      "native/kernels/conv2d_depthwise.cc",
      "native/kernels/conv2d_width.cc",
      "native/kernels/conv2d_ocvec.cc",
      "native/kernels/conv2d_filter_inplace.cc"
    ],
    "tf_scalar_sources": [
      "native/ukernels/gemm_f32_4x16__scalar.cc",
      "native/ukernels/gemm_smallm_f32_4xn__scalar.cc",
      "native/ukernels/vmath_f32__scalar.cc",
      "native/ukernels/conv_igemm_f32_4x16__scalar.cc",
      "native/ukernels/conv_width_f32__scalar.cc",
      "native/ukernels/conv_ocvec_f32__scalar.cc",
      "native/ukernels/dwconv_f32__scalar.cc",
      "native/ukernels/maxpool_f32__scalar.cc",
      "native/ukernels/optim_f32__scalar.cc"
    ],
    "tf_avx2_sources": [
      "native/ukernels/gemm_f32_6x16__avx2_fma.cc",
      "native/ukernels/gemm_smallm_f32_4xn__avx2_fma.cc",
      "native/ukernels/vmath_f32__avx2_fma.cc",
      "native/ukernels/conv_igemm_f32_6x16__avx2_fma.cc",
      "native/ukernels/conv_width_f32__avx2_fma.cc",
      "native/ukernels/conv_ocvec_f32__avx2_fma.cc",
      "native/ukernels/dwconv_f32__avx2_fma.cc",
      "native/ukernels/maxpool_f32__avx2.cc"
    ],
    "tf_avx512_sources": [
      "native/ukernels/gemm_f32_14x32__avx512f.cc",
      "native/ukernels/gemm_f32_6x64__avx512f.cc",
      "native/ukernels/gemm_smallm_f32_8xn__avx512f.cc",
      "native/ukernels/vmath_f32__avx512f.cc",
      "native/ukernels/conv_igemm_f32__avx512f.cc",
      "native/ukernels/conv_width_f32__avx512f.cc",
      "native/ukernels/conv_ocvec_f32__avx512f.cc",
      "native/ukernels/dwconv_f32__avx512f.cc",
      "native/ukernels/maxpool_f32__avx512f.cc"
    ],
    "tf_neon_sources": [],
    "tf_binding_sources": [
      "native/addon.cc",
      "native/binding/args.cc",
      "native/binding/export.cc",
      "native/binding/epilogue.cc",
      "native/binding/runtime.cc",
      "native/binding/matmul.cc",
      "native/binding/conv.cc",
      "native/binding/pool.cc",
      "native/binding/elementwise.cc",
      "native/binding/reduce.cc",
      "native/binding/softmax.cc",
      "native/binding/norm.cc",
      "native/binding/dropout.cc",
      "native/binding/optim.cc",
      "native/binding/conv_args.cc",
      "native/binding/plan.cc"
    ],
    "tf_test_sources": [
      "native/tests/testing.cc",
      "native/tests/runtime_test.cc",
      "native/tests/gemm_test.cc",
      "native/tests/conv_test.cc",
      "native/tests/pool_test.cc",
      "native/tests/elementwise_test.cc",
      "native/tests/reduce_test.cc",
      "native/tests/softmax_test.cc",
      "native/tests/norm_test.cc",
      "native/tests/dropout_test.cc",
      "native/tests/optim_test.cc",
      "native/tests/vmath_test.cc"
    ],
    "tf_bench_sources": [
      "native/bench/gemm_bench.cc",
      "native/bench/vmath_bench.cc",
      "native/bench/conv_bench.cc",
      "native/bench/optim_bench.cc"
    ]
  }
}
