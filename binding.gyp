# node-gyp build of the addon. The source lists live once, in native/sources.gypi (strict JSON, also
# read by CMakeLists.txt). SIMD files are compiled in their own static libraries so that only they get
# -mavx2/-mavx512f; everything else stays portable and the right level is picked at run time.
{
  "includes": ["native/sources.gypi"],
  "target_defaults": {
    "include_dirs": ["native"],
    "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"],
    "cflags": ["-O3", "-fPIC", "-fvisibility=hidden", "-fno-math-errno", "-Wno-psabi"],
    "cflags_cc": ["-std=c++17", "-fexceptions"],
    "cflags!": ["-O2", "-fno-exceptions"],
    "cflags_cc!": ["-std=gnu++17", "-std=gnu++20", "-fno-exceptions"],
    "xcode_settings": {
      "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
      "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
      "GCC_OPTIMIZATION_LEVEL": "3",
      "MACOSX_DEPLOYMENT_TARGET": "11.0"
    },
    "msvs_settings": {
      "VCCLCompilerTool": {"ExceptionHandling": 1, "Optimization": 2, "AdditionalOptions": ["/std:c++17"]}
    },
    "configurations": {
      "Release": {
        "cflags": ["-O3"],
        "cflags!": ["-O2"],
        "xcode_settings": {"GCC_OPTIMIZATION_LEVEL": "3"}
      }
    }
  },
  "targets": [
    {
      "target_name": "tensorforge",
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "sources": ["<@(tf_kernel_sources)", "<@(tf_scalar_sources)", "<@(tf_binding_sources)"],
      "conditions": [
        ["target_arch=='x64'", {
          "defines": ["TF_HAVE_AVX2", "TF_HAVE_AVX512"],
          "dependencies": ["tf_ukernels_avx2", "tf_ukernels_avx512"]
        }],
        ["target_arch=='arm64'", {
          "defines": ["TF_HAVE_NEON"],
          "sources": ["<@(tf_neon_sources)"]
        }]
      ]
    }
  ],
  "conditions": [
    ["target_arch=='x64'", {
      "targets": [
        {
          "target_name": "tf_ukernels_avx2",
          "type": "static_library",
          "sources": ["<@(tf_avx2_sources)"],
          "defines": ["TF_ISA_TU_AVX2"],
          "cflags": ["-mavx2", "-mfma", "-mf16c"],
          "xcode_settings": {"OTHER_CFLAGS": ["-mavx2", "-mfma", "-mf16c"]},
          "msvs_settings": {"VCCLCompilerTool": {"AdditionalOptions": ["/arch:AVX2"]}}
        },
        {
          "target_name": "tf_ukernels_avx512",
          "type": "static_library",
          "sources": ["<@(tf_avx512_sources)"],
          "defines": ["TF_ISA_TU_AVX512"],
          "cflags": ["-mavx512f", "-mavx512dq", "-mavx512bw", "-mavx512vl", "-mfma"],
          "xcode_settings": {"OTHER_CFLAGS": ["-mavx512f", "-mavx512dq", "-mavx512bw", "-mavx512vl", "-mfma"]},
          "msvs_settings": {"VCCLCompilerTool": {"AdditionalOptions": ["/arch:AVX512"]}}
        }
      ]
    }]
  ]
}
