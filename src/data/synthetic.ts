/**
 * Synthetic problems with exact losses and gradients, for property tests and fast ablations.
 * Each is a plain host-side object over a flat float64 parameter vector θ whose layout into named
 * tensors is `params` (so it can live in a ParamStore); finite-sum problems take an optional list
 * of sample rows so a minibatch loss is the same function on fewer rows.
 *
 *   leastSquares        f(θ) = 1/(2m) Σᵢ (aᵢᵀθ − bᵢ)²,           b = Aθ* + σε
 *   logisticRegression  f(θ) = 1/m Σᵢ [log(1 + e^{xᵢᵀθ}) − yᵢ xᵢᵀθ] + (λ/2)‖θ‖²,  yᵢ ~ Bernoulli(σ(xᵢᵀθ*))
 *   teacherStudent      f(θ) = 1/(2m) Σᵢ ‖s_θ(xᵢ) − t(xᵢ)‖²,  s, t: x ↦ W₂ tanh(W₁x + b₁) + b₂
 *   quadratic           f(θ) = ½ (θ − θ*)ᵀ Q (θ − θ*),          Q = U diag(λ) Uᵀ, U Haar-orthogonal
 * (m = number of rows used). All data come from the counter RNG (normalAt), so a problem is a
 * pure function of its options. Gradients are analytic; the tests compare them with central
 * differences in float64.
 */
import { Matrix, QrDecomposition } from 'ml-matrix';
import { ConfigError, assertFinite, assertPositiveInteger } from '../errors.ts';
import { normalAt, uniformAt } from '../kernels/rng.ts';
import type { Engine, ParamGroup } from '../tensor/index.ts';
import { ParamStore } from '../tensor/index.ts';

export interface ParamLayout {
  name: string;
  shape: number[];
  group: ParamGroup;
}

export interface SyntheticTask {
  readonly name: string;
  /** number of parameters d = Σ sizes of `params` */
  readonly dim: number;
  /** number of samples of a finite-sum problem; 0 for the (deterministic) quadratic */
  readonly samples: number;
  /** how θ splits into named tensors, in order */
  readonly params: readonly ParamLayout[];
  /** the starting point θ₀ */
  readonly initial: Float64Array;
  /** loss over `rows` (all samples when omitted) */
  lossAt(theta: Float64Array, rows?: readonly number[]): number;
  gradientAt(theta: Float64Array, rows?: readonly number[]): Float64Array;
  /** the minimiser when it is known in closed form (quadratic; teacher–student's teacher, loss 0) */
  readonly minimizer?: Float64Array;
}

function normals(count: number, seed: number, stream: number, scale = 1): Float64Array {
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = scale * normalAt(seed, stream, i);
  return out;
}

function allRows(samples: number, rows: readonly number[] | undefined): readonly number[] {
  if (rows === undefined) return Array.from({ length: samples }, (_, i) => i);
  if (rows.length === 0) throw new ConfigError('rows must name at least one sample');
  for (const r of rows) if (!(Number.isInteger(r) && r >= 0 && r < samples)) throw new ConfigError(`row must be an integer in [0, ${samples}), got ${r}`);
  return rows;
}

function checkTheta(theta: Float64Array, dim: number, name: string): void {
  if (theta.length !== dim) throw new ConfigError(`${name}: θ must have ${dim} entries, got ${theta.length}`);
}

function dotRow(matrix: Float64Array, row: number, cols: number, x: Float64Array): number {
  let acc = 0;
  for (let j = 0; j < cols; j++) acc += matrix[row * cols + j]! * x[j]!;
  return acc;
}

export interface LeastSquaresOptions {
  samples: number;
  dim: number;
  /** σ of the label noise */
  noise?: number;
  seed?: number;
}

