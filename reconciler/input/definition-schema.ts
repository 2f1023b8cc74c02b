/**
 * The shape of the definition file (lambdas.json / lambdas.yaml), as a zod schema.
 * Messages are written for people editing the file; definitions.ts adds positions.
 * The JSON Schema for editors (definitions/lambdas.schema.json) is generated from this module.
 */
import { z } from "zod";
import { rolloutFieldSchema, rolloutObjectSchema } from "./rollout-schema.ts";
import { checkTwoDecimals } from "./traffic.ts";
import { checkVersion, MAX_ALIAS_LENGTH, quoteValue } from "./versions.ts";
import { checkRegion, REGION_PATTERN } from "../core/regions.ts";

export const MAX_FUNCTION_NAME_LENGTH = 64;
/** A plain Lambda function name: no ARN, no ":qualifier". */
export const FUNCTION_NAME_PATTERN = "^[A-Za-z0-9_-]{1,64}$";
/** Strict semver without build metadata (JSON Schema's copy of checkVersion, for editors). */
export const VERSION_PATTERN =
  "^(?:0|[1-9]\\d*)\\.(?:0|[1-9]\\d*)\\.(?:0|[1-9]\\d*)" +
  "(?:-(?:0|[1-9]\\d*|\\d*[A-Za-z-][0-9A-Za-z-]*)(?:\\.(?:0|[1-9]\\d*|\\d*[A-Za-z-][0-9A-Za-z-]*))*)?$";

const NAME_CHAR = /^[A-Za-z0-9_-]$/;

/** A release-set name: Lambda's alias-name pattern (letters, digits, "-", "_"; not only digits; 1-128). */
export const GROUP_NAME_PATTERN = "^(?!\\d+$)[A-Za-z0-9_-]{1,128}$";

/** Why a group name is not usable, or undefined when it is. */
export function checkGroupName(name: string): string | undefined {
  if (new RegExp(GROUP_NAME_PATTERN).test(name)) return undefined;
  return (
    `${quoteValue(name)} is not a group name: use 1-128 letters A-Z and a-z, digits, "-" and "_" ` +
    "(not only digits), as in an alias name"
  );
}

/** Why a function name is not usable, or undefined when it is. */
export function checkFunctionName(name: string): string | undefined {
  if (name === "") return "the function name is empty";
  if (name.includes(":")) return qualifiedNameMessage(name);
  const bad = [...new Set([...name].filter((char) => !NAME_CHAR.test(char)))];
  if (bad.length > 0) {
    const described = bad.slice(0, 3).map(describeChar);
    if (bad.length > 3) described.push("others");
    const listed =
      described.length > 1 ? `${described.slice(0, -1).join(", ")} and ${described.at(-1)}` : described[0];
    return (
      `${quoteValue(name)} contains ${listed}, which ${bad.length > 1 ? "are" : "is"} not allowed ` +
      'in a function name: use letters A-Z and a-z, digits, "-" and "_"'
    );
  }
  if (name.length > MAX_FUNCTION_NAME_LENGTH) {
    return (
      `${quoteValue(name)} is ${name.length} characters long: ` +
      `a function name is at most ${MAX_FUNCTION_NAME_LENGTH} characters`
    );
  }
  return undefined;
}

function qualifiedNameMessage(name: string): string {
  const arnName = /(?:^|:)function:([^:]+)/.exec(name)?.[1];
  if (arnName !== undefined) {
    const suggestion = checkFunctionName(arnName) === undefined ? ` (${JSON.stringify(arnName)})` : "";
    return `${quoteValue(name)} is an ARN: use the plain function name${suggestion}`;
  }
  const colon = name.indexOf(":");
  const base = name.slice(0, colon);
  const suggestion = checkFunctionName(base) === undefined ? ` ${JSON.stringify(base)}` : "";
  return (
    `${quoteValue(name)} has a qualifier (${JSON.stringify(name.slice(colon))}): ` +
    `use the plain function name${suggestion}; the reconciler manages aliases itself`
  );
}

