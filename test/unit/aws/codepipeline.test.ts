/**
 * The CodePipeline adapter (aws/codepipeline.ts) at the SDK boundary: reading the job
 * (GetJobDetails) and reporting results CodePipeline accepts, without ever throwing for a result
 * it refuses only for its output variables (a throw would re-run the job).
 */
import {
  CodePipelineClient,
  CodePipelineServiceException,
  GetJobDetailsCommand,
  PutJobSuccessResultCommand,
} from "@aws-sdk/client-codepipeline";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import {
  capOutputVariables,
  createJobReader,
  createJobReporter,
  MAX_SUMMARY,
} from "../../../reconciler/aws/codepipeline.ts";
import { AwsCallError } from "../../../reconciler/core/errors.ts";

const JOB = "11111111-2222-3333-4444-555555555555";
const client = new CodePipelineClient({ region: "eu-west-1", credentials: { accessKeyId: "a", secretAccessKey: "b" } });
const pipeline = mockClient(client);

const error = (name: string, status = 400) =>
  new CodePipelineServiceException({ name, message: `${name}!`, $fault: status >= 500 ? "server" : "client", $metadata: { httpStatusCode: status } });

describe("aws/codepipeline: capOutputVariables (what CodePipeline accepts)", () => {
  const rows: { title: string; input: Record<string, string>; kept: string[]; dropped: number }[] = [
    { title: "plain function names and versions", input: { "team-a-x": "3", team_b: "12" }, kept: ["team-a-x", "team_b"], dropped: 0 },
    { title: "a key outside [A-Za-z0-9@_-]", input: { "a.b": "1", ok: "2" }, kept: ["ok"], dropped: 1 },
    { title: "an empty value", input: { a: "" }, kept: [], dropped: 1 },
    { title: "a value over 1000 characters", input: { a: "x".repeat(1001), b: "x".repeat(1000) }, kept: ["b"], dropped: 1 },
  ];
  for (const row of rows) {
    it(row.title, () => {
      const capped = capOutputVariables(row.input);
      expect(Object.keys(capped.variables)).to.deep.equal(row.kept);
      expect(capped.dropped).to.equal(row.dropped);
    });
  }
  it("keeps variables in order until the total size would pass the limit", () => {
    const input = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`team-a-function-${i}`, "9".repeat(500)]));
    const capped = capOutputVariables(input);
    const size = Object.entries(capped.variables).reduce((n, [k, v]) => n + k.length + v.length, 0);
    expect(size).to.be.at.most(100 * 1024);
    expect(Object.keys(capped.variables)[0]).to.equal("team-a-function-0");
    expect(capped.dropped).to.equal(300 - Object.keys(capped.variables).length).and.be.above(0);
  });
});

describe("aws/codepipeline: reporter", () => {
  beforeEach(() => pipeline.reset());
  const reporter = () => createJobReporter(client);
  const sent = () => pipeline.commandCalls(PutJobSuccessResultCommand).map((c) => c.args[0].input);

  it("sends only the variables CodePipeline accepts and says how many were left out", async () => {
    pipeline.on(PutJobSuccessResultCommand).resolves({});
    const outcome = await reporter().success(JOB, {
      summary: "done",
      externalExecutionId: "r",
      outputVariables: { ok: "3", "bad key": "4" },
    });
    expect(outcome).to.equal("reported");
    expect(sent()).to.have.length(1);
    expect(sent()[0]!.outputVariables).to.deep.equal({ ok: "3" });
    expect(sent()[0]!.executionDetails?.summary).to.equal("done (1 output variable(s) left out: over CodePipeline's limits)");
  });

  for (const name of ["OutputVariablesSizeExceededException", "ValidationException"]) {
    it(`reports again without the variables when CodePipeline refuses them (${name}), rather than throwing`, async () => {
      pipeline
        .on(PutJobSuccessResultCommand)
        .rejectsOnce(error(name))
        .resolves({});
      const outcome = await reporter().success(JOB, {
        summary: "s".repeat(MAX_SUMMARY),
        externalExecutionId: "r",
        outputVariables: { a: "1" },
      });
      expect(outcome).to.equal("reported-without-variables");
      expect(sent().map((i) => i.outputVariables)).to.deep.equal([{ a: "1" }, undefined]);
      const summary = sent()[1]!.executionDetails!.summary!;
      expect(summary.length).to.be.at.most(MAX_SUMMARY);
      expect(summary).to.match(/output variables left out: CodePipeline refused them\)$/);
    });
  }

  it("treats InvalidJobStateException as already finished, without a second call", async () => {
    pipeline.on(PutJobSuccessResultCommand).rejects(error("InvalidJobStateException"));
    const outcome = await reporter().success(JOB, { summary: "x", externalExecutionId: "r", outputVariables: { a: "1" } });
    expect(outcome).to.equal("already-finished");
    expect(sent()).to.have.length(1);
  });

  it("still throws for a ValidationException when there were no variables to leave out", async () => {
    pipeline.on(PutJobSuccessResultCommand).rejects(error("ValidationException"));
    const failure = await reporter()
      .success(JOB, { summary: "x", externalExecutionId: "r", continuationToken: "t", outputVariables: { a: "1" } })
      .then(() => undefined, (e: unknown) => e);
    expect(failure).to.be.instanceOf(AwsCallError);
    expect(sent()).to.have.length(1);
    expect(sent()[0]!.outputVariables, "never with a continuation token").to.equal(undefined);
  });
});

describe("aws/codepipeline: job reader (GetJobDetails)", () => {
  beforeEach(() => pipeline.reset());

  it("returns the job's data and account as CodePipeline reports them", async () => {
    pipeline.on(GetJobDetailsCommand, { jobId: JOB }).resolves({
      jobDetails: { id: JOB, accountId: "222222222222", data: { pipelineContext: { pipelineName: "p" } } },
    });
    expect(await createJobReader(client).getJob(JOB)).to.deep.equal({
      kind: "found",
      job: { id: JOB, accountId: "222222222222", data: { pipelineContext: { pipelineName: "p" } } },
    });
  });

  for (const name of ["JobNotFoundException", "ValidationException"]) {
    it(`answers "unknown" for ${name}`, async () => {
      pipeline.on(GetJobDetailsCommand).rejects(error(name));
      const read = await createJobReader(client).getJob(JOB);
      expect(read.kind).to.equal("unknown");
    });
  }

  it("throws any other error (access denied is not 'unknown')", async () => {
    pipeline.on(GetJobDetailsCommand).rejects(error("AccessDeniedException"));
    const failure = await createJobReader(client)
      .getJob(JOB)
      .then(() => undefined, (e: unknown) => e);
    expect(failure).to.be.instanceOf(AwsCallError);
  });
});
