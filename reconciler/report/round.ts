/**
 * One pipeline round's outcome, decided from every function's result (issue 26). Pure.
 *
 * A round is one invocation of the handler for a job; CodePipeline runs the next round when the
 * previous one reported success with a continuation token. The rules, in order:
 * 1. Some function was not started (the Lambda deadline) and rounds remain: hand over. Failures and
 *    blocks of this round do not end the job; the summary says how many are left and how many
 *    failed so far.
 * 2. Every function started and some rollout is waiting: hand over as a rollout round (not counted
 *    towards maxRounds, so a long rollout can finish).
 * 3. Otherwise the round is final: success when every function converged, else a failure naming
 *    every function that did not converge (failed, blocked, not started in the last allowed round,
 *    rollout still in progress), each once, with its reason.
 *
 * Failures are re-derived, not carried: every round re-observes and re-plans every declared
 * function, so a blocked function is blocked again, a rolled-back rollout plans as blocked
 * (`rolled-back`), and a function that failed at apply time is tried again (and converges if the
 * cause was transient). The final result is therefore built from one round's results, which hold
 * exactly one result per declared function: no name can be missing or repeated, however large the
 * fleet, and the continuation token stays a few dozen characters (CodePipeline allows 2048).
 */
import { z } from "zod";
import { type ApplyReport, type FunctionResult, rolloutInProgress } from "../apply/apply.ts";
import { jobSummary, listWithin, MAX_FAILURE_MESSAGE, MAX_SUMMARY, outputVariables } from "./pipeline.ts";
import { rolloutNote } from "./apply-report.ts";
import { truncate } from "./text.ts";

/**
 * The continuation token: only bookkeeping, never state (where a rollout stands is read from AWS).
 * `handover: "rollout"`: this round ended only because rollouts were waiting; such rounds do not
 * count towards maxRounds (a rollout may take up to 23 hours of 15-minute invocations).
 */
const tokenSchema = z.strictObject({
  v: z.literal(1),
  round: z.int().min(1),
  firstJobId: z.string(),
  handover: z.literal("rollout").optional(),
});
export type Continuation = z.infer<typeof tokenSchema>;

/** CodePipeline's limit on a continuation token (PutJobSuccessResult). */
export const MAX_CONTINUATION_TOKEN = 2048;

export type ParsedContinuation =
  | { ok: true; token: Continuation; rolloutHandover: boolean }
  | { ok: false; message: string };

/** The token of the round about to run: the first round without one, else the next round's. */
export function parseContinuation(raw: string | undefined, jobId: string): ParsedContinuation {
  if (raw === undefined) return { ok: true, token: { v: 1, round: 1, firstJobId: jobId }, rolloutHandover: false };
  try {
    const { handover, ...previous } = tokenSchema.parse(JSON.parse(raw));
    const rolloutHandover = handover === "rollout";
    return { ok: true, token: { ...previous, round: previous.round + (rolloutHandover ? 0 : 1) }, rolloutHandover };
  } catch {
    return { ok: false, message: "the continuation token is not one lambda-gitops wrote; re-run the pipeline" };
  }
}

/** Why a function did not converge in the final round. */
export type UnconvergedKind = "failed" | "blocked" | "not-started" | "rolling-out";

export interface Unconverged {
  name: string;
  kind: UnconvergedKind;
  reason: string;
}

export type RoundOutcome =
  /** Hand over to the next round (PutJobSuccessResult with the token). */
  | { kind: "continue"; token: Continuation; summary: string; left: number; failedSoFar: number }
  /** The job's final success: every function converged. */
  | { kind: "converged"; summary: string; outputVariables: Record<string, string> }
  /** The job's final failure, naming every function that did not converge. */
  | { kind: "failed"; message: string; unconverged: Unconverged[] };

/** A function this round left for later: not started, or a rollout waiting for its next shift. */
const notStarted = (r: FunctionResult) => r.status === "skipped";

function unconvergedOf(r: FunctionResult, maxRounds: number): Unconverged | undefined {
  switch (r.status) {
    case "failed":
      return { name: r.name, kind: "failed", reason: r.error ?? "failed" };
    case "blocked":
      return { name: r.name, kind: "blocked", reason: r.error ?? "blocked" };
    case "skipped":
      return {
        name: r.name,
        kind: "not-started",
        reason: `not started: the last allowed round (${maxRounds}, maxRounds) ran out of time${r.error ? ` (${r.error})` : ""}; re-run the pipeline or raise maxRounds`,
      };
    default:
      return rolloutInProgress(r)
        ? { name: r.name, kind: "rolling-out", reason: `rollout not finished${rolloutNote(r)}; the next run continues it` }
        : undefined;
  }
}

/** The failure message: a lead with the counts, then `name: reason` for each, within 5000 characters. */
export function unconvergedMessage(unconverged: readonly Unconverged[], total: number): string {
  const onlyFailures = unconverged.every((u) => u.kind === "failed" || u.kind === "blocked");
  const lead = `${unconverged.length} of ${total} function(s) ${onlyFailures ? "failed" : "did not converge"}:`;
  return listWithin(
    lead,
    unconverged.map((u) => `${u.name}: ${u.reason}`),
    MAX_FAILURE_MESSAGE,
  );
}

/**
 * The outcome of the round `token.round` (the token of the round that just ran, as parsed), given
 * every function's result.
 */
export function roundOutcome(report: ApplyReport, token: Continuation, maxRounds: number): RoundOutcome {
  const { results } = report;
  const left = results.filter(notStarted).length;
  const failedSoFar = results.filter((r) => r.status === "failed" || r.status === "blocked").length;
  const rolling = results.filter((r) => !notStarted(r) && rolloutInProgress(r)).length;
  const lastRound = token.round >= maxRounds;
  if ((left > 0 && !lastRound) || (left === 0 && rolling > 0)) {
    const parts = [
      left > 0 ? `${left} function(s) left for the next round` : "",
      rolling > 0 ? `${rolling} rollout(s) in progress` : "",
      failedSoFar > 0 ? `${failedSoFar} failed so far (named in the final result)` : "",
    ].filter((p) => p !== "");
    const next: Continuation = left > 0 ? token : { ...token, handover: "rollout" };
    return {
      kind: "continue",
      token: next,
      left,
      failedSoFar,
      summary: truncate(`Round ${token.round}: ${parts.join(", ")}. ${jobSummary(report)}`, MAX_SUMMARY),
    };
  }
  const unconverged = results.flatMap((r) => unconvergedOf(r, maxRounds) ?? []);
  if (unconverged.length > 0) {
    return { kind: "failed", unconverged, message: unconvergedMessage(unconverged, results.length) };
  }
  return { kind: "converged", summary: jobSummary(report), outputVariables: outputVariables(report) };
}
