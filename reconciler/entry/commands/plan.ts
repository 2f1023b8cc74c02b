/** `lambda-gitops plan [FILE]`: what apply would do, read-only. */
import { makePlan } from "../../apply/reconcile.ts";
import type { JobParameters } from "../../input/parameters.ts";
import { liveCreationWarning } from "../../plan/live-creation.ts";
import type { Plan } from "../../plan/plan.ts";
import { planToJson, renderPlanMarkdown, renderPlanTable } from "../../report/report.ts";
import { stringFlag } from "../args.ts";
import { describeError } from "../../core/errors.ts";
import { writeSavedPlan } from "../saved-plan-file.ts";
import {
  type CliIo,
  type CommandSpec,
  EXIT_ERROR,
  FILE_NOTE,
  formatFlag,
  identityLines,
  LOG_FORMAT_FLAG,
  openSession,
  planExitCode,
  PROGRAM,
  type RunIdentity,
  stdoutPaint,
  TARGET_FLAG,
  whereJson,
  wrongPlace,
} from "../command.ts";
import { planJson } from "../../report/json.ts";
import { SETTINGS_FLAGS } from "../settings.ts";
import type { Paint } from "../terminal.ts";

const FORMATS = ["table", "json", "markdown"] as const;
export type PlanFormat = (typeof FORMATS)[number];

export const PLAN: CommandSpec = {
  name: "plan",
  summary: "Show what apply would do (read-only).",
  synopsis: "[FILE] --allowed-prefix P [--source-role-arn ARN] [options]",
  description:
    `${FILE_NOTE}\n` +
    "Exit codes: 0 success; 1 invalid input, preflight failure or a blocked function;\n" +
    "with --detailed-exitcode: 0 no changes, 2 changes pending, 1 error.",
  flags: [
    ...SETTINGS_FLAGS,
    formatFlag(FORMATS),
    { name: "detailed-exitcode", type: "boolean", help: "exit 0 no changes, 2 changes pending, 1 error" },
    { name: "out", type: "string", value: "FILE", help: "also save the plan, for apply --plan FILE" },
    TARGET_FLAG,
    LOG_FORMAT_FLAG,
  ],
  formats: FORMATS,
  maxPositionals: 1,
};

export async function runPlan(argv: string[], io: CliIo): Promise<number> {
  const session = await openSession(PLAN, argv, io);
  if (!session.ok) return session.code;
  const { parameters, definition, aws, identity, values, format } = session;
  const plan = await makePlan(definition, parameters, aws);
  const misplaced = wrongPlace("plan", plan, identity, io);
  if (misplaced !== undefined) return misplaced;
  const out = stringFlag(values, "out");
  if (out !== undefined) {
    try {
      await writeSavedPlan(out, plan, session, identity);
    } catch (error) {
      io.stderr(`${PROGRAM} plan: cannot write ${out}: ${describeError(error)}\n`);
      return EXIT_ERROR;
    }
    io.stderr(`Saved the plan to ${out}: apply exactly this plan with '${PROGRAM} apply --plan ${out}'.\n`);
  }
  io.stdout(`${renderPlanWithContext(plan, format as PlanFormat, identity, parameters, stdoutPaint(io))}\n`);
  return planExitCode(plan, values);
}

/** The plan alone, in one format (the pull-request planner's comment is the markdown one). */
export function renderPlan(plan: Plan, format: PlanFormat): string {
  if (format === "json") return JSON.stringify(planToJson(plan), null, 2);
  if (format === "markdown") return renderPlanMarkdown(plan);
  return renderPlanTable(plan);
}

/** The plan with its header (target, source, alias) and, if any, the loud warning before it. */
export function renderPlanWithContext(
  plan: Plan,
  format: PlanFormat,
  identity: RunIdentity,
  parameters: JobParameters,
  colors: Paint,
): string {
  const warning = liveCreationWarning(plan);
  if (format === "json") {
    return JSON.stringify(planJson(plan, whereJson(identity, parameters), warning ? [warning] : []), null, 2);
  }
  const header = identityLines(identity, parameters);
  if (format === "markdown") {
    return renderPlanMarkdown(plan, { context: header.map((l) => `${l}  `) });
  }
  return [...header, "", renderPlanBody(plan, colors)].join("\n");
}

/** The table, after the loud warning if any (apply's question shows it under the header it printed). */
export function renderPlanBody(plan: Plan, colors: Paint): string {
  const warning = liveCreationWarning(plan);
  return [...(warning ? [colors.bold(colors.red(warning)), ""] : []), renderPlanTable(plan)].join("\n");
}
