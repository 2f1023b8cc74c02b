/**
 * What the entry points receive, built one way for every test: the CodePipeline job event (the
 * pipeline handler) and the CodeCommit pull-request event (the pull-request planner); and the
 * script a child process runs to call the built handler as the Lambda runtime would.
 */

type Json = Record<string, unknown>;

export interface JobEventInput {
  jobId: string;
  accountId: string;
  bucket: string;
  objectKey: string;
  artifactCredentials: {
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken?: string;
    expirationTime?: number;
  };
  /** The action's UserParameters, as given (undefined: the key is there without a value). */
  userParameters: string | undefined;
  revision?: string;
  /** Replaces fields of `data`. */
  data?: Json;
}

/** A CodePipeline job event as Lambda receives it from a pipeline's Invoke action. */
export function codePipelineJobEvent(input: JobEventInput): Json {
  return {
    "CodePipeline.job": {
      id: input.jobId,
      accountId: input.accountId,
      data: {
        actionConfiguration: {
          configuration: { FunctionName: "lambda-gitops", UserParameters: input.userParameters },
        },
        inputArtifacts: [
          {
            name: "SourceOutput",
            revision: input.revision ?? "abc123",
            location: { type: "S3", s3Location: { bucketName: input.bucket, objectKey: input.objectKey } },
          },
        ],
        outputArtifacts: [],
        artifactCredentials: { ...input.artifactCredentials },
        ...input.data,
      },
    },
  };
}

export interface PullRequestEventInput {
  account: string;
  region: string;
  repository: string;
  /** Replaces fields of `detail`. */
  detail?: Json;
  /** Replaces fields of the envelope. */
  envelope?: Json;
}

/** A "CodeCommit Pull Request State Change" event as EventBridge delivers it (the docs' shape). */
export function pullRequestEvent(input: PullRequestEventInput): Json {
  const { account, region, repository } = input;
  return {
    version: "0",
    id: "01234567-0123-0123-0123-012345678901",
    "detail-type": "CodeCommit Pull Request State Change",
    source: "aws.codecommit",
    account,
    time: "2026-03-01T10:00:00Z",
    region,
    resources: [`arn:aws:codecommit:${region}:${account}:${repository}`],
    detail: {
      author: `arn:aws:iam::${account}:user/dev`,
      callerUserArn: `arn:aws:iam::${account}:user/dev`,
      creationDate: "Sun Mar 01 10:00:00 UTC 2026",
      description: "Promote orders 1.1.0",
      destinationCommit: "0f1e2d3c4b5a69788796a5b4c3d2e1f001234567",
      destinationReference: "refs/heads/main",
      event: "pullRequestCreated",
      isMerged: "False",
      lastModifiedDate: "Sun Mar 01 10:00:00 UTC 2026",
      notificationBody: "A pull request event occurred ...",
      pullRequestId: "42",
      pullRequestStatus: "Open",
      repositoryNames: [repository],
      revisionId: "f00dfeed",
      sourceCommit: "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678",
      sourceReference: "refs/heads/promote-orders",
      title: "Promote orders",
      ...input.detail,
    },
    ...input.envelope,
  };
}

/**
 * Run with `node --input-type=module -e HANDLER_RUNNER`, stdin
 * `{ bundle, event, requestId, remainingMs?, remainingSequence? }`: imports the built handler and
 * calls it once, as the Lambda runtime would (900 s deadline unless `remainingMs` says otherwise).
 * `remainingSequence`: what successive getRemainingTimeInMillis calls answer (the last one repeats),
 * a deadline that does not depend on how fast the machine is.
 */
export const HANDLER_RUNNER = `
import { pathToFileURL } from "node:url";
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const { bundle, event, requestId, remainingMs, remainingSequence } = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const { handler } = await import(pathToFileURL(bundle).href);
const deadline = Date.now() + (remainingMs ?? 900_000);
let asked = 0;
const remaining = () =>
  remainingSequence ? remainingSequence[Math.min(asked++, remainingSequence.length - 1)] : deadline - Date.now();
await handler(event, { awsRequestId: requestId, getRemainingTimeInMillis: remaining });
`;
