/**
 * Differentiable ops: the forward is the shape-checked op of src/tensor/ops.ts; while a tape is
 * recording (src/nn/tape.ts) each op also records its backward. Models and adapters must build
 * everything that needs a gradient from these (including `reshape`), so the same code runs with
 * and without a tape. Outside a tape they cost exactly their forward kernel.
 *
 * Backward rules (dy = ∂L/∂out):
 *   matmul  C = op(A)·op(B):  ∂op(A) = dy·op(B)ᵀ, ∂op(B) = op(A)ᵀ·dy; a shared (unbatched) B sums over the batch
 *   linear  y = xWᵀ + b:      ∂x = dy·W, ∂W = dyᵀ·x, ∂b = Σ_rows dy
 *   add/sub/mul (b broadcast to a's shape): ∂b sums over the broadcast axes
 *   gelu (tanh form), relu, sigmoid, square, rsqrt, affine, meanLastAxis, scale, layerNorm, softmax(alpha, causal), permute, reshape, embedding
 *   (scatter-add), crossEntropy (fused softmax − onehot), meanPool (a matmul with pooling weights).
 * Tolerance: float32 rounding of the kernels; checked against central differences in test/nn.
 */
import type { Dims3 } from '../kernels/backend.ts';
import { ShapeError } from '../errors.ts';
import type { MemoryCategory } from '../tensor/ledger.ts';
import * as ops from '../tensor/ops.ts';
import { formatShape, type Shape, sizeOf, type Tensor } from '../tensor/tensor.ts';
import { activeTape } from './tape.ts';

// ---------------------------------------------------------------- linear algebra

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
}

/**
 * a [..., m, k] · b [..., k, n] → [..., m, n] (transA/transB read a or b transposed in their last
 * two axes); b without batch axes is shared by every batch item.
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const { transA = false, transB = false } = options;
  const out = ops.matmul(a, b, { transA, transB });
  const tape = activeTape();
  if (tape) {
    tape.record([a, b], out, [a, b], (dy, ctx) => {
      const batch = sizeOf(a.shape.slice(0, -2));
      const sharedB = b.rank === 2 && batch > 1;
      const [m, n] = dy.shape.slice(-2) as [number, number];
      const k = transA ? a.shape[a.rank - 2]! : a.shape[a.rank - 1]!;
      const engine = a.engine;
      let da: Tensor | null = null;
      let db: Tensor | null = null;
      const bStride = sharedB ? 0 : k * n;
      if (ctx.needs[0]) {
        da = engine.zeros(a.shape, ctx.category[0]!);
        if (!transA) {
          // ∂A [m, k] = dy [m, n] · op(B)ᵀ
          a.backend.matmul(dy.buffer, b.buffer, da.buffer, { batch, m, n: k, k: n, transB: !transB, bBatchStride: bStride });
        } else {
          // ∂A [k, m] = op(B) [k, n] · dyᵀ
          a.backend.matmul(b.buffer, dy.buffer, da.buffer, { batch, m: k, n: m, k: n, transA: transB, transB: true, aBatchStride: bStride });
        }
      }
      if (ctx.needs[1]) {
        db = engine.zeros(b.shape, ctx.category[1]!);
        if (sharedB && !transA) {
          // the shared B's gradient sums over the batch: fold the batch into the rows of A and dy
          const rows = batch * m;
          if (!transB) a.backend.matmul(a.buffer, dy.buffer, db.buffer, { batch: 1, m: k, n, k: rows, transA: true });
          else a.backend.matmul(dy.buffer, a.buffer, db.buffer, { batch: 1, m: n, n: k, k: rows, transA: true });
        } else if (sharedB) {
          const perItem = engine.zeros([batch, ...b.shape], 'workspace');
          matmulGradB(a, dy, perItem, batch, m, n, k, transA, transB);
          a.backend.reduce('sum', perItem.buffer, db.buffer, [1, batch, b.size]);
          perItem.dispose();
        } else {
          matmulGradB(a, dy, db, batch, m, n, k, transA, transB);
        }
      }
      return [da, db];
    });
  }
  return out;
}

/** ∂B per batch item: op(A)ᵀ·dy [k, n], or its transpose [n, k] when B is stored transposed. */
function matmulGradB(a: Tensor, dy: Tensor, db: Tensor, batch: number, m: number, n: number, k: number, transA: boolean, transB: boolean): void {
  if (!transB) a.backend.matmul(a.buffer, dy.buffer, db.buffer, { batch, m: k, n, k: m, transA: !transA });
  else a.backend.matmul(dy.buffer, a.buffer, db.buffer, { batch, m: n, n: k, k: m, transA: true, transB: transA });
}

