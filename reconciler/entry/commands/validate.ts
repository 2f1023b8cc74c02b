/** `lambda-gitops validate [FILE]`: the definition file and the prefix policy, offline. */
import type { Problem } from "../../core/errors.ts";
import {
  type CliIo,
  type CommandSpec,
  EXIT_ERROR,
  EXIT_OK,
  FILE_NOTE,
  formatFlag,
  loadInputs,
  parseInvocation,
} from "../command.ts";
import { SETTINGS_FLAGS } from "../settings.ts";
import { jsonDocument } from "../../report/json.ts";

const FORMATS = ["text", "json"] as const;

export const VALIDATE: CommandSpec = {
  name: "validate",
  summary: "Check the definition file and the prefix policy, offline (no AWS call).",
  synopsis: "[FILE] --allowed-prefix P [options]",
  description:
    `${FILE_NOTE}\n` +
    "Exit codes: 0 valid and allowed; 1 problems (each with file, line, column and field).",
  flags: [...SETTINGS_FLAGS, formatFlag(FORMATS)],
  formats: FORMATS,
  maxPositionals: 1,
};

export async function runValidate(argv: string[], io: CliIo): Promise<number> {
  const call = parseInvocation(VALIDATE, argv, io);
  if (!call.ok) return call.code;
  const json = call.format === "json";
  const inputs = await loadInputs(
    "validate",
    call.values,
    call.positionals,
    io,
    json
      ? (problems) => {
          printJson(io, { file: null, valid: false, functions: [], problems });
          return EXIT_ERROR;
        }
      : undefined,
  );
  if (!inputs.ok) return inputs.code;
  const count = inputs.definition.functions.length;
  if (json) {
    printJson(io, { file: inputs.file, valid: true, functions: inputs.definition.functions.map((f) => f.name), problems: [] });
  } else {
    io.stdout(`${inputs.file}: ${count} function(s) valid and allowed.\n`);
  }
  return EXIT_OK;
}

interface ValidateJson {
  /** null when problems came before the file was read (flags). */
  file: string | null;
  valid: boolean;
  functions: string[];
  problems: readonly Problem[];
}

/** validate is offline: no target or source (report/json.ts). */
function printJson(io: CliIo, value: ValidateJson): void {
  const summary = { functions: value.functions.length, problems: value.problems.length };
  io.stdout(`${JSON.stringify(jsonDocument("validate", { target: null, source: null }, { ...value, summary }), null, 2)}\n`);
}
