/**
 * Runs one kernel call on up to `threads` threads: the main thread (tid 0) and threads − 1 workers
 * that share the module and the memory. Kernels take their work from a shared counter (address 0
 * of the memory, see `grab` in wat.ts), so a call is "whoever is awake, run export F with these
 * arguments". Hand-off protocol over a shared control block:
 * - the main thread writes the arguments, resets the work counter, opens the call (STATE = 0),
 *   bumps GENERATION and notifies;
 * - a worker joins by incrementing STATE (only while it is ≥ 0), runs the kernel, decrements it;
 * - the main thread runs the kernel itself, then closes the call by swapping STATE 0 → −1, i.e.
 *   it waits only for workers that actually joined, never for one that is still asleep or was
 *   descheduled (the machine is shared; a late worker finds the call closed and goes back to wait).
 * Workers spin briefly (a forward pass issues ops every few tens of µs, and a futex wake-up costs
 * about as much), then sleep in Atomics.wait. Workers are unref'd, so they never keep the process
 * alive, and `dispose` terminates them.
 */
import { Worker } from 'node:worker_threads';

const GENERATION = 0;
const STATE = 1;
const FUNCTION = 2;
const ARG_COUNT = 3;
const FAILED = 4;
const EXIT = 5;
const CLOSED = -1;
const MAX_ARGS = 32;
/** Spin iterations (~50–100 µs) before a thread sleeps. */
const SPIN = 20_000;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { module, memory, control, argBuffer, tid, nt, names, spin } = workerData;
const ctrl = new Int32Array(control);
const args = new Float64Array(argBuffer);
const instance = new WebAssembly.Instance(module, { env: { memory } });
const fns = names.map((name) => instance.exports[name]);
let seen = Atomics.load(ctrl, ${GENERATION});
parentPort.postMessage('ready');
for (;;) {
  let spins = 0;
  while (Atomics.load(ctrl, ${GENERATION}) === seen) {
    if (++spins > spin) Atomics.wait(ctrl, ${GENERATION}, seen);
  }
  seen = Atomics.load(ctrl, ${GENERATION});
  if (Atomics.load(ctrl, ${EXIT}) === 1) break;
  let state = Atomics.load(ctrl, ${STATE});
  while (state >= 0) {
    const previous = Atomics.compareExchange(ctrl, ${STATE}, state, state + 1);
    if (previous === state) break;
    state = previous;
  }
  if (state < 0) continue;
  try {
    const n = ctrl[${ARG_COUNT}];
    const call = new Array(n + 2);
    for (let i = 0; i < n; i++) call[i] = args[i];
    call[n] = tid;
    call[n + 1] = nt;
    fns[ctrl[${FUNCTION}]](...call);
  } catch (error) {
    Atomics.store(ctrl, ${FAILED}, 1);
  }
  Atomics.sub(ctrl, ${STATE}, 1);
  Atomics.notify(ctrl, ${STATE});
}
`;

type Kernel = (...args: number[]) => number;

export class ThreadPool {
  private readonly ctrl = new Int32Array(new SharedArrayBuffer(64));
  private readonly args = new Float64Array(new SharedArrayBuffer(MAX_ARGS * 8));
  private readonly workers: Worker[] = [];
  private readonly index: Map<string, number>;
  private readonly kernels: Kernel[];
  /** the kernels' work counter: int32 at byte 0 of the shared memory. */
  private readonly counter: Int32Array;

  private constructor(readonly threads: number, names: string[], instance: WebAssembly.Instance, memory: WebAssembly.Memory) {
    this.index = new Map(names.map((name, i) => [name, i]));
    this.kernels = names.map((name) => instance.exports[name] as Kernel);
    this.counter = new Int32Array(memory.buffer, 0, 1);
    Atomics.store(this.ctrl, STATE, CLOSED);
  }

  static async start(module: WebAssembly.Module, memory: WebAssembly.Memory, instance: WebAssembly.Instance, threads: number): Promise<ThreadPool> {
    const names = WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name);
    const pool = new ThreadPool(threads, names, instance, memory);
    const ready: Promise<unknown>[] = [];
    for (let tid = 1; tid < threads; tid++) {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { module, memory, control: pool.ctrl.buffer, argBuffer: pool.args.buffer, tid, nt: threads, names, spin: SPIN },
      });
      ready.push(new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      }));
      pool.workers.push(worker);
    }
    await Promise.all(ready);
    for (const worker of pool.workers) worker.unref();
    return pool;
  }

  /** Runs kernel `name` with `args` (then tid, nt appended), with the workers when `parallel`; returns when all work is done. */
  run(name: string, args: readonly number[], parallel = true): void {
    const fn = this.index.get(name);
    if (fn === undefined) throw new Error(`wasm kernel ${name} does not exist`);
    const kernel = this.kernels[fn]!;
    Atomics.store(this.counter, 0, 0);
    if (!parallel || this.workers.length === 0) {
      kernel(...args, 0, this.threads);
      return;
    }
    const ctrl = this.ctrl;
    for (let i = 0; i < args.length; i++) this.args[i] = args[i]!;
    ctrl[FUNCTION] = fn;
    ctrl[ARG_COUNT] = args.length;
    Atomics.store(ctrl, STATE, 0);
    Atomics.add(ctrl, GENERATION, 1);
    Atomics.notify(ctrl, GENERATION);
    kernel(...args, 0, this.threads);
    let spins = 0;
    for (;;) {
      const state = Atomics.compareExchange(ctrl, STATE, 0, CLOSED);
      if (state === 0) break;
      if (++spins > SPIN) Atomics.wait(ctrl, STATE, state, 1);
    }
    if (Atomics.load(ctrl, FAILED) === 1) {
      Atomics.store(ctrl, FAILED, 0);
      throw new Error(`wasm kernel ${name} failed on a worker thread`);
    }
  }

  /** Calls the scalar function `name` on this thread (a helper the kernels use, exported for tests). */
  call(name: string, ...args: number[]): number {
    const fn = this.index.get(name);
    if (fn === undefined) throw new Error(`wasm function ${name} does not exist`);
    return this.kernels[fn]!(...args);
  }

  dispose(): void {
    Atomics.store(this.ctrl, EXIT, 1);
    Atomics.add(this.ctrl, GENERATION, 1);
    Atomics.notify(this.ctrl, GENERATION);
    for (const worker of this.workers) void worker.terminate();
    this.workers.length = 0;
  }
}
