# The PyTorch figures `npm run bench` sets beside ours, measured in the same run: a 1024^3 fp32 matmul and one
# training step of the 0.8M-parameter GPT in our architecture (src/model/llama.ts: vocab 64, context 64, hidden 128,
# 4 layers of 4 heads, RMSNorm, rotary positions, SwiGLU of width 344, tied embeddings; batch 32, cross-entropy at
# every position, AdamW at 1e-3). Prints one JSON object.
import argparse
import json
import time

import torch
import torch.nn.functional as F

V, T, D, LAYERS, HEADS, FF, B = 64, 64, 128, 4, 4, 344, 32


def rms_norm(x, w, eps=1e-5):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope_tables(hd):
    inv = 1.0 / (10000 ** (torch.arange(0, hd, 2).float() / hd))
    angles = torch.outer(torch.arange(T).float(), inv)  # [T, hd/2]
    return angles.cos(), angles.sin()


def rope(x, cos, sin):  # x [B, H, T, hd], rotating the two halves of each head
    a, b = x.chunk(2, dim=-1)
    return torch.cat([a * cos - b * sin, a * sin + b * cos], dim=-1)


class Gpt(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Parameter(torch.randn(V, D) * 0.02)
        self.blocks = torch.nn.ModuleList()
        for _ in range(LAYERS):
            block = torch.nn.Module()
            block.norm1, block.norm2 = torch.nn.Parameter(torch.ones(D)), torch.nn.Parameter(torch.ones(D))
            block.qkvo = torch.nn.Parameter(torch.randn(4, D, D) * 0.02)
            block.gate = torch.nn.Parameter(torch.randn(D, FF) * 0.02)
            block.up = torch.nn.Parameter(torch.randn(D, FF) * 0.02)
            block.down = torch.nn.Parameter(torch.randn(FF, D) * 0.02)
            self.blocks.append(block)
        self.norm = torch.nn.Parameter(torch.ones(D))
        self.cos, self.sin = rope_tables(D // HEADS)
        self.mask = torch.full((T, T), float("-inf")).triu(1)

    def forward(self, ids):  # ids [B, T] -> logits [B, T, V]
        x = self.embed[ids]
        hd = D // HEADS
        for blk in self.blocks:
            h = rms_norm(x, blk.norm1)
            q, k, v = (torch.matmul(h, blk.qkvo[i]).view(B, T, HEADS, hd).transpose(1, 2) for i in range(3))
            q, k = rope(q, self.cos, self.sin), rope(k, self.cos, self.sin)
            att = torch.softmax(q @ k.transpose(-1, -2) / hd ** 0.5 + self.mask, dim=-1)
            x = x + torch.matmul((att @ v).transpose(1, 2).reshape(B, T, D), blk.qkvo[3])
            h = rms_norm(x, blk.norm2)
            x = x + torch.matmul(F.silu(h @ blk.gate) * (h @ blk.up), blk.down)
        return rms_norm(x, self.norm) @ self.embed.t()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=15)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    x, y = torch.randn(1024, 1024), torch.randn(1024, 1024)
    x @ y
    gemm = []
    for _ in range(max(5, a.repeats // 3)):
        t = time.perf_counter()
        x @ y
        gemm.append(2 * 1024 ** 3 / (time.perf_counter() - t) / 1e9)
    model = Gpt()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    ids, targets = torch.randint(0, V, (B, T)), torch.randint(0, V, (B, T))

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(ids).reshape(-1, V), targets.reshape(-1)).backward()
        opt.step()

    for _ in range(3):
        step()
    steps = []
    for _ in range(a.repeats):
        t = time.perf_counter()
        step()
        steps.append((time.perf_counter() - t) * 1000)
    median = lambda xs: sorted(xs)[len(xs) // 2]
    print(json.dumps({
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "gemm1024Gflops": round(median(gemm), 1),
        "gptStepMs": round(median(steps), 1),
        "gptParameters": sum(q.numel() for q in model.parameters()),
    }))


if __name__ == "__main__":
    main()
