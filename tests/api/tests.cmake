# ctest `api`: the generated code's contract (standalone C99 build, C++ caller,
# determinism, symbol prefixes, entry points agree).
add_test(NAME api COMMAND ${CMAKE_CURRENT_LIST_DIR}/check_api.sh $<TARGET_FILE:tostc>
         ${CMAKE_BINARY_DIR}/api_work)
