/**
 * Runs one function's progressive rollout: observe -> decide (plan/rollout.ts) -> act, until the
 * rollout is done, rolled back, blocked, or must be handed over (the Lambda deadline, `--no-wait`,
 * Ctrl-C). Nothing about where the rollout stands is kept in memory between moves that matters to
 * a later run: every shift writes LIVE's routing plus the marker, so the next invocation (pipeline
 * continuation, CLI, re-run after a crash) reads where it stands and carries on.
 *
 * Side effects go through a small port (LIVE read/write, smoke invoke, alarm states) so the loop
 * can be tested with a recording fake and a fake clock; durations go down to 1s.
 *
 * - Alarms are read before every decision and, while waiting, at least every WATCH_INTERVAL_MS.
 * - The smoke invocation runs once, before the first shift; a failure stops before any traffic.
 * - Every write is guarded by LIVE's RevisionId; a conflict (someone moved LIVE) makes the runner
 *   read LIVE again and decide again, a few times at most.
 * - `mayStart: false` (a pipeline continuation) never starts a rollout: if LIVE no longer shows
 *   the rollout this job started, someone else moved it, and this job stops instead of starting over.
 */
import type { InvokeOutcome } from "../aws/lambda.ts";
import type { Declared } from "../input/definitions.ts";
import type { Live } from "../observe/live.ts";
import { type Marker, markerOf } from "../observe/marker.ts";
import {
  type AlarmState,
  decideRollout,
  type LiveWrite,
  type Rollout,
  type RolloutEvent,
  type RolloutOutcome,
  type RolloutRouting,
} from "../plan/rollout.ts";

/** Alarms are checked at least this often while a rollout waits (the issue: every 30 s at most). */
export const WATCH_INTERVAL_MS = 30_000;
/** How many times a write conflict (LIVE moved) is re-read and re-decided before giving up. */
export const MAX_CONFLICTS = 3;

export type WriteResult = { ok: true; live: Live } | { ok: false; conflict: true };

/** What the runner needs from AWS for one function. */
export interface RolloutPort {
  /** LIVE as it is now (routing, semantic version, marker, RevisionId); null when absent. */
  readLive(): Promise<Live | null>;
  /** Guarded write of LIVE (create when `revisionId` is undefined) with the marker in its description. */
  writeLive(routing: RolloutRouting, marker: Marker, revisionId: string | undefined): Promise<WriteResult>;
  /** State of each named alarm. */
  alarmStates(names: readonly string[]): Promise<ReadonlyMap<string, AlarmState>>;
  /** Synchronous invocation of the new version through its version alias. */
  smoke(payload: unknown): Promise<InvokeOutcome>;
}

export interface Clock {
  now(): number;
  /** Resolves after `ms`, or early when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      }
      signal?.addEventListener("abort", done, { once: true });
    }),
};

export interface RolloutJob {
  rollout: Rollout;
  declared: Declared;
  /** The routing LIVE ends with. */
  target: RolloutRouting;
}

export interface RunOptions {
  clock: Clock;
  /** Make the next due move (if any) and return, instead of waiting (CLI `--no-wait`). */
  noWait?: boolean;
  /** Hand over (return in-progress) rather than wait past this time (ms): the Lambda deadline. */
  deadline?: number;
  /** false: continue a rollout only, never start one (a pipeline continuation). */
  mayStart?: boolean;
  /** Stop waiting and hand over (Ctrl-C). */
  signal?: AbortSignal;
  onEvent?: (event: RolloutEvent) => void;
}

