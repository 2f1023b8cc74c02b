/**
 * The pipeline the pull-request planner and the drift check read their settings from: moto's own
 * CodePipeline, with a CodeCommit source and the reconciler's Lambda Invoke action carrying the
 * job parameters (UserParameters).
 */
import { CodePipelineClient, CreatePipelineCommand } from "@aws-sdk/client-codepipeline";
import { type ClientConfig, ensureRole } from "./seed.ts";

export async function createReconcilePipeline(
  config: ClientConfig,
  options: { name: string; action: string; repository: string; userParameters: Record<string, unknown> },
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
                  actionTypeId: { category: "Source", owner: "AWS", provider: "CodeCommit", version: "1" },
                  configuration: { RepositoryName: options.repository, BranchName: "main", PollForSourceChanges: "false" },
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
