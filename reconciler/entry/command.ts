/**
 * What every `lambda-gitops` command shares: the I/O it is given, exit codes, its help text made
 * from its flags, usage errors in our words, reading the definition file and the settings, the
 * logger, and the preflight that turns "no credentials" into one error instead of a row per function.
 */
import type { AwsContext } from "../aws/context.ts";
import { createAwsContext } from "../aws/context.ts";
import type { Downloader } from "../aws/download.ts";
import { formatProblem, type Problem } from "../core/errors.ts";
import { entryLogger, type LogFormat, type Logger } from "../core/log.ts";
import type { Definition } from "../input/definitions.ts";
import { loadDesired } from "../input/desired.ts";
import type { JobParameters } from "../input/parameters.ts";
import {
  type CallerIdentity,
  formatPreflightProblem,
  type PreflightProbe,
  runPreflight,
} from "../apply/preflight.ts";
import { type FlagSpec, type FlagValues, listFlag, parseCommandArgs, renderFlags, stringFlag } from "./args.ts";
import { selectTargets } from "../input/targets.ts";
import type { SavedPlan } from "../plan/saved-plan.ts";
import { hasChanges, type Plan } from "../plan/plan.ts";
import { locateDefinitionFile, readDefinition } from "./definition-file.ts";
import { COMMAND_LINE, parametersFromFlags } from "./settings.ts";
import { colorEnabled, type Paint, paint } from "./terminal.ts";
import type { Where } from "../report/json.ts";

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_CHANGES = 2;
/** Stopped by SIGINT or SIGTERM (128 + SIGINT, as shells report Ctrl-C). */
export const EXIT_INTERRUPTED = 130;

export const PROGRAM = "lambda-gitops";

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  /** Terminals (colour, progress, readable logs, prompts); absent means not a terminal. */
  stdoutIsTTY?: boolean;
  stderrIsTTY?: boolean;
  stdinIsTTY?: boolean;
  /** Ask a question on the terminal and return the answer (apply's confirmation). */
  prompt?: (question: string) => Promise<string>;
  /** Injected so tests can point the CLI at fakes; defaults to the real SDK clients. */
  createAws?: (parameters: JobParameters) => AwsContext;
  download?: Downloader;
}

/** A command's name, one-line summary, synopsis, flags and formats: its help text and its parser. */
export interface CommandSpec {
  name: string;
  summary: string;
  /** After `lambda-gitops NAME`, e.g. `[FILE] --allowed-prefix P [options]`. */
  synopsis: string;
  /** Paragraphs after the synopsis. */
  description?: string;
  flags: readonly FlagSpec[];
  /** Output formats; the first is the default. */
  formats?: readonly string[];
  /** How many positional arguments the command takes at most. */
  maxPositionals: number;
}

/** The first line of the description of every command that reads FILE. */
export const FILE_NOTE = "FILE defaults to the one of lambdas.json, lambdas.yaml, lambdas.yml that exists here.";

export const HELP_FLAG: FlagSpec = { name: "help", type: "boolean", short: "h", help: "show this help" };

/** Skips the confirmation of `apply` and `prune --delete` (required where there is no terminal). */
export const AUTO_APPROVE_FLAG: FlagSpec = {
  name: "auto-approve",
  type: "boolean",
  help: "do not ask for confirmation (without a terminal, changes are refused unless given)",
};

export const LOG_FORMAT_FLAG: FlagSpec = {
  name: "log-format",
  type: "string",
  value: "FMT",
  help: "text (default on a terminal) or json (default otherwise); LOG_LEVEL sets the level",
};

export const TARGET_FLAG: FlagSpec = {
  name: "target",
  type: "string",
  multiple: true,
  value: "NAME",
  help: "only this function (repeatable, or comma-separated)",
};

export function formatFlag(formats: readonly string[]): FlagSpec {
  return {
    name: "format",
    type: "string",
    value: "FMT",
    help: `output: ${formats.join(", ")} (default ${formats[0]})`,
  };
}

/** Every flag a command accepts: its own, then --help. */
export function flagsOf(spec: CommandSpec): FlagSpec[] {
  return [...spec.flags, HELP_FLAG];
}

