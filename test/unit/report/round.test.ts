/**
 * The round's outcome (issue 26): whatever mix of results a round ends with, no declared function
 * is dropped. A round hands over while functions were not started and rounds remain; the final
 * result names every function that did not converge, exactly once, with its reason.
 */
import { expect } from "chai";
import fc from "fast-check";
import type { ApplyReport, FunctionResult } from "../../../reconciler/apply/apply.ts";
import type { PlanEntry } from "../../../reconciler/plan/plan.ts";
import {
  type Continuation,
  MAX_CONTINUATION_TOKEN,
  parseContinuation,
  roundOutcome,
  type RoundOutcome,
} from "../../../reconciler/report/round.ts";

type Mix = "unchanged" | "done" | "failed" | "blocked" | "skipped" | "rolling";
const MIXES: readonly Mix[] = ["unchanged", "done", "failed", "blocked", "skipped", "rolling"];

const ROUTING = { primary: { version: "1.1.0", functionVersion: "5" }, additional: [] };

function resultOf(name: string, mix: Mix): FunctionResult {
  const action =
    mix === "blocked"
      ? { kind: "blocked", code: "version-missing", reason: `version 1.1.0 of ${name} exists nowhere` }
      : { kind: mix === "unchanged" ? "noop" : "rollforward", routing: ROUTING, steps: [] };
  const entry = {
    key: { account: "target", region: "eu-west-1", name },
    name,
    declared: { version: "1.1.0" },
    live: { routing: { functionVersion: "4", weights: {} }, version: "1.0.0", revisionId: "r", description: "", marker: undefined },
    action,
  } as unknown as PlanEntry;
  const base = {
    key: entry.key,
    name,
    entry,
    functionVersion: "5",
    liveAfter: { functionVersion: "5", weights: {} },
    rollout: null,
    published: {},
    steps: [],
    replanned: false,
  };
  switch (mix) {
    case "unchanged":
      return { ...base, status: "unchanged" };
    case "done":
      return { ...base, status: "applied" };
    case "failed":
      return { ...base, status: "failed", error: `download of ${name} failed` };
    case "blocked":
      return { ...base, status: "blocked", error: `version 1.1.0 of ${name} exists nowhere` };
    case "skipped":
      return { ...base, status: "skipped", functionVersion: "4" };
    case "rolling":
      return {
        ...base,
        status: "applied",
        liveAfter: { functionVersion: "4", weights: { "5": 0.2 } },
        rollout: { kind: "in-progress", step: 1, steps: 3, phase: "interval", nextAt: 0, shifts: 1 },
        steps: [
          {
            kind: "rollout",
            alias: "LIVE",
            routing: { functionVersion: "4", weights: { "5": 0.2 } },
            outcome: { kind: "in-progress", step: 1, steps: 3, phase: "interval", nextAt: 0, shifts: 1 },
          },
        ],
      };
  }
}

const report = (mixes: readonly Mix[]): ApplyReport => ({
  liveAlias: "LIVE",
  results: mixes.map((m, i) => resultOf(`team-a-f${i}-${m}`, m)),
});

const token = (round: number): Continuation => ({ v: 1, round, firstJobId: "job-1" });

interface Row {
  title: string;
  mixes: Mix[];
  round: number;
  maxRounds?: number;
  expect:
    | { kind: "continue"; handover?: "rollout"; summary: RegExp }
    | { kind: "converged" }
    | { kind: "failed"; named: Mix[]; lead: RegExp };
}

const rows: Row[] = [
  { title: "all unchanged", mixes: ["unchanged", "unchanged"], round: 1, expect: { kind: "converged" } },
  { title: "all done", mixes: ["done", "unchanged", "done"], round: 1, expect: { kind: "converged" } },
  {
    title: "skipped, rounds remain",
    mixes: ["done", "skipped", "skipped"],
    round: 1,
    expect: { kind: "continue", summary: /^Round 1: 2 function\(s\) left for the next round\. / },
  },
  {
    title: "blocked and skipped, rounds remain: hands over (the blocked one never drops the others)",
    mixes: ["blocked", "done", "skipped", "skipped", "skipped"],
    round: 1,
    expect: { kind: "continue", summary: /^Round 1: 3 function\(s\) left for the next round, 1 failed so far \(named in the final result\)\. / },
  },
  {
    title: "failed at apply time and skipped, rounds remain: hands over",
    mixes: ["failed", "skipped"],
    round: 2,
    expect: { kind: "continue", summary: /^Round 2: 1 function\(s\) left for the next round, 1 failed so far/ },
  },
  {
    title: "blocked only: final failure naming it",
    mixes: ["blocked", "done", "unchanged"],
    round: 1,
    expect: { kind: "failed", named: ["blocked"], lead: /^1 of 3 function\(s\) failed: team-a-f0-blocked: version 1\.1\.0/ },
  },
  {
    title: "failed and blocked: final failure naming both",
    mixes: ["failed", "blocked", "done"],
    round: 3,
    expect: { kind: "failed", named: ["failed", "blocked"], lead: /^2 of 3 function\(s\) failed: / },
  },
  {
    title: "skipped in the last round: final failure naming the ones not started",
    mixes: ["done", "skipped", "skipped"],
    round: 3,
    expect: { kind: "failed", named: ["skipped", "skipped"], lead: /^2 of 3 function\(s\) did not converge: team-a-f1-skipped: not started: the last allowed round \(3, maxRounds\)/ },
  },
  {
    title: "blocked, failed and skipped in the last round: every one named",
    mixes: ["blocked", "failed", "skipped", "done"],
    round: 3,
    expect: { kind: "failed", named: ["blocked", "failed", "skipped"], lead: /^3 of 4 function\(s\) did not converge: / },
  },
  {
    title: "rolling out, nothing skipped: a rollout round",
    mixes: ["rolling", "done"],
    round: 1,
    expect: { kind: "continue", handover: "rollout", summary: /^Round 1: 1 rollout\(s\) in progress\. / },
  },
  {
    title: "rolling out in the last round: still a rollout round (those are not counted)",
    mixes: ["rolling"],
    round: 3,
    expect: { kind: "continue", handover: "rollout", summary: /^Round 3: 1 rollout\(s\) in progress\. / },
  },
  {
    title: "rolling out and failed: the rollout finishes first, the failure is reported at the end",
    mixes: ["rolling", "failed"],
    round: 1,
    expect: { kind: "continue", handover: "rollout", summary: /^Round 1: 1 rollout\(s\) in progress, 1 failed so far/ },
  },
  {
    title: "rolling out and skipped: a counted round (the skipped ones need it)",
    mixes: ["rolling", "skipped"],
    round: 1,
    expect: { kind: "continue", summary: /^Round 1: 1 function\(s\) left for the next round, 1 rollout\(s\) in progress\. / },
  },
  {
    title: "rolling out and skipped in the last round: both named",
    mixes: ["rolling", "skipped", "done"],
    round: 3,
    expect: { kind: "failed", named: ["rolling", "skipped"], lead: /^2 of 3 function\(s\) did not converge: team-a-f0-rolling: rollout not finished: / },
  },
];

