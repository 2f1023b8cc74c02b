/**
 * Stage: definition text + job parameters -> validated desired state. Pure: parse the file and
 * apply the prefix policy; every problem is collected (policy violations are found even in a file
 * with other problems), and nothing here touches AWS.
 */
import { type Definition, parseDefinition } from "./definitions.ts";
import type { Problem } from "../core/errors.ts";
import { checkPolicy } from "./policy.ts";
import { sortProblems } from "./document.ts";

export type DesiredResult = { ok: true; definition: Definition } | { ok: false; problems: Problem[] };

export function loadDesired(text: string, file: string, allowedPrefixes: readonly string[]): DesiredResult {
  const parsed = parseDefinition(text, file);
  if (!parsed.ok) {
    const refused = checkPolicy({ file, functions: parsed.named }, allowedPrefixes);
    return { ok: false, problems: sortProblems([...parsed.problems, ...refused]) };
  }
  const problems = checkPolicy(parsed.definition, allowedPrefixes);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, definition: parsed.definition };
}
