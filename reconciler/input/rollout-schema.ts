/**
 * The `rollout` of the definition file, as a zod schema, and its conversion into the rollout the
 * planner uses (durations in seconds, defaults applied). Pure.
 *
 * A `rollout` object at the top level is the default for every function; a function's own
 * `rollout` replaces it, and `"all-at-once"` opts the function out. Messages are written for
 * people editing the file; definitions.ts adds positions.
 */
import { z } from "zod";
import { closestKey } from "../core/suggest.ts";
import { formatDuration, parseDuration } from "./duration.ts";
import { checkTwoDecimals } from "./traffic.ts";

/** A function's rollout as the planner uses it: durations in seconds, defaults applied. */
export interface Rollout {
  /** Percentages of traffic for the new version, strictly increasing, each in (0, 100). */
  steps: number[];
  intervalSeconds: number;
  bakeSeconds: number;
  /** CloudWatch alarm names watched from the first shift to the end of the bake. */
  alarms: string[];
  smoke?: { payload: unknown };
}

export const MAX_ROLLOUT_STEPS = 10;
/** CloudWatch's limit on an alarm name. */
export const MAX_ALARM_NAME_LENGTH = 255;
export const MAX_ROLLOUT_ALARMS = 100;
export const ALL_AT_ONCE = "all-at-once";

/** Why a rollout step is not usable, or undefined when it is. A step is a percentage of traffic. */
export function checkRolloutStep(step: number): string | undefined {
  if (step <= 0 || step >= 100) {
    return (
      `a rollout step must be greater than 0 and less than 100 (found ${step}); ` +
      "100% always comes after the last step"
    );
  }
  return checkTwoDecimals(step, "the rollout step");
}

function durationField(min: number, title: string, description: string) {
  return z
    .string()
    .check((ctx) => {
      const result = parseDuration(ctx.value, { min });
      if (!result.ok) ctx.issues.push({ code: "custom", message: result.message, input: ctx.value });
    })
    .meta({ title, description, pattern: "^(\\d+h)?(\\d+m)?(\\d+s)?$", examples: ["30s", "5m", "1h", "1h30m"] });
}

