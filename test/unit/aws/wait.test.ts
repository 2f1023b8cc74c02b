/**
 * Polling an update (aws/wait.ts) at the SDK boundary, on a fake clock: GetFunction answers
 * LastUpdateStatus InProgress until the update ends, then Successful. What a pipeline owner relies
 * on: the wait ends close to when the update does, at most one poll per second per function (the
 * GetFunction quota), a terminal Failed ends it at once.
 */
import { GetFunctionCommand, LambdaClient, LambdaServiceException } from "@aws-sdk/client-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import { createLambdaAdapter } from "../../../reconciler/aws/lambda.ts";
import { DEFAULT_WAIT, pollDelay, UpdateFailedError, WaitOutOfTime, waitForUpdate } from "../../../reconciler/aws/wait.ts";

const client = new LambdaClient({ region: "eu-west-1", credentials: { accessKeyId: "a", secretAccessKey: "b" } });
const lambda = mockClient(client);

/** A fake clock: sleeping advances it; the update ends `updateMs` after the start. */
function world(updateMs: number, failed = false) {
  let now = 0;
  const delays: number[] = [];
  lambda.reset();
  lambda.on(GetFunctionCommand).callsFake(() => ({
    Configuration: {
      FunctionName: "team-a-x",
      Version: "$LATEST",
      PackageType: "Zip",
      CodeSha256: "sha",
      CodeSize: 1,
      RevisionId: `rev-${now}`,
      State: "Active",
      LastUpdateStatus: now < updateMs ? "InProgress" : failed ? "Failed" : "Successful",
      LastUpdateStatusReason: failed && now >= updateMs ? "The runtime is deprecated" : undefined,
    },
  }));
  const options = {
    ...DEFAULT_WAIT,
    now: () => now,
    sleep: async (ms: number) => {
      delays.push(ms);
      now += ms;
    },
  };
  return { options, delays, now: () => now };
}

describe("aws/wait: waitForUpdate (polling GetFunction on a fake clock)", () => {
  it("notices a 3-second update within a second of its end (polls every second at first)", async () => {
    const w = world(3000);
    const state = await waitForUpdate(createLambdaAdapter(client), "team-a-x", undefined, w.options);
    expect(state.lastUpdateStatus).to.equal("Successful");
    expect(w.delays).to.deep.equal([1000, 1000, 1000]);
    expect(w.now()).to.equal(3000);
    expect(lambda.commandCalls(GetFunctionCommand)).to.have.length(4);
  });

  it("answers at once when the update already ended (no sleep)", async () => {
    const w = world(0);
    await waitForUpdate(createLambdaAdapter(client), "team-a-x", undefined, w.options);
    expect(w.delays).to.deep.equal([]);
  });

  it("backs off after the fast phase, never below one second nor above maxDelay", async () => {
    const w = world(30_000);
    await waitForUpdate(createLambdaAdapter(client), "team-a-x", undefined, w.options);
    expect(w.delays).to.deep.equal([
      ...Array<number>(10).fill(1000),
      1500,
      2250,
      3375,
      5000,
      5000,
      5000,
    ]);
    expect(w.now() - 30_000).to.be.below(5000);
  });

  it("ends at once on a Failed update, with Lambda's reason", async () => {
    const w = world(2000, true);
    const error = await waitForUpdate(createLambdaAdapter(client), "team-a-x", undefined, w.options).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(UpdateFailedError);
    expect((error as Error).message).to.match(/The runtime is deprecated/);
    expect(w.delays).to.deep.equal([1000, 1000]);
  });

  it("gives up after maxWaitTime, the last delay cut to the deadline", async () => {
    const w = world(Number.POSITIVE_INFINITY);
    const options = { ...w.options, maxWaitTime: 12 };
    const error = await waitForUpdate(createLambdaAdapter(client), "team-a-x", undefined, options).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as Error).message).to.match(/still updating after 12 s/);
    expect(w.delays).to.deep.equal([...Array<number>(10).fill(1000), 1500, 500]);
  });

  it("fails fast on a non-retryable error (AccessDenied is not 'still updating')", async () => {
    const w = world(3000);
    lambda.on(GetFunctionCommand).rejects(
      new LambdaServiceException({ name: "AccessDeniedException", message: "no", $fault: "client", $metadata: { httpStatusCode: 403 } }),
    );
    const error = await waitForUpdate(createLambdaAdapter(client), "team-a-x", undefined, w.options).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as Error).message).to.match(/AccessDenied/);
    expect(w.delays).to.deep.equal([]);
  });
});

describe("aws/wait: pollDelay (the schedule, pure)", () => {
  const rows: [number, number, number][] = [
    [1, 0, 1000],
    [9, 8000, 1000],
    [10, 9999, 1000],
    [11, 10_000, 1500],
    [12, 11_500, 2250],
    [20, 60_000, 5000],
  ];
  for (const [poll, waited, delay] of rows) {
    it(`poll ${poll} after ${waited} ms waits ${delay} ms`, () => {
      expect(pollDelay(poll, waited, DEFAULT_WAIT)).to.equal(delay);
    });
  }
  it("the deadline bounds the wait: with 40 s left it gives up at 40 s (not 300 s) with WaitOutOfTime (issue 20)", async () => {
    const w = world(200_000);
    let error: unknown;
    await waitForUpdate(createLambdaAdapter(client), "team-a-x", undefined, { ...w.options, budgetMs: () => 40_000 }).catch(
      (e: unknown) => (error = e),
    );
    expect(error).to.be.instanceOf(WaitOutOfTime);
    expect((error as Error).message).to.match(/^handed over to the next round: team-a-x was still updating when the time left before the deadline ran out \(40 s\)/);
    expect(w.now()).to.equal(40_000);
  });

  it("a budget larger than maxWaitTime changes nothing: the usual timeout", async () => {
    const w = world(400_000);
    let error: unknown;
    await waitForUpdate(createLambdaAdapter(client), "team-a-x", undefined, { ...w.options, budgetMs: () => 900_000 }).catch(
      (e: unknown) => (error = e),
    );
    expect(error).to.be.instanceOf(UpdateFailedError);
    expect(w.now()).to.equal(300_000);
  });
});
