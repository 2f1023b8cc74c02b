/**
 * Client-side budgeting of Lambda's API quotas (the quotas and which operation draws from which:
 * core/lambda-quotas.ts; README "Performance").
 *
 * Lambda throttles per account and region: GetFunction has its own 100 requests/s, and every other
 * control-plane call (ListAliases, UpdateAlias, PublishVersion...) shares ONE bucket of 15/s. A
 * tool that fans out blindly over hundreds of functions gets `TooManyRequestsException` storms; one
 * that is too careful wastes the budget. So:
 *
 * - one `RateScheduler` per (account or label, region), from a `SchedulerRegistry`, shared by every
 *   SDK client of that pair (the SDK's adaptive retry mode is per client, which is the wrong scope);
 * - inside it, a token bucket per quota class (`control`, `getFunction`): `rate` tokens per second
 *   and a small `burst`, so that no 1-second window ever holds more than `burst + rate` calls;
 *   waiters are served first come, first served;
 * - adaptive, because other tools may share the same quota: a 429 pauses the class until its
 *   `Retry-After` has passed and lowers its rate multiplicatively (once per throttle episode), then
 *   the rate recovers additively, back up to the configured rate;
 * - counts every attempt and every 429 per class.
 *
 * `attachScheduler` (scheduler-middleware.ts) wires it into an SDK client, inside the SDK's retry
 * loop, so every HTTP attempt takes a token and every 429 feeds back.
 *
 * Time comes from an injectable `Clock`, so the tests drive it without sleeping.
 */

import { QUOTA_CLASSES, type QuotaClass } from "../core/lambda-quotas.ts";

export type { QuotaClass };
/** This tool's defaults: some headroom under the quotas. */
export const DEFAULT_RATES: Readonly<Record<QuotaClass, number>> = { control: 14, getFunction: 90 };

