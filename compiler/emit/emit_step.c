/*
 * emit_step.c -- the step API of a causal model in the generated code.
 *
 * emit_c.c writes the entry point of each of the step API's graphs
 * (stream.c, tostc.h StreamForm), NAME_<form>_v(W, in, out, workspace), with
 * in = {token ids (B, rows), positions (rows)[, valid rows]} and out = {the
 * model's outputs at the rows, one running-statistics buffer per causal TSSA
 * layer}.  This file writes what the caller sees: the macros and prototypes
 * in NAME.h, and the functions that lay the position and the statistics out
 * in one caller-owned state buffer and fill the graphs' inputs:
 *
 *   NAME_reset, NAME_position
 *   NAME_step         FORM_STEP on the caller's state
 *   NAME_prefill      the tokens but the last in chunks (FORM_CHUNK_ADVANCE;
 *                     a short last chunk token by token, FORM_ADVANCE), then
 *                     NAME_step for the last
 *   NAME_prefill_all  every token in chunks (FORM_CHUNK), the outputs of each
 *                     position copied out
 *   NAME_step_batch   the FORM_BATCH graph of the fewest rows that holds the
 *                     sequences, on copies of their statistics
 *
 * Each is a static function NAME_<api>_at that takes the weights W, and a
 * public one that fetches them as the weights mode says (emit_weights.c:
 * NAME_step, or NAME_step_w in extern mode) and calls it.
 *
 * The state, one per sequence:
 *
 *   offset 0: int64 position (the next token's index)
 *   offset state_off[i]: layer i's S_w, S_pw (d floats each), S_p (heads)
 *                        per batch row, 64-byte aligned
 *
 * The workspaces of NAME_prefill* and NAME_step_batch hold their graphs'
 * arena and then the graphs' inputs and outputs (stream.c, layout).
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

const char *emit_step_title(const StreamInfo *s, int i, const char *N)
{
	static const char *const title[FORM_COUNT] = {
		"one token at the position the state holds (%s_step)",
		"the same without the outputs: only the statistics advance",
		"a chunk of consecutive tokens of one sequence (%s_prefill_all)",
		"the same without the outputs (%s_prefill)",
		"one token each of %lld sequences (%s_step_batch)",
	};
	const StreamGraph *sg = &s->graph[i];
	Ctx *c = sg->g->ctx;
	if (sg->form == FORM_BATCH)
		return ctx_printf(c, title[FORM_BATCH], (long long)sg->rows, N);
	return ctx_printf(c, title[sg->form], N);
}

int64_t emit_step_workspace(const StreamInfo *s)
{
	int64_t w = s->step_ws;
	w = s->prefill.size > w ? s->prefill.size : w;
	return s->batch.size > w ? s->batch.size : w;
}

static int noutputs(const StreamInfo *s)
{
	return s->graph[FORM_STEP].g->noutputs - s->ntssa;
}

/* Parameter name of step output i: the tensor's name when it is a plain
 * identifier that clashes with nothing (text_ident leaves it as it is), else
 * out<i> (or out<i>_<k> when even that is taken). */
