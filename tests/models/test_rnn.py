#!/usr/bin/python3
"""
test_rnn.py -- the recurrent layers RNN, GRU and LSTM end to end (ctest `rnn`).

    /usr/bin/python3 tests/models/test_rnn.py --tostc build/tostc --work DIR [--filter RE]

Three kinds of case; each is compiled once and its generated C built and run
twice, with the plain C99 kernels (-DTR_NO_SIMD) and with -march=native:

  node_*    one ONNX node written with onnx.helper, against a float64 numpy
            reference written from the ONNX spec (one row, one step at a
            time): every direction and layout, weights as initializers
            (packed by tostc) and as graph inputs, batches under 4 (the
            GEMM's small path) and of 4 or more (packed), sequence_lens
            absent, constant and a graph input (with a 0 and lengths past T),
            initial states, clip, every other activation with alpha and beta,
            GRU's linear_before_reset, LSTM's peepholes and input_forget, and
            subsets of the outputs;
  torch_*   LSTM and GRU sequence classifiers from PyTorch (torch.onnx.export
            at opsets 13 and 17, batch_first and not, one and two layers,
            bidirectional), against PyTorch;
  stream_*  a GRU and an LSTM whose state is a graph input and an output (the
            silero VAD pattern), exported for one frame.  A C loop calls the
            model frame by frame with the state in two caller buffers that
            swap, each call's state output the next call's state input (the
            README's "Stateful recurrent models"); every frame's output and
            the final state must equal PyTorch on the whole sequence, and
            tostc's build of the whole-sequence export.

THREADED cases are built once more with OpenMP (-fopenmp -DTR_PAR_MIN=1)
and must give bitwise the serial native build's outputs on 1 and 3 threads.
Tolerance: harness's, |got - ref| <= 1e-4 |ref| + 1e-5 max|ref|.  The last
line is `rnn: N passed, N failed (plain C99 + native: ISA)`; each case counts
once per build.
"""
import os
import sys
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import harness  # noqa: E402

from onnx import TensorProto, helper  # noqa: E402

CFLAGS = harness.GRAPH_CFLAGS


# ---------------------------------------------------------------------------
# The numpy reference: ONNX's equations, one row and one step at a time
# ---------------------------------------------------------------------------

def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


ACTS = {
    "relu": lambda x, a, b: np.maximum(x, 0.0),
    "tanh": lambda x, a, b: np.tanh(x),
    "sigmoid": lambda x, a, b: _sigmoid(x),
    "affine": lambda x, a, b: a * x + b,
    "leakyrelu": lambda x, a, b: np.where(x >= 0, x, a * x),
    "thresholdedrelu": lambda x, a, b: np.where(x >= a, x, 0.0),
    "scaledtanh": lambda x, a, b: a * np.tanh(b * x),
    "hardsigmoid": lambda x, a, b: np.clip(a * x + b, 0.0, 1.0),
    "elu": lambda x, a, b: np.where(x >= 0, x, a * (np.exp(x) - 1.0)),
    "softsign": lambda x, a, b: x / (1.0 + np.abs(x)),
    "softplus": lambda x, a, b: np.log1p(np.exp(x)),
}
# (takes alpha, takes beta, default alpha, default beta)
ACT_ARGS = {"affine": (1, 1, None, None), "leakyrelu": (1, 0, 0.01, 0),
            "thresholdedrelu": (1, 0, 1.0, 0), "scaledtanh": (1, 1, None, None),
            "hardsigmoid": (1, 1, 0.2, 0.5), "elu": (1, 0, 1.0, 0)}
GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}
DEFAULT_ACTS = {"RNN": ["Tanh"], "GRU": ["Sigmoid", "Tanh"], "LSTM": ["Sigmoid", "Tanh", "Tanh"]}


