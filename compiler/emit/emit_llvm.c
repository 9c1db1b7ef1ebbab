/*
 * emit_llvm.c -- the LLVM backend: Graph + kernel calls + memory plan ->
 * an object file (or .s, .ll, .bc) through the LLVM C API, with no C
 * compiler involved.
 *
 * The module it builds is what model.c says, in IR:
 *   - NAME_run_v(in, out, workspace): the nodes in order, each a call of its
 *     kernels with the same arguments emit_c.c prints: tensors at constant
 *     offsets into the workspace, weights, inputs and outputs by slot,
 *     integers, floats and literal arrays as constants;
 *   - NAME_run(typed inputs..., typed outputs..., workspace), which calls it;
 *   - each weight a 64-byte aligned private constant (.rodata), and the
 *     static workspace a zeroed private global (.bss) that a NULL workspace
 *     uses.
 * The kernels come from the bitcode of runtime/ that CMake made with clang
 * (runtime/kernels_bitcode.c), the variant the target's features allow:
 * each kernel call is declared from kernels.def, checked against the
 * bitcode's definition, and the bitcode is linked in.  Everything but the
 * API is then made internal, and LLVM's O2 pipeline inlines the kernels
 * into the forward pass, specialises them with the model's constant shapes
 * and drops the rest.  model.h is emit_c.c's.
 *
 * The branches of an If decided at run time are functions of their own, as
 * in model.c.  Not covered yet, refused with a message: a Loop run as a
 * loop (its body), the step API, targets other than x86-64, aarch64 and
 * Armv7E-M with an FPU.  OpenMP: the
 * kernels are compiled without it, so an object runs on one thread.
 *
 * Errors inside: this file installs its own unwind point, releases the LLVM
 * objects, and passes the error on (ctx_rethrow).
 */
#include "tostc.h"

#ifndef TOSTC_HAVE_LLVM

bool emit_llvm_built(Ctx *c, const char **what)
{
	*what = NULL;
	return false;
}

void emit_llvm(Graph *g, const EmitOptions *o, const LlvmOptions *lo, const char *path)
{
	unreachable(g->ctx);
}

#else

#include <llvm-c/Analysis.h>
#include <llvm-c/BitReader.h>
#include <llvm-c/BitWriter.h>
#include <llvm-c/Core.h>
#include <llvm-c/Linker.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* A weight's global, found by its data: the branches of an If and the graph
 * around them share constants. */
typedef struct Weight {
	const void *data;
	int64_t bytes;
	LLVMValueRef global;
	struct Weight *next;
} Weight;

/* The LLVM objects of one compilation, released on every path. */
typedef struct {
	Ctx *c;
	Graph *g;
	const EmitOptions *o;
	LLVMContextRef ctx;
	LLVMModuleRef mod;         /* the model's module */
	LLVMModuleRef kmod;        /* the kernels' bitcode, until linked */
	LLVMMemoryBufferRef kbuf;
	LLVMTargetMachineRef tm;
	LLVMBuilderRef b;
	char *triple, *cpu, *features;   /* LLVM-allocated (LLVMDisposeMessage) */
	const char *isa;           /* the kernels' variant: "x86_64_avx512", ... */
	char diag[512];            /* the first error LLVM reported through the context */
	/* types */
	LLVMTypeRef ptr, i8, i32, i64, f32, vd;
	/* per kernel: its declaration in mod (NULL when the model does not call it) */
	LLVMValueRef kfn[K_COUNT];
	LLVMTypeRef kty[K_COUNT];
	LLVMValueRef *wglobal;     /* per tensor id of g: its weight's global */
	struct Weight *weights;    /* every weight's global, by its data (graphs share) */
	int nsubs;                 /* functions made for the branches of run-time Ifs */
	LLVMValueRef static_ws;
	/* the function being built */
	LLVMValueRef ws;           /* the workspace pointer */
	LLVMValueRef *inp, *outp;  /* the caller's pointers, by slot */
	int *outslot;              /* per tensor id: output slot written, -1 */
	int *inslot;               /* per tensor id: input slot, -1 */
} Lc;

static void lc_free(Lc *l)
{
	if (l->b)
		LLVMDisposeBuilder(l->b);
	if (l->tm)
		LLVMDisposeTargetMachine(l->tm);
	if (l->kmod)
		LLVMDisposeModule(l->kmod);
	if (l->mod)
		LLVMDisposeModule(l->mod);
	if (l->kbuf)
		LLVMDisposeMemoryBuffer(l->kbuf);
	if (l->ctx)
		LLVMContextDispose(l->ctx);
	if (l->triple)
		LLVMDisposeMessage(l->triple);
	if (l->cpu)
		LLVMDisposeMessage(l->cpu);
	if (l->features)
		LLVMDisposeMessage(l->features);
	memset(l, 0, sizeof *l);
}