static const char *out_name(Ctx *c, const StreamInfo *s, const char *N, int i)
{
	/* the other parameters and the locals of the functions that take them */
	static const char *const taken[] = {
		"state", "states", "token", "tokens", "n", "workspace", "in", "out", "outs", "s",
		"pos", "p", "r", "i", "m", "q", "x", "l", "e", "ws", "ids", "rows", "count", "who",
		"full", "src", "dst", "sr", "st_off", "st_ws", "st_n", "nr", "W", "weights",
		"weights_size", NULL};
	Graph *sg = s->graph[FORM_STEP].g;
	int no = noutputs(s);
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

/* The output parameters, "float *logits, " each. */
static void out_params(const StreamInfo *s, const char *N, FILE *f)
{
	Graph *sg = s->graph[FORM_STEP].g;
	for (int i = 0; i < noutputs(s); i++)
		fprintf(f, "%s *%s, ", dtype_ctype(sg->outputs[i]->dtype),
		        out_name(sg->ctx, s, N, i));
}

/* The output arguments, ", logits" each (after what comes before). */
static void out_args(const StreamInfo *s, const char *N, FILE *f)
{
	for (int i = 0; i < noutputs(s); i++)
		fprintf(f, ", %s", out_name(s->graph[FORM_STEP].g->ctx, s, N, i));
}

/* the functions that take the outputs */
typedef enum { API_STEP, API_PREFILL, API_PREFILL_ALL, API_BATCH } Api;

static const char *const api_name[] = {"step", "prefill", "prefill_all", "step_batch"};

/* The prototype of a function of the step API: the public one (the weights
 * fetched as the mode says), or the static one that takes them, NAME_<api>_at. */
static void prototype(const StreamInfo *s, const EmitOptions *o, FILE *f, Api api, bool internal)
{
	const char *N = o->name, *ids = dtype_ctype(s->graph[FORM_STEP].g->inputs[0]->dtype);
	if (internal)
		fprintf(f, "static int %s_%s_at(const unsigned char *W, ", N, api_name[api]);
	else
		fprintf(f, "int %s_%s%s(%s", N, api_name[api], weights_suffix(o), weights_params(o));
	switch (api) {
	case API_STEP:
		fprintf(f, "void *state, const %s *token, ", ids);
		break;
	case API_PREFILL:
	case API_PREFILL_ALL:
		fprintf(f, "void *state, const %s *tokens, int64_t n, ", ids);
		break;
	case API_BATCH:
		fprintf(f, "void *const *states, const %s *tokens, int64_t n, ", ids);
		break;
	}
	out_params(s, N, f);
	fputs("void *workspace)", f);
}

void emit_step_header(const StreamInfo *s, const EmitOptions *o, FILE *h)
{
	Graph *sg = s->graph[FORM_STEP].g;
	Ctx *c = sg->ctx;
	const char *N = o->name, *U = upper(c, N), *sx = weights_suffix(o);
	bool ext = o->weights == WEIGHTS_EXTERN;
	const char *wa = ext ? "weights, size, " : "";
	fprintf(h, "\n/*\n"
	           " * Step API (streaming generation).  The model is causal: its outputs at\n"
	           " * position t depend on tokens 0..t only, and it runs one token at a time\n"
	           " * from a fixed-size state instead of re-running the prefix: the position\n"
	           " * and, per causal TSSA layer (%d here), running statistics of 2 d + heads\n"
	           " * floats.  No KV cache; every step costs the same at any position.\n"
	           " *\n"
	           " *   %s_reset(state)      start a sequence at position 0\n"
	           " *   %s_position(state)   the position the next step takes\n"
	           " *   %s_step%s(%sstate, token, outputs.., workspace)\n"
	           " *       feed %s_STEP_TOKENS token id(s) (one per batch row) at the current\n"
	           " *       position t, write the outputs at t (row t of what %s_run gives for\n"
	           " *       the whole sequence) and advance to t + 1\n",
	        s->ntssa, N, N, N, sx, wa, U, N);
	fprintf(h, " *   %s_prefill%s(%sstate, tokens, n, outputs.., workspace)\n"
	           " *       feed n tokens (tokens: n x %s_STEP_TOKENS ids) from the current\n"
	           " *       position, %s_PREFILL_CHUNK at a time through the whole-sequence\n"
	           " *       kernels (GEMMs over the chunk); the state ends as n steps would\n"
	           " *       leave it, to float rounding; the outputs are the last position's;\n"
	           " *       n = 0 writes nothing\n"
	           " *   %s_prefill_all%s(%sstate, tokens, n, outputs.., workspace)\n"
	           " *       the same, writing the outputs of all n positions: output i gets\n"
	           " *       n x %s_STEP_OUTPUTi_SIZE values, position after position (to\n"
	           " *       score a text: log-likelihoods, perplexity)\n",
	        N, sx, wa, U, U, N, sx, wa, U);
	fprintf(h, " *   %s_step_batch%s(%sstates, tokens, n, outputs.., workspace)\n"
	           " *       one step of each of n independent sequences, each at its own\n"
	           " *       position: sequence i has the state states[i] (distinct states),\n"
	           " *       the token id(s) at tokens + i x %s_STEP_TOKENS and its outputs at\n"
	           " *       output + i x %s_STEP_OUTPUTi_SIZE; %s_STEP_BATCH sequences at a\n"
	           " *       time share the GEMMs (any n works).  A sequence already at\n"
	           " *       %s_MAX_POSITIONS is skipped, its state and outputs untouched,\n"
	           " *       the others are stepped, and the call returns %s_ERR_FULL\n"
	           " *\n",
	        N, sx, wa, U, U, U, U, U);
	fprintf(h, " * Returns 0, or %s_ERR_FULL when the positions would pass %s_MAX_POSITIONS\n"
	           " * (the state is left unchanged), or -1 when workspace is NULL and the\n"
	           " * static workspace is compiled out%s.  state: %s_STATE_SIZE bytes, 8-byte\n"
	           " * aligned, owned by the caller, one per sequence (states are independent:\n"
	           " * any number of sequences may be generated at once, each with its own state\n"
	           " * and workspace).  workspace: 64-byte aligned, %s_STEP_WORKSPACE_SIZE\n"
	           " * bytes for any of these functions (or the size of the one called,\n"
	           " * below)%s.\n"
	           " */\n",
	        U, U, ext ? ", or a weights error" : "", U, U,
	        ext ? "" : ", or NULL for the static one (see above)");
	fprintf(h, "#define %s_STATE_SIZE %lld\n", U, (long long)s->state_size);
	fprintf(h, "#define %s_STEP_WORKSPACE_SIZE %lld /* any function of the step API */\n", U,
	        (long long)emit_step_workspace(s));
	fprintf(h, "#define %s_STEP_ONLY_WORKSPACE_SIZE %lld /* %s_step alone */\n", U,
	        (long long)s->step_ws, N);
	fprintf(h, "#define %s_PREFILL_WORKSPACE_SIZE %lld /* %s_prefill, %s_prefill_all */\n", U,
	        (long long)s->prefill.size, N, N);
	fprintf(h, "#define %s_BATCH_WORKSPACE_SIZE %lld /* %s_step_batch */\n", U,
	        (long long)s->batch.size, N);
	fprintf(h, "#define %s_PREFILL_CHUNK %lld /* tokens per chunk of %s_prefill */\n", U,
	        (long long)s->graph[FORM_CHUNK].rows, N);
	fprintf(h, "#define %s_STEP_BATCH %lld /* sequences per pass of %s_step_batch */\n", U,
	        (long long)s->batch_rows, N);
	fprintf(h, "#define %s_MAX_POSITIONS %lld\n", U, (long long)s->T);
	fprintf(h, "#define %s_STEP_TOKENS %lld\n", U, (long long)tensor_nelem(sg->inputs[0]));
	for (int i = 0; i < noutputs(s); i++)
		fprintf(h, "#define %s_STEP_OUTPUT%d_SIZE %lld /* '%s' %s per step */\n", U, i,
		        (long long)tensor_nelem(sg->outputs[i]),
		        text_comment(c, text_short(c, sg->outputs[i]->name)),
		        tensor_shape_str(c, sg->outputs[i]));
	fprintf(h, "#define %s_ERR_FULL (-2)\n", U);
	fprintf(h, "void %s_reset(void *state);\n", N);
	fprintf(h, "int64_t %s_position(const void *state);\n", N);
	for (Api a = API_STEP; a <= API_BATCH; a++) {
		prototype(s, o, h, a, false);
		fputs(";\n", h);
	}
}

/* ---- the functions ---- */

typedef struct {
	const StreamInfo *s;
	const char *N, *U;
	FILE *f;
	Ctx *c;
	int no;              /* the model's outputs */
	const char *ids;     /* the C type of token ids */
	const EmitOptions *o;
} Writer;

/* `void *out[] = {the graph's outputs in the workspace, then the layers'
 * statistics at base + offsets}` of form f */
static void out_array(Writer *a, const StreamWs *w, const char *base, const int64_t *off)
{
	FILE *f = a->f;
	fprintf(f, "\tvoid *out[%d] = {", a->no + a->s->ntssa);
	for (int i = 0; i < a->no; i++)
		fprintf(f, "%sws + %lld", i ? ", " : "", (long long)w->out[i]);
	for (int i = 0; i < a->s->ntssa; i++)
		fprintf(f, "%s%s + %lld", i || a->no ? ", " : "", base, (long long)off[i]);
	fputs("};\n", f);
}

/* Copy output o of rows 0..m-1 of a graph (in the workspace: its token axis
 * has R rows, a C expression) to the caller's output, row r to position
 * `dst`: each position's value is U_STEP_OUTPUTo_SIZE elements, (outer,
 * inner) around the token axis; an output without one is the same for every
 * row. */
static void copy_out(Writer *a, const char *R, const StreamWs *w, int o, const char *dst,
                     const char *ind)
{
	const StreamInfo *s = a->s;
	Tensor *t = s->graph[FORM_STEP].g->outputs[o];
	int ax = s->out_axis[o];
	long long outer = 1, inner = tensor_nelem(t);
	const char *ct = dtype_ctype(t->dtype), *from, *to;
	for (int i = 0; i < ax; i++)
		outer *= t->dims[i];
	inner /= outer;
	if (outer == 1) {
		to = ctx_printf(a->c, "%s * %lld + x", dst, inner);
		from = ax < 0 ? "x" : ctx_printf(a->c, "r * %lld + x", inner);
	} else {
		to = ctx_printf(a->c, "(%s * %lld + q) * %lld + x", dst, outer, inner);
		from = ctx_printf(a->c, "(q * %s + r) * %lld + x", R, inner);
	}
	fprintf(a->f, "%sfor (r = 0; r < m; r++)\n", ind);
	if (outer > 1)
		fprintf(a->f, "%s\tfor (q = 0; q < %lld; q++)\n", ind, outer);
	fprintf(a->f, "%s%s\tfor (x = 0; x < %lld; x++)\n", ind, outer > 1 ? "\t" : "", inner);
	fprintf(a->f, "%s%s\t\t((%s *)outs[%d])[%s] =\n%s%s\t\t\t((const %s *)(ws + %lld))[%s];\n",
	        ind, outer > 1 ? "\t" : "", ct, o, to, ind, outer > 1 ? "\t" : "", ct,
	        (long long)w->out[o], from);
}

/* Whether the copies of the outputs and ids loop over q: the batch rows of
 * the ids, or what comes before an output's token axis. */
static bool uses_q(const Writer *a)
{
	const StreamInfo *s = a->s;
	bool q = s->B > 1;
	for (int o = 0; o < a->no; o++) {
		Tensor *t = s->graph[FORM_STEP].g->outputs[o];
		for (int i = 0; i < s->out_axis[o]; i++)
			q |= t->dims[i] > 1;
	}
	return q;
}

/* `ids[b * R + r] = row r < m ? sequence row's token : 0` for every batch
 * row b (R: a C expression) */
static void fill_ids(Writer *a, const char *R, const char *tok, const char *ind)
{
	int64_t B = a->s->B;
	if (B == 1)
		fprintf(a->f, "%sids[r] = r < m ? tokens[%s] : 0;\n", ind, tok);
	else
		fprintf(a->f, "%sfor (q = 0; q < %lld; q++)\n%s\tids[q * %s + r] = r < m ? "
		              "tokens[(%s) * %lld + q] : 0;\n",
		        ind, (long long)B, ind, R, tok, (long long)B);
}

static void emit_reset_step(Writer *a)
{
	const StreamInfo *s = a->s;
	FILE *f = a->f;
	const char *N = a->N, *U = a->U;
	fprintf(f, "\n/* ---- the step API ---- */\n\n"
	           "/* state: int64 position at 0; the layers' statistics at");
	for (int i = 0; i < s->ntssa; i++)
		fprintf(f, " %lld", (long long)s->state_off[i]);
	fprintf(f, " */\nvoid %s_reset(void *state)\n{\n\tunsigned char *s = (unsigned char *)state;\n"
	           "\tfor (int64_t i = 0; i < %s_STATE_SIZE; i++)\n\t\ts[i] = 0;\n}\n\n",
	        N, U);
	fprintf(f, "int64_t %s_position(const void *state)\n{\n\treturn *(const int64_t *)state;\n}\n\n",
	        N);
	fprintf(f, "/* the caller's workspace, or the static one (NULL when compiled out) */\n"
	           "static unsigned char *%s_workspace(void *workspace)\n{\n"
	           "#ifndef %s_NO_STATIC_WORKSPACE\n\tif (!workspace)\n\t\treturn static_workspace.bytes;\n"
	           "#endif\n\treturn (unsigned char *)workspace;\n}\n\n",
	        N, U);
	prototype(s, a->o, f, API_STEP, true);
	fprintf(f, "\n{\n\tunsigned char *s = (unsigned char *)state;\n"
	           "\tint64_t *pos = (int64_t *)state;\n\tint r;\n"
	           "\tif (*pos < 0 || *pos >= %s_MAX_POSITIONS)\n\t\treturn %s_ERR_FULL;\n",
	        U, U);
	fprintf(f, "\tconst void *in[2] = {token, pos};\n\tvoid *out[%d] = {", a->no + s->ntssa);
	for (int i = 0; i < a->no; i++)
		fprintf(f, "%s%s", i ? ", " : "", out_name(a->c, s, N, i));
	for (int i = 0; i < s->ntssa; i++)
		fprintf(f, "%ss + %lld", i || a->no ? ", " : "", (long long)s->state_off[i]);
	fprintf(f, "};\n\tr = %s_step_v(W, in, out, workspace);\n\tif (r == 0)\n\t\t*pos += 1;\n"
	           "\treturn r;\n}\n\n",
	        N);
	/* a step that computes only the statistics, for a prefill's short tail */
	fprintf(f, "static int %s_advance(const unsigned char *W, void *state, const %s *token,\n"
	           "\tvoid *workspace)\n{\n"
	           "\tunsigned char *s = (unsigned char *)state;\n"
	           "\tint64_t *pos = (int64_t *)state;\n\tint r;\n"
	           "\tconst void *in[2] = {token, pos};\n\tvoid *out[%d] = {",
	        N, a->ids, s->ntssa ? s->ntssa : 1);
	for (int i = 0; i < s->ntssa; i++)
		fprintf(f, "%ss + %lld", i ? ", " : "", (long long)s->state_off[i]);
	fprintf(f, "%s};\n\t(void)s;\n\tr = %s_advance_v(W, in, out, workspace);\n\tif (r == 0)\n"
	           "\t\t*pos += 1;\n\treturn r;\n}\n\n",
	        s->ntssa ? "" : "0", N);
}

/* N_chunks: n tokens from the state's position through the chunk graphs */
static void emit_chunks(Writer *a)
{
	const StreamInfo *s = a->s;
	const StreamWs *w = &s->prefill;
	FILE *f = a->f;
	const char *N = a->N, *U = a->U;
	int64_t C = s->graph[FORM_CHUNK].rows;
	const char *Cs = ctx_printf(a->c, "%lld", (long long)C);
	fprintf(f, "/*\n * n tokens (the caller checked that they fit) from the state's position, in\n"
	           " * chunks of %lld through %s_chunk_v, which writes the outputs of every\n"
	           " * position to outs[o] + position x %s_STEP_OUTPUTo_SIZE, or, with outs NULL,\n"
	           " * %s_chunk_advance_v, which only advances the statistics.  A last chunk of\n"
	           " * fewer than %lld tokens goes token by token: a chunk costs about as much.\n"
	           " * workspace: the chunk graphs' arena, token ids (%lld, %lld) at %lld,\n"
	           " * positions at %lld, the count of tokens at %lld, the outputs from %lld.\n */\n",
	        (long long)C, N, U, N, (long long)s->tail, (long long)s->B, (long long)C,
	        (long long)w->ids, (long long)w->pos, (long long)w->count,
	        (long long)(a->no ? w->out[0] : w->count + 64));
	fprintf(f, "static int %s_chunks(const unsigned char *W, void *state, const %s *tokens, int64_t n,\n"
	           "\tvoid *const *outs, unsigned char *ws)\n{\n"
	           "\tunsigned char *s = (unsigned char *)state;\n"
	           "\tint64_t *pos = (int64_t *)state;\n"
	           "\t%s *ids = (%s *)(ws + %lld);\n"
	           "\tint64_t *rows = (int64_t *)(ws + %lld), *count = (int64_t *)(ws + %lld);\n"
	           "\tconst void *in[3] = {ids, rows, count};\n",
	        N, a->ids, a->ids, a->ids, (long long)w->ids, (long long)w->pos, (long long)w->count);
	out_array(a, w, "s", s->state_off);
	fprintf(f, "\tfor (int64_t i = 0; i < n;) {\n"
	           "\t\tint64_t m = n - i < %lld ? n - i : %lld, r%s%s;\n\t\tint e;\n"
	           "\t\tif (m < %lld) {   /* token by token */\n"
	           "\t\t\tfor (; i < n; i++) {\n"
	           "\t\t\t\te = !outs ? %s_advance(W, state, tokens + i * %s_STEP_TOKENS, ws)\n"
	           "\t\t\t\t          : %s_step_at(W, state, tokens + i * %s_STEP_TOKENS",
	        (long long)C, (long long)C, uses_q(a) ? ", q" : "", a->no ? ", x" : "",
	        (long long)s->tail, N, U, N, U);
	for (int o = 0; o < a->no; o++)
		fprintf(f, ",\n\t\t\t\t                     (%s *)outs[%d] + i * %s_STEP_OUTPUT%d_SIZE",
		        dtype_ctype(s->graph[FORM_STEP].g->outputs[o]->dtype), o, U, o);
	fprintf(f, ", ws);\n\t\t\t\tif (e)\n\t\t\t\t\treturn e;\n\t\t\t}\n\t\t\tbreak;\n\t\t}\n"
	           "\t\tfor (r = 0; r < %lld; r++) {\n\t\t\trows[r] = *pos + r;\n",
	        (long long)C);
	fill_ids(a, Cs, "i + r", "\t\t\t");
	fprintf(f, "\t\t}\n\t\t*count = m;\n"
	           "\t\te = outs ? %s_chunk_v(W, in, out, ws) : %s_chunk_advance_v(W, in, out + %d, ws);\n"
	           "\t\tif (e)\n\t\t\treturn e;\n"
	           "\t\tif (outs) {\n",
	        N, N, a->no);
	for (int o = 0; o < a->no; o++)
		copy_out(a, Cs, w, o, "(i + r)", "\t\t\t");
	fprintf(f, "\t\t}\n\t\t*pos += m;\n\t\ti += m;\n\t}\n\treturn 0;\n}\n\n");
}

static void emit_prefill(Writer *a, Api api)
{
	const StreamInfo *s = a->s;
	FILE *f = a->f;
	const char *N = a->N, *U = a->U;
	prototype(s, a->o, f, api, true);
	fprintf(f, "\n{\n\tunsigned char *ws = %s_workspace(workspace);\n"
	           "\tint64_t p = *(const int64_t *)state;\n", N);
	if (api == API_PREFILL)
		fputs("\tint e;\n", f);
	else {
		fprintf(f, "\tvoid *outs[%d] = {", a->no ? a->no : 1);
		for (int i = 0; i < a->no; i++)
			fprintf(f, "%s%s", i ? ", " : "", out_name(a->c, s, N, i));
		fprintf(f, "%s};\n", a->no ? "" : "0");
	}
	fprintf(f, "\tif (n < 0 || p < 0 || n > %s_MAX_POSITIONS - p)\n\t\treturn %s_ERR_FULL;\n"
	           "\tif (n == 0)\n\t\treturn 0;\n\tif (!ws)\n\t\treturn -1;\n",
	        U, U);
	if (api == API_PREFILL_ALL) {
		fprintf(f, "\treturn %s_chunks(W, state, tokens, n, outs, ws);\n}\n\n", N);
		return;
	}
	fprintf(f, "\tif ((e = %s_chunks(W, state, tokens, n - 1, 0, ws)))\n\t\treturn e;\n"
	           "\treturn %s_step_at(W, state, tokens + (n - 1) * %s_STEP_TOKENS",
	        N, N, U);
	out_args(s, N, f);
	fputs(", ws);\n}\n\n", f);
}

/* N_step_batch for --step-batch 1: one step after the other */
static void emit_batch_steps(Writer *a)
{
	FILE *f = a->f;
	const char *N = a->N, *U = a->U;
	prototype(a->s, a->o, f, API_BATCH, true);
	fprintf(f, "\n{\n\tunsigned char *ws = %s_workspace(workspace);\n\tint full = 0;\n"
	           "\tif (n < 0)\n\t\treturn %s_ERR_FULL;\n\tif (!ws)\n\t\treturn -1;\n"
	           "\tfor (int64_t i = 0; i < n; i++) {\n"
	           "\t\tint64_t p = *(const int64_t *)states[i];\n\t\tint e;\n"
	           "\t\tif (p < 0 || p >= %s_MAX_POSITIONS) {\n\t\t\tfull = 1;\n\t\t\tcontinue;\n\t\t}\n"
	           "\t\tif ((e = %s_step_at(W, states[i], tokens + i * %s_STEP_TOKENS",
	        N, U, U, N, U);
	for (int o = 0; o < a->no; o++)
		fprintf(f, ",\n\t\t                     %s + i * %s_STEP_OUTPUT%d_SIZE",
		        out_name(a->c, a->s, N, o), U, o);
	fprintf(f, ", ws)))\n\t\t\treturn e;\n\t}\n\treturn full ? %s_ERR_FULL : 0;\n}\n", U);
}

static void emit_batch(Writer *a)
{
	const StreamInfo *s = a->s;
	const StreamWs *w = &s->batch;
	FILE *f = a->f;
	const char *N = a->N, *U = a->U;
	int64_t R = s->batch_rows;
	int nt = s->ntssa ? s->ntssa : 1;
	if (s->ngraphs == FORM_BATCH) {
		emit_batch_steps(a);
		return;
	}
	fprintf(f, "/*\n * %lld sequences at a time, through the batch graph of the fewest rows\n"
	           " * that holds them (one sequence: a step).  workspace: the batch graphs'\n"
	           " * arena, token ids (%lld, rows) at %lld, positions at %lld, the outputs,\n"
	           " * then each layer's statistics of the rows' sequences (copied from and back\n"
	           " * to their states).\n */\n",
	        (long long)R, (long long)s->B, (long long)w->ids, (long long)w->pos);
	prototype(s, a->o, f, API_BATCH, true);
	fprintf(f, "\n{\n\t/* each layer's statistics: offset in a state, in the workspace; floats */\n");
	fprintf(f, "\tstatic const int64_t st_off[%d] = {", nt);
	for (int i = 0; i < nt; i++)
		fprintf(f, "%s%lld", i ? ", " : "", (long long)(s->ntssa ? s->state_off[i] : 0));
	fprintf(f, "}, st_ws[%d] = {", nt);
	for (int i = 0; i < nt; i++)
		fprintf(f, "%s%lld", i ? ", " : "", (long long)(s->ntssa ? w->state[i] : 0));
	fprintf(f, "}, st_n[%d] = {", nt);
	for (int i = 0; i < nt; i++)
		fprintf(f, "%s%lld", i ? ", " : "",
		        (long long)(s->ntssa ? tensor_nelem(s->graph[FORM_STEP].g->outputs[a->no + i])
		                             : 0));
	fprintf(f, "};\n\tunsigned char *ws = %s_workspace(workspace);\n\tint64_t who[%lld];\n"
	           "\tint full = 0;\n\tif (n < 0)\n\t\treturn %s_ERR_FULL;\n"
	           "\tif (!ws)\n\t\treturn -1;\n"
	           "\t%s *ids = (%s *)(ws + %lld);\n\tint64_t *rows = (int64_t *)(ws + %lld);\n"
	           "\tconst void *in[2] = {ids, rows};\n",
	        N, (long long)R, U, a->ids, a->ids, (long long)w->ids, (long long)w->pos);
	out_array(a, w, "ws", w->state);
	fprintf(f, "\tvoid *outs[%d] = {", a->no ? a->no : 1);
	for (int i = 0; i < a->no; i++)
		fprintf(f, "%s%s", i ? ", " : "", out_name(a->c, s, N, i));
	fprintf(f, "%s};\n"
	           "\tfor (int64_t i = 0; i < n;) {\n"
	           "\t\tint64_t m = 0, nr, r, %sx, l;\n\t\tint e;\n"
	           "\t\tfor (; i < n && m < %lld; i++) {   /* the next sequences with room */\n"
	           "\t\t\tint64_t p = *(const int64_t *)states[i];\n"
	           "\t\t\tif (p < 0 || p >= %s_MAX_POSITIONS)\n\t\t\t\tfull = 1;\n"
	           "\t\t\telse\n\t\t\t\twho[m++] = i;\n\t\t}\n"
	           "\t\tif (m == 0)\n\t\t\tbreak;\n"
	           "\t\tif (m == 1) {   /* one row: the step is cheaper */\n"
	           "\t\t\tif ((e = %s_step_at(W, states[who[0]], tokens + who[0] * %s_STEP_TOKENS",
	        a->no ? "" : "0", uses_q(a) ? "q, " : "", (long long)R, U, N, U);
	for (int o = 0; o < a->no; o++)
		fprintf(f, ",\n\t\t\t                     %s + who[0] * %s_STEP_OUTPUT%d_SIZE",
		        out_name(a->c, s, N, o), U, o);
	fprintf(f, ", ws)))\n\t\t\t\treturn e;\n\t\t\tcontinue;\n\t\t}\n\t\tnr = ");
	for (int i = s->ngraphs - 1; i > FORM_BATCH; i--)
		fprintf(f, "m <= %lld ? %lld : ", (long long)s->graph[i].rows,
		        (long long)s->graph[i].rows);
	fprintf(f, "%lld;   /* the rows of the batch graph */\n"
	           "\t\tfor (r = 0; r < nr; r++) {\n"
	           "\t\t\trows[r] = r < m ? *(const int64_t *)states[who[r]] : 0;\n",
	        (long long)R);
	fill_ids(a, "nr", "who[r]", "\t\t\t");
	fprintf(f, "\t\t\tfor (l = 0; l < %d; l++) {\n"
	           "\t\t\t\tconst unsigned char *sr = r < m ? (const unsigned char *)states[who[r]] : 0;\n"
	           "\t\t\t\tconst float *src = sr ? (const float *)(sr + st_off[l]) : 0;\n"
	           "\t\t\t\tfloat *dst = (float *)(ws + st_ws[l]) + r * st_n[l];\n"
	           "\t\t\t\tfor (x = 0; x < st_n[l]; x++)\n\t\t\t\t\tdst[x] = src ? src[x] : 0.0f;\n"
	           "\t\t\t}\n\t\t}\n\t\te = ",
	        s->ntssa);
	for (int i = s->ngraphs - 1; i >= FORM_BATCH; i--) {
		if (i > FORM_BATCH)
			fprintf(f, "nr == %lld ? ", (long long)s->graph[i].rows);
		fprintf(f, "%s_%s_v(W, in, out, ws)%s", N, s->graph[i].name,
		        i > FORM_BATCH ? "\n\t\t  : " : ";\n");
	}
	fprintf(f, "\t\tif (e)\n\t\t\treturn e;\n"
	           "\t\tfor (r = 0; r < m; r++) {\n"
	           "\t\t\tunsigned char *s = (unsigned char *)states[who[r]];\n"
	           "\t\t\tfor (l = 0; l < %d; l++) {\n"
	           "\t\t\t\tconst float *src = (const float *)(ws + st_ws[l]) + r * st_n[l];\n"
	           "\t\t\t\tfloat *dst = (float *)(s + st_off[l]);\n"
	           "\t\t\t\tfor (x = 0; x < st_n[l]; x++)\n\t\t\t\t\tdst[x] = src[x];\n\t\t\t}\n"
	           "\t\t\t*(int64_t *)s += 1;\n\t\t}\n",
	        s->ntssa);
	for (int o = 0; o < a->no; o++)
		copy_out(a, "nr", w, o, "who[r]", "\t\t");
	fprintf(f, "\t}\n\treturn full ? %s_ERR_FULL : 0;\n}\n", U);
}

/* The public functions: the weights fetched, then the static ones. */
static void emit_public(Writer *a, const WeightBlob *b)
{
	static const char *const args[] = {"state, token", "state, tokens, n", "state, tokens, n",
	                                   "states, tokens, n"};
	FILE *f = a->f;
	for (Api api = API_STEP; api <= API_BATCH; api++) {
		fputc('\n', f);
		prototype(a->s, a->o, f, api, false);
		fputs("\n{\n", f);
		emit_weights_fetch(a->o, b, f);
		fprintf(f, "\treturn %s_%s_at(W, %s", a->N, api_name[api], args[api]);
		out_args(a->s, a->N, f);
		fputs(", workspace);\n}\n", f);
	}
}

void emit_step_api(const StreamInfo *s, const EmitOptions *o, const WeightBlob *b, FILE *f)
{
	Ctx *c = s->graph[FORM_STEP].g->ctx;
	const char *N = o->name;
	Writer a = {s, N, upper(c, N), f, c, noutputs(s),
	          dtype_ctype(s->graph[FORM_STEP].g->inputs[0]->dtype), o};
	emit_reset_step(&a);
	emit_chunks(&a);
	emit_prefill(&a, API_PREFILL);
	emit_prefill(&a, API_PREFILL_ALL);
	emit_batch(&a);
	emit_public(&a, b);
}
