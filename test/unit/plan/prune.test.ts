import { expect } from "chai";
import { encodeMarker } from "../../../reconciler/observe/marker.ts";
import { versionDescription } from "../../../reconciler/plan/publish.ts";
import {
  type AliasInfo,
  describeKeepReason,
  planPrune,
  pruneSteps,
  type PruneInput,
  publishedByLambdaGitops,
  type VersionInfo,
} from "../../../reconciler/plan/prune.ts";

const NO_INVOKERS = { mappings: [], provisioned: [] };
const ARN = "arn:aws:lambda:eu-west-1:111111111111:function:team-a-orders";
/** Versions lambda-gitops published (the stage step's description); `foreignVersion` for others'. */
const version = (functionVersion: string, description = `lambda-gitops 1.0.${functionVersion} from 111111111111 v${functionVersion} sha256:abc=`): VersionInfo => ({
  functionVersion,
  codeSha256: `sha-${functionVersion}`,
  description,
  lastModified: "2026-11-30T12:00:00.000+0000",
});
const alias = (name: string, functionVersion: string, weights: Record<string, number> = {}, description = ""): AliasInfo => ({
  name,
  functionVersion,
  weights,
  description,
});
const versions = (n: number) => ["$LATEST", ...Array.from({ length: n }, (_, i) => String(i + 1))].map((v) => version(v));
/** Our version aliases 1.0.0 -> v1, 1.1.0 -> v2, ... */
const ours = (n: number) => Array.from({ length: n }, (_, i) => alias(`1-${i}-0`, String(i + 1)));

function input(over: Partial<PruneInput>): PruneInput {
  return { name: "team-a-orders", versions: versions(6), aliases: ours(6), invokers: NO_INVOKERS, liveAlias: "LIVE", keep: 2, ...over };
}

/** "v -> reasons" for kept versions, "v" for deleted ones. */
function outcome(i: PruneInput) {
  const entry = planPrune(i);
  if (entry.kind !== "prune") return { skipped: entry.code };
  return {
    keep: Object.fromEntries(entry.keep.map((k) => [k.functionVersion, k.reasons.map(describeKeepReason)])),
    delete: entry.deletions.map((d) => d.functionVersion),
  };
}