/* LLVM's own errors (linking, bitcode) arrive here; the first is kept. */
static void on_diagnostic(LLVMDiagnosticInfoRef di, void *arg)
{
	Lc *l = arg;
	if (LLVMGetDiagInfoSeverity(di) != LLVMDSError || l->diag[0])
		return;
	char *d = LLVMGetDiagInfoDescription(di);
	snprintf(l->diag, sizeof l->diag, "%s", d);
	LLVMDisposeMessage(d);
}

static void init_llvm(void)
{
	/* idempotent; LLVM keeps the registry process-wide */
	LLVMInitializeAllTargetInfos();
	LLVMInitializeAllTargets();
	LLVMInitializeAllTargetMCs();
	LLVMInitializeAllAsmPrinters();
}

bool emit_llvm_built(Ctx *c, const char **what)
{
	unsigned major, minor, patch;
	LLVMGetVersion(&major, &minor, &patch);
	char list[256] = "";
	for (int i = 0; i < nllvm_bitcode; i++)
		snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? " " : "",
		         llvm_bitcode[i].name);
	*what = ctx_printf(c, "llvm (LLVM %u.%u.%u; kernels: %s)", major, minor, patch, list);
	return true;
}

/* ---- the target ---- */

/* Assembly of the probe module for tm (malloc'd); NULL when LLVM cannot. */
static char *probe_asm(Lc *l, LLVMTargetMachineRef tm)
{
	LLVMModuleRef m = LLVMModuleCreateWithNameInContext("tostc_probe", l->ctx);
	LLVMSetTarget(m, l->triple);
	LLVMTargetDataRef td = LLVMCreateTargetDataLayout(tm);
	LLVMSetModuleDataLayout(m, td);
	LLVMDisposeTargetData(td);
	LLVMBuilderRef b = LLVMCreateBuilderInContext(l->ctx);
	/* name, float or int elements, lanes, fma: each function loads a
	 * vector, doubles it (fma: x * x + x) and stores it back; the last
	 * returns a float, as kernels' helpers do */
	static const struct { const char *name; int fl, lanes, fma; } fns[] = {
		{"tostc_probe_avx512", 1, 16, 0},
		{"tostc_probe_avx2", 0, 8, 0},
		{"tostc_probe_fma", 1, 8, 1},
		{"tostc_probe_float", 1, 0, 0},
	};
	for (int i = 0; i < 4; i++) {
		LLVMTypeRef vt = fns[i].lanes ? LLVMVectorType(fns[i].fl ? l->f32 : l->i32,
		                                               (unsigned)fns[i].lanes) : l->f32;
		LLVMTypeRef ft = LLVMFunctionType(fns[i].lanes ? l->vd : l->f32, &l->ptr, 1, 0);
		LLVMValueRef f = LLVMAddFunction(m, fns[i].name, ft);
		LLVMAddAttributeAtIndex(f, LLVMAttributeFunctionIndex,
		                        LLVMCreateStringAttribute(l->ctx, "min-legal-vector-width", 22,
		                                                  "512", 3));
		LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(l->ctx, f, "entry"));
		LLVMValueRef p = LLVMGetParam(f, 0);
		LLVMValueRef x = LLVMBuildLoad2(b, vt, p, "x"), y;
		if (fns[i].fma) {
			unsigned id = LLVMLookupIntrinsicID("llvm.fma", 8);
			LLVMValueRef fma = LLVMGetIntrinsicDeclaration(m, id, &vt, 1);
			LLVMValueRef args[3] = {x, x, x};
			y = LLVMBuildCall2(b, LLVMIntrinsicGetType(l->ctx, id, &vt, 1), fma, args, 3, "y");
		} else {
			y = fns[i].fl ? LLVMBuildFAdd(b, x, x, "y") : LLVMBuildAdd(b, x, x, "y");
		}
		if (fns[i].lanes) {
			LLVMBuildStore(b, y, p);
			LLVMBuildRetVoid(b);
		} else {
			LLVMBuildRet(b, y);
		}
	}
	LLVMDisposeBuilder(b);
	char *err = NULL, *text = NULL;
	LLVMMemoryBufferRef buf = NULL;
	if (!LLVMTargetMachineEmitToMemoryBuffer(tm, m, LLVMAssemblyFile, &err, &buf)) {
		size_t n = LLVMGetBufferSize(buf);
		text = malloc(n + 1);
		if (text) {
			memcpy(text, LLVMGetBufferStart(buf), n);
			text[n] = 0;
		}
		LLVMDisposeMemoryBuffer(buf);
	}
	if (err)
		LLVMDisposeMessage(err);
	LLVMDisposeModule(m);
	return text;
}

/* Whether function `name` of assembly s contains a and (unless NULL) b2. */
static bool probe_has(const char *s, const char *name, const char *a, const char *b2)
{
	char label[64];
	snprintf(label, sizeof label, "\n%s:", name);
	const char *p = strstr(s, label);
	if (!p)
		return false;
	const char *end = strstr(p + 1, ".Lfunc_end");
	char *body = strndup(p, end ? (size_t)(end - p) : strlen(p));
	bool ok = body && strstr(body, a) && (!b2 || strstr(body, b2));
	free(body);
	return ok;
}

