/**
 * The `lambda-gitops` command line: `validate`, `plan` and `apply`. Settings are the same as the
 * pipeline's job parameters, given as flags. Exit codes: 0 success, 1 error (invalid input, blocked
 * or failed functions), 2 changes pending (plan --detailed-exitcode only).
 */
import { readFile, stat } from "node:fs/promises";
import { parseArgs } from "node:util";
import { type Downloader, downloadPackage } from "../aws/download.ts";
import { stagerFor } from "../aws/s3.ts";
import { type AwsContext, createAwsContext } from "../aws/context.ts";
import { MAX_DEFINITION_BYTES } from "../input/definitions.ts";
import { loadDesired } from "../input/desired.ts";
import { describeError, formatProblem, type Problem } from "../core/errors.ts";
import { entryLogger } from "../core/log.ts";
import { type JobParameters, validateParameters } from "../input/parameters.ts";
import { hasChanges, type Plan } from "../plan/plan.ts";
import { applyDefinition, makePlan } from "../apply/reconcile.ts";
import { describeEvent } from "../report/rollout.ts";
import { runPublish } from "./commands/publish.ts";
import { applyToJson, planToJson, renderApplyTable, renderPlanMarkdown, renderPlanTable } from "../report/report.ts";

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_CHANGES = 2;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  /** Injected so tests can point the CLI at fakes; defaults to the real SDK clients. */
  createAws?: (parameters: JobParameters) => AwsContext;
  download?: Downloader;
}

const USAGE = `Usage: lambda-gitops <command> [FILE] [options]

Commands:
  validate [FILE]   check the definition file and the prefix policy offline
  plan [FILE]       show what apply would do (read-only)
  apply [FILE]      make LIVE match the definition file
  publish ...       publish a build (zip or S3) as a version here (see publish --help)

FILE defaults to lambdas.json (YAML: lambdas.yaml / lambdas.yml).

Options:
  --allowed-prefix P      allowed function-name prefix (repeatable, required)
  --source-role-arn ARN   role to assume in the source (lower) account for promotions
  --external-id ID        external id for that role
  --live-alias NAME       the alias that serves traffic (default LIVE)
  --region REGION         AWS region (default: the SDK's chain, e.g. AWS_REGION)
  --concurrency N         functions handled at once (default 4)
  --staging-bucket NAME   S3 bucket for packages over 50 MB
  --control-rate N        Lambda control-plane calls/s per account and region (default 14, max 15)
  --get-function-rate N   GetFunction calls/s per account and region (default 90, max 100)
  --transfer-budget-mib N memory for package transfers in flight, MiB (default 256)
  --format FMT            table (default), json or markdown
  --detailed-exitcode     plan: exit 0 no changes, 2 changes pending, 1 error
  --no-wait               apply: make each rollout's next due move and exit (the next run continues)
  -h, --help              show this help
`;

