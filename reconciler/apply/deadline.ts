/**
 * The deadline bounds every step (issue 20): each wait, download and smoke invocation gets the time
 * left before the deadline (less the reserve kept for reporting), not only its own maximum. A step
 * that would not fit hands the function over to the next round (HandOver, status `skipped`, a
 * continuation token) instead of being cut off by Lambda's timeout, which would report nothing.
 *
 * - waits (aws/wait.ts): budget = the time left; a wait stopped by it throws WaitOutOfTime;
 * - downloads: timeout = min(DOWNLOAD_TIMEOUT_MS, the time left); cut by the deadline -> HandOver;
 * - the smoke Invoke: an AbortSignal that fires at the rollout's deadline; aborted -> HandOver.
 */
import type { Downloader } from "../aws/download.ts";
import { DOWNLOAD_TIMEOUT_MS } from "../aws/download.ts";
import type { InvokeOutcome, LambdaWriter } from "../aws/lambda.ts";
import { DEFAULT_WAIT, WaitOutOfTime } from "../aws/wait.ts";
import { HandOver, type StepDeps } from "./execution.ts";

/** An error that hands the function over to the next round rather than failing it. */
export function isHandOver(error: unknown): boolean {
  return error instanceof HandOver || error instanceof WaitOutOfTime;
}

const seconds = (ms: number) => `${Math.max(0, Math.round(ms / 1000))} s`;

/** The step dependencies with every wait and download bounded by `deps.timeLeftMs` (unchanged without one). */
export function withinDeadline<D extends Pick<StepDeps, "timeLeftMs" | "wait" | "download">>(deps: D): D {
  const timeLeftMs = deps.timeLeftMs;
  if (!timeLeftMs) return deps;
  const download: Downloader = async (url, expected) => {
    const max = expected.timeoutMs ?? DOWNLOAD_TIMEOUT_MS;
    const left = timeLeftMs();
    if (left <= 0) throw new HandOver("handed over to the next round before downloading the code: no time left before the deadline");
    const timeoutMs = Math.min(max, left);
    const result = await deps.download(url, { ...expected, timeoutMs });
    if (!result.ok && result.timedOut && timeoutMs < max) {
      throw new HandOver(`handed over to the next round: the code download was cut at the deadline (${seconds(timeoutMs)} left)`);
    }
    return result;
  };
  return { ...deps, wait: { ...(deps.wait ?? DEFAULT_WAIT), budgetMs: timeLeftMs }, download };
}

/**
 * A smoke invocation that cannot outlive `deadline` (ms since the epoch; none: unbounded, the CLI):
 * aborted there, and the function handed over.
 */
export async function invokeBefore(
  target: Pick<LambdaWriter, "invoke">,
  call: { name: string; qualifier: string; payload: unknown },
  deadline: number | undefined,
  now: () => number = Date.now,
): Promise<InvokeOutcome> {
  if (deadline === undefined) return target.invoke(call.name, call.qualifier, call.payload);
  const left = deadline - now();
  if (left <= 0) throw new HandOver(`handed over to the next round before the smoke invocation of ${call.qualifier}: no time left before the deadline`);
  const abortSignal = AbortSignal.timeout(left);
  try {
    return await target.invoke(call.name, call.qualifier, call.payload, { abortSignal });
  } catch (error) {
    if (!abortSignal.aborted) throw error;
    throw new HandOver(
      `handed over to the next round: the smoke invocation of ${call.qualifier} had not answered when the time left (${seconds(left)}) ran out`,
    );
  }
}