/* The whole of file f (malloc'd, NUL-terminated; "" when unreadable). */
static char *slurp(FILE *f)
{
	size_t cap = 4096, n = 0, k;
	char *s = malloc(cap);
	if (!s)
		return NULL;
	rewind(f);
	while ((k = fread(s + n, 1, cap - n - 1, f)) > 0) {
		n += k;
		if (n + 1 == cap) {
			char *t = realloc(s, cap *= 2);
			if (!t)
				break;
			s = t;
		}
	}
	s[n] = 0;
	return s;
}

/* Which kernels the target can run.  LLVM's C API cannot list a CPU's
 * features, so tostc asks its code generator: a 512-bit float add compiles
 * to zmm registers only with AVX-512F, an 8 x i32 add to one vpaddd on ymm
 * only with AVX2, and an fma intrinsic to vfmadd only with FMA.  The probe
 * runs in a child process: LLVM aborts on a CPU it cannot generate code
 * for (an x86-64 one without SSE), and warns on stderr, then goes on
 * generically, for a CPU it does not know; both become errors here. */
static void choose_kernels(Lc *l, LLVMTargetRef t)
{
	Ctx *c = l->c;
	FILE *out = tmpfile(), *err = tmpfile();
	if (!out || !err) {
		if (out)
			fclose(out);
		if (err)
			fclose(err);
		ctx_error(c, "cannot create a temporary file to probe the target");
	}
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fileno(err), 2);
		LLVMTargetMachineRef tm = LLVMCreateTargetMachine(
			t, l->triple, l->cpu, l->features, LLVMCodeGenLevelDefault, LLVMRelocPIC,
			LLVMCodeModelDefault);
		char *s = tm ? probe_asm(l, tm) : NULL;
		if (s)
			fputs(s, out);
		fflush(out);
		_exit(s && !ferror(out) ? 0 : 1);
	}
	int status = 0;
	bool ok = pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	          WEXITSTATUS(status) == 0;
	char *s = slurp(out), *said = slurp(err);
	fclose(out);
	fclose(err);
	bool unknown = said && strstr(said, "not a recognized processor");
	free(said);
	if (unknown || !ok || !s) {
		free(s);
		if (unknown)
			ctx_error(c, "--cpu %s: LLVM does not know this CPU for %s", l->cpu, l->triple);
		ctx_error(c, "LLVM cannot generate code for %s with --cpu %s", l->triple, l->cpu);
	}
	if (strncmp(l->triple, "aarch64", 7) == 0) {
		free(s);
		l->isa = "aarch64_neon";   /* Advanced SIMD: every aarch64 CPU */
		return;
	}
	if (strncmp(l->triple, "thumbv7em", 9) == 0) {
		/* the kernels pass floats in FPU registers (eabihf): the CPU needs one */
		bool fpu = probe_has(s, "tostc_probe_float", "vadd.f32", NULL);
		free(s);
		if (!fpu)
			ctx_error(c, "--cpu %s: no single-precision FPU, which the Armv7E-M kernels "
			          "need (hard-float ABI: e.g. --cpu cortex-m4)", l->cpu);
		l->isa = "armv7em_fpv4";
		return;
	}
	bool avx512 = probe_has(s, "tostc_probe_avx512", "zmm", NULL);
	bool avx2 = probe_has(s, "tostc_probe_avx2", "vpaddd", "ymm");
	bool fma = probe_has(s, "tostc_probe_fma", "vfmadd", NULL);
	free(s);
	l->isa = avx512 && avx2 && fma ? "x86_64_avx512" : avx2 && fma ? "x86_64_avx2"
	                                                              : "x86_64_plain";
}

static void make_target(Lc *l, const LlvmOptions *lo)
{
	Ctx *c = l->c;
	char *host = LLVMGetDefaultTargetTriple();
	l->triple = LLVMNormalizeTargetTriple(lo->triple ? lo->triple : host);
	bool is_host = !lo->triple || strcmp(l->triple, host) == 0;
	LLVMDisposeMessage(host);
	LLVMTargetRef t;
	char *err = NULL;
	if (LLVMGetTargetFromTriple(l->triple, &t, &err)) {
		if (err)
			LLVMDisposeMessage(err);
		ctx_error(c, "--target %s: LLVM knows no such target", lo->triple ? lo->triple : l->triple);
	}
	bool arm_m = strncmp(l->triple, "thumbv7em-", 10) == 0 && strstr(l->triple, "eabihf");
	if (strncmp(l->triple, "x86_64-", 7) != 0 && strncmp(l->triple, "aarch64-", 8) != 0 &&
	    !arm_m)
		ctx_error(c, "--target %s: the LLVM backend has kernels for x86-64, aarch64 and "
		          "Armv7E-M with an FPU (thumbv7em-none-eabihf) only so far; write C with "
		          "-o model.c", l->triple);
	if (!lo->cpu || strcmp(lo->cpu, "native") == 0) {
		if (lo->cpu && !is_host)
			ctx_error(c, "--cpu native: only for the host's target (%s is another); name a CPU",
			          l->triple);
		if (!is_host) {
			l->cpu = LLVMCreateMessage(strncmp(l->triple, "x86_64", 6) == 0 ? "x86-64"
			                           : arm_m ? "cortex-m4" : "generic");
			l->features = LLVMCreateMessage("");
		} else {
			l->cpu = LLVMGetHostCPUName();
			l->features = LLVMGetHostCPUFeatures();
		}
	} else {
		l->cpu = LLVMCreateMessage(lo->cpu);
		l->features = LLVMCreateMessage("");
	}
	choose_kernels(l, t);
	l->tm = LLVMCreateTargetMachine(t, l->triple, l->cpu, l->features, LLVMCodeGenLevelDefault,
	                                LLVMRelocPIC, LLVMCodeModelDefault);
	if (!l->tm)
		ctx_error(c, "LLVM cannot make a target machine for %s (--cpu %s)", l->triple, l->cpu);
}