describe("roundOutcome: the round's outcome from every function (issue 26)", () => {
  for (const row of rows) {
    it(row.title, () => {
      const r = report(row.mixes);
      const outcome = roundOutcome(r, token(row.round), row.maxRounds ?? 3);
      expect(outcome.kind).to.equal(row.expect.kind);
      if (row.expect.kind === "continue" && outcome.kind === "continue") {
        expect(outcome.token).to.deep.equal({ ...token(row.round), ...(row.expect.handover ? { handover: row.expect.handover } : {}) });
        expect(outcome.summary).to.match(row.expect.summary);
        expect(outcome.left).to.equal(row.mixes.filter((m) => m === "skipped").length);
      }
      if (row.expect.kind === "failed" && outcome.kind === "failed") {
        const named = r.results.filter((_, i) => (row.expect as { named: Mix[] }).named.includes(row.mixes[i]!)).map((x) => x.name);
        expect(outcome.unconverged.map((u) => u.name)).to.deep.equal(named);
        expect(outcome.message).to.match(row.expect.lead);
        for (const name of named) expect(outcome.message.split(`${name}: `)).to.have.length(2, `${name} named once`);
      }
      if (outcome.kind === "converged") expect(outcome.summary).to.match(/^\d+ function\(s\): /);
    });
  }

  it("a final success carries this round's output variables", () => {
    const outcome = roundOutcome(report(["done", "unchanged"]), token(1), 3);
    expect(outcome).to.deep.include({ kind: "converged", outputVariables: { "team-a-f0-done": "5" } });
  });

  it("keeps the failure message of a large fleet within CodePipeline's 5000 characters, naming the count", () => {
    const outcome = roundOutcome(report(Array.from({ length: 400 }, () => "skipped" as const)), token(3), 3);
    expect(outcome.kind).to.equal("failed");
    const { message, unconverged } = outcome as Extract<RoundOutcome, { kind: "failed" }>;
    expect(unconverged).to.have.length(400);
    expect(message.length).to.be.at.most(5000);
    expect(message).to.match(/^400 of 400 function\(s\) did not converge: .*; and \d+ more$/s);
  });

  it("property: no declared function is absent from the final result unless it converged", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...MIXES), { maxLength: 30 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 5 }),
        (mixes, round, maxRounds) => {
          const r = report(mixes);
          const outcome = roundOutcome(r, token(round), maxRounds);
          const converged = (m: Mix) => m === "done" || m === "unchanged";
          if (outcome.kind === "continue") {
            // Something is left: a function not started (rounds remain) or a rollout waiting.
            expect(mixes.some((m) => m === "skipped" || m === "rolling")).to.equal(true);
            if (mixes.includes("skipped")) expect(round).to.be.below(maxRounds);
            expect(JSON.stringify(outcome.token).length).to.be.at.most(MAX_CONTINUATION_TOKEN);
            return;
          }
          const expected = r.results.filter((_, i) => !converged(mixes[i]!)).map((x) => x.name);
          if (outcome.kind === "converged") expect(expected).to.deep.equal([]);
          else {
            expect(outcome.unconverged.map((u) => u.name)).to.deep.equal(expected);
            expect(new Set(outcome.unconverged.map((u) => u.name)).size).to.equal(expected.length);
            for (const u of outcome.unconverged) expect(u.reason).to.not.equal("");
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  describe("parseContinuation", () => {
    it("the first round has round 1 and the job's id", () => {
      expect(parseContinuation(undefined, "job-1")).to.deep.equal({ ok: true, token: token(1), rolloutHandover: false });
    });
    it("a counted hand-over is the next round; a rollout hand-over is the same round again", () => {
      expect(parseContinuation(JSON.stringify(token(2)), "job-9")).to.deep.equal({ ok: true, token: token(3), rolloutHandover: false });
      expect(parseContinuation(JSON.stringify({ ...token(2), handover: "rollout" }), "job-9")).to.deep.equal({
        ok: true,
        token: token(2),
        rolloutHandover: true,
      });
    });
    it("refuses a token lambda-gitops did not write", () => {
      expect(parseContinuation("{}", "job-1")).to.deep.equal({
        ok: false,
        message: "the continuation token is not one lambda-gitops wrote; re-run the pipeline",
      });
    });
  });
});
