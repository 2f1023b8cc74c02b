/**
 * The rate scheduler (scheduler.ts) in an SDK client: `attachScheduler(client, ...)` adds it as
 * `finalizeRequest` middleware placed right after `retryMiddleware`, i.e. inside the SDK's retry
 * loop: EVERY HTTP attempt, retries included, takes a token, and every 429 response feeds back into
 * the scheduler before the SDK's own retry (which honours Retry-After too) tries again. It also runs
 * before request signing, so a long wait never sends a stale signature. Commands are classified by
 * `context.commandName`.
 */
import { errorName, httpStatusOf } from "../core/errors.ts";
import { lambdaQuotaClass, type QuotaClass } from "../core/lambda-quotas.ts";
import type { RateScheduler } from "./scheduler.ts";

/** GetFunction has its own quota; every other Lambda control-plane operation shares one. */
export function classifyLambdaCommand(commandName: string | undefined): QuotaClass {
  // This tool never invokes; an Invoke would be budgeted as control (the safe side).
  return lambdaQuotaClass(commandName?.replace(/Command$/, "") ?? "") === "getFunction" ? "getFunction" : "control";
}

const THROTTLE_NAMES = new Set(["TooManyRequestsException", "ThrottlingException", "Throttling"]);

/** undefined when the error is not a throttle; otherwise the server's Retry-After in ms (or null). */
export function throttleRetryAfterMs(error: unknown, nowMs: number = Date.now()): number | null | undefined {
  if (!error || typeof error !== "object") return undefined;
  if (httpStatusOf(error) !== 429 && !THROTTLE_NAMES.has(errorName(error))) return undefined;
  const e = error as {
    $response?: { headers?: Record<string, string | undefined> };
    retryAfterSeconds?: string;
  };
  const headers = e.$response?.headers ?? {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const h = name.toLowerCase();
    if (h === "x-amz-retry-after" && Number.isFinite(Number(value))) return Number(value);
    if (h === "retry-after") return parseRetryAfter(value, nowMs);
  }
  return e.retryAfterSeconds !== undefined ? parseRetryAfter(e.retryAfterSeconds, nowMs) : null;
}

function parseRetryAfter(value: string, nowMs: number): number | null {
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, date - nowMs);
}

/** The parts of an SDK client the middleware needs (structural, so any v3 client fits). */
export interface MiddlewareClient {
  middlewareStack: {
    addRelativeTo(
      middleware: never,
      options: { name: string; relation: "after"; toMiddleware: string; override: boolean },
    ): void;
  };
}

export const SCHEDULER_MIDDLEWARE_NAME = "lambdaGitopsRateScheduler";

type Handler = (args: unknown) => Promise<unknown>;

export interface AttachOptions {
  classify?: (commandName: string | undefined) => QuotaClass;
  /** Per-client counting (the scheduler's own counts are shared by every client of its account). */
  onAttempt?: (quotaClass: QuotaClass, commandName: string | undefined) => void;
  onThrottle?: (quotaClass: QuotaClass, retryAfterMs: number | null) => void;
}

/**
 * Every HTTP attempt of `client` takes a token from the scheduler first; throttling responses feed
 * back into it. `scheduler` may be resolved lazily (e.g. once the client's region is known).
 */
export function attachScheduler(
  client: MiddlewareClient,
  scheduler: RateScheduler | (() => Promise<RateScheduler>),
  options: AttachOptions = {},
): void {
  const classify = options.classify ?? classifyLambdaCommand;
  let resolved: Promise<RateScheduler> | undefined;
  const get = () => {
    resolved ??= typeof scheduler === "function" ? scheduler() : Promise.resolve(scheduler);
    return resolved;
  };
  const middleware =
    (next: Handler, context: { commandName?: string }): Handler =>
    async (args) => {
      const s = await get();
      const quotaClass = classify(context.commandName);
      options.onAttempt?.(quotaClass, context.commandName);
      await s.acquire(quotaClass);
      try {
        return await next(args);
      } catch (error) {
        const retryAfter = throttleRetryAfterMs(error);
        if (retryAfter !== undefined) {
          s.throttled(quotaClass, retryAfter ?? undefined);
          options.onThrottle?.(quotaClass, retryAfter);
        }
        throw error;
      }
    };
  client.middlewareStack.addRelativeTo(middleware as never, {
    name: SCHEDULER_MIDDLEWARE_NAME,
    relation: "after",
    toMiddleware: "retryMiddleware",
    override: true,
  });
}
