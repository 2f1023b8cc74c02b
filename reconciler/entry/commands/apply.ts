/** `lambda-gitops apply [FILE]`: make LIVE match the definition file. */
import { downloadPackage } from "../../aws/download.ts";
import { stagerFor } from "../../aws/s3.ts";
import { applyDefinition, makePlan } from "../../apply/reconcile.ts";
import { liveAfter, liveBefore, renderApplyTable } from "../../report/apply-report.ts";
import { applyJson } from "../../report/json.ts";
import {
  type CliIo,
  type CommandSpec,
  commandLogger,
  AUTO_APPROVE_FLAG,
  confirm,
  EXIT_ERROR,
  EXIT_INTERRUPTED,
  EXIT_OK,
  FILE_NOTE,
  formatFlag,
  identityLines,
  LOG_FORMAT_FLAG,
  loadInputs,
  openSession,
  PROGRAM,
  stderrPaint,
  TARGET_FLAG,
  whereJson,
  wrongPlace,
} from "../command.ts";
import { watchInterrupts } from "../interrupt.ts";
import { rolloutInProgress } from "../../apply/apply.ts";
import { SETTINGS_FLAGS } from "../settings.ts";
import { booleanFlag, stringFlag } from "../args.ts";
import { planDifferences } from "../../plan/saved-plan.ts";
import { loadSavedInputs, placeDisagreements } from "../saved-plan-file.ts";
import { hasChanges } from "../../plan/plan.ts";
import { renderPlanBody } from "./plan.ts";
import { createProgress } from "../terminal.ts";
import { describeEvent } from "../../report/rollout.ts";

const FORMATS = ["table", "json"] as const;

export const APPLY: CommandSpec = {
  name: "apply",
  summary: "Make LIVE match the definition file.",
  synopsis: "[FILE] --allowed-prefix P [--source-role-arn ARN] [options]",
  description:
    `${FILE_NOTE}\n` +
    "apply first prints where it acts (account, Region, roles, file). On a terminal it shows the plan\n" +
    "and asks; without a terminal it refuses to change anything unless --auto-approve is given.\n" +
    "--plan FILE applies a reviewed saved plan without asking. Progress goes to stderr: each function\n" +
    "as it settles, and a line every 30 s while one waits. Rollouts run to the end, each shift, bake\n" +
    "and alarm check printed as it happens; --no-wait makes each rollout's next due move and exits.\n" +
    "The first Ctrl-C (or SIGTERM) starts no new function and lets the writes in flight finish, leaving\n" +
    "rollouts at their step (exit 130); a second one exits at once. The next apply continues.\n" +
    "Exit codes: 0 every function converged; 1 otherwise (each failure named with its reason);\n" +
    "130 interrupted.",
  flags: [
    ...SETTINGS_FLAGS,
    formatFlag(FORMATS),
    AUTO_APPROVE_FLAG,
    {
      name: "plan",
      type: "string",
      value: "FILE",
      help: "apply exactly this saved plan (plan --out); refused if any function changed since",
    },
    {
      name: "no-wait",
      type: "boolean",
      help: "make each rollout's next due move and exit (the next run continues it)",
    },
    TARGET_FLAG,
    LOG_FORMAT_FLAG,
  ],
  formats: FORMATS,
  maxPositionals: 1,
};

export async function runApply(argv: string[], io: CliIo): Promise<number> {
  const session = await openSession(APPLY, argv, io, (call) => {
    const saved = stringFlag(call.values, "plan");
    return saved === undefined
      ? loadInputs("apply", call.values, call.positionals, io)
      : loadSavedInputs(saved, call.values, call.positionals, io);
  });
  if (!session.ok) return session.code;
  const { parameters, definition, aws, identity, values, format, saved, file } = session;
  const colors = stderrPaint(io);
  let logger = commandLogger(values, io);
  const terminal = io.stderrIsTTY === true;
  // Every mode names where it acts first, so every CI log says which account and Region changed.
  io.stderr(`${identityLines(identity, parameters, file).join("\n")}\n`);
  if (terminal) io.stderr(colors.dim(`Reading ${definition.functions.length} function(s)...\n`));
  const plan = await makePlan(definition, parameters, aws);
  const misplaced = wrongPlace("apply", plan, identity, io);
  if (misplaced !== undefined) return misplaced;
  if (saved) {
    const stale = [...placeDisagreements(saved.target, identity), ...planDifferences(saved.plan, plan)];
    if (stale.length > 0) {
      io.stderr(
        `${PROGRAM} apply --plan ${stringFlag(values, "plan")}: refused, nothing was changed: the world moved since the plan was made.\n` +
          stale.map((l) => `  ${l}\n`).join("") +
          `Make a new plan (lambda-gitops plan --out FILE), review it, and apply that.\n`,
      );
      return EXIT_ERROR;
    }
  }
  if (hasChanges(plan)) {
    const where = identity.target ? ` in account ${identity.target.account}` : "";
    const approval = await confirm(io, {
      command: "apply",
      values,
      reviewed: saved !== undefined,
      review: () => renderPlanBody(plan, colors),
      question: `Apply these changes${where}?`,
      refusal:
        "refused, nothing was changed: no terminal to confirm on; review with 'lambda-gitops plan --out FILE' and apply that with 'apply --plan FILE', or add --auto-approve",
    });
    if (!approval.approved) return approval.code;
  }
  // Progress on stderr: each function as it settles (and, on a terminal, each step), and a line
  // every 30 s for a function still waiting.
  const progress = createProgress(plan.entries.length, (l) => io.stderr(`${l}\n`), colors, { steps: terminal });
  logger = progress.tap(logger);
  const interrupts = watchInterrupts((line) => io.stderr(`${colors.yellow(line)}\n`));
  const report = await applyDefinition(definition, plan, parameters, aws, {
    download: io.download ?? downloadPackage,
    logger,
    stager: stagerFor(parameters),
    canStart: () => !interrupts.signal.aborted,
    onResult: (r) =>
      progress.finished(
        r.name,
        r.status,
        r.error ?? `${r.entry.action.kind}: ${parameters.liveAlias} ${liveBefore(r)} -> ${liveAfter(r)}`,
      ),
    rollouts: {
      noWait: booleanFlag(values, "no-wait"),
      signal: interrupts.signal,
      onEvent: (name, event) => io.stderr(`${name}: ${describeEvent(event)}\n`),
    },
  }).finally(() => {
    interrupts.dispose();
    progress.stop();
  });
  const where = whereJson(identity, parameters);
  const interrupted = interrupts.signal.aborted;
  io.stdout(`${format === "json" ? JSON.stringify(applyJson(report, where, interrupted), null, 2) : renderApplyTable(report)}\n`);
  if (interrupted) {
    const notStarted = report.results.filter((r) => r.status === "skipped" && r.error === undefined).length;
    const leftAtStep = report.results.filter(rolloutInProgress).length;
    io.stderr(
      `Interrupted: ${notStarted} function${notStarted === 1 ? "" : "s"} not started, ${leftAtStep} rollout${leftAtStep === 1 ? "" : "s"} left at their step; run apply again to continue\n`,
    );
    return EXIT_INTERRUPTED;
  }
  return report.results.every((r) => r.status === "applied" || r.status === "unchanged") ? EXIT_OK : EXIT_ERROR;
}