export function leastSquares(options: LeastSquaresOptions): SyntheticTask & { planted: Float64Array } {
  const n = assertPositiveInteger('leastSquares.samples', options.samples);
  const d = assertPositiveInteger('leastSquares.dim', options.dim);
  const noise = assertFinite('leastSquares.noise', options.noise ?? 0.1);
  const seed = options.seed ?? 0;
  const a = normals(n * d, seed, 0);
  const planted = normals(d, seed, 1);
  const eps = normals(n, seed, 2, noise);
  const b = Float64Array.from({ length: n }, (_, i) => dotRow(a, i, d, planted) + eps[i]!);
  return {
    name: 'leastSquares',
    dim: d,
    samples: n,
    params: [{ name: 'weight', shape: [d], group: 'head' }],
    initial: new Float64Array(d),
    planted,
    lossAt(theta, rows) {
      checkTheta(theta, d, 'leastSquares');
      const used = allRows(n, rows);
      let acc = 0;
      for (const i of used) acc += (dotRow(a, i, d, theta) - b[i]!) ** 2;
      return acc / (2 * used.length);
    },
    gradientAt(theta, rows) {
      checkTheta(theta, d, 'leastSquares');
      const used = allRows(n, rows);
      const grad = new Float64Array(d);
      for (const i of used) {
        const residual = (dotRow(a, i, d, theta) - b[i]!) / used.length;
        for (let j = 0; j < d; j++) grad[j]! += residual * a[i * d + j]!;
      }
      return grad;
    },
  };
}

export interface LogisticRegressionOptions {
  samples: number;
  dim: number;
  /** λ of the ridge term (λ/2)‖θ‖² */
  l2?: number;
  seed?: number;
}

/** log(1 + eˣ) without overflow. */
function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

export function logisticRegression(options: LogisticRegressionOptions): SyntheticTask & { planted: Float64Array; labels: Uint8Array } {
  const n = assertPositiveInteger('logisticRegression.samples', options.samples);
  const d = assertPositiveInteger('logisticRegression.dim', options.dim);
  const l2 = assertFinite('logisticRegression.l2', options.l2 ?? 1e-3);
  const seed = options.seed ?? 0;
  const x = normals(n * d, seed, 0);
  const planted = normals(d, seed, 1);
  const labels = Uint8Array.from({ length: n }, (_, i) => (uniformAt(seed, 2, i) < sigmoid(dotRow(x, i, d, planted)) ? 1 : 0));
  const ridge = (theta: Float64Array): number => {
    let acc = 0;
    for (const t of theta) acc += t * t;
    return (l2 / 2) * acc;
  };
  return {
    name: 'logisticRegression',
    dim: d,
    samples: n,
    params: [{ name: 'weight', shape: [d], group: 'head' }],
    initial: new Float64Array(d),
    planted,
    labels,
    lossAt(theta, rows) {
      checkTheta(theta, d, 'logisticRegression');
      const used = allRows(n, rows);
      let acc = 0;
      for (const i of used) {
        const margin = dotRow(x, i, d, theta);
        acc += softplus(margin) - labels[i]! * margin;
      }
      return acc / used.length + ridge(theta);
    },
    gradientAt(theta, rows) {
      checkTheta(theta, d, 'logisticRegression');
      const used = allRows(n, rows);
      const grad = Float64Array.from(theta, (t) => l2 * t);
      for (const i of used) {
        const coefficient = (sigmoid(dotRow(x, i, d, theta)) - labels[i]!) / used.length;
        for (let j = 0; j < d; j++) grad[j]! += coefficient * x[i * d + j]!;
      }
      return grad;
    },
  };
}

export interface TeacherStudentOptions {
  samples: number;
  inputDim: number;
  hidden: number;
  outputDim?: number;
  seed?: number;
}

/**
 * Two-layer tanh MLP student fitting a teacher of the same shape; θ = [W₁ (hidden×in), b₁,
 * W₂ (out×hidden), b₂] row-major. Teacher weights ~ N(0, 1/fan_in); the student starts from an
 * independent draw of the same law, so the global minimum (loss 0) is attained at the teacher.
 */
