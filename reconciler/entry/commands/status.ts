/** `lambda-gitops status [FILE]`: LIVE per function, rollouts in progress, drift; read-only. */
import { makePlan } from "../../apply/reconcile.ts";
import { functionStatus, renderStatusTable } from "../../report/status.ts";
import { statusJson } from "../../report/json.ts";
import {
  type CliIo,
  type CommandSpec,
  FILE_NOTE,
  formatFlag,
  identityLines,
  LOG_FORMAT_FLAG,
  openSession,
  EXIT_CHANGES,
  EXIT_ERROR,
  EXIT_OK,
  TARGET_FLAG,
  whereJson,
  wrongPlace,
} from "../command.ts";
import type { FlagValues } from "../args.ts";
import type { Plan } from "../../plan/plan.ts";
import { SETTINGS_FLAGS } from "../settings.ts";

const FORMATS = ["table", "json"] as const;

export const STATUS: CommandSpec = {
  name: "status",
  summary: "Show LIVE per function: its routing, any rollout in progress, drift from the file (read-only).",
  synopsis: "[FILE] --allowed-prefix P [--source-role-arn ARN] [options]",
  description:
    `${FILE_NOTE}\n` +
    "A promotion that needs a source role not given is pending (out of sync), not an error.\n" +
    "Exit codes: 0 success; 1 invalid input, preflight failure or a function that cannot be read or\n" +
    "reconciled; with --detailed-exitcode: 0 in sync, 2 out of sync (drift or pending), 1 error.",
  flags: [
    ...SETTINGS_FLAGS,
    formatFlag(FORMATS),
    { name: "detailed-exitcode", type: "boolean", help: "exit 0 in sync, 2 out of sync (drift or pending), 1 error" },
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
  const misplaced = wrongPlace("status", plan, identity, io);
  if (misplaced !== undefined) return misplaced;
  if (format === "json") {
    io.stdout(`${JSON.stringify(statusJson(plan, whereJson(identity, parameters)), null, 2)}\n`);
  } else {
    io.stdout(`${[...identityLines(identity, parameters), "", renderStatusTable(plan)].join("\n")}\n`);
  }
  return statusExitCode(plan, values);
}

/**
 * status is a drift gate: 1 only for errors (a function that cannot be read or reconciled); a
 * promotion waiting for a source role is out of sync (`pending`), not an error; with
 * --detailed-exitcode, 2 when anything is out of sync.
 */
function statusExitCode(plan: Plan, values: FlagValues): number {
  const states = plan.entries.map((e) => functionStatus(e).state);
  if (states.includes("blocked")) return EXIT_ERROR;
  return values["detailed-exitcode"] === true && states.some((s) => s !== "in-sync") ? EXIT_CHANGES : EXIT_OK;
}
