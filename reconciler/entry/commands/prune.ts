/**
 * `lambda-gitops prune [FILE] --keep N [--delete]`: per function of the file, list the versions
 * outside the rollback window (plan/prune.ts says which and why) and, only with `--delete`, delete
 * them (apply/prune.ts re-checks each one right before deleting). Same settings flags as `plan`.
 * Exit codes: 0 success (nothing failed); 1 invalid input or a function that failed; with
 * `--detailed-exitcode` and without `--delete`: 2 when something would be deleted.
 */
import { applyPrune, makePrunePlan } from "../../apply/prune.ts";
import { summarisePrune } from "../../plan/prune.ts";
import { renderPrunePlan, renderPruneReport } from "../../report/prune.ts";
import { pruneJson } from "../../report/json.ts";
import { booleanFlag, type FlagValues, numberFlag, stringFlag } from "../args.ts";
import {
  type CliIo,
  type CommandSpec,
  commandLogger,
  AUTO_APPROVE_FLAG,
  confirm,
  EXIT_CHANGES,
  EXIT_ERROR,
  EXIT_OK,
  FILE_NOTE,
  formatFlag,
  loadInputs,
  identityLines,
  LOG_FORMAT_FLAG,
  nothingHere,
  openSession,
  TARGET_FLAG,
  usageError,
  whereJson,
} from "../command.ts";
import { SETTINGS_FLAGS } from "../settings.ts";

const FORMATS = ["table", "json", "markdown"] as const;

export const PRUNE: CommandSpec = {
  name: "prune",
  summary: "List (and with --delete, delete) versions outside a rollback window of N semantic versions.",
  synopsis: "[FILE] --keep N [--delete] --allowed-prefix P [options]",
  description:
    `${FILE_NOTE}\n` +
    "Keeps every version LIVE routes to, every version behind someone else's alias, the version a rollout\n" +
    "started from and the N highest semantic versions; each deletion is re-checked right before it.\n" +
    "--delete prints where it acts, shows the deletions and asks on a terminal; without a terminal it\n" +
    "refuses unless --auto-approve is given.\n" +
    "Exit codes: 0 success; 1 invalid input, preflight failure or a failed function;\n" +
    "with --detailed-exitcode (without --delete): 2 when something would be deleted.",
  flags: [
    { name: "keep", type: "string", value: "N", help: "keep the versions of the N highest semantic versions published here (N >= 1)" },
    { name: "delete", type: "boolean", help: "delete what the listing shows, after confirmation (without it, nothing is changed)" },
    AUTO_APPROVE_FLAG,
    ...SETTINGS_FLAGS,
    formatFlag(FORMATS),
    { name: "detailed-exitcode", type: "boolean", help: "without --delete: exit 0 nothing to delete, 2 something would be deleted" },
    TARGET_FLAG,
    LOG_FORMAT_FLAG,
  ],
  formats: FORMATS,
  maxPositionals: 1,
};

/** `--keep N`, checked offline before any AWS call (preflight included). */
function keepOf(values: FlagValues, io: CliIo): { ok: true; keep: number } | { ok: false; code: number } {
  const keep = numberFlag(values, "keep", "whole");
  if (!keep.ok || keep.value === undefined || keep.value < 1) {
    const found = stringFlag(values, "keep");
    const code = usageError(
      io,
      "prune",
      `--keep: a whole number of versions >= 1 is required (found ${found === undefined ? "nothing" : JSON.stringify(found)})`,
    );
    return { ok: false, code };
  }
  return { ok: true, keep: keep.value };
}

export async function runPrune(argv: string[], io: CliIo): Promise<number> {
  let keep = 0;
  const session = await openSession(PRUNE, argv, io, async (call) => {
    const checked = keepOf(call.values, io);
    if (!checked.ok) return checked;
    keep = checked.keep;
    return loadInputs("prune", call.values, call.positionals, io);
  });
  if (!session.ok) return session.code;
  const { parameters, definition, aws, identity, values, format, file } = session;
  const logger = commandLogger(values, io);
  const deleting = booleanFlag(values, "delete");
  // Deleting names where it acts first, in every mode.
  if (deleting) io.stderr(`${identityLines(identity, parameters, file).join("\n")}\n`);
  const names = definition.functions.map((f) => f.name);
  const plan = await makePrunePlan(aws.target, names, {
    liveAlias: parameters.liveAlias,
    keep,
    concurrency: parameters.concurrency,
  });
  const missing = plan.entries.filter((e) => e.kind === "skipped" && e.code === "function-missing").length;
  if (names.length > 0 && missing === names.length) return nothingHere("prune", names, identity, io);
  const failedToObserve = plan.entries.some((e) => e.kind === "skipped" && e.code === "observe-failed");

  if (!deleting) {
    const listing =
      format === "json"
        ? JSON.stringify(pruneJson({ plan }, whereJson(identity, parameters)), null, 2)
        : renderPrunePlan(plan, format === "markdown" ? "markdown" : "table");
    io.stdout(`${listing}\n`);
    if (failedToObserve) return EXIT_ERROR;
    return booleanFlag(values, "detailed-exitcode") && summarisePrune(plan).versions > 0 ? EXIT_CHANGES : EXIT_OK;
  }
  const count = summarisePrune(plan).versions;
  if (count > 0) {
    const where = identity.target ? ` in account ${identity.target.account}` : "";
    const approval = await confirm(io, {
      command: "prune",
      values,
      reviewed: false,
      review: () => renderPrunePlan(plan, "table"),
      question: `Delete these ${count} version(s)${where}?`,
      refusal:
        "refused, nothing was deleted: no terminal to confirm on; review with 'lambda-gitops prune' (without --delete), then add --auto-approve",
    });
    if (!approval.approved) return approval.code;
  }
  const report = await applyPrune(plan, {
    lambda: aws.target,
    liveAlias: parameters.liveAlias,
    concurrency: parameters.concurrency,
    logger,
  });
  if (aws.apiUsage) logger.info("Lambda API calls (attempts) and throttles", aws.apiUsage());
  io.stdout(
    `${format === "json" ? JSON.stringify(pruneJson({ report }, whereJson(identity, parameters)), null, 2) : renderPruneReport(report)}\n`,
  );
  return failedToObserve || report.results.some((r) => r.status === "failed") ? EXIT_ERROR : EXIT_OK;
}
