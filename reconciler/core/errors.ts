/**
 * One errors module for the whole reconciler. Run-level faults are thrown as these classes;
 * per-function outcomes are values (see plan.ts and apply.ts), never exceptions.
 */

/** Normalise anything thrown into an Error without `as Error` casts. */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  if (typeof value === "string") return new Error(value);
  try {
    return new Error(JSON.stringify(value));
  } catch {
    return new Error(String(value));
  }
}

/**
 * The name of anything thrown: the AWS error code for SDK errors (`ResourceNotFoundException`),
 * the original code for an AwsCallError, "" when there is none. The one way to ask "which error?".
 */
export function errorName(value: unknown): string {
  if (value instanceof AwsCallError) return value.errorName;
  if (typeof value !== "object" || value === null || !("name" in value)) return "";
  return typeof value.name === "string" ? value.name : "";
}

/** The message of anything thrown ("" when there is none), without `as Error` casts. */
export function errorMessage(value: unknown): string {
  if (typeof value !== "object" || value === null || !("message" in value)) return "";
  return typeof value.message === "string" ? value.message : "";
}

/** A short, log-safe description of an error: its name and message, never request payloads. */
export function describeError(value: unknown): string {
  const error = toError(value);
  // Our own errors' messages already say what happened; SDK errors need their name (the AWS code).
  const own = error instanceof LambdaGitopsError;
  const name = !own && error.name && error.name !== "Error" ? `${error.name}: ` : "";
  return `${name}${error.message}`;
}

export class LambdaGitopsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A problem found in a file, with where it is. Rendered as `FILE:LINE:COL: path: message`. */
export interface Problem {
  file: string;
  line: number;
  column: number;
  /** The field, e.g. `lambdas[3].version`; empty for the document itself. */
  path: string;
  message: string;
}

/** A path into a document or a zod value: map keys and sequence indexes. */
export type Path = readonly PropertyKey[];

/**
 * The one rendering of a path in a message (Problem.path, zod issues):
 * ["lambdas", 3, "version"] -> "lambdas[3].version"; unusual keys are bracketed: `a["b c"]`.
 */
export function renderPath(path: Path): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(String(segment)))
      out += out ? `.${String(segment)}` : String(segment);
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

export function formatProblem(problem: Problem): string {
  const where = `${problem.file}:${problem.line}:${problem.column}`;
  return problem.path ? `${where}: ${problem.path}: ${problem.message}` : `${where}: ${problem.message}`;
}

/** An AWS call failed in a way the caller cannot treat as "absent". */
export class AwsCallError extends LambdaGitopsError {
  readonly operation: string;
  readonly errorName: string;
  readonly httpStatus: number | undefined;
  constructor(operation: string, cause: unknown) {
    const error = toError(cause);
    const status = httpStatusOf(cause);
    super(`${operation} failed: ${describeError(error)}`, { cause });
    this.operation = operation;
    this.errorName = error.name;
    this.httpStatus = status;
  }
}

/** The HTTP status an SDK error carries in `$metadata` (or an AwsCallError kept), if any. */
export function httpStatusOf(value: unknown): number | undefined {
  if (value instanceof AwsCallError) return value.httpStatus;
  if (typeof value !== "object" || value === null || !("$metadata" in value)) return undefined;
  const metadata: unknown = value.$metadata;
  if (typeof metadata !== "object" || metadata === null || !("httpStatusCode" in metadata)) return undefined;
  return typeof metadata.httpStatusCode === "number" ? metadata.httpStatusCode : undefined;
}
