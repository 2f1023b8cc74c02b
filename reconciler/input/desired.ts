/**
 * Stage: definition text + job parameters -> validated desired state. Pure: parse the file and
 * apply the prefix policy; every problem is collected (policy violations are found even in a file
 * with other problems), and nothing here touches AWS.
 */
import { type Definition, parseDefinition } from "./definitions.ts";
import type { Problem } from "../core/errors.ts";
import { checkPolicy, checkProtected } from "./policy.ts";
import { sortProblems } from "./document.ts";

export type DesiredResult = { ok: true; definition: Definition } | { ok: false; problems: Problem[] };

/** `protectedFunctions`: names refused whatever the prefixes (pin.ts: the reconciler's own function). */
export function loadDesired(
  text: string,
  file: string,
  allowedPrefixes: readonly string[],
  protectedFunctions: readonly string[] = [],
): DesiredResult {
  const parsed = parseDefinition(text, file);
  const refuse = (functions: Parameters<typeof checkPolicy>[0]) => [
    ...checkPolicy(functions, allowedPrefixes),
    ...checkProtected(functions, protectedFunctions),
  ];
  if (!parsed.ok) {
    const refused = refuse({ file, functions: parsed.named });
    return { ok: false, problems: sortProblems([...parsed.problems, ...refused]) };
  }
  const problems = sortProblems(refuse(parsed.definition));
  return problems.length > 0 ? { ok: false, problems } : { ok: true, definition: parsed.definition };
}
