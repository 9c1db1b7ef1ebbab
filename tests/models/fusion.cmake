# ctest `fusion`: TSSA fusion end to end (tests/models/test_fusion.py): ToST
# models from tost_ref.py (official code, spelling variants, near misses)
# compiled fused and --no-fuse, against PyTorch; fused-op counts from
# --report=json; permutation equivariance and causality of the fused build.
include(${CMAKE_CURRENT_LIST_DIR}/../python.cmake)
add_test(NAME fusion
  COMMAND ${TOSTC_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_fusion.py
          --tostc $<TARGET_FILE:tostc> --work ${CMAKE_BINARY_DIR}/fusion_work)
set_tests_properties(fusion PROPERTIES TIMEOUT 900)

# ctest `epilogue`: BatchNorm into Conv, LayerScale into Gemm/MatMul
# (fuse_epilogue.c) on hand-written graphs, fused vs --no-fuse vs numpy.
add_test(NAME epilogue
  COMMAND ${TOSTC_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_epilogue.py
          --tostc $<TARGET_FILE:tostc> --work ${CMAKE_BINARY_DIR}/epilogue_work)

# ctest `demand`: Gemms that make only the parts of their output that are
# read (demand.c), on hand-written graphs and near misses, against numpy.
add_test(NAME demand
  COMMAND ${TOSTC_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_demand.py
          --tostc $<TARGET_FILE:tostc> --work ${CMAKE_BINARY_DIR}/demand_work)

# ctest `absorb`: class attention's scores and values read the projection's
# weights instead of its keys and values (fuse_absorb.c), on hand-written
# graphs and near misses, fused vs --no-fuse vs numpy.
add_test(NAME absorb
  COMMAND ${TOSTC_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_absorb.py
          --tostc $<TARGET_FILE:tostc> --work ${CMAKE_BINARY_DIR}/absorb_work)

# ctest `front`: what the ONNX front end reads beyond single nodes: local
# functions (nested, attributes, defaults, omitted inputs), opsets 18 to 21,
# and one message naming every unsupported op (tests/models/test_front.py).
add_test(NAME front
  COMMAND ${TOSTC_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_front.py
          --tostc $<TARGET_FILE:tostc> --work ${CMAKE_BINARY_DIR}/front_work)

# ctest `vision`: torchvision architectures (mobilenet_v3_small, densenet121,
# inception_v3, swin_t, maxvit_t; small widths and inputs) against PyTorch,
# plain C99 and native SIMD builds (tests/models/test_vision.py).
add_test(NAME vision
  COMMAND ${TOSTC_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_vision.py
          --tostc $<TARGET_FILE:tostc> --work ${CMAKE_BINARY_DIR}/vision_work)
set_tests_properties(vision PROPERTIES TIMEOUT 1200)

# ctest `vision_cnn`: the CNNs of the channels-last layout (mobilenet_v2,
# mnasnet0_5, efficientnet_b0, shufflenet_v2_x0_5, resnet18, regnet_y_400mf
# at 64 px) against PyTorch, fused and --no-fuse, plain C99 and native SIMD
# builds, OpenMP 1/2/3 threads bitwise (tests/models/test_cnn.py).
add_test(NAME vision_cnn
  COMMAND ${TOSTC_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_cnn.py
          --tostc $<TARGET_FILE:tostc> --work ${CMAKE_BINARY_DIR}/vision_cnn_work)
set_tests_properties(vision_cnn PROPERTIES TIMEOUT 1200)

# ctest `conv_norm`: ConvTranspose, the normalisations (GroupNormalization at
# opsets 18 and 21, LpNormalization, ...) and Einsum beyond ONNX 1.12's node
# tests, single-node models vs PyTorch / numpy, plain and native kernels, and
# the refusals (tests/models/test_conv_norm.py).
add_test(NAME conv_norm
  COMMAND ${TOSTC_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_conv_norm.py
          --tostc $<TARGET_FILE:tostc> --work ${CMAKE_BINARY_DIR}/conv_norm_work)

# ctest `attention`: softmax attention fused into one streaming node
# (fuse_attention.c, SoftmaxAttention): ViT, BERT and cross-attention blocks
# from PyTorch and hand-written graphs (masks, odd sizes, several key tiles)
# with near misses, fused vs --no-fuse vs the reference, plain C99 and native
# kernels, OpenMP on 1, 2 and 3 threads bit for bit (tests/models/test_attention.py).
add_test(NAME attention
  COMMAND ${TOSTC_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_attention.py
          --tostc $<TARGET_FILE:tostc> --work ${CMAKE_BINARY_DIR}/attention_work)
set_tests_properties(attention PROPERTIES TIMEOUT 900)
