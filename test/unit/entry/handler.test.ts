/**
 * runJob (the CodePipeline job handler) at the SDK boundary: the REAL adapters (job reporter,
 * artifact store, Lambda adapter) over SDK client instances mocked with aws-sdk-client-mock.
 * What a pipeline owner relies on: exactly one job result per invocation, a message naming the
 * cause, no Lambda call for bad input, bounded messages, continuation across rounds, safe logs.
 */
import { Readable } from "node:stream";
import {
  CodePipelineClient,
  CodePipelineServiceException,
  GetJobDetailsCommand,
  GetPipelineExecutionCommand,
  PutJobFailureResultCommand,
  type PutJobFailureResultCommandInput,
  PutJobSuccessResultCommand,
  type PutJobSuccessResultCommandInput,
} from "@aws-sdk/client-codepipeline";
import {
  type AliasConfiguration,
  CreateAliasCommand,
  DeleteAliasCommand,
  DeleteFunctionCommand,
  type FunctionConfiguration,
  GetFunctionCommand,
  LambdaClient,
  LambdaServiceException,
  ListAliasesCommand,
  ListEventSourceMappingsCommand,
  ListProvisionedConcurrencyConfigsCommand,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
} from "@aws-sdk/client-lambda";
import { GetObjectCommand, NoSuchKey, S3Client } from "@aws-sdk/client-s3";
// @smithy/util-stream (named in the aws-sdk-client-mock docs) is not installed on its own here;
// the same sdkStreamMixin ships in @smithy/core/serde, which the SDK clients depend on.
import { sdkStreamMixin } from "@smithy/core/serde";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import { strToU8, zipSync } from "fflate";
import { createJobReader, createJobReporter } from "../../../reconciler/aws/codepipeline.ts";
import { createExecutionReader } from "../../../reconciler/aws/pipeline-execution.ts";
import { codePipelineJobEvent } from "../../support/events.ts";
import { createLambdaAdapter } from "../../../reconciler/aws/lambda.ts";
import { type ArtifactCredentials, createArtifactStore } from "../../../reconciler/aws/s3.ts";
import type { AwsContext } from "../../../reconciler/observe/context.ts";
import {
  DEADLINE_RESERVE_MS,
  type HandlerDeps,
  type LambdaContext,
  defaultDeps,
  runJob as runJobOf,
} from "../../../reconciler/entry/handler.ts";
import { createLogger, silentLogger } from "../../../reconciler/core/log.ts";
import type { JobParameters } from "../../../reconciler/input/parameters.ts";
import { encodeMarker } from "../../../reconciler/observe/marker.ts";

const JOB_ID = "11111111-2222-3333-4444-555555555555";
const REQUEST_ID = "req-1";
const EXECUTION_ID = "0b0e7c1a-1111-4222-8333-444455556666";
const BUCKET = "codepipeline-eu-west-1-artifacts";
const OBJECT_KEY = "pipe/SourceOutput/Xyz12";
const SECRET = "ARTIFACT-SECRET-ACCESS-KEY-do-not-log";
const SESSION_TOKEN = "ARTIFACT-SESSION-TOKEN-do-not-log";
const PRESIGNED =
  "https://awslambda-eu-west-1-tasks.s3.example/snapshots/code.zip?X-Amz-Signature=PRESIGNED-SIG";
const SOURCE_ROLE = "arn:aws:iam::111111111111:role/lambda-gitops-source";
const SRC_SHA = "c3JjLXNoYQ==";
const FAST_WAIT = { minDelay: 0.001, maxDelay: 0.002, maxWaitTime: 5 };

const ORDERS = "team-a-orders";
const API = "team-a-api";

type Json = Record<string, unknown>;

function userParameters(over: Json = {}): string {
  return JSON.stringify({ allowedPrefixes: ["team-a-"], ...over });
}

/** A CodePipeline job event shaped like the real one; `data` overrides replace fields of `data`. */
function jobEvent(data: Json = {}): Json {
  return codePipelineJobEvent({
    jobId: JOB_ID,
    accountId: "222222222222",
    bucket: BUCKET,
    objectKey: OBJECT_KEY,
    userParameters: userParameters(),
    revision: "abc",
    artifactCredentials: {
      accessKeyId: "ASIAARTIFACTKEY",
      secretAccessKey: SECRET,
      sessionToken: SESSION_TOKEN,
      expirationTime: 1_900_000_000_000,
    },
    data,
  });
}

function withParameters(text: string | undefined, data: Json = {}): Json {
  return jobEvent({
    actionConfiguration: { configuration: { FunctionName: "lambda-gitops", UserParameters: text } },
    ...data,
  });
}

/** A job whose UserParameters name a source account (needed to promote). */
const promotingJob = () => withParameters(userParameters({ sourceRoleArn: SOURCE_ROLE }));

const plentyOfTime = (): LambdaContext => ({
  awsRequestId: REQUEST_ID,
  getRemainingTimeInMillis: () => 600_000,
});

type Entry = { name: string; version: string };

function definition(entries: readonly Entry[]): string {
  return `${JSON.stringify({ lambdas: entries }, null, 2)}\n`;
}

function zipOf(files: Record<string, string>): Uint8Array {
  return zipSync(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, strToU8(v)])));
}

function alias(Name: string, FunctionVersion: string, RevisionId = `rev-${Name}-${FunctionVersion}`) {
  return { Name, FunctionVersion, RevisionId } satisfies AliasConfiguration;
}

/** UpdateAlias / CreateAlias answer with the alias as it now is (what Lambda does). */
function aliasAsWritten(input: {
  Name?: string;
  FunctionVersion?: string;
  RoutingConfig?: AliasConfiguration["RoutingConfig"];
  Description?: string;
}): AliasConfiguration {
  const { Name, FunctionVersion, RoutingConfig, Description } = input;
  return { Name, FunctionVersion, RoutingConfig, Description, RevisionId: `rev-${Name}-${FunctionVersion}-written` };
}

/** LIVE -> v3 (1.1.1); 1.0.0 -> v2 exists: declaring 1.0.0 is a rollback, 1.1.1 a noop. */
const STANDARD_ALIASES = [alias("LIVE", "3", "live-rev-1"), alias("1-1-1", "3"), alias("1-0-0", "2")];

function lambdaError(name: string, message: string, status: number) {
  return new LambdaServiceException({
    name,
    message,
    $fault: status >= 500 ? "server" : "client",
    $metadata: { httpStatusCode: status },
  });
}

function serverError(name: string, status: number) {
  return new CodePipelineServiceException({
    name,
    message: `${name}: please try again`,
    $fault: "server",
    $metadata: { httpStatusCode: status },
  });
}

const config = (o: Partial<FunctionConfiguration> = {}): FunctionConfiguration => ({
  FunctionName: ORDERS,
  Version: "$LATEST",
  PackageType: "Zip",
  CodeSha256: "old-sha",
  CodeSize: 4,
  Runtime: "nodejs22.x",
  Handler: "index.handler",
  Architectures: ["x86_64"],
  RevisionId: "latest-rev-1",
  State: "Active",
  LastUpdateStatus: "Successful",
  ...o,
});