/** y = x Wᵀ + bias, W stored [out, in] as in PyTorch; x [..., in] → [..., out]. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor): Tensor {
  const y = ops.linear(x, weight, bias);
  const tape = activeTape();
  if (tape) {
    const inputs = bias ? [x, weight, bias] : [x, weight];
    tape.record(inputs, y, [x, weight], (dy, ctx) => {
      const [outFeatures, inFeatures] = weight.shape as [number, number];
      const rows = x.size / inFeatures;
      const engine = x.engine;
      let dx: Tensor | null = null;
      let dw: Tensor | null = null;
      let db: Tensor | null = null;
      if (ctx.needs[0]) {
        dx = engine.zeros(x.shape, ctx.category[0]!);
        x.backend.matmul(dy.buffer, weight.buffer, dx.buffer, { batch: 1, m: rows, n: inFeatures, k: outFeatures });
      }
      if (ctx.needs[1]) {
        dw = engine.zeros(weight.shape, ctx.category[1]!);
        x.backend.matmul(dy.buffer, x.buffer, dw.buffer, { batch: 1, m: outFeatures, n: inFeatures, k: rows, transA: true });
      }
      if (bias && ctx.needs[2]) {
        db = engine.zeros(bias.shape, ctx.category[2]!);
        x.backend.reduce('sum', dy.buffer, db.buffer, [1, rows, outFeatures]);
      }
      return [dx, dw, db];
    });
  }
  return y;
}

/**
 * GELU(x Wᵀ + bias). Without a tape one op (ops.linear with its GELU epilogue: no pass over, and no
 * buffer for, the pre-activation); under a tape `linear` then `gelu`, whose backward needs the
 * pre-activation. Bitwise the same forward either way.
 */
export function linearGelu(x: Tensor, weight: Tensor, bias?: Tensor): Tensor {
  if (!activeTape()) return ops.linear(x, weight, bias, true);
  return gelu(linear(x, weight, bias));
}

// ---------------------------------------------------------------- shape ops

/** A view with a new shape (no copy); records the reshape so gradients flow through it. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const y = x.reshape(shape);
  activeTape()?.record([x], y, [], (dy) => [dy.reshape(x.shape)]);
  return y;
}

/** out.shape[i] = x.shape[perm[i]]; backward permutes by the inverse. */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  const y = ops.permute(x, perm);
  activeTape()?.record([x], y, [], (dy, ctx) => {
    const inverse = new Array<number>(perm.length);
    perm.forEach((axis, i) => {
      inverse[axis] = i;
    });
    return [ops.permute(dy, inverse, ctx.category[0])];
  });
  return y;
}

// ---------------------------------------------------------------- elementwise

/** Sums g (shaped like a) over the axes where b was broadcast; returns a tensor shaped like b. */
function reduceToBroadcast(g: Tensor, aShape: Shape, bShape: Shape, category: MemoryCategory): Tensor {
  const { dims, bStrides } = ops.broadcastView(aShape, bShape, 'broadcast backward');
  const sizes = [...dims];
  let current = g;
  for (let axis = 2; axis >= 0; axis--) {
    if (bStrides[axis] !== 0 || sizes[axis] === 1) continue;
    const outer = sizes.slice(0, axis).reduce((p, q) => p * q, 1);
    const inner = sizes.slice(axis + 1).reduce((p, q) => p * q, 1);
    const view: Dims3 = [outer, sizes[axis]!, inner];
    sizes[axis] = 1;
    const next = g.engine.zeros([outer * inner], 'workspace');
    g.backend.reduce('sum', current.buffer, next.buffer, view);
    if (current !== g) current.dispose();
    current = next;
  }
  if (current === g) return g.reshape(bShape);
  const out = g.engine.zeros(bShape, category);
  g.backend.copy(current.buffer, out.buffer);
  current.dispose();
  return out;
}

