# Runs one fuzz target for a bounded time from its committed seeds (ctest; see
# cmake/TesseraFuzz.cmake). Fails with a message when libFuzzer is missing, when the target is
# not built, or when the target finds a crash (the input is kept under WORK).
# Variables: FUZZER (executable), SEEDS (seed folder), WORK (scratch folder), SECONDS,
# FUZZ_BUILD (the fuzz project's build folder).
if(EXISTS ${FUZZ_BUILD}/libfuzzer-missing OR NOT FUZZ_BUILD)
  message(FATAL_ERROR "libFuzzer is not available: install clang-14 and libclang-rt-14-dev, then reconfigure")
endif()
if(NOT EXISTS ${FUZZER})
  message(FATAL_ERROR "${FUZZER} is not built: run `cmake --build <build> --target tessera_fuzz`")
endif()
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/corpus)
execute_process(COMMAND ${FUZZER} ${WORK}/corpus ${SEEDS} -max_total_time=${SECONDS} -timeout=10 -rss_limit_mb=2048
                        -artifact_prefix=${WORK}/ -print_final_stats=1
                RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
string(LENGTH "${output}" length)
if(length GREATER 4000)
  math(EXPR start "${length} - 4000")
  string(SUBSTRING "${output}" ${start} 4000 output)
endif()
message("${output}")
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${FUZZER} found a failing input (exit ${result}); it is saved under ${WORK}")
endif()
