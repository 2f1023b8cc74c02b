/**
 * Saved plans on disk: `plan --out FILE` writes one (atomically: a temporary file renamed), and
 * `apply --plan FILE` reads one back into the same inputs a command line gives, checking that
 * settings flags given again agree with it and re-validating its definition (schema and prefixes).
 */
import { readFile, rename, writeFile } from "node:fs/promises";
import { describeError } from "../core/errors.ts";
import { loadDesired } from "../input/desired.ts";
import { regionalOrError } from "../input/regional.ts";
import { validateParameters } from "../input/parameters.ts";
import { selectTargets } from "../input/targets.ts";
import type { Plan } from "../plan/plan.ts";
import { decodeSavedPlan, encodeSavedPlan } from "../plan/saved-plan.ts";
import { type FlagValues, listFlag } from "./args.ts";
import {
  type CliIo,
  EXIT_ERROR,
  type Inputs,
  placeJson,
  PROGRAM,
  reportProblems,
  type RunIdentity,
} from "./command.ts";
import { settingsDisagreements } from "./settings.ts";
import { cliVersion } from "./version.ts";

/** A saved plan holds the definition (at most 1 MiB) and the plan of each of its functions. */
const MAX_SAVED_PLAN_BYTES = 64 * 1024 * 1024;

export async function writeSavedPlan(
  path: string,
  plan: Plan,
  inputs: Extract<Inputs, { ok: true }>,
  identity: RunIdentity,
): Promise<void> {
  const { parameters } = inputs;
  const text = encodeSavedPlan({
    createdAt: new Date().toISOString(),
    toolVersion: cliVersion(),
    file: inputs.file,
    definition: inputs.text,
    targets: inputs.targets ?? null,
    settings: { ...parameters },
    target: placeJson(identity),
    source: parameters.sourceRoleArn
      ? { account: identity.source?.account ?? null, roleArn: parameters.sourceRoleArn }
      : null,
    plan,
  });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, text, { mode: 0o644 });
  await rename(temporary, path);
}

function refuse(io: CliIo, path: string, lines: readonly string[]): Inputs {
  io.stderr(`${PROGRAM} apply --plan ${path}: refused.\n${lines.map((l) => `  ${l}\n`).join("")}`);
  return { ok: false, code: EXIT_ERROR };
}

/** The inputs of `apply --plan FILE`: everything from the saved plan, checked again. */
export async function loadSavedInputs(
  path: string,
  values: FlagValues,
  positionals: readonly string[],
  io: CliIo,
): Promise<Inputs> {
  if (positionals.length > 0) {
    return refuse(io, path, [
      `the definition comes from the saved plan: drop "${positionals.join(" ")}" (the plan was made from its own copy of the file)`,
    ]);
  }
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as { code?: string }).code;
    return refuse(io, path, [code === "ENOENT" ? `${path}: no such file` : `${path}: cannot read: ${describeError(error)}`]);
  }
  if (text.length > MAX_SAVED_PLAN_BYTES) return refuse(io, path, [`${path} is over ${MAX_SAVED_PLAN_BYTES} bytes`]);
  const decoded = decodeSavedPlan(text);
  if (!decoded.ok) return refuse(io, path, [`${path} ${decoded.message}`]);
  const { saved } = decoded;
  const settings = validateParameters(saved.settings, `${path} (settings)`);
  if (!settings.ok) return { ok: false, code: reportProblems(io, settings.problems) };
  const parameters = settings.parameters;
  const disagreements = settingsDisagreements(values, {
    ...parameters,
    region: parameters.region ?? saved.target.region ?? undefined,
  });
  const targets = listFlag(values, "target");
  if (targets !== undefined && [...targets].sort().join(",") !== [...(saved.targets ?? [])].sort().join(",")) {
    disagreements.push(
      `--target ${targets.join(",")}: the saved plan was made for ${saved.targets ? saved.targets.join(", ") : "every function"}`,
    );
  }
  if (disagreements.length > 0) return refuse(io, path, disagreements);
  const desired = loadDesired(saved.definition, saved.file, parameters.allowedPrefixes);
  if (!desired.ok) return { ok: false, code: reportProblems(io, desired.problems) };
  const regional = regionalOrError(desired.definition, parameters.region ?? saved.target.region ?? undefined);
  if (!regional.ok) return refuse(io, path, [regional.message]);
  const targeted = selectTargets(regional.definition, saved.targets ?? undefined);
  if (!targeted.ok) return refuse(io, path, targeted.problems);
  return {
    ok: true,
    parameters,
    file: saved.file,
    text: saved.definition,
    definition: targeted.definition,
    targets: saved.targets ?? undefined,
    saved,
  };
}

/** Where the plan was made against where this run acts: both must be the same account and Region. */
export function placeDisagreements(saved: { account: string | null; region: string | null }, identity: RunIdentity): string[] {
  const lines: string[] = [];
  const account = identity.target?.account;
  if (saved.account !== null && account !== undefined && saved.account !== account) {
    lines.push(`the plan was made for account ${saved.account}; these credentials act in ${account}`);
  }
  if (saved.region !== null && identity.region !== undefined && saved.region !== identity.region) {
    lines.push(`the plan was made for Region ${saved.region}; this run acts in ${identity.region}`);
  }
  return lines;
}
