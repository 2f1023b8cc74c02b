/**
 * Command-line parsing for every `lambda-gitops` command: flags declared once (name, value
 * placeholder, help line) give both the parser and the help text. Usage errors come back as values
 * in our words: node:util parseArgs' error codes are mapped, never shown, and an unknown flag gets a
 * "did you mean" from the same suggester as the definition file and the job parameters.
 */
import { parseArgs } from "node:util";
import { closestKey } from "../core/suggest.ts";

export interface FlagSpec {
  name: string;
  /** `string` flags take a value (`--name VALUE` or `--name=VALUE`); `boolean` flags take none. */
  type: "string" | "boolean";
  multiple?: boolean;
  short?: string;
  /** Placeholder in the help text, e.g. `N` for `--concurrency N`. */
  value?: string;
  help: string;
}

export type FlagValues = Record<string, string | boolean | string[] | undefined>;

export type ParsedArgs =
  | { ok: true; values: FlagValues; positionals: string[] }
  | { ok: false; message: string };

type ParseArgsOptions = Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }>;

function optionsOf(flags: readonly FlagSpec[]): ParseArgsOptions {
  const options: ParseArgsOptions = {};
  for (const f of flags) {
    options[f.name] = {
      type: f.type,
      ...(f.multiple ? { multiple: true } : {}),
      ...(f.short ? { short: f.short } : {}),
    };
  }
  return options;
}

const dashed = (name: string) => (name.length === 1 ? `-${name}` : `--${name}`);

/**
 * Parse `argv` against `flags`. `command` names the command in messages ("plan"); the message of a
 * usage error never includes parseArgs' own text.
 */
export function parseCommandArgs(command: string, argv: readonly string[], flags: readonly FlagSpec[]): ParsedArgs {
  const options = optionsOf(flags);
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
    return { ok: true, values: values as FlagValues, positionals };
  } catch (error) {
    return { ok: false, message: usageError(command, argv, flags, (error as { code?: string }).code) };
  }
}

/** Our words for parseArgs' error codes, found again from its tokens (never from its message). */
function usageError(
  command: string,
  argv: readonly string[],
  flags: readonly FlagSpec[],
  code: string | undefined,
): string {
  const known = new Map(flags.map((f) => [f.name, f]));
  const shorts = new Map(flags.filter((f) => f.short).map((f) => [f.short as string, f]));
  const { tokens } = parseArgs({
    args: [...argv],
    options: optionsOf(flags),
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  for (const token of tokens) {
    if (token.kind !== "option") continue;
    const spec = token.rawName.startsWith("--") ? known.get(token.name) : shorts.get(token.name);
    if (!spec) return unknownFlag(token.rawName, flags);
    if (spec.type === "string" && token.value === undefined) {
      return `${dashed(spec.name)} needs a value: ${dashed(spec.name)} ${spec.value ?? "VALUE"}`;
    }
    if (spec.type === "string" && !token.inlineValue && token.value?.startsWith("-")) {
      return `${dashed(spec.name)} needs a value, found the flag-like "${token.value}" (write ${dashed(spec.name)}=${token.value} if you mean it)`;
    }
    if (spec.type === "boolean" && token.value !== undefined) {
      return `${dashed(spec.name)} takes no value (found "${token.value}")`;
    }
  }
  if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") return `${command} takes no arguments`;
  return `cannot read the command line "${argv.join(" ")}"`;
}

/** "unknown flag --concurency: did you mean --concurrency?" */
export function unknownFlag(raw: string, flags: readonly FlagSpec[]): string {
  const name = raw.replace(/^-+/, "").split("=")[0] ?? "";
  const suggestion = closestKey(name, flags.map((f) => f.name));
  const hint = suggestion ? `: did you mean --${suggestion}?` : "";
  return `unknown flag ${raw.split("=")[0]}${hint}`;
}

/** A string flag's value, or undefined. */
export function stringFlag(values: FlagValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === "string" ? v : undefined;
}

/** A repeatable flag's values, each split at commas (`--x a,b --x c` is `[a, b, c]`). */
export function listFlag(values: FlagValues, name: string): string[] | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  const raw = Array.isArray(v) ? v : [String(v)];
  return raw.flatMap((item) => item.split(",").map((part) => part.trim()));
}

export function booleanFlag(values: FlagValues, name: string): boolean {
  return values[name] === true;
}

export type NumberParse = { ok: true; value: number | undefined } | { ok: false; message: string };

/** A number flag: `whole` for counts; the message says what it wants and what it got. */
export function numberFlag(values: FlagValues, name: string, kind: "whole" | "decimal"): NumberParse {
  const raw = stringFlag(values, name);
  if (raw === undefined) return { ok: true, value: undefined };
  const pattern = kind === "whole" ? /^\d+$/ : /^\d+(\.\d+)?$/;
  if (!pattern.test(raw.trim())) {
    return {
      ok: false,
      message: `wants a ${kind === "whole" ? "whole number, e.g. 4" : "number, e.g. 10 or 2.5"} (found "${raw}")`,
    };
  }
  return { ok: true, value: Number(raw) };
}

/** The flags part of a help text: one line per flag, aligned. */
export function renderFlags(flags: readonly FlagSpec[]): string {
  const left = flags.map(
    (f) => `${f.short ? `-${f.short}, ` : "    "}--${f.name}${f.type === "string" ? ` ${f.value ?? "VALUE"}` : ""}`,
  );
  const width = Math.max(...left.map((l) => l.length));
  return flags.map((f, i) => `  ${(left[i] ?? "").padEnd(width)}  ${f.help}`).join("\n");
}
