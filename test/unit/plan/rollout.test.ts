import { expect } from "chai";
import type { Live } from "../../../reconciler/observe/live.ts";
import { encodeMarker, type Marker } from "../../../reconciler/observe/marker.ts";
import {
  type AlarmState,
  decideRollout,
  type LiveWrite,
  type Rollout,
  type RolloutDecision,
} from "../../../reconciler/plan/rollout.ts";
import { checkRolloutFits, MAX_ROLLOUT_SECONDS, rolloutSeconds } from "../../../reconciler/input/rollout-schema.ts";

// The world of every row: LIVE served 1.4.0 (function version 4); the file now declares 1.5.0
// (function version 5), rolled out in steps 10% and 50%, 5 minutes each, baked 10 minutes.
const T0 = Date.UTC(2026, 10, 30, 16, 0, 0); // ms
const S0 = T0 / 1000;
const ROLLOUT: Rollout = {
  steps: [10, 50],
  intervalSeconds: 300,
  bakeSeconds: 600,
  alarms: ["team-a-5xx", "team-a-p99"],
};
const DESIRED = { version: "1.5.0" };
const TARGET = { functionVersion: "5", weights: {} };
const OK = new Map<string, AlarmState>([
  ["team-a-5xx", "OK"],
  ["team-a-p99", "OK"],
]);
const alarms = (states: Record<string, AlarmState>) => new Map([...OK, ...Object.entries(states)]);

const rolloutMarker = (step: number, since: number, extra: Partial<NonNullable<Marker["rollout"]>> = {}) => ({
  fromVersion: "1.4.0",
  fromFunctionVersion: "4",
  step,
  steps: 2,
  since,
  ...extra,
});

/** LIVE as the reconciler left it: the routing and the marker describing it. */
function written(
  functionVersion: string,
  weights: Record<string, number>,
  rollout?: NonNullable<Marker["rollout"]>,
  version = "1.5.0",
): Live {
  const marker: Marker = { version, functionVersion, weights, ...(rollout ? { rollout } : {}) };
  return observedLive({ functionVersion, weights }, marker);
}

/** LIVE as observe/ builds it: the routing, the version behind its primary, the marker. */
function observedLive(routing: { functionVersion: string; weights: Record<string, number> }, marker: Marker | undefined): Live {
  const { functionVersion } = routing;
  return {
    routing,
    version: functionVersion === "4" ? "1.4.0" : functionVersion === "5" ? "1.5.0" : null,
    revisionId: "rev",
    description: marker ? (encodeMarker(marker) ?? "") : "",
    marker,
  };
}

const BEFORE: Live = written("4", {}, undefined, "1.4.0");
const STEP1 = written("4", { "5": 0.1 }, rolloutMarker(1, S0));
const STEP2 = written("4", { "5": 0.5 }, rolloutMarker(2, S0 + 300));
const BAKING = written("5", {}, rolloutMarker(3, S0 + 600));

/** The completing write once the bake is over: routing unchanged, the marker says done. */
const BAKE_DONE_RECORD: LiveWrite = {
  routing: { functionVersion: "5", weights: {} },
  marker: { version: "1.5.0", functionVersion: "5", weights: {}, rollout: { ...rolloutMarker(3, S0 + 600), done: true } },
};

interface Row {
  case: string;
  rollout?: Rollout;
  desired?: { version: string; canary?: { version: string; weight: number } };
  target?: { functionVersion: string; weights: Record<string, number> };
  live: Live | null;
  alarms?: Map<string, AlarmState>;
  now: number;
  expect: RolloutDecision;
}

const shiftMarker = (functionVersion: string, weights: Record<string, number>, step: number, since: number) => ({
  version: "1.5.0",
  functionVersion,
  weights,
  rollout: rolloutMarker(step, since),
});