export const rolloutObjectSchema = z
  .strictObject({
    steps: z
      .array(
        z
          .number()
          .check((ctx) => {
            const message = checkRolloutStep(ctx.value);
            if (message !== undefined) ctx.issues.push({ code: "custom", message, input: ctx.value });
          })
          .meta({ exclusiveMinimum: 0, exclusiveMaximum: 100 }),
      )
      .max(MAX_ROLLOUT_STEPS, `a rollout has at most ${MAX_ROLLOUT_STEPS} steps`)
      .check((ctx) => {
        const index = ctx.value.findIndex((step, i) => i > 0 && step <= ctx.value[i - 1]!);
        if (index > 0) {
          ctx.issues.push({
            code: "custom",
            path: [index],
            input: ctx.value,
            message:
              `rollout steps must be strictly increasing: ${ctx.value[index]} comes after ` +
              `${ctx.value[index - 1]}`,
          });
        }
      })
      .meta({
        title: "Traffic steps",
        description:
          "Percentages of traffic for the new version, strictly increasing, each greater than 0 and less than " +
          `100 with at most two decimals, at most ${MAX_ROLLOUT_STEPS}. After the last step comes 100%. ` +
          "Empty: all at once, still watched by the alarms during the bake.",
        examples: [[10, 50], []],
      }),
    interval: durationField(
      1,
      "Step interval",
      "How long each step holds before the next shift: 30s, 5m, 1h or combined (1h30m). Required when there are steps.",
    ).optional(),
    bake: durationField(
      0,
      "Bake time",
      "How long the 100% state is watched by the alarms before the rollout is done. Default 0s.",
    ).optional(),
    alarms: z
      .array(
        z
          .string()
          .min(1, "an alarm name is empty")
          .max(MAX_ALARM_NAME_LENGTH, `an alarm name is at most ${MAX_ALARM_NAME_LENGTH} characters`),
      )
      .max(MAX_ROLLOUT_ALARMS, `a rollout watches at most ${MAX_ROLLOUT_ALARMS} alarms`)
      .check((ctx) => {
        const index = ctx.value.findIndex((name, i) => ctx.value.indexOf(name) !== i);
        if (index > 0) {
          ctx.issues.push({
            code: "custom",
            path: [index],
            input: ctx.value,
            message: `alarm ${JSON.stringify(ctx.value[index])} is listed more than once`,
          });
        }
      })
      .optional()
      .meta({
        title: "Alarms",
        description:
          "CloudWatch metric alarm names in the target account and Region, watched from the first shift to the " +
          "end of the bake. Any in ALARM rolls LIVE back to the previous version; INSUFFICIENT_DATA does not. " +
          "A missing alarm blocks the function.",
        examples: [["team-a-5xx", "team-a-latency-p99"]],
      }),
    smoke: z
      .strictObject({
        payload: z.unknown().meta({ title: "Payload", description: "The JSON event sent to the new version." }),
      })
      .optional()
      .meta({
        title: "Smoke invocation",
        description:
          "Invoke the new version (through its version alias) synchronously with `payload` before any traffic " +
          "reaches it; a function error or a non-200 answer stops the rollout before the first shift.",
      }),
  })
  .superRefine(
    (raw, ctx) => {
      // Runs even when fields are wrong (so every problem is reported at once): check the raw shape.
      const rollout = raw as Partial<Record<keyof RolloutEntry, unknown>> | null;
      if (typeof rollout !== "object" || rollout === null || !Array.isArray(rollout.steps)) return;
      if (!rollout.steps.every((step) => typeof step === "number")) return;
      if (rollout.interval !== undefined && typeof rollout.interval !== "string") return;
      if (rollout.bake !== undefined && typeof rollout.bake !== "string") return;
      if (rollout.steps.length > 0 && rollout.interval === undefined) {
        ctx.addIssue({
          code: "custom",
          path: [],
          message: 'missing required key "interval": how long each step holds (e.g. "5m")',
        });
        return;
      }
      const seconds = entrySeconds(rollout as Pick<RolloutEntry, "steps" | "interval" | "bake">);
      if (seconds === undefined) return;
      const message = checkRolloutFits(seconds);
      if (message !== undefined) ctx.addIssue({ code: "custom", path: [], message });
    },
    { when: () => true },
  )
  .meta({
    title: "Rollout",
    description:
      "Progressive rollout when LIVE moves forward to a newer version: traffic steps, interval, bake, alarms " +
      "and a smoke invocation. Moves to an older version, first deployments and reverts are immediate.",
  });

export const rolloutFieldSchema = z.union([z.literal(ALL_AT_ONCE), rolloutObjectSchema]).meta({
  title: "Rollout",
  description: `A rollout for this function (replaces the file's default), or "${ALL_AT_ONCE}" to opt out of it.`,
});

export type RolloutEntry = z.infer<typeof rolloutObjectSchema>;

/** Durations of an entry in seconds, or undefined while one is invalid (reported on its own). */
function entrySeconds(
  entry: Pick<RolloutEntry, "steps" | "interval" | "bake">,
): { steps: number[]; intervalSeconds: number; bakeSeconds: number } | undefined {
  const interval = entry.interval === undefined ? { ok: true as const, seconds: 0 } : parseDuration(entry.interval, { min: 1 });
  const bake = parseDuration(entry.bake ?? "0s");
  if (!interval.ok || !bake.ok) return undefined;
  return { steps: entry.steps, intervalSeconds: interval.seconds, bakeSeconds: bake.seconds };
}

/** A validated rollout entry as the planner uses it. */
export function toRollout(entry: RolloutEntry): Rollout {
  const seconds = entrySeconds(entry);
  if (!seconds) throw new Error("toRollout: the entry was not validated");
  return {
    ...seconds,
    steps: [...entry.steps],
    alarms: [...(entry.alarms ?? [])],
    ...(entry.smoke ? { smoke: { payload: entry.smoke.payload ?? null } } : {}),
  };
}

