/**
 * A byte budget for package transfers (download -> verify -> upload), independent of how many
 * functions are promoted at once: large packages must not be held N times over.
 *
 * An async semaphore counted in bytes, served first come, first served (a large transfer at the head
 * of the queue is not overtaken forever by small ones). A transfer larger than the whole budget still
 * proceeds, alone, once nothing else is in flight.
 *
 * A transfer holds more than its package size: the downloaded bytes, then the base64 JSON body the
 * SDK builds for `UpdateFunctionCode` (4/3 of the size, as a string and again as the sent buffer).
 * Callers weigh a transfer with `transferWeight(packageBytes)`, so the budget is close to the memory
 * actually used.
 */

/** Memory a transfer of an N-byte package holds at its peak, as a multiple of N (measured, rounded up). */
export const TRANSFER_MEMORY_FACTOR = 4;

export const DEFAULT_TRANSFER_BUDGET_MIB = 256;

export function transferWeight(packageBytes: number): number {
  return Math.max(1, Math.ceil(packageBytes * TRANSFER_MEMORY_FACTOR));
}

export interface TransferBudgetStats {
  budgetBytes: number;
  inFlightBytes: number;
  peakInFlightBytes: number;
  inFlight: number;
  waiting: number;
}

export class TransferBudget {
  private inFlightBytes = 0;
  private inFlight = 0;
  private peak = 0;
  private readonly queue: { bytes: number; resolve: () => void }[] = [];

  constructor(readonly budgetBytes: number) {
    if (!(budgetBytes > 0)) throw new RangeError(`a transfer budget must be positive (got ${budgetBytes})`);
  }

  /** Runs `task` once `bytes` fit in the budget (or alone, if `bytes` exceed it); releases them after. */
  async run<T>(bytes: number, task: () => Promise<T>): Promise<T> {
    await this.acquire(bytes);
    try {
      return await task();
    } finally {
      this.release(bytes);
    }
  }

  stats(): TransferBudgetStats {
    return {
      budgetBytes: this.budgetBytes,
      inFlightBytes: this.inFlightBytes,
      peakInFlightBytes: this.peak,
      inFlight: this.inFlight,
      waiting: this.queue.length,
    };
  }

  private fits(bytes: number): boolean {
    return this.inFlight === 0 || this.inFlightBytes + bytes <= this.budgetBytes;
  }

  private acquire(bytes: number): Promise<void> {
    if (this.queue.length === 0 && this.fits(bytes)) {
      this.take(bytes);
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => this.queue.push({ bytes, resolve }));
  }

  private take(bytes: number): void {
    this.inFlight += 1;
    this.inFlightBytes += bytes;
    this.peak = Math.max(this.peak, this.inFlightBytes);
  }

  private release(bytes: number): void {
    this.inFlight -= 1;
    this.inFlightBytes -= bytes;
    while (this.queue.length > 0 && this.fits(this.queue[0]!.bytes)) {
      const next = this.queue.shift()!;
      this.take(next.bytes);
      next.resolve();
    }
  }
}
