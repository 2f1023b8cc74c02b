import { expect } from "chai";
import type { LambdaWriter } from "../../../reconciler/aws/lambda.ts";
import type { AliasState } from "../../../reconciler/observe/state.ts";
import type { TrailEvent } from "../../../reconciler/aws/cloudtrail.ts";
import { createLogger, silentLogger } from "../../../reconciler/core/log.ts";
import { type DriftDeps, readDriftSettings, runDriftCheck, selfHealToken } from "../../../reconciler/entry/drift.ts";
import { encodeMarker } from "../../../reconciler/observe/marker.ts";
import { zipOf } from "../../support/seed.ts";

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
  const record = { runs: [] as string[][], objects: [] as string[], metrics: [] as unknown[], events: [] as unknown[], starts: [] as string[][], lambdaWrites: [] as string[], lookups: [] as string[] };
  const refuse = (op: string) => async () => {
    record.lambdaWrites.push(op);
    throw new Error(`${op} must not be called`);
  };
  const target = {
    listAliases: async (name: string) => aliases[name]?.map((a) => ({ ...a })),
    listEventSourceMappings: refuse("ListEventSourceMappings"),
    listProvisionedConcurrency: refuse("ListProvisionedConcurrencyConfigs"),
    getFunction: async () => undefined,
    getAlias: async () => undefined,
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
  const deployedFile = JSON.stringify({ lambdas: [{ name: "team-a-orders", version: "1.5.0" }, { name: "team-a-api", version: "2.0.0" }] });
  const d: DriftDeps = {
    pipeline: {
      readActionUserParameters: async () => ({ ok: true, userParameters: '{"allowedPrefixes":["team-a-"]}', stageName: "Deploy" }),
    },
    history: {
      lastRun: async (pipeline, stage, action) => {
        record.runs.push([pipeline, stage, action]);
        return {
          ok: true,
          run: {
            pipelineExecutionId: "exec-2",
            actionExecutionId: "act-2",
            status: "Succeeded",
            startTime: new Date("2026-11-30T09:00:00Z"),
            artifact: { name: "Definitions", bucket: "artifacts", key: "p/Definitio/abc" },
            source: { actionName: "Source", revision: "c2", latestRevision: "c3" },
          },
        };
      },
    },
    artifacts: {
      get: async (bucket, key) => {
        record.objects.push(`s3://${bucket}/${key}`);
        return { ok: true, bytes: zipOf({ "lambdas.json": deployedFile }) };
      },
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
    const base = { name: "f", expected: { functionVersion: "2", weights: {} }, declaredVersion: "1.0.0", fileChange: "unchanged" as const, fileChanged: false, changedBy: null };
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
      case: "a pipeline that never ran the action",
      over: { history: { lastRun: async () => ({ ok: false, message: 'pipeline "p" has not run the action "Deploy/Reconcile"' }) } },
      stage: "deployed",
      problem: /has not run the action/,
    },
    {
      case: "an expired artifact",
      over: { artifacts: { get: async () => ({ ok: false, message: "the input artifact s3://artifacts/k does not exist (NoSuchKey)" }) } },
      stage: "artifact",
      problem: /pipeline execution exec-2, Succeeded\): the input artifact s3:\/\/artifacts\/k does not exist \(NoSuchKey\) \(artifacts expire/,
    },
    {
      case: "an artifact without the definition file (the same zip defences as the reconciler)",
      over: { artifacts: { get: async () => ({ ok: true, bytes: zipOf({ "README.md": "hi" }) }) } },
      stage: "artifact",
      problem: /input artifact: "lambdas.json" not found in the artifact/,
    },
    {
      case: "an invalid deployed definition",
      over: { artifacts: { get: async () => ({ ok: true, bytes: zipOf({ "lambdas.json": '{"lambdas":[{"name":"team-b-x","version":"1"}]}' }) }) } },
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

  it("compares with the definition of the pipeline's last run of the action (its stage from GetPipeline), read from the artifact store", async () => {
    const { d, record } = deps();
    const result = await runDriftCheck(d);
    expect(record.runs).to.deep.equal([["lambda-gitops", "Deploy", "Reconcile"]]);
    expect(record.objects).to.deep.equal(["s3://artifacts/p/Definitio/abc"]);
    expect(result.kind === "checked" && result.detail.deployed).to.deep.equal({
      pipelineExecutionId: "exec-2",
      actionExecutionId: "act-2",
      status: "Succeeded",
      startedAt: "2026-11-30T09:00:00.000Z",
      sourceAction: "Source",
      revision: "c2",
      latestRevision: "c3",
    });
  });

  it("CodeCommit (REPOSITORY_NAME, BRANCH_NAME): fileChange from the file at the branch head, function by function", async () => {
    const head = (version: string) => ({
      codecommit: {
        getFile: async () => ({ kind: "found" as const, text: JSON.stringify({ lambdas: [{ name: "team-a-orders", version }] }), bytes: 1 }),
        postComment: async () => ({ commentId: "" }),
      },
    });
    const same = await runDriftCheck(deps(head("1.5.0")).d);
    const moved = await runDriftCheck(deps(head("1.6.0")).d);
    expect(same.kind === "checked" && same.detail.drifted.map((x) => [x.fileChange, x.fileChanged])).to.deep.equal([["unchanged", false]]);
    expect(moved.kind === "checked" && moved.detail.drifted.map((x) => [x.fileChange, x.fileChanged])).to.deep.equal([["changed", true]]);
  });

  it("any other source (no repository): a newer source revision than the deployed one reads 'newer commit not deployed yet'", async () => {
    const { d } = deps({ env: { PIPELINE_NAME: "lambda-gitops", ACTION_NAME: "Reconcile" } });
    const lines: string[] = [];
    const noGetFile = {
      getFile: async () => {
        throw new Error("GetFile must not be called");
      },
      postComment: async () => ({ commentId: "" }),
    };
    const logger = createLogger({ level: "warn", write: (line) => void lines.push(line) });
    const result = await runDriftCheck({ ...d, codecommit: noGetFile, logger });
    const logged = lines.join("\n");
    expect(result.kind === "checked" && result.detail.drifted.map((x) => [x.fileChange, x.fileChanged])).to.deep.equal([["newer-commit-not-deployed", true]]);
    expect(logged).to.include("(1.5.0; newer commit not deployed yet)");
  });

  it("settings: REPOSITORY_NAME and BRANCH_NAME are optional, but go together", () => {
    const base = { PIPELINE_NAME: "p", ACTION_NAME: "a" };
    const plain = readDriftSettings(base);
    expect(plain.ok && plain.settings.branch).to.equal(undefined);
    const codecommit = readDriftSettings({ ...base, REPOSITORY_NAME: "r", BRANCH_NAME: "main" });
    expect(codecommit.ok && codecommit.settings.branch).to.deep.equal({ repositoryName: "r", branchName: "main" });
    const half = readDriftSettings({ ...base, REPOSITORY_NAME: "r" });
    expect(!half.ok && half.problems).to.deep.equal(["BRANCH_NAME: is not set (REPOSITORY_NAME is; set both for a CodeCommit source, or neither)"]);
  });

  describe("the stack's pin, as the handler and the pull-request planner apply it", () => {
    const env = { PIPELINE_NAME: "lambda-gitops", ACTION_NAME: "Reconcile", REPOSITORY_NAME: "defs", BRANCH_NAME: "main" };
    // The definition the pipeline last deployed, as its artifact holds it.
    const file = (lambdas: { name: string; version: string }[]): Partial<DriftDeps> => ({
      artifacts: { get: async () => ({ ok: true, bytes: zipOf({ "lambdas.json": JSON.stringify({ lambdas }) }) }) },
    });
    const refused = async (over: Partial<DriftDeps>, stage: string, problem: RegExp) => {
      const { d, record } = deps(over);
      const result = await runDriftCheck(d);
      expect(result.kind === "not-checked" && result.stage, JSON.stringify(result)).to.equal(stage);
      if (result.kind === "not-checked") expect(result.problems.join("\n")).to.match(problem);
      expect(record.metrics).to.deep.equal([]);
      expect(record.lookups).to.deep.equal([]);
    };

    it("UserParameters wider than ALLOWED_PREFIXES: not checked (parameters)", async () => {
      await refused({ env: { ...env, ALLOWED_PREFIXES: "team-a-orders-" } }, "parameters", /prefix "team-a-" is not allowed by the stack \(ALLOWED_PREFIXES: "team-a-orders-"\)/);
    });

    it("a function outside the pinned prefixes: not checked (definition)", async () => {
      await refused(
        { env: { ...env, ALLOWED_PREFIXES: "team-a-" }, ...file([{ name: "team-a-orders", version: "1.5.0" }, { name: "team-b-x", version: "1.0.0" }]) },
        "definition",
        /team-b-x/,
      );
    });

    it("a protected function (PROTECTED_FUNCTIONS, or the check itself): not checked (definition)", async () => {
      const lambdas = [{ name: "team-a-orders", version: "1.5.0" }, { name: "team-a-reconciler", version: "1.0.0" }];
      await refused({ env: { ...env, PROTECTED_FUNCTIONS: "team-a-reconciler" }, ...file(lambdas) }, "definition", /team-a-reconciler/);
      await refused({ env: { ...env, AWS_LAMBDA_FUNCTION_NAME: "team-a-reconciler" }, ...file(lambdas) }, "definition", /team-a-reconciler/);
    });

    it("a region parameter other than the check's own Region: not checked (parameters)", async () => {
      const pipeline = { readActionUserParameters: async () => ({ ok: true as const, userParameters: '{"allowedPrefixes":["team-a-"],"region":"us-east-1"}', stageName: "s" }) };
      await refused({ env: { ...env, AWS_REGION: "eu-west-1" }, pipeline }, "parameters", /region "us-east-1" is not this reconciler's Region/);
    });

    it("an invalid pin fails closed: not checked (settings)", async () => {
      await refused({ env: { ...env, ALLOWED_PREFIXES: "" } }, "settings", /ALLOWED_PREFIXES: /);
    });

    it("narrower UserParameters and an unprotected definition are checked as before", async () => {
      const { d } = deps({ env: { ...env, ALLOWED_PREFIXES: "team-", PROTECTED_FUNCTIONS: "team-b-reconciler", AWS_LAMBDA_FUNCTION_NAME: "team-b-drift" } });
      expect((await runDriftCheck(d)).kind).to.equal("checked");
    });
  });

  it("settings: ON_DRIFT and METRIC_NAMESPACE are validated", () => {
    const base = { PIPELINE_NAME: "p", ACTION_NAME: "a", REPOSITORY_NAME: "r", BRANCH_NAME: "main" };
    expect(readDriftSettings({ ...base, ON_DRIFT: "heal" }).ok).to.equal(false);
    const ok = readDriftSettings({ ...base, METRIC_NAMESPACE: "Team/Deploys" });
    expect(ok.ok && ok.settings).to.include({ namespace: "Team/Deploys", onDrift: "report" });
  });
});
