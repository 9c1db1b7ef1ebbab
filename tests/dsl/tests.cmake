# ctest `dsl_equiv`: the same ToST models (vision and causal LM, several sizes,
# F32/F16/BF16 weights) from .tost + .safetensors and from ONNX give the same
# outputs, and both match PyTorch.  Also compiles samples/digits both ways.
include(${CMAKE_CURRENT_LIST_DIR}/../python.cmake)
add_test(NAME dsl_equiv
  COMMAND ${TOSTC_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/equiv.py
          --tostc $<TARGET_FILE:tostc> --work ${CMAKE_BINARY_DIR}/dsl_work)
set_tests_properties(dsl_equiv PROPERTIES TIMEOUT 600)

# ctest `digits_sample`: samples/digits/run.sh (tostc from .tost and .onnx,
# main.c classifies the test split; the accuracy must equal PyTorch's).
add_test(NAME digits_sample COMMAND sh ${CMAKE_SOURCE_DIR}/samples/digits/run.sh)
set_tests_properties(digits_sample PROPERTIES TIMEOUT 300
  ENVIRONMENT "TOSTC_BUILD=${CMAKE_BINARY_DIR};OUT=${CMAKE_BINARY_DIR}/digits_sample")
