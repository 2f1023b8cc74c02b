import { CloudWatchClient, DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import { createCloudWatchAdapter, MAX_ALARM_NAMES_PER_CALL } from "../../../reconciler/aws/cloudwatch.ts";
import { AwsCallError } from "../../../reconciler/core/errors.ts";

describe("CloudWatch adapter (SDK boundary mocked): alarm states by exact name", () => {
  const client = new CloudWatchClient({ region: "us-east-1", credentials: { accessKeyId: "a", secretAccessKey: "b" } });
  const cw = mockClient(client);
  const adapter = createCloudWatchAdapter(client);
  beforeEach(() => cw.reset());

  it("asks for exactly the names (metric alarms), and maps each state; absent names are missing", async () => {
    cw.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        { AlarmName: "a-5xx", StateValue: "OK" },
        { AlarmName: "a-p99", StateValue: "INSUFFICIENT_DATA" },
        { AlarmName: "a-health", StateValue: "ALARM" },
      ],
    });
    const states = await adapter.alarmStates(["a-5xx", "a-p99", "a-health", "a-typo"]);
    expect(Object.fromEntries(states)).to.deep.equal({
      "a-5xx": "OK",
      "a-p99": "INSUFFICIENT_DATA",
      "a-health": "ALARM",
      "a-typo": "missing",
    });
    const input = cw.commandCalls(DescribeAlarmsCommand)[0]!.args[0].input;
    expect(input.AlarmNames).to.deep.equal(["a-5xx", "a-p99", "a-health", "a-typo"]);
    expect(input.AlarmTypes).to.deep.equal(["MetricAlarm"]);
    expect(input.AlarmNamePrefix).to.equal(undefined);
  });

  it("sends at most 100 names per call (150 names: two calls of 100 and 50), each name once", async () => {
    cw.on(DescribeAlarmsCommand).callsFake((input: { AlarmNames: string[] }) => ({
      MetricAlarms: input.AlarmNames.map((AlarmName) => ({ AlarmName, StateValue: "OK" })),
    }));
    const names = Array.from({ length: 150 }, (_, i) => `alarm-${i}`);
    const states = await adapter.alarmStates([...names, "alarm-0"]);
    const calls = cw.commandCalls(DescribeAlarmsCommand).map((c) => c.args[0].input.AlarmNames!.length);
    expect(calls).to.deep.equal([MAX_ALARM_NAMES_PER_CALL, 50]);
    expect(states.size).to.equal(150);
    expect([...states.values()].every((s) => s === "OK")).to.equal(true);
  });

  it("follows NextToken within a batch", async () => {
    cw.on(DescribeAlarmsCommand)
      .resolvesOnce({ MetricAlarms: [{ AlarmName: "a", StateValue: "OK" }], NextToken: "t1" })
      .resolvesOnce({ MetricAlarms: [{ AlarmName: "b", StateValue: "ALARM" }] });
    const states = await adapter.alarmStates(["a", "b"]);
    expect(Object.fromEntries(states)).to.deep.equal({ a: "OK", b: "ALARM" });
    expect(cw.commandCalls(DescribeAlarmsCommand)[1]!.args[0].input.NextToken).to.equal("t1");
  });

  it("a composite alarm (returned only to a '*' grant) reads as missing, which blocks: never unwatched", async () => {
    cw.on(DescribeAlarmsCommand).resolves({ CompositeAlarms: [{ AlarmName: "a-health", StateValue: "OK" }] });
    expect(Object.fromEntries(await adapter.alarmStates(["a-health"]))).to.deep.equal({ "a-health": "missing" });
  });

  it("an unknown state counts as ALARM (fail closed)", async () => {
    cw.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: "a", StateValue: "SOMETHING_NEW" as never }] });
    expect((await adapter.alarmStates(["a"])).get("a")).to.equal("ALARM");
  });

  it("ignores alarms it did not ask for, and never calls for no names", async () => {
    cw.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: "other", StateValue: "ALARM" }] });
    expect(Object.fromEntries(await adapter.alarmStates(["mine"]))).to.deep.equal({ mine: "missing" });
    cw.reset();
    expect((await adapter.alarmStates([])).size).to.equal(0);
    expect(cw.calls()).to.have.length(0);
  });

  it("a failed call throws AwsCallError (AccessDenied is not 'no alarm')", async () => {
    cw.on(DescribeAlarmsCommand).rejects(
      Object.assign(new Error("not authorized"), { name: "AccessDenied", $metadata: { httpStatusCode: 403 } }),
    );
    const error = await adapter.alarmStates(["a"]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(AwsCallError);
    expect((error as AwsCallError).errorName).to.equal("AccessDenied");
    expect((error as AwsCallError).message).to.match(/^DescribeAlarms failed/);
  });
});
