/**
 * The stack's pin: what the deployed stack (infra/reconciler.yaml, infra/pr-plan.yaml) says in the
 * function's environment, which neither the invocation event nor the pipeline's UserParameters can
 * widen. Pure: environment in, decisions out.
 *
 * - `PIPELINE_NAMES`: the pipelines whose jobs the reconciler serves (comma-separated). A job that
 *   CodePipeline reports for another pipeline is refused.
 * - `ALLOWED_PREFIXES`: the prefixes the security team allows (comma-separated). UserParameters may
 *   narrow them (each of its prefixes must start with one of these), never widen them.
 * - `PROTECTED_FUNCTIONS` (comma-separated) and `AWS_LAMBDA_FUNCTION_NAME` (set by Lambda): functions
 *   lambda-gitops never touches, even when a prefix matches them.
 *
 * Outside the stack (local runs, tests) the variables are absent and the pin is open: the job as
 * GetJobDetails reports it and its UserParameters alone decide. A variable that is set but invalid
 * (empty, a bad prefix) is a problem: the pin fails closed.
 */
import type { Problem } from "../core/errors.ts";
import { PREFIX } from "./parameters.ts";

export interface Pin {
  /** Pipelines served; undefined: not pinned (any pipeline GetJobDetails reports). */
  pipelineNames: readonly string[] | undefined;
  /** The stack's allowed prefixes; undefined: not pinned (UserParameters decide). */
  allowedPrefixes: readonly string[] | undefined;
  /** Functions never touched: this function itself and the stack's other lambda-gitops functions. */
  protectedFunctions: readonly string[];
  /** This function's own name (AWS_LAMBDA_FUNCTION_NAME), when running in Lambda. */
  self: string | undefined;
}

export const OPEN_PIN: Pin = {
  pipelineNames: undefined,
  allowedPrefixes: undefined,
  protectedFunctions: [],
  self: undefined,
};

const PIPELINE_NAME = /^[A-Za-z0-9.@_-]{1,100}$/;
const FUNCTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export type PinResult = { ok: true; pin: Pin } | { ok: false; problems: string[] };

/** Splits a comma-separated variable; undefined when the variable is absent. */
function list(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value.split(",").map((item) => item.trim());
}

/** Reads the pin from the environment; a set but invalid variable is a problem (fail closed). */
export function readPin(env: Record<string, string | undefined>): PinResult {
  const problems: string[] = [];
  const check = (name: string, items: string[] | undefined, pattern: RegExp, what: string) => {
    if (items === undefined) return undefined;
    const bad = items.filter((item) => !pattern.test(item));
    if (items.length === 0 || bad.length > 0) {
      problems.push(
        `${name}: ${bad.map((b) => `"${b}"`).join(", ") || "(empty)"} is not ${what}; the variable is set, so it must list at least one valid value`,
      );
    }
    return items;
  };
  const pipelineNames = check("PIPELINE_NAMES", list(env.PIPELINE_NAMES), PIPELINE_NAME, "a pipeline name");
  const allowedPrefixes = check(
    "ALLOWED_PREFIXES",
    list(env.ALLOWED_PREFIXES),
    PREFIX,
    "an allowed prefix (2-63 letters, digits, '-' or '_', ending with '-' or '_')",
  );
  // Protecting nothing more than this function is harmless: an empty list is allowed.
  const protectedNames = list(env.PROTECTED_FUNCTIONS)?.filter((name) => name !== "");
  const named =
    protectedNames && protectedNames.length > 0
      ? check("PROTECTED_FUNCTIONS", protectedNames, FUNCTION_NAME, "a function name")
      : [];
  if (problems.length > 0) return { ok: false, problems };
  const self = env.AWS_LAMBDA_FUNCTION_NAME;
  const protectedFunctions = [...new Set([...(self ? [self] : []), ...(named ?? [])])];
  return { ok: true, pin: { pipelineNames, allowedPrefixes, protectedFunctions, self: self || undefined } };
}

export type PipelineCheck = { ok: true } | { ok: false; reason: string };

/** Is a job of `pipelineName` (as GetJobDetails reports it) one this stack serves? */
export function checkPipeline(pin: Pin, pipelineName: string | undefined): PipelineCheck {
  if (pin.pipelineNames === undefined) return { ok: true };
  if (pipelineName !== undefined && pin.pipelineNames.includes(pipelineName)) return { ok: true };
  const served = pin.pipelineNames.map((n) => `"${n}"`).join(", ");
  return {
    ok: false,
    reason:
      pipelineName === undefined
        ? `CodePipeline reports no pipeline for this job; this reconciler serves only ${served} (PIPELINE_NAMES)`
        : `the job belongs to pipeline "${pipelineName}"; this reconciler serves only ${served} (PIPELINE_NAMES)`,
  };
}

/** The function name of an Invoke action's `FunctionName` (a name, a qualified name or an ARN). */
export function functionNameOf(value: string): string {
  const arn = /^arn:[^:]+:lambda:[^:]*:\d{12}:function:([^:]+)/.exec(value);
  return arn ? arn[1]! : (value.split(":")[0] ?? value);
}

/**
 * Is the job's action (as GetJobDetails reports it) an invocation of this very function? A job of
 * another Invoke action (another function's job id replayed at this one) is refused.
 */
export function checkActionTarget(pin: Pin, actionFunctionName: string | undefined): PipelineCheck {
  if (pin.self === undefined || actionFunctionName === undefined) return { ok: true };
  const target = functionNameOf(actionFunctionName);
  return target === pin.self
    ? { ok: true }
    : {
        ok: false,
        reason: `the job's action invokes function "${target}", not this one ("${pin.self}")`,
      };
}

/**
 * The prefixes to enforce: those of UserParameters, each of which must fall inside one of the
 * stack's (narrowing is fine: "team-a-orders-" inside "team-a-"; "team-" or "team-b-" widens).
 */
export function narrowPrefixes(
  pin: Pin,
  requested: readonly string[],
  source = "UserParameters",
): { ok: true; prefixes: readonly string[] } | { ok: false; problems: Problem[] } {
  const stack = pin.allowedPrefixes;
  if (stack === undefined) return { ok: true, prefixes: requested };
  const allowedBy = stack.map((p) => `"${p}"`).join(", ");
  const problems = requested.flatMap((prefix, index): Problem[] =>
    stack.some((s) => prefix.startsWith(s))
      ? []
      : [
          {
            file: source,
            line: 1,
            column: 1,
            path: `allowedPrefixes[${index}]`,
            message: `prefix "${prefix}" is not allowed by the stack (ALLOWED_PREFIXES: ${allowedBy}); UserParameters may narrow the stack's prefixes, never widen them`,
          },
        ],
  );
  return problems.length > 0 ? { ok: false, problems } : { ok: true, prefixes: requested };
}