export function teacherStudent(options: TeacherStudentOptions): SyntheticTask {
  const n = assertPositiveInteger('teacherStudent.samples', options.samples);
  const din = assertPositiveInteger('teacherStudent.inputDim', options.inputDim);
  const h = assertPositiveInteger('teacherStudent.hidden', options.hidden);
  const dout = assertPositiveInteger('teacherStudent.outputDim', options.outputDim ?? 1);
  const seed = options.seed ?? 0;
  const params: ParamLayout[] = [
    { name: 'fc1.weight', shape: [h, din], group: 'mlp' },
    { name: 'fc1.bias', shape: [h], group: 'mlp' },
    { name: 'fc2.weight', shape: [dout, h], group: 'mlp' },
    { name: 'fc2.bias', shape: [dout], group: 'mlp' },
  ];
  const offsets = { w1: 0, b1: h * din, w2: h * din + h, b2: h * din + h + dout * h };
  const dim = offsets.b2 + dout;
  const draw = (stream: number): Float64Array => {
    const theta = new Float64Array(dim);
    for (let i = 0; i < dim; i++) {
      const fanIn = i < offsets.w2 ? din : h;
      theta[i] = normalAt(seed, stream, i) / Math.sqrt(fanIn);
    }
    return theta;
  };
  const teacher = draw(0);
  const inputs = normals(n * din, seed, 2);

  /** hidden activations tanh(W₁x + b₁) and outputs of sample i */
  const forward = (theta: Float64Array, i: number): { hiddenAct: Float64Array; out: Float64Array } => {
    const hiddenAct = new Float64Array(h);
    for (let k = 0; k < h; k++) {
      let z = theta[offsets.b1 + k]!;
      for (let j = 0; j < din; j++) z += theta[offsets.w1 + k * din + j]! * inputs[i * din + j]!;
      hiddenAct[k] = Math.tanh(z);
    }
    const out = new Float64Array(dout);
    for (let o = 0; o < dout; o++) {
      let y = theta[offsets.b2 + o]!;
      for (let k = 0; k < h; k++) y += theta[offsets.w2 + o * h + k]! * hiddenAct[k]!;
      out[o] = y;
    }
    return { hiddenAct, out };
  };
  const targets = Array.from({ length: n }, (_, i) => forward(teacher, i).out);

  return {
    name: 'teacherStudent',
    dim,
    samples: n,
    params,
    initial: draw(1),
    minimizer: teacher,
    lossAt(theta, rows) {
      checkTheta(theta, dim, 'teacherStudent');
      const used = allRows(n, rows);
      let acc = 0;
      for (const i of used) {
        const { out } = forward(theta, i);
        for (let o = 0; o < dout; o++) acc += (out[o]! - targets[i]![o]!) ** 2;
      }
      return acc / (2 * used.length);
    },
    gradientAt(theta, rows) {
      checkTheta(theta, dim, 'teacherStudent');
      const used = allRows(n, rows);
      const grad = new Float64Array(dim);
      for (const i of used) {
        const { hiddenAct, out } = forward(theta, i);
        const dHidden = new Float64Array(h);
        for (let o = 0; o < dout; o++) {
          const dOut = (out[o]! - targets[i]![o]!) / used.length;
          grad[offsets.b2 + o]! += dOut;
          for (let k = 0; k < h; k++) {
            grad[offsets.w2 + o * h + k]! += dOut * hiddenAct[k]!;
            dHidden[k]! += dOut * theta[offsets.w2 + o * h + k]!;
          }
        }
        for (let k = 0; k < h; k++) {
          const dz = dHidden[k]! * (1 - hiddenAct[k]! ** 2); // tanh′ = 1 − tanh²
          grad[offsets.b1 + k]! += dz;
          for (let j = 0; j < din; j++) grad[offsets.w1 + k * din + j]! += dz * inputs[i * din + j]!;
        }
      }
      return grad;
    },
  };
}

