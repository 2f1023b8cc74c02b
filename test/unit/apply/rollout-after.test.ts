/**
 * The after-state of a rollout, through apply and every renderer (issue 19): a waited rollout
 * records the routing LIVE ended with in the function's record (FunctionResult.liveAfter), and
 * the table, the progress line, the JSON and the job summary all read it. Against a recording
 * fake of the Lambda port (no SDK), on a fake clock.
 */
import { expect } from "chai";
import type { LambdaWriter } from "../../../reconciler/aws/lambda.ts";
import { type ApplyDeps, applyFunction, type FunctionResult } from "../../../reconciler/apply/apply.ts";
import type { Clock } from "../../../reconciler/apply/rollout-runner.ts";
import { silentLogger } from "../../../reconciler/core/log.ts";
import type { FunctionSpec } from "../../../reconciler/input/definitions.ts";
import type { AliasState } from "../../../reconciler/observe/state.ts";
import { planFunction } from "../../../reconciler/plan/plan.ts";
import { applyToJson, liveAfter, liveBefore, renderApplyTable, rolloutNote } from "../../../reconciler/report/apply-report.ts";
import { entryToJson, renderPlanMarkdown, renderPlanTable } from "../../../reconciler/report/report.ts";
import { functionStatus } from "../../../reconciler/report/status.ts";
import { jobSummary, outputVariables } from "../../../reconciler/report/pipeline.ts";
import { roundOutcome } from "../../../reconciler/report/round.ts";
import { beforeRollout, observedInTarget } from "../../support/fixtures.ts";

const NAME = "team-a-orders";
const T0 = Date.UTC(2026, 10, 30, 16, 0, 0);
const SPEC: FunctionSpec = {
  name: NAME,
  version: "1.5.0",
  rollout: { steps: [10, 50], intervalSeconds: 60, bakeSeconds: 0, alarms: [], smoke: { payload: { ping: true } } },
  index: 0,
  at: { line: 1, column: 1 },
};

/** A recording fake of one function's aliases: LIVE on 1.4.0 (v4), 1.5.0 already published (v5). */
class FakeLambda {
  calls: string[] = [];
  revision = 1;
  smokeOk = true;
  aliases: AliasState[] = beforeRollout();

  port(): LambdaWriter {
    return {
      listAliases: async () => {
        this.calls.push("ListAliases");
        return structuredClone(this.aliases);
      },
      updateAlias: async (_name: string, aliasName: string, write: { functionVersion: string; weights: Record<string, number>; description: string; revisionId: string }) => {
        this.calls.push(`UpdateAlias ${write.functionVersion} ${JSON.stringify(write.weights)}`);
        const live = this.aliases.find((a) => a.name === aliasName)!;
        if (live.revisionId !== write.revisionId) throw Object.assign(new Error("precondition"), { name: "PreconditionFailedException" });
        this.revision += 1;
        Object.assign(live, { functionVersion: write.functionVersion, weights: { ...write.weights }, description: write.description, revisionId: `r${this.revision}` });
        return structuredClone(live);
      },
      invoke: async () => {
        this.calls.push("Invoke");
        return this.smokeOk
          ? { ok: true, statusCode: 200, executedVersion: "5" }
          : { ok: false, statusCode: 200, functionError: "Unhandled", excerpt: "boom" };
      },
    } as unknown as LambdaWriter;
  }
}

function fakeClock(): Clock {
  let now = T0;
  return { now: () => now, sleep: async (ms) => void (now += ms) };
}

function planRollout(fake: FakeLambda, now = T0) {
  return planFunction(SPEC, observedInTarget(structuredClone(fake.aliases), ["1.5.0"]), "LIVE", undefined, {
    alarms: new Map(),
    now,
  });
}

async function applyRollout(fake: FakeLambda, options: { noWait?: boolean } = {}): Promise<FunctionResult> {
  const entry = planRollout(fake);
  expect(entry.action.kind).to.equal("rollforward");
  const deps: ApplyDeps = {
    target: fake.port(),
    source: undefined,
    download: async () => {
      throw new Error("no download in a rollout");
    },
    liveAlias: "LIVE",
    concurrency: 1,
    replan: async () => {
      throw new Error("no re-plan expected");
    },
    logger: silentLogger,
    rollouts: { clock: fakeClock(), ...(options.noWait ? { noWait: true } : {}) },
  };
  return applyFunction(entry, deps);
}

