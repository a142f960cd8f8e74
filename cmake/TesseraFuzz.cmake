# The fuzz targets (fuzz/): built with clang as a separate project, and one ctest test per
# target that fuzzes for FUZZ_SECONDS from the seeds in fuzz/corpus/<target>. ON by default so
# that a machine without libFuzzer sees the tests fail with what to install.
option(TESSERA_FUZZ "build the libFuzzer targets (needs clang-14 and libclang-rt-14-dev) and test them" ON)
set(TESSERA_FUZZ_SECONDS 20 CACHE STRING "seconds each fuzz test runs")
if(NOT TESSERA_FUZZ OR NOT BUILD_TESTING)
  return()
endif()

find_program(TESSERA_CLANGXX NAMES clang++-14 clang++)
set(fuzz_build ${PROJECT_BINARY_DIR}/fuzz)
if(TESSERA_CLANGXX)
  include(ExternalProject)
  ExternalProject_Add(tessera_fuzz
    SOURCE_DIR ${PROJECT_SOURCE_DIR}/fuzz
    BINARY_DIR ${fuzz_build}
    CMAKE_ARGS -DCMAKE_CXX_COMPILER=${TESSERA_CLANGXX} -DCMAKE_BUILD_TYPE=RelWithDebInfo
    INSTALL_COMMAND ""
    BUILD_ALWAYS ON)
else()
  set(fuzz_build "")  # run_fuzz.cmake then reports that libFuzzer is missing
endif()

foreach(target assembler decoder chip_config)
  add_test(NAME fuzz_${target}
    COMMAND ${CMAKE_COMMAND} -DFUZZER=${fuzz_build}/fuzz_${target} -DSEEDS=${PROJECT_SOURCE_DIR}/fuzz/corpus/${target}
            -DWORK=${PROJECT_BINARY_DIR}/fuzz-work/${target} -DSECONDS=${TESSERA_FUZZ_SECONDS}
            -DFUZZ_BUILD=${fuzz_build} -P ${PROJECT_SOURCE_DIR}/fuzz/run_fuzz.cmake)
  set_tests_properties(fuzz_${target} PROPERTIES TIMEOUT 300 LABELS fuzz)
endforeach()
