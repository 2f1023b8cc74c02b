/**
 * Drift: did someone move LIVE behind the reconciler's back, or did the file change? Pure.
 *
 * The marker in LIVE's description (./marker.ts) says what the reconciler last wrote: the routing
 * (primary function version and weights) and what the file declared then. Comparing three things
 * tells the cases apart:
 * - `in-sync`: LIVE routes as the marker says and the file still declares what the marker says;
 * - `file-changed`: LIVE routes as the marker says, but the file now declares something else: an
 *   ordinary change, the next apply moves LIVE;
 * - `drifted`: LIVE does not route as the marker says: someone moved it out of band (console, CLI,
 *   another tool). `fileChanged` says whether the file changed too; either way the next apply moves
 *   LIVE back to what the file declares, which may not be what its owner expects;
 * - `unknown`: there is no LIVE alias, or its description holds no marker (never written by this
 *   tool, or overwritten by hand): nothing to compare with.
 */
import { type Declared, declaredOf, sameDeclared } from "../input/definitions.ts";
import type { Live } from "../observe/live.ts";
import type { Marker } from "../observe/marker.ts";
import { aliasRouting } from "../observe/state.ts";
import { type AliasRouting, routingOfAlias, sameRouting } from "./routing.ts";

export type DriftVerdict =
  | { kind: "in-sync" }
  | { kind: "file-changed"; declared: Declared }
  | { kind: "drifted"; expected: AliasRouting; actual: AliasRouting; declared: Declared; fileChanged: boolean }
  | { kind: "unknown"; reason: "no-live" | "no-marker" };

/**
 * @param declared what the file declares now
 * @param live LIVE's routing as observed (undefined: no LIVE alias)
 * @param marker the marker decoded from LIVE's description (undefined: none)
 */
export function decideDrift(declared: Declared, live: AliasRouting | undefined, marker: Marker | undefined): DriftVerdict {
  if (!live) return { kind: "unknown", reason: "no-live" };
  if (!marker) return { kind: "unknown", reason: "no-marker" };
  const then = declaredOf(marker);
  const fileChanged = !sameDeclared(then, declared);
  const expected = aliasRouting(marker);
  const actual = aliasRouting(live);
  if (!sameRouting(routingOfAlias(expected), routingOfAlias(actual))) {
    return { kind: "drifted", expected, actual, declared: then, fileChanged };
  }
  return fileChanged ? { kind: "file-changed", declared: then } : { kind: "in-sync" };
}

/** The drift verdict of a plan entry, from what it observed of LIVE (its routing and marker). */
export function driftOf(entry: { declared: Declared; live: Live | null }): DriftVerdict {
  return decideDrift(entry.declared, entry.live?.routing, entry.live?.marker);
}

/**
 * The scheduled check's answer to "did the branch move on?" for a drifted function, i.e. does what
 * the next pipeline run deploys declare something else than the reconciler wrote (its marker):
 * - `unchanged` / `changed`: known, from the file at the branch head (CodeCommit, read with
 *   GetFile), or from the deployed file when no newer commit is waiting;
 * - `newer-commit-not-deployed`: the source cannot be read file by file (CodeConnections), and the
 *   pipeline has seen a newer source revision than the one it last deployed.
 */
export type FileChange = "unchanged" | "changed" | "newer-commit-not-deployed";

export type BranchView =
  /** The file at the branch head, by function name (a function absent from it: changed). */
  | { kind: "file"; declared: ReadonlyMap<string, Declared> }
  /** Only revisions: the deployed one and the newest the pipeline has seen (undefined: unknown). */
  | { kind: "revision"; deployed: string | undefined; latest: string | undefined };

/** Pure: the FileChange of a drifted function, from its verdict (against the deployed file) and the branch. */
export function fileChangeOf(
  name: string,
  verdict: Extract<DriftVerdict, { kind: "drifted" }>,
  branch: BranchView,
): FileChange {
  if (branch.kind === "file") {
    const head = branch.declared.get(name);
    return head !== undefined && sameDeclared(verdict.declared, head) ? "unchanged" : "changed";
  }
  if (verdict.fileChanged) return "changed";
  const newer = branch.latest !== undefined && branch.deployed !== undefined && branch.latest !== branch.deployed;
  return newer ? "newer-commit-not-deployed" : "unchanged";
}