const rows: Row[] = [
  // ---- immediate: nobody waits for a canary ----
  {
    case: "a function with no LIVE yet moves at once",
    live: null,
    now: T0,
    expect: { kind: "immediate", reason: "no-live", routing: TARGET },
  },
  {
    case: "a rollback to an older version moves at once",
    desired: { version: "1.3.0" },
    target: { functionVersion: "3", weights: {} },
    live: BEFORE,
    now: T0,
    expect: { kind: "immediate", reason: "older-version", routing: { functionVersion: "3", weights: {} } },
  },
  {
    case: "an older version moves at once even while an alarm fires",
    desired: { version: "1.3.0" },
    target: { functionVersion: "3", weights: {} },
    live: STEP1,
    alarms: alarms({ "team-a-5xx": "ALARM" }),
    now: T0,
    expect: { kind: "immediate", reason: "older-version", routing: { functionVersion: "3", weights: {} } },
  },
  {
    case: "a revert of the file during a rollout (back to 1.4.0) moves at once",
    desired: { version: "1.4.0" },
    target: { functionVersion: "4", weights: {} },
    live: STEP2,
    now: T0 + 310_000,
    expect: { kind: "immediate", reason: "revert", routing: { functionVersion: "4", weights: {} } },
  },
  {
    case: "a canary change on the same primary (no rollout marker) moves at once",
    desired: { version: "1.4.0", canary: { version: "1.5.0", weight: 20 } },
    target: { functionVersion: "4", weights: { "5": 0.2 } },
    live: BEFORE,
    now: T0,
    expect: { kind: "immediate", reason: "same-primary", routing: { functionVersion: "4", weights: { "5": 0.2 } } },
  },
  {
    case: "a LIVE on $LATEST cannot carry weights, so it moves at once",
    live: observedLive({ functionVersion: "$LATEST", weights: {} }, undefined),
    now: T0,
    expect: { kind: "immediate", reason: "unversioned-live", routing: TARGET },
  },
  // ---- starting: alarms must exist and be quiet ----
  {
    case: "the first shift goes to 10%, after the smoke invocation (first), next due after the interval",
    live: BEFORE,
    now: T0,
    expect: {
      kind: "shift",
      routing: { functionVersion: "4", weights: { "5": 0.1 } },
      marker: shiftMarker("4", { "5": 0.1 }, 1, S0),
      step: 1,
      steps: 2,
      first: true,
      nextAt: T0 + 300_000,
    },
  },
  {
    case: "the shift time is rounded up to the second, so an interval is never cut short",
    live: BEFORE,
    now: T0 + 200,
    expect: {
      kind: "shift",
      routing: { functionVersion: "4", weights: { "5": 0.1 } },
      marker: shiftMarker("4", { "5": 0.1 }, 1, S0 + 1),
      step: 1,
      steps: 2,
      first: true,
      nextAt: T0 + 301_000,
    },
  },
  {
    case: "a missing alarm blocks before any traffic, naming it",
    live: BEFORE,
    alarms: alarms({ "team-a-p99": "missing" }),
    now: T0,
    expect: {
      kind: "blocked",
      code: "alarm-missing",
      alarm: "team-a-p99",
      reason: 'alarm "team-a-p99" does not exist in the target account and Region: a rollout is never unwatched',
    },
  },
  {
    case: "an alarm left out of the observed states counts as missing (fail closed)",
    live: BEFORE,
    alarms: new Map([["team-a-5xx", "OK"]]),
    now: T0,
    expect: {
      kind: "blocked",
      code: "alarm-missing",
      alarm: "team-a-p99",
      reason: 'alarm "team-a-p99" does not exist in the target account and Region: a rollout is never unwatched',
    },
  },
  {
    case: "an alarm in ALARM before the first shift blocks, naming it",
    live: BEFORE,
    alarms: alarms({ "team-a-p99": "ALARM" }),
    now: T0,
    expect: {
      kind: "blocked",
      code: "alarm-in-alarm",
      alarm: "team-a-p99",
      reason: 'alarm "team-a-p99" is in ALARM before the first shift: the rollout waits until it is not',
    },
  },
  {
    case: "INSUFFICIENT_DATA does not stop the start",
    live: BEFORE,
    alarms: alarms({ "team-a-5xx": "INSUFFICIENT_DATA" }),
    now: T0,
    expect: {
      kind: "shift",
      routing: { functionVersion: "4", weights: { "5": 0.1 } },
      marker: shiftMarker("4", { "5": 0.1 }, 1, S0),
      step: 1,
      steps: 2,
      first: true,
      nextAt: T0 + 300_000,
    },
  },
  {
    case: "no steps: straight to 100%, then the bake (still watched)",
    rollout: { ...ROLLOUT, steps: [] },
    live: BEFORE,
    now: T0,
    expect: {
      kind: "shift",
      routing: TARGET,
      marker: { version: "1.5.0", functionVersion: "5", weights: {}, rollout: { ...rolloutMarker(1, S0), steps: 0 } },
      step: 1,
      steps: 0,
      first: true,
      nextAt: T0 + 600_000,
    },
  },
  {
    case: "no steps and no bake: the one shift ends the rollout",
    rollout: { ...ROLLOUT, steps: [], bakeSeconds: 0 },
    live: BEFORE,
    now: T0,
    expect: {
      kind: "shift",
      routing: TARGET,
      // Issue 20: the completing write (no bake) leaves a marker that says done.
      marker: { version: "1.5.0", functionVersion: "5", weights: {}, rollout: { ...rolloutMarker(1, S0), steps: 0, done: true } },
      step: 1,
      steps: 0,
      first: true,
      nextAt: undefined,
    },
  },
  {
    case: "the declared canary goes into the marker and the final routing",
    desired: { version: "1.5.0", canary: { version: "1.6.0", weight: 5 } },
    target: { functionVersion: "5", weights: { "6": 0.05 } },
    live: STEP2,
    now: T0 + 600_000,
    expect: {
      kind: "shift",
      routing: { functionVersion: "5", weights: { "6": 0.05 } },
      marker: {
        version: "1.5.0",
        canary: { version: "1.6.0", weight: 5 },
        functionVersion: "5",
        weights: { "6": 0.05 },
        rollout: rolloutMarker(3, S0 + 600),
      },
      step: 3,
      steps: 2,
      first: false,
      nextAt: T0 + 1_200_000,
    },
  },
  // ---- in flight: waiting and shifting on the marker's clock ----
  {
    case: "on step 1 before its interval ends: wait until the next shift",
    live: STEP1,
    now: T0 + 299_999,
    expect: { kind: "wait", until: T0 + 300_000, phase: "interval", step: 1, steps: 2 },
  },
  {
    case: "on step 1 when its interval ends: shift to step 2 (50%)",
    live: STEP1,
    now: T0 + 300_000,
    expect: {
      kind: "shift",
      routing: { functionVersion: "4", weights: { "5": 0.5 } },
      marker: shiftMarker("4", { "5": 0.5 }, 2, S0 + 300),
      step: 2,
      steps: 2,
      first: false,
      nextAt: T0 + 600_000,
    },
  },
  {
    case: "a run long after a crash makes only the next move (one step at a time)",
    live: STEP1,
    now: T0 + 3_600_000,
    expect: {
      kind: "shift",
      routing: { functionVersion: "4", weights: { "5": 0.5 } },
      marker: shiftMarker("4", { "5": 0.5 }, 2, S0 + 3600),
      step: 2,
      steps: 2,
      first: false,
      nextAt: T0 + 3_900_000,
    },
  },
  {
    case: "on the last step when its interval ends: 100%, then bake",
    live: STEP2,
    now: T0 + 600_000,
    expect: {
      kind: "shift",
      routing: TARGET,
      marker: shiftMarker("5", {}, 3, S0 + 600),
      step: 3,
      steps: 2,
      first: false,
      nextAt: T0 + 1_200_000,
    },
  },
  {
    case: "INSUFFICIENT_DATA during a step does not stop the rollout",
    live: STEP1,
    alarms: alarms({ "team-a-p99": "INSUFFICIENT_DATA" }),
    now: T0 + 10_000,
    expect: { kind: "wait", until: T0 + 300_000, phase: "interval", step: 1, steps: 2 },
  },
  {
    case: "steps edited during the rollout: the step is read from LIVE's weight, the next one from the file",
    rollout: { ...ROLLOUT, steps: [10, 25, 50] },
    live: STEP1,
    now: T0 + 300_000,
    expect: {
      kind: "shift",
      routing: { functionVersion: "4", weights: { "5": 0.25 } },
      marker: { ...shiftMarker("4", { "5": 0.25 }, 2, S0 + 300), rollout: { ...rolloutMarker(2, S0 + 300), steps: 3 } },
      step: 2,
      steps: 3,
      first: false,
      nextAt: T0 + 600_000,
    },
  },
  // ---- baking at 100% ----
  {
    case: "baking: wait until the bake ends",
    live: BAKING,
    now: T0 + 700_000,
    expect: { kind: "wait", until: T0 + 1_200_000, phase: "bake", step: 3, steps: 2 },
  },
  {
    case: "baking over: done, with the completing write that records it (routing unchanged, marker says done)",
    live: BAKING,
    now: T0 + 1_200_000,
    expect: {
      kind: "done",
      steps: 2,
      record: BAKE_DONE_RECORD,
    },
  },
  {
    case: "baking over and an alarm in ALARM: done all the same (the bake's end is read before any alarm)",
    live: BAKING,
    alarms: alarms({ "team-a-p99": "ALARM" }),
    now: T0 + 1_200_000,
    expect: {
      kind: "done",
      steps: 2,
      record: BAKE_DONE_RECORD,
    },
  },
  {
    case: "a finished rollout (marker says done) with an alarm in ALARM a week later: done, LIVE stays",
    live: written("5", {}, { ...rolloutMarker(3, S0 + 600), done: true }),
    alarms: alarms({ "team-a-p99": "ALARM" }),
    now: T0 + 7 * 86_400_000,
    expect: { kind: "done", steps: 2 },
  },
  {
    case: "LIVE already as declared with no rollout marker: done",
    live: written("5", {}),
    now: T0,
    expect: { kind: "done", steps: 2 },
  },
  // ---- rollback ----
  {
    case: "an alarm in ALARM during step 1 rolls back to the previous primary, naming alarm and step",
    live: STEP1,
    alarms: alarms({ "team-a-p99": "ALARM" }),
    now: T0 + 60_000,
    expect: {
      kind: "rollback",
      routing: { functionVersion: "4", weights: {} },
      marker: { version: "1.5.0", functionVersion: "4", weights: {}, rollout: rolloutMarker(1, S0 + 60, { rolledBack: true }) },
      alarm: "team-a-p99",
      state: "ALARM",
      step: 1,
      steps: 2,
    },
  },
  {
    case: "an alarm in ALARM when the next shift is due still rolls back (alarms first)",
    live: STEP2,
    alarms: alarms({ "team-a-5xx": "ALARM" }),
    now: T0 + 900_000,
    expect: {
      kind: "rollback",
      routing: { functionVersion: "4", weights: {} },
      marker: { version: "1.5.0", functionVersion: "4", weights: {}, rollout: rolloutMarker(2, S0 + 900, { rolledBack: true }) },
      alarm: "team-a-5xx",
      state: "ALARM",
      step: 2,
      steps: 2,
    },
  },
  {
    case: "an alarm in ALARM during the bake rolls back from 100% (step 3 of 2 = bake)",
    live: BAKING,
    alarms: alarms({ "team-a-5xx": "ALARM" }),
    now: T0 + 700_000,
    expect: {
      kind: "rollback",
      routing: { functionVersion: "4", weights: {} },
      marker: { version: "1.5.0", functionVersion: "4", weights: {}, rollout: rolloutMarker(3, S0 + 700, { rolledBack: true }) },
      alarm: "team-a-5xx",
      state: "ALARM",
      step: 3,
      steps: 2,
    },
  },
  {
    case: "an alarm deleted during the rollout rolls back too (unwatched is not allowed)",
    live: STEP1,
    alarms: alarms({ "team-a-5xx": "missing" }),
    now: T0 + 60_000,
    expect: {
      kind: "rollback",
      routing: { functionVersion: "4", weights: {} },
      marker: { version: "1.5.0", functionVersion: "4", weights: {}, rollout: rolloutMarker(1, S0 + 60, { rolledBack: true }) },
      alarm: "team-a-5xx",
      state: "missing",
      step: 1,
      steps: 2,
    },
  },
  {
    case: "a rolled-back rollout is not started again while the file declares the same version",
    live: written("4", {}, rolloutMarker(2, S0 + 400, { rolledBack: true })),
    now: T0 + 3_600_000,
    expect: {
      kind: "blocked",
      code: "rolled-back",
      reason:
        "the rollout of 1.5.0 was rolled back at step 2 of 3 (2026-11-30T16:06Z); LIVE stays on 1.4.0. " +
        "Declare another version (or revert the file) to move LIVE",
    },
  },
  // ---- LIVE not as the marker says, or a marker for another version: start afresh ----
  {
    // Issue 20 (people win): this case used to start the rollout again from LIVE's primary.
    case: "LIVE moved by hand since the marker was written: stopped, naming where LIVE is now",
    live: { ...STEP1, routing: { ...STEP1.routing, weights: { "5": 0.3 } } },
    now: T0 + 300_000,
    expect: {
      kind: "blocked",
      code: "stopped",
      reason: "LIVE was moved outside lambda-gitops during the rollout of 1.5.0 (now 1.4.0 at 70%, 1.5.0 at 30%)",
    },
  },
  {
    case: "LIVE moved back to 100% on the old version mid-rollout: stopped (now 1.4.0 at 100%)",
    live: { ...STEP2, routing: { functionVersion: "4", weights: {} } },
    now: T0 + 400_000,
    expect: {
      kind: "blocked",
      code: "stopped",
      reason: "LIVE was moved outside lambda-gitops during the rollout of 1.5.0 (now 1.4.0 at 100%)",
    },
  },
  {
    case: "a newer version declared during a rollout starts its own rollout from the same primary",
    desired: { version: "1.6.0" },
    target: { functionVersion: "6", weights: {} },
    live: STEP2,
    now: T0 + 400_000,
    expect: {
      kind: "shift",
      routing: { functionVersion: "4", weights: { "6": 0.1 } },
      marker: { version: "1.6.0", functionVersion: "4", weights: { "6": 0.1 }, rollout: rolloutMarker(1, S0 + 400) },
      step: 1,
      steps: 2,
      first: true,
      nextAt: T0 + 700_000,
    },
  },
  {
    case: "a LIVE version without a semantic version (no version alias) can still be rolled from",
    live: observedLive({ functionVersion: "3", weights: {} }, undefined),
    rollout: { ...ROLLOUT, alarms: [] },
    now: T0,
    expect: {
      kind: "shift",
      routing: { functionVersion: "3", weights: { "5": 0.1 } },
      marker: {
        version: "1.5.0",
        functionVersion: "3",
        weights: { "5": 0.1 },
        rollout: { fromVersion: "", fromFunctionVersion: "3", step: 1, steps: 2, since: S0 },
      },
      step: 1,
      steps: 2,
      first: true,
      nextAt: T0 + 300_000,
    },
  },
];

