/*
 * kernels.c -- runtime/kernels.def made into the compiler's kernel table.
 *
 * For every KERNEL(name, params...) line this file makes
 *   - inv_name(const Call *c): the kernel called with the call's arguments,
 *     each converted to the declared C type, through a pointer of exactly the
 *     declared function type, so a runtime signature that drifts from the
 *     table is a compile error (-Werror=incompatible-pointer-types);
 *   - kernel_info[K_name]: the name, inv_name and the typed, named
 *     parameters, which lower.c checks calls against and emit_c.c prints
 *     beside the arguments.
 *
 * The parameter macros of kernels.def expand to tuples (kind, type, name);
 * K_EACH applies a macro to each with its position, so the i-th argument of
 * a call is read from c->args[i] without anyone counting by hand.
 */
#include "tostc.h"

#include "kernels.h"   /* runtime/: every header that defines a kernel */

/* ---- preprocessor plumbing ---- */

#define K_CAT(a, b) K_CAT_(a, b)
#define K_CAT_(a, b) a##b
#define K_APPLY(m, args) m args
#define K_UNPACK(...) __VA_ARGS__
#define K_DROP1(...) K_DROP1_(__VA_ARGS__)
#define K_DROP1_(first, ...) __VA_ARGS__
#define K_NARGS(...) K_NARGS_(__VA_ARGS__, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, \
                              11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define K_NARGS_(a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, a17, \
                 a18, a19, a20, a21, a22, a23, a24, n, ...) n

/* K_EACH(M, p1, p2, ...) -> M(0, p1) M(1, p2) ... (at most 24 parameters) */
#define K_EACH(M, ...) K_CAT(K_EACH_, K_NARGS(__VA_ARGS__))(M, 0, __VA_ARGS__)
#define K_EACH_1(M, i, p) M(i, p)
#define K_EACH_2(M, i, p, ...) M(i, p) K_EACH_1(M, i + 1, __VA_ARGS__)
#define K_EACH_3(M, i, p, ...) M(i, p) K_EACH_2(M, i + 1, __VA_ARGS__)
#define K_EACH_4(M, i, p, ...) M(i, p) K_EACH_3(M, i + 1, __VA_ARGS__)
#define K_EACH_5(M, i, p, ...) M(i, p) K_EACH_4(M, i + 1, __VA_ARGS__)
#define K_EACH_6(M, i, p, ...) M(i, p) K_EACH_5(M, i + 1, __VA_ARGS__)
#define K_EACH_7(M, i, p, ...) M(i, p) K_EACH_6(M, i + 1, __VA_ARGS__)
#define K_EACH_8(M, i, p, ...) M(i, p) K_EACH_7(M, i + 1, __VA_ARGS__)
#define K_EACH_9(M, i, p, ...) M(i, p) K_EACH_8(M, i + 1, __VA_ARGS__)
#define K_EACH_10(M, i, p, ...) M(i, p) K_EACH_9(M, i + 1, __VA_ARGS__)
#define K_EACH_11(M, i, p, ...) M(i, p) K_EACH_10(M, i + 1, __VA_ARGS__)
#define K_EACH_12(M, i, p, ...) M(i, p) K_EACH_11(M, i + 1, __VA_ARGS__)
#define K_EACH_13(M, i, p, ...) M(i, p) K_EACH_12(M, i + 1, __VA_ARGS__)
#define K_EACH_14(M, i, p, ...) M(i, p) K_EACH_13(M, i + 1, __VA_ARGS__)
#define K_EACH_15(M, i, p, ...) M(i, p) K_EACH_14(M, i + 1, __VA_ARGS__)
#define K_EACH_16(M, i, p, ...) M(i, p) K_EACH_15(M, i + 1, __VA_ARGS__)
#define K_EACH_17(M, i, p, ...) M(i, p) K_EACH_16(M, i + 1, __VA_ARGS__)
#define K_EACH_18(M, i, p, ...) M(i, p) K_EACH_17(M, i + 1, __VA_ARGS__)
#define K_EACH_19(M, i, p, ...) M(i, p) K_EACH_18(M, i + 1, __VA_ARGS__)
#define K_EACH_20(M, i, p, ...) M(i, p) K_EACH_19(M, i + 1, __VA_ARGS__)
#define K_EACH_21(M, i, p, ...) M(i, p) K_EACH_20(M, i + 1, __VA_ARGS__)
#define K_EACH_22(M, i, p, ...) M(i, p) K_EACH_21(M, i + 1, __VA_ARGS__)
#define K_EACH_23(M, i, p, ...) M(i, p) K_EACH_22(M, i + 1, __VA_ARGS__)
#define K_EACH_24(M, i, p, ...) M(i, p) K_EACH_23(M, i + 1, __VA_ARGS__)

