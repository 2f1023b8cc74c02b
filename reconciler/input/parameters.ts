/**
 * Job parameters: the settings a security team fixes in the pipeline's `UserParameters` JSON, and
 * the same settings given as CLI flags. Validated strictly with zod: unknown keys are errors, and
 * the prefix allowlist can never be empty or contain an empty prefix (that would allow everything).
 */
import { LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import { type Problem, renderPath } from "../core/errors.ts";
import { findJsonSyntaxError } from "./json-syntax.ts";
import { LAMBDA_QUOTAS } from "../core/lambda-quotas.ts";
import { closestKey } from "../core/suggest.ts";
import { aliasToVersion } from "./versions.ts";

/** CodePipeline caps each action configuration value at 1000 characters. */
export const MAX_USER_PARAMETERS_LENGTH = 1000;

/**
 * A prefix ends with '-' or '_' and has at least one character before it: "team-a" would also
 * match "team-admin", and "-" alone would match every hyphenated name.
 */
export const PREFIX = /^[A-Za-z0-9_-]{1,62}[-_]$/;
const ALIAS = /^(?!^[0-9]+$)[A-Za-z0-9_-]{1,128}$/;
const ROLE_ARN = /^arn:aws(-[a-z]+)*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

const prefix = z
  .string()
  .regex(
    PREFIX,
    "a prefix is 2-63 characters of letters, digits, '-' or '_' and ends with '-' or '_' (\"team-a\" would also match \"team-admin\"; an empty prefix would allow every function)",
  );

const liveAlias = z
  .string()
  .regex(ALIAS, "an alias name is 1-128 letters, digits, '-' or '_', and not only digits")
  .refine((name) => aliasToVersion(name) === undefined, {
    message: 'the LIVE alias must not look like a version alias (e.g. "1-2-3"): the two would collide',
  });

const definitionFile = z
  .string()
  .min(1)
  .max(512)
  .refine((p) => !p.startsWith("/") && !p.includes("\\") && !p.split("/").includes(".."), {
    message: "must be a relative path inside the source artifact (no leading '/', no '..', no '\\')",
  });

export const jobParametersSchema = z.strictObject({
  allowedPrefixes: z
    .array(prefix)
    .min(
      1,
      "at least one prefix is required: the reconciler refuses to touch functions outside the allowlist",
    )
    .max(50),
  sourceRoleArn: z
    .string()
    .regex(ROLE_ARN, "expected an IAM role ARN: arn:aws:iam::123456789012:role/name")
    .optional(),
  externalId: z
    .string()
    .regex(EXTERNAL_ID, "an external id is 2-1224 characters of letters, digits and +=,.@:/-")
    .optional(),
  liveAlias: liveAlias.default("LIVE"),
  definitionFile: definitionFile.default("lambdas.json"),
  concurrency: z.int().min(1).max(64).default(4),
  region: z.string().regex(REGION, "expected an AWS region such as eu-west-1").optional(),
  stagingBucket: z.string().regex(BUCKET, "expected an S3 bucket name").optional(),
  maxRounds: z.int().min(1).max(100).default(10),
  /** Requests/s budgeted for Lambda's shared control-plane quota (15/s); default 14 (scheduler.ts). */
  controlRate: z.number().positive().max(LAMBDA_QUOTAS.control).optional(),
  /** Requests/s budgeted for GetFunction's own quota (100/s); default 90. */
  getFunctionRate: z.number().positive().max(LAMBDA_QUOTAS.getFunction).optional(),
  /** Memory for package transfers in flight (download -> upload), MiB; default 256 (transfer-budget.ts). */
  transferBudgetMiB: z.int().min(1).max(8192).optional(),
});

export type JobParameters = z.output<typeof jobParametersSchema>;
export type JobParametersInput = z.input<typeof jobParametersSchema>;

export type ParametersResult = { ok: true; parameters: JobParameters } | { ok: false; problems: Problem[] };

const KNOWN_KEYS = Object.keys(jobParametersSchema.shape);

/** The 12-digit account of a role ARN (the source account promoted code comes from). */
export function accountOfRoleArn(arn: string): string | undefined {
  return /^arn:[^:]+:iam::(\d{12}):/.exec(arn)?.[1];
}

/** Validate already-parsed settings (CLI flags); problems name the setting, located at 1:1 of `source`. */
export function validateParameters(value: unknown, source: string): ParametersResult {
  return validated(value, source, () => ({ line: 1, column: 1 }));
}

/** The one validation of settings, however they were given; `at` places each problem. */
function validated(
  value: unknown,
  source: string,
  at: (issue: Issue) => { line: number; column: number },
): ParametersResult {
  const parsed = jobParametersSchema.safeParse(value);
  if (parsed.success) return { ok: true, parameters: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map((issue) => ({
      file: source,
      ...at(issue),
      path: issuePath(issue),
      message: issueMessage(issue, value),
    })),
  };
}

/**
 * Parse the pipeline action's `UserParameters` string. JSON only; duplicate keys are errors (a
 * reviewer would read one prefix list and the reconciler would enforce another); every problem
 * carries the line and column inside the string.
 */
export function parseUserParameters(text: string | undefined, source = "UserParameters"): ParametersResult {
  const at = (line: number, column: number, path: string, message: string): ParametersResult => ({
    ok: false,
    problems: [{ file: source, line, column, path, message }],
  });
  if (text === undefined || text.trim() === "") {
    return at(1, 1, "", 'UserParameters is empty: it must be a JSON object with at least "allowedPrefixes"');
  }
  if (text.length > MAX_USER_PARAMETERS_LENGTH) {
    return at(
      1,
      1,
      "",
      `UserParameters is ${text.length} characters; CodePipeline allows at most ${MAX_USER_PARAMETERS_LENGTH}`,
    );
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true });
  const syntax = jsonSyntaxProblem(text, source, lineCounter);
  if (syntax) return { ok: false, problems: [syntax] };
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        const dup = /Map keys must be unique/.test(e.message);
        return {
          file: source,
          line: pos.line,
          column: pos.col,
          path: "",
          message: dup
            ? "duplicate key: each setting may appear once"
            : (e.message.split("\n")[0] ?? e.message),
        };
      }),
    };
  }
  return validated(JSON.parse(text), source, (issue) => {
    const node = doc.getIn(issue.path as (string | number)[], true) as
      | { range?: [number, number, number] }
      | undefined;
    const offset = unknownKeyNode(doc, issue) ?? node?.range?.[0] ?? doc.contents?.range?.[0] ?? 0;
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  });
}

