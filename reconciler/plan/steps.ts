/**
 * The steps a plan entry takes, as values: apply executes them in order and computes nothing the
 * plan does not show (a version a stage step publishes is referenced by that step's index until it
 * exists; see routing.ts).
 * - `stage`: copy one version from the source account (fresh GetFunction there, download and
 *   verify the CodeSha256, update $LATEST here, publish, create the version alias). Produces the
 *   version alias and a new function version.
 * - `route`: move LIVE from routing `from` to routing `to` (create LIVE when `from` is null),
 *   guarded by LIVE's RevisionId, and write the marker (./marker.ts) into LIVE's description.
 * - `rollout`: move LIVE from `from` to `to` progressively (./rollout.ts): smoke invocation, traffic
 *   steps, bake, alarms; `position` is where the rollout stood at planning (apply decides again
 *   from what it observes, since time passes).
 */
import type { FunctionState } from "../observe/state.ts";
import type { Declared } from "../input/definitions.ts";
import type { Rollout } from "../input/rollout-schema.ts";
import type { RolloutPosition } from "./rollout.ts";
import type { Routing } from "./routing.ts";

/** Target $LATEST as observed: its RevisionId guards the first code update. */
export type LatestGuard = Pick<
  FunctionState,
  "revisionId" | "codeSha256" | "runtime" | "handler" | "architectures" | "sourceKmsKeyArn"
>;

export interface StageStep {
  kind: "stage";
  /** The semantic version staged, and the version alias this step creates for it. */
  version: string;
  alias: string;
  source: {
    account: string;
    functionVersion: string;
    codeSha256: string;
    codeSize: number;
    runtime: string | undefined;
    handler: string | undefined;
    architectures: string[];
  };
  /**
   * $LATEST as observed at planning. Only the first stage step of an entry uses it; a later one
   * starts from the $LATEST the previous stage step left (read back by that step).
   */
  latest: LatestGuard;
}

export interface RouteStep {
  kind: "route";
  /** The alias moved (LIVE). */
  alias: string;
  /** LIVE's routing now; null when LIVE does not exist and is created. */
  from: Routing | null;
  to: Routing;
  /** LIVE's RevisionId as observed: the precondition of UpdateAlias (null when creating). */
  revisionId: string | null;
  /** What the declared state was: written with the routing as LIVE's marker. */
  declared: Declared;
  /** The description written to LIVE, when every version of `to` is known at planning. */
  description: string | null;
}

export interface RolloutStep extends Omit<RouteStep, "kind"> {
  kind: "rollout";
  rollout: Rollout;
  position: RolloutPosition;
}

/** The step that moves LIVE: in one write, or progressively. */
export type LiveStep = RouteStep | RolloutStep;

export type Step = StageStep | LiveStep;
