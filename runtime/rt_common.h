/*
 * rt_common.h -- the prelude every generated model.c starts its runtime with.
 *
 * The runtime is plain C99 text organised in sections (see compiler/tostc.h,
 * "Kernel calls"): the emitter copies only the sections a model uses.  Inside
 * the compiler the same headers are #included so that constant folding runs
 * exactly the code the generated program will run.
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
