/*
 * unit.c -- the helpers of unit.h.  CUnit copies the failure text, so the
 * message may live on the stack and the context may be freed right after.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>

#include "unit.h"

void unit_fail_error(Ctx *c, const char *file, int line)
{
	char msg[2200];
	snprintf(msg, sizeof msg, "unexpected error: %s", c->errmsg);
	CU_assertImplementation(CU_FALSE, (unsigned)line, msg, file, "", CU_FALSE);
	ctx_free(c);
}
