/**
 * Proves what the rollout tests rely on from the moto harness, through the real SDK clients over
 * HTTP: CloudWatch alarms (moto emulates them) and Lambda Invoke (answered by the launcher from a
 * table the test sets, because moto would need Docker to run the function).
 */
import { expect } from "chai";
import { createCloudWatchAdapter } from "../../reconciler/aws/cloudwatch.ts";
import { createLambdaAdapter } from "../../reconciler/aws/lambda.ts";
import { AwsCallError } from "../../reconciler/core/errors.ts";
import { cloudWatchFor, putAlarm, setAlarm } from "../support/alarms.ts";
import { type MotoServer, startMoto } from "../support/moto.ts";
import { account, PRODUCTION, seedFunction, versionAlias } from "../support/seed.ts";

describe("moto harness for rollouts: alarms and Invoke", function () {
  this.timeout(60_000);
  let moto: MotoServer;
  before(async () => {
    moto = await startMoto();
  });
  after(async () => {
    await moto?.stop();
  });
  beforeEach(async () => {
    await moto.resetAll();
  });

  it("DescribeAlarms reports each alarm's state by exact name, and a name with no alarm as missing", async () => {
    const world = await account(moto, PRODUCTION);
    const cw = cloudWatchFor(world);
    await putAlarm(cw, "team-a-5xx");
    await putAlarm(cw, "team-a-5xx-old", "ALARM");
    const alarms = createCloudWatchAdapter(cw);
    expect(Object.fromEntries(await alarms.alarmStates(["team-a-5xx", "team-a-5x"]))).to.deep.equal({
      "team-a-5xx": "OK",
      "team-a-5x": "missing",
    });
    await setAlarm(cw, "team-a-5xx", "ALARM");
    expect((await alarms.alarmStates(["team-a-5xx"])).get("team-a-5xx")).to.equal("ALARM");
  });

  it("Invoke of a version alias answers from the table, records the call, and fails when no answer is defined", async () => {
    const world = await account(moto, PRODUCTION);
    await seedFunction(world, { name: "orders", versions: [{ version: "1.0.0" }, { version: "1.1.0" }], live: "1.0.0" });
    const lambda = createLambdaAdapter(world.lambda);

    const undefinedAnswer = await lambda.invoke("orders", versionAlias("1.1.0"), { ping: true });
    expect(undefinedAnswer.ok).to.equal(false);

    await moto.defineInvokeAnswer({ functionName: "orders", qualifier: versionAlias("1.1.0"), payload: { pong: true } });
    expect(await lambda.invoke("orders", versionAlias("1.1.0"), { ping: true })).to.deep.equal({
      ok: true,
      statusCode: 200,
      executedVersion: "2",
    });

    await moto.defineInvokeAnswer({
      functionName: "orders",
      qualifier: versionAlias("1.1.0"),
      functionError: "Unhandled",
      payload: { errorMessage: "smoke failed" },
    });
    const failed = await lambda.invoke("orders", versionAlias("1.1.0"), { ping: true });
    expect(failed).to.deep.include({ ok: false, statusCode: 200, functionError: "Unhandled", executedVersion: "2" });

    const calls = await moto.invocations();
    expect(calls.map((c) => [c.account, c.functionName, c.qualifier, c.executedVersion])).to.deep.equal([
      [PRODUCTION, "orders", "1-1-0", "2"],
      [PRODUCTION, "orders", "1-1-0", "2"],
      [PRODUCTION, "orders", "1-1-0", "2"],
    ]);
    expect(calls[0]!.payload).to.deep.equal({ ping: true });
  });

  it("Invoke of an unknown qualifier is ResourceNotFoundException", async () => {
    const world = await account(moto, PRODUCTION);
    await seedFunction(world, { name: "orders", versions: [{ version: "1.0.0" }], live: "1.0.0" });
    const error = await createLambdaAdapter(world.lambda)
      .invoke("orders", "9-9-9", {})
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).to.be.instanceOf(AwsCallError);
    expect((error as AwsCallError).errorName).to.equal("ResourceNotFoundException");
  });
});
