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

export function formatProblem(problem: Problem): string {
  const where = `${problem.file}:${problem.line}:${problem.column}`;
  return problem.path ? `${where}: ${problem.path}: ${problem.message}` : `${where}: ${problem.message}`;
}

/** Invalid user input (definition file, job parameters, CLI flags, events). Lists every problem. */
export class InputError extends LambdaGitopsError {
  readonly problems: readonly Problem[];
  constructor(summary: string, problems: readonly Problem[]) {
    super(problems.length > 0 ? `${summary}\n${problems.map(formatProblem).join("\n")}` : summary);
    this.problems = problems;
  }
}

/** An AWS call failed in a way the caller cannot treat as "absent". */
export class AwsCallError extends LambdaGitopsError {
  readonly operation: string;
  readonly errorName: string;
  readonly httpStatus: number | undefined;
  constructor(operation: string, cause: unknown) {
    const error = toError(cause);
    const status = (cause as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
      ?.httpStatusCode;
    super(`${operation} failed: ${describeError(error)}`, { cause });
    this.operation = operation;
    this.errorName = error.name;
    this.httpStatus = status;
  }
}
