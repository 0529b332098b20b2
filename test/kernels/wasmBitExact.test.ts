/**
 * The wasm kernels that replace cpu.ts's float64 loops (backward and optimizer ops) and the matmul
 * epilogues must give the cpu oracle's (resp. the unfused ops') float32 results bit for bit, on
 * 1 and 2 threads: a trajectory computed before they existed must replay exactly.
 */
import { describe, expect, test } from 'vitest';
import type { AdamSpec, DeviceBuffer } from '../../src/kernels/backend.ts';
import { CpuBackend } from '../../src/kernels/cpu.ts';
import { rng, uniform, wasmPair } from './helpers.ts';

const cpu = new CpuBackend();
const wasm = wasmPair();

/** Uniform values on [−scale, scale] with a few special ones (±0, large, tiny) mixed in; odd length to reach the scalar tails. */
function values(seed: number, length: number, scale: number): Float32Array {
  const random = rng(seed);
  const out = uniform(random, length).map((x) => x * scale);
  const specials = [0, -0, 30, -30, 1e-30, -1e-30, 6.5, -6.5];
  specials.forEach((x, i) => {
    out[(i * 7919) % length] = x;
  });
  return out;
}

type Run = (backend: CpuBackend, buffers: DeviceBuffer[]) => void;

/** Uploads `inputs` to each backend, runs `op`, and returns every buffer's contents per backend. */
function outputs(inputs: Float32Array[], op: Run): Float32Array[][] {
  return [cpu, wasm.one, wasm.two].map((backend) => {
    const buffers = inputs.map((x) => backend.upload(x));
    op(backend, buffers);
    const result = buffers.map((b) => backend.readSync(b).slice());
    for (const b of buffers) backend.free(b);
    return result;
  });
}

/** Number of elements whose bits differ from the reference, per buffer and backend (all must be 0). */
function expectBitwise(results: Float32Array[][]): void {
  const [reference, ...others] = results;
  const differing = others.map((other) => other.map((buffer, i) => {
    const want = new Uint32Array(reference![i]!.buffer.slice(0));
    const got = new Uint32Array(buffer.buffer.slice(0));
    return got.reduce((count, bits, j) => count + (bits === want[j] ? 0 : 1), 0);
  }));
  expect(differing).toEqual(others.map((other) => other.map(() => 0)));
}

const N = 40_003;

describe('wasm float64 kernels reproduce the cpu loops bit for bit', () => {
  const spec = (weightDecay: number, step: number): AdamSpec => ({ lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay, step });
  const state = (): Float32Array[] => [values(3, N, 1), values(4, N, 0.1), values(5, N, 0.01), values(6, N, 1e-4).map(Math.abs)];

  test.each([[0, 1], [0.01, 7]])('adamStep (weight decay %s, step %s)', (weightDecay, step) => {
    expectBitwise(outputs(state(), (b, [p, g, m, v]) => {
      // two steps, so the second reads moments the first wrote
      b.adamStep(p!, g!, m!, v!, spec(weightDecay, step));
      b.adamStep(p!, g!, m!, v!, spec(weightDecay, step + 1));
    }));
  });

  test('adamDirection', () => {
    expectBitwise(outputs([...state(), new Float32Array(N)], (b, [, g, m, v, out]) => b.adamDirection(g!, m!, v!, out!, spec(0, 3))));
  });
});

