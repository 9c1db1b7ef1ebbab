#!/usr/bin/python3
"""
train.py -- a character-level causal ToST language model, trained here on
the text of the GNU GPL version 3 as Debian's base-files package ships it
(/usr/share/common-licenses/GPL-3, 35149 characters), exported to ONNX for
tostc's step API (samples/charlm/README.md).

    /usr/bin/python3 samples/charlm/train.py [--steps N] [--seconds S]

The model is tests/models/tost_ref.py's ToSTLM (nanoGPT layout with causal
TSSA attention, as in the official tost_lang/model_TSSA.py): d 64, 2 layers,
4 heads, block 128, vocabulary = the characters of the text.  One CPU
thread, AdamW with warm-up and cosine decay, random 128-character windows,
--steps (default 1500) steps of 8 windows: about a minute on one idle core
(--seconds caps the wall time).

Writes, next to this file:
  charlm.onnx   the model, input idx i64 (1, 128) -> logits f32 (1, 128, V)
  vocab.h       the characters as a C string (index = token id)
  expected.txt  the validation loss, and main.c's default continuations
                (greedy, -g; sampled at temperature 0.8, seed 1) from PyTorch
"""
import argparse
import math
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "models"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import tost_ref  # noqa: E402

TEXT = "/usr/share/common-licenses/GPL-3"
DIM, DEPTH, HEADS, BLOCK = 64, 2, 4, 128
LR = 2e-3


def c_string(chars):
    out = []
    for ch in chars:
        if ch == "\n":
            out.append("\\n")
        elif ch in "\\\"":
            out.append("\\" + ch)
        elif 32 <= ord(ch) < 127:
            out.append(ch)
        else:
            out.append("\\%03o" % ord(ch))
    return "".join(out)


class XorShift:
    """main.c's random numbers, bit for bit."""
    def __init__(self, seed):
        self.x = (88172645463325252 + seed * 0x9E3779B97F4A7C15) % 2 ** 64

    def uniform(self):
        x = self.x
        x ^= (x << 13) % 2 ** 64
        x ^= x >> 7
        x ^= (x << 17) % 2 ** 64
        self.x = x
        return (x >> 11) / 9007199254740992.0


def pick(logits, temp, rng):
    """main.c's pick(): argmax, or sampling at temperature temp (float32 logits)."""
    best = int(np.argmax(logits))
    if temp <= 0:
        return best
    p = [math.exp(float(logits[v] - logits[best]) / temp) for v in range(len(logits))]
    u = rng.uniform() * sum(p)
    for v in range(len(p)):
        u -= p[v]
        if u <= 0:
            return v
    return best


def generate(m, ids, temp, seed):
    """Continue ids to BLOCK tokens as main.c does (one full-window run per token)."""
    ids = list(ids)
    rng = XorShift(seed)
    while len(ids) < BLOCK:
        x = torch.tensor([ids + [0] * (BLOCK - len(ids))])
        logits = m(x)[0, len(ids) - 1].numpy().astype(np.float32)
        ids.append(pick(logits, temp, rng))
    return ids


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--seconds", type=float, default=600.0)
    ap.add_argument("--batch", type=int, default=8)
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(1234)

    text = open(TEXT, encoding="ascii").read()
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
    n = int(0.9 * len(data))
    train, val = data[:n], data[n:]

    m = tost_ref.ToSTLM(DIM, DEPTH, HEADS, len(chars), BLOCK, BLOCK)
    for name, p in m.named_parameters():          # nanoGPT-style init
        if p.dim() == 2:
            nn.init.normal_(p, 0.0, 0.02)
    opt = torch.optim.AdamW(m.parameters(), lr=LR, weight_decay=0.01)

    def batch(src, b):
        ix = torch.randint(len(src) - BLOCK - 1, (b,))
        x = torch.stack([src[i:i + BLOCK] for i in ix])
        y = torch.stack([src[i + 1:i + BLOCK + 1] for i in ix])
        return x, y

    def loss_of(x, y):
        return F.cross_entropy(m(x).reshape(-1, len(chars)), y.reshape(-1))

    t0 = time.time()
    step = 0
    m.train()
    while step < a.steps and time.time() - t0 < a.seconds:
        lr = LR * min(1.0, (step + 1) / 100) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / a.steps)))
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = batch(train, a.batch)
        loss = loss_of(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
        if step % 200 == 0:
            print("step %4d  loss %.3f  %.0f s" % (step, loss.item(), time.time() - t0), flush=True)
        step += 1
    m.eval()
    with torch.no_grad():
        torch.manual_seed(0)
        vl = sum(loss_of(*batch(val, 16)).item() for _ in range(8)) / 8
        # main.c's default continuations of its default prompt, for expected.txt
        prompt = [stoi[c] for c in "The GNU General Public License"]
        greedy = "".join(chars[i] for i in generate(m, prompt, 0.0, 1))
        sample = "".join(chars[i] for i in generate(m, prompt, 0.8, 1))
    print("trained %d steps in %.0f s; validation loss %.3f (%.2f bits/char)"
          % (step, time.time() - t0, vl, vl / math.log(2)))
    print(sample)
    print(greedy)

    tost_ref.export(m, os.path.join(HERE, "charlm.onnx"), 17, seq=BLOCK,
                    x=torch.zeros(1, BLOCK, dtype=torch.long))
    with open(os.path.join(HERE, "vocab.h"), "w") as f:
        f.write("/* vocab.h -- generated by train.py: token id -> character (%d), from %s */\n"
                % (len(chars), TEXT))
        f.write("#define VOCAB_SIZE %d\nstatic const char VOCAB[VOCAB_SIZE + 1] = \"%s\";\n"
                % (len(chars), c_string(chars)))
    with open(os.path.join(HERE, "expected.txt"), "w") as f:
        f.write("steps %d\nvalidation_loss %.4f\ngreedy %s\nsample %s\n"
                % (step, vl, c_string(greedy), c_string(sample)))


if __name__ == "__main__":
    main()