const OPTIONS = {
  "allowed-prefix": { type: "string", multiple: true },
  "source-role-arn": { type: "string" },
  "external-id": { type: "string" },
  "live-alias": { type: "string" },
  region: { type: "string" },
  concurrency: { type: "string" },
  "staging-bucket": { type: "string" },
  "control-rate": { type: "string" },
  "get-function-rate": { type: "string" },
  "transfer-budget-mib": { type: "string" },
  format: { type: "string" },
  "detailed-exitcode": { type: "boolean" },
  "no-wait": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

type Format = "table" | "json" | "markdown";

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  if (argv[0] === "publish") return runPublish(argv.slice(1), io);
  let parsed: ReturnType<
    typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; args: string[] }>
  >;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    io.stderr(`lambda-gitops: ${describeError(error)}\n\n${USAGE}`);
    return EXIT_ERROR;
  }
  const { values, positionals } = parsed;
  const [command, file = "lambdas.json", ...extra] = positionals;
  if (values.help || command === undefined || command === "help") {
    io.stdout(USAGE);
    return command === undefined && !values.help ? EXIT_ERROR : EXIT_OK;
  }
  if (!["validate", "plan", "apply"].includes(command) || extra.length > 0) {
    io.stderr(
      `lambda-gitops: unknown command or extra arguments: ${[command, ...extra].join(" ")}\n\n${USAGE}`,
    );
    return EXIT_ERROR;
  }
  const format = (values.format ?? "table") as Format;
  if (!["table", "json", "markdown"].includes(format)) {
    io.stderr(`lambda-gitops: --format must be table, json or markdown (got "${values.format}")\n`);
    return EXIT_ERROR;
  }

  const settings = validateParameters(
    {
      allowedPrefixes: values["allowed-prefix"] ?? [],
      sourceRoleArn: values["source-role-arn"],
      externalId: values["external-id"],
      liveAlias: values["live-alias"],
      region: values.region ?? io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION,
      concurrency: values.concurrency === undefined ? undefined : Number(values.concurrency),
      stagingBucket: values["staging-bucket"],
      controlRate: numberFlag(values["control-rate"]),
      getFunctionRate: numberFlag(values["get-function-rate"]),
      transferBudgetMiB: numberFlag(values["transfer-budget-mib"]),
    },
    "command line",
  );
  if (!settings.ok) return reportProblems(io, settings.problems.map(flagProblem));
  const parameters = settings.parameters;

  const text = await readDefinition(file);
  if (!text.ok) {
    io.stderr(`${file}: ${text.message}\n`);
    return EXIT_ERROR;
  }
  const desired = loadDesired(text.text, file, parameters.allowedPrefixes);
  if (!desired.ok) return reportProblems(io, desired.problems);
  if (command === "validate") {
    io.stdout(`${file}: ${desired.definition.functions.length} function(s) valid and allowed.\n`);
    return EXIT_OK;
  }

  const logger = entryLogger(io.env, "warn", (l) => io.stderr(`${l}\n`));
  const aws = (io.createAws ?? createAwsContext)(parameters);
  const plan = await makePlan(desired.definition, parameters, aws);
  if (command === "plan") {
    io.stdout(`${renderPlan(plan, format)}\n`);
    if (plan.entries.some((e) => e.action.kind === "blocked")) return EXIT_ERROR;
    return values["detailed-exitcode"] && hasChanges(plan) ? EXIT_CHANGES : EXIT_OK;
  }
  // Rollouts run to the end, printing each move; Ctrl-C stops waiting and leaves them for the next run.
  const interrupt = new AbortController();
  const onInterrupt = () => interrupt.abort();
  process.once("SIGINT", onInterrupt);
  const report = await applyDefinition(desired.definition, plan, parameters, aws, {
    download: io.download ?? downloadPackage,
    logger,
    stager: stagerFor(parameters),
    rollouts: {
      noWait: values["no-wait"] === true,
      signal: interrupt.signal,
      onEvent: (name, event) => io.stderr(`${name}: ${describeEvent(event)}\n`),
    },
  }).finally(() => process.off("SIGINT", onInterrupt));
  io.stdout(
    `${format === "json" ? JSON.stringify(applyToJson(report), null, 2) : renderApplyTable(report)}\n`,
  );
  return report.results.every((r) => r.status === "applied" || r.status === "unchanged")
    ? EXIT_OK
    : EXIT_ERROR;
}

export function renderPlan(plan: Plan, format: Format): string {
  if (format === "json") return JSON.stringify(planToJson(plan), null, 2);
  if (format === "markdown") return renderPlanMarkdown(plan);
  return renderPlanTable(plan);
}

const FLAG_OF: Record<string, string> = {
  allowedPrefixes: "--allowed-prefix",
  sourceRoleArn: "--source-role-arn",
  externalId: "--external-id",
  liveAlias: "--live-alias",
  region: "--region",
  concurrency: "--concurrency",
  stagingBucket: "--staging-bucket",
  controlRate: "--control-rate",
  getFunctionRate: "--get-function-rate",
  transferBudgetMiB: "--transfer-budget-mib",
};

const numberFlag = (value: string | undefined) => (value === undefined ? undefined : Number(value));

function flagProblem(problem: Problem): Problem {
  const key = problem.path.split(/[.[]/)[0] ?? "";
  return { ...problem, path: FLAG_OF[key] ?? problem.path };
}

function reportProblems(io: CliIo, problems: readonly Problem[]): number {
  for (const p of problems) {
    io.stderr(
      p.file === "command line" ? `command line: ${p.path}: ${p.message}\n` : `${formatProblem(p)}\n`,
    );
  }
  io.stderr(`${problems.length} problem(s) found.\n`);
  return EXIT_ERROR;
}

async function readDefinition(
  file: string,
): Promise<{ ok: true; text: string } | { ok: false; message: string }> {
  try {
    const info = await stat(file);
    if (!info.isFile()) return { ok: false, message: "not a file" };
    if (info.size > MAX_DEFINITION_BYTES) {
      return { ok: false, message: `the file is ${info.size} bytes; the limit is ${MAX_DEFINITION_BYTES}` };
    }
    return { ok: true, text: await readFile(file, "utf8") };
  } catch (error) {
    const code = (error as { code?: string }).code;
    return {
      ok: false,
      message: code === "ENOENT" ? "no such file" : `cannot read: ${describeError(error)}`,
    };
  }
}