/* ---- the kernels ---- */

static LLVMTypeRef param_type(Lc *l, const KernelParam *p)
{
	switch (p->kind) {
	case ARG_INT: return l->i64;
	case ARG_FLOAT: return l->f32;
	default: return l->ptr;
	}
}

/* The declaration of kernel k in the model's module, from kernels.def. */
static LLVMValueRef kernel_fn(Lc *l, KernelId k)
{
	if (l->kfn[k])
		return l->kfn[k];
	const KernelInfo *ki = &kernel_info[k];
	LLVMTypeRef pt[MAX_ARGS];
	for (int i = 0; i < ki->nparams; i++)
		pt[i] = param_type(l, &ki->params[i]);
	l->kty[k] = LLVMFunctionType(l->vd, pt, (unsigned)ki->nparams, 0);
	l->kfn[k] = LLVMAddFunction(l->mod, ki->name, l->kty[k]);
	return l->kfn[k];
}

/* Parse the chosen variant's bitcode and check every kernel the model
 * calls against its declaration (the C signature in runtime/ against the
 * row of kernels.def, as kernels.c does for the compiler's own build). */
static void load_kernels(Lc *l)
{
	Ctx *c = l->c;
	const LlvmBitcode *bc = NULL;
	for (int i = 0; i < nllvm_bitcode; i++)
		if (strcmp(llvm_bitcode[i].name, l->isa) == 0)
			bc = &llvm_bitcode[i];
	if (!bc)
		ctx_error(c, "--target %s: this tostc has no %s kernels (its kernels: tostc --version)",
		          l->triple, l->isa);
	l->kbuf = LLVMCreateMemoryBufferWithMemoryRange((const char *)bc->begin,
	                                                (size_t)(bc->end - bc->begin), bc->name, 0);
	if (LLVMParseBitcodeInContext2(l->ctx, l->kbuf, &l->kmod)) {
		l->kmod = NULL;
		ctx_bug(c, __FILE__, __LINE__, "the embedded kernel bitcode does not parse");
	}
	LLVMSetTarget(l->kmod, l->triple);
	LLVMTargetDataRef td = LLVMCreateTargetDataLayout(l->tm);
	LLVMSetModuleDataLayout(l->kmod, td);
	LLVMDisposeTargetData(td);
	for (int k = 0; k < K_COUNT; k++) {
		if (!l->kfn[k])
			continue;
		LLVMValueRef f = LLVMGetNamedFunction(l->kmod, kernel_info[k].name);
		if (!f || LLVMIsDeclaration(f) || LLVMGlobalGetValueType(f) != l->kty[k]) {
			char msg[256];
			snprintf(msg, sizeof msg, "kernel '%s' is %s in the %s bitcode", kernel_info[k].name,
			         !f || LLVMIsDeclaration(f) ? "missing" : "of another type than kernels.def's",
			         l->isa);
			ctx_bug(c, __FILE__, __LINE__, msg);
		}
	}
	/* the table that kept every kernel in the bitcode goes first */
	LLVMValueRef table = LLVMGetNamedGlobal(l->kmod, "tr_kernel_table");
	if (table)
		LLVMDeleteGlobal(table);
}

/* ---- values ---- */

static LLVMValueRef i64c(Lc *l, int64_t v)
{
	return LLVMConstInt(l->i64, (unsigned long long)v, 1);
}

/* A private constant of n bytes at data, 64-byte aligned. */
static LLVMValueRef const_bytes(Lc *l, const char *name, const void *data, int64_t n, int align)
{
	if (n > (int64_t)0xffffffffu)
		ctx_error(l->c, "a constant of %lld bytes: the LLVM backend takes at most 4 GiB each",
		          (long long)n);
	LLVMValueRef init = LLVMConstStringInContext(l->ctx, data, (unsigned)n, 1);
	LLVMValueRef gv = LLVMAddGlobal(l->mod, LLVMTypeOf(init), name);
	LLVMSetInitializer(gv, init);
	LLVMSetGlobalConstant(gv, 1);
	LLVMSetLinkage(gv, LLVMPrivateLinkage);
	LLVMSetUnnamedAddress(gv, LLVMGlobalUnnamedAddr);
	LLVMSetAlignment(gv, (unsigned)align);
	return gv;
}