describe("prune plan: what goes, what stays and why", () => {
  const rows: { case: string; input: PruneInput; keep: Record<string, string[]>; delete: string[] }[] = [
    {
      case: "LIVE's primary and the window of 2 (the live one counts in the window)",
      input: input({ aliases: [...ours(6), alias("LIVE", "6")] }),
      keep: { $LATEST: ["$LATEST (never deleted)"], "5": ["window 1.4.0"], "6": ["live-primary", "window 1.5.0"] },
      delete: ["1", "2", "3", "4"],
    },
    {
      case: "a weighted LIVE keeps both versions",
      input: input({ aliases: [...ours(6), alias("LIVE", "3", { "2": 0.1 })], keep: 1 }),
      keep: {
        $LATEST: ["$LATEST (never deleted)"],
        "2": ["live-weighted"],
        "3": ["live-primary"],
        "6": ["window 1.5.0"],
      },
      delete: ["1", "4", "5"],
    },
    {
      case: "someone else's alias keeps its version (primary and weighted)",
      input: input({
        aliases: [...ours(6), alias("LIVE", "6"), alias("team-b-pinned", "2", { "3": 0.5 })],
      }),
      keep: {
        $LATEST: ["$LATEST (never deleted)"],
        "2": ["foreign-alias team-b-pinned"],
        "3": ["foreign-alias team-b-pinned"],
        "5": ["window 1.4.0"],
        "6": ["live-primary", "window 1.5.0"],
      },
      delete: ["1", "4"],
    },
    {
      case: "a version alias of ours that is weighted is not ours to delete (kept as foreign)",
      input: input({ aliases: [...ours(5), alias("1-5-0", "6", { "1": 0.2 }), alias("LIVE", "5")], keep: 1 }),
      keep: {
        $LATEST: ["$LATEST (never deleted)"],
        "1": ["foreign-alias 1-5-0"],
        "5": ["live-primary", "window 1.4.0"],
        "6": ["foreign-alias 1-5-0"],
      },
      delete: ["2", "3", "4"],
    },
    {
      case: "a rollout in progress keeps the version it started from",
      input: input({
        aliases: [
          ...ours(6),
          alias(
            "LIVE",
            "2",
            { "6": 0.1 },
            encodeMarker({
              version: "1.5.0",
              functionVersion: "2",
              weights: { "6": 0.1 },
              rollout: { fromVersion: "1.0.0", fromFunctionVersion: "1", step: 1, steps: 2, since: 1_796_054_400 },
            }),
          ),
        ],
        keep: 1,
      }),
      keep: {
        $LATEST: ["$LATEST (never deleted)"],
        "1": ["rollout (from 1.0.0)"],
        "2": ["live-primary"],
        "6": ["live-weighted", "window 1.5.0"],
      },
      delete: ["3", "4", "5"],
    },
    {
      case: "the window follows semantic versions, not version numbers (2.0.0 published before 1.9.0)",
      input: input({
        versions: versions(4),
        aliases: [alias("2-0-0", "1"), alias("1-8-0", "2"), alias("1-9-0", "3"), alias("1-0-0", "4"), alias("LIVE", "1")],
        keep: 2,
      }),
      keep: { $LATEST: ["$LATEST (never deleted)"], "1": ["live-primary", "window 2.0.0"], "3": ["window 1.9.0"] },
      delete: ["2", "4"],
    },
    {
      case: "pre-releases sort below their release",
      input: input({
        versions: versions(3),
        aliases: [alias("1-2-0_rc-1", "1"), alias("1-2-0", "2"), alias("1-1-0", "3"), alias("LIVE", "2")],
        keep: 2,
      }),
      keep: {
        $LATEST: ["$LATEST (never deleted)"],
        "1": ["window 1.2.0-rc.1"],
        "2": ["live-primary", "window 1.2.0"],
      },
      delete: ["3"],
    },
    {
      case: "unaliased versions: older than LIVE's primary go, newer ones stay",
      input: input({
        versions: versions(6),
        aliases: [alias("1-0-0", "1"), alias("1-3-0", "4"), alias("LIVE", "4")],
        keep: 1,
      }),
      keep: {
        $LATEST: ["$LATEST (never deleted)"],
        "4": ["live-primary", "window 1.3.0"],
        "5": ["newer-than-live-unaliased"],
        "6": ["newer-than-live-unaliased"],
      },
      delete: ["1", "2", "3"],
    },
    {
      case: "LIVE on $LATEST: unaliased versions are never older than it, so they stay",
      input: input({ versions: versions(3), aliases: [alias("1-0-0", "1"), alias("LIVE", "$LATEST")], keep: 1 }),
      keep: {
        $LATEST: ["$LATEST (never deleted)", "live-primary"],
        "1": ["window 1.0.0"],
        "2": ["newer-than-live-unaliased"],
        "3": ["newer-than-live-unaliased"],
      },
      delete: [],
    },
    {
      case: "two version aliases on one version go together; a kept version keeps all its aliases",
      input: input({
        versions: versions(3),
        aliases: [alias("1-0-0", "1"), alias("1-0-1", "1"), alias("1-1-0", "2"), alias("1-1-1", "3"), alias("LIVE", "2")],
        keep: 1,
      }),
      keep: { $LATEST: ["$LATEST (never deleted)"], "2": ["live-primary"], "3": ["window 1.1.1"] },
      delete: ["1"],
    },
    {
      case: "an event-source mapping on a qualified version ARN keeps that version (issue 20)",
      input: input({
        aliases: [...ours(6), alias("LIVE", "6")],
        keep: 1,
        invokers: { mappings: [{ uuid: "a1b2-sqs", functionArn: `${ARN}:2` }], provisioned: [] },
      }),
      keep: {
        $LATEST: ["$LATEST (never deleted)"],
        "2": ["event-source-mapping a1b2-sqs"],
        "6": ["live-primary", "window 1.5.0"],
      },
      delete: ["1", "3", "4", "5"],
    },
    {
      case: "an event-source mapping on an alias keeps every version the alias routes to",
      input: input({
        aliases: [...ours(6), alias("LIVE", "6"), alias("team-b-stable", "3", { "4": 0.1 })],
        keep: 1,
        invokers: { mappings: [{ uuid: "c3d4-kinesis", functionArn: `${ARN}:team-b-stable` }], provisioned: [] },
      }),
      keep: {
        $LATEST: ["$LATEST (never deleted)"],
        "3": ["foreign-alias team-b-stable", "event-source-mapping c3d4-kinesis"],
        "4": ["foreign-alias team-b-stable", "event-source-mapping c3d4-kinesis"],
        "6": ["live-primary", "window 1.5.0"],
      },
      delete: ["1", "2", "5"],
    },
    {
      case: "a mapping on one of our version aliases outside the window keeps it",
      input: input({
        aliases: [...ours(6), alias("LIVE", "6")],
        keep: 1,
        invokers: { mappings: [{ uuid: "e5f6", functionArn: `${ARN}:1-0-0` }], provisioned: [] },
      }),
      keep: {
        $LATEST: ["$LATEST (never deleted)"],
        "1": ["event-source-mapping e5f6"],
        "6": ["live-primary", "window 1.5.0"],
      },
      delete: ["2", "3", "4", "5"],
    },
    {
      case: "an unqualified mapping (it invokes $LATEST) or one on a vanished alias keeps nothing more",
      input: input({
        aliases: [...ours(6), alias("LIVE", "6")],
        keep: 1,
        invokers: {
          mappings: [
            { uuid: "u1", functionArn: ARN },
            { uuid: "u2", functionArn: `${ARN}:gone` },
          ],
          provisioned: [],
        },
      }),
      keep: { $LATEST: ["$LATEST (never deleted)"], "6": ["live-primary", "window 1.5.0"] },
      delete: ["1", "2", "3", "4", "5"],
    },
    {
      case: "provisioned concurrency on a version, and on an alias, keeps the versions",
      input: input({
        versions: [...versions(6)],
        aliases: [...ours(6), alias("LIVE", "6"), alias("team-b-warm", "4")],
        keep: 1,
        invokers: { mappings: [], provisioned: [`${ARN}:3`, `${ARN}:team-b-warm`] },
      }),
      keep: {
        $LATEST: ["$LATEST (never deleted)"],
        "3": ["provisioned-concurrency"],
        "4": ["foreign-alias team-b-warm", "provisioned-concurrency"],
        "6": ["live-primary", "window 1.5.0"],
      },
      delete: ["1", "2", "5"],
    },
    {
      case: "an unaliased version someone else published stays; ours (promoted or `publish`ed) go",
      input: input({
        versions: [
          version("$LATEST"),
          version("1", "deployed by hand"),
          version("2", ""),
          version("3", "lambda-gitops 1.2.0: build 42 (abc123)"),
          version("4", "lambda-gitops 1.3.0"),
          version("5", "lambda-gitopsx 1.3.0"),
          version("6"),
        ],
        aliases: [alias("1-5-0", "6"), alias("LIVE", "6")],
        keep: 1,
      }),
      keep: {
        $LATEST: ["$LATEST (never deleted)"],
        "1": ["not-published-by-lambda-gitops"],
        "2": ["not-published-by-lambda-gitops"],
        "5": ["not-published-by-lambda-gitops"],
        "6": ["live-primary", "window 1.5.0"],
      },
      delete: ["3", "4"],
    },
    {
      case: "a window larger than what exists deletes nothing aliased",
      input: input({ aliases: [...ours(6), alias("LIVE", "6")], keep: 10 }),
      keep: {
        $LATEST: ["$LATEST (never deleted)"],
        "1": ["window 1.0.0"],
        "2": ["window 1.1.0"],
        "3": ["window 1.2.0"],
        "4": ["window 1.3.0"],
        "5": ["window 1.4.0"],
        "6": ["live-primary", "window 1.5.0"],
      },
      delete: [],
    },
  ];
  for (const row of rows) {
    it(row.case, () => {
      expect(outcome(row.input)).to.deep.equal({ keep: row.keep, delete: row.delete });
    });
  }

  it("without a LIVE alias nothing is deleted, and it says why", () => {
    const entry = planPrune(input({ aliases: ours(6) }));
    expect(entry).to.include({ kind: "skipped", code: "no-live" });
    expect(entry.kind === "skipped" && entry.reason).to.match(/no LIVE alias/);
    expect(pruneSteps(entry)).to.deep.equal([]);
  });

  it("a custom live alias name is the one protected", () => {
    const custom = input({ liveAlias: "PROD", aliases: [...ours(6), alias("PROD", "1"), alias("LIVE", "3")], keep: 1 });
    const entry = planPrune(custom);
    // "LIVE" is not a version alias, so under another live alias name it is someone else's alias.
    expect(outcome(custom).keep).to.deep.equal({
      $LATEST: ["$LATEST (never deleted)"],
      "1": ["live-primary"],
      "3": ["foreign-alias LIVE"],
      "6": ["window 1.5.0"],
    });
    expect(entry.kind === "prune" && entry.live).to.equal("1");
  });

  it("steps: each version's aliases first, then the version; oldest version first", () => {
    const entry = planPrune(
      input({
        versions: versions(4),
        aliases: [alias("1-0-1", "2"), alias("1-0-0", "2"), alias("1-1-0", "3"), alias("2-0-0", "4"), alias("LIVE", "4")],
        keep: 1,
      }),
    );
    expect(pruneSteps(entry)).to.deep.equal([
      { kind: "delete-version", functionVersion: "1" },
      { kind: "delete-alias", alias: "1-0-0", functionVersion: "2" },
      { kind: "delete-alias", alias: "1-0-1", functionVersion: "2" },
      { kind: "delete-version", functionVersion: "2" },
      { kind: "delete-alias", alias: "1-1-0", functionVersion: "3" },
      { kind: "delete-version", functionVersion: "3" },
    ]);
    const first = entry.kind === "prune" ? entry.deletions[0] : undefined;
    expect(first).to.deep.include({
      functionVersion: "1",
      aliases: [],
      reason: "unaliased-older-than-live",
      codeSha256: "sha-1",
    });
    expect(entry.kind === "prune" && entry.deletions[1]).to.deep.include({
      functionVersion: "2",
      versions: ["1.0.1", "1.0.0"],
      reason: "outside-window",
    });
  });

  it("never deletes $LATEST, LIVE's versions or a foreign alias's version, whatever the window (property)", () => {
    for (let keep = 1; keep <= 7; keep++) {
      for (let liveAt = 1; liveAt <= 6; liveAt++) {
        const entry = planPrune(
          input({ aliases: [...ours(6), alias("LIVE", String(liveAt), { "1": 0.05 }), alias("other", "3")], keep }),
        );
        const deleted = pruneSteps(entry).map((s) => s.functionVersion);
        expect(deleted).to.not.include.members(["$LATEST", String(liveAt), "1", "3"]);
      }
    }
  });
});

describe("publishedByLambdaGitops: recognises the descriptions lambda-gitops writes when it publishes", () => {
  it("the promotion's (apply/stage.ts) and publish's (versionDescription), not others", () => {
    expect(publishedByLambdaGitops("lambda-gitops 1.4.2 from 111111111111 v7 sha256:abc=")).to.equal(true);
    expect(publishedByLambdaGitops(versionDescription("1.4.2-rc.1", undefined))).to.equal(true);
    expect(publishedByLambdaGitops(versionDescription("1.4.2", "build 42 (abc123)"))).to.equal(true);
    for (const other of ["", "1.4.2", "lambda-gitops", "lambda-gitops ", "lambda-gitops banana", "Lambda-gitops 1.0.0", "x lambda-gitops 1.0.0"]) {
      expect(publishedByLambdaGitops(other), other).to.equal(false);
    }
  });
});