function jsonSyntaxProblem(text: string, source: string, lineCounter: LineCounter): Problem | undefined {
  const issue = findJsonSyntaxError(text);
  if (!issue) return undefined;
  const pos = lineCounter.linePos(issue.offset);
  return { file: source, line: pos.line, column: pos.col, path: "", message: issue.message };
}

type Issue = z.core.$ZodIssue;

/** The setting's path; a single unknown key is named in it. */
function issuePath(issue: Issue): string {
  const single = issue.code === "unrecognized_keys" && issue.keys.length === 1;
  return renderPath(single ? [...issue.path, ...issue.keys] : issue.path);
}

function issueMessage(issue: Issue, input: unknown): string {
  if (issue.code === "unrecognized_keys") {
    return issue.keys
      .map((key) => {
        const suggestion = closestKey(key, KNOWN_KEYS);
        return suggestion
          ? `unknown setting "${key}": did you mean "${suggestion}"?`
          : `unknown setting "${key}" (known settings: ${KNOWN_KEYS.join(", ")})`;
      })
      .join("; ");
  }
  if (issue.code === "invalid_type" && !isPresent(input, issue.path)) return "is required";
  return issue.message;
}

function isPresent(input: unknown, path: readonly PropertyKey[]): boolean {
  let node: unknown = input;
  for (const key of path) {
    if (node === null || typeof node !== "object" || !Object.hasOwn(node, key)) return false;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return true;
}

function unknownKeyNode(doc: ReturnType<typeof parseDocument>, issue: Issue): number | undefined {
  if (issue.code !== "unrecognized_keys") return undefined;
  const map = (issue.path.length === 0 ? doc.contents : doc.getIn(issue.path as (string | number)[], true)) as
    | { items?: { key?: { value?: unknown; range?: [number, number, number] } }[] }
    | undefined;
  const item = map?.items?.find((pair) => pair.key?.value === issue.keys[0]);
  return item?.key?.range?.[0];
}
