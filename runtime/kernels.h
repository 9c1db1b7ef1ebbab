/*
 * kernels.h -- every runtime header that defines a kernel of kernels.def.
 *
 * Included by the compiler (compiler/ops/kernels.c, which calls the kernels
 * to fold constants) and by runtime/kernels_bitcode.c (the LLVM backend's
 * kernels, compiled to bitcode when tostc is built).  Not a runtime section:
 * the emitter never copies it into generated C.
 */
#ifndef TOSTC_RT_KERNELS_H
#define TOSTC_RT_KERNELS_H
#include "common.h"
#include "attention/attention.h"
#include "conv/conv.h"
#include "conv/conv_packed.h"
#include "conv/conv_nhwc.h"
#include "conv/conv_transpose.h"
#include "conv/depthwise.h"
#include "conv/dwconv.h"
#include "elementwise/activation.h"
#include "elementwise/binary.h"
#include "elementwise/cast_any.h"
#include "elementwise/gelu.h"
#include "elementwise/loss.h"
#include "elementwise/reduce.h"
#include "elementwise/select.h"
#include "elementwise/unary.h"
#include "gemm/einsum.h"
#include "gemm/gemm.h"
#include "gemm/proj_contract.h"
#include "mlp/mlp.h"
#include "norm/batchnorm.h"
#include "norm/groupnorm.h"
#include "norm/layernorm.h"
#include "norm/lpnorm.h"
#include "norm/lrn.h"
#include "norm/mvn.h"
#include "pool/pool.h"
#include "pool/pool_nhwc.h"
#include "quant/half.h"
#include "quant/quant.h"
#include "rnn/rnn.h"
#include "tensor/index.h"
#include "tensor/movement.h"
#include "tensor/resize.h"
#include "tensor/tensor.h"
#include "tssa/tssa.h"
#endif
