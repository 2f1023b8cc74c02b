import { expect } from "chai";
import { decideDrift, type DriftVerdict } from "../../../reconciler/plan/drift.ts";
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
