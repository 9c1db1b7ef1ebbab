/*
 * kernels_bitcode.c -- the runtime's kernels as one translation unit, for
 * the LLVM backend (compiler/emit/emit_llvm.c).
 *
 * CMake compiles this file with clang to LLVM bitcode once per target
 * family and feature level (-DTR_NO_SIMD, AVX2+FMA, AVX-512 on x86-64) and
 * embeds the bitcode in tostc, as the runtime's text is embedded for the C
 * backend.  TR_FN is empty here, so every kernel (and every helper the
 * headers define with it) is a real, external function; the table below
 * names each kernel of kernels.def once, so that none is left out and each
 * has the C type kernels.def declares (the cast would not build otherwise
 * with -Werror=incompatible-pointer-types... clang only warns, so the
 * compiler also checks each call's type when it links the bitcode).
 * When a model is compiled, tostc links this module into the model's,
 * makes everything but the model's API internal and lets the optimiser drop
 * what the model does not call, this table first.
 */
#define TR_FN
#include "kernels.h"

#define KERNEL(name, ...) (void (*)(void))name,
void (*const tr_kernel_table[])(void) = {
#include "kernels.def"
};
#undef KERNEL
