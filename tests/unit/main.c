/*
 * main.c -- the CUnit runner for all unit suites listed in suites.def.
 * Exit status is nonzero when any test fails, and when a suite's setup (or
 * cleanup) fails: CUnit then skips the suite's tests without counting them
 * as failed.  With TOSTC_UNIT_FAILING_SETUP set, a suite whose setup always
 * fails is registered too (ctest units_setup_fail: the run must fail).
 * Last line: `units: N passed, N failed` (tests; a failed suite counts as one).
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>

#define SUITE(fn) void fn(void);
#include "suites.def"
#undef SUITE

static int failing_setup(void)
{
	return 1;
}

static void never_runs(void)
{
	CU_FAIL("a test of a suite whose setup failed ran");
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
#define SUITE(fn) fn();
#include "suites.def"
#undef SUITE
	if (getenv("TOSTC_UNIT_FAILING_SETUP")) {
		CU_pSuite s = CU_add_suite("failing setup (TOSTC_UNIT_FAILING_SETUP)", failing_setup, NULL);
		CU_add_test(s, "never runs", never_runs);
	}
	if (CU_get_error() != CUE_SUCCESS) {
		fprintf(stderr, "units: registering the suites failed: %s\n", CU_get_error_msg());
		CU_cleanup_registry();
		return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	unsigned tests_failed = CU_get_number_of_tests_failed();
	unsigned suites_failed = CU_get_number_of_suites_failed();
	unsigned passed = CU_get_number_of_tests_run() - tests_failed;
	if (suites_failed)
		printf("units: %u suite(s) failed to set up or clean up; a failed setup skips the suite's tests\n",
		       suites_failed);
	printf("units: %u passed, %u failed\n", passed, tests_failed + suites_failed);
	CU_cleanup_registry();
	return failed || suites_failed ? 1 : 0;
}
