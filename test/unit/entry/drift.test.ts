import { expect } from "chai";
import type { LambdaWriter } from "../../../reconciler/aws/lambda.ts";
import { type AliasState, noCodeSigning } from "../../../reconciler/observe/state.ts";
import type { TrailEvent } from "../../../reconciler/aws/cloudtrail.ts";
import { silentLogger } from "../../../reconciler/core/log.ts";
import { type DriftDeps, readDriftSettings, runDriftCheck, selfHealToken } from "../../../reconciler/entry/drift.ts";
import { encodeMarker } from "../../../reconciler/observe/marker.ts";

const alias = (name: string, functionVersion: string, description = ""): AliasState => ({
  name,
  functionVersion,
  weights: {},
  revisionId: "r",
  description,
});
const marker = (version: string, functionVersion: string) => encodeMarker({ version, functionVersion, weights: {} });

/** team-a-orders: LIVE moved from v2 (1.5.0) to v1 by hand; team-a-api: as written. */
function world(): Record<string, AliasState[]> {
  return {
    "team-a-orders": [alias("1-4-0", "1"), alias("1-5-0", "2"), alias("LIVE", "1", marker("1.5.0", "2"))],
    "team-a-api": [alias("2-0-0", "3"), alias("LIVE", "3", marker("2.0.0", "3"))],
  };
}

function deps(over: Partial<DriftDeps> = {}, aliases = world()) {
  const record = { metrics: [] as unknown[], events: [] as unknown[], starts: [] as string[][], lambdaWrites: [] as string[], lookups: [] as string[] };
  const refuse = (op: string) => async () => {
    record.lambdaWrites.push(op);
    throw new Error(`${op} must not be called`);
  };
  const target = {
    listAliases: async (name: string) => aliases[name]?.map((a) => ({ ...a })),
    getFunction: async () => undefined,
    getAlias: async () => undefined,
    listCodeSigning: async () => noCodeSigning(),
    getCodeSigning: async () => undefined,
    getProvisionedConcurrency: async () => undefined,
    updateFunctionCode: refuse("UpdateFunctionCode"),
    updateFunctionConfiguration: refuse("UpdateFunctionConfiguration"),
    publishVersion: refuse("PublishVersion"),
    createAlias: refuse("CreateAlias"),
    updateAlias: refuse("UpdateAlias"),
    listVersions: async () => [],
    deleteAlias: refuse("DeleteAlias"),
    deleteVersion: refuse("DeleteFunction"),
    invoke: refuse("Invoke"),
  } as LambdaWriter;
  const event: TrailEvent = {
    eventName: "UpdateAlias20150331",
    eventTime: new Date("2026-11-30T14:02:00Z"),
    actorArn: "arn:aws:iam::222222222222:user/alice",
    issuerArn: undefined,
    userName: "alice",
    userAgent: "aws-cli/2",
    request: { functionName: "team-a-orders", name: "LIVE", functionVersion: "1" },
  };
  const d: DriftDeps = {
    pipeline: {
      readActionUserParameters: async () => ({ ok: true, userParameters: '{"allowedPrefixes":["team-a-"]}', stageName: "Deploy" }),
    },
    codecommit: {
      getFile: async () => ({
        kind: "found",
        text: JSON.stringify({ lambdas: [{ name: "team-a-orders", version: "1.5.0" }, { name: "team-a-api", version: "2.0.0" }] }),
        bytes: 10,
      }),
      postComment: async () => {
        throw new Error("no comments");
      },
    },
    aws: () => ({ target, source: undefined }),
    trail: {
      lambdaWrites: async (name) => {
        record.lookups.push(name);
        return [event];
      },
    },
    metrics: { putDriftedFunctions: async (m) => void record.metrics.push(m) },
    events: {
      put: async (e) => {
        record.events.push(e);
        return "event-1";
      },
    },
    starter: {
      start: async (pipeline, token) => {
        record.starts.push([pipeline, token]);
        return "exec-1";
      },
    },
    env: { PIPELINE_NAME: "lambda-gitops", ACTION_NAME: "Reconcile", REPOSITORY_NAME: "defs", BRANCH_NAME: "main" },
    logger: silentLogger,
    now: () => new Date("2026-11-30T15:00:00Z"),
    ...over,
  };
  return { d, record };
}

