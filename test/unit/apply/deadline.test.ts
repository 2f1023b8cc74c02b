/**
 * The deadline bounds every step (issue 20, apply/deadline.ts): a download gets at most the time
 * left, a smoke invocation is aborted at the rollout's deadline, and either hands the function over
 * (HandOver) rather than letting Lambda's timeout cut the handler off without a job result.
 */
import { expect } from "chai";
import type { Downloader } from "../../../reconciler/aws/download.ts";
import type { InvokeOutcome } from "../../../reconciler/aws/lambda.ts";
import { type WaitOptions, WaitOutOfTime } from "../../../reconciler/aws/wait.ts";
import { invokeBefore, isHandOver, withinDeadline } from "../../../reconciler/apply/deadline.ts";
import { HandOver, StepFailure } from "../../../reconciler/apply/execution.ts";

const expected = { codeSha256: "sha", maxBytes: 10 };

describe("apply/deadline: every step within the time left", () => {
  it("without a deadline (the CLI) the dependencies are unchanged", () => {
    const download: Downloader = async () => ({ ok: true, bytes: new Uint8Array() });
    const deps = { download };
    expect(withinDeadline(deps)).to.equal(deps);
  });

  it("waits get the time left as their budget", () => {
    const download: Downloader = async () => ({ ok: true, bytes: new Uint8Array() });
    const bounded = withinDeadline<{ download: Downloader; timeLeftMs: () => number; wait?: WaitOptions }>({ download, timeLeftMs: () => 42_000 });
    expect(bounded.wait?.budgetMs?.()).to.equal(42_000);
    expect(bounded.wait?.maxWaitTime).to.equal(300);
  });

  it("a download gets min(120 s, the time left) and is handed over when the deadline cut it", async () => {
    const asked: (number | undefined)[] = [];
    let answer: Awaited<ReturnType<Downloader>> = { ok: true, bytes: new Uint8Array([1]) };
    const download: Downloader = async (_url, e) => {
      asked.push(e.timeoutMs);
      return answer;
    };
    let left = 30_000;
    const bounded = withinDeadline({ download, timeLeftMs: () => left });
    expect((await bounded.download("https://x", expected)).ok).to.equal(true);
    left = 500_000;
    await bounded.download("https://x", expected);
    expect(asked).to.deep.equal([30_000, 120_000]);

    left = 30_000;
    answer = { ok: false, message: "code download from x interrupted: TimeoutError", timedOut: true };
    let error: unknown;
    await bounded.download("https://x", expected).catch((e: unknown) => (error = e));
    expect(error).to.be.instanceOf(HandOver);
    expect((error as Error).message).to.equal("handed over to the next round: the code download was cut at the deadline (30 s left)");

    // Cut by its own 120 s limit, not the deadline: an ordinary failure result, the function fails.
    left = 500_000;
    expect(await bounded.download("https://x", expected)).to.deep.equal(answer);
  });

  it("no time left at all: no download is started", async () => {
    let called = false;
    const download: Downloader = async () => {
      called = true;
      return { ok: true, bytes: new Uint8Array() };
    };
    const bounded = withinDeadline({ download, timeLeftMs: () => -5 });
    let error: unknown;
    await bounded.download("https://x", expected).catch((e: unknown) => (error = e));
    expect(error).to.be.instanceOf(HandOver);
    expect(called).to.equal(false);
  });

  describe("the smoke invocation", () => {
    const answered: InvokeOutcome = { ok: true, statusCode: 200, executedVersion: "7" };

    it("is aborted at the deadline and handed over (a hung function never outlives the handler)", async () => {
      const signals: (AbortSignal | undefined)[] = [];
      const target = {
        invoke: (_n: string, _q: string, _p: unknown, options?: { abortSignal?: AbortSignal }) =>
          new Promise<InvokeOutcome>((_resolve, reject) => {
            signals.push(options?.abortSignal);
            options?.abortSignal?.addEventListener("abort", () => reject(new Error("Request aborted")));
          }),
      };
      let error: unknown;
      await invokeBefore(target, { name: "team-a-orders", qualifier: "1-1-0", payload: {} }, Date.now() + 30).catch(
        (e: unknown) => (error = e),
      );
      expect(signals).to.have.length(1);
      expect(error).to.be.instanceOf(HandOver);
      expect((error as Error).message).to.match(/^handed over to the next round: the smoke invocation of 1-1-0 had not answered when the time left \(0 s\) ran out$/);
    });

    it("past the deadline it is not made at all; without a deadline (the CLI) it has no signal", async () => {
      let calls = 0;
      const target = {
        invoke: async (_n: string, _q: string, _p: unknown, options?: { abortSignal?: AbortSignal }) => {
          calls += 1;
          expect(options).to.equal(undefined);
          return answered;
        },
      };
      let error: unknown;
      await invokeBefore(target, { name: "f", qualifier: "1-1-0", payload: {} }, 1_000, () => 2_000).catch((e: unknown) => (error = e));
      expect(error).to.be.instanceOf(HandOver);
      expect(calls).to.equal(0);
      expect(await invokeBefore(target, { name: "f", qualifier: "1-1-0", payload: {} }, undefined)).to.equal(answered);
      expect(calls).to.equal(1);
    });

    it("an invocation that fails on its own (not the deadline) is that error", async () => {
      const target = { invoke: async () => Promise.reject(new Error("AccessDeniedException")) };
      let error: unknown;
      await invokeBefore(target, { name: "f", qualifier: "1-1-0", payload: {} }, Date.now() + 60_000).catch((e: unknown) => (error = e));
      expect(isHandOver(error)).to.equal(false);
      expect((error as Error).message).to.equal("AccessDeniedException");
    });
  });

  it("isHandOver: HandOver and a wait stopped by its budget; not a failure", () => {
    expect(isHandOver(new HandOver("x"))).to.equal(true);
    expect(isHandOver(new WaitOutOfTime("x"))).to.equal(true);
    expect(isHandOver(new StepFailure("x"))).to.equal(false);
  });
});