def resolve_acts(names, alpha, beta):
    """[(function, alpha, beta)]: the values consumed in order by the
    activations that take them (as ONNX Runtime reads them)."""
    alpha, beta, out = list(alpha or []), list(beta or []), []
    for nm in names:
        k = nm.lower()
        ta, tb, da, db = ACT_ARGS.get(k, (0, 0, 0, 0))
        a = (alpha.pop(0) if alpha else da) if ta else 0.0
        b = (beta.pop(0) if beta else db) if tb else 0.0
        out.append((ACTS[k], a, b))
    return out


def reference(op, X, W, R, B=None, lens=None, h0=None, c0=None, P=None, direction="forward",
              layout=0, acts=None, alpha=None, beta=None, clip=None, lbr=0, input_forget=0):
    """Y, Y_h, Y_c (float64) of an ONNX RNN / GRU / LSTM node."""
    X, W, R = (np.asarray(a, np.float64) for a in (X, W, R))
    if layout:
        X = X.transpose(1, 0, 2)
        h0 = None if h0 is None else h0.transpose(1, 0, 2)
        c0 = None if c0 is None else c0.transpose(1, 0, 2)
    T, N, _ = X.shape
    D, GH, H = R.shape
    B = np.zeros((D, 2 * GH)) if B is None else np.asarray(B, np.float64)
    P = np.zeros((D, 3 * H)) if P is None else np.asarray(P, np.float64)
    lens = np.full(N, T) if lens is None else np.clip(np.asarray(lens), 0, T)
    names = acts or DEFAULT_ACTS[op] * D
    na = len(DEFAULT_ACTS[op])
    if len(names) == na:
        names = names * D
    fs = resolve_acts(names, alpha, beta)
    cl = (lambda v: np.clip(v, -clip, clip)) if clip else (lambda v: v)
    Y = np.zeros((T, D, N, H))
    Yh = np.zeros((D, N, H))
    Yc = np.zeros((D, N, H))
    for d in range(D):
        f, g, h = (fs[d * na:(d + 1) * na] + [None, None])[:3]
        act = lambda fn, v: fn[0](v, fn[1], fn[2])  # noqa: E731
        Wb, Rb = B[d, :GH], B[d, GH:]
        backward = direction == "reverse" or d == 1
        for b in range(N):
            ht = np.zeros(H) if h0 is None else np.asarray(h0[d, b], np.float64)
            ct = np.zeros(H) if c0 is None else np.asarray(c0[d, b], np.float64)
            L = int(lens[b])
            for t in (range(L - 1, -1, -1) if backward else range(L)):
                xw = W[d] @ X[t, b] + Wb
                hr = R[d] @ ht + Rb
                if op == "RNN":
                    ht = act(f, cl(xw + hr))
                elif op == "GRU":
                    z = act(f, cl(xw[:H] + hr[:H]))
                    r = act(f, cl(xw[H:2 * H] + hr[H:2 * H]))
                    if lbr:
                        n = act(g, cl(xw[2 * H:] + r * hr[2 * H:]))
                    else:
                        n = act(g, cl(xw[2 * H:] + R[d, 2 * H:] @ (r * ht) + Rb[2 * H:]))
                    ht = (1 - z) * n + z * ht
                else:
                    pi, po, pf = P[d, :H], P[d, H:2 * H], P[d, 2 * H:]
                    gi, go, gf, gc = (xw + hr).reshape(4, H)
                    i = act(f, cl(gi + pi * ct))
                    fg = 1 - i if input_forget else act(f, cl(gf + pf * ct))
                    ct = fg * ct + i * act(g, cl(gc))
                    o = act(f, cl(go + po * ct))
                    ht = o * act(h, ct)
                Y[t, d, b] = ht
            if L > 0:
                Yh[d, b], Yc[d, b] = ht, ct
    if layout:
        return Y.transpose(2, 0, 1, 3), Yh.transpose(1, 0, 2), Yc.transpose(1, 0, 2)
    return Y, Yh, Yc


