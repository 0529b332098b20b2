/**
 * Byte accounting by category. Every buffer zolo allocates goes through here, so a report's memory
 * columns are what was actually live, not an estimate. `peakTotal` is the largest simultaneous sum,
 * which is what a device must hold; per-category peaks need not occur at the same moment.
 */
export const MEMORY_CATEGORIES = ['weights', 'adapter', 'optimizerState', 'gradient', 'activation', 'workspace'] as const;
export type MemoryCategory = (typeof MEMORY_CATEGORIES)[number];

export type ByteCounts = Record<MemoryCategory, number>;

function zeroCounts(): ByteCounts {
  return { weights: 0, adapter: 0, optimizerState: 0, gradient: 0, activation: 0, workspace: 0 };
}

export interface MemorySnapshot {
  current: ByteCounts & { total: number };
  peak: ByteCounts & { total: number };
}

export class MemoryLedger {
  private current = zeroCounts();
  private peak = zeroCounts();
  private currentTotal = 0;
  private peakTotal = 0;

  allocate(category: MemoryCategory, bytes: number): void {
    this.current[category] += bytes;
    this.currentTotal += bytes;
    if (this.current[category] > this.peak[category]) this.peak[category] = this.current[category];
    if (this.currentTotal > this.peakTotal) this.peakTotal = this.currentTotal;
  }

  release(category: MemoryCategory, bytes: number): void {
    if (bytes > this.current[category]) {
      throw new Error(`MemoryLedger: releasing ${bytes} bytes of ${category} but only ${this.current[category]} are live`);
    }
    this.current[category] -= bytes;
    this.currentTotal -= bytes;
  }

  /** Starts a new measurement window: peaks drop to what is live now (live buffers stay counted). */
  resetPeaks(): void {
    this.peak = { ...this.current };
    this.peakTotal = this.currentTotal;
  }

  /** Forgets everything; for a fresh run on a fresh engine. */
  reset(): void {
    this.current = zeroCounts();
    this.peak = zeroCounts();
    this.currentTotal = 0;
    this.peakTotal = 0;
  }

  currentBytes(category?: MemoryCategory): number {
    return category ? this.current[category] : this.currentTotal;
  }

  peakBytes(category?: MemoryCategory): number {
    return category ? this.peak[category] : this.peakTotal;
  }

  snapshot(): MemorySnapshot {
    return {
      current: { ...this.current, total: this.currentTotal },
      peak: { ...this.peak, total: this.peakTotal },
    };
  }
}
