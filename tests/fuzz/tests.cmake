# Fuzz targets (tests/fuzz/fuzz_*.c): onnx, dsl, safetensors, cli, npz (tostc
# run's .npy/.npz reader and writer), names (random
# bytes in the strings of a valid model: the generated C must mean the same).
#
# Always: each target is built with standalone.c (no libFuzzer, any compiler)
# as fuzz_<t>_replay, and ctest `fuzz_regress_<t>` replays the committed
# seeds (tests/fuzz/seeds/<t>) and every input a fuzzer ever crashed on
# (tests/fuzz/regress/<t>) -- these must all be refused cleanly now.
#
# With -DTOSTC_FUZZ=ON and clang (libFuzzer): fuzz_<t> are libFuzzer binaries
# (ASan + UBSan, tostc_lib instrumented too, see the top CMakeLists.txt), and
# ctest `fuzz_<t>` runs each for TOSTC_FUZZ_SECONDS (default 30) from the
# seeds, with the dictionary tests/fuzz/<t>.dict (op, layer, key and option
# names).  scripts/fuzz.sh runs the long campaigns (docs/reliability.md).
set(FUZZ_TARGETS onnx dsl safetensors cli names npz)
set(FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR}/../fuzz)
set(TOSTC_FUZZ_SECONDS 30 CACHE STRING "seconds per fuzz target in the ctest run")
foreach(t ${FUZZ_TARGETS})
  add_executable(fuzz_${t}_replay ${FUZZ_DIR}/fuzz_${t}.c ${FUZZ_DIR}/standalone.c)
  target_link_libraries(fuzz_${t}_replay PRIVATE tostc_lib)
  target_compile_definitions(fuzz_${t}_replay PRIVATE TOSTC_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  file(MAKE_DIRECTORY ${FUZZ_DIR}/regress/${t})
  add_test(NAME fuzz_regress_${t}
    COMMAND fuzz_${t}_replay ${FUZZ_DIR}/seeds/${t} ${FUZZ_DIR}/regress/${t})
  set_tests_properties(fuzz_regress_${t} PROPERTIES TIMEOUT 600)
  if(TOSTC_FUZZ_ENABLED)
    add_executable(fuzz_${t} ${FUZZ_DIR}/fuzz_${t}.c)
    target_link_libraries(fuzz_${t} PRIVATE tostc_lib)
    target_compile_definitions(fuzz_${t} PRIVATE TOSTC_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
    target_link_options(fuzz_${t} PRIVATE -fsanitize=fuzzer)
    # a fresh corpus each run (seeds + regressions), so the run is repeatable
    add_test(NAME fuzz_${t}
      COMMAND sh -c "rm -rf \"$1\" && mkdir -p \"$1\" \"$1-crashes\" && exec \"$0\" -max_total_time=$2 -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=\"$1-crashes/\" -dict=\"$5\" \"$1\" \"$3\" \"$4\""
              $<TARGET_FILE:fuzz_${t}> ${CMAKE_BINARY_DIR}/fuzz_corpus/${t} ${TOSTC_FUZZ_SECONDS}
              ${FUZZ_DIR}/seeds/${t} ${FUZZ_DIR}/regress/${t} ${FUZZ_DIR}/${t}.dict)
    set_tests_properties(fuzz_${t} PROPERTIES TIMEOUT 300)
  endif()
endforeach()
