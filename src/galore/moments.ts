/**
 * Adam moment storage: float32 tensors on the backend, or bitsandbytes-style blockwise 8-bit on the
 * host (quantize8bit.ts). Both run the same kernel (`adamDirection`/`adamStep`, HF bias correction,
 * galore.md §2.4), so the 8-bit variant differs from the 32-bit one only by the quantization of
 * the stored m and v between steps (Dettmers et al. 2022: dequantize → update → requantize).
 */
import type { AdamSpec } from '../kernels/backend.ts';
import { FormatError } from '../errors.ts';
import type { Engine, Shape, Tensor } from '../tensor/tensor.ts';
import { EIGHT_BIT_DEFAULTS } from './defaults.ts';
import { QuantizedState } from './quantize8bit.ts';

export interface EightBitOptions {
  blockSize: number;
  /** tensors with fewer elements keep 32-bit state (bitsandbytes min_8bit_size). */
  minQuantizedSize: number;
}

export const DEFAULT_EIGHT_BIT: EightBitOptions = {
  blockSize: EIGHT_BIT_DEFAULTS.blockSize,
  minQuantizedSize: EIGHT_BIT_DEFAULTS.minQuantizedSize,
};

export interface AdamMoments {
  /** bytes of state held (what the ledger was charged). */
  readonly bytes: number;
  readonly quantized: boolean;
  /** Moment update for `grad`, writing the bias-corrected direction c_t·m/(√v + ε) to `out`. */
  direction(grad: Tensor, out: Tensor, spec: AdamSpec): Promise<void>;
  /** Full AdamW step of `param` in place (update, then decoupled decay). */
  stepInPlace(param: Tensor, grad: Tensor, spec: AdamSpec): Promise<void>;
  /** zeroes both moments (ReLoRA restarts, the reset ablation). */
  reset(): void;
  /** host copies (dequantized for 8-bit), for tests. */
  read(): Promise<{ m: Float32Array; v: Float32Array }>;
  /** exact stored form (8-bit: code indices and absmax) for checkpoints. */
  save(): Promise<Record<string, Float32Array>>;
  load(saved: Record<string, Float32Array>): void;
  dispose(): void;
}

export function requireSized(saved: Record<string, Float32Array>, key: string, size: number): Float32Array {
  const values = saved[key];
  if (!values || values.length !== size) {
    throw new FormatError(`optimizer state: "${key}" should hold ${size} values, got ${values ? values.length : 'nothing'}`);
  }
  return values;
}

export function createMoments(engine: Engine, shape: Shape, eightBit: EightBitOptions | null): AdamMoments {
  const size = shape.reduce((a, b) => a * b, 1);
  if (eightBit && size >= eightBit.minQuantizedSize) return new EightBitMoments(engine, size, shape, eightBit.blockSize);
  return new Float32Moments(engine, shape);
}

class Float32Moments implements AdamMoments {
  readonly quantized = false;
  private readonly m: Tensor;
  private readonly v: Tensor;

  constructor(private readonly engine: Engine, shape: Shape) {
    this.m = engine.zeros(shape, 'optimizerState');
    this.v = engine.zeros(shape, 'optimizerState');
  }

  get bytes(): number {
    return 4 * (this.m.size + this.v.size);
  }

  async direction(grad: Tensor, out: Tensor, spec: AdamSpec): Promise<void> {
    this.engine.backend.adamDirection(grad.buffer, this.m.buffer, this.v.buffer, out.buffer, spec);
  }

  async stepInPlace(param: Tensor, grad: Tensor, spec: AdamSpec): Promise<void> {
    this.engine.backend.adamStep(param.buffer, grad.buffer, this.m.buffer, this.v.buffer, spec);
  }

  reset(): void {
    this.engine.backend.fill(this.m.buffer, 0);
    this.engine.backend.fill(this.v.buffer, 0);
  }

