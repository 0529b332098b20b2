/**
 * Every op of every registered backend agrees with the cpu reference within the backend's stated
 * tolerance (helpers.ts: |got − want| ≤ factor · L · u · scale, the γ_L rounding bound of an f32
 * computation over L terms of total magnitude `scale`). Ops that must be exact (permute, max,
 * embedding gather, random bits) are checked with scale 0. Shapes come from fast-check with fixed
 * seeds and include 1, primes and non-multiples of 4. Backends registered later (e.g. `wasm`) are
 * covered automatically through registeredBackends().
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, test } from 'vitest';
import type { AdamSpec, Backend, BinaryOp, DeviceBuffer, Dims3, ReduceOp, UnaryOp } from '../../src/kernels/backend.ts';
import { CpuBackend } from '../../src/kernels/index.ts';
import { abs, dim, expectClose, open, rng, targets, uniform } from './helpers.ts';

const cpu = new CpuBackend();
const RUNS = 12;

type Op = (backend: Backend, inputs: DeviceBuffer[], outputs: DeviceBuffer[]) => void;

/** Uploads inputs and initial outputs, runs op, reads every output back. */
async function run(backend: Backend, inputs: Float32Array[], outputs: Float32Array[], op: Op): Promise<Float32Array[]> {
  const ins = inputs.map((values) => backend.upload(values));
  const outs = outputs.map((values) => backend.upload(values));
  op(backend, ins, outs);
  const results: Float32Array[] = [];
  for (const buffer of outs) results.push(await backend.read(buffer));
  for (const buffer of [...ins, ...outs]) backend.free(buffer);
  return results;
}

function maxAbs(...arrays: Float32Array[]): number {
  let max = 0;
  for (const values of arrays) for (const value of values) if (Math.abs(value) > max) max = Math.abs(value);
  return max;
}

const seedArb = fc.integer({ min: 0, max: 2 ** 31 - 1 });

