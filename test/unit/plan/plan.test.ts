import { expect } from "chai";
import { findLive } from "../../../reconciler/observe/live.ts";
import type { AliasState, FunctionState } from "../../../reconciler/observe/state.ts";
import type { Observation, VersionSighting } from "../../../reconciler/observe/observe.ts";
import { buildPlan, finalRouting, planFunction, stepsOf } from "../../../reconciler/plan/plan.ts";
import { encodeMarker, type Marker } from "../../../reconciler/observe/marker.ts";
import {
  describeRouting,
  routingOfAlias,
  sameRouting,
  toLambdaWeight,
} from "../../../reconciler/plan/routing.ts";
import { entryToJson } from "../../../reconciler/report/report.ts";
import { versionToAlias } from "../../../reconciler/input/versions.ts";
import { alias, fnState, observedInTarget, spec } from "../../support/fixtures.ts";

const SOURCE = "111111111111";

interface Row {
  case: string;
  desired: string;
  canary?: { version: string; weight: number };
  /** Target aliases: name -> function version (LIVE may carry weights via liveWeights). */
  target: Record<string, string> | "missing-function" | "failed";
  liveWeights?: Record<string, number>;
  /** What the marker in LIVE's description says the reconciler wrote. */
  liveMarker?: Marker;
  /** Semvers present in the source account (function version, package type). */
  source?: Record<string, Partial<FunctionState>> | "none" | "unreadable";
  latest?: Partial<FunctionState>;
  /** Configs of target versions (for canary checks), keyed by function version. */
  versionConfigs?: Record<string, Partial<FunctionState>>;
  /** The target's code-signing policy (read when promoting). */
  codeSigning?: "Enforce" | "Warn";
  /** Provisioned concurrency requested on LIVE (read when a canary is declared). */
  liveProvisionedConcurrency?: number;
  expect: {
    action: string;
    /** The semantic version LIVE serves now (null: no LIVE, or no version alias behind it). */
    liveVersion: string | null;
    target?: string | null;
    code?: string;
    reason?: RegExp;
    /** Where LIVE ends (describeRouting of the plan's final routing); every non-blocked row has one. */
    final?: string;
    /** The kinds of the steps apply takes. */
    steps?: string[];
    /** The note of a noop that leaves LIVE as it reads. */
    note?: RegExp;
  };
}

function observationOf(row: Row): Observation {
  if (row.target === "missing-function") return { kind: "missing-function" };
  if (row.target === "failed")
    return { kind: "failed", message: "ListAliases failed: TooManyRequestsException: Rate exceeded" };
  const aliases: AliasState[] = Object.entries(row.target).map(([name, v]) =>
    name === "LIVE"
      ? alias(name, v, row.liveWeights ?? {}, `rev-${name}-${v}`, row.liveMarker ? (encodeMarker(row.liveMarker) ?? "") : "")
      : alias(name, v),
  );
  const byName = new Map(aliases.map((a) => [a.name, a]));
  const versions: Record<string, VersionSighting> = {};
  for (const version of row.canary ? [row.desired, row.canary.version] : [row.desired]) {
    const here = byName.get(versionToAlias(version));
    if (here) {
      const config = row.versionConfigs?.[here.functionVersion];
      versions[version] = {
        where: "target",
        alias: here,
        ...(row.canary ? { config: fnState({ functionVersion: here.functionVersion, ...config }) } : {}),
      };
    } else if (row.source === undefined || row.source === "none") {
      versions[version] = { where: "nowhere", sourceChecked: row.source === undefined };
    } else if (row.source === "unreadable") {
      versions[version] = {
        where: "unreadable",
        message: "AccessDenied: not authorized to perform sts:AssumeRole",
      };
    } else {
      const found = row.source[version];
      versions[version] = found
        ? {
            where: "source",
            sourceAccount: SOURCE,
            source: fnState({ functionVersion: "7", codeSha256: `sha-${version}`, ...found }),
          }
        : { where: "nowhere", sourceChecked: true };
    }
  }
  const needsLatest = Object.values(versions).some((v) => v.where === "source") || row.canary !== undefined;
  return {
    kind: "observed",
    live: findLive(aliases, "LIVE"),
    aliases,
    versions,
    latest: needsLatest ? fnState(row.latest) : undefined,
    ...(row.liveProvisionedConcurrency !== undefined ? { liveProvisionedConcurrency: row.liveProvisionedConcurrency } : {}),
    ...(row.codeSigning
      ? {
          codeSigning: {
            configArn: "arn:aws:lambda:us-east-1:222222222222:code-signing-config:csc-0123456789abcdef0",
            untrustedArtifactOnDeployment: row.codeSigning,
          },
        }
      : {}),
  };
}

