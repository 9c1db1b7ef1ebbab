/*
 * common.h -- the prelude every generated model.c starts its runtime with.
 *
 * The runtime is C99 text organised in sections, each a kernel (or a helper)
 * with the names of the sections it needs (compiler/emit/emit_c.c parses
 * them): the emitter copies only the sections a model uses, each after the
 * ones it needs.  Inside the compiler the same headers are #included, so that
 * constant folding runs exactly the code the generated program will run.
 *
 * The kernels are portable C99, written so that gcc vectorises them at -O2
 * (fixed-count inner loops, bounded tails).  The hot spots also have
 * micro-kernels in intrinsics, one instruction set per file: the GEMM
 * (gemm/micro_*.h: AVX-512, AVX2+FMA, NEON, and portable C), the GELU, the
 * LayerNorm sums and the convolutions' im2col.  Which ones a build uses is
 * decided when model.c is compiled, from the C compiler's target flags
 * (gemm/config.h; -DTR_NO_SIMD forces portable C), not by tostc.
 *
 * Folders are kernel families: elementwise/ (with the GELU), gemm/ (the GEMM
 * driver, its micro-kernels and the MatMul/Gemm kernels), conv/, norm/,
 * pool/, mlp/ (the fused MLP block), tensor/ (data movement), tssa/.
 *
 * Rules for all runtime code: C99, no allocation, no stdio, no mutable
 * globals, nothing but libm; sizes are int64_t; kernels may be called with
 * y == a for elementwise work.
 */
#ifndef TOSTC_RT_COMMON_H
#define TOSTC_RT_COMMON_H
#ifndef TR_FN
#define TR_FN static __attribute__((unused))
#endif
/*@ tr_common : */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#ifndef TR_FN
#define TR_FN static
#endif
#if defined(__GNUC__) || defined(__clang__)
#define TR_LIKELY(x) __builtin_expect(!!(x), 1)
#define TR_ALWAYS_INLINE static inline __attribute__((always_inline))
#else
#define TR_LIKELY(x) (x)
#define TR_ALWAYS_INLINE static inline
#endif
/* the C99 keyword, for a C++ compiler that builds model.c */
#if defined(__cplusplus) && !defined(restrict)
#define restrict __restrict
#endif
#define TR_MIN(a, b) ((a) < (b) ? (a) : (b))
#define TR_MAX(a, b) ((a) > (b) ? (a) : (b))
/* fmaf only where it is one instruction; ISO C mode does not contract a*b+c */
#ifndef TR_FMA
#if defined(FP_FAST_FMAF)
#define TR_FMA(a, b, c) fmaf((a), (b), (c))
#else
#define TR_FMA(a, b, c) ((a) * (b) + (c))
#endif
#endif
/*
 * Threads: OpenMP, only when the generated C is compiled with -fopenmp (off
 * otherwise: the pragmas vanish and TR_NTHREADS() is 1).  Work is split so
 * that every output element is computed by the same operations in the same
 * order whatever the thread count: results are bitwise independent of it.
 * Kernels go parallel only above TR_PAR_MIN units of work (multiply-adds or
 * elements), where a parallel region's few microseconds do not matter.
 */
#ifdef _OPENMP
#include <omp.h>
#define TR_OMP(...) _Pragma(#__VA_ARGS__)
#define TR_THREAD() ((int64_t)omp_get_thread_num())
#define TR_NTHREADS() ((int64_t)omp_get_num_threads())
#else
#define TR_OMP(...)
#define TR_THREAD() ((int64_t)0)
#define TR_NTHREADS() ((int64_t)1)
#endif
#ifndef TR_PAR_MIN
#define TR_PAR_MIN 32768
#endif
/*@end*/
#endif
