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
