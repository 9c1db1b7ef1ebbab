#!/usr/bin/python3
"""Train a small ToST classifier on sklearn's 8x8 digits and export it.

Data: sklearn.datasets.load_digits (1797 images, 8x8, 10 classes), pixels
scaled to [0, 1] (x / 16); fixed split train_test_split(test_size=0.25,
random_state=0, stratify=None) -> 1347 train / 450 test images.

Model: tests/models/tost_ref.py's ToSTVision (the official ToST vision
architecture; parameter names as in RobinWu218/ToST tost_vision/tost.py and
XCiT, so state_dict keys match), scaled down:
  patch_embed.proj: conv3x3(1->16)+BN, GELU, conv3x3 stride 2 (16->32)+BN
                    -> 4x4 = 16 tokens of d = 32
  pos_embeder:      Fourier positional encoding (hidden 32) + 1x1 conv
  blocks[0..1]:     x += gamma1 * TSSA(norm1(x)); x += gamma2 * MLP(norm2(x))
  cls_attn_blocks[0]: XCiT class-attention block (tokens_norm=True)
  norm, head:       LayerNorm, Linear(32 -> 10) on the class token

Writes (next to this script):
  digits.safetensors  the trained state_dict (F32; num_batches_tracked I64)
  digits.onnx         the same model exported by torch.onnx (opset 17)
  digits_test.bin     the test split: int32 n, n*64 float32 pixels, n uint8 labels
  expected.txt        PyTorch's test accuracy and the logits of test image 0

Runs in well under a minute on one core: /usr/bin/python3 train.py
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "models"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

import tost_ref  # noqa: E402

D, HEADS, DEPTH = 32, 4, 2


def tost_digits():
    """The classifier: tost_ref.ToSTVision with a two-conv stem for 8x8
    grey images and one class-attention block (XCiT tokens_norm=True)."""
    model = tost_ref.ToSTVision(dim=D, depth=DEPTH, heads=HEADS, img=8, num_classes=10,
                                cls_depth=1, in_chans=1, patch_strides=(1, 2), tokens_norm=True)
    nn.init.trunc_normal_(model.cls_token, std=0.02)
    return model


def load_data():
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    y = digits.target.astype(np.int64)
    return train_test_split(x, y, test_size=0.25, random_state=0)


def main():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    xtr, xte, ytr, yte = load_data()
    xtr, ytr = torch.from_numpy(xtr), torch.from_numpy(ytr)
    xte_t = torch.from_numpy(xte)
    model = tost_digits()
    epochs, bs = 25, 32
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.05)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=epochs * ((len(xtr) + bs - 1) // bs))
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(len(xtr))
        total = 0.0
        for i in range(0, len(xtr), bs):
            idx = perm[i:i + bs]
            loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        if ep % 10 == 9 or ep == epochs - 1:
            print(f"epoch {ep + 1}: train loss {total / len(xtr):.4f}", flush=True)
    model.eval()
    with torch.no_grad():
        logits = torch.cat([model(xte_t[i:i + 1]) for i in range(len(xte_t))])
    pred = logits.argmax(1).numpy()
    correct = int((pred == yte).sum())
    acc = correct / len(yte)
    print(f"PyTorch test accuracy: {correct}/{len(yte)} = {acc:.4f}")

    tost_ref.save_safetensors(os.path.join(HERE, "digits.safetensors"), model.state_dict(),
                     {"format": "pt", "model": "ToSTDigits d32 h4 depth2"})
    dummy = torch.zeros(1, 1, 8, 8)
    torch.onnx.export(model, dummy, os.path.join(HERE, "digits.onnx"), opset_version=17,
                      input_names=["image"], output_names=["logits"], do_constant_folding=True)
    with open(os.path.join(HERE, "digits_test.bin"), "wb") as f:
        f.write(struct.pack("<i", len(xte)))
        f.write(xte.astype("<f4").tobytes())
        f.write(yte.astype(np.uint8).tobytes())
    with open(os.path.join(HERE, "expected.txt"), "w") as f:
        f.write(f"correct {correct}\ntotal {len(yte)}\n")
        f.write("logits0 " + " ".join(f"{v:.7g}" for v in logits[0].tolist()) + "\n")


if __name__ == "__main__":
    main()
