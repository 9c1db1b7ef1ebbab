# ctest `models`: small ToST-style PyTorch models (vision and causal LM,
# opset 13 and 17, a symbolic length bound with --dim) through tostc,
# compared with PyTorch; two-thread bitwise determinism.
include(${CMAKE_CURRENT_LIST_DIR}/../python.cmake)
add_test(NAME models
  COMMAND ${TOSTC_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/run_models.py
          --tostc $<TARGET_FILE:tostc> --work ${CMAKE_BINARY_DIR}/models_work)
set_tests_properties(models PROPERTIES TIMEOUT 900)

# TSSA fusion tests (helper "fuse")
include(${CMAKE_CURRENT_LIST_DIR}/fusion.cmake)

# the recurrent layers (tests/models/test_rnn.py)
include(${CMAKE_CURRENT_LIST_DIR}/rnn.cmake)

# ctest `quant`: quantised models (QDQ, QLinearMatMul, dynamic MatMulInteger)
# and float16 / bfloat16 weights and I/O against numpy references of the ONNX
# definitions (tests/models/test_quant.py); plain C99, native and 3 threads.
add_test(NAME quant
  COMMAND ${TOSTC_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_quant.py
          --tostc $<TARGET_FILE:tostc> --work ${CMAKE_BINARY_DIR}/quant_work)
set_tests_properties(quant PROPERTIES TIMEOUT 900)
