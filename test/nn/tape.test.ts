/**
 * The tape's bookkeeping: per-parameter callbacks (once each, complete, in time), the tied
 * embedding's two contributions, gradient memory under per-layer updates, frozen parameters,
 * adapters on the hooks, and misuse errors.
 */
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/kernels/cpu.ts';
import { CausalLm, F, type TransformerConfig, Tape, nextTokenTargets, release, valueAndGrad } from '../../src/nn/index.ts';
import type { Param } from '../../src/tensor/params.ts';
import { Engine, type Tensor } from '../../src/tensor/tensor.ts';
import { mulberry, normals } from './gradcheck.ts';
import { checkModelGradients } from './modelGradcheck.ts';

const CONFIG: TransformerConfig = { vocab: 13, dModel: 8, layers: 2, heads: 2, dFf: 16, seq: 6, layerNormEps: 1e-5, initStd: 0.3 };

function lmBatch(seed: number) {
  const random = mulberry(seed);
  const batch = { ids: Int32Array.from({ length: 12 }, () => Math.floor(random() * 10)), batch: 2, seq: 6, lengths: Int32Array.from([6, 4]) };
  return { ...batch, targets: nextTokenTargets(batch) };
}

describe('per-parameter gradient callbacks', () => {
  it('fire once per parameter with the same gradient as the full map, tok.weight last, one gradient live at a time', async () => {
    const engine = new Engine(new CpuBackend());
    const model = new CausalLm(engine, CONFIG, 4);
    const batch = lmBatch(1);
    const full = await valueAndGrad(model.params, () => model.lossTensor(batch));
    const expected = new Map([...full.grads].map(([p, g]) => [p.name, g.readSync()]));
    for (const grad of full.grads.values()) grad.dispose();

    engine.ledger.resetPeaks();
    const order: string[] = [];
    const tape = new Tape(model.params);
    const loss = tape.run(() => model.lossTensor(batch));
    const returned = await tape.backward(loss, {
      onParamGrad: (param: Param, grad: Tensor) => {
        order.push(param.name);
        expect(grad.readSync(), param.name).toEqual(expected.get(param.name));
      },
    });
    release(loss);
    expect(returned.size).toBe(0);
    expect([...order].sort()).toEqual(model.params.all().map((p) => p.name).sort());
    // reverse order of last use: ln_f first, the gather-fed embeddings last; tok also feeds the head
    expect(order.slice(0, 2).sort()).toEqual(['ln_f.bias', 'ln_f.weight']);
    expect(order.slice(-2).sort()).toEqual(['pos.weight', 'tok.weight']);
    // gradient peak: the tied embedding accumulates from the head (first) to the gather (last); besides
    // it, at most one node's parameter gradients (weight + bias ≤ 2× the largest) are live at a time
    const tokBytes = 13 * 8 * 4;
    const largestOther = Math.max(...model.params.all().filter((p) => p.name !== 'tok.weight').map((p) => p.tensor.size * 4));
    expect(engine.ledger.peakBytes('gradient')).toBeLessThanOrEqual(tokBytes + 2 * largestOther);
    expect(engine.ledger.currentBytes('gradient')).toBe(0);
  });

  it('the tied embedding gets both contributions: rows never fed in still get the output head’s gradient', async () => {
    const model = new CausalLm(new Engine(new CpuBackend()), CONFIG, 4);
    const batch = lmBatch(2); // ids < 10: rows 10..12 of tok.weight only appear in the output head
    const { grads } = await valueAndGrad(model.params, () => model.lossTensor(batch));
    const tok = grads.get(model.params.get('tok.weight'))!.readSync();
    const headOnly = tok.subarray(10 * 8);
    expect(headOnly.some((x) => x !== 0)).toBe(true);
    for (const grad of grads.values()) grad.dispose();
  });
});

describe('trainable subsets and adapters', () => {
  it('frozen parameters get no gradient and cost no gradient memory', async () => {
    const engine = new Engine(new CpuBackend());
    const model = new CausalLm(engine, CONFIG, 4);
    model.params.setTrainable((p) => p.name.startsWith('blocks.1.mlp'));
    const { grads } = await valueAndGrad(model.params, () => model.lossTensor(lmBatch(3)));
    expect([...grads.keys()].map((p) => p.name).sort()).toEqual(['blocks.1.mlp.fc1.bias', 'blocks.1.mlp.fc1.weight', 'blocks.1.mlp.fc2.bias', 'blocks.1.mlp.fc2.weight']);
    for (const grad of grads.values()) grad.dispose();
  });

  it('an output adapter (LoRA-style y + s·B(A(x))) built from F ops gets correct gradients; the base stays frozen', async () => {
    const engine = new Engine(new CpuBackend());
    const model = new CausalLm(engine, CONFIG, 5);
    const random = mulberry(9);
    const rank = 2;
    for (const linear of model.linears().values()) {
      const a = model.params.add(`${linear.name}.lora_a`, 'adapter', [rank, linear.inFeatures], normals(random, rank * linear.inFeatures, 0.3));
      const b = model.params.add(`${linear.name}.lora_b`, 'adapter', [linear.outFeatures, rank], normals(random, rank * linear.outFeatures, 0.3));
      linear.outputAdapters.push((x, y) => F.add(y, F.scale(F.linear(F.linear(x, a.tensor), b.tensor), 0.5)));
    }
    model.params.setTrainable((p) => p.group === 'adapter');
    expect(await checkModelGradients('lora', model, lmBatch(4), 21)).toBe(16);
    expect(engine.ledger.currentBytes('adapter')).toBe(model.params.count(true) * 4);
  });
});

describe('misuse', () => {
  it('backward twice or nested recording throws', async () => {
    const model = new CausalLm(new Engine(new CpuBackend()), CONFIG, 4);
    const tape = new Tape(model.params);
    const loss = tape.run(() => model.lossTensor(lmBatch(5)));
    expect(() => new Tape(model.params).run(() => tape.run(() => 0))).toThrow(/another tape is already recording/);
    await tape.backward(loss);
    await expect(tape.backward(loss)).rejects.toThrow(/called twice/);
  });
});

describe('clipGradNorm', () => {
  it('scales all gradients by maxNorm/‖g‖ when the global norm exceeds it, and returns the norm before', async () => {
    const { clipGradNorm } = await import('../../src/nn/index.ts');
    const engine = new Engine(new CpuBackend());
    const model = new CausalLm(engine, CONFIG, 4);
    const [p0, p1] = model.params.all();
    const grads = new Map([[p0!, engine.fromArray([3, 0], [2], 'gradient')], [p1!, engine.fromArray([0, 4], [2], 'gradient')]]);
    expect(await clipGradNorm(grads, 10)).toBe(5);
    expect(grads.get(p0!)!.readSync()[0]).toBe(3);
    expect(await clipGradNorm(grads, 1)).toBe(5);
    // scaled by 1/(5 + 1e-6): f32 rounding of 0.6 and 0.8 only
    expect(grads.get(p0!)!.readSync()[0]).toBeCloseTo(0.6, 6);
    expect(grads.get(p1!)!.readSync()[1]).toBeCloseTo(0.8, 6);
    await expect(clipGradNorm(grads, 0)).rejects.toThrow(/maxNorm must be a positive finite number, got 0/);
  });
});