describe("rollout decision: (rollout, LIVE routing + marker, alarms, now) -> next move", () => {
  for (const row of rows) {
    it(row.case, () => {
      const decision = decideRollout({
        rollout: row.rollout ?? ROLLOUT,
        declared: row.desired ?? DESIRED,
        target: row.target ?? TARGET,
        live: row.live,
        alarms: row.alarms ?? OK,
        now: row.now,
      });
      expect(decision).to.deep.equal(row.expect);
    });
  }

  it("a whole rollout replayed on its own marker reaches done in steps + 1 shifts, never waiting past a due move", () => {
    let live: Live | null = BEFORE;
    let now = T0;
    const shifts: number[] = [];
    for (let guard = 0; guard < 20; guard++) {
      const d = decideRollout({ rollout: ROLLOUT, declared: DESIRED, target: TARGET, live, alarms: OK, now });
      if (d.kind === "done") break;
      if (d.kind === "shift") {
        shifts.push(d.step);
        live = observedLive(d.routing, d.marker);
      } else if (d.kind === "wait") {
        expect(d.until).to.be.greaterThan(now);
        now = d.until;
      } else {
        expect.fail(`unexpected ${d.kind}`);
      }
    }
    expect(shifts).to.deep.equal([1, 2, 3]);
    expect(now).to.equal(T0 + 1_200_000);
  });
});