const rows: Row[] = [
  {
    case: "LIVE already on the desired version",
    desired: "1.1.1",
    target: { LIVE: "3", "1-1-1": "3" },
    expect: { action: "noop", liveVersion: "1.1.1", target: "3", final: "v3", steps: [] },
  },
  {
    case: "older version alias here: rollback",
    desired: "1.0.0",
    target: { LIVE: "3", "1-1-1": "3", "1-0-0": "2" },
    expect: { action: "rollback", liveVersion: "1.1.1", target: "2", final: "v2", steps: ["route"] },
  },
  {
    case: "newer version alias here: rollforward",
    desired: "1.2.0",
    target: { LIVE: "3", "1-1-1": "3", "1-2-0": "4" },
    expect: { action: "rollforward", liveVersion: "1.1.1", target: "4", final: "v4", steps: ["route"] },
  },
  {
    case: "pre-release is older than its release: rollback",
    desired: "1.1.1-rc.1",
    target: { LIVE: "3", "1-1-1": "3", "1-1-1_rc-1": "2" },
    expect: { action: "rollback", liveVersion: "1.1.1", target: "2", final: "v2", steps: ["route"] },
  },
  {
    case: "LIVE missing: create it (its own action)",
    desired: "1.1.1",
    target: { "1-1-1": "3" },
    expect: { action: "create", liveVersion: null, target: "3", final: "v3", steps: ["route"] },
  },
  {
    case: "LIVE on $LATEST: move it",
    desired: "1.1.1",
    target: { LIVE: "$LATEST", "1-1-1": "3" },
    expect: { action: "rollforward", liveVersion: null, target: "3", final: "v3", steps: ["route"] },
  },
  {
    case: "LIVE on a version with no version alias",
    desired: "1.1.1",
    target: { LIVE: "9", "1-1-1": "3" },
    expect: { action: "rollforward", liveVersion: null, target: "3", final: "v3", steps: ["route"] },
  },
  {
    case: "stray canary weights on LIVE are cleared",
    desired: "1.1.1",
    target: { LIVE: "3", "1-1-1": "3" },
    liveWeights: { "4": 0.1 },
    expect: { action: "rollforward", liveVersion: "1.1.1", target: "3", final: "v3", steps: ["route"] },
  },
  {
    case: "version alias missing here, present in source: promote",
    desired: "1.2.0",
    target: { LIVE: "3", "1-1-1": "3" },
    source: { "1.2.0": {} },
    expect: { action: "promote", liveVersion: "1.1.1", target: null, final: "1.2.0 (published by step 1)", steps: ["stage", "route"] },
  },
  {
    case: "version missing in both accounts",
    desired: "1.2.0",
    target: { LIVE: "3", "1-1-1": "3" },
    source: {},
    expect: { action: "blocked", liveVersion: "1.1.1", code: "version-missing", reason: /neither here nor in the source/ },
  },
  {
    case: "version missing here, no source configured",
    desired: "1.2.0",
    target: { LIVE: "3" },
    source: "none",
    expect: { action: "blocked", liveVersion: null, code: "no-source", reason: /sourceRoleArn/ },
  },
  {
    case: "source account unreadable",
    desired: "1.2.0",
    target: { LIVE: "3" },
    source: "unreadable",
    expect: { action: "blocked", liveVersion: null, code: "source-unreadable", reason: /AccessDenied/ },
  },
  {
    case: "function missing here",
    desired: "1.2.0",
    target: "missing-function",
    expect: { action: "blocked", liveVersion: null, code: "function-missing", reason: /does not exist in the target/ },
  },
  {
    case: "observation failed (throttled)",
    desired: "1.2.0",
    target: "failed",
    expect: { action: "blocked", liveVersion: null, code: "observe-failed", reason: /TooManyRequests/ },
  },
  {
    case: "image function here",
    desired: "1.2.0",
    target: { LIVE: "3" },
    source: { "1.2.0": {} },
    latest: { packageType: "Image" },
    expect: { action: "blocked", liveVersion: null, code: "image-package" },
  },
  {
    case: "image version in the source",
    desired: "1.2.0",
    target: { LIVE: "3" },
    source: { "1.2.0": { packageType: "Image" } },
    expect: { action: "blocked", liveVersion: null, code: "image-package", reason: /source account/ },
  },
  {
    case: "version alias here points at $LATEST",
    desired: "1.2.0",
    target: { LIVE: "3", "1-2-0": "$LATEST" },
    expect: { action: "blocked", liveVersion: null, code: "unpublished-alias" },
  },
  {
    case: "version alias in source points at $LATEST",
    desired: "1.2.0",
    target: { LIVE: "3" },
    source: { "1.2.0": { functionVersion: "$LATEST" } },
    expect: { action: "blocked", liveVersion: null, code: "unpublished-alias" },
  },
  // Canary rows
  {
    case: "none -> canary (both present)",
    desired: "1.1.1",
    canary: { version: "1.2.0", weight: 10 },
    target: { LIVE: "3", "1-1-1": "3", "1-2-0": "4" },
    expect: { action: "rollforward", liveVersion: "1.1.1", target: "3", final: "v3 + 10% v4", steps: ["route"] },
  },
  {
    case: "canary already as declared",
    desired: "1.1.1",
    canary: { version: "1.2.0", weight: 10 },
    target: { LIVE: "3", "1-1-1": "3", "1-2-0": "4" },
    liveWeights: { "4": 0.1 },
    expect: { action: "noop", liveVersion: "1.1.1", target: "3", final: "v3 + 10% v4", steps: [] },
  },
  {
    case: "canary weight change",
    desired: "1.1.1",
    canary: { version: "1.2.0", weight: 25.5 },
    target: { LIVE: "3", "1-1-1": "3", "1-2-0": "4" },
    liveWeights: { "4": 0.1 },
    expect: { action: "rollforward", liveVersion: "1.1.1", target: "3", final: "v3 + 25.5% v4", steps: ["route"] },
  },
  {
    case: "canary version change",
    desired: "1.1.1",
    canary: { version: "1.3.0", weight: 10 },
    target: { LIVE: "3", "1-1-1": "3", "1-2-0": "4", "1-3-0": "5" },
    liveWeights: { "4": 0.1 },
    expect: { action: "rollforward", liveVersion: "1.1.1", target: "3", final: "v3 + 10% v5", steps: ["route"] },
  },
  {
    case: "canary -> full (version moved to the canary's)",
    desired: "1.2.0",
    target: { LIVE: "3", "1-1-1": "3", "1-2-0": "4" },
    liveWeights: { "4": 0.1 },
    expect: { action: "rollforward", liveVersion: "1.1.1", target: "4", final: "v4", steps: ["route"] },
  },
  {
    case: "canary removed (back to primary only)",
    desired: "1.1.1",
    target: { LIVE: "3", "1-1-1": "3", "1-2-0": "4" },
    liveWeights: { "4": 0.1 },
    expect: { action: "rollforward", liveVersion: "1.1.1", target: "3", final: "v3", steps: ["route"] },
  },
  {
    case: "canary version missing here: promote it",
    desired: "1.1.1",
    canary: { version: "1.2.0", weight: 10 },
    target: { LIVE: "3", "1-1-1": "3" },
    source: { "1.2.0": {} },
    expect: { action: "promote", liveVersion: "1.1.1", final: "v3 + 10% 1.2.0 (published by step 1)", steps: ["stage", "route"] },
  },
  {
    case: "promotion into a function whose code-signing policy is Enforce: blocked, saying why",
    desired: "1.2.0",
    target: { LIVE: "3", "1-1-1": "3" },
    source: { "1.2.0": {} },
    codeSigning: "Enforce",
    expect: {
      action: "blocked", liveVersion: "1.1.1",
      code: "code-signing",
      reason: /code-signing configuration arn:aws:lambda:.*:code-signing-config:csc-0123456789abcdef0 with policy Enforce/,
    },
  },
  {
    case: "promotion into a function whose code-signing policy is Warn: promoted",
    desired: "1.2.0",
    target: { LIVE: "3", "1-1-1": "3" },
    source: { "1.2.0": {} },
    codeSigning: "Warn",
    expect: { action: "promote", liveVersion: "1.1.1", final: "1.2.0 (published by step 1)", steps: ["stage", "route"] },
  },
  {
    case: "rollback under an Enforce code-signing policy: no code moves, not blocked",
    desired: "1.0.0",
    target: { LIVE: "3", "1-1-1": "3", "1-0-0": "2" },
    codeSigning: "Enforce",
    expect: { action: "rollback", liveVersion: "1.1.1", target: "2", final: "v2", steps: ["route"] },
  },
  {
    case: "promotion whose source version runs a layer the target lacks: blocked, naming the layer",
    desired: "1.2.0",
    target: { LIVE: "3", "1-1-1": "3" },
    source: { "1.2.0": { layers: ["arn:aws:lambda:us-east-1:111111111111:layer:deps:4"] } },
    expect: {
      action: "blocked", liveVersion: "1.1.1",
      code: "layers",
      reason: /layer arn:aws:lambda:us-east-1:111111111111:layer:deps:4 of version 1\.2\.0 in the source account is not on "team-a-fn" here/,
    },
  },
  {
    case: "promotion onto a target with an extra layer: blocked, naming it",
    desired: "1.2.0",
    target: { LIVE: "3", "1-1-1": "3" },
    source: { "1.2.0": {} },
    latest: { layers: ["arn:aws:lambda:us-east-1:222222222222:layer:old:1"] },
    expect: { action: "blocked", liveVersion: "1.1.1", code: "layers", reason: /here runs layer arn:aws:lambda:us-east-1:222222222222:layer:old:1/ },
  },
  {
    case: "promotion with the same layer ARNs on both sides: carried",
    desired: "1.2.0",
    target: { LIVE: "3", "1-1-1": "3" },
    source: { "1.2.0": { layers: ["arn:aws:lambda:us-east-1:333333333333:layer:shared:7"] } },
    latest: { layers: ["arn:aws:lambda:us-east-1:333333333333:layer:shared:7"] },
    expect: { action: "promote", liveVersion: "1.1.1", final: "1.2.0 (published by step 1)", steps: ["stage", "route"] },
  },
  // Provisioned concurrency: Lambda's transient weight while it shifts LIVE is left alone, on the
  // marker's word only (the marker records the version the write moved LIVE from).
  {
    case: "transient weight on the version the marker says LIVE moved from: noop with a note, no write",
    desired: "1.2.0",
    target: { LIVE: "4", "1-1-1": "3", "1-2-0": "4" },
    liveWeights: { "3": 0.4 },
    liveMarker: { version: "1.2.0", functionVersion: "4", weights: {}, fromFunctionVersion: "3" },
    expect: { action: "noop", liveVersion: "1.2.0", target: "4", final: "v4", steps: [], note: /transient weight of 0\.4 on v3.*provisioned concurrency; left to Lambda/ },
  },
  {
    case: "transient weight with a declared canary that is otherwise as written: noop",
    desired: "1.2.0",
    canary: { version: "1.3.0", weight: 10 },
    target: { LIVE: "4", "1-1-1": "3", "1-2-0": "4", "1-3-0": "5" },
    liveWeights: { "3": 0.2, "5": 0.1 },
    liveMarker: { version: "1.2.0", canary: { version: "1.3.0", weight: 10 }, functionVersion: "4", weights: { "5": 0.1 }, fromFunctionVersion: "3" },
    expect: { action: "noop", liveVersion: "1.2.0", final: "v4 + 10% v5", steps: [], note: /on v3/ },
  },
  {
    case: "extra weight on another version than the marker's from: drift, rewritten",
    desired: "1.2.0",
    target: { LIVE: "4", "1-1-1": "3", "1-2-0": "4", "1-0-0": "2" },
    liveWeights: { "2": 0.4 },
    liveMarker: { version: "1.2.0", functionVersion: "4", weights: {}, fromFunctionVersion: "3" },
    expect: { action: "rollforward", liveVersion: "1.2.0", final: "v4", steps: ["route"] },
  },
  {
    case: "extra weight on the previous version but no marker's from (a hand-written weight): drift, rewritten",
    desired: "1.2.0",
    target: { LIVE: "4", "1-1-1": "3", "1-2-0": "4" },
    liveWeights: { "3": 0.4 },
    liveMarker: { version: "1.2.0", functionVersion: "4", weights: {} },
    expect: { action: "rollforward", liveVersion: "1.2.0", final: "v4", steps: ["route"] },
  },
  {
    case: "marker's from weight, but the file now declares another version: planned as usual",
    desired: "1.1.1",
    target: { LIVE: "4", "1-1-1": "3", "1-2-0": "4" },
    liveWeights: { "3": 0.4 },
    liveMarker: { version: "1.2.0", functionVersion: "4", weights: {}, fromFunctionVersion: "3" },
    expect: { action: "rollback", liveVersion: "1.2.0", final: "v3", steps: ["route"] },
  },
  {
    case: "marker's from weight plus a changed canary weight: drift, rewritten",
    desired: "1.2.0",
    canary: { version: "1.3.0", weight: 10 },
    target: { LIVE: "4", "1-1-1": "3", "1-2-0": "4", "1-3-0": "5" },
    liveWeights: { "3": 0.2, "5": 0.3 },
    liveMarker: { version: "1.2.0", canary: { version: "1.3.0", weight: 10 }, functionVersion: "4", weights: { "5": 0.1 }, fromFunctionVersion: "3" },
    expect: { action: "rollforward", liveVersion: "1.2.0", final: "v4 + 10% v5", steps: ["route"] },
  },
  {
    case: "canary on a LIVE with provisioned concurrency: blocked with a reason",
    desired: "1.1.1",
    canary: { version: "1.2.0", weight: 10 },
    target: { LIVE: "3", "1-1-1": "3", "1-2-0": "4" },
    liveProvisionedConcurrency: 5,
    expect: {
      action: "blocked", liveVersion: "1.1.1",
      code: "provisioned-concurrency",
      reason: /LIVE of "team-a-fn" has provisioned concurrency \(5 requested\): canaries are not supported/,
    },
  },
  {
    case: "no canary on a LIVE with provisioned concurrency: planned as usual",
    desired: "1.0.0",
    target: { LIVE: "3", "1-1-1": "3", "1-0-0": "2" },
    liveProvisionedConcurrency: 5,
    expect: { action: "rollback", liveVersion: "1.1.1", target: "2", final: "v2", steps: ["route"] },
  },
  {
    case: "canary with different roles",
    desired: "1.1.1",
    canary: { version: "1.2.0", weight: 10 },
    target: { LIVE: "3", "1-1-1": "3", "1-2-0": "4" },
    versionConfigs: { "4": { role: "arn:aws:iam::222222222222:role/other" } },
    expect: { action: "blocked", liveVersion: "1.1.1", code: "canary-incompatible", reason: /execution roles/ },
  },
  {
    case: "canary with different DLQs",
    desired: "1.1.1",
    canary: { version: "1.2.0", weight: 10 },
    target: { LIVE: "3", "1-1-1": "3", "1-2-0": "4" },
    versionConfigs: { "3": { deadLetterTargetArn: "arn:aws:sqs:us-east-1:222222222222:dlq" } },
    expect: { action: "blocked", liveVersion: "1.1.1", code: "canary-incompatible", reason: /dead-letter/ },
  },
];