describe('wasm kernels that call Math.exp and Math.tanh reproduce the cpu loops bit for bit', () => {
  test.each([['exp64', Math.exp], ['tanh64', Math.tanh]] as const)('%s is Math\'s (fdlibm) bit for bit: special values, every branch of the reduction, 10⁶ random arguments', (name, reference) => {
    const specials = [0, -0, 1, -1, 0.5, -0.5, 2 ** -28, -(2 ** -29), 2 ** -55, 0.34657359027997264, 0.3465735902799727, 1.0397207708399179,
      0.25, -0.25, -0.3, 21.99, 22, -22, 39, 40, 709.78, 709.7827128933841, 709.79, -708.4, -745.13, -745.14, -1e-300, 5e-324, 1e300, -1e300,
      Infinity, -Infinity, NaN];
    const random = rng(17);
    const args = [...specials, ...Array.from({ length: 1_000_000 }, (_, i) => {
      const u = random();
      // where the kernels read them (softmax: x ≤ 0; GELU: |u| ≲ 10), both tails, and the small-|x| branches
      return i % 4 === 0 ? (u - 0.5) * 1500 : i % 4 === 1 ? (u - 0.5) * 20 : i % 4 === 2 ? -u * 100 : (u - 0.5) * 2 ** -Math.floor(u * 60);
    })];
    const differing = args.filter((x) => !Object.is(wasm.two.libm(name, x), reference(x)));
    expect(differing.slice(0, 5)).toEqual([]);
  });

  test('the two-lane exp is Math.exp in each lane, on its vector path (−708 < x ≤ 0) and when a lane sends both to the scalar one', () => {
    const random = rng(19);
    const onPath = [0, -0, -(2 ** -29), -(2 ** -28), -0.34657359027997264, -0.3465735902799727, -1.0397207708399179, -1.04, -707.9, -700];
    const args = [...onPath, ...Array.from({ length: 300_000 }, (_, i) => {
      const u = random();
      return i % 3 === 0 ? -u * 708 : i % 3 === 1 ? -u * 2 : -u * 2 ** -Math.floor(u * 40);
    })];
    const offPath = [1, 0.5, -708.5, -800, NaN, Infinity, -Infinity];
    const pairs = [...args.map((x, i) => [x, args[(i * 7) % args.length]!]), ...offPath.map((y, i) => [args[i]!, y])];
    const differing = pairs.filter(([x, y]) => !Object.is(wasm.two.libm('exp64x2_lane0', x!, y!), Math.exp(x!))
      || !Object.is(wasm.two.libm('exp64x2_lane1', x!, y!), Math.exp(y!)));
    expect(differing.slice(0, 5)).toEqual([]);
  });

  test('geluBackward', () => {
    // GELU's argument spans tanh's branches: |u| < 2⁻²⁸, < 1, ≥ 1, ≥ 22
    const x = values(31, N, 8);
    expectBitwise(outputs([x, values(32, N, 1), new Float32Array(N)], (b, [xs, dy, dx]) => b.geluBackward(xs!, dy!, dx!)));
  });

  // rows × vocab: one row; below and above the parallel threshold; a vocabulary-sized row
  test.each([[1, 7], [13, 100], [64, 1_000], [9, 32_000]])('%s rows × %s classes, loss and gradient, ignored targets', (rows, cols) => {
    const logits = values(21, rows * cols, 30);
    const targets = Int32Array.from({ length: rows }, (_, r) => (r % 5 === 3 ? -1 : (r * 7919) % cols));
    expectBitwise(outputs([logits, new Float32Array(rows), new Float32Array(rows * cols).fill(9)], (b, [l, losses, d]) =>
      b.crossEntropy(l!, targets, losses!, rows, cols, d!, 1 / rows)));
    expectBitwise(outputs([logits, new Float32Array(rows)], (b, [l, losses]) => b.crossEntropy(l!, targets, losses!, rows, cols)));
  });
});

describe('wasm reduce reproduces the cpu loop bit for bit', () => {
  // full 16-column groups, a partial last group, inner 1, several outer indices
  test.each([
    ['sum', [1, 2048, 512]], ['sum', [3, 37, 21]], ['mean', [2, 300, 33]], ['max', [5, 64, 17]], ['max', [4, 50, 1]], ['mean', [1, 1, 40]],
  ] as const)('%s over %j', (op, dims) => {
    const [outer, mid, inner] = dims;
    expectBitwise(outputs([values(41, outer * mid * inner, 3), new Float32Array(outer * inner).fill(7)], (b, [a, out]) => b.reduce(op, a!, out!, [outer, mid, inner])));
  });
});