# ---------------------------------------------------------------------------
# node_* cases
# ---------------------------------------------------------------------------

def node_case(op, T=5, N=1, I=3, H=4, direction="forward", layout=0, const=True, lens=None,
              lens_input=False, init=False, peep=False, outputs=("Y", "Y_h"), opset=14, seed=0,
              **attrs):
    """build() of one node: (model, inputs, references); attrs: the node's
    other attributes (acts, alpha, beta, clip, lbr, input_forget)."""
    def build():
        rng = np.random.default_rng(seed)
        D, G = (2 if direction == "bidirectional" else 1), GATES[op]

        def rnd(*shape, scale=0.5):
            return (scale * rng.standard_normal(shape)).astype(np.float32)
        xshape = (N, T, I) if layout else (T, N, I)
        sshape = (N, D, H) if layout else (D, N, H)
        vals = {"X": rnd(*xshape, scale=1.0), "W": rnd(D, G * H, I), "R": rnd(D, G * H, H),
                "B": rnd(D, 2 * G * H)}
        if lens is not None:
            vals["sequence_lens"] = np.array(lens, np.int32)
        if init:
            vals["initial_h"] = rnd(*sshape)
            if op == "LSTM":
                vals["initial_c"] = rnd(*sshape)
        if peep:
            vals["P"] = rnd(D, 3 * H)
        order = ["X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P"]
        names = [n if n in vals else "" for n in order]
        while names[-1] == "":
            names.pop()
        kw = {"hidden_size": H}
        if direction != "forward":
            kw["direction"] = direction
        if layout:
            kw["layout"] = layout
        for k, a in (("acts", "activations"), ("alpha", "activation_alpha"),
                     ("beta", "activation_beta"), ("clip", "clip"),
                     ("lbr", "linear_before_reset"), ("input_forget", "input_forget")):
            if k in attrs:
                kw[a] = attrs[k]
        node = helper.make_node(op, names, list(outputs), **kw)
        ys = dict(zip(("Y", "Y_h", "Y_c"), reference(
            op, vals["X"], vals["W"], vals["R"], vals["B"], vals.get("sequence_lens"),
            vals.get("initial_h"), vals.get("initial_c"), vals.get("P"), direction, layout,
            attrs.get("acts"), attrs.get("alpha"), attrs.get("beta"), attrs.get("clip"),
            attrs.get("lbr", 0), attrs.get("input_forget", 0))))
        # X and the runtime weights are graph inputs; constants are initializers
        runtime = [n for n in names if n == "X" or (n and not const and n != "sequence_lens")]
        if lens is not None and lens_input:
            runtime.append("sequence_lens")
        ins = [helper.make_tensor_value_info(
            n, TensorProto.INT32 if n == "sequence_lens" else TensorProto.FLOAT, vals[n].shape)
            for n in runtime]
        outs = [harness.value_info(o, ys[o].shape) for o in outputs if o]
        inits = {n: vals[n] for n in names if n and n not in runtime}
        m = harness.onnx_model([node], ins, outs, inits, opset)
        return m, [vals[n] for n in runtime], [ys[o] for o in outputs if o]
    return build