describe("planner (one row per desired / live / version-alias case)", () => {
  for (const row of rows) {
    it(row.case, () => {
      const entry = planFunction(spec("team-a-fn", row.desired, row.canary), observationOf(row));
      const json = entryToJson(entry);
      expect(json.action).to.equal(row.expect.action);
      expect(json.liveVersion).to.equal(row.expect.liveVersion);
      if (row.expect.target !== undefined) expect(json.targetFunctionVersion).to.equal(row.expect.target);
      if (row.expect.code) expect(json.blockCode).to.equal(row.expect.code);
      if (row.expect.reason) expect(json.reason).to.match(row.expect.reason);
      if (row.expect.note) expect(json.note).to.match(row.expect.note);
      else expect(json).to.not.have.property("note");
      if (row.expect.action !== "blocked") expect(json.reason).to.equal(null);
      if (row.expect.action === "blocked") {
        expect(json.finalRouting).to.equal(null);
        expect(json.steps).to.deep.equal([]);
      } else {
        const final = finalRouting(entry);
        expect(final && describeRouting(final), "final routing").to.equal(row.expect.final);
        expect(json.steps.map((s) => s.kind)).to.deep.equal(row.expect.steps);
        const route = json.steps.find((s) => s.kind === "route");
        // The route step moves LIVE from what it is now to the final routing, guarded by LIVE's RevisionId.
        if (route?.kind === "route") {
          expect(route.to).to.deep.equal(final);
          expect(route.revisionId).to.equal(entry.live ? entry.live.revisionId : null);
        }
      }
    });
  }

  it("canary routing sends the declared share to the canary version", () => {
    const row = rows.find((r) => r.case === "canary weight change")!;
    const entry = planFunction(spec("team-a-fn", row.desired, row.canary), observationOf(row));
    expect(entryToJson(entry).routing).to.deep.equal({
      from: { functionVersion: "3", weights: { "4": 0.1 } },
      to: { functionVersion: "3", weights: { "4": 0.255 } },
    });
  });

  it("a promote carries where the code comes from and the target's $LATEST guard", () => {
    const row = rows.find((r) => r.case.startsWith("version alias missing here"))!;
    const entry = planFunction(spec("team-a-fn", row.desired), observationOf(row));
    if (entry.action.kind !== "promote") throw new Error("expected promote");
    const [stage, route] = entry.action.steps;
    expect(stage).to.deep.equal({
      kind: "stage",
      version: "1.2.0",
      alias: "1-2-0",
      source: {
        account: SOURCE,
        functionVersion: "7",
        codeSha256: "sha-1.2.0",
        codeSize: 100,
        runtime: "nodejs22.x",
        handler: "index.handler",
        architectures: ["x86_64"],
      },
      latest: {
        revisionId: "rev-latest",
        codeSha256: "latest-sha",
        runtime: "nodejs22.x",
        handler: "index.handler",
        architectures: ["x86_64"],
      },
    });
    // LIVE moves to the version the stage step produces; its description waits for that version.
    expect(route).to.deep.equal({
      kind: "route",
      alias: "LIVE",
      from: { primary: { version: "1.1.1", functionVersion: "3" }, additional: [] },
      to: { primary: { version: "1.2.0", stage: 0 }, additional: [] },
      revisionId: "rev-LIVE-3",
      declared: { version: "1.2.0" },
      description: null,
    });
  });

  it("exposes LIVE's marker, writes it with each route step, and keeps noop on routing only", () => {
    const written = encodeMarker({ version: "1.1.1", functionVersion: "3", weights: {} })!;
    const observed = (description: string): Observation =>
      observedInTarget([alias("1-1-1", "3"), alias("1-0-0", "2"), alias("LIVE", "3", {}, "rev-live", description)], ["1.1.1", "1.0.0"]);
    const marked = planFunction(spec("team-a-fn", "1.1.1"), observed(written));
    expect(marked.live?.marker).to.deep.equal({ version: "1.1.1", functionVersion: "3", weights: {} });
    expect(marked.action.kind).to.equal("noop");
    // A right routing with a missing or foreign description is still noop.
    for (const description of ["", "deployed by hand"]) {
      const entry = planFunction(spec("team-a-fn", "1.1.1"), observed(description));
      expect(entry.live?.marker).to.equal(undefined);
      expect(entry.action.kind).to.equal("noop");
    }
    const back = planFunction(spec("team-a-fn", "1.0.0"), observed(written));
    const route = stepsOf(back)[0];
    expect(route?.kind === "route" && route.description).to.equal(
      encodeMarker({ version: "1.0.0", functionVersion: "2", weights: {}, fromFunctionVersion: "3" }),
    );
  });

  it("orders entries by function name, whatever the file order", () => {
    const observed = (name: string) => [name, { kind: "missing-function" } as Observation] as const;
    const plan = buildPlan(
      {
        file: "lambdas.json",
        functions: [spec("team-a-zeta", "1.0.0"), spec("team-a-alpha", "1.0.0"), spec("team-a-mid", "1.0.0")],
      },
      new Map([observed("team-a-zeta"), observed("team-a-alpha"), observed("team-a-mid")]),
      "LIVE",
    );
    expect(plan.entries.map((e) => e.name)).to.deep.equal(["team-a-alpha", "team-a-mid", "team-a-zeta"]);
  });

  it("compares weights as Lambda stores them, not as floating-point text", () => {
    expect(toLambdaWeight(10)).to.equal(0.1);
    expect(toLambdaWeight(33.33)).to.equal(0.3333);
    expect(
      sameRouting(
        routingOfAlias({ functionVersion: "3", weights: { "4": toLambdaWeight(7.1) } }),
        routingOfAlias({ functionVersion: "3", weights: { "4": 0.071 } }),
      ),
    ).to.equal(true);
    expect(
      sameRouting(
        routingOfAlias({ functionVersion: "3", weights: {} }),
        routingOfAlias({ functionVersion: "3", weights: { "4": 0 } }),
      ),
    ).to.equal(true);
    expect(
      sameRouting(
        routingOfAlias({ functionVersion: "3", weights: { "4": 0.1 } }),
        routingOfAlias({ functionVersion: "3", weights: { "5": 0.1 } }),
      ),
    ).to.equal(false);
  });
});
