import { expect } from "chai";
import type { InvokeOutcome } from "../../../reconciler/aws/lambda.ts";
import {
  type Clock,
  type RolloutJob,
  type RolloutPort,
  runRollout,
  WATCH_INTERVAL_MS,
} from "../../../reconciler/apply/rollout-runner.ts";
import type { Live } from "../../../reconciler/observe/live.ts";
import { encodeMarker, type Marker } from "../../../reconciler/observe/marker.ts";
import { type AlarmState, failureReason, type RolloutEvent, type RolloutFailure, type RolloutRouting } from "../../../reconciler/plan/rollout.ts";

/** LIVE as observe/ builds it from an alias. */
function liveOf(routing: RolloutRouting, version: string | null, marker: Marker | undefined, revisionId: string): Live {
  return { routing, version, revisionId, description: marker ? (encodeMarker(marker) ?? "") : "", marker };
}

const T0 = Date.UTC(2026, 10, 30, 16, 0, 0);
const JOB: RolloutJob = {
  rollout: { steps: [10, 50], intervalSeconds: 300, bakeSeconds: 600, alarms: ["a-5xx"], smoke: { payload: { ping: true } } },
  declared: { version: "1.5.0" },
  target: { functionVersion: "5", weights: {} },
};

/** A recording fake of one function's LIVE alias, its alarms and the smoke invocation, on a fake clock. */
class World implements RolloutPort {
  now = T0;
  revision = 1;
  live: Live | null = liveOf({ functionVersion: "4", weights: {} }, "1.4.0", { version: "1.4.0", functionVersion: "4", weights: {} }, "r1");
  log: string[] = [];
  alarmReads: number[] = [];
  alarmAt: (now: number) => AlarmState = () => "OK";
  smokeAnswer: InvokeOutcome = { ok: true, statusCode: 200, executedVersion: "5" };
  conflictsToAnswer = 0;
  readonly clock: Clock = {
    now: () => this.now,
    sleep: async (ms) => {
      this.log.push(`sleep ${ms}`);
      this.now += ms;
    },
  };

  async readLive() {
    this.log.push("read");
    return this.live && structuredClone(this.live);
  }
  async writeLive(routing: RolloutRouting, marker: Marker, revisionId: string | undefined) {
    if (this.conflictsToAnswer > 0 || revisionId !== this.live?.revisionId) {
      this.conflictsToAnswer = Math.max(0, this.conflictsToAnswer - 1);
      this.log.push("write conflict");
      return { ok: false as const, conflict: true as const };
    }
    this.revision += 1;
    const version = routing.functionVersion === "5" ? "1.5.0" : routing.functionVersion === "4" ? "1.4.0" : null;
    this.live = liveOf(structuredClone(routing), version, structuredClone(marker), `r${this.revision}`);
    this.log.push(`write ${routing.functionVersion} ${JSON.stringify(routing.weights)}`);
    return { ok: true as const, live: structuredClone(this.live) };
  }
  async alarmStates(names: readonly string[]) {
    this.alarmReads.push(this.now);
    return new Map(names.map((n) => [n, this.alarmAt(this.now)] as const));
  }
  async smoke(payload: unknown) {
    this.log.push(`smoke ${JSON.stringify(payload)}`);
    return this.smokeAnswer;
  }
  writes() {
    return this.log.filter((l) => l.startsWith("write") || l.startsWith("smoke"));
  }
}

