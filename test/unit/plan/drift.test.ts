import { expect } from "chai";
import { type BranchView, decideDrift, type DriftVerdict, type FileChange, fileChangeOf } from "../../../reconciler/plan/drift.ts";
import type { Marker } from "../../../reconciler/observe/marker.ts";
import type { Declared } from "../../../reconciler/input/definitions.ts";
import type { AliasRouting as Routing } from "../../../reconciler/plan/routing.ts";

const marker = (over: Partial<Marker> = {}): Marker => ({ version: "1.5.0", functionVersion: "6", weights: {}, ...over });
const routing = (functionVersion: string, weights: Record<string, number> = {}): Routing => ({ functionVersion, weights });

describe("drift: LIVE moved out of band, versus the file changed", () => {
  const rows: {
    case: string;
    desired: Declared;
    live: Routing | undefined;
    marker: Marker | undefined;
    kind: DriftVerdict["kind"];
    fileChanged?: boolean;
  }[] = [
    { case: "LIVE as written, file unchanged", desired: { version: "1.5.0" }, live: routing("6"), marker: marker(), kind: "in-sync" },
    {
      case: "LIVE as written, file declares another version: an ordinary change",
      desired: { version: "1.6.0" },
      live: routing("6"),
      marker: marker(),
      kind: "file-changed",
    },
    {
      case: "someone moved LIVE's primary; file unchanged",
      desired: { version: "1.5.0" },
      live: routing("4"),
      marker: marker(),
      kind: "drifted",
      fileChanged: false,
    },
    {
      case: "someone moved LIVE and the file changed as well",
      desired: { version: "1.6.0" },
      live: routing("4"),
      marker: marker(),
      kind: "drifted",
      fileChanged: true,
    },
    {
      case: "someone added a weight to LIVE",
      desired: { version: "1.5.0" },
      live: routing("6", { "5": 0.2 }),
      marker: marker(),
      kind: "drifted",
      fileChanged: false,
    },
    {
      case: "someone removed the canary weight",
      desired: { version: "1.5.0", canary: { version: "1.6.0", weight: 10 } },
      live: routing("6"),
      marker: marker({ canary: { version: "1.6.0", weight: 10 }, weights: { "7": 0.1 } }),
      kind: "drifted",
      fileChanged: false,
    },
    {
      case: "canary as written (weights compared as Lambda stores them)",
      desired: { version: "1.5.0", canary: { version: "1.6.0", weight: 10 } },
      live: routing("6", { "7": 0.1000000001 }),
      marker: marker({ canary: { version: "1.6.0", weight: 10 }, weights: { "7": 0.1 } }),
      kind: "in-sync",
    },
    {
      case: "the file changed the canary weight only",
      desired: { version: "1.5.0", canary: { version: "1.6.0", weight: 20 } },
      live: routing("6", { "7": 0.1 }),
      marker: marker({ canary: { version: "1.6.0", weight: 10 }, weights: { "7": 0.1 } }),
      kind: "file-changed",
    },
    {
      case: "the file dropped the canary",
      desired: { version: "1.5.0" },
      live: routing("6", { "7": 0.1 }),
      marker: marker({ canary: { version: "1.6.0", weight: 10 }, weights: { "7": 0.1 } }),
      kind: "file-changed",
    },
    { case: "no LIVE alias", desired: { version: "1.5.0" }, live: undefined, marker: undefined, kind: "unknown" },
    { case: "LIVE without a marker", desired: { version: "1.5.0" }, live: routing("6"), marker: undefined, kind: "unknown" },
  ];
  for (const row of rows) {
    it(row.case, () => {
      const verdict = decideDrift(row.desired, row.live, row.marker);
      expect(verdict.kind).to.equal(row.kind);
      if (verdict.kind === "drifted") {
        expect(verdict.fileChanged).to.equal(row.fileChanged);
        expect(verdict.actual).to.deep.equal(row.live);
        expect(verdict.expected.functionVersion).to.equal(row.marker?.functionVersion);
      }
    });
  }
  it("says why it cannot tell", () => {
    expect(decideDrift({ version: "1.0.0" }, undefined, marker())).to.deep.equal({ kind: "unknown", reason: "no-live" });
    expect(decideDrift({ version: "1.0.0" }, routing("1"), undefined)).to.deep.equal({ kind: "unknown", reason: "no-marker" });
  });
});

describe("drift: did the branch move on (the scheduled check's fileChange)", () => {
  // LIVE moved by hand from v6 (1.5.0, as the marker says) to v4.
  const drifted = (deployed: Declared) => decideDrift(deployed, routing("4"), marker()) as Extract<DriftVerdict, { kind: "drifted" }>;
  const head = (entries: [string, Declared][]): BranchView => ({ kind: "file", declared: new Map(entries) });
  const revisions = (deployed: string | undefined, latest: string | undefined): BranchView => ({ kind: "revision", deployed, latest });
  const rows: { case: string; deployed: Declared; branch: BranchView; change: FileChange }[] = [
    { case: "head file declares what the reconciler wrote", deployed: { version: "1.5.0" }, branch: head([["f", { version: "1.5.0" }]]), change: "unchanged" },
    { case: "head file declares another version", deployed: { version: "1.5.0" }, branch: head([["f", { version: "1.6.0" }]]), change: "changed" },
    {
      case: "head file declares a canary the reconciler did not write",
      deployed: { version: "1.5.0" },
      branch: head([["f", { version: "1.5.0", canary: { version: "1.6.0", weight: 0.1 } }]]),
      change: "changed",
    },
    { case: "the function left the head file", deployed: { version: "1.5.0" }, branch: head([]), change: "changed" },
    {
      case: "head file wins over a deployed file that differs (the next run deploys the head)",
      deployed: { version: "1.6.0" },
      branch: head([["f", { version: "1.5.0" }]]),
      change: "unchanged",
    },
    { case: "revisions: nothing newer", deployed: { version: "1.5.0" }, branch: revisions("c2", "c2"), change: "unchanged" },
    { case: "revisions: a newer commit waits", deployed: { version: "1.5.0" }, branch: revisions("c2", "c3"), change: "newer-commit-not-deployed" },
    { case: "revisions unknown", deployed: { version: "1.5.0" }, branch: revisions(undefined, "c3"), change: "unchanged" },
    { case: "revisions: the deployed file itself declares something else", deployed: { version: "1.6.0" }, branch: revisions("c2", "c3"), change: "changed" },
  ];
  for (const row of rows) {
    it(`${row.case}: ${row.change}`, () => {
      expect(fileChangeOf("f", drifted(row.deployed), row.branch)).to.equal(row.change);
    });
  }
});
