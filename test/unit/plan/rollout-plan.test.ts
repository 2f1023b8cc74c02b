import { expect } from "chai";
import { findLive } from "../../../reconciler/observe/live.ts";
import type { Rollout } from "../../../reconciler/input/rollout-schema.ts";
import type { Observation, VersionSighting } from "../../../reconciler/observe/observe.ts";
import type { AliasState } from "../../../reconciler/observe/state.ts";
import { encodeMarker, type Marker } from "../../../reconciler/observe/marker.ts";
import { planFunction, stepsOf } from "../../../reconciler/plan/plan.ts";
import type { AlarmState } from "../../../reconciler/plan/rollout.ts";
import { describeDetails } from "../../../reconciler/report/report.ts";
import { alias, fnState, spec } from "../../support/fixtures.ts";

const NOW = Date.UTC(2026, 10, 30, 16, 0, 0);
const ROLLOUT: Rollout = { steps: [10, 50], intervalSeconds: 300, bakeSeconds: 0, alarms: ["a-5xx"] };
const OK = new Map<string, AlarmState>([["a-5xx", "OK"]]);

/** Production has 1.0.0 (v1) and 1.1.0 (v2); LIVE as given; 2.0.0 only in the source account. */
function observed(live: AliasState | undefined): Observation {
  const v100 = alias("1-0-0", "1");
  const v110 = alias("1-1-0", "2");
  const aliases = [v100, v110, ...(live ? [live] : [])];
  const versions: Record<string, VersionSighting> = {
    "1.0.0": { where: "target", alias: v100 },
    "1.1.0": { where: "target", alias: v110 },
    "2.0.0": { where: "source", sourceAccount: "111111111111", source: fnState({ functionVersion: "7", codeSha256: "sha-2" }) },
  };
  return { kind: "observed", live: findLive(aliases, "LIVE"), aliases, versions, latest: fnState() };
}

const marked = (functionVersion: string, weights: Record<string, number>, marker: Marker) =>
  alias("LIVE", functionVersion, weights, "rev-live", encodeMarker(marker));

interface Row {
  case: string;
  version: string;
  live: AliasState | undefined;
  alarms?: Map<string, AlarmState>;
  now?: number;
  rollout?: Rollout;
  expect: { action: string; steps?: string[]; details?: RegExp; code?: string; reason?: RegExp };
}

const rows: Row[] = [
  {
    case: "a roll-forward becomes a rollout step, starting with the smoke test and 10%",
    version: "1.1.0",
    live: alias("LIVE", "1"),
    expect: { action: "rollforward", steps: ["rollout"], details: /rollout 10% -> 50% -> 100%, every 5m, alarms a-5xx; rollout starts: step 1 of 3/ },
  },
  {
    case: "a promotion stages the version, then rolls out to it",
    version: "2.0.0",
    live: alias("LIVE", "1"),
    expect: { action: "promote", steps: ["stage", "rollout"], details: /rollout starts: step 1 of 3/ },
  },
  {
    case: "a rollout in flight shows its step and the next shift",
    version: "1.1.0",
    live: marked("1", { "2": 0.1 }, { version: "1.1.0", functionVersion: "1", weights: { "2": 0.1 }, rollout: { fromVersion: "1.0.0", fromFunctionVersion: "1", step: 1, steps: 2, since: NOW / 1000 - 60 } }),
    expect: { action: "rollforward", steps: ["rollout"], details: /rollout step 1 of 3, next shift at 2026-11-30 16:04Z/ },
  },
  {
    case: "a rollout baking at 100% is not a noop: the bake is still watched",
    version: "1.1.0",
    rollout: { ...ROLLOUT, bakeSeconds: 600 },
    live: marked("2", {}, { version: "1.1.0", functionVersion: "2", weights: {}, rollout: { fromVersion: "1.0.0", fromFunctionVersion: "1", step: 3, steps: 2, since: NOW / 1000 - 10 } }),
    expect: { action: "rollforward", steps: ["rollout"], details: /rollout at 100%, bake until 2026-11-30 16:09Z/ },
  },
  {
    case: "the same LIVE once the bake is over: noop",
    version: "1.1.0",
    live: marked("2", {}, { version: "1.1.0", functionVersion: "2", weights: {}, rollout: { fromVersion: "1.0.0", fromFunctionVersion: "1", step: 3, steps: 2, since: NOW / 1000 - 600 } }),
    rollout: { ...ROLLOUT, bakeSeconds: 600 },
    expect: { action: "noop", steps: [] },
  },
  {
    case: "a missing alarm blocks the function in the plan, naming the alarm",
    version: "1.1.0",
    live: alias("LIVE", "1"),
    alarms: new Map(),
    expect: { action: "blocked", code: "alarm-missing", reason: /alarm "a-5xx" does not exist/ },
  },
  {
    case: "an alarm in ALARM before the first shift blocks",
    version: "1.1.0",
    live: alias("LIVE", "1"),
    alarms: new Map([["a-5xx", "ALARM"]]),
    expect: { action: "blocked", code: "alarm-in-alarm", reason: /in ALARM before the first shift/ },
  },
  {
    case: "a rollback to an older version is one route step (immediate)",
    version: "1.0.0",
    live: alias("LIVE", "2"),
    alarms: new Map([["a-5xx", "ALARM"]]),
    expect: { action: "rollback", steps: ["route"] },
  },
  {
    case: "a function with no LIVE yet is created in one route step",
    version: "1.1.0",
    live: undefined,
    expect: { action: "create", steps: ["route"], details: /^create LIVE -> /u },
  },
  {
    case: "a function with no LIVE yet is created even if a named alarm is missing (no rollout to watch)",
    version: "1.1.0",
    live: undefined,
    alarms: new Map(),
    expect: { action: "create", steps: ["route"] },
  },
  {
    case: "LIVE already as declared and no rollout in flight: noop",
    version: "1.1.0",
    live: alias("LIVE", "2"),
    expect: { action: "noop", steps: [] },
  },
];

describe("planning rollouts: which step moves LIVE, or why the function is blocked", () => {
  for (const row of rows) {
    it(row.case, () => {
      const entry = planFunction({ ...spec("team-a-orders", row.version), rollout: row.rollout ?? ROLLOUT }, observed(row.live), "LIVE", undefined, {
        alarms: row.alarms ?? OK,
        now: row.now ?? NOW,
      });
      expect(entry.action.kind).to.equal(row.expect.action);
      if (row.expect.steps) expect(stepsOf(entry).map((s) => s.kind)).to.deep.equal(row.expect.steps);
      if (row.expect.details) expect(describeDetails(entry)).to.match(row.expect.details);
      if (entry.action.kind === "blocked") {
        expect(entry.action.code).to.equal(row.expect.code);
        expect(entry.action.reason).to.match(row.expect.reason!);
      }
    });
  }

  it("without a rollout the same roll-forward is one route step", () => {
    const entry = planFunction(spec("team-a-orders", "1.1.0"), observed(alias("LIVE", "1")));
    expect(stepsOf(entry).map((s) => s.kind)).to.deep.equal(["route"]);
  });
});
