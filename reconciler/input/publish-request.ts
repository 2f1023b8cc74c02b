/**
 * What `lambda-gitops publish` is asked to publish: one function from flags, or many from a
 * manifest (`--manifest FILE`, a JSON or YAML list). Pure: text and flags in, validated specs or
 * every Problem out (FILE:LINE:COL for the manifest, the flag's name for the command line). The
 * prefix policy (policy.ts) is checked here too, so a function outside the allowed prefixes is
 * refused before any AWS call, even in a manifest that has other problems.
 *
 * Manifest entries: { function, version, zip | s3, runtime?, handler?, architecture?, layers?,
 * description? }. A relative `zip` path is relative to the manifest's folder.
 */
import { dirname, isAbsolute, join } from "node:path";
import { z } from "zod";
import type { Problem } from "../core/errors.ts";
import { checkFunctionName } from "./definition-schema.ts";
import { definitionFormat, describeValue, MAX_DEFINITION_BYTES, type NamedEntry, unknownKeyMessage } from "./definitions.ts";
import { locate, type Path, positionOf, problemAt, readDocument, sortProblems, valueAt } from "./document.ts";
import { checkPolicy } from "./policy.ts";
import { checkVersion, quoteValue } from "./versions.ts";

export const COMMAND_LINE = "command line";
/** Lambda allows at most five layers per function. */
export const MAX_LAYERS = 5;
/** Lambda's limit for a version description. */
export const MAX_DESCRIPTION_LENGTH = 256;

export type Architecture = "x86_64" | "arm64";

/** Where the package comes from: a local zip, or an object in S3 (same Region as the function). */
export type PublishCode = { kind: "zip"; path: string } | { kind: "s3"; bucket: string; key: string };

export interface PublishSpec {
  function: string;
  version: string;
  code: PublishCode;
  runtime?: string;
  handler?: string;
  architecture?: Architecture;
  /** Layer version ARNs, in order; [] removes every layer; absent leaves them as they are. */
  layers?: string[];
  /** Provenance (e.g. the commit), carried into the published version's description. */
  description?: string;
}

export type PublishRequestResult = { ok: true; specs: PublishSpec[] } | { ok: false; problems: Problem[] };

const S3_URL = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/;
const LAYER_ARN =
  /^arn:aws[a-zA-Z-]*:lambda:[a-z]{2}((-gov)|(-iso[a-z]?))?-[a-z]+-\d:\d{12}:layer:[a-zA-Z0-9_-]+:[0-9]+$/;
const RUNTIME = /^[a-z][a-z0-9.]{1,31}$/;
const HANDLER = /^[^\s]{1,128}$/;

/** A string checked by `check` (a message, or undefined when valid). */
const checked = (check: (value: string) => string | undefined) =>
  z.string().check((ctx) => {
    const message = check(ctx.value);
    if (message !== undefined) ctx.issues.push({ code: "custom", message, input: ctx.value });
  });

const versionMessage = (value: string) => {
  const result = checkVersion(value);
  return result.ok ? undefined : result.message;
};

export const publishEntrySchema = z
  .strictObject({
    function: checked(checkFunctionName),
    version: checked(versionMessage),
    zip: z.string().min(1, "the zip path is empty").optional(),
    s3: z
      .string()
      .regex(S3_URL, 'expected "s3://BUCKET/KEY" (a bucket in the same Region as the function)')
      .optional(),
    runtime: z.string().regex(RUNTIME, 'expected a Lambda runtime identifier such as "nodejs22.x"').optional(),
    handler: z.string().regex(HANDLER, "expected a handler of 1-128 characters without spaces").optional(),
    architecture: z
      .enum(["x86_64", "arm64"], { message: 'expected "x86_64" or "arm64"' })
      .optional(),
    layers: z
      .array(
        z
          .string()
          .regex(
            LAYER_ARN,
            "expected a layer version ARN: arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION",
          ),
      )
      .max(MAX_LAYERS, `a function has at most ${MAX_LAYERS} layers`)
      .optional(),
    description: z.string().max(MAX_DESCRIPTION_LENGTH).optional(),
  })
  .superRefine(
    (entry, ctx) => {
      const zip = entry.zip !== undefined;
      const s3 = entry.s3 !== undefined;
      if (zip === s3) {
        ctx.addIssue({
          code: "custom",
          path: [],
          message: zip ? 'give either "zip" or "s3", not both' : 'missing the package: give "zip" or "s3"',
        });
      }
    },
    { when: () => true },
  );

type PublishEntry = z.infer<typeof publishEntrySchema>;
const ENTRY_KEYS = Object.keys(publishEntrySchema.shape);

/** The spec of a validated entry. */
function toSpec(entry: PublishEntry, baseDir: string | undefined, description?: string): PublishSpec {
  const s3 = entry.s3 === undefined ? undefined : S3_URL.exec(entry.s3);
  const zipPath = entry.zip ?? "";
  const code: PublishCode = s3
    ? { kind: "s3", bucket: s3[1]!, key: s3[2]! }
    : { kind: "zip", path: baseDir && !isAbsolute(zipPath) ? join(baseDir, zipPath) : zipPath };
  const spec: PublishSpec = { function: entry.function, version: entry.version, code };
  if (entry.runtime !== undefined) spec.runtime = entry.runtime;
  if (entry.handler !== undefined) spec.handler = entry.handler;
  if (entry.architecture !== undefined) spec.architecture = entry.architecture;
  if (entry.layers !== undefined) spec.layers = [...entry.layers];
  const provenance = entry.description ?? description;
  if (provenance !== undefined) spec.description = provenance;
  return spec;
}

/* ------------------------------------------------------------------------------------------------
 * From flags
 * --------------------------------------------------------------------------------------------- */

