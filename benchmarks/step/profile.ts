/**
 * Per-op profile of a synchronous backend: wraps every Backend method to accumulate wall time and
 * call counts by op (matmuls further keyed by shape). Only meaningful for backends whose ops finish
 * before they return (cpu, wasm); timing wrappers add ~0.1 µs per call.
 */
import type { Backend, MatmulEpilogue, MatmulSpec } from '../../src/kernels/backend.ts';
import { CpuBackend } from '../../src/kernels/cpu.ts';

export interface OpStat {
  op: string;
  calls: number;
  ms: number;
}

export interface Profiler {
  stats(): OpStat[];
  /** distinct matmul specs seen (the model's shapes), with calls per forward pass. */
  matmulShapes(): { spec: MatmulSpec; calls: number }[];
  reset(): void;
  restore(): void;
}

const SKIP = new Set(['constructor', 'name', 'mode', 'dispose', 'read', 'readSync']);
/** The Backend interface's methods: those the cpu backend implements, and the optional fused ones. */
const BACKEND_METHODS = new Set([...Object.getOwnPropertyNames(CpuBackend.prototype), 'matmulEpilogue']);

export function matmulLabel(spec: MatmulSpec): string {
  const flags = `${spec.transA ? 'T' : 'N'}${spec.transB ? 'T' : 'N'}`;
  return `${spec.batch > 1 ? `${spec.batch}×` : ''}[${spec.m}×${spec.k}]·[${spec.k}×${spec.n}] ${flags}`;
}

export function profile(backend: Backend): Profiler {
  const table = new Map<string, OpStat>();
  const shapes = new Map<string, { spec: MatmulSpec; calls: number }>();
  const originals = new Map<string, unknown>();
  const target = backend as unknown as Record<string, unknown>;
  let proto: object | null = Object.getPrototypeOf(backend);
  const names = new Set<string>();
  while (proto && proto !== Object.prototype) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (BACKEND_METHODS.has(name) && !SKIP.has(name) && typeof target[name] === 'function') names.add(name);
    }
    proto = Object.getPrototypeOf(proto);
  }
  for (const name of names) {
    const original = target[name] as (...args: unknown[]) => unknown;
    originals.set(name, Object.prototype.hasOwnProperty.call(target, name) ? original : undefined);
    target[name] = function (this: unknown, ...args: unknown[]) {
      let key = name;
      if (name === 'matmul' || name === 'matmulEpilogue') {
        const spec = args[3] as MatmulSpec;
        const epilogue = args[4] as MatmulEpilogue | undefined;
        key = `matmul ${matmulLabel(spec)}${epilogue?.bias ? ' +bias' : ''}${epilogue?.gelu ? ' +gelu' : ''}`;
        const entry = shapes.get(key) ?? { spec: { ...spec }, calls: 0 };
        entry.calls++;
        shapes.set(key, entry);
      } else if (name === 'binary' || name === 'unary') {
        key = `${name} ${String(args[0])}`;
      }
      const start = performance.now();
      const result = original.apply(backend, args);
      const ms = performance.now() - start;
      const stat = table.get(key) ?? { op: key, calls: 0, ms: 0 };
      stat.calls++;
      stat.ms += ms;
      table.set(key, stat);
      return result;
    };
  }
  return {
    stats: () => [...table.values()].sort((a, b) => b.ms - a.ms),
    matmulShapes: () => [...shapes.values()],
    reset: () => {
      table.clear();
      shapes.clear();
    },
    restore: () => {
      for (const [name, own] of originals) {
        if (own === undefined) delete target[name];
        else target[name] = own;
      }
    },
  };
}
