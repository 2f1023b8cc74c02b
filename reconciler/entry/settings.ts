/**
 * The pipeline's job parameters as command-line flags: the same settings, validated by the same
 * schema (input/parameters.ts), with problems reported under the flag's name.
 */
import type { Problem } from "../core/errors.ts";
import { type JobParameters, validateParameters } from "../input/parameters.ts";
import { type FlagSpec, type FlagValues, listFlag, numberFlag, stringFlag } from "./args.ts";

/** Every command takes --profile and --region, as the AWS CLI does. */
export const PROFILE_FLAG: FlagSpec = {
  name: "profile",
  type: "string",
  value: "NAME",
  help: "named profile from ~/.aws/config and ~/.aws/credentials (default: AWS_PROFILE)",
};

export const SETTINGS_FLAGS: readonly FlagSpec[] = [
  {
    name: "allowed-prefix",
    type: "string",
    multiple: true,
    value: "P",
    help: "allowed function-name prefix (required; repeat the flag or separate with commas)",
  },
  {
    name: "source-role-arn",
    type: "string",
    value: "ARN",
    help: "role to assume in the source (lower) account for promotions",
  },
  { name: "external-id", type: "string", value: "ID", help: "external id for that role" },
  { name: "live-alias", type: "string", value: "NAME", help: "the alias that serves traffic (default LIVE)" },
  { name: "region", type: "string", value: "REGION", help: "AWS Region (default: AWS_REGION, then the profile's)" },
  PROFILE_FLAG,
  { name: "concurrency", type: "string", value: "N", help: "functions handled at once (default 4)" },
  { name: "staging-bucket", type: "string", value: "NAME", help: "S3 bucket for packages over 50 MB" },
  {
    name: "control-rate",
    type: "string",
    value: "N",
    help: "Lambda control-plane calls/s per account and Region (default 14, max 15)",
  },
  {
    name: "get-function-rate",
    type: "string",
    value: "N",
    help: "GetFunction calls/s per account and Region (default 90, max 100)",
  },
  {
    name: "transfer-budget-mib",
    type: "string",
    value: "N",
    help: "memory for package transfers in flight, MiB (default 256)",
  },
];

/** Job parameter key -> flag, for problems found by the schema. */
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

export const COMMAND_LINE = "command line";

const flagProblem = (flag: string, message: string): Problem => ({
  file: COMMAND_LINE,
  line: 1,
  column: 1,
  path: flag,
  message,
});

export type SettingsResult = { ok: true; parameters: JobParameters } | { ok: false; problems: Problem[] };

/** Flags -> validated job parameters; every problem is named by its flag. */
export function parametersFromFlags(values: FlagValues, env: Record<string, string | undefined>): SettingsResult {
  const problems: Problem[] = [];
  const number = (name: string, kind: "whole" | "decimal") => {
    const parsed = numberFlag(values, name, kind);
    if (parsed.ok) return parsed.value;
    problems.push(flagProblem(`--${name}`, parsed.message));
    return undefined;
  };
  const input = {
    allowedPrefixes: listFlag(values, "allowed-prefix") ?? [],
    sourceRoleArn: stringFlag(values, "source-role-arn"),
    externalId: stringFlag(values, "external-id"),
    liveAlias: stringFlag(values, "live-alias"),
    region: stringFlag(values, "region") ?? (env.AWS_REGION || undefined) ?? (env.AWS_DEFAULT_REGION || undefined),
    concurrency: number("concurrency", "whole"),
    stagingBucket: stringFlag(values, "staging-bucket"),
    controlRate: number("control-rate", "decimal"),
    getFunctionRate: number("get-function-rate", "decimal"),
    transferBudgetMiB: number("transfer-budget-mib", "whole"),
  };
  const settings = validateParameters(input, COMMAND_LINE);
  if (!settings.ok) {
    for (const p of settings.problems) {
      const key = p.path.split(/[.[]/)[0] ?? "";
      problems.push({ ...p, path: FLAG_OF[key] ?? p.path });
    }
  }
  if (problems.length > 0 || !settings.ok) return { ok: false, problems };
  return { ok: true, parameters: settings.parameters };
}

/**
 * Settings flags given again with `apply --plan` must agree with the plan's: one line per flag that
 * does not ("--live-alias PROD: the saved plan was made with LIVE"). Flags not given are not checked.
 */
export function settingsDisagreements(values: FlagValues, saved: JobParameters): string[] {
  const lines: string[] = [];
  for (const [key, flag] of Object.entries(FLAG_OF)) {
    const name = flag.slice(2);
    if (values[name] === undefined) continue;
    const kept = (saved as Record<string, unknown>)[key];
    let given: unknown;
    let expected: unknown = kept;
    if (name === "allowed-prefix") {
      given = [...(listFlag(values, name) ?? [])].sort().join(",");
      expected = Array.isArray(kept) ? [...(kept as string[])].sort().join(",") : kept;
    } else {
      const raw = stringFlag(values, name);
      given = typeof kept === "number" ? Number(raw) : raw;
    }
    if (given !== expected) {
      lines.push(
        `${flag} ${String(given)}: the saved plan was made with ${expected === undefined ? `no ${flag}` : String(expected)}`,
      );
    }
  }
  return lines;
}
