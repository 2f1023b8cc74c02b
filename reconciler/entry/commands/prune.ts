/**
 * `lambda-gitops prune [FILE] --keep N [--delete]`: per function of the file, list the versions
 * outside the rollback window (plan/prune.ts says which and why) and, only with `--delete`, delete
 * them (apply/prune.ts re-checks each one right before deleting). Same settings flags as `plan`.
 * Exit codes: 0 success (nothing failed); 1 invalid input or a function that failed; with
 * `--detailed-exitcode` and without `--delete`: 2 when something would be deleted.
 */
import { parseArgs } from "node:util";
import { applyPrune, makePrunePlan } from "../../apply/prune.ts";
import { createAwsContext } from "../../aws/context.ts";
import { describeError } from "../../core/errors.ts";
import { entryLogger } from "../../core/log.ts";
import { summarisePrune } from "../../plan/prune.ts";
import { pruneReportToJson, renderPrunePlan, renderPruneReport } from "../../report/prune.ts";
import {
  type CliIo,
  EXIT_CHANGES,
  EXIT_ERROR,
  EXIT_OK,
  loadInputs,
  OPTIONS,
} from "../cli.ts";

export const PRUNE_USAGE = `Usage: lambda-gitops prune [FILE] --keep N [--delete] [settings flags as for plan]

Lists, per function of FILE, the versions outside the rollback window and why the others stay;
deletes them only with --delete (each re-checked right before: nothing that serves traffic is deleted).

  --keep N       keep the versions of the N highest semantic versions published here (N >= 1)
  --delete       delete what the listing shows (without it, nothing is changed)
  --format FMT   table (default), json or markdown (the listing; with --delete, the results: table or json)
`;

// A function, not a constant: cli.ts and this module import each other, so OPTIONS is only
// readable once both have loaded.
const pruneOptions = () =>
  ({
    ...OPTIONS,
    keep: { type: "string" },
    delete: { type: "boolean" },
  }) as const;
type PruneOptions = ReturnType<typeof pruneOptions>;

export async function runPrune(argv: string[], io: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ options: PruneOptions; allowPositionals: true; args: string[] }>>;
  try {
    parsed = parseArgs({ args: argv, options: pruneOptions(), allowPositionals: true, strict: true });
  } catch (error) {
    io.stderr(`lambda-gitops prune: ${describeError(error)}\n\n${PRUNE_USAGE}`);
    return EXIT_ERROR;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(PRUNE_USAGE);
    return EXIT_OK;
  }
  const [file = "lambdas.json", ...extra] = positionals;
  if (extra.length > 0) {
    io.stderr(`lambda-gitops prune: extra arguments: ${extra.join(" ")}\n\n${PRUNE_USAGE}`);
    return EXIT_ERROR;
  }
  const keep = Number(values.keep);
  if (values.keep === undefined || !Number.isInteger(keep) || keep < 1) {
    io.stderr(`command line: --keep: a whole number of versions >= 1 is required (got ${values.keep === undefined ? "nothing" : JSON.stringify(values.keep)})\n`);
    return EXIT_ERROR;
  }
  const format = values.format ?? "table";
  if (format !== "table" && format !== "json" && format !== "markdown") {
    io.stderr(`lambda-gitops prune: --format must be table, json or markdown (got "${format}")\n`);
    return EXIT_ERROR;
  }
  const inputs = await loadInputs(values, file, io);
  if (!inputs.ok) return inputs.exitCode;
  const { parameters, desired } = inputs;

  const logger = entryLogger(io.env, "warn", (l) => io.stderr(`${l}\n`));
  const aws = (io.createAws ?? createAwsContext)(parameters);
  const names = desired.definition.functions.map((f) => f.name);
  const plan = await makePrunePlan(aws.target, names, { liveAlias: parameters.liveAlias, keep, concurrency: parameters.concurrency });
  const failedToObserve = plan.entries.some((e) => e.kind === "skipped" && e.code === "observe-failed");

  if (!values.delete) {
    io.stdout(`${renderPrunePlan(plan, format)}\n`);
    if (failedToObserve) return EXIT_ERROR;
    return values["detailed-exitcode"] && summarisePrune(plan).versions > 0 ? EXIT_CHANGES : EXIT_OK;
  }
  const report = await applyPrune(plan, {
    lambda: aws.target,
    liveAlias: parameters.liveAlias,
    concurrency: parameters.concurrency,
    logger,
  });
  if (aws.apiUsage) logger.info("Lambda API calls (attempts) and throttles", aws.apiUsage());
  io.stdout(`${format === "json" ? JSON.stringify(pruneReportToJson(report), null, 2) : renderPruneReport(report)}\n`);
  return failedToObserve || report.results.some((r) => r.status === "failed") ? EXIT_ERROR : EXIT_OK;
}
