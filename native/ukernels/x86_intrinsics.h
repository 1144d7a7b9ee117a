// <immintrin.h> for the AVX2 / AVX-512 micro-kernel files. GCC 12 reports a false
// "__Y may be used uninitialized" inside its own AVX-512 headers (_mm512_undefined_ps, GCC bug 105593,
// fixed in 13); silencing it around the include keeps the build warning-free without hiding warnings
// in our code.
#pragma once

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#else
#include <immintrin.h>
#endif
