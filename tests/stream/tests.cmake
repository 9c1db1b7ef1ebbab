# ctest `stream`: the step API (NAME_reset / NAME_step / NAME_prefill) of
# causal ToST models from ONNX and the DSL against the full-sequence NAME_run
# at every position (tests/stream/check_stream.c), and the streaming proof's
# rejections (tests/stream/run_stream.py).
include(${CMAKE_CURRENT_LIST_DIR}/../python.cmake)
add_test(NAME stream
  COMMAND ${TOSTC_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/run_stream.py
          --tostc $<TARGET_FILE:tostc> --work ${CMAKE_BINARY_DIR}/stream_work)
set_tests_properties(stream PROPERTIES TIMEOUT 300)

# ctest `charlm_sample`: samples/charlm/run.sh --check (tostc compiles the
# character-level model; the greedy continuation generated with the step API
# equals PyTorch's and re-running charlm_run's; prints tokens/s).
add_test(NAME charlm_sample COMMAND sh ${CMAKE_SOURCE_DIR}/samples/charlm/run.sh --check)
set_tests_properties(charlm_sample PROPERTIES TIMEOUT 300
  ENVIRONMENT "TOSTC_BUILD=${CMAKE_BINARY_DIR};OUT=${CMAKE_BINARY_DIR}/charlm_sample")