describe("apply: LIVE after a rollout, in the record and every renderer", () => {
  it("a waited rollout: LIVE AFTER is where the rollout ended, not where LIVE was before (table, progress line, JSON, summary)", async () => {
    const fake = new FakeLambda();
    const result = await applyRollout(fake);
    expect(fake.calls.filter((c) => c.startsWith("UpdateAlias"))).to.deep.equal([
      'UpdateAlias 4 {"5":0.1}',
      'UpdateAlias 4 {"5":0.5}',
      "UpdateAlias 5 {}",
    ]);
    expect(result.status).to.equal("applied");
    expect(result.liveAfter).to.deep.equal({ functionVersion: "5", weights: {} });
    expect(result.functionVersion).to.equal("5");
    expect(result.rollout).to.deep.include({ kind: "done", steps: 2, shifts: 3 });

    // The progress line (`apply`'s per-function line) reads liveBefore/liveAfter.
    expect(liveBefore(result)).to.equal("1.4.0 (v4)");
    expect(liveAfter(result)).to.equal("1.5.0 (v5)");
    expect(rolloutNote(result)).to.equal(": rolled out in 3 steps");

    const report = { liveAlias: "LIVE", results: [result] };
    const row = renderApplyTable(report).split("\n").find((line) => line.startsWith(NAME))!;
    expect(row).to.match(/applied\s+1\.4\.0 \(v4\)\s+1\.5\.0 \(v5\)\s+1\.5\.0: rolled out in 3 steps/);

    const json = applyToJson(report).functions[0]!;
    expect(json.functionVersion).to.equal("5");
    expect(json.ran.at(-1)).to.deep.include({ kind: "rollout", routing: { functionVersion: "5", weights: {} } });

    expect(jobSummary(report)).to.include(`${NAME} -> 1.5.0 (v5): rolled out in 3 steps`);
    expect(outputVariables(report)).to.deep.equal({ [NAME]: "5" });
  });

  it("a rollout handed over mid-way (--no-wait): LIVE AFTER is the step it stands on", async () => {
    const fake = new FakeLambda();
    const result = await applyRollout(fake, { noWait: true });
    expect(result.liveAfter).to.deep.equal({ functionVersion: "4", weights: { "5": 0.1 } });
    expect(liveAfter(result)).to.equal("1.4.0 (v4) + 10% 1.5.0 (v5)");
    expect(result.rollout).to.deep.include({ kind: "in-progress", step: 1, steps: 2, phase: "interval" });
    expect(rolloutNote(result, T0)).to.equal(": rollout step 1 of 3, next shift at 16:01Z");
  });

  it("a failed smoke invocation is a failed result value: the outcome says why, LIVE stays", async () => {
    const fake = new FakeLambda();
    fake.smokeOk = false;
    const result = await applyRollout(fake);
    expect(fake.calls.some((c) => c.startsWith("UpdateAlias"))).to.equal(false);
    expect(result.status).to.equal("failed");
    expect(result.rollout?.kind).to.equal("smoke-failed");
    expect(result.error).to.equal("smoke invocation failed (status 200, Unhandled): no traffic was moved; answer: boom");
    expect(result.liveAfter).to.deep.equal({ functionVersion: "4", weights: {} });
    expect(liveAfter(result)).to.equal("1.4.0 (v4)");
    const outcome = roundOutcome({ liveAlias: "LIVE", results: [result] }, { v: 1, round: 1, firstJobId: "job-1" }, 5);
    expect(outcome.kind).to.equal("failed");
    expect(outcome.kind === "failed" && outcome.message).to.include(`${NAME}: smoke invocation failed`);
  });

  it("the plan of a rollout: table, Markdown (PR comment) and JSON show where LIVE ends, and the rollout's first step", async () => {
    const entry = planRollout(new FakeLambda());
    const plan = { liveAlias: "LIVE", entries: [entry] };
    const json = entryToJson(entry);
    expect(json.targetFunctionVersion).to.equal("5");
    expect(json.liveVersion).to.equal("1.4.0");
    expect(json.steps.map((step) => step.kind)).to.deep.equal(["rollout"]);
    const details = "repoint to v5";
    expect(renderPlanTable(plan)).to.include(details).and.to.include("rollout starts: step 1 of 3");
    expect(renderPlanMarkdown(plan)).to.include(details).and.to.include("rollout starts: step 1 of 3");
  });

  it("after a waited rollout, a fresh plan and status read the after-state: in sync, no rollout in progress", async () => {
    const fake = new FakeLambda();
    await applyRollout(fake);
    const after = planRollout(fake, T0 + 3_600_000);
    expect(after.action.kind).to.equal("noop");
    expect(after.live?.routing).to.deep.equal({ functionVersion: "5", weights: {} });
    const status = functionStatus(after);
    expect(status).to.deep.include({ live: "1.5.0 (v5)", state: "in-sync", rollout: null, changedOutside: false });
  });
});
