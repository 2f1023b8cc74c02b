/**
 * apply/execution.ts on its own: the two ways a step fails (a concurrent change re-plans once, a
 * failure of this function does not), the hand-over before the deadline, and the checked publish,
 * against a recording fake of the Lambda port (no SDK).
 */
import { expect } from "chai";
import type { LambdaWriter } from "../../../reconciler/aws/lambda.ts";
import {
  ConcurrentChange,
  ensureTime,
  HandOver,
  isConcurrentChange,
  publishChecked,
  replanOnce,
  StepFailure,
} from "../../../reconciler/apply/execution.ts";
import { silentLogger } from "../../../reconciler/core/log.ts";
import { fnState } from "../../support/fixtures.ts";

type Outcome = { ok: true; entry: string } | { ok: false; entry: string; error: string };

async function replanned(runs: ((entry: string) => Promise<string>)[], replan = async (e: string) => `${e}'`) {
  let replans = 0;
  let call = 0;
  const outcome = await replanOnce<string, Outcome>(
    "plan",
    { name: "team-a-orders", log: silentLogger, replan, onReplan: () => void (replans += 1) },
    async (entry) => ({ ok: true, entry: await runs[call++]!(entry) }),
    (entry, error) => ({ ok: false, entry, error: (error as Error).message }),
  );
  return { outcome, replans, calls: call };
}

describe("execution: shared failure handling (port fake)", () => {
  it("tells a concurrent change (re-plan) from a failure of this function", () => {
    expect(isConcurrentChange(new ConcurrentChange("moved"))).to.equal(true);
    expect(isConcurrentChange(Object.assign(new Error("x"), { name: "PreconditionFailedException" }))).to.equal(true);
    expect(isConcurrentChange(Object.assign(new Error("CodeSHA256 does not match"), { name: "InvalidParameterValueException" }))).to.equal(true);
    expect(isConcurrentChange(Object.assign(new Error("bad runtime"), { name: "InvalidParameterValueException" }))).to.equal(false);
    expect(isConcurrentChange(new StepFailure("no"))).to.equal(false);
  });

  it("a concurrent change re-plans once and runs the fresh entry", async () => {
    const { outcome, replans, calls } = await replanned([
      async () => {
        throw new ConcurrentChange("LIVE moved");
      },
      async (entry) => entry,
    ]);
    expect(outcome).to.deep.equal({ ok: true, entry: "plan'" });
    expect({ replans, calls }).to.deep.equal({ replans: 1, calls: 2 });
  });

  it("two concurrent changes in a row fail the function, naming it", async () => {
    const moved = async (): Promise<string> => {
      throw new ConcurrentChange("LIVE moved");
    };
    const { outcome } = await replanned([moved, moved]);
    expect(outcome).to.deep.include({ ok: false, entry: "plan'" });
    expect(outcome.ok === false && outcome.error).to.include('"team-a-orders" was changed by someone else while this run applied it, twice in a row');
  });

  it("any other error fails at once, without a re-plan", async () => {
    const { outcome, replans } = await replanned([
      async () => {
        throw new StepFailure("version 3 is Failed");
      },
    ]);
    expect(outcome).to.deep.equal({ ok: false, entry: "plan", error: "version 3 is Failed" });
    expect(replans).to.equal(0);
  });

  it("hands over when less time is left than the next step needs; no deadline never hands over", () => {
    expect(() => ensureTime({ timeLeftMs: () => 30_000 }, 60_000, "waiting")).to.throw(HandOver, /30 s left, 60 s needed/);
    expect(() => ensureTime({ timeLeftMs: () => 90_000 }, 60_000, "waiting")).not.to.throw();
    expect(() => ensureTime({}, 60_000, "waiting")).not.to.throw();
  });

  it("a publish answering other code than meant fails the function", async () => {
    const calls: string[] = [];
    const target = {
      publishVersion: async (_n: string, input: { codeSha256: string; revisionId: string }) => {
        calls.push(`PublishVersion ${input.codeSha256} ${input.revisionId}`);
        return fnState({ functionVersion: "4", codeSha256: "someone-else", state: "Active" });
      },
    } as unknown as LambdaWriter;
    const error = await publishChecked("team-a-orders", { codeSha256: "meant", revisionId: "r1", description: "d" }, { target }, silentLogger).catch(
      (e: unknown) => e,
    );
    expect(calls).to.deep.equal(["PublishVersion meant r1"]);
    expect(error).to.be.instanceOf(StepFailure);
    expect((error as Error).message).to.equal("published version 4 has CodeSha256 someone-else, expected meant");
  });
});
