/**
 * The `lambda-gitops` command line: global flags (--version, --help), `help COMMAND`, did-you-mean
 * for unknown commands, and dispatch to one module per command (entry/commands/<name>.ts, each
 * exporting `run<Name>(argv, io)` and its spec: summary, flags, help). Settings are the pipeline's
 * job parameters, given as flags. Exit codes: 0 success, 1 error (usage, invalid input, preflight,
 * blocked or failed functions), 2 changes pending (--detailed-exitcode only), 130 interrupted.
 */
import { closestKey } from "../core/suggest.ts";
import { type CliIo, commandHelp, type CommandSpec, EXIT_ERROR, EXIT_OK, PROGRAM, usageError } from "./command.ts";
import { APPLY, runApply } from "./commands/apply.ts";
import { PLAN, runPlan } from "./commands/plan.ts";
import { PRUNE, runPrune } from "./commands/prune.ts";
import { PUBLISH, runPublish } from "./commands/publish.ts";
import { runStatus, STATUS } from "./commands/status.ts";
import { runValidate, VALIDATE } from "./commands/validate.ts";
import { cliVersion } from "./version.ts";

export { type CliIo, EXIT_CHANGES, EXIT_ERROR, EXIT_OK } from "./command.ts";
export { renderPlan } from "./commands/plan.ts";

export interface Command {
  run: (argv: string[], io: CliIo) => Promise<number>;
  /** Summary, flags and help text; without it, give `summary` and the command handles --help. */
  spec?: CommandSpec;
  summary?: string;
}

/** Every command: adding one is one line here. */
const COMMANDS: Record<string, Command> = {
  validate: { run: runValidate, spec: VALIDATE },
  plan: { run: runPlan, spec: PLAN },
  apply: { run: runApply, spec: APPLY },
  status: { run: runStatus, spec: STATUS },
  prune: { run: runPrune, spec: PRUNE },
  publish: { run: runPublish, spec: PUBLISH },
};

export const COMMAND_NAMES = Object.keys(COMMANDS);

function usage(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((n) => n.length));
  const lines = names.map((name) => {
    const command = COMMANDS[name] as Command;
    return `  ${name.padEnd(width)}  ${command.spec?.summary ?? command.summary ?? ""}`;
  });
  return [
    `Usage: ${PROGRAM} <command> [FILE] [options]`,
    "",
    "Commands:",
    ...lines,
    "",
    `Run '${PROGRAM} help COMMAND' or '${PROGRAM} COMMAND --help' for a command's options.`,
    "",
    "Global options:",
    "  -h, --help     show this help",
    "  -V, --version  print the version",
    "",
    "Credentials, Region and endpoints come from the AWS SDK's standard chain (--profile or",
    "AWS_PROFILE, --region or AWS_REGION, AWS_ENDPOINT_URL). NO_COLOR turns colour off, FORCE_COLOR",
    "forces it without a terminal; LOG_LEVEL sets the log level.",
    "",
  ].join("\n");
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    io.stderr(usage());
    return EXIT_ERROR;
  }
  if (first === "--version" || first === "-V") {
    io.stdout(`${PROGRAM} ${cliVersion()}\n`);
    return EXIT_OK;
  }
  if (first === "--help" || first === "-h") {
    io.stdout(usage());
    return EXIT_OK;
  }
  if (first === "help") return help(rest, io);
  if (first.startsWith("-")) {
    return usageError(io, undefined, `${first} is not a global option: put the command first (${PROGRAM} plan ${first} ...)`);
  }
  const command = COMMANDS[first];
  if (!command) return unknownCommand(first, io);
  return command.run(rest, io);
}

function help(args: readonly string[], io: CliIo): Promise<number> | number {
  const [name, ...extra] = args;
  if (name === undefined) {
    io.stdout(usage());
    return EXIT_OK;
  }
  if (extra.length > 0) return usageError(io, "help", `help takes one command (found "${args.join(" ")}")`);
  const command = COMMANDS[name];
  if (!command) return unknownCommand(name, io);
  if (!command.spec) return command.run(["--help"], io);
  io.stdout(commandHelp(command.spec));
  return EXIT_OK;
}

function unknownCommand(name: string, io: CliIo): number {
  const suggestion = closestKey(name, COMMAND_NAMES);
  return usageError(
    io,
    undefined,
    `unknown command "${name}"${suggestion ? `: did you mean "${suggestion}"?` : ` (commands: ${COMMAND_NAMES.join(", ")})`}`,
  );
}
