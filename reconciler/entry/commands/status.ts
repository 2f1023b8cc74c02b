/** `lambda-gitops status [FILE]`: LIVE per function, rollouts in progress, drift; read-only. */
import { makePlan } from "../context.ts";
import { renderStatusTable, statusToJson } from "../../report/status.ts";
import {
  type CliIo,
  type CommandSpec,
  FILE_NOTE,
  formatFlag,
  identityLines,
  LOG_FORMAT_FLAG,
  openSession,
  placeJson,
  planExitCode,
  TARGET_FLAG,
} from "../command.ts";
import { SETTINGS_FLAGS } from "../settings.ts";

const FORMATS = ["table", "json"] as const;

export const STATUS: CommandSpec = {
  name: "status",
  summary: "Show LIVE per function: its routing, any rollout in progress, drift from the file (read-only).",
  synopsis: "[FILE] --allowed-prefix P [--source-role-arn ARN] [options]",
  description:
    `${FILE_NOTE}\n` +
    "Exit codes: 0 success; 1 invalid input, preflight failure or a blocked function;\n" +
    "with --detailed-exitcode: 0 in sync, 2 drift, 1 error.",
  flags: [
    ...SETTINGS_FLAGS,
    formatFlag(FORMATS),
    { name: "detailed-exitcode", type: "boolean", help: "exit 0 in sync, 2 drift, 1 error" },
    TARGET_FLAG,
    LOG_FORMAT_FLAG,
  ],
  formats: FORMATS,
  maxPositionals: 1,
};

export async function runStatus(argv: string[], io: CliIo): Promise<number> {
  const session = await openSession(STATUS, argv, io);
  if (!session.ok) return session.code;
  const { parameters, definition, aws, identity, values, format } = session;
  const plan = await makePlan(definition, parameters, aws);
  if (format === "json") {
    io.stdout(`${JSON.stringify({ ...statusToJson(plan), target: placeJson(identity) }, null, 2)}\n`);
  } else {
    io.stdout(`${[...identityLines(identity, parameters), "", renderStatusTable(plan)].join("\n")}\n`);
  }
  return planExitCode(plan, values);
}