describe("rollout duration: it must fit in one CodePipeline Lambda invoke action", () => {
  const rows: { case: string; steps: number[]; interval: number; bake: number; fits: boolean }[] = [
    { case: "two 5-minute steps and a 10-minute bake", steps: [10, 50], interval: 300, bake: 600, fits: true },
    { case: "exactly the budget (23h)", steps: [50], interval: 22 * 3600, bake: 3600, fits: true },
    { case: "one second over the budget", steps: [50], interval: 22 * 3600, bake: 3601, fits: false },
    { case: "ten 3-hour steps", steps: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], interval: 3 * 3600, bake: 0, fits: false },
    { case: "no steps and a 23h bake", steps: [], interval: 3600, bake: 23 * 3600, fits: true },
  ];
  for (const row of rows) {
    it(`${row.case}: ${row.fits ? "fits" : "does not fit"}`, () => {
      const rollout = { steps: row.steps, intervalSeconds: row.interval, bakeSeconds: row.bake };
      expect(rolloutSeconds(rollout)).to.equal(row.steps.length * row.interval + row.bake);
      const problem = checkRolloutFits(rollout);
      if (row.fits) expect(problem).to.equal(undefined);
      else expect(problem).to.match(/must fit in 23h: CodePipeline fails a Lambda invoke action after 24h/);
    });
  }

  it("says how the total is made up", () => {
    expect(checkRolloutFits({ steps: [10, 50], intervalSeconds: 12 * 3600, bakeSeconds: 3600 })).to.match(
      /^the rollout lasts 25h \(2 steps × 12h interval \+ 1h bake\)/,
    );
    expect(MAX_ROLLOUT_SECONDS).to.equal(23 * 3600);
  });
});
