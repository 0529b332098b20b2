/** Tape gradients of every differentiable op equal central finite differences (gradcheck.ts states the tolerance). */
import { fc, test } from '@fast-check/vitest';
import { describe } from 'vitest';
import * as F from '../../src/nn/functional.ts';
import { checkGradients, mulberry, normals } from './gradcheck.ts';

const runs = { numRuns: 6, seed: 20261124 };
const small = fc.integer({ min: 1, max: 5 });

function input(random: () => number, shape: readonly number[], std = 1) {
  return { shape: [...shape], values: normals(random, shape.reduce((p, q) => p * q, 1), std) };
}

describe('matmul', () => {
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      for (const sharedB of [false, true]) {
        test.prop([small, fc.integer({ min: 2, max: 5 }), fc.integer({ min: 2, max: 5 }), fc.integer({ min: 2, max: 5 }), fc.integer()], { ...runs, numRuns: 3 })(
          `batched a·b, transA=${transA}, transB=${transB}, b ${sharedB ? 'shared' : 'batched'}`,
          async (batch, m, n, k, seed) => {
            const random = mulberry(seed);
            const a = input(random, [batch, ...(transA ? [k, m] : [m, k])]);
            const b = input(random, [...(sharedB ? [] : [batch]), ...(transB ? [n, k] : [k, n])]);
            await checkGradients('matmul', [a, b], ([x, y]) => F.matmul(x!, y!, { transA, transB }), seed, { terms: k });
          },
        );
      }
    }
  }
});

describe('linear', () => {
  test.prop([small, small, small, fc.boolean(), fc.integer()], runs)('x Wᵀ + b over a 3-axis input', async (rows, inF, outF, withBias, seed) => {
    const random = mulberry(seed);
    const inputs = [input(random, [2, rows, inF]), input(random, [outF, inF])];
    if (withBias) inputs.push(input(random, [outF]));
    await checkGradients('linear', inputs, ([x, w, b]) => F.linear(x!, w!, b), seed, { terms: inF });
  });
});

describe('elementwise with broadcast', () => {
  const shapes = fc.constantFrom(
    { a: [3, 4], b: [4] },
    { a: [2, 3, 4], b: [3, 4] },
    { a: [2, 3, 4], b: [3, 1] },
    { a: [2, 3, 4], b: [2, 1, 4] },
    { a: [2, 3, 4], b: [2, 3, 4] },
    { a: [2, 3, 4], b: [1] },
  );
  for (const op of ['add', 'sub', 'mul'] as const) {
    test.prop([shapes, fc.integer()], runs)(op, async ({ a, b }, seed) => {
      const random = mulberry(seed);
      await checkGradients(`${op} ${JSON.stringify(b)}→${JSON.stringify(a)}`, [input(random, a), input(random, b)], ([x, y]) => F[op](x!, y!), seed, { terms: 24 });
    });
  }
  test.prop([fc.integer()], runs)('scale', async (seed) => {
    await checkGradients('scale', [input(mulberry(seed), [3, 5])], ([x]) => F.scale(x!, -1.7), seed);
  });
  test.prop([fc.integer()], runs)('gelu', async (seed) => {
    await checkGradients('gelu', [input(mulberry(seed), [4, 6], 2)], ([x]) => F.gelu(x!), seed);
  });
  test.prop([fc.integer()], runs)('affine, square, sigmoid, silu', async (seed) => {
    const x = input(mulberry(seed), [4, 6], 1.5);
    await checkGradients('affine', [x], ([t]) => F.affine(t!, -1.3, 0.4), seed);
    await checkGradients('square', [x], ([t]) => F.square(t!), seed);
    await checkGradients('sigmoid', [x], ([t]) => F.sigmoid(t!), seed);
    await checkGradients('silu', [x], ([t]) => F.silu(t!), seed);
  });
  test.prop([fc.integer()], runs)('rsqrt on inputs in [0.5, 2.5]', async (seed) => {
    // away from 0, where 1/√x and its derivatives stay O(1)
    const x = input(mulberry(seed), [3, 5], 1);
    x.values = x.values.map((value) => 1.5 + Math.tanh(value));
    await checkGradients('rsqrt', [x], ([t]) => F.rsqrt(t!), seed);
  });
  test.prop([fc.integer()], runs)('meanLastAxis broadcast back by mul (RMSNorm shape)', async (seed) => {
    const x = input(mulberry(seed), [2, 3, 4]);
    await checkGradients('meanLastAxis', [x], ([t]) => F.mul(t!, F.meanLastAxis(t!)), seed);
  });
  test.prop([fc.integer()], runs)('relu, inputs at least 0.1 from the kink', async (seed) => {
    const x = input(mulberry(seed), [4, 6], 1);
    x.values = x.values.map((value) => (value >= 0 ? value + 0.1 : value - 0.1));
    await checkGradients('relu', [x], ([t]) => F.relu(t!), seed);
  });
});

describe('shape ops', () => {
  test.prop([fc.integer()], runs)('permute (4 axes) and reshape', async (seed) => {
    const x = input(mulberry(seed), [2, 3, 4, 5]);
    await checkGradients('permute', [x], ([t]) => F.reshape(F.permute(t!, [0, 2, 1, 3]), [8, 15]), seed);
  });
  test.prop([fc.integer()], runs)('embedding gathers with repeated ids', async (seed) => {
    const table = input(mulberry(seed), [5, 3]);
    await checkGradients('embedding', [table], ([t]) => F.embedding(t!, Int32Array.from([4, 0, 4, 2, 4, 1]), [2, 3]), seed);
  });
});

describe('transformer pieces', () => {
  test.prop([small, fc.integer({ min: 2, max: 9 }), fc.integer()], runs)('layerNorm (x, γ, β)', async (rows, cols, seed) => {
    const random = mulberry(seed);
    await checkGradients('layerNorm', [input(random, [rows, cols], 2), input(random, [cols]), input(random, [cols])], ([x, g, b]) => F.layerNorm(x!, g!, b!), seed, { terms: cols * 4 });
  });
  test.prop([fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 }), fc.boolean(), fc.integer()], runs)(
    'softmax with alpha, causal or not',
    async (groups, seq, causal, seed) => {
      const x = input(mulberry(seed), [groups, seq, seq], 2);
      await checkGradients('softmax', [x], ([t]) => F.softmax(t!, { alpha: 0.7, causalSeq: causal ? seq : undefined }), seed, { terms: seq * 4 });
    },
  );
  test.prop([fc.integer({ min: 1, max: 4 }), fc.integer({ min: 2, max: 6 }), fc.integer()], runs)(
    'crossEntropy with ignored rows',
    async (rows, classes, seed) => {
      const random = mulberry(seed);
      const targets = Int32Array.from({ length: rows + 1 }, (_, r) => (r === 0 ? -1 : Math.floor(random() * classes)));
      await checkGradients('crossEntropy', [input(random, [rows + 1, classes], 2)], ([z]) => F.crossEntropy(z!, targets), seed, { terms: classes * 4 });
    },
  );
  test.prop([fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 5 }), fc.integer()], runs)('meanPool over real positions', async (batch, seq, seed) => {
    const random = mulberry(seed);
    const lengths = Int32Array.from({ length: batch }, () => 1 + Math.floor(random() * seq));
    await checkGradients('meanPool', [input(random, [batch, seq, 3])], ([h]) => F.meanPool(h!, lengths), seed, { terms: seq });
  });
});
