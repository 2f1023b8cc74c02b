import { expect } from "chai";
import {
  decodeMarker,
  encodeMarker,
  MARKER_PREFIX,
  MAX_ALIAS_DESCRIPTION,
  type Marker,
} from "../../../reconciler/observe/marker.ts";

describe("marker: what the reconciler last wrote to LIVE, kept in its description", () => {
  const rows: { case: string; marker: Marker }[] = [
    { case: "a plain version", marker: { version: "1.5.0", functionVersion: "7", weights: {} } },
    {
      case: "a move from another version (kept to recognise provisioned concurrency's transient weight)",
      marker: { version: "1.5.0", functionVersion: "7", weights: {}, fromFunctionVersion: "6" },
    },
    {
      case: "a canary",
      marker: {
        version: "1.5.0",
        canary: { version: "1.6.0-rc.1", weight: 12.5 },
        functionVersion: "7",
        weights: { "9": 0.125 },
      },
    },
    {
      case: "a rollout on step 2 of 3",
      marker: {
        version: "2.0.0",
        functionVersion: "4",
        weights: { "5": 0.5 },
        rollout: { fromVersion: "1.9.0", fromFunctionVersion: "4", step: 2, steps: 3, since: 1_796_054_400 },
      },
    },
    {
      case: "a rollout baking at 100% (step = steps + 1)",
      marker: {
        version: "2.0.0",
        functionVersion: "5",
        weights: {},
        rollout: { fromVersion: "1.9.0", fromFunctionVersion: "4", step: 3, steps: 2, since: 1_796_054_400 },
      },
    },
    {
      case: "an all-at-once rollout with no partial step",
      marker: {
        version: "2.0.0",
        functionVersion: "5",
        weights: {},
        rollout: { fromVersion: "1.9.0", fromFunctionVersion: "4", step: 1, steps: 0, since: 1_796_054_400 },
      },
    },
    {
      case: "a rollout rolled back at step 2 of 3",
      marker: {
        version: "2.0.0",
        functionVersion: "4",
        weights: {},
        rollout: {
          fromVersion: "1.9.0",
          fromFunctionVersion: "4",
          step: 2,
          steps: 3,
          since: 1_796_054_400,
          rolledBack: true,
        },
      },
    },
  ];
  for (const row of rows) {
    it(`round-trips ${row.case} within Lambda's 256-character limit`, () => {
      const text = encodeMarker(row.marker);
      expect(text).to.be.a("string");
      expect(text!.startsWith(MARKER_PREFIX)).to.equal(true);
      expect(text!.length).to.be.at.most(MAX_ALIAS_DESCRIPTION);
      expect(decodeMarker(text)).to.deep.equal(row.marker);
    });
  }

  it("writes weights in a stable order, so the same routing always gives the same description", () => {
    const a = encodeMarker({ version: "1.0.0", functionVersion: "1", weights: { "3": 0.1, "2": 0.2 } });
    const b = encodeMarker({ version: "1.0.0", functionVersion: "1", weights: { "2": 0.2, "3": 0.1 } });
    expect(a).to.equal(b);
  });

  it("gives undefined when the marker cannot fit, instead of writing a cut one", () => {
    const long = `1.0.0-${"a".repeat(120)}`;
    expect(
      encodeMarker({
        version: long,
        canary: { version: long, weight: 1 },
        functionVersion: "1",
        weights: { "2": 0.01 },
      }),
    ).to.equal(undefined);
  });

  const notMarkers: { case: string; description: string | undefined | null }[] = [
    { case: "no description", description: undefined },
    { case: "null", description: null },
    { case: "a human's note", description: "moved by alice during the incident" },
    { case: "our version-alias text", description: "lambda-gitops: semantic version 1.2.0" },
    { case: "cut JSON", description: `${MARKER_PREFIX}{"v":"1.0.0","p":"3"` },
    { case: "missing the function version", description: `${MARKER_PREFIX}{"v":"1.0.0"}` },
    { case: "a weight that is not a number", description: `${MARKER_PREFIX}{"v":"1.0.0","p":"3","w":{"4":"x"}}` },
    { case: "a malformed canary", description: `${MARKER_PREFIX}{"v":"1.0.0","p":"3","c":["1.1.0"]}` },
    {
      case: "a rollout with step 0",
      description: `${MARKER_PREFIX}{"v":"1.0.0","p":"3","r":["0.9.0","2",0,2,1796054400]}`,
    },
    {
      case: "a rollout with an unknown sixth field",
      description: `${MARKER_PREFIX}{"v":"1.0.0","p":"3","r":["0.9.0","2",1,2,1796054400,7]}`,
    },
    { case: "a JSON array", description: `${MARKER_PREFIX}[1,2]` },
    { case: "a from version that is not a string", description: `${MARKER_PREFIX}{"v":"1.0.0","p":"3","f":2}` },
  ];
  for (const row of notMarkers) {
    it(`reads ${row.case} as no marker`, () => {
      expect(decodeMarker(row.description)).to.equal(undefined);
    });
  }
});
