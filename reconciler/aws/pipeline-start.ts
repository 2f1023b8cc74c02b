/**
 * Thin adapter over @aws-sdk/client-codepipeline's StartPipelineExecution: the drift check's
 * optional self-heal (`ON_DRIFT=start-pipeline`) runs the pipeline again, which applies the file.
 * The client request token is derived from the drift seen, so a retried invocation does not start
 * the pipeline twice for the same drift.
 */
import { CodePipelineClient, StartPipelineExecutionCommand } from "@aws-sdk/client-codepipeline";
import { AwsCallError } from "../core/errors.ts";

export interface PipelineStarter {
  start(pipelineName: string, clientRequestToken: string): Promise<string>;
}

export function createPipelineStarter(client = new CodePipelineClient({ maxAttempts: 5 })): PipelineStarter {
  return {
    async start(pipelineName, clientRequestToken) {
      try {
        const out = await client.send(new StartPipelineExecutionCommand({ name: pipelineName, clientRequestToken }));
        return out.pipelineExecutionId ?? "";
      } catch (error) {
        throw new AwsCallError("StartPipelineExecution", error);
      }
    },
  };
}