/** a + b, b broadcast to a's shape (b's shape a suffix of a's, size-1 axes allowed). */
export function add(a: Tensor, b: Tensor): Tensor {
  const y = ops.add(a, b);
  activeTape()?.record([a, b], y, [], (dy, ctx) => [
    ctx.needs[0] ? dy : null,
    ctx.needs[1] ? reduceToBroadcast(dy, a.shape, b.shape, ctx.category[1]!) : null,
  ]);
  return y;
}

/** a − b, b broadcast to a's shape. */
export function sub(a: Tensor, b: Tensor): Tensor {
  const y = ops.sub(a, b);
  activeTape()?.record([a, b], y, [], (dy, ctx) => {
    let db: Tensor | null = null;
    if (ctx.needs[1]) {
      const reduced = reduceToBroadcast(dy, a.shape, b.shape, 'workspace');
      db = ops.affine(reduced, -1, 0, ctx.category[1]);
      if (reduced.ownsBuffer) reduced.dispose();
    }
    return [ctx.needs[0] ? dy : null, db];
  });
  return y;
}

/** a ⊙ b, b broadcast to a's shape. */
export function mul(a: Tensor, b: Tensor): Tensor {
  const y = ops.mul(a, b);
  activeTape()?.record([a, b], y, [a, b], (dy, ctx) => {
    const da = ctx.needs[0] ? ops.binary('mul', dy, b, ctx.category[0]) : null;
    let db: Tensor | null = null;
    if (ctx.needs[1]) {
      const full = ops.binary('mul', dy, a, 'workspace');
      db = reduceToBroadcast(full, a.shape, b.shape, ctx.category[1]!);
      if (db.base === full) db = ops.clone(db, ctx.category[1]);
      full.dispose();
    }
    return [da, db];
  });
  return y;
}

/** alpha·x. */
export function scale(x: Tensor, alpha: number): Tensor {
  const y = ops.scale(x, alpha);
  activeTape()?.record([x], y, [], (dy, ctx) => [ops.affine(dy, alpha, 0, ctx.category[0])]);
  return y;
}

/** GELU, tanh approximation ½x(1 + tanh(√(2/π)(x + 0.044715x³))) (GPT-2; torch approximate='tanh'). */
export function gelu(x: Tensor): Tensor {
  const y = ops.gelu(x);
  activeTape()?.record([x], y, [x], (dy, ctx) => {
    const dx = x.engine.zeros(x.shape, ctx.category[0]!);
    x.backend.geluBackward(x.buffer, dy.buffer, dx.buffer);
    return [dx];
  });
  return y;
}

/** alpha·x + beta; ∂x = alpha·dy. */
export function affine(x: Tensor, alpha: number, beta: number): Tensor {
  const y = ops.affine(x, alpha, beta);
  activeTape()?.record([x], y, [], (dy, ctx) => [ops.affine(dy, alpha, 0, ctx.category[0])]);
  return y;
}

/** x²; ∂x = 2x·dy. */
export function square(x: Tensor): Tensor {
  const y = ops.unary('square', x);
  activeTape()?.record([x], y, [x], (dy, ctx) => {
    const twice = ops.affine(x, 2, 0, 'workspace');
    const dx = ops.binary('mul', dy, twice, ctx.category[0]);
    twice.dispose();
    return [dx];
  });
  return y;
}

/** 1/√x; ∂x = −½·y³·dy. */
export function rsqrt(x: Tensor): Tensor {
  const y = ops.unary('rsqrt', x);
  activeTape()?.record([x], y, [y], (dy, ctx) => {
    const ySquared = ops.unary('square', y, 'workspace');
    const yCubed = ops.binary('mul', ySquared, y, 'workspace');
    ySquared.dispose();
    const scaled = ops.affine(yCubed, -0.5, 0, 'workspace');
    yCubed.dispose();
    const dx = ops.binary('mul', dy, scaled, ctx.category[0]);
    scaled.dispose();
    return [dx];
  });
  return y;
}