/* The address of tensor t, as emit_c.c's ptr_text: a weight, a caller's
 * input or output, or an offset into the workspace. */
static LLVMValueRef tensor_ptr(Lc *l, Tensor *t)
{
	Tensor *r = tensor_root(t);
	if (r->kind == TK_CONST) {
		if (l->wglobal[r->id])
			return l->wglobal[r->id];
		int64_t bytes = tensor_nbytes(r);
		for (Weight *w = l->weights; w; w = w->next)
			if (w->data == r->data && w->bytes == bytes)
				return l->wglobal[r->id] = w->global;
		Weight *w = ctx_alloc(l->c, sizeof *w);
		*w = (Weight){r->data, bytes, const_bytes(l, "weight", r->data, bytes, 64), l->weights};
		l->weights = w;
		return l->wglobal[r->id] = w->global;
	}
	if (l->outslot[r->id] >= 0)
		return l->outp[l->outslot[r->id]];
	if (r->kind == TK_INPUT)
		return l->inp[l->inslot[r->id]];
	ir_assert(l->c, r->offset >= 0);
	LLVMValueRef off = i64c(l, r->offset);
	return LLVMBuildInBoundsGEP2(l->b, l->i8, l->ws, &off, 1, "");
}

static LLVMValueRef arg_value(Lc *l, const Arg *x)
{
	switch (x->kind) {
	case ARG_IN:
	case ARG_OUT: return tensor_ptr(l, x->t);
	case ARG_SCRATCH: {
		LLVMValueRef off = i64c(l, x->offset);
		return LLVMBuildInBoundsGEP2(l->b, l->i8, l->ws, &off, 1, "");
	}
	case ARG_INT: return i64c(l, x->i);
	case ARG_FLOAT: return LLVMConstReal(l->f32, (double)x->f);
	case ARG_INTS:
	case ARG_FLOATS:
		if (!x->n)
			return LLVMConstNull(l->ptr);
		if (x->kind == ARG_INTS)
			return const_bytes(l, "ints", x->ints, (int64_t)x->n * 8, 8);
		return const_bytes(l, "floats", x->floats, (int64_t)x->n * 4, 4);
	}
	unreachable(l->c);
}

/* ---- the functions ---- */

static void fn_attrs(Lc *l, LLVMValueRef f)
{
	unsigned nounwind = LLVMGetEnumAttributeKindForName("nounwind", 8);
	LLVMAddAttributeAtIndex(f, LLVMAttributeFunctionIndex,
	                        LLVMCreateEnumAttribute(l->ctx, nounwind, 0));
}

static bool is_runtime_if(const Node *n)
{
	return n->op == OP_IF && !n->dead && n->sub[0];
}

static LLVMValueRef build_graph_fn(Lc *l, Graph *g, const char *fname, bool branch);

/* A run-time If: its captures and outputs as arrays of pointers, then the
 * function of the branch the condition picks, with the workspace plan.c set
 * aside for it (emit_c.c's emit_if). */
static void build_if(Lc *l, const Node *n, LLVMValueRef fthen, LLVMValueRef felse)
{
	LLVMValueRef arr[2], idx;
	int count[2] = {n->nin > 1 ? n->nin - 1 : 1, n->nout ? n->nout : 1};
	for (int s = 0; s < 2; s++)
		arr[s] = LLVMBuildAlloca(l->b, LLVMArrayType(l->ptr, (unsigned)count[s]),
		                         s ? "sout" : "sin");
	for (int j = 1; j < n->nin; j++) {
		idx = i64c(l, j - 1);
		LLVMBuildStore(l->b, tensor_ptr(l, n->in[j]),
		               LLVMBuildInBoundsGEP2(l->b, l->ptr, arr[0], &idx, 1, ""));
	}
	for (int j = 0; j < n->nout; j++) {
		idx = i64c(l, j);
		LLVMBuildStore(l->b, n->out[j] ? tensor_ptr(l, n->out[j]) : LLVMConstNull(l->ptr),
		               LLVMBuildInBoundsGEP2(l->b, l->ptr, arr[1], &idx, 1, ""));
	}
	LLVMValueRef ws = LLVMConstNull(l->ptr);
	if (n->sub_ws > 0) {
		idx = i64c(l, n->sub_ws_offset);
		ws = LLVMBuildInBoundsGEP2(l->b, l->i8, l->ws, &idx, 1, "");
	}
	LLVMValueRef cond = LLVMBuildLoad2(l->b, l->i8, tensor_ptr(l, n->in[0]), "cond");
	LLVMValueRef fn = LLVMGetBasicBlockParent(LLVMGetInsertBlock(l->b));
	LLVMBasicBlockRef bb[3] = {LLVMAppendBasicBlockInContext(l->ctx, fn, "then"),
	                           LLVMAppendBasicBlockInContext(l->ctx, fn, "else"),
	                           LLVMAppendBasicBlockInContext(l->ctx, fn, "endif")};
	LLVMBuildCondBr(l->b, LLVMBuildICmp(l->b, LLVMIntNE, cond, LLVMConstInt(l->i8, 0, 0), ""),
	                bb[0], bb[1]);
	LLVMValueRef args[3] = {arr[0], arr[1], ws};
	for (int k = 0; k < 2; k++) {
		LLVMValueRef f = k ? felse : fthen;
		LLVMPositionBuilderAtEnd(l->b, bb[k]);
		LLVMBuildCall2(l->b, LLVMGlobalGetValueType(f), f, args, 3, "");
		LLVMBuildBr(l->b, bb[2]);
	}
	LLVMPositionBuilderAtEnd(l->b, bb[2]);
}

