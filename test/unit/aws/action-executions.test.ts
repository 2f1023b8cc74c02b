/**
 * The execution-history adapter (aws/action-executions.ts) at the SDK boundary: which run of the
 * Reconcile action counts as "what the pipeline last deployed", where its artifact is, and which
 * source revision it came from, from the shapes the API reference gives ListPipelineExecutions and
 * ListActionExecutions.
 */
import {
  type ActionExecutionDetail,
  CodePipelineClient,
  CodePipelineServiceException,
  ListActionExecutionsCommand,
  ListPipelineExecutionsCommand,
  type PipelineExecutionSummary,
} from "@aws-sdk/client-codepipeline";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import { createActionHistory } from "../../../reconciler/aws/action-executions.ts";
import { AwsCallError } from "../../../reconciler/core/errors.ts";

const client = new CodePipelineClient({ region: "eu-west-1", credentials: { accessKeyId: "a", secretAccessKey: "b" } });
const pipeline = mockClient(client);
const error = (name: string) =>
  new CodePipelineServiceException({ name, message: `${name}!`, $fault: "client", $metadata: { httpStatusCode: 400 } });

const summary = (id: string, revision: string, actionName = "Source"): PipelineExecutionSummary => ({
  pipelineExecutionId: id,
  status: "Succeeded",
  sourceRevisions: [{ actionName, revisionId: revision }],
});
const source = (execution: string, artifact = "Definitions"): ActionExecutionDetail => ({
  pipelineExecutionId: execution,
  stageName: "Source",
  actionName: "Source",
  status: "Succeeded",
  output: { outputArtifacts: [{ name: artifact, s3location: { bucket: "artifacts", key: `src/${execution}` } }] },
});
const reconcile = (execution: string, status: ActionExecutionDetail["status"], at: string, key = `src/${execution}`): ActionExecutionDetail => ({
  pipelineExecutionId: execution,
  actionExecutionId: `${execution}-${at}`,
  stageName: "Deploy",
  actionName: "Reconcile",
  status,
  startTime: new Date(at),
  input: { inputArtifacts: [{ name: "Definitions", s3location: { bucket: "artifacts", key } }] },
});

/** ListActionExecutions answers per pipeline execution, as its filter asks. */
function history(summaries: PipelineExecutionSummary[], details: ActionExecutionDetail[]) {
  pipeline.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: summaries });
  pipeline.on(ListActionExecutionsCommand).callsFake((input: { filter?: { pipelineExecutionId?: string } }) => ({
    actionExecutionDetails: details.filter((d) => d.pipelineExecutionId === input.filter?.pipelineExecutionId),
  }));
}

describe("aws/action-executions: the pipeline's last run of the action", () => {
  beforeEach(() => pipeline.reset());

  it("is the newest execution that ran the action, whatever its status; newer executions only give the latest revision", async () => {
    history(
      [summary("e3", "c3"), summary("e2", "c2"), summary("e1", "c1")],
      [source("e3"), source("e2"), reconcile("e2", "Failed", "2026-12-01T09:00:00Z"), source("e1"), reconcile("e1", "Succeeded", "2026-11-01T09:00:00Z")],
    );
    const last = await createActionHistory(client).lastRun("p", "Deploy", "Reconcile");
    expect(last).to.deep.equal({
      ok: true,
      run: {
        pipelineExecutionId: "e2",
        actionExecutionId: "e2-2026-12-01T09:00:00Z",
        status: "Failed",
        startTime: new Date("2026-12-01T09:00:00Z"),
        artifact: { name: "Definitions", bucket: "artifacts", key: "src/e2" },
        source: { actionName: "Source", revision: "c2", latestRevision: "c3" },
      },
    });
    // Executions searched newest first, stopping at the first with the action.
    expect(pipeline.commandCalls(ListActionExecutionsCommand).map((c) => c.args[0].input.filter?.pipelineExecutionId)).to.deep.equal(["e3", "e2"]);
  });

  it("a retried action in one pipeline execution: its newest attempt; an action of the same name in another stage does not count", async () => {
    const otherStage = { ...reconcile("e1", "Succeeded", "2026-12-01T12:00:00Z", "other"), stageName: "Staging" };
    history(
      [summary("e1", "c1")],
      [reconcile("e1", "Failed", "2026-12-01T09:00:00Z"), reconcile("e1", "InProgress", "2026-12-01T10:00:00Z"), otherStage, source("e1")],
    );
    const last = await createActionHistory(client).lastRun("p", "Deploy", "Reconcile");
    expect(last.ok && [last.run.status, last.run.actionExecutionId]).to.deep.equal(["InProgress", "e1-2026-12-01T10:00:00Z"]);
  });

  it("an artifact built by another action: the revision of the pipeline's only source; with several sources and no match, no revision", async () => {
    const built = { ...reconcile("e1", "Succeeded", "2026-12-01T09:00:00Z"), input: { inputArtifacts: [{ name: "Built", s3location: { bucket: "b", key: "k" } }] } };
    const build: ActionExecutionDetail = { pipelineExecutionId: "e1", stageName: "Build", actionName: "Build", output: { outputArtifacts: [{ name: "Built" }] } };
    history([summary("e1", "c1")], [built, build, source("e1")]);
    const single = await createActionHistory(client).lastRun("p", "Deploy", "Reconcile");
    expect(single.ok && single.run.source).to.deep.equal({ actionName: "Source", revision: "c1", latestRevision: "c1" });

    pipeline.reset();
    history(
      [{ pipelineExecutionId: "e1", sourceRevisions: [{ actionName: "A", revisionId: "1" }, { actionName: "B", revisionId: "2" }] }],
      [built, build],
    );
    const several = await createActionHistory(client).lastRun("p", "Deploy", "Reconcile");
    expect(several.ok && several.run.source).to.equal(undefined);
  });

  it("values for a missing pipeline, a pipeline that never ran the action, and a run without an artifact location", async () => {
    pipeline.on(ListPipelineExecutionsCommand).rejects(error("PipelineNotFoundException"));
    expect(await createActionHistory(client).lastRun("p", "Deploy", "Reconcile")).to.deep.equal({
      ok: false,
      message: 'pipeline "p" does not exist in this account and Region',
    });
    pipeline.reset();
    history([summary("e1", "c1")], [source("e1")]);
    const never = await createActionHistory(client).lastRun("p", "Deploy", "Reconcile");
    expect(!never.ok && never.message).to.match(/has not run the action "Deploy\/Reconcile" in its 1 most recent execution/);
    pipeline.reset();
    history([summary("e1", "c1")], [{ ...reconcile("e1", "Succeeded", "2026-12-01T09:00:00Z"), input: {} }]);
    const bare = await createActionHistory(client).lastRun("p", "Deploy", "Reconcile");
    expect(!bare.ok && bare.message).to.match(/names no input artifact location/);
  });

  it("access denied is thrown as an AwsCallError, never read as 'no run'", async () => {
    pipeline.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: [summary("e1", "c1")] });
    pipeline.on(ListActionExecutionsCommand).rejects(error("AccessDeniedException"));
    const thrown = await createActionHistory(client).lastRun("p", "Deploy", "Reconcile").then(() => undefined, (e: unknown) => e);
    expect(thrown).to.be.instanceOf(AwsCallError);
  });
});
