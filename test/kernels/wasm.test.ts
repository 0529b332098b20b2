/**
 * wasm-backend specifics (the op-by-op agreement with cpu is agreement.test.ts): results do not
 * depend on the thread count (bitwise), normals meet the documented accuracy against the float64
 * oracle, the allocator recycles zeroed buffers, permutations reduce correctly, the thread option
 * is validated, and workers end with dispose.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { CpuBackend } from '../../src/kernels/cpu.ts';
import { normalAt } from '../../src/kernels/rng.ts';
import { createWasmBackend, type WasmBackend } from '../../src/kernels/wasm/index.ts';
import { permutePlan } from '../../src/kernels/wasm/backend.ts';
import { rng, uniform, wasmPair } from './helpers.ts';

const wasm = wasmPair();

describe('wasm backend', () => {
  test('reports its thread count in mode', () => {
    expect(wasm.one.mode).toMatch(/^wasm-simd(\+fma)? x1 threads$/);
    expect(wasm.two.mode).toMatch(/^wasm-simd(\+fma)? x2 threads$/);
    expect(wasm.two.name).toBe('wasm');
  });

  test('results are bitwise independent of the thread count', () => {
    // every output element is computed by one thread in a fixed order, so 1 and 2 threads agree exactly
    const random = rng(5);
    const a = uniform(random, 300 * 70);
    const b = uniform(random, 130 * 70);
    const run = (backend: WasmBackend): Float32Array[] => {
      const A = backend.upload(a);
      const B = backend.upload(b);
      const C = backend.alloc(300 * 130);
      backend.matmul(A, B, C, { batch: 1, m: 300, n: 130, k: 70, transB: true });
      const G = backend.alloc(a.length);
      backend.unary('gelu', A, G);
      const S = backend.alloc(a.length);
      backend.softmax(A, S, 300, 70, 0.3, 7);
      const Z = backend.alloc(100_003);
      backend.fillNormal(Z, 99, 3, 1);
      return [C, G, S, Z].map((x) => backend.readSync(x));
    };
    const [x, y] = [run(wasm.one), run(wasm.two)];
    x.forEach((values, i) => expect(y[i]).toEqual(values));
  });

  test('matmul over k longer than one k slice (256) agrees with cpu, every transpose', () => {
    const cpu = new CpuBackend();
    const random = rng(17);
    const [m, n, k] = [9, 21, 700];
    const a = uniform(random, m * k);
    const b = uniform(random, k * n);
    const c = uniform(random, m * n);
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const spec = { batch: 1, m, n, k, transA, transB, alpha: 0.5, accumulate: true };
        const want = cpu.upload(c);
        cpu.matmul(cpu.upload(a), cpu.upload(b), want, spec);
        const got = wasm.two.upload(c);
        wasm.two.matmul(wasm.two.upload(a), wasm.two.upload(b), got, spec);
        const w = cpu.readSync(want);
        const g = wasm.two.readSync(got);
        // float32 dot products: |error| ≤ k·2⁻²⁴·Σ|a||b| ≤ k·2⁻²⁴·k (|a|, |b| < 1), plus the accumulate
        for (let i = 0; i < w.length; i++) expect(Math.abs(g[i]! - w[i]!)).toBeLessThan(k * k * 2 ** -24 + 1e-6);
      }
    }
  });

  test('normals match the float64 oracle to 1e-6·max(1, |z|)', () => {
    // wat.ts: log/sin/cos polynomials with exact argument reduction; float32 rounding of the
    // product radius·cos adds 2⁻²⁴·|z|, so the documented 1e-6·max(1,|z|) bound has ~10× headroom
    const n = 400_000;
    for (const [seed, stream, offset] of [[0, 0, 0], [0xffffffff, 12345, 7], [42, 3, 1_000_001]] as const) {
      const z = wasm.two.alloc(n);
      wasm.two.fillNormal(z, seed, stream, offset);
      const got = wasm.two.readSync(z);
      wasm.two.free(z);
      let worst = 0;
      for (let i = 0; i < n; i++) {
        const want = normalAt(seed, stream, offset + i);
        worst = Math.max(worst, Math.abs(got[i]! - want) / Math.max(1, Math.abs(want)));
      }
      expect(worst).toBeLessThan(1e-6);
    }
  });

  test('perturbInPlace(+s) then (−s) restores θ to float32 rounding', () => {
    const theta = uniform(rng(11), 50_001);
    const p = wasm.two.upload(theta);
    wasm.two.perturbInPlace(p, 7, 9, 1e-3);
    wasm.two.perturbInPlace(p, 7, 9, -1e-3);
    const back = wasm.two.readSync(p);
    // two roundings of θ + s·z with |s·z| ≤ 6e-3: |error| ≤ 2·2⁻²⁴·(|θ| + 6e-3) < 1e-6 relative to 1
    for (let i = 0; i < theta.length; i++) expect(Math.abs(back[i]! - theta[i]!)).toBeLessThan(2 * 2 ** -24 * (Math.abs(theta[i]!) + 6e-3) + 1e-12);
  });

  test('freed buffers are recycled and come back zeroed', () => {
    const first = wasm.one.upload(Float32Array.from({ length: 1000 }, (_, i) => i + 1));
    const address = (first as unknown as { address: number }).address;
    wasm.one.free(first);
    const again = wasm.one.alloc(1000);
    expect((again as unknown as { address: number }).address).toBe(address);
    expect(wasm.one.readSync(again).every((x) => x === 0)).toBe(true);
  });

  test('deferred zeros of recycled buffers are honoured by accumulating and inherited ops', () => {
    const dirty = (n: number) => {
      const b = wasm.two.upload(Float32Array.from({ length: n }, () => 7));
      wasm.two.free(b);
      return wasm.two.alloc(n);
    };
    const a = wasm.two.upload(Float32Array.of(1, 2, 3, 4));
    const out = dirty(4);
    wasm.two.matmul(a, a, out, { batch: 1, m: 2, n: 2, k: 2, accumulate: true });
    expect([...wasm.two.readSync(out)]).toEqual([7, 10, 15, 22]);
    const table = dirty(6);
    wasm.two.embeddingBackward(Int32Array.of(2, 0), wasm.two.upload(Float32Array.of(1, 2, 3, 4)), table, 2);
    expect([...wasm.two.readSync(table)]).toEqual([3, 4, 0, 0, 1, 2]);
    const partial = dirty(5);
    wasm.two.write(partial, Float32Array.of(1, 2), 3);
    expect([...wasm.two.readSync(partial)]).toEqual([0, 0, 0, 1, 2]);
  });

  test('permutations reduce to a contiguous-run plan or fall back, and match cpu', () => {
    const cpu = new CpuBackend();
    const arb = fc.integer({ min: 1, max: 5 }).chain((rank) => fc.tuple(
      fc.array(fc.integer({ min: 1, max: 5 }), { minLength: rank, maxLength: rank }),
      fc.shuffledSubarray([...Array(rank).keys()], { minLength: rank, maxLength: rank }),
    ));
    fc.assert(fc.property(arb, ([shape, perm]) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = Float32Array.from({ length: n }, (_, i) => i);
      const want = cpu.alloc(n);
      cpu.permute(cpu.upload(x), want, shape, perm);
      const got = wasm.two.alloc(n);
      wasm.two.permute(wasm.two.upload(x), got, shape, perm);
      expect(wasm.two.readSync(got)).toEqual(cpu.readSync(want));
    }), { seed: 801, numRuns: 150 });
    expect(permutePlan([16, 4, 64, 32], [0, 2, 1, 3])).toEqual({ outer: [16, 64, 4], strides: [8192, 32, 2048], run: 32 });
    expect(permutePlan([3, 5], [1, 0])).toBeUndefined();
  });

  test('a thread count that is not a positive integer is refused', async () => {
    await expect(createWasmBackend({ threads: 0 })).rejects.toThrow(ConfigError);
    await expect(createWasmBackend({ threads: 1.5 })).rejects.toThrow('wasm backend threads');
    const saved = process.env.ZOLO_THREADS;
    process.env.ZOLO_THREADS = 'two';
    try {
      await expect(createWasmBackend()).rejects.toThrow('ZOLO_THREADS must be a positive integer, got NaN');
    } finally {
      if (saved === undefined) delete process.env.ZOLO_THREADS;
      else process.env.ZOLO_THREADS = saved;
    }
  });
});