/* fname(in, out, workspace) -> 0 of graph g: the node sequence, as emit_c.c's
 * emit_entry.  NAME_run_v falls back on the static workspace for a NULL
 * one; the branch of an If (branch) gets its workspace from the If.  The
 * branches of g's run-time Ifs are built first, as functions of their own. */
static LLVMValueRef build_graph_fn(Lc *l, Graph *g, const char *fname, bool branch)
{
	Ctx *c = l->c;
	LLVMValueRef *subfn = ctx_alloc(c, sizeof(LLVMValueRef) * (size_t)(2 * g->nnodes + 1));
	for (int p = 0; p < g->nnodes; p++)
		for (int k = 0; k < 2 && is_runtime_if(g->nodes[p]); k++)
			subfn[2 * p + k] = build_graph_fn(l, g->nodes[p]->sub[k],
			                                  ctx_printf(c, "%s_sub%d_%s", l->o->name, l->nsubs++,
			                                             k ? "else" : "then"), true);
	l->g = g;
	l->wglobal = ctx_alloc(c, sizeof(LLVMValueRef) * (size_t)(g->ntensors + 1));
	l->outslot = ctx_alloc(c, sizeof(int) * (size_t)(g->ntensors + 1));
	l->inslot = ctx_alloc(c, sizeof(int) * (size_t)(g->ntensors + 1));
	for (int i = 0; i < g->ntensors; i++)
		l->outslot[i] = l->inslot[i] = -1;
	for (int i = 0; i < g->ninputs; i++)
		l->inslot[g->inputs[i]->id] = i;
	for (int i = 0; i < g->noutputs; i++) {
		Tensor *t = g->outputs[i];
		if (t->kind == TK_VALUE && l->outslot[t->id] < 0)
			l->outslot[t->id] = i;
	}
	LLVMTypeRef pt[3] = {l->ptr, l->ptr, l->ptr};
	LLVMValueRef f = LLVMAddFunction(l->mod, fname, LLVMFunctionType(l->i32, pt, 3, 0));
	if (branch)
		LLVMSetLinkage(f, LLVMInternalLinkage);
	fn_attrs(l, f);
	LLVMPositionBuilderAtEnd(l->b, LLVMAppendBasicBlockInContext(l->ctx, f, "entry"));
	LLVMValueRef in = LLVMGetParam(f, 0), out = LLVMGetParam(f, 1), ws = LLVMGetParam(f, 2);
	if (g->arena_size > 0 && !branch) {
		/* workspace == NULL: the static one */
		if (g->arena_size > (int64_t)0xffffffffu)
			ctx_error(c, "a workspace of %lld bytes: the LLVM backend takes at most 4 GiB",
			          (long long)g->arena_size);
		LLVMTypeRef at = LLVMArrayType(l->i8, (unsigned)g->arena_size);
		l->static_ws = LLVMAddGlobal(l->mod, at, "static_workspace");
		LLVMSetInitializer(l->static_ws, LLVMConstNull(at));
		LLVMSetLinkage(l->static_ws, LLVMInternalLinkage);
		LLVMSetAlignment(l->static_ws, 64);
		ws = LLVMBuildSelect(l->b, LLVMBuildIsNull(l->b, ws, "no_ws"), l->static_ws, ws, "ws");
	}
	l->ws = ws;
	l->inp = ctx_alloc(c, sizeof(LLVMValueRef) * (size_t)(g->ninputs + 1));
	l->outp = ctx_alloc(c, sizeof(LLVMValueRef) * (size_t)(g->noutputs + 1));
	for (int i = 0; i < g->ninputs; i++) {
		LLVMValueRef idx = i64c(l, i);
		l->inp[i] = LLVMBuildLoad2(l->b, l->ptr, LLVMBuildInBoundsGEP2(l->b, l->ptr, in, &idx, 1, ""),
		                           ctx_printf(c, "in%d", i));
	}
	for (int i = 0; i < g->noutputs; i++) {
		LLVMValueRef idx = i64c(l, i);
		l->outp[i] = LLVMBuildLoad2(l->b, l->ptr,
		                            LLVMBuildInBoundsGEP2(l->b, l->ptr, out, &idx, 1, ""),
		                            ctx_printf(c, "out%d", i));
	}
	for (int p = 0; p < g->nnodes; p++) {
		if (is_runtime_if(g->nodes[p]))
			build_if(l, g->nodes[p], subfn[2 * p], subfn[2 * p + 1]);
		for (Call *k = g->nodes[p]->calls; k; k = k->next) {
			LLVMValueRef args[MAX_ARGS];
			for (int a = 0; a < k->nargs; a++)
				args[a] = arg_value(l, &k->args[a]);
			LLVMValueRef fn = kernel_fn(l, k->kernel);
			LLVMBuildCall2(l->b, l->kty[k->kernel], fn, args, (unsigned)k->nargs, "");
		}
	}
	/* outputs that are constants, inputs or other outputs: copied */
	for (int i = 0; i < g->noutputs; i++) {
		Tensor *t = g->outputs[i];
		if ((t->kind == TK_VALUE && l->outslot[t->id] == i) || tensor_nbytes(t) == 0)
			continue;
		LLVMBuildMemCpy(l->b, l->outp[i], 1, tensor_ptr(l, t), 1, i64c(l, tensor_nbytes(t)));
	}
	LLVMBuildRet(l->b, LLVMConstInt(l->i32, 0, 0));
	return f;
}

