# TostcAddModel.cmake -- tostc_add_model(): a model file -> a static library
# of the C that tostc generates for it.
#
#   tostc_add_model(<target> MODEL <file> [NAME <prefix>] [DIMS k=v ...]
#                   [WEIGHTS embed|blob|extern] [OPENMP] [OPTIONS ...])
#
# <target> is a STATIC library of <prefix>.c (and, WEIGHTS blob, the
# <prefix>.weights.S that links <prefix>.weights), generated at build time
# into ${CMAKE_CURRENT_BINARY_DIR}/tostc/<target>/.  Linking it gives a
# consumer the include directory of <prefix>.h, libm, and with OPENMP the
# C compiler's OpenMP (OpenMP::OpenMP_C).
#
#   MODEL    a .onnx or .tost file, relative to CMAKE_CURRENT_SOURCE_DIR
#   NAME     the prefix of the generated API (default: <target>, made into
#            a C identifier): <prefix>_run, <PREFIX>_WORKSPACE_SIZE, ...
#   DIMS     --dim bindings, e.g. DIMS seq=1024 batch=1
#   WEIGHTS  tostc --weights (README: "Weights"); default embed
#   OPTIONS  any other tostc options, e.g. --no-fuse, --no-stream
#
# The sources are regenerated when the model changes, when any file tostc
# read for it changes (a .tost's .safetensors, ONNX external data: tostc
# --depfile lists them), when the tostc binary changes, and not otherwise.
# Properties of <target>: TOSTC_NAME (the prefix), TOSTC_WEIGHTS (the mode)
# and TOSTC_WEIGHTS_FILE (<prefix>.weights, the file an extern build's
# program loads; empty with embed).
#
# It needs the imported executable tostc::tostc: find_package(tostc) makes
# it, and so does add_subdirectory (or FetchContent) of tostc's source tree.
include_guard(GLOBAL)

# A function runs with the policies in force where it was defined: NEW
# CMP0116 (DEPFILE paths for Ninja in subdirectories), whatever the caller's.
cmake_policy(PUSH)
if(POLICY CMP0116)
  cmake_policy(SET CMP0116 NEW)
endif()

# A macro, so that enable_language(ASM) (WEIGHTS blob assembles a .S) takes
# effect in the caller's directory; the work is in _tostc_add_model.
macro(tostc_add_model target)
  cmake_parse_arguments(_tostc_arg "OPENMP" "MODEL;NAME;WEIGHTS" "DIMS;OPTIONS" ${ARGN})
  get_property(_tostc_languages GLOBAL PROPERTY ENABLED_LANGUAGES)
  if("${_tostc_arg_WEIGHTS}" STREQUAL "blob" AND NOT ASM IN_LIST _tostc_languages)
    enable_language(ASM)   # <name>.weights.S, assembled by the C compiler
  endif()
  unset(_tostc_languages)
  foreach(_tostc_v OPENMP MODEL NAME WEIGHTS DIMS OPTIONS UNPARSED_ARGUMENTS KEYWORDS_MISSING_VALUES)
    unset(_tostc_arg_${_tostc_v})
  endforeach()
  unset(_tostc_v)
  _tostc_add_model(${target} ${ARGN})
endmacro()

function(_tostc_add_model target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "OPENMP" "MODEL;NAME;WEIGHTS" "DIMS;OPTIONS")
  set(what "tostc_add_model(${target})")
  if(CMAKE_VERSION VERSION_LESS 3.20)
    message(FATAL_ERROR "${what}: needs CMake 3.20 or newer (DEPFILE with every generator)")
  endif()
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "${what}: unknown arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_MODEL)
    message(FATAL_ERROR "${what}: MODEL <file> is required")
  endif()
  if(NOT TARGET tostc::tostc)
    message(FATAL_ERROR "${what}: no tostc::tostc; call find_package(tostc CONFIG REQUIRED) "
                        "or add_subdirectory(<tostc source>) first")
  endif()
  if(NOT arg_WEIGHTS)
    set(arg_WEIGHTS embed)
  endif()
  if(NOT arg_WEIGHTS MATCHES "^(embed|blob|extern)$")
    message(FATAL_ERROR "${what}: WEIGHTS ${arg_WEIGHTS}: expected embed, blob or extern")
  endif()
  if(NOT arg_NAME)
    string(MAKE_C_IDENTIFIER "${target}" arg_NAME)
  endif()
  get_property(languages GLOBAL PROPERTY ENABLED_LANGUAGES)
  if(NOT C IN_LIST languages)
    message(FATAL_ERROR "${what}: the generated code is C: add C to your project's LANGUAGES")
  endif()

  get_filename_component(model "${arg_MODEL}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  set(dir "${CMAKE_CURRENT_BINARY_DIR}/tostc/${target}")
  set(out "${dir}/${arg_NAME}")
  set(outputs "${out}.c" "${out}.h")
  set(sources "${out}.c")
  set(weights_file "")
  if(NOT arg_WEIGHTS STREQUAL "embed")
    set(weights_file "${out}.weights")
    list(APPEND outputs "${weights_file}")
  endif()
  if(arg_WEIGHTS STREQUAL "blob")
    list(APPEND outputs "${out}.weights.S")
    list(APPEND sources "${out}.weights.S")
  endif()
  set(dims "")
  foreach(d IN LISTS arg_DIMS)
    list(APPEND dims --dim "${d}")
  endforeach()

  file(MAKE_DIRECTORY "${dir}")
  add_custom_command(
    OUTPUT ${outputs}
    COMMAND tostc::tostc "${model}" -o "${out}.c" --name "${arg_NAME}" --weights=${arg_WEIGHTS}
            ${dims} ${arg_OPTIONS} --depfile "${out}.d"
    DEPENDS "${model}" tostc::tostc "$<TARGET_FILE:tostc::tostc>"
    DEPFILE "${out}.d"
    COMMENT "tostc ${arg_MODEL} -> ${arg_NAME}.c (weights: ${arg_WEIGHTS})"
    VERBATIM)
  add_library(${target} STATIC ${sources})
  target_include_directories(${target} PUBLIC "$<BUILD_INTERFACE:${dir}>")
  if(NOT WIN32)
    target_link_libraries(${target} PUBLIC m)
  endif()
  if(arg_OPENMP)
    find_package(OpenMP REQUIRED COMPONENTS C)
    target_link_libraries(${target} PUBLIC OpenMP::OpenMP_C)
  endif()
  set_target_properties(${target} PROPERTIES
    LINKER_LANGUAGE C
    TOSTC_NAME "${arg_NAME}"
    TOSTC_WEIGHTS "${arg_WEIGHTS}"
    TOSTC_WEIGHTS_FILE "${weights_file}")
endfunction()

cmake_policy(POP)