/* ---- the parameter kinds ---- */

/* kernels.def's parameters as tuples (kind, element type, name) */
#define IN(t, n) (IN, t, n)
#define OUT(t, n) (OUT, t, n)
#define SCRATCH(n) (SCRATCH, f32, n)
#define INT(n) (INT, i64, n)
#define FLOAT(n) (FLOAT, f32, n)
#define INTS(n) (INTS, i64, n)
#define FLOATS(n) (FLOATS, f32, n)

/* element types */
#define K_C_f32 float
#define K_C_i64 int64_t
#define K_C_i32 int32_t
#define K_C_b8 uint8_t
#define K_C_i8 int8_t
#define K_C_u8 uint8_t
#define K_C_f16 uint16_t
#define K_C_bf16 uint16_t
#define K_C_any void

/* per kind: the C type of the parameter, and the argument as that type */
#define K_TYPE_IN(t) const K_C_##t *
#define K_TYPE_OUT(t) K_C_##t *
#define K_TYPE_SCRATCH(t) float *
#define K_TYPE_INT(t) int64_t
#define K_TYPE_FLOAT(t) float
#define K_TYPE_INTS(t) const int64_t *
#define K_TYPE_FLOATS(t) const float *
#define K_VAL_IN(t, a) (const K_C_##t *)(a).ptr
#define K_VAL_OUT(t, a) (K_C_##t *)(a).ptr
#define K_VAL_SCRATCH(t, a) (float *)(a).ptr
#define K_VAL_INT(t, a) (a).i
#define K_VAL_FLOAT(t, a) (a).f
#define K_VAL_INTS(t, a) (const int64_t *)(a).ints
#define K_VAL_FLOATS(t, a) (const float *)(a).floats

/* M(i, (kind, t, name)) for the three uses: ", type", ", value", "{...}," */
#define K_PTYPE(i, p) K_APPLY(K_PTYPE_, (i, K_UNPACK p))
#define K_PTYPE_(i, kind, t, n) , K_TYPE_##kind(t)
#define K_PVAL(i, p) K_APPLY(K_PVAL_, (i, K_UNPACK p))
#define K_PVAL_(i, kind, t, n) , K_VAL_##kind(t, c->args[i])
#define K_PINFO(i, p) K_APPLY(K_PINFO_, (i, K_UNPACK p))
#define K_PINFO_(i, kind, t, n) {ARG_##kind, K_DT_##t, #n},

/* ---- the table ---- */

#define KERNEL(name, ...)                                                            \
	static void inv_##name(const Call *c)                                        \
	{                                                                            \
		void (*const f)(K_DROP1(K_EACH(K_PTYPE, __VA_ARGS__))) = name;       \
		f(K_DROP1(K_EACH(K_PVAL, __VA_ARGS__)));                             \
	}
#include "kernels.def"
#undef KERNEL

const KernelInfo kernel_info[K_COUNT] = {
#define KERNEL(name, ...) \
	[K_##name] = {#name, inv_##name, K_NARGS(__VA_ARGS__), {K_EACH(K_PINFO, __VA_ARGS__)}},
#include "kernels.def"
#undef KERNEL
};