export interface QuadraticTaskOptions {
  /** eigenvalues λ of Q (≥ 0); the dimension is their count */
  spectrum: readonly number[];
  seed?: number;
}

/** Quadratic with Hessian Q = U diag(λ) Uᵀ and minimiser θ* ~ N(0, I); starts at θ₀ = 0. */
export function quadraticTask(options: QuadraticTaskOptions): SyntheticTask & { hessian: Float64Array } {
  const spectrum = options.spectrum;
  if (spectrum.length === 0 || !spectrum.every((l) => Number.isFinite(l) && l >= 0)) {
    throw new ConfigError(`quadratic.spectrum must be a non-empty list of finite eigenvalues ≥ 0, got [${spectrum.slice(0, 8).join(', ')}${spectrum.length > 8 ? ', …' : ''}]`);
  }
  const d = spectrum.length;
  const seed = options.seed ?? 0;
  const gaussian = new Matrix(d, d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) gaussian.set(i, j, normalAt(seed, 0, i * d + j));
  const u = new QrDecomposition(gaussian).orthogonalMatrix;
  const hessian = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let acc = 0;
      for (let k = 0; k < d; k++) acc += u.get(i, k) * spectrum[k]! * u.get(j, k);
      hessian[i * d + j] = acc;
    }
  }
  const minimizer = normals(d, seed, 1);
  const gradientAt = (theta: Float64Array): Float64Array => {
    checkTheta(theta, d, 'quadratic');
    const delta = theta.map((t, i) => t - minimizer[i]!);
    return Float64Array.from({ length: d }, (_, i) => dotRow(hessian, i, d, delta));
  };
  return {
    name: 'quadratic',
    dim: d,
    samples: 0,
    params: [{ name: 'theta', shape: [d], group: 'head' }],
    initial: new Float64Array(d),
    minimizer,
    hessian,
    lossAt(theta) {
      const grad = gradientAt(theta);
      let acc = 0;
      for (let i = 0; i < d; i++) acc += (theta[i]! - minimizer[i]!) * grad[i]!;
      return acc / 2;
    },
    gradientAt,
  };
}

/** A ParamStore holding θ₀ of `task` (float32), one tensor per entry of `task.params`. */
export function taskParamStore(task: SyntheticTask, engine: Engine, theta: Float64Array = task.initial): ParamStore {
  const store = new ParamStore(engine);
  let offset = 0;
  for (const layout of task.params) {
    const size = layout.shape.reduce((a, b) => a * b, 1);
    store.add(layout.name, layout.group, layout.shape, Float32Array.from(theta.subarray(offset, offset + size)), true);
    offset += size;
  }
  return store;
}

/** The store's current parameters as θ (float64, in `task.params` order). */
export async function thetaFromStore(task: SyntheticTask, store: ParamStore): Promise<Float64Array> {
  const theta = new Float64Array(task.dim);
  let offset = 0;
  for (const layout of task.params) {
    const values = await store.tensor(layout.name).read();
    theta.set(values, offset);
    offset += values.length;
  }
  return theta;
}

/** Loss of the store's current parameters: the closure a ZO estimator minimises. */
export function storeLoss(task: SyntheticTask, store: ParamStore): (rows?: readonly number[]) => Promise<number> {
  return async (rows) => task.lossAt(await thetaFromStore(task, store), rows);
}

/** Exact gradient at the store's parameters, split by parameter name (float32, for optimizers). */
export async function storeGradient(task: SyntheticTask, store: ParamStore, rows?: readonly number[]): Promise<Map<string, Float32Array>> {
  const grad = task.gradientAt(await thetaFromStore(task, store), rows);
  const out = new Map<string, Float32Array>();
  let offset = 0;
  for (const layout of task.params) {
    const size = layout.shape.reduce((a, b) => a * b, 1);
    out.set(layout.name, Float32Array.from(grad.subarray(offset, offset + size)));
    offset += size;
  }
  return out;
}
