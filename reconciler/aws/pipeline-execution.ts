/**
 * Thin adapter over CodePipeline's GetPipelineExecution: the status of the pipeline execution a job
 * belongs to (InProgress, Stopping, Stopped, Superseded, Succeeded, Failed, Cancelled). The handler
 * refuses a job whose execution is no longer InProgress (an asynchronous invocation may run hours
 * after its execution was stopped or superseded).
 */
import { CodePipelineClient, GetPipelineExecutionCommand } from "@aws-sdk/client-codepipeline";
import { AwsCallError, errorName } from "../core/errors.ts";
import { REPORT_MAX_ATTEMPTS } from "./codepipeline.ts";

export type ExecutionRead = { kind: "found"; status: string } | { kind: "not-found"; reason: string };

export interface ExecutionReader {
  executionStatus(pipelineName: string, pipelineExecutionId: string): Promise<ExecutionRead>;
}

const NOT_FOUND = new Set(["PipelineExecutionNotFoundException", "PipelineNotFoundException"]);

export function createExecutionReader(
  client = new CodePipelineClient({ maxAttempts: REPORT_MAX_ATTEMPTS }),
): ExecutionReader {
  return {
    async executionStatus(pipelineName, pipelineExecutionId) {
      try {
        const out = await client.send(new GetPipelineExecutionCommand({ pipelineName, pipelineExecutionId }));
        return { kind: "found", status: out.pipelineExecution?.status ?? "unknown" };
      } catch (error) {
        const name = errorName(error);
        if (NOT_FOUND.has(name)) return { kind: "not-found", reason: `${name}: ${pipelineName} ${pipelineExecutionId}` };
        throw new AwsCallError("GetPipelineExecution", error);
      }
    },
  };
}