NODE_CASES = [
    ("node_rnn_forward_b1", node_case("RNN", init=True)),
    ("node_rnn_bidir_b5_relu_lens", node_case(
        "RNN", N=5, direction="bidirectional", lens=[5, 1, 0, 3, 9], lens_input=True,
        acts=["Relu", "Tanh"], outputs=("Y", "Y_h"))),
    ("node_rnn_reverse_layout1_inputs", node_case(
        "RNN", N=3, direction="reverse", layout=1, const=False, clip=0.5,
        acts=["LeakyRelu"], alpha=[0.2], init=True)),
    ("node_rnn_bidir_thresholded_affine", node_case(
        "RNN", N=2, direction="bidirectional", acts=["ThresholdedRelu", "Affine"],
        alpha=[0.1, 0.5], beta=[0.2], outputs=("", "Y_h"))),
    ("node_rnn_opset7", node_case("RNN", N=4, I=6, H=5, opset=7)),
    ("node_gru_forward_b1_lbr1", node_case("GRU", init=True, lbr=1)),
    ("node_gru_forward_b5_lbr0_lens", node_case(
        "GRU", N=5, T=6, lens=[6, 2, 4, 1, 6], init=True)),
    ("node_gru_bidir_b6_lbr1_lens_input", node_case(
        "GRU", N=6, direction="bidirectional", lbr=1, lens=[5, 0, 3, 7, 1, -2],
        lens_input=True, init=True)),
    ("node_gru_reverse_layout1_b4_inputs", node_case(
        "GRU", N=4, direction="reverse", layout=1, const=False, outputs=("Y",))),
    ("node_gru_bidir_acts", node_case(
        "GRU", N=2, direction="bidirectional", acts=["HardSigmoid", "Softsign", "Sigmoid", "Elu"],
        alpha=[0.25, 0.7], beta=[0.45], clip=2.0)),
    ("node_gru_big_packed", node_case("GRU", T=12, N=16, I=33, H=40, direction="bidirectional",
                                      lbr=1, outputs=("Y", "Y_h"))),
    ("node_lstm_forward_b1", node_case("LSTM", init=True, outputs=("Y", "Y_h", "Y_c"))),
    ("node_lstm_bidir_b5_peepholes_lens", node_case(
        "LSTM", N=5, direction="bidirectional", peep=True, lens=[5, 3, 1, 4, 2],
        lens_input=True, init=True, outputs=("Y", "Y_h", "Y_c"))),
    ("node_lstm_reverse_layout1_inputs", node_case(
        "LSTM", N=3, direction="reverse", layout=1, const=False, clip=1.0, input_forget=1,
        init=True, peep=True, outputs=("Y", "Y_h", "Y_c"))),
    ("node_lstm_bidir_acts", node_case(
        "LSTM", N=2, direction="bidirectional",
        acts=["Sigmoid", "Softplus", "ScaledTanh", "HardSigmoid", "Tanh", "Affine"],
        alpha=[1.5, 0.3, 0.8], beta=[0.7, 0.4, 0.1], outputs=("Y", "Y_h", "Y_c"))),
    ("node_lstm_b5_inputs_only_yc", node_case(
        "LSTM", T=7, N=5, const=False, lens=[7, 7, 3, 7, 0], outputs=("", "", "Y_c"))),
    ("node_lstm_big_packed", node_case("LSTM", T=10, N=8, I=40, H=48, init=True,
                                       outputs=("Y", "Y_h", "Y_c"))),
]


# ---------------------------------------------------------------------------
# torch_* cases: sequence classifiers exported from PyTorch
# ---------------------------------------------------------------------------