export function commandHelp(spec: CommandSpec): string {
  return [
    `Usage: ${PROGRAM} ${spec.name} ${spec.synopsis}`,
    "",
    spec.summary,
    ...(spec.description ? ["", spec.description] : []),
    "",
    "Options:",
    renderFlags(flagsOf(spec)),
    "",
  ].join("\n");
}

/**
 * An error that is not about a place in a file: `lambda-gitops COMMAND: error: MESSAGE`, one line
 * (and exit 1). Problems located in a file are `FILE:LINE:COLUMN: FIELD: MESSAGE` (reportProblems).
 */
export function commandError(io: CliIo, command: string | undefined, message: string): number {
  const colors = stderrPaint(io);
  io.stderr(`${PROGRAM}${command ? ` ${command}` : ""}: ${colors.red("error:")} ${message}\n`);
  return EXIT_ERROR;
}

/** A usage error: what is wrong, and where to read how to call the command. */
export function usageError(io: CliIo, command: string | undefined, message: string): number {
  const help = command ? `${PROGRAM} ${command} --help` : `${PROGRAM} --help`;
  io.stderr(`${PROGRAM}${command ? ` ${command}` : ""}: ${message}\nRun '${help}' for usage.\n`);
  return EXIT_ERROR;
}

export type Invocation =
  | { ok: true; values: FlagValues; positionals: string[]; format: string }
  | { ok: false; code: number };

/** Parse a command's arguments; prints help or a usage error itself. */
export function parseInvocation(spec: CommandSpec, argv: readonly string[], io: CliIo): Invocation {
  const parsed = parseCommandArgs(spec.name, argv, flagsOf(spec));
  if (!parsed.ok) return { ok: false, code: usageError(io, spec.name, parsed.message) };
  if (parsed.values.help === true) {
    io.stdout(commandHelp(spec));
    return { ok: false, code: EXIT_OK };
  }
  if (parsed.positionals.length > spec.maxPositionals) {
    const extra = parsed.positionals.slice(spec.maxPositionals).join(" ");
    return {
      ok: false,
      code: usageError(
        io,
        spec.name,
        `unexpected argument${parsed.positionals.length - spec.maxPositionals > 1 ? "s" : ""} "${extra}" (${spec.name} takes ${spec.maxPositionals === 0 ? "none" : `at most ${spec.maxPositionals}: ${spec.synopsis.split(" ")[0]}`})`,
      ),
    };
  }
  const formats = spec.formats ?? [];
  const format = stringFlag(parsed.values, "format") ?? formats[0] ?? "";
  if (formats.length > 0 && !formats.includes(format)) {
    return {
      ok: false,
      code: usageError(
        io,
        spec.name,
        `${spec.name} has no --format ${format}: it prints ${formats.join(", ")}`,
      ),
    };
  }
  const logFormat = stringFlag(parsed.values, "log-format");
  if (logFormat !== undefined && logFormat !== "text" && logFormat !== "json") {
    return { ok: false, code: usageError(io, spec.name, `--log-format is text or json (found "${logFormat}")`) };
  }
  // --profile is AWS_PROFILE for this run: the SDK's credential chain and Region lookup read it.
  const profile = stringFlag(parsed.values, "profile");
  if (profile !== undefined) io.env.AWS_PROFILE = profile;
  return { ok: true, values: parsed.values, positionals: parsed.positionals, format };
}

export function reportProblems(io: CliIo, problems: readonly Problem[]): number {
  for (const p of problems) {
    io.stderr(p.file === COMMAND_LINE ? `${COMMAND_LINE}: ${p.path}: ${p.message}\n` : `${formatProblem(p)}\n`);
  }
  io.stderr(`${problems.length} problem(s) found.\n`);
  return EXIT_ERROR;
}

export type Inputs =
  | {
      ok: true;
      parameters: JobParameters;
      file: string;
      /** The definition file's text, as read (a saved plan keeps it). */
      text: string;
      definition: Definition;
      /** `--target` names (undefined: every function). */
      targets: string[] | undefined;
      /** Set when the inputs come from a saved plan (apply --plan). */
      saved?: SavedPlan;
    }
  | { ok: false; code: number };