/* NAME_run(inputs..., outputs..., workspace): arrays of the pointers, then
 * NAME_run_v. */
static void build_run(Lc *l, LLVMValueRef run_v)
{
	Graph *g = l->g;   /* the model's graph: build_graph_fn left it there */
	Ctx *c = l->c;
	int n = g->ninputs + g->noutputs;
	LLVMTypeRef *pt = ctx_alloc(c, sizeof(LLVMTypeRef) * (size_t)(n + 1));
	for (int i = 0; i <= n; i++)
		pt[i] = l->ptr;
	LLVMValueRef f = LLVMAddFunction(l->mod, ctx_printf(c, "%s_run", l->o->name),
	                                 LLVMFunctionType(l->i32, pt, (unsigned)n + 1, 0));
	fn_attrs(l, f);
	LLVMPositionBuilderAtEnd(l->b, LLVMAppendBasicBlockInContext(l->ctx, f, "entry"));
	LLVMValueRef arr[2];
	int count[2] = {g->ninputs ? g->ninputs : 1, g->noutputs ? g->noutputs : 1};
	for (int s = 0; s < 2; s++) {
		arr[s] = LLVMBuildAlloca(l->b, LLVMArrayType(l->ptr, (unsigned)count[s]), s ? "out" : "in");
		int from = s ? g->ninputs : 0, m = s ? g->noutputs : g->ninputs;
		for (int i = 0; i < m; i++) {
			LLVMValueRef idx = i64c(l, i);
			LLVMBuildStore(l->b, LLVMGetParam(f, (unsigned)(from + i)),
			               LLVMBuildInBoundsGEP2(l->b, l->ptr, arr[s], &idx, 1, ""));
		}
	}
	LLVMValueRef args[3] = {arr[0], arr[1], LLVMGetParam(f, (unsigned)n)};
	LLVMValueRef r = LLVMBuildCall2(l->b, LLVMGlobalGetValueType(run_v), run_v, args, 3, "");
	LLVMBuildRet(l->b, r);
}

/* Everything but the API internal; every function compiled for the
 * target's CPU (the kernels' clang attributes name a generic one). */
static void internalise(Lc *l, const char *api0, const char *api1)
{
	for (LLVMValueRef f = LLVMGetFirstFunction(l->mod); f; f = LLVMGetNextFunction(f)) {
		if (LLVMIsDeclaration(f))
			continue;
		size_t len;
		const char *name = LLVMGetValueName2(f, &len);
		if (strcmp(name, api0) != 0 && strcmp(name, api1) != 0) {
			LLVMSetLinkage(f, LLVMInternalLinkage);
			LLVMSetVisibility(f, LLVMDefaultVisibility);
		}
		LLVMRemoveStringAttributeAtIndex(f, LLVMAttributeFunctionIndex, "target-cpu", 10);
		LLVMRemoveStringAttributeAtIndex(f, LLVMAttributeFunctionIndex, "tune-cpu", 8);
		LLVMRemoveStringAttributeAtIndex(f, LLVMAttributeFunctionIndex, "target-features", 15);
		LLVMAddAttributeAtIndex(f, LLVMAttributeFunctionIndex,
		                        LLVMCreateStringAttribute(l->ctx, "target-cpu", 10, l->cpu,
		                                                  (unsigned)strlen(l->cpu)));
		if (l->features[0])
			LLVMAddAttributeAtIndex(f, LLVMAttributeFunctionIndex,
			                        LLVMCreateStringAttribute(l->ctx, "target-features", 15,
			                                                  l->features,
			                                                  (unsigned)strlen(l->features)));
	}
	for (LLVMValueRef v = LLVMGetFirstGlobal(l->mod); v; v = LLVMGetNextGlobal(v))
		if (!LLVMIsDeclaration(v) && LLVMGetLinkage(v) != LLVMPrivateLinkage) {
			size_t len;
			const char *name = LLVMGetValueName2(v, &len);
			if (strncmp(name, "llvm.", 5) != 0)
				LLVMSetLinkage(v, LLVMInternalLinkage);
		}
}

