/*
 * emit_step.c -- the step API of a causal model in the generated code.
 *
 * emit_c.c writes the step graph's nodes (stepN) and its entry point
 * NAME_step_v(W, in, out, workspace), with in = {token ids, &position} and
 * out = {the model's outputs at that position, one running-statistics
 * buffer per causal TSSA layer} (stream.c).  This file writes what the
 * caller sees: the macros and prototypes in NAME.h, and NAME_reset,
 * NAME_position, NAME_step and NAME_prefill, which lay the position and the
 * statistics out in one caller-owned state buffer (NAME_prefill runs the
 * step graph without the model's outputs, NAME_advance_v, for all tokens but
 * the last: only the statistics need to advance).  Each is a static function
 * that takes the weights W, and a public one that fetches them as the
 * weights mode says (emit_weights.c: NAME_step, or NAME_step_w in extern
 * mode).  The state:
 *
 *   offset 0: int64 position (the next token's index)
 *   offset state_off[i]: layer i's S_w, S_pw (d floats each), S_p (heads)
 *                        per batch row, 64-byte aligned
 */
#include "tostc.h"

#include <ctype.h>
#include <string.h>

static const char *upper(Ctx *c, const char *s)
{
	char *u = ctx_strdup(c, s);
	for (char *p = u; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	return u;
}

/* Parameter name of step output i: the tensor's name when it is a plain
 * identifier that clashes with nothing (text_ident leaves it as it is), else
 * out<i> (or out<i>_<k> when even that is taken). */
static const char *out_name(Ctx *c, const StreamInfo *s, const char *N, int i)
{
	static const char *const taken[] = {"state", "token", "tokens", "n", "workspace", "in",
	                                    "out", "s", "pos", "r", "i", "p", "W", "weights",
	                                    "weights_size", NULL};
	Graph *sg = s->step;
	int no = sg->noutputs - s->ntssa;
	const char **v = ctx_alloc(c, sizeof(char *) * (size_t)(i + 1));
	for (int j = 0; j <= i; j++) {
		const char *name = sg->outputs[j]->name;
		const char *id = text_ident(c, name, N), *cand = id;
		bool ok = strcmp(id, name) == 0 && strlen(name) < 40;
		for (int k = 0; ok && taken[k]; k++)
			ok = strcmp(taken[k], id) != 0;
		if (!ok)
			cand = ctx_printf(c, "out%d", j);
		for (int k = 2;; k++) {
			bool clash = false;
			for (int q = 0; q < j && !clash; q++)
				clash = strcmp(v[q], cand) == 0;
			for (int q = 0; q < no && !clash && !ok; q++)
				clash = strcmp(sg->outputs[q]->name, cand) == 0;
			if (!clash)
				break;
			cand = ctx_printf(c, "out%d_%d", j, k);
		}
		v[j] = cand;
	}
	return v[i];
}

/* The prototype of NAME_step or NAME_prefill: public (the weights fetched as
 * the mode says), or the static one that takes them, NAME_step_at. */
static void prototype(const StreamInfo *s, const EmitOptions *o, FILE *f, bool prefill,
                      bool internal)
{
	Graph *sg = s->step;
	Ctx *c = sg->ctx;
	const char *N = o->name;
	int no = sg->noutputs - s->ntssa;
	if (internal)
		fprintf(f, "static int %s_%s_at(const unsigned char *W, ", N, prefill ? "prefill" : "step");
	else
		fprintf(f, "int %s_%s%s(%s", N, prefill ? "prefill" : "step", weights_suffix(o),
		        weights_params(o));
	if (prefill)
		fprintf(f, "void *state, const %s *tokens, int64_t n, ", dtype_ctype(sg->inputs[0]->dtype));
	else
		fprintf(f, "void *state, const %s *token, ", dtype_ctype(sg->inputs[0]->dtype));
	for (int i = 0; i < no; i++)
		fprintf(f, "%s *%s, ", dtype_ctype(sg->outputs[i]->dtype), out_name(c, s, N, i));
	fputs("void *workspace)", f);
}

void emit_step_header(const StreamInfo *s, const EmitOptions *o, FILE *h)
{
	Graph *sg = s->step;
	Ctx *c = sg->ctx;
	const char *N = o->name, *U = upper(c, N);
	int no = sg->noutputs - s->ntssa;
	fprintf(h, "\n/*\n"
	           " * Step API (streaming generation).  The model is causal: its outputs at\n"
	           " * position t depend on tokens 0..t only, and it runs one token at a time\n"
	           " * from a fixed-size state instead of re-running the prefix: the position\n"
	           " * and, per causal TSSA layer (%d here), running statistics of 2 d + heads\n"
	           " * floats.  No KV cache; every step costs the same at any position.\n"
	           " *\n"
	           " *   %s_reset(state)      start a sequence at position 0\n"
	           " *   %s_step%s(%sstate, token, outputs.., workspace)\n"
	           " *       feed %s_STEP_TOKENS token id(s) (one per batch row) at the current\n"
	           " *       position t, write the outputs at t (row t of what %s_run gives for\n"
	           " *       the whole sequence) and advance to t + 1\n"
	           " *   %s_prefill%s(%sstate, tokens, n, outputs.., workspace)\n"
	           " *       n steps (tokens: n x %s_STEP_TOKENS ids); the outputs are the\n"
	           " *       last step's; n = 0 writes nothing\n"
	           " *   %s_position(state)   the position the next step takes\n"
	           " *\n"
	           " * Returns 0, or %s_ERR_FULL when the positions would pass %s_MAX_POSITIONS\n"
	           " * (the state is left unchanged), or -1 when workspace is NULL and the\n"
	           " * static workspace is compiled out%s.  state: %s_STATE_SIZE bytes, 8-byte\n"
	           " * aligned, owned by the caller, one per sequence (states are independent:\n"
	           " * any number of sequences may be generated at once, each with its own state\n"
	           " * and workspace).  workspace: %s_STEP_WORKSPACE_SIZE bytes, 64-byte\n"
	           " * aligned%s.\n"
	           " */\n",
	        s->ntssa, N, N, weights_suffix(o), o->weights == WEIGHTS_EXTERN ? "weights, size, " : "",
	        U, N, N, weights_suffix(o), o->weights == WEIGHTS_EXTERN ? "weights, size, " : "", U, N,
	        U, U, o->weights == WEIGHTS_EXTERN ? ", or a weights error" : "", U, U,
	        o->weights == WEIGHTS_EXTERN ? "" : ", or NULL for the static one (see above)");
	fprintf(h, "#define %s_STATE_SIZE %lld\n", U, (long long)s->state_size);
	int64_t ws = sg->arena_size > s->advance->arena_size ? sg->arena_size : s->advance->arena_size;
	fprintf(h, "#define %s_STEP_WORKSPACE_SIZE %lld\n", U, (long long)ws);
	fprintf(h, "#define %s_MAX_POSITIONS %lld\n", U, (long long)s->T);
	fprintf(h, "#define %s_STEP_TOKENS %lld\n", U, (long long)tensor_nelem(sg->inputs[0]));
	for (int i = 0; i < no; i++)
		fprintf(h, "#define %s_STEP_OUTPUT%d_SIZE %lld /* '%s' %s per step */\n", U, i,
		        (long long)tensor_nelem(sg->outputs[i]),
		        text_comment(c, text_short(c, sg->outputs[i]->name)),
		        tensor_shape_str(c, sg->outputs[i]));
	fprintf(h, "#define %s_ERR_FULL (-2)\n", U);
	fprintf(h, "void %s_reset(void *state);\n", N);
	fprintf(h, "int64_t %s_position(const void *state);\n", N);
	prototype(s, o, h, false, false);
	fputs(";\n", h);
	prototype(s, o, h, true, false);
	fputs(";\n", h);
}

void emit_step_api(const StreamInfo *s, const EmitOptions *o, const WeightBlob *b, FILE *f)
{
	Graph *sg = s->step;
	Ctx *c = sg->ctx;
	const char *N = o->name, *U = upper(c, N);
	int no = sg->noutputs - s->ntssa;

	fprintf(f, "\n/* state: int64 position at 0; the layers' statistics at");
	for (int i = 0; i < s->ntssa; i++)
		fprintf(f, " %lld", (long long)s->state_off[i]);
	fprintf(f, " */\nvoid %s_reset(void *state)\n{\n\tunsigned char *s = (unsigned char *)state;\n"
	           "\tfor (int64_t i = 0; i < %s_STATE_SIZE; i++)\n\t\ts[i] = 0;\n}\n\n",
	        N, U);
	fprintf(f, "int64_t %s_position(const void *state)\n{\n\treturn *(const int64_t *)state;\n}\n\n",
	        N);
	prototype(s, o, f, false, true);
	fprintf(f, "\n{\n\tunsigned char *s = (unsigned char *)state;\n"
	           "\tint64_t *pos = (int64_t *)state;\n\tint r;\n"
	           "\tif (*pos < 0 || *pos >= %s_MAX_POSITIONS)\n\t\treturn %s_ERR_FULL;\n",
	        U, U);
	fprintf(f, "\tconst void *in[2] = {token, pos};\n\tvoid *out[%d] = {", no + s->ntssa);
	for (int i = 0; i < no; i++)
		fprintf(f, "%s%s", i ? ", " : "", out_name(c, s, N, i));
	for (int i = 0; i < s->ntssa; i++)
		fprintf(f, "%ss + %lld", i || no ? ", " : "", (long long)s->state_off[i]);
	fprintf(f, "};\n\tr = %s_step_v(W, in, out, workspace);\n\tif (r == 0)\n\t\t*pos += 1;\n"
	           "\treturn r;\n}\n\n",
	        N);
	/* a step that computes only the statistics, for all but prefill's last token */
	fprintf(f, "static int %s_advance(const unsigned char *W, void *state, const %s *token,\n"
	           "\tvoid *workspace)\n{\n"
	           "\tunsigned char *s = (unsigned char *)state;\n"
	           "\tint64_t *pos = (int64_t *)state;\n\tint r;\n"
	           "\tconst void *in[2] = {token, pos};\n\tvoid *out[%d] = {",
	        N, dtype_ctype(sg->inputs[0]->dtype), s->ntssa ? s->ntssa : 1);
	for (int i = 0; i < s->ntssa; i++)
		fprintf(f, "%ss + %lld", i ? ", " : "", (long long)s->state_off[i]);
	fprintf(f, "%s};\n\t(void)s;\n\tr = %s_advance_v(W, in, out, workspace);\n\tif (r == 0)\n"
	           "\t\t*pos += 1;\n\treturn r;\n}\n\n",
	        s->ntssa ? "" : "0", N);
	prototype(s, o, f, true, true);
	fprintf(f, "\n{\n\tint64_t p = *(const int64_t *)state;\n"
	           "\tif (n < 0 || p < 0 || n > %s_MAX_POSITIONS - p)\n\t\treturn %s_ERR_FULL;\n"
	           "\tfor (int64_t i = 0; i + 1 < n; i++) {\n"
	           "\t\tint r = %s_advance(W, state, tokens + i * %s_STEP_TOKENS, workspace);\n"
	           "\t\tif (r)\n\t\t\treturn r;\n\t}\n"
	           "\tif (n == 0)\n\t\treturn 0;\n"
	           "\treturn %s_step_at(W, state, tokens + (n - 1) * %s_STEP_TOKENS, ",
	        U, U, N, U, N, U);
	for (int i = 0; i < no; i++)
		fprintf(f, "%s, ", out_name(c, s, N, i));
	fputs("workspace);\n}\n\n", f);

	/* the public functions: the weights, then the static ones */
	for (int prefill = 0; prefill < 2; prefill++) {
		prototype(s, o, f, prefill, false);
		fputs("\n{\n", f);
		emit_weights_fetch(o, b, f);
		fprintf(f, "\treturn %s_%s_at(W, state, %s", N, prefill ? "prefill" : "step",
		        prefill ? "tokens, n, " : "token, ");
		for (int i = 0; i < no; i++)
			fprintf(f, "%s, ", out_name(c, s, N, i));
		fputs("workspace);\n}\n\n", f);
	}
}