describe('wasm matmul epilogue equals matmul, bias add and GELU in turn, bit for bit', () => {
  // k 70: one k slice; k 600: three (the epilogue must wait for the last); m, n not multiples of the 4 × 8 block
  test.each([
    [1, 37, 19, 70, true, true],
    [1, 64, 40, 600, true, true],
    [1, 64, 40, 600, true, false],
    [1, 33, 24, 130, false, true],
    [3, 9, 13, 300, true, true],
  ])('batch %s, [%s×%s]·[%s]ᵀ, bias %s, gelu %s', (batch, m, n, k, withBias, gelu) => {
    const a = values(11, batch * m * k, 2);
    const b = values(12, n * k, 0.3);
    const bias = values(13, n, 1);
    const spec = { batch, m, n, k, transB: true, bBatchStride: 0 };
    for (const backend of [wasm.one, wasm.two]) {
      const [A, B, BIAS] = [a, b, bias].map((x) => backend.upload(x));
      const fused = backend.alloc(batch * m * n);
      backend.matmulEpilogue(A!, B!, fused, spec, { bias: withBias ? BIAS : undefined, gelu });
      const unfused = backend.alloc(batch * m * n);
      backend.matmul(A!, B!, unfused, spec);
      if (withBias) backend.binary('add', unfused, BIAS!, unfused, [1, batch * m, n], [0, 0, 1]);
      const activated = backend.alloc(batch * m * n);
      if (gelu) backend.unary('gelu', unfused, activated);
      const want = new Uint32Array(backend.readSync(gelu ? activated : unfused).slice().buffer);
      const got = new Uint32Array(backend.readSync(fused).slice().buffer);
      expect(got.reduce((count, bits, j) => count + (bits === want[j] ? 0 : 1), 0)).toBe(0);
      for (const x of [A, B, BIAS, fused, unfused, activated]) backend.free(x!);
    }
  });
});

describe('wasm backward kernels reproduce the cpu loops bit for bit', () => {
  test.each([[300, 37], [7, 130]])('layerNormBackward, %s rows × %s columns (dγ, dβ accumulated into)', (rows, cols) => {
    const x = values(21, rows * cols, 3);
    const gamma = values(22, cols, 1.5);
    const mean = values(23, rows, 0.5);
    const rstd = values(24, rows, 2).map(Math.abs);
    const dy = values(25, rows * cols, 1);
    // earlier contributions in dγ, dβ: the kernel adds to them
    const dGamma = values(26, cols, 0.1);
    const dBeta = values(27, cols, 0.1);
    expectBitwise(outputs([x, gamma, mean, rstd, dy, new Float32Array(rows * cols), dGamma, dBeta], (b, [X, G, M, R, DY, DX, DG, DB]) =>
      b.layerNormBackward(X!, G!, M!, R!, DY!, DX!, DG!, DB!, { rows, cols, eps: 1e-5 })));
  });

  test.each([[500, 64], [9, 37]])('softmaxBackward, %s rows × %s columns', (rows, cols) => {
    const y = values(31, rows * cols, 1).map(Math.abs);
    expectBitwise(outputs([y, values(32, rows * cols, 2), new Float32Array(rows * cols)], (b, [Y, DY, DX]) =>
      b.softmaxBackward(Y!, DY!, DX!, rows, cols, 0.125)));
  });
});

describe('wasm embedding backward reproduces the cpu loop bit for bit', () => {
  test('scatter-add with repeated ids (order over rows matters)', () => {
    const rows = 700;
    const dim = 40;
    const ids = Int32Array.from({ length: rows }, (_, r) => (r * 7919) % 23);
    expectBitwise(outputs([values(41, rows * dim, 2), values(42, 23 * dim, 0.5)], (b, [DY, DT]) => b.embeddingBackward(ids, DY!, DT!, dim)));
  });
});
