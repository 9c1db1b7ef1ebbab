# ctest `conformance` and `conformance_native`: the ONNX backend node tests
# (generated into the build dir by scripts/gen_onnx_tests.py when missing)
# through tostc, C compiler and a numpy comparison; known failures in
# expected.txt, the cases that must pass in passing.txt.  `conformance` builds
# the generated C's plain C99 kernels, `conformance_native` this CPU's SIMD
# kernels (-march=native; skipped when it has none).
include(${CMAKE_CURRENT_LIST_DIR}/../python.cmake)
set(CONFORMANCE_DATA ${CMAKE_BINARY_DIR}/onnxdata)

# onnxdata_test(NAME SCRIPT ARG...): ctest NAME generates the data when it is
# missing, then runs SCRIPT --data DATA ARG... with TOSTC_PYTHON
function(onnxdata_test name script)
  add_test(NAME ${name}
    COMMAND sh -c "\"$0\" \"$1\" \"$2\" || exit 1; d=$2 s=$3; shift 3; exec \"$0\" \"$s\" --data \"$d\" \"$@\""
            ${TOSTC_PYTHON} ${CMAKE_SOURCE_DIR}/scripts/gen_onnx_tests.py ${CONFORMANCE_DATA}
            ${script} ${ARGN})
endfunction()

foreach(isa plain native)
  if(isa STREQUAL plain)
    set(_name conformance)
  else()
    set(_name conformance_${isa})
  endif()
  onnxdata_test(${_name} ${CMAKE_CURRENT_LIST_DIR}/run.py
    --tostc $<TARGET_FILE:tostc> --work ${CMAKE_BINARY_DIR}/${_name}_work --jobs 2
    --expect ${CMAKE_CURRENT_LIST_DIR}/expected.txt --passing ${CMAKE_CURRENT_LIST_DIR}/passing.txt
    --isa ${isa})
  set_tests_properties(${_name} PROPERTIES TIMEOUT 3600 SKIP_RETURN_CODE 77)
endforeach()
# both generate the data when it is missing: not at the same time
set_tests_properties(conformance_native PROPERTIES DEPENDS conformance)

# ctest `conformance_llvm`: the same cases through the LLVM backend (tostc -o
# model.o --cpu x86-64, the plain kernels, linked with the harness); what it
# does not cover yet (a Loop run as a loop) is unsupported, not lost.
# Skipped (77) when tostc has no LLVM backend.
onnxdata_test(conformance_llvm ${CMAKE_CURRENT_LIST_DIR}/run.py
  --tostc $<TARGET_FILE:tostc> --work ${CMAKE_BINARY_DIR}/conformance_llvm_work --jobs 2
  --expect ${CMAKE_CURRENT_LIST_DIR}/expected.txt --passing ${CMAKE_CURRENT_LIST_DIR}/passing.txt
  --isa plain --backend llvm)
set_tests_properties(conformance_llvm PROPERTIES TIMEOUT 3600 SKIP_RETURN_CODE 77
  DEPENDS conformance)

# ctest `op_coverage`: every op of `tostc --list-ops` is used by a conformance
# case of passing.txt or by a model test's ONNX export (op_coverage.py); after
# the tests that write those exports.
set(_work "")
foreach(t models fusion epilogue demand absorb dsl conv_norm)
  list(APPEND _work ${CMAKE_BINARY_DIR}/${t}_work)
endforeach()
onnxdata_test(op_coverage ${CMAKE_CURRENT_LIST_DIR}/op_coverage.py
  --tostc $<TARGET_FILE:tostc> --passing ${CMAKE_CURRENT_LIST_DIR}/passing.txt --models ${_work})
set_tests_properties(op_coverage PROPERTIES
  DEPENDS "conformance;conformance_native;models;fusion;epilogue;demand;absorb;dsl_equiv;conv_norm")
