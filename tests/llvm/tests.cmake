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

# ctest `mcu_sample`: samples/mcu/run.sh, the digits classifier on a
# Cortex-M4F in QEMU (mps2-an386), from the C backend and from the LLVM
# backend's object; both must reach PyTorch's accuracy.  Skipped (77)
# without arm-none-eabi-gcc, newlib, qemu-system-arm or the Armv7E-M kernels,
# unless TOSTC_REQUIRE_MCU=1 (CI).
add_test(NAME mcu_sample COMMAND sh ${CMAKE_SOURCE_DIR}/samples/mcu/run.sh)
set_tests_properties(mcu_sample PROPERTIES TIMEOUT 600 SKIP_RETURN_CODE 77
  ENVIRONMENT "TOSTC_BUILD=${CMAKE_BINARY_DIR};OUT=${CMAKE_BINARY_DIR}/mcu_sample")
