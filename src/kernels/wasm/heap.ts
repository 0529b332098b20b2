/**
 * A simple allocator over the backend's shared WebAssembly.Memory. Blocks are 64-byte aligned
 * (cache lines; f32x4 loads need 16) and recycled by exact rounded size: a training loop allocates
 * the same activation shapes every step, so exact-size free lists reuse every block after the
 * first step without fragmentation bookkeeping. Address 0..63 is never handed out, so 0 means
 * "no buffer" to the kernels.
 */
const ALIGN = 64;
const PAGE = 65536;

export class SharedHeap {
  private top = ALIGN;
  private readonly freeLists = new Map<number, number[]>();
  /** bytes handed out and not yet freed (rounded sizes). */
  live = 0;

  /** the memory's current buffer object; `memory.buffer` allocates a new one on every access. */
  private buffer: ArrayBuffer | SharedArrayBuffer;

  constructor(readonly memory: WebAssembly.Memory) {
    this.buffer = memory.buffer;
  }

  /**
   * Byte address of a block of at least `bytes` bytes. A recycled block holds whatever was there;
   * a `fresh` one was never handed out, so it is still zero (wasm memory starts and grows zeroed).
   */
  allocBytes(bytes: number): { address: number; fresh: boolean } {
    const size = roundUp(Math.max(bytes, 1), ALIGN);
    this.live += size;
    const reuse = this.freeLists.get(size)?.pop();
    if (reuse !== undefined) return { address: reuse, fresh: false };
    const address = this.top;
    this.top += size;
    const have = this.buffer.byteLength;
    if (this.top > have) {
      this.memory.grow(Math.ceil((this.top - have) / PAGE));
      this.buffer = this.memory.buffer;
    }
    return { address, fresh: true };
  }

  freeBytes(address: number, bytes: number): void {
    const size = roundUp(Math.max(bytes, 1), ALIGN);
    this.live -= size;
    let list = this.freeLists.get(size);
    if (!list) this.freeLists.set(size, (list = []));
    list.push(address);
  }

  /** An Int32Array view of `length` ints at `address`. */
  int32View(address: number, length: number): Int32Array {
    return new Int32Array(this.buffer, address, length);
  }

  /** A Float64Array view of `length` doubles at `address` (a multiple of 8). */
  float64View(address: number, length: number): Float64Array {
    return new Float64Array(this.buffer, address, length);
  }

  /** A Float32Array view of `length` floats at `address` (valid for the memory's lifetime). */
  view(address: number, length: number): Float32Array {
    return new Float32Array(this.buffer, address, length);
  }
}

function roundUp(x: number, to: number): number {
  return Math.ceil(x / to) * to;
}