/** Settings from flags, the definition file (FILE or the default), and the prefix policy: all offline. */
export async function loadInputs(
  command: string,
  values: FlagValues,
  positionals: readonly string[],
  io: CliIo,
  onProblems: (problems: readonly Problem[]) => number = (problems) => reportProblems(io, problems),
): Promise<Inputs> {
  const settings = parametersFromFlags(values, io.env);
  if (!settings.ok) return { ok: false, code: onProblems(settings.problems) };
  const located = await locateDefinitionFile(positionals[0], command);
  if (!located.ok) return { ok: false, code: commandError(io, command, located.message) };
  const { file } = located;
  const text = await readDefinition(file);
  if (!text.ok) return { ok: false, code: commandError(io, command, `${file}: ${text.message}`) };
  const desired = loadDesired(text.text, file, settings.parameters.allowedPrefixes);
  if (!desired.ok) return { ok: false, code: onProblems(desired.problems) };
  const targets = listFlag(values, "target");
  const targeted = selectTargets(desired.definition, targets);
  if (!targeted.ok) {
    for (const problem of targeted.problems) commandError(io, command, problem);
    return { ok: false, code: EXIT_ERROR };
  }
  return { ok: true, parameters: settings.parameters, file, text: text.text, definition: targeted.definition, targets };
}

/** Readable lines on a terminal, JSON otherwise, unless --log-format says. */
export function commandLogger(values: FlagValues, io: CliIo): Logger {
  const chosen = stringFlag(values, "log-format");
  const format: LogFormat = chosen === "json" || chosen === "text" ? chosen : io.stderrIsTTY ? "text" : "json";
  return entryLogger(io.env, "warn", (line) => io.stderr(`${line}\n`), format);
}

export function stderrPaint(io: CliIo): Paint {
  return paint(colorEnabled(io.env, io.stderrIsTTY === true));
}

export function stdoutPaint(io: CliIo): Paint {
  return paint(colorEnabled(io.env, io.stdoutIsTTY === true));
}

/** Who the run acts as: from preflight (unknown when a test injects fakes without a probe). */
export interface RunIdentity {
  region: string | undefined;
  target: CallerIdentity | undefined;
  source: CallerIdentity | undefined;
}

export type Connection = { ok: true; aws: AwsContext; identity: RunIdentity } | { ok: false; code: number };

/**
 * The AWS context, after preflight: Region, credentials, the target identity and (with a source
 * role) the source identity. A failure is one error with its fix, and exit 1.
 */
export async function connect(command: string, parameters: JobParameters, io: CliIo): Promise<Connection> {
  const aws = (io.createAws ?? createAwsContext)(parameters);
  const probe: PreflightProbe | undefined = aws.preflight;
  if (!probe) {
    return { ok: true, aws, identity: { region: parameters.region, target: undefined, source: undefined } };
  }
  const result = await runPreflight(probe, {
    profile: io.env.AWS_PROFILE || undefined,
    endpoint: io.env.AWS_ENDPOINT_URL_STS || io.env.AWS_ENDPOINT_URL || undefined,
    roleArn: parameters.sourceRoleArn,
    externalId: parameters.externalId !== undefined,
  });
  if (!result.ok) return { ok: false, code: commandError(io, command, formatPreflightProblem(result.problem)) };
  return { ok: true, aws, identity: { region: result.region, target: result.target, source: result.source } };
}

/** The plan header: where the run acts, where code comes from, which alias serves traffic. */
export function identityLines(identity: RunIdentity, parameters: JobParameters, file?: string): string[] {
  const account = (who: CallerIdentity | undefined) => `account ${who?.account ?? "unknown"}`;
  const source = parameters.sourceRoleArn
    ? `${account(identity.source)} (role ${parameters.sourceRoleArn})`
    : "none (no --source-role-arn: versions missing here cannot be promoted)";
  return [
    `Target: ${account(identity.target)}, Region ${identity.region ?? "unknown"}`,
    `Source: ${source}`,
    `Alias:  ${parameters.liveAlias}`,
    ...(identity.target ? [`As:     ${identity.target.arn}`] : []),
    ...(file !== undefined ? [`File:   ${file}`] : []),
  ];
}

/**
 * None of the declared functions exists where the run looks: one error naming the place (a wrong
 * Region, account or profile), instead of one "does not exist" row per function. Undefined otherwise.
 */