function describeChar(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  return `${JSON.stringify(char)} (U+${code.toString(16).toUpperCase().padStart(4, "0")})`;
}

/** Why a canary weight is not usable, or undefined when it is. Weight is a percentage of traffic. */
export function checkCanaryWeight(weight: number): string | undefined {
  if (weight <= 0) {
    return `the canary weight must be greater than 0 (found ${weight}); to stop a canary, remove "canary"`;
  }
  if (weight >= 100) {
    return (
      `the canary weight must be less than 100 (found ${weight}); to send all traffic to the canary ` +
      'version, make it the "version" and remove "canary"'
    );
  }
  return checkTwoDecimals(weight, "the canary weight");
}

/** Checks a string with `check` (which returns a message or undefined). */
function checkedString(check: (value: string) => string | undefined) {
  return z.string().check((ctx) => {
    const message = check(ctx.value);
    if (message !== undefined) ctx.issues.push({ code: "custom", message, input: ctx.value });
  });
}

function versionMessage(value: string): string | undefined {
  const result = checkVersion(value);
  return result.ok ? undefined : result.message;
}

const versionField = (title: string, description: string) =>
  checkedString(versionMessage).meta({
    title,
    description,
    pattern: VERSION_PATTERN,
    maxLength: MAX_ALIAS_LENGTH,
    examples: ["1.4.2", "2.0.0-rc.1"],
  });

/** A non-empty list of known Regions, each listed once (duplicates are reported by definitions.ts). */
const regionsField = (title: string, description: string) =>
  z
    .array(checkedString(checkRegion).meta({ pattern: REGION_PATTERN, examples: ["eu-west-1"] }))
    .min(1, 'list at least one Region, or remove "regions"')
    .meta({ title, description, uniqueItems: true, examples: [["us-east-1", "eu-west-1"]] });

export const canarySchema = z
  .strictObject({
    version: versionField(
      "Canary version",
      "The version that receives `weight` percent of the traffic; must differ from `version`.",
    ),
    weight: z
      .number()
      .check((ctx) => {
        const message = checkCanaryWeight(ctx.value);
        if (message !== undefined) ctx.issues.push({ code: "custom", message, input: ctx.value });
      })
      .meta({
        title: "Canary weight",
        description:
          "Percentage of traffic sent to the canary version: greater than 0, less than 100, " +
          "at most two decimal places (e.g. 10 or 2.5).",
        exclusiveMinimum: 0,
        exclusiveMaximum: 100,
        examples: [10, 2.5],
      }),
  })
  .meta({
    title: "Canary",
    description:
      "Optional weighted rollout: `weight` percent of traffic goes to `version`, the rest to the entry's version.",
  });

/** The message when a canary targets the entry's own version; tolerant of raw, unvalidated input. */
function canaryClash(entry: unknown): string | undefined {
  if (typeof entry !== "object" || entry === null) return undefined;
  const version: unknown = Object.hasOwn(entry, "version") ? Reflect.get(entry, "version") : undefined;
  const canary: unknown = Object.hasOwn(entry, "canary") ? Reflect.get(entry, "canary") : undefined;
  if (typeof version !== "string" || !checkVersion(version).ok) return undefined;
  if (typeof canary !== "object" || canary === null || !Object.hasOwn(canary, "version")) return undefined;
  if (Reflect.get(canary, "version") !== version) return undefined;
  return `the canary version is the same as "version" (${JSON.stringify(version)}): a canary must use a different version`;
}