  async read(): Promise<{ m: Float32Array; v: Float32Array }> {
    return { m: await this.m.read(), v: await this.v.read() };
  }

  save(): Promise<Record<string, Float32Array>> {
    return this.read();
  }

  load(saved: Record<string, Float32Array>): void {
    this.engine.backend.write(this.m.buffer, requireSized(saved, 'm', this.m.size));
    this.engine.backend.write(this.v.buffer, requireSized(saved, 'v', this.v.size));
  }

  dispose(): void {
    this.m.dispose();
    this.v.dispose();
  }
}

/**
 * Host-held int8 codes + per-block absmax; charged to the ledger as optimizer state with
 * `ledger.allocate` (2·numel + 8·⌈numel/blockSize⌉ bytes per pair; galore.md §6.13). Each step
 * dequantizes both moments into two float32 workspace tensors for the kernel, as bitsandbytes does
 * in registers, and requantizes them from a host read; those show in the ledger's workspace peak
 * during the step and nothing float32 stays between steps. A non-finite moment is a DivergenceError
 * naming the tensor's update count (its `step` is that count − 1, the 0-based step of a normal run).
 */
class EightBitMoments implements AdamMoments {
  readonly quantized = true;
  private readonly m: QuantizedState;
  private readonly v: QuantizedState;
  private released = false;

  constructor(private readonly engine: Engine, readonly size: number, private readonly shape: Shape, blockSize: number) {
    this.m = new QuantizedState(size, true, blockSize);
    this.v = new QuantizedState(size, false, blockSize);
    engine.ledger.allocate('optimizerState', this.bytes);
  }

  get bytes(): number {
    return this.m.bytes + this.v.bytes;
  }

  direction(grad: Tensor, out: Tensor, spec: AdamSpec): Promise<void> {
    return this.withDequantized(spec.step, (m, v) => this.engine.backend.adamDirection(grad.buffer, m.buffer, v.buffer, out.buffer, spec));
  }

  stepInPlace(param: Tensor, grad: Tensor, spec: AdamSpec): Promise<void> {
    return this.withDequantized(spec.step, (m, v) => this.engine.backend.adamStep(param.buffer, grad.buffer, m.buffer, v.buffer, spec));
  }

  private async withDequantized(step: number, run: (m: Tensor, v: Tensor) => void): Promise<void> {
    const m = this.engine.fromArray(this.m.dequantize(new Float32Array(this.size)), this.shape, 'workspace');
    const v = this.engine.fromArray(this.v.dequantize(new Float32Array(this.size)), this.shape, 'workspace');
    try {
      run(m, v);
      this.m.quantize(await m.read(), `first moment (update ${step})`, step - 1);
      this.v.quantize(await v.read(), `second moment (update ${step})`, step - 1);
    } finally {
      m.dispose();
      v.dispose();
    }
  }

  reset(): void {
    this.m.reset();
    this.v.reset();
  }

  async read(): Promise<{ m: Float32Array; v: Float32Array }> {
    return { m: this.m.dequantize(new Float32Array(this.size)), v: this.v.dequantize(new Float32Array(this.size)) };
  }

  async save(): Promise<Record<string, Float32Array>> {
    return {
      mCodes: Float32Array.from(this.m.codes), mAbsmax: Float32Array.from(this.m.absmax),
      vCodes: Float32Array.from(this.v.codes), vAbsmax: Float32Array.from(this.v.absmax),
    };
  }

  load(saved: Record<string, Float32Array>): void {
    this.m.codes.set(requireSized(saved, 'mCodes', this.size));
    this.m.absmax.set(requireSized(saved, 'mAbsmax', this.m.absmax.length));
    this.v.codes.set(requireSized(saved, 'vCodes', this.size));
    this.v.absmax.set(requireSized(saved, 'vAbsmax', this.v.absmax.length));
  }

  dispose(): void {
    if (this.released) return;
    this.released = true;
    this.engine.ledger.release('optimizerState', this.bytes);
  }
}