def torch_case(kind, opset, batch_first, layers=1, bidir=False, batch=3, T=9, feat=12, hid=32):
    def build():
        import torch
        torch.manual_seed(opset + layers + 7 * bidir + batch)

        class Classifier(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn = getattr(torch.nn, kind)(feat, hid, num_layers=layers,
                                                   batch_first=batch_first, bidirectional=bidir)
                self.head = torch.nn.Linear(hid * (2 if bidir else 1), 5)

            def forward(self, x):
                y = self.rnn(x)[0]
                return self.head(y[:, -1] if batch_first else y[-1])
        m = Classifier().eval()
        x = torch.randn((batch, T, feat) if batch_first else (T, batch, feat))
        with torch.no_grad():
            ref = m(x).numpy()
        return m, [x], [ref], opset
    return build


TORCH_CASES = [
    ("torch_lstm_o13_batch_first", torch_case("LSTM", 13, True)),
    ("torch_lstm_o17_time_major_b6", torch_case("LSTM", 17, False, batch=6)),
    ("torch_lstm_o17_bidir_2layers", torch_case("LSTM", 17, True, layers=2, bidir=True)),
    ("torch_gru_o13_time_major", torch_case("GRU", 13, False)),
    ("torch_gru_o17_batch_first_b6", torch_case("GRU", 17, True, batch=6)),
    ("torch_gru_o13_bidir_2layers", torch_case("GRU", 13, False, layers=2, bidir=True, batch=4)),
]


# ---------------------------------------------------------------------------
# stream_* cases: state in, state out, one frame per call
# ---------------------------------------------------------------------------

STREAM_C = r"""/* stream.c -- generated by tests/models/test_rnn.py: runs model %(N)s frame by
 * frame.  Inputs: the frame, then the states; outputs: the frame's output,
 * then the new states.  The states live in two caller buffers that swap
 * after every call.  Usage: stream DIR T: DIR/in_0.bin holds T frames,
 * in_<1+i>.bin state i's initial value; writes out_0.bin (T outputs) and
 * out_<1+i>.bin (the final states). */
#include "model.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS %(NS)d
static char path[4096];

static float *load(const char *dir, int i, size_t n)
{
	float *p = malloc(n * sizeof(float) + 1);
	FILE *f;
	sprintf(path, "%%s/in_%%d.bin", dir, i);
	f = fopen(path, "rb");
	if (!p || !f || fread(p, sizeof(float), n, f) != n)
		exit(3);
	fclose(f);
	return p;
}

static void save(const char *dir, int i, const float *p, size_t n)
{
	FILE *f;
	sprintf(path, "%%s/out_%%d.bin", dir, i);
	f = fopen(path, "wb");
	if (!f || fwrite(p, sizeof(float), n, f) != n || fclose(f) != 0)
		exit(3);
}

int main(int argc, char **argv)
{
	const size_t fx = %(P)s_INPUT0_SIZE, fy = %(P)s_OUTPUT0_SIZE;
	const size_t ss[NS] = {%(SIZES)s};
	long T = argc == 3 ? atol(argv[2]) : 0;
	float *x, *y, *state[NS], *next[NS], *tmp;
	unsigned char *ws_raw = malloc(%(P)s_WORKSPACE_SIZE + 64), *ws;
	if (argc != 3 || T <= 0 || !ws_raw || %(P)s_NUM_INPUTS != 1 + NS || %(P)s_NUM_OUTPUTS != 1 + NS)
		return 3;
	ws = ws_raw + (64 - (size_t)((uintptr_t)ws_raw %% 64)) %% 64;
	x = load(argv[1], 0, (size_t)T * fx);
	y = malloc((size_t)T * fy * sizeof(float));
	for (int i = 0; i < NS; i++) {
		state[i] = load(argv[1], 1 + i, ss[i]);
		next[i] = malloc(ss[i] * sizeof(float));
	}
	for (long t = 0; t < T; t++) {
		const void *in[1 + NS];
		void *out[1 + NS];
		in[0] = x + t * fx;
		out[0] = y + t * fy;
		for (int i = 0; i < NS; i++) {
			in[1 + i] = state[i];
			out[1 + i] = next[i];
		}
		if (%(N)s_run_v(in, out, ws) != 0)
			return 4;
		for (int i = 0; i < NS; i++)
			tmp = state[i], state[i] = next[i], next[i] = tmp;
	}
	save(argv[1], 0, y, (size_t)T * fy);
	for (int i = 0; i < NS; i++) {
		save(argv[1], 1 + i, state[i], ss[i]);
		free(state[i]);
		free(next[i]);
	}
	free(x);
	free(y);
	free(ws_raw);
	return 0;
}
"""


def stream_case(kind, opset, batch_first, batch=2, T=11, feat=10, hid=24, layers=2):
    """A model (frame, states...) -> (output, states...) around a GRU or
    LSTM: exported for one frame (streamed) and for all T (whole)."""
    def build():
        import torch
        torch.manual_seed(3 + opset)
        nstate = 2 if kind == "LSTM" else 1

        class Streamer(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.pre = torch.nn.Linear(feat, 16)
                self.rnn = getattr(torch.nn, kind)(16, hid, num_layers=layers,
                                                   batch_first=batch_first)
                self.head = torch.nn.Linear(hid, 1)

            def forward(self, x, *state):
                y, s = self.rnn(torch.tanh(self.pre(x)), state if nstate == 2 else state[0])
                s = s if nstate == 2 else (s,)
                return (torch.sigmoid(self.head(y)),) + tuple(s)
        m = Streamer().eval()
        x = torch.randn((batch, T, feat) if batch_first else (T, batch, feat))
        states = [0.5 * torch.randn(layers, batch, hid) for _ in range(nstate)]
        with torch.no_grad():
            refs = [r.numpy() for r in m(x, *states)]
        return m, x, states, refs, opset, batch_first
    return build


STREAM_CASES = [
    ("stream_gru_o13_batch_first", stream_case("GRU", 13, True)),
    ("stream_gru_o17_time_major", stream_case("GRU", 17, False, batch=1)),
    ("stream_lstm_o17_silero", stream_case("LSTM", 17, False, batch=1, hid=64, layers=1)),
]


# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------

# cases also built with OpenMP: bitwise the serial build on 1 and 3 threads
THREADED = ("node_gru_big_packed", "node_lstm_big_packed", "torch_lstm_o17_bidir_2layers")

def export(m, args, path, opset, names_in, names_out):
    import torch
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(m, tuple(args), path, opset_version=opset, input_names=names_in,
                          output_names=names_out)


def compare(got, refs, what):
    problems = [e for e in [harness.count_error(got, refs, what)] if e]
    if not problems:
        for k, (g, r) in enumerate(zip(got, refs)):
            e, _, _ = harness.tolerance_error(g, r, "%s output %d" % (what, k))
            if e:
                problems.append(e)
    return problems


def run_model(tostc, path, d, builds, inputs, refs, threads=False):
    """Compile PATH, build and run it for each (tag, cc): the problems.
    threads: the last build again with OpenMP (every threaded path taken,
    TR_PAR_MIN=1) on 1 and 3 threads, bitwise equal to it."""
    problems = []
    for tag, cc in builds + ([("openmp", builds[-1][1] + ["-fopenmp", "-DTR_PAR_MIN=1"])]
                             if threads else []):
        out_dir = os.path.join(d, tag)
        why, _, _, outs = harness.compile_model(tostc, path, out_dir, "m", cc)
        if why:
            return problems + ["%s: %s" % (tag, why)]
        if tag != "openmp":
            got = harness.execute(out_dir, inputs, outs)
            problems += compare(got, refs, tag)
            continue
        for n in (1, 3):
            par = harness.execute(out_dir, inputs, outs, env={"OMP_NUM_THREADS": str(n)})
            if any(not np.array_equal(a, b, equal_nan=True) for a, b in zip(par, got)):
                problems.append("OpenMP on %d threads: not bitwise the serial build" % n)
    return problems


def run_stream(tostc, d, builds, build):
    m, x, states, refs, opset, bf = build()
    T = x.shape[1 if bf else 0]
    frame = x[:, :1] if bf else x[:1]
    names_in = ["x"] + ["state%d" % i for i in range(len(states))]
    names_out = ["y"] + ["state%d_out" % i for i in range(len(states))]
    one, whole = os.path.join(d, "frame.onnx"), os.path.join(d, "whole.onnx")
    export(m, [frame] + states, one, opset, names_in, names_out)
    export(m, [x] + states, whole, opset, names_in, names_out)
    problems = []
    # frames in time order, (T, B, F) whatever the layout, and the states
    frames = np.ascontiguousarray((x.transpose(0, 1) if bf else x).numpy())
    st = [s.numpy() for s in states]
    for tag, cc in builds:
        out_dir = os.path.join(d, tag)
        why, P, ins, outs = harness.compile_model(tostc, one, out_dir, "m", None)
        if why:
            return problems + ["%s: %s" % (tag, why)]
        with open(os.path.join(out_dir, "stream.c"), "w") as f:
            f.write(STREAM_C % dict(N="m", P=P, NS=len(st), SIZES=", ".join(
                "%s_INPUT%d_SIZE" % (P, 1 + i) for i in range(len(st)))))
        e = harness.build(cc, out_dir, os.path.join(out_dir, "stream.c"),
                          os.path.join(out_dir, "stream"))
        if e:
            return problems + ["%s: %s" % (tag, e)]
        for i, a in enumerate([frames] + st):
            a.tofile(os.path.join(out_dir, "in_%d.bin" % i))
        rc, _, err = harness.run([os.path.join(out_dir, "stream"), out_dir, str(T)])
        if rc != 0:
            return problems + ["%s: stream %s %s" % (tag, harness.describe_rc(rc), err.strip())]
        y = np.fromfile(os.path.join(out_dir, "out_0.bin"), np.float32)
        y = y.reshape((T,) + outs[0][2])            # frame t's (B, 1, 1) or (1, B, 1)
        y = y.squeeze(2 if bf else 1)               # (T, B, 1)
        y = y.transpose(1, 0, 2) if bf else y        # the whole run's layout
        finals = [np.fromfile(os.path.join(out_dir, "out_%d.bin" % (1 + i)), np.float32)
                  .reshape(s.shape) for i, s in enumerate(st)]
        streamed = [y] + finals
        problems += compare(streamed, refs, tag + " frame by frame vs PyTorch")
        # tostc's whole-sequence build
        wdir = os.path.join(d, tag + "_whole")
        why, _, _, wouts = harness.compile_model(tostc, whole, wdir, "m", cc)
        if why:
            return problems + ["%s whole: %s" % (tag, why)]
        got = harness.execute(wdir, [x.numpy()] + st, wouts)
        problems += compare(got, refs, tag + " whole vs PyTorch")
        problems += compare(streamed, got, tag + " frame by frame vs whole")
    return problems


def main():
    cases = NODE_CASES + TORCH_CASES + STREAM_CASES
    tostc, work, cc, picked = harness.runner_args(__doc__, cases)
    builds = []
    isas = []
    for isa in ("plain", "native"):
        flags, kernels = harness.isa_build([cc] + CFLAGS, isa)
        if isa == "native" and kernels == harness.PLAIN:
            isas.append("native: skipped")
            continue
        builds.append((isa, flags))
        isas.append(kernels if isa == "plain" else "native: " + kernels)
    passed = failed = 0
    width = max(len(c[0]) for c in cases) + 2
    for name, build in picked:
        d = os.path.join(work, name)
        os.makedirs(d, exist_ok=True)
        try:
            if name.startswith("stream_"):
                problems = run_stream(tostc, d, builds, build)
            else:
                path = os.path.join(d, "model.onnx")
                if name.startswith("torch_"):
                    m, inputs, refs, opset = build()
                    export(m, inputs, path, opset, ["x"], ["y"])
                    inputs = [a.numpy() for a in inputs]
                else:
                    m, inputs, refs = build()
                    with open(path, "wb") as f:
                        f.write(m.SerializeToString())
                problems = run_model(tostc, path, d, builds, inputs, refs,
                                     threads=name in THREADED)
        except Exception as e:  # a runner error is a failure of the case, not a crash
            problems = ["%s: %s" % (type(e).__name__, e)]
        n = len(builds)
        if problems:
            failed += n
            print("FAIL %-*s %s" % (width, name, "; ".join(problems)))
        else:
            passed += n
            print("ok   %s" % name)
    print("rnn: %d passed, %d failed (%s)" % (passed, failed, " + ".join(isas)))
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