for (const target of targets().filter((t) => t.name !== 'cpu')) {
  describe(`${target.label} agrees with cpu`, () => {
    let backend: Backend;
    const factor = target.factor;
    beforeAll(async () => {
      backend = await open(target);
    });
    afterAll(() => backend.dispose());

    /** Runs op on both backends and checks every output with the given bound per output. */
    async function agree(
      label: string, inputs: Float32Array[], outputs: Float32Array[], op: Op,
      bound: (want: Float32Array[], index: number) => { terms: number; scale: ArrayLike<number> | number },
    ): Promise<void> {
      const want = await run(cpu, inputs, outputs, op);
      const got = await run(backend, inputs, outputs, op);
      want.forEach((w, index) => {
        const { terms, scale } = bound(want, index);
        expectClose(`${target.label} ${label} output ${index}`, got[index]!, w, factor, terms, scale);
      });
    }

    test('matmul: trans flags, batch, broadcast strides, alpha, accumulate', async () => {
      const arb = fc.record({
        batch: fc.integer({ min: 1, max: 3 }), m: dim(), n: dim(), k: dim(),
        transA: fc.boolean(), transB: fc.boolean(), shareA: fc.boolean(), shareB: fc.boolean(),
        accumulate: fc.boolean(), alpha: fc.constantFrom(1, -0.5, 2.5), seed: seedArb,
      });
      await fc.assert(fc.asyncProperty(arb, async (c) => {
        const random = rng(c.seed);
        const a = uniform(random, (c.shareA ? 1 : c.batch) * c.m * c.k);
        const b = uniform(random, (c.shareB ? 1 : c.batch) * c.k * c.n);
        const out = c.accumulate ? uniform(random, c.batch * c.m * c.n) : new Float32Array(c.batch * c.m * c.n);
        const spec = {
          batch: c.batch, m: c.m, n: c.n, k: c.k, transA: c.transA, transB: c.transB, alpha: c.alpha,
          accumulate: c.accumulate, aBatchStride: c.shareA ? 0 : c.m * c.k, bBatchStride: c.shareB ? 0 : c.k * c.n,
        };
        const op: Op = (be, [A, B], [C]) => be.matmul(A!, B!, C!, spec);
        // scale_ij = |alpha|·Σ_t |a_it||b_tj| + |c_ij|, computed by the reference on absolute values
        const [scale] = await run(cpu, [abs(a), abs(b)], [abs(out)], (be, [A, B], [C]) =>
          be.matmul(A!, B!, C!, { ...spec, alpha: Math.abs(c.alpha) }));
        await agree('matmul', [a, b], [out], op, () => ({ terms: c.k + 2, scale: scale! }));
      }), { seed: 101, numRuns: 40 });
    });

    test('permute up to 6 axes is exact', async () => {
      const arb = fc.integer({ min: 1, max: 6 }).chain((rank) => fc.record({
        shape: fc.array(dim(5), { minLength: rank, maxLength: rank }),
        perm: fc.shuffledSubarray([...Array(rank).keys()], { minLength: rank, maxLength: rank }),
        seed: seedArb,
      }));
      await fc.assert(fc.asyncProperty(arb, async ({ shape, perm, seed }) => {
        const size = shape.reduce((p, d) => p * d, 1);
        const a = uniform(rng(seed), size);
        await agree('permute', [a], [new Float32Array(size)], (be, [A], [O]) => be.permute(A!, O!, shape, perm), () => ({ terms: 0, scale: 0 }));
      }), { seed: 102, numRuns: RUNS * 2 });
    });

    test('binary ops with broadcast strides', async () => {
      const ops: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'max', 'min'];
      const arb = fc.record({
        op: fc.constantFrom(...ops), outer: dim(9), mid: dim(9), inner: dim(9),
        broadcast: fc.tuple(fc.boolean(), fc.boolean(), fc.boolean()), seed: seedArb,
      });
      await fc.assert(fc.asyncProperty(arb, async (c) => {
        const dims: Dims3 = [c.outer, c.mid, c.inner];
        const strides = [0, 0, 0];
        let stride = 1;
        for (let axis = 2; axis >= 0; axis--) {
          if (!c.broadcast[axis]) {
            strides[axis] = stride;
            stride *= dims[axis]!;
          }
        }
        const random = rng(c.seed);
        const a = uniform(random, c.outer * c.mid * c.inner, -3, 3);
        // divisors kept in ±[0.5, 2] so div is well conditioned
        const b = uniform(random, stride, 0.5, 2).map((v, i) => (i % 2 === 0 ? v : -v));
        const bStrides = strides as unknown as Dims3;
        await agree(`binary ${c.op}`, [a, b], [new Float32Array(a.length)],
          (be, [A, B], [O]) => be.binary(c.op, A!, B!, O!, dims, bStrides),
          ([want]) => ({ terms: 2, scale: want!.map((w, i) => Math.abs(w) + Math.abs(a[i]!) + 2) }));
      }), { seed: 103, numRuns: RUNS * 3 });
    });

    test('every unary op', async () => {
      const ops: UnaryOp[] = ['neg', 'exp', 'log', 'sqrt', 'rsqrt', 'square', 'abs', 'relu', 'gelu', 'tanh', 'sign', 'sigmoid'];
      const positive = new Set<UnaryOp>(['log', 'sqrt', 'rsqrt']);
      for (const op of ops) {
        await fc.assert(fc.asyncProperty(dim(300), seedArb, async (n, seed) => {
          const x = positive.has(op) ? uniform(rng(seed), n, 0.05, 3) : uniform(rng(seed), n, -3, 3);
          if (!positive.has(op) && n > 2) x[1] = 0;
          await agree(`unary ${op}`, [x], [new Float32Array(n)], (be, [A], [O]) => be.unary(op, A!, O!),
            // a handful of f32 operations on O(1) values: L = 8 terms of size |x| + |y| + 1
            ([want]) => ({ terms: 8, scale: want!.map((w, i) => Math.abs(w) + Math.abs(x[i]!) + 1) }));
        }), { seed: 104, numRuns: 4 });
      }
    });

    test('affine, axpby, geluBackward', async () => {
      await fc.assert(fc.asyncProperty(dim(300), seedArb, fc.constantFrom(-1.5, 0, 0.3), fc.constantFrom(1, -2, 0.25), async (n, seed, alpha, beta) => {
        const random = rng(seed);
        const x = uniform(random, n, -3, 3);
        const y = uniform(random, n, -3, 3);
        const scale = (want: Float32Array) => want.map((w, i) => Math.abs(w) + Math.abs(x[i]!) + Math.abs(y[i]!) + 1);
        await agree('affine', [x], [new Float32Array(n)], (be, [A], [O]) => be.affine(A!, O!, alpha, beta), ([w]) => ({ terms: 3, scale: scale(w!) }));
        await agree('axpby', [x], [y], (be, [X], [Y]) => be.axpby(alpha, X!, beta, Y!), ([w]) => ({ terms: 3, scale: scale(w!) }));
        await agree('geluBackward', [x, y], [new Float32Array(n)], (be, [X, DY], [DX]) => be.geluBackward(X!, DY!, DX!),
          ([w]) => ({ terms: 16, scale: scale(w!).map((s, i) => s * (1 + x[i]! * x[i]!)) }));
      }), { seed: 105, numRuns: RUNS });
    });

    test('reduce sum/mean/max over the middle axis, and sumSquares', async () => {
      const arb = fc.record({ op: fc.constantFrom<ReduceOp>('sum', 'mean', 'max'), outer: dim(12), mid: dim(30), inner: dim(12), seed: seedArb });
      await fc.assert(fc.asyncProperty(arb, async (c) => {
        const dims: Dims3 = [c.outer, c.mid, c.inner];
        const a = uniform(rng(c.seed), c.outer * c.mid * c.inner);
        const [absSum] = await run(cpu, [abs(a)], [new Float32Array(c.outer * c.inner)], (be, [A], [O]) => be.reduce('sum', A!, O!, dims));
        const scale = c.op === 'max' ? 0 : c.op === 'mean' ? absSum!.map((s) => s / c.mid) : absSum!;
        await agree(`reduce ${c.op}`, [a], [new Float32Array(c.outer * c.inner)], (be, [A], [O]) => be.reduce(c.op, A!, O!, dims),
          () => ({ terms: c.mid + 1, scale }));
        const buffer = backend.upload(a);
        const got = await backend.sumSquares(buffer);
        const want = await cpu.sumSquares(cpu.upload(a));
        expectClose('sumSquares', Float32Array.of(got), Float32Array.of(want), factor, a.length, want);
      }), { seed: 106, numRuns: RUNS * 2 });
    });

    test('layerNorm and its backward', async () => {
      await fc.assert(fc.asyncProperty(dim(12), dim(40), seedArb, async (rows, cols, seed) => {
        const random = rng(seed);
        const x = uniform(random, rows * cols, -2, 2);
        const gamma = uniform(random, cols, 0.5, 1.5);
        const beta = uniform(random, cols);
        const dy = uniform(random, rows * cols);
        const spec = { rows, cols, eps: 1e-5 };
        // L = cols terms (row statistics; rows for dγ, dβ) of size ≤ L·max|values|
        const L = Math.max(rows, cols);
        const bound = (want: Float32Array[], i: number) => ({ terms: L, scale: L * (maxAbs(want[i]!) + 1) });
        await agree('layerNorm', [x, gamma, beta], [new Float32Array(rows * cols), new Float32Array(rows), new Float32Array(rows)],
          (be, [X, G, B], [Y, MU, RS]) => be.layerNorm(X!, G!, B!, Y!, spec, MU!, RS!), bound);
        const [, mean, rstd] = await run(cpu, [x, gamma, beta], [new Float32Array(rows * cols), new Float32Array(rows), new Float32Array(rows)],
          (be, [X, G, B], [Y, MU, RS]) => be.layerNorm(X!, G!, B!, Y!, spec, MU!, RS!));
        await agree('layerNormBackward', [x, gamma, mean!, rstd!, dy], [new Float32Array(rows * cols), uniform(random, cols), uniform(random, cols)],
          (be, [X, G, MU, RS, DY], [DX, DG, DB]) => be.layerNormBackward(X!, G!, MU!, RS!, DY!, DX!, DG!, DB!, spec), bound);
      }), { seed: 107, numRuns: RUNS });
    });

    test('softmax (alpha, causal) and its backward', async () => {
      const arb = fc.record({ rows: dim(16), cols: dim(33), alpha: fc.constantFrom(1, 0.125, 3), causal: fc.option(dim(8), { nil: undefined }), seed: seedArb });
      await fc.assert(fc.asyncProperty(arb, async (c) => {
        const random = rng(c.seed);
        const x = uniform(random, c.rows * c.cols, -4, 4);
        const dy = uniform(random, c.rows * c.cols);
        const bound = (want: Float32Array[], i: number) => ({ terms: c.cols, scale: c.cols * (maxAbs(want[i]!) + 1) });
        await agree('softmax', [x], [new Float32Array(x.length)], (be, [X], [Y]) => be.softmax(X!, Y!, c.rows, c.cols, c.alpha, c.causal), bound);
        const [y] = await run(cpu, [x], [new Float32Array(x.length)], (be, [X], [Y]) => be.softmax(X!, Y!, c.rows, c.cols, c.alpha, c.causal));
        await agree('softmaxBackward', [y!, dy], [new Float32Array(x.length)], (be, [Y, DY], [DX]) => be.softmaxBackward(Y!, DY!, DX!, c.rows, c.cols, c.alpha), bound);
      }), { seed: 108, numRuns: RUNS * 2 });
    });

    test('embedding gather and scatter-add backward', async () => {
      await fc.assert(fc.asyncProperty(dim(20), dim(17), dim(30), seedArb, async (vocab, width, rows, seed) => {
        const random = rng(seed);
        const table = uniform(random, vocab * width);
        const ids = Int32Array.from({ length: rows }, () => Math.floor(random() * vocab));
        const dy = uniform(random, rows * width);
        await agree('embedding', [table], [new Float32Array(rows * width)], (be, [T], [O]) => be.embedding(T!, ids, O!, width), () => ({ terms: 0, scale: 0 }));
        await agree('embeddingBackward', [dy], [uniform(random, vocab * width)], (be, [DY], [DT]) => be.embeddingBackward(ids, DY!, DT!, width),
          () => ({ terms: rows + 1, scale: rows + 1 }));
      }), { seed: 109, numRuns: RUNS });
    });

    test('crossEntropy with ignored rows, losses and dLogits', async () => {
      await fc.assert(fc.asyncProperty(dim(16), dim(40), seedArb, fc.constantFrom(1, 0.25), async (rows, cols, seed, gradScale) => {
        const random = rng(seed);
        const logits = uniform(random, rows * cols, -5, 5);
        const targets = Int32Array.from({ length: rows }, () => (random() < 0.15 ? -1 : Math.floor(random() * cols)));
        await agree('crossEntropy', [logits], [new Float32Array(rows), uniform(random, rows * cols)],
          (be, [L], [OUT, D]) => be.crossEntropy(L!, targets, OUT!, rows, cols, D!, gradScale),
          (want, i) => ({ terms: cols, scale: cols * (maxAbs(want[i]!) + 5) }));
      }), { seed: 110, numRuns: RUNS });
    });

    test('adamStep and adamDirection', async () => {
      await fc.assert(fc.asyncProperty(dim(200), seedArb, fc.integer({ min: 1, max: 20 }), fc.constantFrom(0, 0.1), async (n, seed, step, weightDecay) => {
        const random = rng(seed);
        const spec: AdamSpec = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay, step };
        const p = uniform(random, n);
        const g = uniform(random, n);
        const m = uniform(random, n, -0.1, 0.1);
        const v = uniform(random, n, 0.01, 0.1);
        // the direction m̂/(√v̂+ε) is O(1/√(1−β2)) at worst for these moments: scale 40
        await agree('adamStep', [g], [p, m, v], (be, [G], [P, M, V]) => be.adamStep(P!, G!, M!, V!, spec), () => ({ terms: 8, scale: 40 }));
        await agree('adamDirection', [g], [m, v, new Float32Array(n)], (be, [G], [M, V, O]) => be.adamDirection(G!, M!, V!, O!, spec), () => ({ terms: 8, scale: 40 }));
      }), { seed: 111, numRuns: RUNS });
    });

    test('perturbInPlace, fillNormal and randomBits', async () => {
      const arb = fc.record({
        n: dim(257), seed: fc.integer({ min: 0, max: 2 ** 32 - 1 }), stream: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        scale: fc.constantFrom(1e-3, -1e-3, 1, -2.5), decay: fc.constantFrom(1, 0.999), offset: fc.integer({ min: 0, max: 9 }),
      });
      await fc.assert(fc.asyncProperty(arb, async (c) => {
        const theta = uniform(rng(c.seed), c.n);
        await agree('perturbInPlace', [], [theta], (be, [], [P]) => be.perturbInPlace(P!, c.seed, c.stream, c.scale, c.decay),
          (want) => ({ terms: 16, scale: maxAbs(want[0]!) + 6 * Math.abs(c.scale) }));
        await agree('fillNormal', [], [new Float32Array(c.n)], (be, [], [O]) => be.fillNormal(O!, c.seed, c.stream, c.offset), () => ({ terms: 16, scale: 6 }));
        const got = await backend.randomBits(c.seed, c.stream, c.offset, c.n);
        const want = await cpu.randomBits(c.seed, c.stream, c.offset, c.n);
        if (!got.every((bits, i) => bits === want[i])) throw new Error(`${target.label} randomBits differ from cpu`);
      }), { seed: 112, numRuns: RUNS * 2 });
    });

    test('write with offset, copy and fill are exact', async () => {
      const a = uniform(rng(7), 37);
      const buffer = backend.alloc(41);
      backend.write(buffer, a, 3);
      const other = backend.alloc(41);
      backend.copy(buffer, other);
      backend.fill(buffer, 2.5);
      const copied = await backend.read(other);
      const filled = await backend.read(buffer);
      const want = new Float32Array(41);
      want.set(a, 3);
      expectClose('write+copy', copied, want, factor, 0, 0);
      expectClose('fill', filled, new Float32Array(41).fill(2.5), factor, 0, 0);
    });
  });
}
