import { CloudTrailClient, LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import { createTrailReader, type TrailEvent } from "../../../reconciler/aws/cloudtrail.ts";
import { attribute, madeBy, via } from "../../../reconciler/report/drift.ts";

const RECONCILER = "arn:aws:iam::222222222222:role/lambda-gitops-ExecutionRole-ABC";
const event = (over: Partial<TrailEvent>): TrailEvent => ({
  eventName: "UpdateAlias20150331",
  eventTime: new Date("2026-11-30T14:02:31Z"),
  actorArn: "arn:aws:sts::222222222222:assumed-role/Admin/alice",
  issuerArn: "arn:aws:iam::222222222222:role/Admin",
  userName: undefined,
  userAgent: "console.amazonaws.com",
  request: { functionName: "team-a-orders", name: "LIVE", functionVersion: "4" },
  ...over,
});
const context = {
  functionName: "team-a-orders",
  liveAlias: "LIVE",
  reconcilerRoleArn: RECONCILER,
  semverOf: (v: string) => ({ "4": "1.3.0", "6": "1.5.0" })[v] ?? null,
};

describe("drift attribution: who changed LIVE, from CloudTrail events", () => {
  const rows: { case: string; events: TrailEvent[]; text: string | undefined }[] = [
    {
      case: "someone moved LIVE from the console",
      events: [event({})],
      text: "alice moved LIVE to 1.3.0 (v4) at 2026-11-30 14:02 UTC from the console",
    },
    {
      case: "the reconciler's own later write is not the cause",
      events: [
        event({
          eventTime: new Date("2026-11-30T15:00:00Z"),
          actorArn: "arn:aws:sts::222222222222:assumed-role/lambda-gitops-ExecutionRole-ABC/lambda-gitops-reconciler",
          issuerArn: RECONCILER,
          userAgent: "aws-sdk-js/3.1162.0",
          request: { functionName: "team-a-orders", name: "LIVE", functionVersion: "6" },
        }),
        event({}),
      ],
      text: "alice moved LIVE to 1.3.0 (v4) at 2026-11-30 14:02 UTC from the console",
    },
    {
      case: "newest first; an IAM user with the CLI",
      events: [
        event({}),
        event({
          eventTime: new Date("2026-11-30T16:10:00Z"),
          actorArn: "arn:aws:iam::222222222222:user/bob",
          issuerArn: undefined,
          userName: "bob",
          userAgent: "aws-cli/2.15.0 Python/3.11",
          request: { functionName: "arn:aws:lambda:eu-west-1:222222222222:function:team-a-orders", name: "LIVE", functionVersion: "9" },
        }),
      ],
      text: "bob moved LIVE to v9 at 2026-11-30 16:10 UTC with the AWS CLI",
    },
    {
      case: "an alias other than LIVE is not LIVE's cause; a code change is the fallback",
      events: [
        event({ request: { functionName: "team-a-orders", name: "team-b-pinned", functionVersion: "2" } }),
        event({ eventName: "UpdateFunctionCode20150331v2", userAgent: "Terraform/1.9", request: { functionName: "team-a-orders" } }),
      ],
      text: "alice changed the code at 2026-11-30 14:02 UTC with Terraform",
    },
    {
      case: "another function's events are ignored",
      events: [event({ request: { functionName: "team-a-orders-v2", name: "LIVE", functionVersion: "4" } })],
      text: undefined,
    },
    { case: "no events: unknown", events: [], text: undefined },
  ];
  for (const row of rows) {
    it(row.case, () => {
      expect(attribute(row.events, context)?.text).to.equal(row.text);
    });
  }

  it("tells the reconciler's role by issuer ARN or by role name in the session ARN", () => {
    expect(madeBy(event({ issuerArn: RECONCILER }), RECONCILER)).to.equal(true);
    expect(
      madeBy(event({ issuerArn: undefined, actorArn: "arn:aws:sts::222222222222:assumed-role/lambda-gitops-ExecutionRole-ABC/x" }), RECONCILER),
    ).to.equal(true);
    expect(madeBy(event({ issuerArn: undefined, actorArn: "arn:aws:sts::999999999999:assumed-role/lambda-gitops-ExecutionRole-ABC/x" }), RECONCILER)).to.equal(false);
    expect(madeBy(event({}), undefined)).to.equal(false);
  });

  it("names the means", () => {
    expect(via("AWS Internal")).to.equal("from the console");
    expect(via("cloudformation.amazonaws.com")).to.equal("through CloudFormation");
    expect(via("Boto3/1.34")).to.equal("with an AWS SDK");
    expect(via("")).to.equal("by unknown means");
  });
});

describe("CloudTrail adapter (LookupEvents at the SDK boundary)", () => {
  const client = new CloudTrailClient({ region: "eu-west-1", maxAttempts: 1 });
  const trail = mockClient(client);
  afterEach(() => trail.reset());
  after(() => trail.restore());

  const record = (name: string, user: string, at: string) => ({
    EventName: name,
    EventTime: new Date(at),
    CloudTrailEvent: JSON.stringify({
      eventTime: at,
      userIdentity: { arn: `arn:aws:sts::1:assumed-role/Admin/${user}`, sessionContext: { sessionIssuer: { arn: "arn:aws:iam::1:role/Admin" } } },
      userAgent: "console.amazonaws.com",
      requestParameters: { functionName: "team-a-orders", name: "LIVE", functionVersion: "4" },
    }),
  });

  it("looks up by ResourceName (one attribute), keeps Lambda writes, pages, and spaces calls 500 ms apart", async () => {
    trail
      .on(LookupEventsCommand)
      .resolvesOnce({
        Events: [record("UpdateAlias20150331", "alice", "2026-11-30T14:02:00Z"), record("GetFunction20150331v2", "carol", "2026-11-30T14:05:00Z")],
        NextToken: "page-2",
      })
      .resolvesOnce({ Events: [record("PublishVersion20150331", "dave", "2026-11-30T15:00:00Z")] });
    let clock = 1000;
    const slept: number[] = [];
    const reader = createTrailReader(client, {
      now: () => clock,
      sleep: async (ms) => {
        slept.push(ms);
        clock += ms;
      },
    });
    const since = new Date("2026-11-23T00:00:00Z");
    const until = new Date("2026-11-30T16:00:00Z");
    const events = await reader.lambdaWrites("team-a-orders", { since, until });
    expect(events.map((e) => [e.eventName, e.actorArn.split("/").pop()])).to.deep.equal([
      ["PublishVersion20150331", "dave"],
      ["UpdateAlias20150331", "alice"],
    ]);
    const calls = trail.commandCalls(LookupEventsCommand).map((c) => c.args[0].input);
    expect(calls).to.have.length(2);
    expect(calls[0]).to.deep.include({
      LookupAttributes: [{ AttributeKey: "ResourceName", AttributeValue: "team-a-orders" }],
      StartTime: since,
      EndTime: until,
      MaxResults: 50,
    });
    expect(calls[1]?.NextToken).to.equal("page-2");
    expect(slept).to.deep.equal([500]);
  });

  it("falls back to the account's UpdateAlias events, filtered by function, when ResourceName finds none", async () => {
    const other = (fn: string, user: string) => ({
      EventName: "UpdateAlias20150331",
      EventTime: new Date("2026-11-30T14:00:00Z"),
      CloudTrailEvent: JSON.stringify({
        userIdentity: { arn: `arn:aws:iam::1:user/${user}`, userName: user },
        userAgent: "aws-cli/2",
        requestParameters: { functionName: fn, name: "LIVE", functionVersion: "4" },
      }),
    });
    trail
      .on(LookupEventsCommand, { LookupAttributes: [{ AttributeKey: "ResourceName", AttributeValue: "team-a-orders" }] })
      .resolves({ Events: [] })
      .on(LookupEventsCommand, { LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: "UpdateAlias20150331" }] })
      .resolves({
        Events: [other("team-a-payments", "carol"), other("arn:aws:lambda:eu-west-1:1:function:team-a-orders", "erin")],
      });
    const reader = createTrailReader(client, { minIntervalMs: 0 });
    const events = await reader.lambdaWrites("team-a-orders", { since: new Date(0), until: new Date() });
    expect(events.map((e) => e.userName)).to.deep.equal(["erin"]);
    expect(trail.commandCalls(LookupEventsCommand)).to.have.length(2);
  });

  it("a throttle or access denial is an error, never 'nobody changed it'", async () => {
    trail.on(LookupEventsCommand).rejects(Object.assign(new Error("denied"), { name: "AccessDeniedException" }));
    const reader = createTrailReader(client, { minIntervalMs: 0 });
    let error: unknown;
    try {
      await reader.lambdaWrites("team-a-orders", { since: new Date(0), until: new Date() });
    } catch (e) {
      error = e;
    }
    expect(String(error)).to.match(/LookupEvents failed: AccessDeniedException/);
  });
});
