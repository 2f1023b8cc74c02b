/**
 * Thin adapter over @aws-sdk/client-codepipeline: the job result, nothing else. The SDK retries
 * throttles and 5xx (maxAttempts); when it still fails the error surfaces to the handler, which
 * lets the invocation fail rather than pretend the result was recorded.
 */
import {
  CodePipelineClient,
  PutJobFailureResultCommand,
  PutJobSuccessResultCommand,
} from "@aws-sdk/client-codepipeline";
import { AwsCallError, errorName } from "../core/errors.ts";

export interface JobSuccess {
  summary: string;
  externalExecutionId: string;
  outputVariables?: Record<string, string>;
  continuationToken?: string;
}

export interface JobFailure {
  message: string;
  externalExecutionId: string;
}

/**
 * "already-finished": CodePipeline refused the result because the job is no longer in progress
 * (InvalidJobStateException). That happens when the SDK retried a result call whose first answer
 * was lost after CodePipeline recorded it. Throwing then would make Lambda retry the invocation
 * and re-apply an old definition, possibly over a newer deployment.
 */
export type ReportOutcome = "reported" | "already-finished";

export interface JobReporter {
  success(jobId: string, result: JobSuccess): Promise<ReportOutcome>;
  failure(jobId: string, result: JobFailure): Promise<ReportOutcome>;
}

function finishedOrThrow(operation: string, error: unknown): ReportOutcome {
  if (errorName(error) === "InvalidJobStateException") return "already-finished";
  throw new AwsCallError(operation, error);
}

/** Attempts for reporting a job result before the invocation gives up with an error. */
export const REPORT_MAX_ATTEMPTS = 5;

export function createJobReporter(
  client = new CodePipelineClient({ maxAttempts: REPORT_MAX_ATTEMPTS }),
): JobReporter {
  return {
    async success(jobId, result) {
      try {
        await client.send(
          new PutJobSuccessResultCommand({
            jobId,
            continuationToken: result.continuationToken,
            executionDetails: { summary: result.summary, externalExecutionId: result.externalExecutionId },
            // Output variables are only allowed on the final, token-less success.
            outputVariables: result.continuationToken ? undefined : result.outputVariables,
          }),
        );
        return "reported";
      } catch (error) {
        return finishedOrThrow("PutJobSuccessResult", error);
      }
    },
    async failure(jobId, result) {
      try {
        await client.send(
          new PutJobFailureResultCommand({
            jobId,
            failureDetails: {
              type: "JobFailed",
              message: result.message,
              externalExecutionId: result.externalExecutionId,
            },
          }),
        );
        return "reported";
      } catch (error) {
        return finishedOrThrow("PutJobFailureResult", error);
      }
    },
  };
}
