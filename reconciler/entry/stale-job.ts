/**
 * Stale jobs are refused (issue 20): before any Lambda call, the job's pipeline execution must still
 * be InProgress. Asynchronous invocations can wait in Lambda's queue (the stack caps the event age),
 * and a job of an execution that was since stopped, superseded or finished must not re-apply its
 * old definition over a newer one. Fails closed: a job naming no execution, or an execution
 * CodePipeline does not know, is refused too.
 *
 * What is reported: a failure result. CodePipeline still accepts one while the action is in
 * progress (an execution in `Stopping` waits for its in-progress actions to complete); for an
 * abandoned action (a stopped execution) it answers InvalidJobStateException, which the reporter
 * takes as "already finished" (logged, the invocation does not fail, so Lambda does not retry it).
 */
import type { ExecutionReader } from "../aws/pipeline-execution.ts";
import type { Logger } from "../core/log.ts";

export type Freshness = { kind: "fresh" } | { kind: "stale"; message: string };

export async function checkExecution(
  context: { pipelineName?: string; pipelineExecutionId?: string } | undefined,
  executions: ExecutionReader,
  log: Logger,
): Promise<Freshness> {
  const pipelineName = context?.pipelineName;
  const executionId = context?.pipelineExecutionId;
  if (!pipelineName || !executionId) {
    return {
      kind: "stale",
      message:
        "the job names no pipeline execution (pipelineContext.pipelineName and pipelineExecutionId); it cannot be checked to be still in progress, so nothing was changed",
    };
  }
  const read = await executions.executionStatus(pipelineName, executionId);
  const status = read.kind === "found" ? read.status : "not found";
  if (status === "InProgress") return { kind: "fresh" };
  log.error("refused: the job's pipeline execution is no longer in progress; no Lambda call made", {
    refused: true,
    pipeline: pipelineName,
    pipelineExecutionId: executionId,
    executionStatus: status,
  });
  return {
    kind: "stale",
    message: `pipeline execution ${executionId} of ${pipelineName} is ${status}, not InProgress (stopped, superseded or finished since this job was queued); nothing was changed`,
  };
}