export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  setTimer(callback: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => performance.now(),
  setTimer: (callback, ms) => setTimeout(callback, ms),
  clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface ClassLimit {
  /** Tokens per second. */
  rate: number;
  /** Bucket capacity; default max(1, rate / 10). */
  burst?: number;
}

export interface AdaptiveOptions {
  /** Rate multiplier on a throttle (default 0.7). */
  decrease: number;
  /** Additive recovery, as a fraction of the configured rate per second (default 0.1: 10 s to recover fully from 0). */
  recoveryPerSecond: number;
  /**
   * Near the rate that was last throttled (from 90% to 110% of it) recovery runs at this fraction
   * of its speed (default 0.2): the rate dwells just under what the shared quota leaves, instead of
   * hitting it again at once. Past 110% that ceiling is forgotten.
   */
  probeSlowdown: number;
  /** The rate never drops below this fraction of the configured rate (default 0.1). */
  minFraction: number;
  /** Pause when a 429 carries no Retry-After (default 1000 ms). */
  defaultRetryAfterMs: number;
  /** Retry-After values above this are capped (default 20 s): a bad header must not stall a run. */
  maxRetryAfterMs: number;
}

export const DEFAULT_ADAPTIVE: AdaptiveOptions = {
  decrease: 0.7,
  recoveryPerSecond: 0.1,
  probeSlowdown: 0.2,
  minFraction: 0.1,
  defaultRetryAfterMs: 1000,
  maxRetryAfterMs: 20_000,
};

export interface ClassStats {
  /** The configured rate and the current (adapted) one, tokens per second. */
  configuredRate: number;
  rate: number;
  /** Attempts that asked for a token (every HTTP attempt, SDK retries included). */
  calls: number;
  /** 429 / throttling responses reported back. */
  throttled: number;
  /** Attempts waiting for a token right now. */
  waiting: number;
  /** Total time attempts spent waiting for a token, ms. */
  waitedMs: number;
}

export type SchedulerStats = Record<QuotaClass, ClassStats>;

const EPSILON = 1e-9;

/** One quota class: a token bucket with a FIFO of waiters, a pause and an adaptive rate. */
class ClassBucket {
  configuredRate: number;
  rate: number;
  burst: number;
  private tokens: number;
  private last: number;
  private pausedUntil = Number.NEGATIVE_INFINITY;
  private lastDecrease = Number.NEGATIVE_INFINITY;
  /** The rate at the last throttle (recovery slows down near it); +Infinity when none. */
  private ceiling = Number.POSITIVE_INFINITY;
  private readonly queue: { resolve: () => void; since: number }[] = [];
  private timer: unknown;
  private timerAt = Number.POSITIVE_INFINITY;
  calls = 0;
  throttled = 0;
  waitedMs = 0;

  constructor(
    limit: ClassLimit,
    private readonly clock: Clock,
    private readonly adaptive: AdaptiveOptions,
  ) {
    this.configuredRate = limit.rate;
    this.rate = limit.rate;
    this.burst = burstOf(limit);
    this.tokens = this.burst;
    this.last = clock.now();
  }

  configure(limit: ClassLimit): void {
    this.refill(this.clock.now());
    this.configuredRate = limit.rate;
    this.rate = Math.min(this.rate, limit.rate);
    this.burst = burstOf(limit);
    this.tokens = Math.min(this.tokens, this.burst);
  }

  acquire(): Promise<void> {
    this.calls += 1;
    const now = this.clock.now();
    this.refill(now);
    if (this.queue.length === 0 && now >= this.pausedUntil && this.tokens >= 1 - EPSILON) {
      this.tokens -= 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this.queue.push({ resolve, since: now });
      this.schedule();
    });
  }

  throttle(retryAfterMs: number | undefined): void {
    const now = this.clock.now();
    this.refill(now);
    this.throttled += 1;
    const pause = Math.min(
      this.adaptive.maxRetryAfterMs,
      Math.max(0, retryAfterMs ?? this.adaptive.defaultRetryAfterMs),
    );
    this.pausedUntil = Math.max(this.pausedUntil, now + pause);
    this.tokens = Math.min(this.tokens, 0);
    // One decrease per episode: the other 429s of calls already in flight say nothing new.
    if (now - this.lastDecrease >= Math.max(pause, this.adaptive.defaultRetryAfterMs)) {
      const floor = this.configuredRate * this.adaptive.minFraction;
      this.ceiling = this.rate;
      this.rate = Math.max(floor, this.rate * this.adaptive.decrease);
      this.lastDecrease = now;
    }
    this.reschedule();
  }

  stats(): ClassStats {
    this.refill(this.clock.now());
    return {
      configuredRate: this.configuredRate,
      rate: round(this.rate),
      calls: this.calls,
      throttled: this.throttled,
      waiting: this.queue.length,
      waitedMs: Math.round(this.waitedMs),
    };
  }

  /** Adds the tokens (and the additive rate recovery) earned since the last look. Paused time earns nothing. */
  private refill(now: number): void {
    const from = Math.max(this.last, this.pausedUntil);
    if (now > from) {
      this.tokens = Math.min(this.burst, this.tokens + this.recover((now - from) / 1000));
    }
    this.last = Math.max(this.last, now);
  }

  /**
   * Additive recovery over `seconds` (piecewise: fast, slow near the last throttled rate, fast again
   * past it); returns the tokens earned meanwhile (the integral of the rate).
   */
  private recover(seconds: number): number {
    let earned = 0;
    let left = seconds;
    while (left > 0 && this.rate < this.configuredRate) {
      if (this.rate >= this.ceiling * 1.1 - EPSILON) this.ceiling = Number.POSITIVE_INFINITY;
      const fast = this.adaptive.recoveryPerSecond * this.configuredRate;
      const near = this.ceiling * 0.9;
      const past = this.ceiling * 1.1;
      const probing = this.rate >= near;
      const speed = probing ? fast * this.adaptive.probeSlowdown : fast;
      if (!(speed > 0)) break;
      const limit = Math.min(this.configuredRate, probing ? past : near);
      const dt = Math.max(0, Math.min(left, (limit - this.rate) / speed));
      const next = this.rate + speed * dt;
      earned += ((this.rate + next) / 2) * dt;
      this.rate = next;
      left -= dt;
      if (dt <= 0) break;
    }
    return earned + this.rate * Math.max(0, left);
  }

  private drain(): void {
    const now = this.clock.now();
    this.refill(now);
    while (this.queue.length > 0 && now >= this.pausedUntil && this.tokens >= 1 - EPSILON) {
      this.tokens -= 1;
      const waiter = this.queue.shift()!;
      this.waitedMs += now - waiter.since;
      waiter.resolve();
    }
    this.schedule();
  }

  /** When the head of the queue can go: after the pause, once a whole token has accrued. */
  private nextGrantAt(now: number): number {
    const start = Math.max(now, this.pausedUntil);
    const missing = Math.max(0, 1 - this.tokens);
    return start + (missing * 1000) / this.rate;
  }

  private schedule(): void {
    if (this.queue.length === 0) return;
    const now = this.clock.now();
    const at = this.nextGrantAt(now);
    if (this.timer !== undefined && this.timerAt <= at) return;
    this.cancelTimer();
    this.timerAt = at;
    this.timer = this.clock.setTimer(
      () => {
        this.timer = undefined;
        this.timerAt = Number.POSITIVE_INFINITY;
        this.drain();
      },
      Math.max(0, Math.ceil(at - now)),
    );
  }

  private reschedule(): void {
    this.cancelTimer();
    this.schedule();
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
  }
}

