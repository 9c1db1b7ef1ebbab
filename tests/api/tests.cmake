# ctest `api`: the generated code's contract (standalone C99 build, C++ caller,
# determinism, symbol prefixes, entry points agree).
add_test(NAME api COMMAND ${CMAKE_CURRENT_LIST_DIR}/check_api.sh $<TARGET_FILE:tostc>
         ${CMAKE_BINARY_DIR}/api_work)

# ctest `weights`: --weights=embed|blob|extern give bitwise the same outputs
# (NAME_run_v, and the step API), with gcc and clang; a stale weights file is
# refused when model.weights.S is assembled; bad blobs in extern mode each
# give their error code (check_weights.sh, weights_run.c).
add_test(NAME weights COMMAND ${CMAKE_CURRENT_LIST_DIR}/check_weights.sh $<TARGET_FILE:tostc>
         ${CMAKE_BINARY_DIR}/weights_work)
set_tests_properties(weights PROPERTIES TIMEOUT 600)
