/**
 * The prefix policy: every function name must start with one of the allowed prefixes, exactly
 * and case-sensitively. A single violation fails the whole definition before any AWS call.
 * Names are already restricted to [A-Za-z0-9_-] by the definition schema, so ARNs, qualifiers,
 * whitespace and Unicode look-alikes never reach this check; it still compares raw code units
 * and normalises nothing, so it fails closed on its own.
 */
import type { NamedEntry } from "./definitions.ts";
import type { Problem } from "../core/errors.ts";

export function isAllowed(name: string, allowedPrefixes: readonly string[]): boolean {
  return allowedPrefixes.some((prefix) => prefix.length > 0 && name.startsWith(prefix));
}

/** Problems for every function outside the allowlist (empty when all are allowed). */
export function checkPolicy(
  definition: { file: string; functions: readonly NamedEntry[] },
  allowedPrefixes: readonly string[],
  /** The field that names the function, for an entry's index (publish manifests differ). */
  pathOf: (index: number) => string = (index) => `lambdas[${index}].name`,
): Problem[] {
  const allowed = allowedPrefixes.map((p) => `"${p}"`).join(", ");
  return definition.functions
    .filter((fn) => !isAllowed(fn.name, allowedPrefixes))
    .map((fn) => ({
      file: definition.file,
      line: fn.at.line,
      column: fn.at.column,
      path: pathOf(fn.index),
      message:
        allowedPrefixes.length === 0
          ? `function "${fn.name}" is refused: no prefixes are allowed`
          : `function "${fn.name}" is outside the allowed prefixes (${allowed}): the reconciler may not touch it`,
    }));
}

/**
 * Problems for every function lambda-gitops must never touch (its own function, the stack's other
 * lambda-gitops functions), whatever the prefixes say: defence in depth next to IAM's explicit Deny,
 * refused before any AWS call.
 */
export function checkProtected(
  definition: { file: string; functions: readonly NamedEntry[] },
  protectedFunctions: readonly string[],
): Problem[] {
  return definition.functions
    .filter((fn) => protectedFunctions.includes(fn.name))
    .map((fn) => ({
      file: definition.file,
      line: fn.at.line,
      column: fn.at.column,
      path: `lambdas[${fn.index}].name`,
      message: `function "${fn.name}" is lambda-gitops itself (AWS_LAMBDA_FUNCTION_NAME / PROTECTED_FUNCTIONS): it never changes its own functions, even when a prefix matches`,
    }));
}