/* Graph features this backend does not write yet: a Loop run as a loop
 * (in g or in the branches of its Ifs). */
static void refuse_uncovered(Graph *g)
{
	for (int p = 0; p < g->nnodes; p++) {
		Node *n = g->nodes[p];
		if (n->op == OP_LOOP && !n->dead && n->sub[0])
			node_error(g, n, "the LLVM backend does not compile a Loop run at run time yet "
			           "(its body); write C with -o model.c");
		for (int k = 0; k < 2 && is_runtime_if(n); k++)
			refuse_uncovered(n->sub[k]);
	}
}

static void compile_module(Lc *l, const LlvmOptions *lo, const char *path)
{
	Ctx *c = l->c;
	Graph *g = l->g;
	refuse_uncovered(g);
	init_llvm();
	l->ctx = LLVMContextCreate();
	LLVMContextSetDiagnosticHandler(l->ctx, on_diagnostic, l);
	l->ptr = LLVMPointerTypeInContext(l->ctx, 0);
	l->i8 = LLVMInt8TypeInContext(l->ctx);
	l->i32 = LLVMInt32TypeInContext(l->ctx);
	l->i64 = LLVMInt64TypeInContext(l->ctx);
	l->f32 = LLVMFloatTypeInContext(l->ctx);
	l->vd = LLVMVoidTypeInContext(l->ctx);
	make_target(l, lo);

	l->mod = LLVMModuleCreateWithNameInContext(l->o->name, l->ctx);
	LLVMSetTarget(l->mod, l->triple);
	LLVMTargetDataRef td = LLVMCreateTargetDataLayout(l->tm);
	LLVMSetModuleDataLayout(l->mod, td);
	LLVMDisposeTargetData(td);
	l->b = LLVMCreateBuilderInContext(l->ctx);
	LLVMValueRef run_v = build_graph_fn(l, g, ctx_printf(c, "%s_run_v", l->o->name), false);
	build_run(l, run_v);

	load_kernels(l);
	LLVMModuleRef kmod = l->kmod;
	l->kmod = NULL;   /* LLVMLinkModules2 consumes it */
	if (LLVMLinkModules2(l->mod, kmod))
		ctx_bug(c, __FILE__, __LINE__, l->diag[0] ? l->diag : "linking the kernels failed");
	internalise(l, ctx_printf(c, "%s_run_v", l->o->name), ctx_printf(c, "%s_run", l->o->name));
	char *msg = NULL;
	if (LLVMVerifyModule(l->mod, LLVMReturnStatusAction, &msg)) {
		char buf[512];
		snprintf(buf, sizeof buf, "the LLVM module does not verify: %.400s", msg ? msg : "");
		LLVMDisposeMessage(msg);
		ctx_bug(c, __FILE__, __LINE__, buf);
	}
	LLVMDisposeMessage(msg);

	LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
	LLVMErrorRef e = LLVMRunPasses(l->mod, "default<O2>", l->tm, po);
	LLVMDisposePassBuilderOptions(po);
	if (e) {
		char *m = LLVMGetErrorMessage(e);
		char buf[512];
		snprintf(buf, sizeof buf, "LLVM's O2 pipeline failed: %.400s", m);
		LLVMDisposeErrorMessage(m);
		ctx_bug(c, __FILE__, __LINE__, buf);
	}

	char *err = NULL;
	bool bad = false;
	switch (lo->kind) {
	case LLVM_EMIT_OBJ:
	case LLVM_EMIT_ASM:
		bad = LLVMTargetMachineEmitToFile(l->tm, l->mod, (char *)path,
		                                  lo->kind == LLVM_EMIT_OBJ ? LLVMObjectFile
		                                                            : LLVMAssemblyFile, &err);
		break;
	case LLVM_EMIT_IR: bad = LLVMPrintModuleToFile(l->mod, path, &err); break;
	case LLVM_EMIT_BC: bad = LLVMWriteBitcodeToFile(l->mod, path) != 0; break;
	}
	if (bad) {
		char buf[512];
		snprintf(buf, sizeof buf, "%.400s", err ? err : "LLVM could not write the file");
		if (err)
			LLVMDisposeMessage(err);
		ctx_error(c, "writing '%s' failed: %s", path, buf);
	}
	if (err)
		LLVMDisposeMessage(err);
}

void emit_llvm(Graph *g, const EmitOptions *o, const LlvmOptions *lo, const char *path)
{
	Ctx *c = g->ctx;
	Lc *l = ctx_alloc(c, sizeof *l);
	l->c = c;
	l->g = g;
	l->o = o;
	jmp_buf jb, *outer = c->jmp;
	c->jmp = &jb;
	if (setjmp(jb)) {
		c->jmp = outer;
		lc_free(l);
		ctx_rethrow(c);
	}
	compile_module(l, lo, path);
	c->jmp = outer;
	lc_free(l);
}

#endif