describe("rollout runner (recording fake, fake clock)", () => {
  it("runs a rollout to the end: smoke, 10%, 50%, 100%, bake; alarms checked at least every 30 s", async () => {
    const world = new World();
    const events: RolloutEvent[] = [];
    const outcome = await runRollout(JOB, world, { clock: world.clock, onEvent: (e) => events.push(e) });
    // Issue 20: the bake's end is recorded by a fourth write (routing unchanged, marker says done).
    expect(outcome).to.deep.equal({ kind: "done", steps: 2, shifts: 4 });
    expect(world.writes()).to.deep.equal(['smoke {"ping":true}', 'write 4 {"5":0.1}', 'write 4 {"5":0.5}', "write 5 {}", "write 5 {}"]);
    expect(world.live!.marker!.rollout!.done).to.equal(true);
    expect(world.now).to.equal(T0 + 1_200_000);
    expect(world.live!.marker!.rollout).to.deep.include({ step: 3, steps: 2, fromFunctionVersion: "4" });
    const gaps = world.alarmReads.slice(1).map((t, i) => t - world.alarmReads[i]!);
    expect(Math.max(...gaps)).to.be.at.most(WATCH_INTERVAL_MS);
    expect(events.filter((e) => e.kind === "shift").map((e) => (e as { weight: number }).weight)).to.deep.equal([10, 50, 100]);
    expect(world.log.filter((l) => l === "read")).to.have.length(1); // the write's answer is used, LIVE is not re-read
  });

  it("an alarm in ALARM during step 2 rolls LIVE back to 100% on the previous primary, naming alarm and step", async () => {
    const world = new World();
    world.alarmAt = (now) => (now >= T0 + 400_000 ? "ALARM" : "OK");
    const outcome = await runRollout(JOB, world, { clock: world.clock });
    expect(outcome).to.deep.equal({ kind: "rolled-back", alarm: "a-5xx", state: "ALARM", step: 2, steps: 2 });
    expect(world.writes()).to.deep.equal(['smoke {"ping":true}', 'write 4 {"5":0.1}', 'write 4 {"5":0.5}', "write 4 {}"]);
    expect(world.live!.marker!.rollout!.rolledBack).to.equal(true);
    // Detected within one watch interval of the alarm firing.
    expect(world.now - (T0 + 400_000)).to.be.lessThan(WATCH_INTERVAL_MS);
    // A later run does not start the same rollout again.
    const again = await runRollout(JOB, world, { clock: world.clock });
    expect(again.kind).to.equal("blocked");
    expect(world.writes()).to.have.length(4);
  });

  it("a failing smoke invocation stops before any traffic moves", async () => {
    const world = new World();
    world.smokeAnswer = { ok: false, statusCode: 200, functionError: "Unhandled", executedVersion: "5", excerpt: '{"errorMessage":"boom"}' };
    const outcome = await runRollout(JOB, world, { clock: world.clock });
    expect(outcome).to.deep.equal({ kind: "smoke-failed", statusCode: 200, functionError: "Unhandled", excerpt: '{"errorMessage":"boom"}' });
    expect(world.writes()).to.deep.equal(['smoke {"ping":true}']);
  });

  it("a missing alarm blocks before the smoke invocation and any write", async () => {
    const world = new World();
    world.alarmAt = () => "missing";
    const outcome = await runRollout(JOB, world, { clock: world.clock });
    expect(outcome).to.deep.include({ kind: "blocked", code: "alarm-missing", alarm: "a-5xx" });
    expect(world.writes()).to.deep.equal([]);
  });

  it("--no-wait makes only the next due move and exits; later runs continue from LIVE", async () => {
    const world = new World();
    const first = await runRollout(JOB, world, { clock: world.clock, noWait: true });
    expect(first).to.deep.equal({ kind: "in-progress", step: 1, steps: 2, phase: "interval", nextAt: T0 + 300_000, shifts: 1 });
    world.now += 100_000;
    const early = await runRollout(JOB, world, { clock: world.clock, noWait: true });
    expect(early).to.deep.equal({ kind: "in-progress", step: 1, steps: 2, phase: "interval", nextAt: T0 + 300_000, shifts: 0 });
    world.now = T0 + 300_000;
    const second = await runRollout(JOB, world, { clock: world.clock, noWait: true });
    expect(second).to.deep.include({ kind: "in-progress", step: 2, shifts: 1 });
    expect(world.writes()).to.deep.equal(['smoke {"ping":true}', 'write 4 {"5":0.1}', 'write 4 {"5":0.5}']);
    expect(world.log.filter((l) => l.startsWith("sleep"))).to.deep.equal([]);
  });

  it("hands over before the deadline instead of sleeping past it", async () => {
    const world = new World();
    const deadline = T0 + 100_000;
    const outcome = await runRollout(JOB, world, { clock: world.clock, deadline });
    expect(outcome).to.deep.include({ kind: "in-progress", step: 1, nextAt: T0 + 300_000 });
    expect(world.now).to.be.at.most(deadline);
  });

  it("Ctrl-C (abort) hands over at the next wait, leaving the rollout for the next run", async () => {
    const world = new World();
    const abort = new AbortController();
    const clock: Clock = { now: world.clock.now, sleep: async (ms) => { world.now += ms; abort.abort(); } };
    const outcome = await runRollout(JOB, world, { clock, signal: abort.signal });
    expect(outcome).to.deep.include({ kind: "in-progress", step: 1 });
    const resumed = await runRollout(JOB, world, { clock: world.clock });
    expect(resumed).to.deep.equal({ kind: "done", steps: 2, shifts: 3 });
  });

  it("a continuation never starts a rollout: LIVE moved elsewhere stops the job without writing", async () => {
    const world = new World();
    await runRollout(JOB, world, { clock: world.clock, noWait: true });
    world.live = liveOf({ functionVersion: "4", weights: {} }, "1.4.0", { version: "1.4.0", functionVersion: "4", weights: {} }, "human");
    const outcome = await runRollout(JOB, world, { clock: world.clock, mayStart: false });
    expect(outcome).to.deep.include({ kind: "blocked", code: "moved-elsewhere" });
    expect(world.writes()).to.have.length(2);
  });

  it("a write conflict re-reads LIVE and decides again", async () => {
    const world = new World();
    world.conflictsToAnswer = 1;
    const outcome = await runRollout(JOB, world, { clock: world.clock, noWait: true });
    expect(outcome).to.deep.include({ kind: "in-progress", step: 1 });
    expect(world.log.filter((l) => l === "read" || l.startsWith("write"))).to.deep.equal([
      "read",
      "write conflict",
      "read",
      'write 4 {"5":0.1}',
    ]);
  });

  it("no LIVE yet: one immediate write, no smoke, no wait", async () => {
    const world = new World();
    world.live = null;
    const outcome = await runRollout(JOB, world, { clock: world.clock });
    expect(outcome).to.deep.equal({ kind: "immediate", reason: "no-live", routing: { functionVersion: "5", weights: {} } });
    expect(world.writes()).to.deep.equal(["write 5 {}"]);
    expect(world.live!.marker).to.deep.equal({ version: "1.5.0", functionVersion: "5", weights: {} });
  });

  // ---- issue 20 ----
  it("people win: a person's rollback mid-rollout stops the rollout; this run and every later one write nothing", async () => {
    const world = new World();
    const first = await runRollout(JOB, world, { clock: world.clock, noWait: true });
    expect(first).to.deep.include({ kind: "in-progress", step: 1 });
    // The on-call engineer moves LIVE back to 100% on 1.4.0 (UpdateAlias keeps the description).
    world.live = { ...world.live!, routing: { functionVersion: "4", weights: {} }, version: "1.4.0", revisionId: "by-hand" };
    world.log = [];
    for (const wait of [0, 86_400_000]) {
      world.now += wait;
      const outcome = await runRollout(JOB, world, { clock: world.clock });
      expect(outcome).to.deep.equal({
        kind: "blocked",
        code: "stopped",
        reason: "LIVE was moved outside lambda-gitops during the rollout of 1.5.0 (now 1.4.0 at 100%)",
      });
      expect(failureReason(outcome as RolloutFailure)).to.match(/^stopped: LIVE was moved outside lambda-gitops/);
    }
    expect(world.writes()).to.deep.equal([]);
  });

  it("a finished rollout's alarm firing a week later moves nothing", async () => {
    const world = new World();
    expect(await runRollout(JOB, world, { clock: world.clock })).to.deep.include({ kind: "done" });
    world.log = [];
    world.now += 7 * 86_400_000;
    world.alarmAt = () => "ALARM";
    expect(await runRollout(JOB, world, { clock: world.clock })).to.deep.equal({ kind: "done", steps: 2, shifts: 0 });
    expect(world.writes()).to.deep.equal([]);
  });

  it("a write that LIVE does not read back stops the loop after one repeat (no thousand UpdateAlias)", async () => {
    const world = new World();
    const writeLive = world.writeLive.bind(world);
    // LIVE answers every write unchanged (a marker that never sticks).
    world.writeLive = async (routing, marker, revisionId) => {
      const before = structuredClone(world.live!);
      await writeLive(routing, marker, revisionId);
      world.live = { ...before, revisionId: world.live!.revisionId };
      return { ok: true as const, live: structuredClone(world.live) };
    };
    const outcome = await runRollout(JOB, world, { clock: world.clock });
    expect(outcome).to.deep.equal({ kind: "no-progress", step: 1, steps: 2 });
    expect(world.writes().filter((w) => w.startsWith("write"))).to.have.length(1);
  });
});
