/**
 * `--target NAME` (repeatable): limit a run to some functions of the definition. A name that is
 * not in the file is an error (with the nearest name), never silently nothing. A targeted member of
 * a release set (`group`) brings every member of its group: a group moves together or not at all.
 * Pure.
 */
import type { Definition } from "./definitions.ts";
import { closestKey } from "../core/suggest.ts";

export type Targeted = { ok: true; definition: Definition } | { ok: false; problems: string[] };

export function selectTargets(definition: Definition, targets: readonly string[] | undefined): Targeted {
  if (targets === undefined || targets.length === 0) return { ok: true, definition };
  const names = definition.functions.map((f) => f.name);
  const problems = targets
    .filter((t) => !names.includes(t))
    .map((t) => {
      const near = closestKey(t, names);
      return `--target ${t}: no function of that name in ${definition.file}${near ? `; did you mean ${near}?` : ""}`;
    });
  if (problems.length > 0) return { ok: false, problems };
  const groups = new Set(definition.functions.filter((f) => targets.includes(f.name)).flatMap((f) => f.group ?? []));
  const wanted = (f: Definition["functions"][number]) =>
    targets.includes(f.name) || (f.group !== undefined && groups.has(f.group));
  return { ok: true, definition: { ...definition, functions: definition.functions.filter(wanted) } };
}
