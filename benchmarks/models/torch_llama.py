#!/usr/bin/env python3
"""PyTorch beside zolo for `npm run bench:models`: one method on a random LLaMA, one fresh process.

    python torch_llama.py --peers DIR --config JSON --method forward|mezo|adamw|galore \
        --batch B --reps R --threads N

The model is written here from torch ops (no transformers): token embedding, per block
x += o(attn(rope(q(rms(x))), rope(k(rms(x))), v(rms(x)))) with causal scaled-dot-product attention,
x += down(silu(gate(rms(x))) * up(rms(x))), final RMSNorm, untied lm_head (LLaMA, rotate-half rotary).
The methods are the yardstick's own (DIR/torch_peer.py): MeZO's `mezo_step` (in-place,
seed-regenerated Gaussian noise, two forwards), torch.optim.AdamW, and its GaLoreAdamW (exact SVD
projector, refreshed in the warm-up step). Prints one JSON object of the ProbeResult shape
(benchmarks/models/shape.ts): ms per repetition, mezo's paired forwards, the warm-up step, and RSS
from /proc/self/status (VmRSS after the build, VmHWM after clear_refs reset it).
"""
import argparse
import json
import math
import sys
import time


def parse():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--peers", required=True, help="folder of torch_peer.py")
    ap.add_argument("--config", required=True, help="the model config as JSON (shape.ts LLAMA_130M)")
    ap.add_argument("--settings", required=True, help="step settings as JSON (shape.ts STEP_SETTINGS)")
    ap.add_argument("--method", choices=("forward", "mezo", "adamw", "galore"), required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--reps", type=int, required=True)
    ap.add_argument("--threads", type=int, default=2)
    return ap.parse_args()


args = parse()
sys.path.insert(0, args.peers)
import torch_peer  # noqa: E402  (sets OMP_WAIT_POLICY before torch loads)
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


class RmsNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, h, hd, f = c["dModel"], c["heads"], c["headDim"], c["dFf"]
        self.heads, self.head_dim = h, hd
        self.input_layernorm = RmsNorm(d, c["layerNormEps"])
        self.q_proj = nn.Linear(d, h * hd, bias=False)
        self.k_proj = nn.Linear(d, h * hd, bias=False)
        self.v_proj = nn.Linear(d, h * hd, bias=False)
        self.o_proj = nn.Linear(h * hd, d, bias=False)
        self.post_attention_layernorm = RmsNorm(d, c["layerNormEps"])
        self.gate_proj = nn.Linear(d, f, bias=False)
        self.up_proj = nn.Linear(d, f, bias=False)
        self.down_proj = nn.Linear(f, d, bias=False)

    def forward(self, x, cos, sin):  # [B, T, d] -> [B, T, d]
        b, t, _ = x.shape
        h = self.input_layernorm(x)
        split = lambda y: y.view(b, t, self.heads, self.head_dim).transpose(1, 2)  # noqa: E731  [B, H, T, D]
        q, k, v = split(self.q_proj(h)), split(self.k_proj(h)), split(self.v_proj(h))
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(b, t, -1)
        x = x + self.o_proj(y)
        h = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))


class Llama(nn.Module):
    """Returns next-token logits flattened to [B*T, vocab], the shape torch_peer.loss_fn expects."""

    def __init__(self, c):
        super().__init__()
        self.embed_tokens = nn.Embedding(c["vocab"], c["dModel"])
        self.layers = nn.ModuleList([Block(c) for _ in range(c["layers"])])
        self.norm = RmsNorm(c["dModel"], c["layerNormEps"])
        self.lm_head = nn.Linear(c["dModel"], c["vocab"], bias=False)
        inv = 1.0 / (c["ropeTheta"] ** (torch.arange(0, c["headDim"], 2).float() / c["headDim"]))
        angles = torch.outer(torch.arange(c["seq"]).float(), inv)
        self.register_buffer("cos", torch.cat((angles, angles), -1).cos(), persistent=False)
        self.register_buffer("sin", torch.cat((angles, angles), -1).sin(), persistent=False)
        for m in self.modules():  # transformers' LLaMA _init_weights
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, mean=0.0, std=c["initStd"])

    def forward(self, idx):
        t = idx.shape[1]
        x = self.embed_tokens(idx)
        for block in self.layers:
            x = block(x, self.cos[:t], self.sin[:t])
        return self.lm_head(self.norm(x)).view(-1, self.lm_head.out_features)


def lcg_batch(batch, seq, vocab):
    """The token ids probe.ts draws (the same LCG), and their next-token targets (-100: none)."""
    state, ids = 12345, []
    for _ in range(batch * seq):
        state = (state * 1103515245 + 12345) & 0xFFFFFFFF
        ids.append((state >> 8) % vocab)
    idx = torch.tensor(ids, dtype=torch.long).view(batch, seq)
    targets = torch.full_like(idx, -100)
    targets[:, :-1] = idx[:, 1:]
    return idx, targets.view(-1)


def main():
    c, s = json.loads(args.config), json.loads(args.settings)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = Llama(c).float()
    batch = lcg_batch(args.batch, c["seq"], c["vocab"])
    params = [p for p in model.parameters()]

    def forward():
        with torch.no_grad():
            torch_peer.loss_fn(model, batch).item()

    if args.method == "forward":
        step = forward
    elif args.method == "mezo":
        seeds = iter(range(1, 10**6))

        def step():
            torch_peer.mezo_step(model, params, batch, next(seeds), s["eps"], s["mezoLr"], 0.0)
    else:
        if args.method == "adamw":
            opt = torch.optim.AdamW(params, lr=s["adamLr"], weight_decay=s["weightDecay"])
        else:
            targets = [m.weight for blk in model.layers for m in
                       (blk.q_proj, blk.k_proj, blk.v_proj, blk.o_proj, blk.gate_proj, blk.up_proj, blk.down_proj)]
            opt = torch_peer.GaLoreAdamW(params, targets, lr=s["adamLr"], weight_decay=s["weightDecay"],
                                         rank=s["galoreRank"], gap=s["galoreGap"], alpha=s["galoreScale"])

        def step():
            opt.zero_grad(set_to_none=True)
            torch_peer.loss_fn(model, batch).backward()
            opt.step()

    def timed(fn):
        t0 = time.perf_counter()
        fn()
        return (time.perf_counter() - t0) * 1e3

    baseline = torch_peer.proc_status_kb("VmRSS")
    reset = torch_peer.reset_peak_rss()
    paired = args.method == "mezo"
    if paired:
        forward()
    first = timed(step)
    ms, forward_ms = [], []
    for _ in range(args.reps):
        if paired:
            forward_ms.append(timed(forward))
        ms.append(timed(step))
    out = {
        "method": args.method, "ms": ms, "firstMs": first,
        "rss": {"baselineKb": baseline, "peakKb": torch_peer.proc_status_kb("VmHWM") if reset else math.nan},
        "parameters": sum(p.numel() for p in params),
        "runtime": {"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": torch_peer.blas_name(),
                    "peakRssReset": reset},
    }
    if paired:
        out["forwardMs"] = forward_ms
    print(json.dumps(out))


main()
