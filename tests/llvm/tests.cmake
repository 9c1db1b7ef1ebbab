# ctest `llvm`: the LLVM backend (-o model.o) against the C backend on the
# digits sample, the ToST vision and LM models and a small CNN, plain C and
# native kernels, bitwise; model.o exports only the API and needs only libm
# (tests/llvm/run_llvm.py).  Skipped when tostc was built without the LLVM
# backend, unless TOSTC_REQUIRE_LLVM=1 (CI).
include(${CMAKE_CURRENT_LIST_DIR}/../python.cmake)
add_test(NAME llvm
  COMMAND ${TOSTC_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/run_llvm.py
          --tostc $<TARGET_FILE:tostc> --work ${CMAKE_BINARY_DIR}/llvm_work)
set_tests_properties(llvm PROPERTIES TIMEOUT 900 SKIP_RETURN_CODE 77)
