/*
 * unit.h -- what the unit suites share besides CUnit: reporting a user error
 * that a test did not expect.  A test that compiles something sets
 * `c.jmp = &jb` and continues only when `setjmp(jb) == 0`; an error longjmps
 * back, and the test reports it with FAIL_ERROR and returns:
 *
 *	if (setjmp(jb)) {
 *		FAIL_ERROR(&c);
 *		return;
 *	}
 */
#ifndef UNIT_H
#define UNIT_H

#include "tostc.h"

/* Fail the running test at this line with c's error message; free c. */
#define FAIL_ERROR(c) unit_fail_error((c), __FILE__, __LINE__)
void unit_fail_error(Ctx *c, const char *file, int line);

#endif