/** σ(x) = 1/(1 + e^(−x)); ∂x = y(1 − y)·dy. */
export function sigmoid(x: Tensor): Tensor {
  const y = ops.unary('sigmoid', x);
  activeTape()?.record([x], y, [y], (dy, ctx) => {
    const oneMinus = ops.affine(y, -1, 1, 'workspace');
    const slope = ops.binary('mul', y, oneMinus, 'workspace');
    oneMinus.dispose();
    const dx = ops.binary('mul', dy, slope, ctx.category[0]);
    slope.dispose();
    return [dx];
  });
  return y;
}

/** SiLU (swish) x·σ(x), composed from sigmoid and mul (LLaMA's MLP activation). */
export function silu(x: Tensor): Tensor {
  return mul(x, sigmoid(x));
}

/**
 * Mean over the last axis, keeping it as size 1: [..., n] → [..., 1]. ∂x = dy/n broadcast back
 * over the axis.
 */
export function meanLastAxis(x: Tensor): Tensor {
  const n = x.shape[x.rank - 1]!;
  const y = ops.mean(x, -1).reshape([...x.shape.slice(0, -1), 1]);
  activeTape()?.record([x], y, [], (dy, ctx) => {
    const dx = x.engine.zeros(x.shape, ctx.category[0]!);
    // dx = 0 + dy broadcast along the last axis, then scaled by 1/n
    x.backend.binary('add', dx.buffer, dy.buffer, dx.buffer, [1, x.size / n, n], [0, 1, 0]);
    x.backend.affine(dx.buffer, dx.buffer, 1 / n, 0);
    return [dx];
  });
  return y;
}

/** max(x, 0); the derivative at 0 is taken as 0. */
export function relu(x: Tensor): Tensor {
  const y = ops.relu(x);
  activeTape()?.record([x], y, [y], (dy, ctx) => {
    const mask = ops.unary('sign', y, 'workspace');
    const dx = ops.binary('mul', dy, mask, ctx.category[0]);
    mask.dispose();
    return [dx];
  });
  return y;
}

// ---------------------------------------------------------------- transformer pieces

/** Layer norm over the last axis, (x − μ)/√(σ² + eps)·γ + β (biased variance, as torch). */
export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
  const { y, mean, rstd } = ops.layerNorm(x, gamma, beta, eps);
  const tape = activeTape();
  if (tape && (tape.requiresGrad(x) || tape.requiresGrad(gamma) || tape.requiresGrad(beta))) {
    tape.record([x, gamma, beta], y, [x, mean, rstd], (dy, ctx) => {
      const cols = x.shape[x.rank - 1]!;
      const engine = x.engine;
      const dx = engine.zeros(x.shape, ctx.needs[0] ? ctx.category[0]! : 'workspace');
      const dGamma = engine.zeros(gamma.shape, ctx.needs[1] ? ctx.category[1]! : 'workspace');
      const dBeta = engine.zeros(beta.shape, ctx.needs[2] ? ctx.category[2]! : 'workspace');
      x.backend.layerNormBackward(x.buffer, gamma.buffer, mean.buffer, rstd.buffer, dy.buffer, dx.buffer, dGamma.buffer, dBeta.buffer, {
        rows: x.size / cols, cols, eps,
      });
      // the kernel writes all three; the ones nobody needs were workspace and are freed here
      return [dx, dGamma, dBeta].map((grad, i) => {
        if (ctx.needs[i]) return grad;
        grad.dispose();
        return null;
      });
    });
  } else {
    mean.dispose();
    rstd.dispose();
  }
  return y;
}

export interface SoftmaxOptions {
  /** softmax(alpha·x); attention passes 1/√d_head. */
  alpha?: number;
  /** causal mask: rows are queries of sequences of this length, keys after the query get 0. */
  causalSeq?: number;
}