export interface PublishFlags {
  function?: string;
  version?: string;
  zip?: string;
  s3?: string;
  runtime?: string;
  handler?: string;
  architecture?: string;
  /** Repeated `--layer ARN`; `--layer none` (alone) removes every layer. */
  layers?: string[];
  description?: string;
}

const FLAG_OF_KEY: Record<string, string> = { function: "--function", layers: "--layer" };
const flagOf = (key: PropertyKey | undefined) =>
  key === undefined ? "" : (FLAG_OF_KEY[String(key)] ?? `--${String(key)}`);

/** Validate the single-function flags. Problems are located at the command line and name the flag. */
export function publishRequestFromFlags(
  flags: PublishFlags,
  allowedPrefixes: readonly string[],
): PublishRequestResult {
  const layers = flags.layers?.length === 1 && flags.layers[0] === "none" ? [] : flags.layers;
  const input = Object.fromEntries(
    Object.entries({ ...flags, layers }).filter(([, value]) => value !== undefined),
  );
  const parsed = publishEntrySchema.safeParse(input);
  const refused =
    typeof flags.function === "string" && checkFunctionName(flags.function) === undefined
      ? checkPolicy(
          { file: COMMAND_LINE, functions: [{ name: flags.function, index: 0, at: { line: 1, column: 1 } }] },
          allowedPrefixes,
          () => "--function",
        )
      : [];
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => ({
      file: COMMAND_LINE,
      line: 1,
      column: 1,
      path: issue.path.length === 0 && /package/.test(issue.message) ? "--zip/--s3" : flagOf(issue.path[0]),
      message:
        issue.code === "invalid_type" && issue.path.length === 1 && input[String(issue.path[0])] === undefined
          ? "is required"
          : issue.message,
    }));
    return { ok: false, problems: [...refused, ...problems] };
  }
  if (refused.length > 0) return { ok: false, problems: refused };
  return { ok: true, specs: [toSpec(parsed.data, undefined)] };
}

/** What a manifest entry's key holds, in a problem's words (never the validator's own text). */
function expectedEntryValue(key: PropertyKey | undefined, expected: string): string {
  switch (key) {
    case "function":
      return "a function name (a string)";
    case "version":
      return 'a version string such as "1.4.2"';
    case "zip":
      return "a path to the zip (a string)";
    case "s3":
      return 'an S3 URL such as "s3://bucket/key.zip"';
    case "layers":
      return "an array of layer version ARNs";
    default:
      if (typeof key === "number") return 'an object with "function", "version" and "zip" or "s3"';
      return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
  }
}

/* ------------------------------------------------------------------------------------------------
 * From a manifest
 * --------------------------------------------------------------------------------------------- */

const manifestSchema = z.array(publishEntrySchema).min(1, "the manifest lists no functions");

/**
 * Parse and validate a manifest (a positioned document: document.ts). `description` (the
 * `--description` flag) is the provenance of every entry that has none of its own. Duplicate
 * functions are refused: one run publishes each function once.
 */
export function parsePublishManifest(
  text: string,
  file: string,
  allowedPrefixes: readonly string[],
  options: { description?: string } = {},
): PublishRequestResult {
  const read = readDocument(text, file, {
    format: definitionFormat(file),
    maxBytes: MAX_DEFINITION_BYTES,
    maxBytesLabel: "1 MiB",
    emptyMessage: "the file is empty: expected a list of functions to publish",
  });
  if (!read.ok) return { ok: false, problems: read.problems };
  const { document, problems } = read;
  const { data } = document;
  const at = (path: Path, message: string) => problemAt(document, locate(document, path).node, path, message);

  const parsed = manifestSchema.safeParse(data);
  for (const issue of parsed.success ? [] : parsed.error.issues) {
    const path = issue.path;
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        const located = locate(document, [...path, key]);
        problems.push(problemAt(document, located.key, [...path, key], unknownKeyMessage(key, ENTRY_KEYS)));
      }
    } else if (path.length === 0 && issue.code === "invalid_type") {
      problems.push(at([], "expected a list of functions to publish"));
    } else if (issue.code === "invalid_type" && !valueAt(data, path).present) {
      const parent = path.slice(0, -1);
      problems.push(at(parent, `missing required key ${JSON.stringify(String(path.at(-1)))}`));
    } else if (issue.code === "invalid_type") {
      const found = valueAt(data, path);
      problems.push(at(path, `expected ${expectedEntryValue(path.at(-1), issue.expected)}, found ${found.present ? describeValue(found.value) : "nothing"}`));
    } else {
      problems.push(at(path, issue.message));
    }
  }

  // The policy and duplicates are checked on every well-formed name, even when other entries are invalid.
  const named: NamedEntry[] = [];
  const first = new Map<string, number>();
  (Array.isArray(data) ? data : []).forEach((entry: unknown, index) => {
    const name = valueAt(entry, ["function"]);
    if (!name.present || typeof name.value !== "string" || checkFunctionName(name.value) !== undefined) return;
    const path = [index, "function"];
    const position = positionOf(document, locate(document, path).node);
    named.push({ name: name.value, index, at: position });
    const earlier = first.get(name.value);
    if (earlier === undefined) first.set(name.value, position.line);
    else problems.push(at(path, `function ${quoteValue(name.value)} is listed more than once (first at line ${earlier})`));
  });
  problems.push(...checkPolicy({ file, functions: named }, allowedPrefixes, (index) => `[${index}].function`));
  if (problems.length > 0 || !parsed.success) return { ok: false, problems: sortProblems(problems) };
  const baseDir = dirname(file);
  return { ok: true, specs: parsed.data.map((entry) => toSpec(entry, baseDir, options.description)) };
}
