/**
 * The pipeline the pull-request planner and the drift check read their settings from: moto's own
 * CodePipeline, with a CodeCommit (or CodeConnections) source and the reconciler's Lambda Invoke
 * action carrying the job parameters (UserParameters); and its execution history as
 * ListPipelineExecutions / ListActionExecutions answer it (the launcher's table, concern 11).
 */
import { CodePipelineClient, CreatePipelineCommand } from "@aws-sdk/client-codepipeline";
import type { PipelineHistory } from "./moto.ts";
import { type ClientConfig, ensureRole } from "./seed.ts";

export type SourceKind = "CodeCommit" | "CodeConnections";

const CONNECTION_ARN = "arn:aws:codeconnections:us-east-1:111111111111:connection/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d";

function sourceAction(
  kind: SourceKind,
  repository: string,
): { actionTypeId: { category: "Source"; owner: "AWS"; provider: string; version: string }; configuration: Record<string, string> } {
  return kind === "CodeCommit"
    ? {
        actionTypeId: { category: "Source" as const, owner: "AWS" as const, provider: "CodeCommit", version: "1" },
        configuration: { RepositoryName: repository, BranchName: "main", PollForSourceChanges: "false" },
      }
    : {
        actionTypeId: { category: "Source" as const, owner: "AWS" as const, provider: "CodeStarSourceConnection", version: "1" },
        configuration: { ConnectionArn: CONNECTION_ARN, FullRepositoryId: `team-a/${repository}`, BranchName: "main" },
      };
}

/** One pipeline execution as the history lists it; `reconcile` when it reached the Reconcile action. */
export interface RecordedExecution {
  pipelineExecutionId: string;
  startTime: Date;
  status: "InProgress" | "Succeeded" | "Failed" | "Stopped" | "Superseded";
  /** The commit the source action produced. */
  revision: string;
  reconcile?: { status: "InProgress" | "Succeeded" | "Failed" | "Abandoned"; bucket: string; key: string };
}

const epoch = (date: Date) => date.getTime() / 1000;

/**
 * The launcher's table for `executions` (the most recent first), in the shapes of the API reference:
 * each execution's source action (its output artifact and CommitId) and, when it ran, the Reconcile
 * action (its input artifact's S3 location).
 */
export function pipelineHistoryOf(
  pipelineName: string,
  options: { kind: SourceKind; repository: string; action: string; userParameters: Record<string, unknown>; account?: string },
  executions: readonly RecordedExecution[],
): PipelineHistory {
  const source = sourceAction(options.kind, options.repository);
  return {
    account: options.account,
    pipelineName,
    pipelineExecutionSummaries: executions.map((e) => ({
      pipelineExecutionId: e.pipelineExecutionId,
      status: e.status,
      startTime: epoch(e.startTime),
      lastUpdateTime: epoch(e.startTime) + 60,
      sourceRevisions: [{ actionName: "Source", revisionId: e.revision, revisionSummary: `commit ${e.revision}` }],
      trigger: { triggerType: options.kind === "CodeCommit" ? "CloudWatchEvent" : "Webhook" },
    })),
    actionExecutionDetails: executions.flatMap((e) => {
      const sourceArtifact = { name: "Definitions", s3location: { bucket: "lambda-gitops-artifacts", key: `${pipelineName}/Definitio/${e.revision}` } };
      const details: Record<string, unknown>[] = [
        {
          pipelineExecutionId: e.pipelineExecutionId,
          actionExecutionId: `${e.pipelineExecutionId}-source`,
          pipelineVersion: 1,
          stageName: "Source",
          actionName: "Source",
          startTime: epoch(e.startTime),
          lastUpdateTime: epoch(e.startTime) + 5,
          status: "Succeeded",
          input: { ...source, inputArtifacts: [] },
          output: {
            outputArtifacts: [e.reconcile ? { ...sourceArtifact, s3location: { bucket: e.reconcile.bucket, key: e.reconcile.key } } : sourceArtifact],
            executionResult: { externalExecutionId: e.revision, externalExecutionSummary: `commit ${e.revision}` },
            outputVariables: { CommitId: e.revision, BranchName: "main" },
          },
        },
      ];
      if (e.reconcile) {
        details.unshift({
          pipelineExecutionId: e.pipelineExecutionId,
          actionExecutionId: `${e.pipelineExecutionId}-reconcile`,
          pipelineVersion: 1,
          stageName: "Reconcile",
          actionName: options.action,
          startTime: epoch(e.startTime) + 10,
          lastUpdateTime: epoch(e.startTime) + 50,
          status: e.reconcile.status,
          input: {
            actionTypeId: { category: "Invoke", owner: "AWS", provider: "Lambda", version: "1" },
            configuration: { FunctionName: "lambda-gitops-reconciler", UserParameters: JSON.stringify(options.userParameters) },
            resolvedConfiguration: { FunctionName: "lambda-gitops-reconciler", UserParameters: JSON.stringify(options.userParameters) },
            region: "us-east-1",
            inputArtifacts: [{ name: "Definitions", s3location: { bucket: e.reconcile.bucket, key: e.reconcile.key } }],
          },
          output: { outputArtifacts: [], executionResult: { externalExecutionId: "req-1", externalExecutionSummary: "3 function(s)" } },
        });
      }
      return details;
    }),
  };
}

export async function createReconcilePipeline(
  config: ClientConfig,
  options: { name: string; action: string; repository: string; userParameters: Record<string, unknown>; source?: SourceKind },
): Promise<void> {
  const pipelineRole = await ensureRole(config, "lambda-gitops-pipeline", {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: "codepipeline.amazonaws.com" }, Action: "sts:AssumeRole" }],
  });
  const codePipeline = new CodePipelineClient(config);
  try {
    await codePipeline.send(
      new CreatePipelineCommand({
        pipeline: {
          name: options.name,
          roleArn: pipelineRole,
          artifactStore: { type: "S3", location: "lambda-gitops-artifacts" },
          stages: [
            {
              name: "Source",
              actions: [
                {
                  name: "Source",
                  ...sourceAction(options.source ?? "CodeCommit", options.repository),
                  outputArtifacts: [{ name: "Definitions" }],
                },
              ],
            },
            {
              name: "Reconcile",
              actions: [
                {
                  name: options.action,
                  actionTypeId: { category: "Invoke", owner: "AWS", provider: "Lambda", version: "1" },
                  inputArtifacts: [{ name: "Definitions" }],
                  configuration: {
                    FunctionName: "lambda-gitops-reconciler",
                    UserParameters: JSON.stringify(options.userParameters),
                  },
                },
              ],
            },
          ],
        },
      }),
    );
  } finally {
    codePipeline.destroy();
  }
}