describe("runJob (CodePipeline job handler, SDK boundary mocked)", () => {
  const fakeCredentials = { accessKeyId: "test", secretAccessKey: "test" };
  const codePipelineClient = new CodePipelineClient({ region: "eu-west-1", credentials: fakeCredentials });
  const s3Client = new S3Client({ region: "eu-west-1", credentials: fakeCredentials });
  const targetClient = new LambdaClient({ region: "eu-west-1", credentials: fakeCredentials });
  const sourceClient = new LambdaClient({ region: "eu-west-1", credentials: fakeCredentials });
  const codePipeline = mockClient(codePipelineClient);
  const s3 = mockClient(s3Client);
  const target = mockClient(targetClient);
  const source = mockClient(sourceClient);

  let sleeps: number[];
  let downloads: string[];
  let artifactCredentials: ArtifactCredentials[];
  let artifactRegions: (string | undefined)[];
  let awsRunIds: string[];
  let lines: string[];

  /** Serve `zip` as the input artifact (a fresh stream per GetObject, as S3 would). */
  function serveArtifact(zip: Uint8Array, contentLength = zip.byteLength): void {
    s3.on(GetObjectCommand).callsFake(() => ({
      Body: sdkStreamMixin(Readable.from([Buffer.from(zip)])),
      ContentLength: contentLength,
    }));
  }

  const serveDefinition = (entries: readonly Entry[]) =>
    serveArtifact(zipOf({ "lambdas.json": definition(entries), "README.md": "# env\n" }));

  function deps(over: Partial<HandlerDeps> = {}): HandlerDeps {
    return {
      reporter: createJobReporter(codePipelineClient),
      jobs: createJobReader(codePipelineClient),
      executions: createExecutionReader(codePipelineClient),
      env: {},
      artifacts: (credentials: ArtifactCredentials, region: string | undefined) => {
        artifactCredentials.push(credentials);
        artifactRegions.push(region);
        return createArtifactStore(s3Client);
      },
      aws: (parameters: JobParameters, runId: string): AwsContext => {
        awsRunIds.push(runId);
        return {
          target: createLambdaAdapter(targetClient),
          source: parameters.sourceRoleArn
            ? { reader: createLambdaAdapter(sourceClient), accountId: "111111111111" }
            : undefined,
        };
      },
      stager: () => undefined,
      download: async (url, expected) => {
        downloads.push(url);
        return expected.codeSha256 === SRC_SHA
          ? { ok: true, bytes: new Uint8Array([80, 75, 5, 6]) }
          : { ok: false, message: "hash mismatch" };
      },
      logger: silentLogger,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      wait: FAST_WAIT,
      ...over,
    };
  }

  const capturingLogger = () =>
    createLogger({
      level: "debug",
      write: (line) => {
        lines.push(line);
      },
    });

  /**
   * CodePipeline knows the job exactly as the event describes it (GetJobDetails answers the event's
   * `data`, with the pipeline context CodePipeline adds), then the handler runs. The trust tests
   * below answer GetJobDetails differently from the event.
   */
  async function runJob(event: unknown, context: LambdaContext, handlerDeps: HandlerDeps): Promise<void> {
    const job = (event as { "CodePipeline.job"?: { id?: string; data?: Json } } | null)?.["CodePipeline.job"];
    if (job?.id) {
      codePipeline.on(GetJobDetailsCommand, { jobId: job.id }).resolves({
        jobDetails: {
          id: job.id,
          accountId: "222222222222",
          data: { ...job.data, pipelineContext: { pipelineName: "lambda-gitops", pipelineExecutionId: EXECUTION_ID } } as never,
        },
      });
    }
    await runJobOf(event, context, handlerDeps);
  }

  const lambdaCalls = () => [...target.calls(), ...source.calls()];
  const successCalls = () => codePipeline.commandCalls(PutJobSuccessResultCommand);
  const failureCalls = () => codePipeline.commandCalls(PutJobFailureResultCommand);
  const resultCalls = () => [...successCalls(), ...failureCalls()];

  /** Exactly one job result, a failure for this job and request; returns its message. */
  function theFailure(): string {
    expect(resultCalls(), "exactly one job result").to.have.length(1);
    expect(successCalls()).to.have.length(0);
    const input: PutJobFailureResultCommandInput = failureCalls()[0]!.args[0].input;
    expect(input.jobId).to.equal(JOB_ID);
    expect(input.failureDetails?.type).to.equal("JobFailed");
    expect(input.failureDetails?.externalExecutionId).to.equal(REQUEST_ID);
    expect(input.failureDetails?.message).to.be.a("string").and.not.equal("");
    return input.failureDetails?.message ?? "";
  }

  /** Exactly one job result, a success for this job and request. */
  function theSuccess(): PutJobSuccessResultCommandInput {
    expect(resultCalls(), "exactly one job result").to.have.length(1);
    expect(failureCalls(), failureCalls()[0]?.args[0].input.failureDetails?.message).to.have.length(0);
    const input: PutJobSuccessResultCommandInput = successCalls()[0]!.args[0].input;
    expect(input.jobId).to.equal(JOB_ID);
    expect(input.executionDetails?.externalExecutionId).to.equal(REQUEST_ID);
    return input;
  }

  beforeEach(() => {
    codePipeline.reset();
    s3.reset();
    target.reset();
    source.reset();
    sleeps = [];
    downloads = [];
    artifactCredentials = [];
    artifactRegions = [];
    awsRunIds = [];
    lines = [];
    codePipeline.on(PutJobSuccessResultCommand).resolves({});
    codePipeline.on(PutJobFailureResultCommand).resolves({});
    codePipeline.on(GetPipelineExecutionCommand).resolves({ pipelineExecution: { status: "InProgress" } });
    target.on(ListAliasesCommand).resolves({ Aliases: STANDARD_ALIASES });
    target.on(UpdateAliasCommand).callsFake(aliasAsWritten);
    target.on(CreateAliasCommand, { Name: "LIVE" }).callsFake(aliasAsWritten);
  });

  describe("trust: the event is a job id only; the job is what CodePipeline reports", () => {
    /** CodePipeline answers GetJobDetails for JOB_ID with `data` (not what the event says). */
    function pipelineKnows(data: Json, pipelineName = "lambda-gitops"): void {
      codePipeline.on(GetJobDetailsCommand, { jobId: JOB_ID }).resolves({
        jobDetails: {
          id: JOB_ID,
          accountId: "222222222222",
          data: { ...(jobEvent(data)["CodePipeline.job"] as { data: Json }).data, pipelineContext: { pipelineName, pipelineExecutionId: EXECUTION_ID } } as never,
        },
      });
    }
    const refusedLogged = () =>
      lines.some((l) => {
        const entry = JSON.parse(l) as { refused?: boolean; jobId?: string };
        return entry.refused === true && entry.jobId === JOB_ID;
      });

    for (const name of ["JobNotFoundException", "ValidationException"]) {
      it(`makes no call at all and reports nothing for a job CodePipeline does not know (${name})`, async () => {
        serveDefinition([{ name: ORDERS, version: "1.0.0" }]);
        codePipeline
          .on(GetJobDetailsCommand)
          .rejects(new CodePipelineServiceException({ name, message: "no such job", $fault: "client", $metadata: { httpStatusCode: 400 } }));
        await runJobOf(jobEvent(), plentyOfTime(), deps({ logger: capturingLogger() }));
        expect(resultCalls(), "no result: CodePipeline would refuse it").to.have.length(0);
        expect(lambdaCalls(), "no Lambda call, not even a read").to.have.length(0);
        expect(s3.calls(), "no artifact read").to.have.length(0);
        expect(refusedLogged(), "logged as refused").to.equal(true);
      });
    }

    it("deploys what GetJobDetails says, not what a tampered event says (prefixes, artifact, credentials)", async () => {
      serveDefinition([{ name: ORDERS, version: "1.0.0" }]);
      pipelineKnows({});
      const tampered = jobEvent({
        actionConfiguration: { configuration: { UserParameters: userParameters({ allowedPrefixes: ["team-"] }) } },
        inputArtifacts: [
          { name: "x", location: { type: "S3", s3Location: { bucketName: "attacker-bucket", objectKey: "evil" } } },
        ],
        artifactCredentials: { accessKeyId: "ATTACKER", secretAccessKey: "attacker-secret" },
      });
      await runJobOf(tampered, plentyOfTime(), deps());
      theSuccess();
      const read = s3.commandCalls(GetObjectCommand)[0]!.args[0].input;
      expect([read.Bucket, read.Key]).to.deep.equal([BUCKET, OBJECT_KEY]);
      expect(artifactCredentials.map((c) => c.accessKeyId)).to.deep.equal(["ASIAARTIFACTKEY"]);
    });

    it("refuses a job of a pipeline the stack does not serve: a failure naming it, no Lambda call, no artifact read", async () => {
      serveDefinition([{ name: ORDERS, version: "1.0.0" }]);
      pipelineKnows({}, "someone-elses-pipeline");
      await runJobOf(jobEvent(), plentyOfTime(), deps({ env: { PIPELINE_NAMES: "lambda-gitops" }, logger: capturingLogger() }));
      expect(theFailure()).to.match(
        /refused this job: the job belongs to pipeline "someone-elses-pipeline"; this reconciler serves only "lambda-gitops" \(PIPELINE_NAMES\)/,
      );
      expect(lambdaCalls()).to.have.length(0);
      expect(s3.calls()).to.have.length(0);
      expect(refusedLogged()).to.equal(true);
    });

    it("refuses a job of another function's Invoke action", async () => {
      serveDefinition([{ name: ORDERS, version: "1.0.0" }]);
      pipelineKnows({
        actionConfiguration: { configuration: { FunctionName: "other-function", UserParameters: userParameters() } },
      });
      await runJobOf(jobEvent(), plentyOfTime(), deps({ env: { AWS_LAMBDA_FUNCTION_NAME: "lambda-gitops" } }));
      expect(theFailure()).to.match(/the job's action invokes function "other-function", not this one \("lambda-gitops"\)/);
      expect(lambdaCalls()).to.have.length(0);
    });

    it("serves a job of a pinned pipeline whose action invokes this function (by ARN)", async () => {
      serveDefinition([{ name: ORDERS, version: "1.1.1" }]);
      pipelineKnows({
        actionConfiguration: {
          configuration: {
            FunctionName: "arn:aws:lambda:eu-west-1:222222222222:function:lambda-gitops",
            UserParameters: userParameters({ allowedPrefixes: ["team-a-orders-", "team-a-"] }),
          },
        },
      });
      const env = { PIPELINE_NAMES: "other,lambda-gitops", ALLOWED_PREFIXES: "team-a-", AWS_LAMBDA_FUNCTION_NAME: "lambda-gitops" };
      await runJobOf(jobEvent(), plentyOfTime(), deps({ env }));
      theSuccess();
    });

    it("refuses UserParameters that widen the stack's prefixes, naming the prefix, before reading the artifact", async () => {
      serveDefinition([{ name: ORDERS, version: "1.0.0" }]);
      pipelineKnows({
        actionConfiguration: { configuration: { UserParameters: userParameters({ allowedPrefixes: ["team-a-", "team-"] }) } },
      });
      await runJobOf(jobEvent(), plentyOfTime(), deps({ env: { ALLOWED_PREFIXES: "team-a-,team-c-" } }));
      expect(theFailure()).to.equal(
          'UserParameters widen the stack\'s prefixes:\nUserParameters:1:1: allowedPrefixes[1]: prefix "team-" is not allowed by the stack (ALLOWED_PREFIXES: "team-a-", "team-c-"); UserParameters may narrow the stack\'s prefixes, never widen them',
      );
      expect(s3.calls()).to.have.length(0);
      expect(lambdaCalls()).to.have.length(0);
    });

    it("fails closed when the stack's pin is set but invalid", async () => {
      serveDefinition([{ name: ORDERS, version: "1.0.0" }]);
      pipelineKnows({});
      await runJobOf(jobEvent(), plentyOfTime(), deps({ env: { ALLOWED_PREFIXES: "team-a" } }));
      expect(theFailure()).to.match(/the stack's settings are invalid:\nALLOWED_PREFIXES: "team-a" is not an allowed prefix/);
      expect(lambdaCalls()).to.have.length(0);
    });

    it("refuses to touch its own function even when a prefix matches it, before any Lambda call", async () => {
      serveDefinition([
        { name: ORDERS, version: "1.0.0" },
        { name: "team-a-gitops", version: "1.0.0" },
      ]);
      pipelineKnows({
        actionConfiguration: { configuration: { FunctionName: "team-a-gitops", UserParameters: userParameters() } },
      });
      await runJobOf(jobEvent(), plentyOfTime(), deps({ env: { AWS_LAMBDA_FUNCTION_NAME: "team-a-gitops" } }));
      expect(theFailure()).to.match(
        /lambdas\.json:\d+:\d+: lambdas\[1\]\.name: function "team-a-gitops" is lambda-gitops itself .*never changes its own functions, even when a prefix matches/,
      );
      expect(lambdaCalls()).to.have.length(0);
    });

    it("regions: reads the input artifact in the pipeline's Region (AWS_REGION), not from the region parameter", async () => {
      serveDefinition([{ name: ORDERS, version: "1.1.1" }]);
      pipelineKnows({}); // no region parameter
      await runJobOf(jobEvent(), plentyOfTime(), deps({ env: { AWS_REGION: "eu-central-1" } }));
      theSuccess();
      expect(artifactRegions).to.deep.equal(["eu-central-1"]);
    });

    it("regions: the default artifact client reads in the Region it is given (AWS_REGION), not the job's", async () => {
      const anyS3 = mockClient(S3Client);
      try {
        const regions: string[] = [];
        anyS3.on(GetObjectCommand).callsFake(async (_input, getClient) => {
          regions.push(await getClient().config.region());
          return { Body: sdkStreamMixin(Readable.from([Buffer.from("PK")])), ContentLength: 2 };
        });
        const store = defaultDeps().artifacts({ accessKeyId: "a", secretAccessKey: "s" }, "ap-southeast-2");
        expect((await store.get(BUCKET, OBJECT_KEY, 10)).ok).to.equal(true);
        expect(regions).to.deep.equal(["ap-southeast-2"]);
      } finally {
        anyS3.restore();
      }
    });

    it("regions: refuses a region parameter other than the reconciler's own, before reading the artifact or calling Lambda", async () => {
      serveDefinition([{ name: ORDERS, version: "1.0.0" }]);
      pipelineKnows({
        actionConfiguration: { configuration: { UserParameters: userParameters({ region: "us-east-1" }) } },
      });
      await runJobOf(jobEvent(), plentyOfTime(), deps({ env: { AWS_REGION: "eu-west-1" } }));
      expect(theFailure()).to.match(
        /^invalid UserParameters: region "us-east-1" is not this reconciler's Region \("eu-west-1"\): its IAM grants Lambda access only in its own Region/,
      );
      expect(s3.calls()).to.have.length(0);
      expect(lambdaCalls()).to.have.length(0);
    });

    it("refuses the stack's other lambda-gitops functions (PROTECTED_FUNCTIONS)", async () => {
      serveDefinition([{ name: "team-a-pr-plan", version: "1.0.0" }]);
      pipelineKnows({});
      await runJobOf(jobEvent(), plentyOfTime(), deps({ env: { PROTECTED_FUNCTIONS: "team-a-pr-plan" } }));
      expect(theFailure()).to.match(/function "team-a-pr-plan" is lambda-gitops itself/);
      expect(lambdaCalls()).to.have.length(0);
    });
  });

  describe("stale jobs are refused (issue 20): the job's pipeline execution must still be InProgress", () => {
    beforeEach(() => serveDefinition([{ name: ORDERS, version: "1.0.0" }]));
    const executionCalls = () => codePipeline.commandCalls(GetPipelineExecutionCommand);

    it("asks GetPipelineExecution for the job's pipeline and execution, then applies", async () => {
      await runJob(jobEvent(), plentyOfTime(), deps());
      theSuccess();
      expect(executionCalls().map((c) => c.args[0].input)).to.deep.equal([
        { pipelineName: "lambda-gitops", pipelineExecutionId: EXECUTION_ID },
      ]);
      expect(target.commandCalls(UpdateAliasCommand)).to.have.length(1);
    });

    for (const status of ["Stopped", "Stopping", "Superseded", "Succeeded", "Failed", "Cancelled"]) {
      it(`an execution that is ${status}: a failure naming it, a log line, no Lambda call, no artifact read`, async () => {
        codePipeline.on(GetPipelineExecutionCommand).resolves({ pipelineExecution: { status } as never });
        await runJob(jobEvent(), plentyOfTime(), deps({ logger: capturingLogger() }));
        expect(theFailure()).to.equal(
          `lambda-gitops refused this job: pipeline execution ${EXECUTION_ID} of lambda-gitops is ${status}, not InProgress (stopped, superseded or finished since this job was queued); nothing was changed`,
        );
        expect(lambdaCalls()).to.have.length(0);
        expect(s3.calls()).to.have.length(0);
        const logged = lines.map((l) => JSON.parse(l) as Json).find((l) => l.executionStatus !== undefined);
        expect(logged).to.deep.include({ pipelineExecutionId: EXECUTION_ID, executionStatus: status, refused: true, jobId: JOB_ID });
      });
    }

    it("an execution CodePipeline does not know is refused", async () => {
      codePipeline.on(GetPipelineExecutionCommand).rejects(
        new CodePipelineServiceException({ name: "PipelineExecutionNotFoundException", message: "not found", $fault: "client", $metadata: { httpStatusCode: 400 } }),
      );
      await runJob(jobEvent(), plentyOfTime(), deps());
      expect(theFailure()).to.match(/is not found, not InProgress/);
      expect(lambdaCalls()).to.have.length(0);
    });

    it("a job naming no execution is refused (fails closed)", async () => {
      codePipeline.on(GetJobDetailsCommand, { jobId: JOB_ID }).resolves({
        jobDetails: { id: JOB_ID, data: { ...(jobEvent()["CodePipeline.job"] as { data: Json }).data, pipelineContext: { pipelineName: "lambda-gitops" } } as never },
      });
      await runJobOf(jobEvent(), plentyOfTime(), deps());
      expect(theFailure()).to.match(/the job names no pipeline execution/);
      expect(executionCalls()).to.have.length(0);
      expect(lambdaCalls()).to.have.length(0);
    });

    it("when the status cannot be read, a failure result and no Lambda call", async () => {
      codePipeline.on(GetPipelineExecutionCommand).rejects(
        new CodePipelineServiceException({ name: "AccessDeniedException", message: "not authorized to perform codepipeline:GetPipelineExecution", $fault: "client", $metadata: { httpStatusCode: 400 } }),
      );
      await runJob(jobEvent(), plentyOfTime(), deps());
      expect(theFailure()).to.match(/GetPipelineExecution failed: AccessDeniedException/);
      expect(lambdaCalls()).to.have.length(0);
    });

    it("an abandoned action (CodePipeline refuses the result: InvalidJobStateException) ends quietly", async () => {
      codePipeline.on(GetPipelineExecutionCommand).resolves({ pipelineExecution: { status: "Stopped" } });
      codePipeline.on(PutJobFailureResultCommand).rejects(
        new CodePipelineServiceException({ name: "InvalidJobStateException", message: "job is not in progress", $fault: "client", $metadata: { httpStatusCode: 400 } }),
      );
      await runJob(jobEvent(), plentyOfTime(), deps());
      expect(failureCalls()).to.have.length(1);
      expect(lambdaCalls()).to.have.length(0);
    });
  });

  describe("input failures: one failure result, no Lambda call at all", () => {
    const cases: { title: string; event: () => Json; cause: RegExp }[] = [
      {
        title: "the event has no data",
        event: () => ({ "CodePipeline.job": { id: JOB_ID, accountId: "222222222222" } }),
        cause: /invalid CodePipeline job \(GetJobDetails\):\njobDetails\.data\.actionConfiguration: /,
      },
      {
        title: "the event has no inputArtifacts",
        event: () => jobEvent({ inputArtifacts: undefined }),
        cause: /invalid CodePipeline job \(GetJobDetails\):\njobDetails\.data\.inputArtifacts: /,
      },
      {
        title: "the action has no input artifact (empty list)",
        event: () => jobEvent({ inputArtifacts: [] }),
        cause: /jobDetails\.data\.inputArtifacts: the action has no input artifact/,
      },
      {
        title: "the event has no artifactCredentials",
        event: () => jobEvent({ artifactCredentials: undefined }),
        cause: /invalid CodePipeline job \(GetJobDetails\):\njobDetails\.data\.artifactCredentials: /,
      },
      {
        title: "UserParameters is missing",
        event: () => withParameters(undefined),
        cause: /invalid UserParameters:\nUserParameters:1:1: UserParameters is empty/,
      },
      {
        title: "UserParameters is not JSON (with line:col of the error)",
        event: () => withParameters('{\n  "allowedPrefixes": ["team-a-"],\n  "maxRounds": 3,\n}'),
        cause: /invalid UserParameters:\nUserParameters:3:17: invalid JSON: trailing comma before "}"/,
      },
      {
        title: "UserParameters has an unquoted value (pointed at exactly)",
        event: () => withParameters('{"allowedPrefixes": [team-a-]}'),
        cause: /invalid UserParameters:\nUserParameters:1:22: invalid JSON: expected a value, found team-a-/,
      },
      {
        title: "UserParameters is over 1000 characters",
        event: () => withParameters(userParameters({ externalId: "x".repeat(1000) })),
        cause: /UserParameters is \d+ characters; CodePipeline allows at most 1000/,
      },
      {
        title: "allowedPrefixes is empty",
        event: () => withParameters(userParameters({ allowedPrefixes: [] })),
        cause: /UserParameters:1:\d+: allowedPrefixes: at least one prefix is required/,
      },
      {
        title: 'allowedPrefixes is [""]',
        event: () => withParameters(userParameters({ allowedPrefixes: [""] })),
        cause: /UserParameters:1:\d+: allowedPrefixes\[0\]: .*an empty prefix would allow every function/,
      },
      {
        title: "UserParameters has an unknown key (with a suggestion)",
        event: () => withParameters(userParameters({ maxRound: 3 })),
        cause: /UserParameters:1:\d+: maxRound: unknown setting "maxRound": did you mean "maxRounds"\?/,
      },
      {
        title: "UserParameters repeats a key",
        event: () => withParameters('{"allowedPrefixes": ["team-a-"], "allowedPrefixes": ["team-"]}'),
        cause: /UserParameters:1:\d+: duplicate key/,
      },
    ];
    for (const c of cases) {
      it(`fails the job when ${c.title}, before reading the artifact`, async () => {
        serveDefinition([{ name: ORDERS, version: "1.0.0" }]);
        await runJob(c.event(), plentyOfTime(), deps());
        expect(theFailure()).to.match(c.cause);
        expect(s3.calls(), "no artifact read").to.have.length(0);
        expect(lambdaCalls(), "no Lambda call").to.have.length(0);
        expect(awsRunIds, "no AWS context built").to.deep.equal([]);
      });
    }

    const artifactCases: { title: string; serve: () => void; cause: RegExp }[] = [
      {
        title: "the artifact object does not exist (S3 NoSuchKey)",
        serve: () =>
          s3.on(GetObjectCommand).rejects(
            new NoSuchKey({
              message: "The specified key does not exist.",
              $metadata: { httpStatusCode: 404 },
            }),
          ),
        cause: new RegExp(
          `the input artifact s3://${BUCKET}/pipe/SourceOutput/Xyz12 does not exist \\(NoSuchKey\\)`,
        ),
      },
      {
        title: "the artifact is over the size limit",
        serve: () => serveArtifact(zipOf({ "lambdas.json": "{}" }), 300 * 1024 * 1024),
        cause: /is 314572800 bytes, over the 268435456-byte limit/,
      },
      {
        title: "the artifact is not a zip",
        serve: () => serveArtifact(strToU8("this is not a zip file at all, just some text")),
        cause: /^input artifact: /,
      },
      {
        title: "the zip has no definition file",
        serve: () => serveArtifact(zipOf({ "README.md": "# hi\n", "src/index.js": "x" })),
        cause: /^input artifact: "lambdas\.json" not found in the artifact/,
      },
      {
        title: "the definition file is not UTF-8",
        serve: () => serveArtifact(zipSync({ "lambdas.json": new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]) })),
        cause: /^lambdas\.json: the file is not valid UTF-8/,
      },
      {
        title: "the definition is invalid (with file:line:col and path)",
        serve: () => serveDefinition([{ name: ORDERS, version: "v1.0" }]),
        cause:
          /lambdas\.json is invalid; nothing was changed:\nlambdas\.json:5:18: lambdas\[0\]\.version: "v1\.0" is not a valid semantic version/,
      },
      {
        title: "a function is outside the allowed prefixes",
        serve: () =>
          serveDefinition([
            { name: ORDERS, version: "1.0.0" },
            { name: "team-b-billing", version: "1.0.0" },
          ]),
        cause:
          /lambdas\.json:\d+:\d+: lambdas\[1\]\.name: function "team-b-billing" is outside the allowed prefixes \("team-a-"\)/,
      },
    ];
    for (const c of artifactCases) {
      it(`fails the job when ${c.title}`, async () => {
        c.serve();
        await runJob(jobEvent(), plentyOfTime(), deps());
        expect(theFailure()).to.match(c.cause);
        expect(lambdaCalls(), "no Lambda call").to.have.length(0);
        expect(awsRunIds, "no AWS context built").to.deep.equal([]);
      });
    }

    it("reads the artifact named in the event with the job's artifact credentials", async () => {
      serveDefinition([{ name: ORDERS, version: "1.1.1" }]);
      await runJob(jobEvent(), plentyOfTime(), deps());
      theSuccess();
      expect(s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input)).to.deep.equal([
        { Bucket: BUCKET, Key: OBJECT_KEY },
      ]);
      expect(artifactCredentials).to.deep.equal([
        { accessKeyId: "ASIAARTIFACTKEY", secretAccessKey: SECRET, sessionToken: SESSION_TOKEN },
      ]);
      expect(awsRunIds).to.deep.equal([JOB_ID]);
    });

    it("keeps a huge list of definition problems within CodePipeline's 5000-character limit", async () => {
      serveDefinition(Array.from({ length: 300 }, (_, i) => ({ name: `team-b-fn-${i}`, version: "1.0.0" })));
      await runJob(jobEvent(), plentyOfTime(), deps());
      const message = theFailure();
      expect(message.length).to.be.at.most(5000);
      expect(message).to.match(/lambdas\.json is invalid; nothing was changed:/);
      expect(message).to.match(/… \(\d+ more characters cut\)$/);
      expect(lambdaCalls()).to.have.length(0);
    });
  });

  describe("invocation without a job id", () => {
    for (const [title, event] of [
      ["an empty event", {}],
      ["a null event", null],
      ["an empty job id", { "CodePipeline.job": { id: "", data: {} } }],
      ["a job id over 128 characters", { "CodePipeline.job": { id: "j".repeat(129), data: {} } }],
    ] as const) {
      it(`resolves without reporting anything for ${title}`, async () => {
        await runJob(event, plentyOfTime(), deps({ logger: capturingLogger() }));
        expect(codePipeline.calls()).to.have.length(0);
        expect(s3.calls()).to.have.length(0);
        expect(lambdaCalls()).to.have.length(0);
        const logged = lines.map((l) => JSON.parse(l) as Json);
        expect(
          logged.some((l) => l.level === "error" && /without a CodePipeline job id/.test(String(l.message))),
        ).to.be.true;
      });
    }
  });

  describe("success", () => {
    it("applies a plan with a noop and a rollback and reports counts, the change and output variables", async () => {
      serveDefinition([
        { name: ORDERS, version: "1.0.0" },
        { name: API, version: "1.1.1" },
      ]);
      await runJob(jobEvent(), plentyOfTime(), deps());
      const input = theSuccess();
      const summary = input.executionDetails?.summary ?? "";
      expect(summary).to.match(
        /^2 function\(s\): 1 noop, 1 rollback\. Changed: team-a-orders -> 1\.0\.0 \(v2\)$/,
      );
      expect(input.outputVariables).to.deep.equal({ [ORDERS]: "2" });
      expect(input.continuationToken).to.equal(undefined);
      expect(target.commandCalls(UpdateAliasCommand).map((c) => c.args[0].input)).to.deep.equal([
        {
          FunctionName: ORDERS,
          Name: "LIVE",
          FunctionVersion: "2",
          RoutingConfig: { AdditionalVersionWeights: {} },
          RevisionId: "live-rev-1",
          Description: encodeMarker({ version: "1.0.0", functionVersion: "2", weights: {}, fromFunctionVersion: "3" }),
        },
      ]);
      expect(
        target.commandCalls(ListAliasesCommand).map((c) => c.args[0].input.FunctionName),
      ).to.have.members([ORDERS, API]);
    });

    it("reports 'Nothing changed' and no output variables when everything is already live", async () => {
      serveDefinition([{ name: API, version: "1.1.1" }]);
      await runJob(jobEvent(), plentyOfTime(), deps());
      const input = theSuccess();
      expect(input.executionDetails?.summary).to.equal("1 function(s): 1 noop. Nothing changed.");
      expect(input.outputVariables ?? {}).to.deep.equal({});
      expect(input.continuationToken).to.equal(undefined);
      expect(target.commandCalls(UpdateAliasCommand)).to.have.length(0);
    });

    it("promotes a version from the source account and reports the new version number", async () => {
      givenPromotableOrders();
      serveDefinition([{ name: ORDERS, version: "1.2.0" }]);
      await runJob(promotingJob(), plentyOfTime(), deps());
      const input = theSuccess();
      expect(input.executionDetails?.summary).to.match(
        /1 promote\. Changed: team-a-orders -> 1\.2\.0 \(v12\)/,
      );
      expect(input.outputVariables).to.deep.equal({ [ORDERS]: "12" });
      expect(downloads).to.deep.equal([PRESIGNED]);
      expect(target.commandCalls(UpdateFunctionCodeCommand)).to.have.length(1);
      expect(target.commandCalls(UpdateAliasCommand)[0]?.args[0].input).to.deep.include({
        FunctionName: ORDERS,
        Name: "LIVE",
        FunctionVersion: "12",
      });
    });
  });

  /** team-a-orders: LIVE v3 (1.1.1) here; 1.2.0 exists only in the source account (v9). */
  function givenPromotableOrders(): void {
    target.on(ListAliasesCommand, { FunctionName: ORDERS }).resolves({
      Aliases: [alias("LIVE", "3", "live-rev-1"), alias("1-1-1", "3")],
    });
    source.on(GetFunctionCommand, { FunctionName: ORDERS, Qualifier: "1-2-0" }).resolves({
      Configuration: config({ Version: "9", CodeSha256: SRC_SHA }),
      Code: { Location: PRESIGNED },
    });
    target
      .on(GetFunctionCommand, { FunctionName: ORDERS })
      .resolves({ Configuration: config(), Code: { Location: "https://target.example/latest" } });
    target
      .on(UpdateFunctionCodeCommand)
      .resolves(config({ CodeSha256: SRC_SHA, LastUpdateStatus: "InProgress" }));
    target
      .on(PublishVersionCommand)
      .resolves(config({ Version: "12", CodeSha256: SRC_SHA, RevisionId: "v12" }));
    target.on(CreateAliasCommand, { Name: "1-2-0" }).resolves(alias("1-2-0", "12"));
  }

  describe("a function fails", () => {
    it("reports a failure naming the function and the reason, and still applies the other function", async () => {
      target
        .on(UpdateAliasCommand, { FunctionName: "team-a-bad" })
        .rejects(
          lambdaError("AccessDeniedException", "User is not authorized to perform: lambda:UpdateAlias", 403),
        );
      serveDefinition([
        { name: "team-a-bad", version: "1.0.0" },
        { name: ORDERS, version: "1.0.0" },
      ]);
      await runJob(jobEvent(), plentyOfTime(), deps());
      const message = theFailure();
      // NOTE: the internal class name leaks into the pipeline message today ("team-a-bad:
      // AwsCallError: UpdateAlias failed: ..."): tolerated here, not required; see the report.
      expect(message).to.match(
        /^1 of 2 function\(s\) failed: team-a-bad: (AwsCallError: )?UpdateAlias failed: AccessDeniedException: /,
      );
      expect(message).to.contain("not authorized");
      expect(message).to.not.contain(ORDERS);
      const updated = target.commandCalls(UpdateAliasCommand).map((c) => c.args[0].input.FunctionName);
      expect(updated).to.have.members(["team-a-bad", ORDERS]);
      expect(sleeps, "AccessDenied is not retried").to.deep.equal([]);
    });

    it("reports a function whose aliases cannot be read, without any write", async () => {
      target
        .on(ListAliasesCommand, { FunctionName: ORDERS })
        .rejects(lambdaError("AccessDeniedException", "not authorized to perform: lambda:ListAliases", 403));
      serveDefinition([{ name: ORDERS, version: "1.0.0" }]);
      await runJob(jobEvent(), plentyOfTime(), deps());
      expect(theFailure()).to.match(
        /^1 of 1 function\(s\) failed: team-a-orders: could not read aliases in the target account: (AwsCallError: )?ListAliases failed: AccessDeniedException/,
      );
      expect(target.commandCalls(UpdateAliasCommand)).to.have.length(0);
    });
  });

  describe("message limits", () => {
    const many = (n: number) =>
      Array.from({ length: n }, (_, i) => ({
        name: `team-a-function-${String(i).padStart(3, "0")}`,
        version: "1.0.0",
      }));

    it("keeps the failure message of ~300 failed functions within 5000 characters, ending with 'and N more'", async () => {
      target
        .on(UpdateAliasCommand)
        .rejects(
          lambdaError("AccessDeniedException", "User is not authorized to perform: lambda:UpdateAlias", 403),
        );
      serveDefinition(many(300));
      await runJob(jobEvent(), plentyOfTime(), deps());
      const message = theFailure();
      expect(message.length).to.be.at.most(5000);
      expect(message).to.match(/^300 of 300 function\(s\) failed: team-a-function-000: /);
      expect(message).to.match(/; and \d+ more$/);
      const listed = (message.match(/team-a-function-\d{3}: /g) ?? []).length;
      const more = Number(/and (\d+) more$/.exec(message)?.[1]);
      expect(listed + more).to.equal(300);
    });

    it("keeps the summary of ~300 changed functions within 2048 characters, ending with 'and N more'", async () => {
      serveDefinition(many(300));
      await runJob(jobEvent(), plentyOfTime(), deps());
      const input = theSuccess();
      const summary = input.executionDetails?.summary ?? "";
      expect(summary.length).to.be.at.most(2048);
      expect(summary).to.match(
        /^300 function\(s\): 300 rollback\. Changed: team-a-function-000 -> 1\.0\.0 \(v2\)/,
      );
      expect(summary).to.match(/; and \d+ more$/);
      expect(Object.keys(input.outputVariables ?? {})).to.have.length(300);
      expect(target.commandCalls(UpdateAliasCommand)).to.have.length(300);
    });
  });

  describe("continuation near the Lambda deadline", () => {
    const shortOnTime = (remaining: number): LambdaContext => ({
      awsRequestId: REQUEST_ID,
      getRemainingTimeInMillis: () => remaining,
    });
    const tokenOf = (input: PutJobSuccessResultCommandInput) =>
      JSON.parse(input.continuationToken ?? "null") as Json;
    const withToken = (token: string | undefined, over: Json = {}) =>
      withParameters(userParameters(over), { continuationToken: token });

    beforeEach(() =>
      serveDefinition([
        { name: ORDERS, version: "1.0.0" },
        { name: API, version: "1.1.1" },
      ]),
    );

    it("starts no change below deps.deadlineReserveMs and reports success with a continuation token", async () => {
      await runJob(jobEvent(), shortOnTime(999), deps({ deadlineReserveMs: 1000 }));
      const input = theSuccess();
      expect(tokenOf(input)).to.deep.include({ round: 1 });
      expect(input.outputVariables).to.equal(undefined);
      expect(input.executionDetails?.summary).to.match(/^Round 1: 1 function\(s\) left for the next round\./);
      expect(target.commandCalls(UpdateAliasCommand)).to.have.length(0);
    });

    it("uses DEADLINE_RESERVE_MS when deps.deadlineReserveMs is not set", async () => {
      await runJob(jobEvent(), shortOnTime(DEADLINE_RESERVE_MS - 1), deps());
      expect(theSuccess().continuationToken).to.be.a("string");
      expect(target.commandCalls(UpdateAliasCommand)).to.have.length(0);

      codePipeline.resetHistory();
      await runJob(jobEvent(), shortOnTime(DEADLINE_RESERVE_MS + 1), deps());
      const input = theSuccess();
      expect(input.continuationToken).to.equal(undefined);
      expect(input.outputVariables).to.deep.equal({ [ORDERS]: "2" });
      expect(target.commandCalls(UpdateAliasCommand)).to.have.length(1);
    });

    it("treats an event carrying the token as round 2, and finishes with output variables", async () => {
      await runJob(jobEvent(), shortOnTime(10), deps({ deadlineReserveMs: 1000 }));
      const token = theSuccess().continuationToken ?? "";

      codePipeline.resetHistory();
      await runJob(withToken(token), shortOnTime(10), deps({ deadlineReserveMs: 1000 }));
      const second = theSuccess();
      expect(tokenOf(second)).to.deep.include({ round: 2 });
      expect(second.executionDetails?.summary).to.match(/^Round 2: /);

      codePipeline.resetHistory();
      await runJob(
        withToken(second.continuationToken ?? ""),
        plentyOfTime(),
        deps({ deadlineReserveMs: 1000 }),
      );
      const last = theSuccess();
      expect(last.continuationToken).to.equal(undefined);
      expect(last.outputVariables).to.deep.equal({ [ORDERS]: "2" });
    });

    it("defers the functions it cannot start and applies them in the next round", async () => {
      // Stateful LIVE aliases: what round 1 changed is seen by round 2's plan.
      const live: Record<string, string> = { [ORDERS]: "3", [API]: "3" };
      target.on(ListAliasesCommand).callsFake((input: { FunctionName: string }) => ({
        Aliases: [
          alias("LIVE", live[input.FunctionName] ?? "3", `rev-${live[input.FunctionName]}`),
          ...STANDARD_ALIASES.slice(1),
        ],
      }));
      target.on(UpdateAliasCommand).callsFake((input: { FunctionName: string; FunctionVersion: string }) => {
        live[input.FunctionName] = input.FunctionVersion;
        return aliasAsWritten(input);
      });
      serveDefinition([
        { name: API, version: "1.0.0" },
        { name: ORDERS, version: "1.0.0" },
      ]);
      let clock = 600_000;
      const context: LambdaContext = {
        awsRequestId: REQUEST_ID,
        // Time runs out after the first function has started.
        getRemainingTimeInMillis: () => {
          const now = clock;
          clock = 10;
          return now;
        },
      };
      const oneAtATime = () => withParameters(userParameters({ concurrency: 1 }));
      await runJob(oneAtATime(), context, deps({ deadlineReserveMs: 1000 }));
      const first = theSuccess();
      expect(first.executionDetails?.summary).to.match(/^Round 1: 1 function\(s\) left for the next round\./);
      expect(first.executionDetails?.summary).to.contain(`${API} -> 1.0.0 (v2)`);
      expect(live).to.deep.equal({ [API]: "2", [ORDERS]: "3" });

      codePipeline.resetHistory();
      const next = withToken(first.continuationToken, { concurrency: 1 });
      await runJob(next, plentyOfTime(), deps({ deadlineReserveMs: 1000 }));
      const last = theSuccess();
      expect(last.continuationToken).to.equal(undefined);
      expect(live).to.deep.equal({ [API]: "2", [ORDERS]: "2" });
      // NOTE: only this round's changes are output variables; team-a-api (changed in round 1) is
      // not among them. Not asserted either way: see the report.
      expect(last.outputVariables).to.include({ [ORDERS]: "2" });
    });

    it("fails once the next round would exceed maxRounds, without touching Lambda", async () => {
      const token = JSON.stringify({ v: 1, round: 3, firstJobId: "first-job" });
      await runJob(withToken(token, { maxRounds: 3 }), plentyOfTime(), deps());
      expect(theFailure()).to.match(
        /gave up after 3 rounds of continuation without converging \(maxRounds\)/,
      );
      expect(lambdaCalls()).to.have.length(0);
    });

    it("accepts the last allowed round", async () => {
      const token = JSON.stringify({ v: 1, round: 2, firstJobId: "first-job" });
      await runJob(withToken(token, { maxRounds: 3 }), plentyOfTime(), deps());
      theSuccess();
    });

    for (const [title, token] of [
      ["not JSON", "garbled!"],
      ["JSON of another shape", JSON.stringify({ round: 1 })],
      ["another token version", JSON.stringify({ v: 2, round: 1, firstJobId: "x" })],
      ["a token with extra keys", JSON.stringify({ v: 1, round: 1, firstJobId: "x", extra: true })],
      ["a token with round 0", JSON.stringify({ v: 1, round: 0, firstJobId: "x" })],
    ] as const) {
      it(`fails clearly on a foreign continuation token (${title})`, async () => {
        await runJob(withToken(token), plentyOfTime(), deps());
        expect(theFailure()).to.match(
          /the continuation token is not one lambda-gitops wrote; re-run the pipeline/,
        );
        expect(lambdaCalls()).to.have.length(0);
      });
    }
  });

  describe("reporting the result fails", () => {
    beforeEach(() => serveDefinition([{ name: API, version: "1.1.1" }]));

    for (const [name, status] of [
      ["ServiceUnavailableException", 503],
      ["InternalServerError", 500],
    ] as const) {
      it(`rejects naming PutJobSuccessResult when it keeps failing with ${status} ${name}`, async () => {
        codePipeline.on(PutJobSuccessResultCommand).rejects(serverError(name, status));
        let error: unknown;
        await runJob(jobEvent(), plentyOfTime(), deps()).catch((e: unknown) => {
          error = e;
        });
        expect(error).to.be.instanceOf(Error);
        expect((error as Error).message).to.match(new RegExp(`^PutJobSuccessResult failed: ${name}: `));
        // The SDK's own retries are bypassed by the mock; the handler must not turn a failed
        // success report into a second, contradictory (failure) result.
        expect(failureCalls()).to.have.length(0);
      });
    }

    it("rejects naming PutJobFailureResult when the failure cannot be reported", async () => {
      codePipeline.on(PutJobFailureResultCommand).rejects(serverError("InternalServerError", 500));
      let error: unknown;
      await runJob(withParameters(undefined), plentyOfTime(), deps()).catch((e: unknown) => {
        error = e;
      });
      expect((error as Error | undefined)?.message).to.match(
        /^PutJobFailureResult failed: InternalServerError: /,
      );
      expect(failureCalls()).to.have.length(1);
      expect(successCalls()).to.have.length(0);
    });

    it("resolves when CodePipeline says the job is already finished (a retried call whose answer was lost)", async () => {
      // Throwing here would make Lambda retry the invocation and re-apply an old definition.
      codePipeline.on(PutJobSuccessResultCommand).rejects(serverError("InvalidJobStateException", 400));
      await runJob(jobEvent(), plentyOfTime(), deps());
      expect(successCalls()).to.have.length(1);
      expect(failureCalls()).to.have.length(0);
    });
  });

  describe("unexpected exceptions inside the stages", () => {
    it("reports a failure when the aws factory throws", async () => {
      serveDefinition([{ name: ORDERS, version: "1.0.0" }]);
      await runJob(
        jobEvent(),
        plentyOfTime(),
        deps({
          aws: () => {
            throw new Error("could not load credentials");
          },
        }),
      );
      expect(theFailure()).to.equal("lambda-gitops failed unexpectedly: could not load credentials");
      expect(lambdaCalls()).to.have.length(0);
    });

    it("reports a failure when the artifact store factory throws", async () => {
      await runJob(
        jobEvent(),
        plentyOfTime(),
        deps({
          artifacts: () => {
            throw new TypeError("bad region");
          },
        }),
      );
      expect(theFailure()).to.equal("lambda-gitops failed unexpectedly: TypeError: bad region");
    });

    it("reports a failure when getRemainingTimeInMillis throws", async () => {
      serveDefinition([{ name: ORDERS, version: "1.0.0" }]);
      const context: LambdaContext = {
        awsRequestId: REQUEST_ID,
        getRemainingTimeInMillis: () => {
          throw new RangeError("no clock");
        },
      };
      await runJob(jobEvent(), context, deps());
      // applyFunction calls canStart outside its per-function try, so this escapes the stages.
      expect(theFailure()).to.equal("lambda-gitops failed unexpectedly: RangeError: no clock");
    });
  });

  describe("logs", () => {
    it("are JSON lines that carry the job id and never the artifact secrets or the presigned URL", async () => {
      const logger = capturingLogger();
      // A promotion (the presigned URL flows through), a failed function, bad input and a crash.
      givenPromotableOrders();
      target
        .on(UpdateAliasCommand, { FunctionName: "team-a-bad" })
        .rejects(lambdaError("AccessDeniedException", "denied", 403));
      serveDefinition([
        { name: ORDERS, version: "1.2.0" },
        { name: "team-a-bad", version: "1.0.0" },
      ]);
      await runJob(promotingJob(), plentyOfTime(), deps({ logger }));
      expect(theFailure()).to.match(/team-a-bad: (AwsCallError: )?UpdateAlias failed: AccessDeniedException/);
      expect(downloads).to.deep.equal([PRESIGNED]);
      await runJob(withParameters("{"), plentyOfTime(), deps({ logger }));
      await runJob(
        promotingJob(),
        plentyOfTime(),
        deps({
          logger,
          aws: () => {
            throw new Error("boom");
          },
        }),
      );

      expect(lines.length).to.be.greaterThan(5);
      for (const line of lines) {
        const parsed = JSON.parse(line) as Json;
        expect(parsed.jobId, line).to.equal(JOB_ID);
        expect(parsed.requestId, line).to.equal(REQUEST_ID);
        for (const secret of [SECRET, SESSION_TOKEN, PRESIGNED, "PRESIGNED-SIG", "X-Amz-Signature"]) {
          expect(line).to.not.contain(secret);
        }
      }
      const logged = lines.map((l) => JSON.parse(l) as Json);
      expect(logged.map((l) => l.message)).to.include.members([
        "planned",
        "live alias moved",
        "failed",
        "unexpected error",
      ]);
      expect(logged.find((l) => l.message === "failed")).to.deep.include({ function: "team-a-bad" });
      expect(lines.some((l) => l.includes("failed unexpectedly: boom"))).to.be.true;
      expect(lines.map((l) => JSON.parse(l).message)).to.include("reporting failure");
    });
  });
  describe("prune after apply (job parameter prune, issue 16)", () => {
    const pruningJob = () => withParameters(userParameters({ prune: { keep: 1 } }));
    beforeEach(() => {
      target.on(ListVersionsByFunctionCommand).resolves({
        // Version 1 is unaliased: pruned only because lambda-gitops published it (its description).
        Versions: ["$LATEST", "1", "2", "3"].map((v) => ({ Version: v, CodeSha256: `sha-${v}`, Description: `lambda-gitops 1.0.${v} from 111111111111 v${v} sha256:x` })),
      });
      target.on(DeleteAliasCommand).resolves({});
      target.on(DeleteFunctionCommand).resolves({});
      target.on(ListEventSourceMappingsCommand).resolves({ EventSourceMappings: [] });
      target.on(ListProvisionedConcurrencyConfigsCommand).resolves({ ProvisionedConcurrencyConfigs: [] });
    });

    it("after a fully successful apply, deletes outside the window and says so in the summary", async () => {
      serveDefinition([{ name: API, version: "1.1.1" }]);
      await runJob(pruningJob(), plentyOfTime(), deps());
      const input = theSuccess();
      expect(input.executionDetails?.summary).to.match(/Nothing changed\. Pruned 2 version\(s\) in 1 function\(s\)\.$/);
      expect(target.commandCalls(DeleteAliasCommand).map((c) => c.args[0].input)).to.deep.equal([
        { FunctionName: API, Name: "1-0-0" },
      ]);
      expect(target.commandCalls(DeleteFunctionCommand).map((c) => c.args[0].input)).to.deep.equal([
        { FunctionName: API, Qualifier: "1" },
        { FunctionName: API, Qualifier: "2" },
      ]);
    });

    it("keeps a version an event-source mapping invokes (issue 20): only the other one is deleted", async () => {
      target.on(ListEventSourceMappingsCommand).resolves({
        EventSourceMappings: [{ UUID: "esm-1", FunctionArn: `arn:aws:lambda:eu-west-1:222222222222:function:${API}:2` }],
      });
      serveDefinition([{ name: API, version: "1.1.1" }]);
      await runJob(pruningJob(), plentyOfTime(), deps());
      expect(theSuccess().executionDetails?.summary).to.match(/Nothing changed\. Pruned 1 version\(s\) in 1 function\(s\)\.$/);
      expect(target.commandCalls(ListEventSourceMappingsCommand).map((c) => c.args[0].input.FunctionName)).to.deep.equal([API]);
      expect(target.commandCalls(DeleteAliasCommand)).to.have.length(0);
      expect(target.commandCalls(DeleteFunctionCommand).map((c) => c.args[0].input)).to.deep.equal([{ FunctionName: API, Qualifier: "1" }]);
    });

    it("stops before the deadline between deletions and says what it left for the next run (issue 20)", async () => {
      serveDefinition([{ name: API, version: "1.1.1" }]);
      // Plenty of time until the first version is deleted; then 20 s (15 s are kept for reporting).
      const context: LambdaContext = {
        awsRequestId: REQUEST_ID,
        getRemainingTimeInMillis: () => (target.commandCalls(DeleteFunctionCommand).length === 0 ? 600_000 : 20_000),
      };
      await runJob(pruningJob(), context, deps());
      expect(theSuccess().executionDetails?.summary).to.match(
        /Nothing changed\. Pruned 1 version\(s\) in 1 function\(s\); 1 left for the next run \(the deadline was near\)\.$/,
      );
      expect(target.commandCalls(DeleteFunctionCommand).map((c) => c.args[0].input)).to.deep.equal([{ FunctionName: API, Qualifier: "1" }]);
    });

    it("with no time left after the apply, prunes nothing and says so (issue 20)", async () => {
      serveDefinition([{ name: API, version: "1.1.1" }]);
      await runJob(pruningJob(), { awsRequestId: REQUEST_ID, getRemainingTimeInMillis: () => 20_000 }, deps());
      expect(theSuccess().executionDetails?.summary).to.match(
        /Pruned 0 version\(s\) in 0 function\(s\); 1 function\(s\) not pruned: no time left before the deadline; the next run prunes them\.$/,
      );
      expect(target.commandCalls(ListVersionsByFunctionCommand)).to.have.length(0);
      expect(target.commandCalls(DeleteFunctionCommand)).to.have.length(0);
    });

    it("a failed apply prunes nothing (not even a listing)", async () => {
      target
        .on(UpdateAliasCommand, { FunctionName: "team-a-bad" })
        .rejects(lambdaError("AccessDeniedException", "User is not authorized to perform: lambda:UpdateAlias", 403));
      serveDefinition([
        { name: "team-a-bad", version: "1.0.0" },
        { name: API, version: "1.1.1" },
      ]);
      await runJob(pruningJob(), plentyOfTime(), deps());
      theFailure();
      expect(target.commandCalls(ListVersionsByFunctionCommand)).to.have.length(0);
      expect(target.commandCalls(DeleteAliasCommand)).to.have.length(0);
      expect(target.commandCalls(DeleteFunctionCommand)).to.have.length(0);
    });

    it("without the parameter, nothing is listed or deleted", async () => {
      serveDefinition([{ name: API, version: "1.1.1" }]);
      await runJob(jobEvent(), plentyOfTime(), deps());
      theSuccess();
      expect(target.commandCalls(ListVersionsByFunctionCommand)).to.have.length(0);
    });
  });
});