/**
 * The rollout of one function: its own (`"all-at-once"` = none), else the file's default, else none.
 */
export function resolveRollout(
  own: RolloutEntry | typeof ALL_AT_ONCE | undefined,
  fileDefault: RolloutEntry | undefined,
): Rollout | undefined {
  if (own === ALL_AT_ONCE) return undefined;
  const entry = own ?? fileDefault;
  return entry ? toRollout(entry) : undefined;
}

/**
 * zod reports a bad `"all-at-once" | {...}` value as one opaque `invalid_union`. This turns it into
 * what a person needs: the object's own problems when the value is an object, else one message
 * naming both accepted forms. `value` is the value at the issue's path.
 */
export function rolloutUnionIssues(issue: z.core.$ZodIssueInvalidUnion, value: unknown): z.core.$ZodIssue[] {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const objectBranch = issue.errors.find((branch) => !branch.some((i) => i.code === "invalid_value"));
    if (objectBranch) return objectBranch.map((i) => ({ ...i, path: [...issue.path, ...i.path] }));
  }
  const hint =
    typeof value === "string" && closestKey(value, [ALL_AT_ONCE]) !== undefined
      ? `: did you mean "${ALL_AT_ONCE}"?`
      : "";
  return [
    {
      code: "custom",
      path: issue.path,
      input: value,
      message: `expected "${ALL_AT_ONCE}" or a rollout object with "steps"${hint}`,
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// How long a rollout lasts, and whether it fits the time CodePipeline gives the action.
// ---------------------------------------------------------------------------------------------

/**
 * CodePipeline fails a Lambda invoke action that has not finished after 24 hours (CodePipeline
 * quotas, "Length of time before an action times out": AWS Lambda invoke action, 24 hours;
 * https://docs.aws.amazon.com/codepipeline/latest/userguide/limits.html). Continuation tokens
 * restart the 20-minute reply timer, not the 24 hours.
 */
export const PIPELINE_ACTION_LIMIT_SECONDS = 24 * 3600;
/** Kept out of the rollout's budget for promotion, smoke invocations and hand-overs. */
export const PIPELINE_ACTION_RESERVE_SECONDS = 3600;
export const MAX_ROLLOUT_SECONDS = PIPELINE_ACTION_LIMIT_SECONDS - PIPELINE_ACTION_RESERVE_SECONDS;

/** Seconds from the first shift to the end of the bake: one interval per partial step, then the bake. */
export function rolloutSeconds(rollout: Pick<Rollout, "steps" | "intervalSeconds" | "bakeSeconds">): number {
  return rollout.steps.length * rollout.intervalSeconds + rollout.bakeSeconds;
}

/** Why the rollout cannot finish within one pipeline action, or undefined when it can. */
export function checkRolloutFits(
  rollout: Pick<Rollout, "steps" | "intervalSeconds" | "bakeSeconds">,
): string | undefined {
  const total = rolloutSeconds(rollout);
  if (total <= MAX_ROLLOUT_SECONDS) return undefined;
  const n = rollout.steps.length;
  return (
    `the rollout lasts ${formatDuration(total)} (${n} step${n === 1 ? "" : "s"} × ` +
    `${formatDuration(rollout.intervalSeconds)} interval + ${formatDuration(rollout.bakeSeconds)} bake) ` +
    `but must fit in ${formatDuration(MAX_ROLLOUT_SECONDS)}: CodePipeline fails a Lambda invoke action after ` +
    `${formatDuration(PIPELINE_ACTION_LIMIT_SECONDS)}, and ${formatDuration(PIPELINE_ACTION_RESERVE_SECONDS)} ` +
    "is kept for promotion, the smoke invocation and hand-overs; use fewer steps, a shorter interval or bake"
  );
}
