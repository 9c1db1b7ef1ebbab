/*
 * main.c -- the CUnit runner for all unit suites listed in suites.def.
 * Exit status is nonzero when any test fails.
 */
#include <CUnit/Basic.h>
#include <stdio.h>

#define SUITE(fn) void fn(void);
#include "suites.def"
#undef SUITE

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
#define SUITE(fn) fn();
#include "suites.def"
#undef SUITE
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
