/*
 * unit.h -- what the unit suites share besides CUnit: checks that print both
 * values, and reporting a user error that a test did not expect.  A test
 * that compiles something sets `c.jmp = &jb` and continues only when
 * `setjmp(jb) == 0`; an error longjmps back, and the test reports it with
 * FAIL_ERROR and returns:
 *
 *	if (setjmp(jb)) {
 *		FAIL_ERROR(&c);
 *		return;
 *	}
 */
#ifndef UNIT_H
#define UNIT_H

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tostc.h"

/* Assert |got - want| <= tol (NaN fails), got == want as integers, or that
 * message got contains want; on failure print the expression and both values. */
#define CHECK_F(got, want, tol)                                                      \
	do {                                                                         \
		double g_ = (got), w_ = (want);                                      \
		if (!(fabs(g_ - w_) <= (tol)))                                       \
			fprintf(stderr, "\n  %s = %.9g, want %.9g\n", #got, g_, w_); \
		CU_ASSERT(fabs(g_ - w_) <= (tol));                                   \
	} while (0)
#define CHECK_I(got, want)                                                           \
	do {                                                                         \
		long long g_ = (long long)(got), w_ = (long long)(want);             \
		if (g_ != w_)                                                        \
			fprintf(stderr, "\n  %s = %lld, want %lld\n", #got, g_, w_);  \
		CU_ASSERT_EQUAL(g_, w_);                                             \
	} while (0)
#define CHECK_MSG(got, want)                                                         \
	do {                                                                         \
		const char *g_ = (got);                                              \
		if (!strstr(g_, want))                                               \
			fprintf(stderr, "\n  error '%s'\n  lacks '%s'\n", g_, want);   \
		CU_ASSERT_PTR_NOT_NULL(strstr(g_, want));                            \
	} while (0)

/* Fail the running test at this line with c's error message; free c. */
#define FAIL_ERROR(c) unit_fail_error((c), __FILE__, __LINE__)
void unit_fail_error(Ctx *c, const char *file, int line);

#endif