function burstOf(limit: ClassLimit): number {
  if (!(limit.rate > 0)) throw new RangeError(`a rate must be positive (got ${limit.rate})`);
  return Math.max(1, limit.burst ?? limit.rate / 10);
}

const round = (n: number) => Math.round(n * 100) / 100;

export interface RateSchedulerOptions {
  limits: Record<QuotaClass, ClassLimit>;
  clock?: Clock;
  adaptive?: Partial<AdaptiveOptions>;
}

/** The budget of one (account, region): a bucket per quota class. */
export class RateScheduler {
  private readonly buckets: Record<QuotaClass, ClassBucket>;

  constructor(options: RateSchedulerOptions) {
    const clock = options.clock ?? realClock;
    const adaptive = { ...DEFAULT_ADAPTIVE, ...options.adaptive };
    this.buckets = {
      control: new ClassBucket(options.limits.control, clock, adaptive),
      getFunction: new ClassBucket(options.limits.getFunction, clock, adaptive),
    };
  }

  /** Resolves when the class grants a token (first come, first served). */
  acquire(quotaClass: QuotaClass): Promise<void> {
    return this.buckets[quotaClass].acquire();
  }

  /** A throttling response: pause the class for `retryAfterMs` (default 1 s) and slow it down. */
  throttled(quotaClass: QuotaClass, retryAfterMs?: number): void {
    this.buckets[quotaClass].throttle(retryAfterMs);
  }

  /** Change the configured rates (e.g. another job with other parameters in a warm container). */
  configure(limits: Record<QuotaClass, ClassLimit>): void {
    for (const c of QUOTA_CLASSES) this.buckets[c].configure(limits[c]);
  }

  stats(): SchedulerStats {
    return { control: this.buckets.control.stats(), getFunction: this.buckets.getFunction.stats() };
  }
}

/** Rates in requests per second per class. */
export type Rates = Record<QuotaClass, number>;

/**
 * One scheduler per (account or label, region). Module-level by default (`sharedRegistry`), so a
 * warm Lambda container's successive invocations, and all clients of one run, share the budget.
 */
export class SchedulerRegistry {
  private readonly schedulers = new Map<string, RateScheduler>();

  constructor(private readonly options: { clock?: Clock; adaptive?: Partial<AdaptiveOptions> } = {}) {}

  get(account: string, region: string, rates: Rates = DEFAULT_RATES): RateScheduler {
    const key = `${account}\u0000${region}`;
    const limits = { control: { rate: rates.control }, getFunction: { rate: rates.getFunction } };
    const existing = this.schedulers.get(key);
    if (existing) {
      existing.configure(limits);
      return existing;
    }
    const created = new RateScheduler({ limits, ...this.options });
    this.schedulers.set(key, created);
    return created;
  }

  entries(): { account: string; region: string; scheduler: RateScheduler }[] {
    return [...this.schedulers].map(([key, scheduler]) => {
      const [account = "", region = ""] = key.split("\u0000");
      return { account, region, scheduler };
    });
  }
}

export const sharedRegistry = new SchedulerRegistry();
