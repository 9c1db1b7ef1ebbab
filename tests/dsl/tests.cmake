# ctest `dsl_equiv`: the same ToST models (vision and causal LM, several sizes,
# F32/F16/BF16 weights) from .tost + .safetensors and from ONNX give the same
# outputs, and both match PyTorch.  Also compiles samples/digits both ways.
include(${CMAKE_CURRENT_LIST_DIR}/../python.cmake)
add_test(NAME dsl_equiv
  COMMAND ${TOSTC_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/equiv.py
          --tostc $<TARGET_FILE:tostc> --work ${CMAKE_BINARY_DIR}/dsl_work)
set_tests_properties(dsl_equiv PROPERTIES TIMEOUT 600)