export function wrongPlace(command: string, plan: Plan, identity: RunIdentity, io: CliIo): number | undefined {
  const count = plan.entries.length;
  const missing = plan.entries.filter((e) => e.action.kind === "blocked" && e.action.code === "function-missing");
  if (count === 0 || missing.length < count) return undefined;
  return nothingHere(command, plan.entries.map((e) => e.name), identity, io);
}

/** "none of the 7 declared functions exist in 222222222222 eu-west-1: wrong Region, account or credentials?" */
export function nothingHere(command: string, names: readonly string[], identity: RunIdentity, io: CliIo): number {
  const where = `${identity.target?.account ?? "the target account"} ${identity.region ?? ""}`.trim();
  const what =
    names.length === 1 ? `the declared function ${names[0]} does not exist` : `none of the ${names.length} declared functions exist`;
  return commandError(io, command, `${what} in ${where}: wrong Region, account or credentials?`);
}

export type Approval = { approved: true } | { approved: false; code: number };

/**
 * Terraform's confirmation: with --auto-approve (or `reviewed`, a saved plan), go on; on a terminal,
 * show `review` and ask for "yes"; without a terminal, refuse in one line and change nothing.
 */
export async function confirm(
  io: CliIo,
  options: {
    command: string;
    values: FlagValues;
    /** A saved plan: the review was the plan, so nothing is asked. */
    reviewed: boolean;
    /** What the question is about (the plan, the deletions), shown before it. */
    review: () => string;
    question: string;
    /** The one line printed when there is no terminal to ask on. */
    refusal: string;
  },
): Promise<Approval> {
  if (options.reviewed || options.values["auto-approve"] === true) return { approved: true };
  if (io.stdinIsTTY !== true || io.prompt === undefined) {
    return {
      approved: false,
      code: commandError(io, options.command, options.refusal),
    };
  }
  io.stderr(`${options.review()}\n\n`);
  const answer = await io.prompt(`${options.question} Only 'yes' is accepted: `);
  if (answer.trim() === "yes") return { approved: true };
  io.stderr(`${options.command === "apply" ? "Apply" : "Deletion"} cancelled: nothing was changed.\n`);
  return { approved: false, code: EXIT_ERROR };
}

export type Session =
  | (Extract<Inputs, { ok: true }> & { values: FlagValues; format: string; aws: AwsContext; identity: RunIdentity })
  | { ok: false; code: number };

type Call = Extract<Invocation, { ok: true }>;

/**
 * What every command that reads AWS does first: arguments, inputs (offline: the file and flags, or
 * what `inputs` loads instead), then preflight.
 */
export async function openSession(
  spec: CommandSpec,
  argv: readonly string[],
  io: CliIo,
  inputs: (call: Call) => Promise<Inputs> = (call) => loadInputs(spec.name, call.values, call.positionals, io),
): Promise<Session> {
  const call = parseInvocation(spec, argv, io);
  if (!call.ok) return call;
  const loaded = await inputs(call);
  if (!loaded.ok) return loaded;
  const connection = await connect(spec.name, loaded.parameters, io);
  if (!connection.ok) return connection;
  const { aws, identity } = connection;
  return { ...loaded, values: call.values, format: call.format, aws, identity };
}

/** Where the run acts, for JSON output and saved plans (null where preflight did not say). */
export function placeJson(identity: RunIdentity): { account: string | null; region: string | null } {
  return { account: identity.target?.account ?? null, region: identity.region ?? null };
}

/** Where the run acts, for every JSON document (report/json.ts): target caller, source role. */
export function whereJson(identity: RunIdentity, parameters: Pick<JobParameters, "sourceRoleArn">): Where {
  const region = identity.region ?? null;
  return {
    target: { account: identity.target?.account ?? null, region, roleArn: identity.target?.arn ?? null },
    source: parameters.sourceRoleArn
      ? { account: identity.source?.account ?? null, region, roleArn: parameters.sourceRoleArn }
      : null,
  };
}

/** plan and status: 1 when a function is blocked; with --detailed-exitcode, 2 when anything would change. */
export function planExitCode(plan: Plan, values: FlagValues): number {
  if (plan.entries.some((e) => e.action.kind === "blocked")) return EXIT_ERROR;
  return values["detailed-exitcode"] === true && hasChanges(plan) ? EXIT_CHANGES : EXIT_OK;
}
