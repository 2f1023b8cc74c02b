/** `lambda-gitops apply [FILE]`: make LIVE match the definition file. */
import { downloadPackage } from "../../aws/download.ts";
import { stagerFor } from "../../aws/s3.ts";
import { applyDefinition } from "../../apply/reconcile.ts";
import { makePlan } from "../context.ts";
import { applyToJson, liveAfter, liveBefore, renderApplyTable } from "../../report/report.ts";
import {
  type CliIo,
  type CommandSpec,
  commandLogger,
  EXIT_ERROR,
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
} from "../command.ts";
import { SETTINGS_FLAGS } from "../settings.ts";
import { booleanFlag, stringFlag } from "../args.ts";
import { planDifferences } from "../../plan/saved-plan.ts";
import { loadSavedInputs, placeDisagreements } from "../saved-plan-file.ts";
import { hasChanges } from "../../plan/plan.ts";
import { renderPlanWithContext } from "./plan.ts";
import { createProgress } from "../terminal.ts";
import { describeEvent } from "../../report/rollout.ts";

const FORMATS = ["table", "json"] as const;

export const APPLY: CommandSpec = {
  name: "apply",
  summary: "Make LIVE match the definition file.",
  synopsis: "[FILE] --allowed-prefix P [--source-role-arn ARN] [options]",
  description:
    `${FILE_NOTE}\n` +
    "On a terminal, apply shows the plan and asks before changing anything (--auto-approve skips\n" +
    "that; without a terminal on stdin, as in CI, it never asks), and shows progress on stderr.\n" +
    "Rollouts run to the end, each shift, bake and alarm check printed on stderr as it happens;\n" +
    "--no-wait makes each rollout's next due move and exits; Ctrl-C stops waiting and leaves the\n" +
    "rollout where it stands, for the next run to continue.\n" +
    "Exit codes: 0 every function converged; 1 otherwise (each failure named with its reason).",
  flags: [
    ...SETTINGS_FLAGS,
    formatFlag(FORMATS),
    {
      name: "auto-approve",
      type: "boolean",
      help: "do not ask for confirmation (asked only when stdin is a terminal)",
    },
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
      ? loadInputs(call.values, call.positionals, io)
      : loadSavedInputs(saved, call.values, call.positionals, io);
  });
  if (!session.ok) return session.code;
  const { parameters, definition, aws, identity, values, format, saved } = session;
  const colors = stderrPaint(io);
  let logger = commandLogger(values, io);
  const terminal = io.stderrIsTTY === true;
  // A saved plan was reviewed already: it is applied as saved, or not at all.
  const ask =
    io.stdinIsTTY === true && io.prompt !== undefined && !booleanFlag(values, "auto-approve") && saved === undefined;
  if (terminal && !ask) io.stderr(`${identityLines(identity, parameters).join("\n")}\n`);
  if (terminal) io.stderr(colors.dim(`Reading ${definition.functions.length} function(s)...\n`));
  const plan = await makePlan(definition, parameters, aws);
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
  if (ask && io.prompt && hasChanges(plan)) {
    io.stderr(`${renderPlanWithContext(plan, "table", identity, parameters, colors)}\n\n`);
    const where = identity.target ? ` in account ${identity.target.account}` : "";
    const answer = await io.prompt(`Apply these changes${where}? Only 'yes' is accepted: `);
    if (answer.trim() !== "yes") {
      io.stderr("Apply cancelled: nothing was changed.\n");
      return EXIT_ERROR;
    }
  }
  const progress = terminal ? createProgress(plan.entries.length, (l) => io.stderr(`${l}\n`), colors) : undefined;
  if (progress) logger = progress.tap(logger);
  // Rollouts run to the end, printing each move; Ctrl-C stops waiting and leaves them for the next run.
  const interrupt = new AbortController();
  const onInterrupt = () => interrupt.abort();
  process.once("SIGINT", onInterrupt);
  const report = await applyDefinition(definition, plan, parameters, aws, {
    download: io.download ?? downloadPackage,
    logger,
    stager: stagerFor(parameters),
    onResult: (r) =>
      progress?.finished(
        r.name,
        r.status,
        r.error ?? `${r.entry.action.kind}: ${parameters.liveAlias} ${liveBefore(r)} -> ${liveAfter(r)}`,
      ),
    rollouts: {
      noWait: booleanFlag(values, "no-wait"),
      signal: interrupt.signal,
      onEvent: (name, event) => io.stderr(`${name}: ${describeEvent(event)}\n`),
    },
  }).finally(() => process.off("SIGINT", onInterrupt));
  io.stdout(`${format === "json" ? JSON.stringify(applyToJson(report), null, 2) : renderApplyTable(report)}\n`);
  return report.results.every((r) => r.status === "applied" || r.status === "unchanged") ? EXIT_OK : EXIT_ERROR;
}
