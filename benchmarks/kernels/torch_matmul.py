"""PyTorch float32 matmul GFLOP/s for zolo's kernel benchmark.

Usage: torch_matmul.py THREADS N [N ...]  -> prints one JSON object {version, threads, results: [...]}.
Each size: one warm-up product, then repeats until 1 s has passed (at least 3), median time.
"""
import json
import statistics
import sys
import time

import torch

threads = int(sys.argv[1])
sizes = [int(s) for s in sys.argv[2:]]
torch.set_num_threads(threads)
torch.manual_seed(0)
results = []
for n in sizes:
    a = torch.rand(n, n, dtype=torch.float32) * 2 - 1
    b = torch.rand(n, n, dtype=torch.float32) * 2 - 1
    torch.mm(a, b)
    times = []
    start = time.perf_counter()
    while len(times) < 3 or (time.perf_counter() - start < 1.0 and len(times) < 200):
        t0 = time.perf_counter()
        torch.mm(a, b)
        times.append(time.perf_counter() - t0)
    median = statistics.median(times)
    results.append({"n": n, "ms": median * 1e3, "gflops": 2 * n ** 3 / median / 1e9, "reps": len(times)})
print(json.dumps({"version": torch.__version__, "threads": torch.get_num_threads(), "results": results}))