/** Drive one function's rollout as far as the options allow. Throws only when an AWS call fails. */
export async function runRollout(job: RolloutJob, port: RolloutPort, options: RunOptions): Promise<RolloutOutcome> {
  const { clock } = options;
  const emit = options.onEvent ?? (() => {});
  let live = await port.readLive();
  let shifts = 0;
  let conflicts = 0;
  /** The step this run last wrote: a decision to write it again means the write changed nothing. */
  let wrote: number | undefined;
  for (;;) {
    const alarms = job.rollout.alarms.length > 0 ? await port.alarmStates(job.rollout.alarms) : new Map<string, AlarmState>();
    const now = clock.now();
    const decision = decideRollout({ ...job, live, alarms, now });
    let write: LiveWrite | undefined;
    switch (decision.kind) {
      case "done":
        // The bake ended while this run watched: the completing write records it (routing unchanged).
        if (!decision.record) return { kind: "done", steps: decision.steps, shifts };
        write = decision.record;
        break;
      case "blocked":
        return { kind: "blocked", code: decision.code, ...(decision.alarm ? { alarm: decision.alarm } : {}), reason: decision.reason };
      case "wait": {
        emit({ kind: "watch", phase: decision.phase, step: decision.step, steps: decision.steps, until: decision.until, alarms: Object.fromEntries(alarms) });
        const handOver = { kind: "in-progress", step: decision.step, steps: decision.steps, phase: decision.phase, nextAt: decision.until, shifts } as const;
        if (options.noWait || options.signal?.aborted) return handOver;
        const wake = Math.min(decision.until, now + WATCH_INTERVAL_MS);
        if (options.deadline !== undefined && wake > options.deadline) return handOver;
        await clock.sleep(Math.max(0, wake - now), options.signal);
        if (options.signal?.aborted) return handOver;
        continue;
      }
      case "immediate":
        emit({ kind: "immediate", reason: decision.reason });
        write = { routing: decision.routing, marker: markerOf(job.declared, decision.routing) };
        break;
      case "rollback":
        emit({ kind: "rollback", alarm: decision.alarm, state: decision.state, step: decision.step, steps: decision.steps });
        write = decision;
        break;
      case "shift": {
        if (decision.first && options.mayStart === false) {
          return {
            kind: "blocked",
            code: "moved-elsewhere",
            reason: "LIVE no longer shows the rollout this job started (another run or a person moved it): this job stops",
          };
        }
        if (wrote === decision.step) return { kind: "no-progress", step: decision.step, steps: decision.steps };
        if (decision.first && job.rollout.smoke) {
          const answer = await port.smoke(job.rollout.smoke.payload);
          emit({ kind: "smoke", ok: answer.ok, statusCode: answer.statusCode, ...(answer.ok ? {} : { functionError: answer.functionError }) });
          if (!answer.ok) {
            return { kind: "smoke-failed", statusCode: answer.statusCode, functionError: answer.functionError, excerpt: answer.excerpt };
          }
        }
        write = decision;
        break;
      }
    }
    const result = await port.writeLive(write.routing, write.marker, live?.revisionId);
    if (!result.ok) {
      conflicts += 1;
      if (conflicts > MAX_CONFLICTS) {
        return { kind: "conflict", reason: `LIVE kept changing while this run wrote it (${conflicts} conflicts)` };
      }
      live = await port.readLive();
      continue;
    }
    live = result.live;
    shifts += 1;
    if (decision.kind === "done") return { kind: "done", steps: decision.steps, shifts };
    if (decision.kind === "immediate") return { kind: "immediate", reason: decision.reason, routing: decision.routing };
    if (decision.kind === "rollback") {
      return { kind: "rolled-back", alarm: decision.alarm, state: decision.state, step: decision.step, steps: decision.steps };
    }
    if (decision.kind === "shift") {
      wrote = decision.step;
      const weight = decision.step > decision.steps ? 100 : job.rollout.steps[decision.step - 1]!;
      emit({ kind: "shift", step: decision.step, steps: decision.steps, weight, nextAt: decision.nextAt });
      if (options.noWait && decision.nextAt !== undefined) {
        const phase = decision.step > decision.steps ? "bake" : "interval";
        return { kind: "in-progress", step: decision.step, steps: decision.steps, phase, nextAt: decision.nextAt, shifts };
      }
    }
  }
}