/** Softmax over the last axis; ∂x = alpha·y ⊙ (dy − Σ dy ⊙ y). */
export function softmax(x: Tensor, options: SoftmaxOptions = {}): Tensor {
  const y = ops.softmax(x, options);
  activeTape()?.record([x], y, [y], (dy, ctx) => {
    const cols = x.shape[x.rank - 1]!;
    const dx = x.engine.zeros(x.shape, ctx.category[0]!);
    x.backend.softmaxBackward(y.buffer, dy.buffer, dx.buffer, x.size / cols, cols, options.alpha ?? 1);
    return [dx];
  });
  return y;
}

/**
 * Rows of `table` [rows, dim] picked by ids → [...idsShape, dim]. Used for token and position
 * embeddings and as a differentiable row gather (attention's head split). ∂table is a scatter-add.
 */
export function embedding(table: Tensor, ids: Int32Array, idsShape: Shape = [ids.length]): Tensor {
  const y = ops.embedding(table, ids, idsShape);
  activeTape()?.record([table], y, [], (dy, ctx) => {
    const dTable = table.engine.zeros(table.shape, ctx.category[0]!);
    table.backend.embeddingBackward(ids, dy.buffer, dTable.buffer, table.shape[1]!);
    return [dTable];
  });
  return y;
}

/**
 * Mean cross-entropy of logits [..., classes] against integer targets (−1 = ignored), over the
 * counted rows: L = (1/N) Σ_r (logsumexp(z_r) − z_r[t_r]). Returns a scalar tensor (shape []);
 * 0 when every row is ignored. Under a tape, ∂z = (softmax(z) − onehot)/N is computed in the same
 * kernel pass and saved instead of the logits.
 */
export function crossEntropy(logits: Tensor, targets: Int32Array): Tensor {
  logits.assertLive('crossEntropy');
  const cols = logits.shape[logits.rank - 1]!;
  const rows = logits.size / cols;
  if (targets.length !== rows) {
    throw new ShapeError(`crossEntropy: ${targets.length} targets for ${rows} rows of logits ${formatShape(logits.shape)}`);
  }
  let counted = 0;
  for (const target of targets) {
    if (target >= cols) throw new ShapeError(`crossEntropy: target ${target} outside the ${cols} classes`);
    if (target >= 0) counted++;
  }
  const engine = logits.engine;
  const tape = activeTape();
  const taped = tape !== null && tape.requiresGrad(logits);
  const losses = engine.zeros([rows], 'activation');
  const dLogits = taped ? engine.zeros(logits.shape, 'activation') : null;
  logits.backend.crossEntropy(logits.buffer, targets, losses.buffer, rows, cols, dLogits?.buffer, counted === 0 ? 0 : 1 / counted);
  const total = engine.zeros([], 'activation');
  logits.backend.reduce('sum', losses.buffer, total.buffer, [1, rows, 1]);
  losses.dispose();
  const loss = ops.scale(total, counted === 0 ? 0 : 1 / counted);
  total.dispose();
  if (dLogits) {
    tape!.record([logits], loss, [dLogits], (dy, ctx) => [ops.binary('mul', dLogits, dy, ctx.category[0])]);
  }
  return loss;
}

/**
 * Mean over the sequence axis of h [batch, seq, d] → [batch, d], counting only the first
 * lengths[b] positions of row b (right padding); all positions when lengths is omitted.
 * Computed as a batched matmul with pooling weights w[b, 0, t] = [t < len_b]/len_b.
 */
export function meanPool(h: Tensor, lengths?: Int32Array): Tensor {
  const [batch, seq, dim] = h.shape as [number, number, number];
  if (h.rank !== 3) throw new ShapeError(`meanPool: expected [batch, seq, d], got ${formatShape(h.shape)}`);
  const weights = new Float32Array(batch * seq);
  for (let b = 0; b < batch; b++) {
    const length = lengths ? lengths[b]! : seq;
    if (!(length >= 1 && length <= seq)) throw new ShapeError(`meanPool: lengths[${b}] must be in 1..${seq}, got ${length}`);
    weights.fill(1 / length, b * seq, b * seq + length);
  }
  const w = h.engine.fromArray(weights, [batch, 1, seq], 'activation');
  const pooled = matmul(w, h);
  return reshape(pooled, [batch, dim]);
}