export const lambdaEntrySchema = z
  .strictObject({
    name: checkedString(checkFunctionName).meta({
      title: "Function name",
      description:
        "The plain Lambda function name (1-64 letters, digits, '-' or '_'): no ARN and no ':qualifier'. " +
        "Each function may be listed once.",
      pattern: FUNCTION_NAME_PATTERN,
      examples: ["team-a-orders"],
    }),
    version: versionField(
      "Live version",
      "The semantic version that should be live (MAJOR.MINOR.PATCH[-PRERELEASE], no 'v' prefix, " +
        "no '+build'). It is published as the alias named after it: 1.2.0-rc.1 -> 1-2-0_rc-1.",
    ),
    canary: canarySchema.optional(),
    rollout: rolloutFieldSchema.optional(),
    regions: regionsField(
      "Regions",
      "The Regions this function is reconciled in; replaces the file's \"regions\" for this function.",
    ).optional(),
    group: checkedString(checkGroupName)
      .meta({
        title: "Release set",
        description:
          "Functions with the same group move together: every member is staged before any LIVE moves, " +
          "and a failed member brings the moved ones back. Members may declare different versions, " +
          "but must share one rollout. Same pattern as an alias name.",
        pattern: GROUP_NAME_PATTERN,
        maxLength: MAX_ALIAS_LENGTH,
        examples: ["orders"],
      })
      .optional(),
  })
  .superRefine(
    (entry, ctx) => {
      const message = canaryClash(entry);
      if (message !== undefined) ctx.addIssue({ code: "custom", path: ["canary", "version"], message });
    },
    // Run even when other fields of the entry are wrong, so that every problem is reported at once.
    { when: () => true },
  )
  .meta({ title: "Function", description: "One Lambda function and the version that should be live." });

export const definitionSchema = z
  .strictObject({
    $schema: z.string().optional().meta({
      title: "JSON Schema",
      description:
        "Path or URL of this JSON Schema, for editor completion and validation. Ignored by the reconciler.",
    }),
    rollout: rolloutObjectSchema.optional().meta({
      title: "Default rollout",
      description:
        'The rollout of every function that has no "rollout" of its own (see definitions/README.md, Rollouts).',
    }),
    regions: regionsField(
      "Default Regions",
      "The Regions every function without \"regions\" of its own is reconciled in. Without either, " +
        "a function is reconciled in the Region of the run.",
    ).optional(),
    lambdas: z.array(lambdaEntrySchema).meta({
      title: "Functions",
      description: "The Lambda functions this environment manages. May be empty.",
    }),
  })
  .meta({
    title: "lambda-gitops definition",
    description: "Which semantic version of each AWS Lambda function should be live.",
  });

export type DefinitionFile = z.infer<typeof definitionSchema>;
export type LambdaEntry = z.infer<typeof lambdaEntrySchema>;
export type CanaryEntry = z.infer<typeof canarySchema>;

/** The keys allowed in the object at `path` (zod issue path), or [] when there is no object there. */
export function allowedKeysAt(path: readonly PropertyKey[]): string[] {
  let schema: unknown = definitionSchema;
  for (const segment of path) {
    schema = objectOption(schema);
    if (
      schema instanceof z.ZodObject &&
      typeof segment === "string" &&
      Object.hasOwn(schema.shape, segment)
    ) {
      schema = schema.shape[segment];
    } else if (schema instanceof z.ZodArray && typeof segment === "number") {
      schema = schema.element;
    } else {
      return [];
    }
  }
  schema = objectOption(schema);
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

/** Unwraps optional, and picks the object of a union such as `"all-at-once" | { ... }`. */
function objectOption(schema: unknown): unknown {
  let current = schema instanceof z.ZodOptional ? schema.unwrap() : schema;
  if (current instanceof z.ZodUnion) {
    current = (current.options as unknown[]).find((option) => option instanceof z.ZodObject) ?? current;
  }
  return current;
}

/** The JSON Schema (draft 2020-12) of the definition file, for editors. */
export function definitionJsonSchema(): object {
  return z.toJSONSchema(definitionSchema, { io: "input", target: "draft-2020-12" });
}

/** The committed form of the JSON Schema (definitions/lambdas.schema.json): pretty, with a final newline. */
export function definitionJsonSchemaText(): string {
  return `${JSON.stringify(definitionJsonSchema(), null, 2)}\n`;
}