describe("drift check (entry/drift.ts) with fake adapters", () => {
  it("reports drift: metric, one event listing the drifted function and its actor; CloudTrail only for it; no Lambda write", async () => {
    const { d, record } = deps();
    const result = await runDriftCheck(d);
    expect(result.kind).to.equal("checked");
    expect(record.lookups).to.deep.equal(["team-a-orders"]);
    expect(record.metrics).to.deep.equal([
      { namespace: "LambdaGitops", pipeline: "lambda-gitops", count: 1, at: new Date("2026-11-30T15:00:00Z") },
    ]);
    expect(record.events).to.have.length(1);
    const event = record.events[0] as { source: string; detailType: string; detail: { drifted: { name: string; changedBy: { text: string } }[] } };
    expect(event.source).to.equal("lambda-gitops");
    expect(event.detailType).to.equal("lambda-gitops drift");
    expect(event.detail.drifted.map((x) => [x.name, x.changedBy.text])).to.deep.equal([
      ["team-a-orders", "alice moved LIVE to 1.4.0 (v1) at 2026-11-30 14:02 UTC with the AWS CLI"],
    ]);
    expect(record.starts).to.deep.equal([]);
    expect(record.lambdaWrites).to.deep.equal([]);
  });

  it("no drift: a 0 datapoint (an alarm can watch it), no event, no CloudTrail call", async () => {
    const w = world();
    w["team-a-orders"] = [alias("1-5-0", "2"), alias("LIVE", "2", marker("1.5.0", "2"))];
    const { d, record } = deps({}, w);
    await runDriftCheck(d);
    expect((record.metrics[0] as { count: number }).count).to.equal(0);
    expect(record.events).to.deep.equal([]);
    expect(record.lookups).to.deep.equal([]);
  });

  it("ON_DRIFT=start-pipeline starts the pipeline once per drift, with a token that repeats for the same drift", async () => {
    const env = { PIPELINE_NAME: "lambda-gitops", ACTION_NAME: "Reconcile", REPOSITORY_NAME: "defs", BRANCH_NAME: "main", ON_DRIFT: "start-pipeline" };
    const first = deps({ env });
    const second = deps({ env });
    const result = await runDriftCheck(first.d);
    await runDriftCheck(second.d);
    expect(first.record.starts).to.have.length(1);
    expect(first.record.starts[0]![0]).to.equal("lambda-gitops");
    expect(first.record.starts[0]![1]).to.match(/^drift-[0-9a-f]{64}$/);
    expect(second.record.starts[0]).to.deep.equal(first.record.starts[0]);
    expect(result.kind === "checked" && result.detail.selfHeal).to.deep.equal({ pipelineExecutionId: "exec-1" });
  });

  it("different drift, different self-heal token", () => {
    const base = { name: "f", expected: { functionVersion: "2", weights: {} }, declaredVersion: "1.0.0", fileChanged: false, changedBy: null };
    expect(selfHealToken("p", [{ ...base, actual: { functionVersion: "1", weights: {} } }])).to.not.equal(
      selfHealToken("p", [{ ...base, actual: { functionVersion: "3", weights: {} } }]),
    );
  });

  const stages: { case: string; over: Partial<DriftDeps>; stage: string; problem: RegExp }[] = [
    { case: "missing settings", over: { env: {} }, stage: "settings", problem: /PIPELINE_NAME: is not set/ },
    {
      case: "a pipeline without the action",
      over: { pipeline: { readActionUserParameters: async () => ({ ok: false, message: 'pipeline "x" has no action named "Reconcile"' }) } },
      stage: "pipeline",
      problem: /no action named/,
    },
    {
      case: "invalid UserParameters",
      over: { pipeline: { readActionUserParameters: async () => ({ ok: true, userParameters: "{}", stageName: "s" }) } },
      stage: "parameters",
      problem: /allowedPrefixes: is required/,
    },
    {
      case: "no definition file on the branch",
      over: {
        codecommit: { getFile: async () => ({ kind: "absent", message: "lambdas.json does not exist at commit main" }), postComment: async () => ({ commentId: "" }) },
      },
      stage: "file",
      problem: /does not exist/,
    },
    {
      case: "an invalid definition file",
      over: {
        codecommit: { getFile: async () => ({ kind: "found", text: '{"lambdas":[{"name":"team-b-x","version":"1"}]}', bytes: 1 }), postComment: async () => ({ commentId: "" }) },
      },
      stage: "definition",
      problem: /lambdas\[0\]/,
    },
  ];
  for (const row of stages) {
    it(`${row.case}: not checked, nothing published`, async () => {
      const { d, record } = deps(row.over);
      const result = await runDriftCheck(d);
      expect(result.kind).to.equal("not-checked");
      if (result.kind !== "not-checked") return;
      expect(result.stage).to.equal(row.stage);
      expect(result.problems.join("\n")).to.match(row.problem);
      expect(record.metrics).to.deep.equal([]);
      expect(record.events).to.deep.equal([]);
    });
  }

  it("settings: ON_DRIFT and METRIC_NAMESPACE are validated", () => {
    const base = { PIPELINE_NAME: "p", ACTION_NAME: "a", REPOSITORY_NAME: "r", BRANCH_NAME: "main" };
    expect(readDriftSettings({ ...base, ON_DRIFT: "heal" }).ok).to.equal(false);
    const ok = readDriftSettings({ ...base, METRIC_NAMESPACE: "Team/Deploys" });
    expect(ok.ok && ok.settings).to.include({ namespace: "Team/Deploys", onDrift: "report" });
  });
});
