# Fails the build of a test binary one of whose Catch test case names contains ";": ctest's
# discovery (catch_discover_tests) splits such a name into two tests that match nothing and
# "pass" in no time, so the test case would silently never run. Run as a POST_BUILD step.
execute_process(COMMAND "${TEST_BIN}" --list-test-names-only
                OUTPUT_VARIABLE names RESULT_VARIABLE rc)
string(FIND "${names}" ";" at)
if(NOT at EQUAL -1)
  string(REPLACE ";" "<SEMICOLON>" shown "${names}")
  string(REGEX MATCHALL "[^\n]*<SEMICOLON>[^\n]*" bad "${shown}")
  message(FATAL_ERROR "${TEST_BIN}: test case names must not contain ';' (ctest would never run them): ${bad}")
endif()
