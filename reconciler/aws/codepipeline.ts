/**
 * Thin adapter over @aws-sdk/client-codepipeline: the job as CodePipeline knows it (GetJobDetails)
 * and the job result. The SDK retries
 * throttles and 5xx (maxAttempts); when it still fails the error surfaces to the handler, which
 * lets the invocation fail rather than pretend the result was recorded.
 */
import {
  CodePipelineClient,
  GetJobDetailsCommand,
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
export type ReportOutcome = "reported" | "reported-without-variables" | "already-finished";

export interface JobReporter {
  success(jobId: string, result: JobSuccess): Promise<ReportOutcome>;
  failure(jobId: string, result: JobFailure): Promise<ReportOutcome>;
}

function finishedOrThrow(operation: string, error: unknown): ReportOutcome {
  if (errorName(error) === "InvalidJobStateException") return "already-finished";
  throw new AwsCallError(operation, error);
}

/**
 * What CodePipeline accepts as output variables: keys match `[A-Za-z0-9@\-_]+` (PutJobSuccessResult
 * model), values are at most 1000 characters (as every CodePipeline variable value), and the total
 * size of all variables is limited (OutputVariablesSizeExceededException). The exact total is not
 * in the API reference; 100 KiB of keys and values stays under the 122,880 bytes commonly quoted.
 */
export const OUTPUT_VARIABLES_LIMITS = { keyPattern: /^[A-Za-z0-9@_-]{1,128}$/, maxValue: 1000, maxTotalBytes: 100 * 1024 };

/**
 * Keeps the variables CodePipeline accepts, in order, until the total size would pass the limit;
 * says how many were left out. Pure.
 */
export function capOutputVariables(
  variables: Record<string, string>,
  limits = OUTPUT_VARIABLES_LIMITS,
): { variables: Record<string, string>; dropped: number } {
  const kept: [string, string][] = [];
  let total = 0;
  let dropped = 0;
  for (const [key, value] of Object.entries(variables)) {
    const size = Buffer.byteLength(key) + Buffer.byteLength(value);
    if (!limits.keyPattern.test(key) || value.length === 0 || value.length > limits.maxValue || total + size > limits.maxTotalBytes) {
      dropped += 1;
      continue;
    }
    total += size;
    kept.push([key, value]);
  }
  return { variables: Object.fromEntries(kept), dropped };
}

/** CodePipeline refuses the variables themselves: report again without them rather than fail. */
const REJECTED_VARIABLES = new Set(["OutputVariablesSizeExceededException", "ValidationException"]);

/** executionDetails.summary holds at most 2048 characters: the note replaces the summary's end. */
export const MAX_SUMMARY = 2048;
function fitSummary(summary: string, note: string): string {
  if (summary.length + note.length <= MAX_SUMMARY) return summary + note;
  return summary.slice(0, Math.max(0, MAX_SUMMARY - note.length - 1)) + "…" + note;
}

/** Attempts for reporting a job result before the invocation gives up with an error. */
export const REPORT_MAX_ATTEMPTS = 5;

export function createJobReporter(
  client = new CodePipelineClient({ maxAttempts: REPORT_MAX_ATTEMPTS }),
): JobReporter {
  return {
    async success(jobId, result) {
      const send = (summary: string, outputVariables: Record<string, string> | undefined) =>
        client.send(
          new PutJobSuccessResultCommand({
            jobId,
            continuationToken: result.continuationToken,
            executionDetails: { summary, externalExecutionId: result.externalExecutionId },
            outputVariables,
          }),
        );
      // Output variables are only allowed on the final, token-less success.
      const wanted = result.continuationToken ? undefined : result.outputVariables;
      const capped = wanted && capOutputVariables(wanted);
      const variables = capped?.variables;
      const note = capped && capped.dropped > 0 ? ` (${capped.dropped} output variable(s) left out: over CodePipeline's limits)` : "";
      try {
        await send(fitSummary(result.summary, note), variables);
        return "reported";
      } catch (error) {
        // A throw would make Lambda retry the invocation and re-run the job: a result CodePipeline
        // refuses for its variables is reported once more, without them.
        if (variables === undefined || !REJECTED_VARIABLES.has(errorName(error)))
          return finishedOrThrow("PutJobSuccessResult", error);
      }
      try {
        await send(fitSummary(result.summary, ` (output variables left out: CodePipeline refused them)`), undefined);
        return "reported-without-variables";
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

/**
 * The job as CodePipeline reports it. `data` is GetJobDetails' `jobDetails.data` as sent (action
 * configuration, input artifacts, artifact credentials, continuation token, pipeline context),
 * validated by the handler: never the invocation event's copy.
 */
export interface PipelineJob {
  id: string;
  accountId: string | undefined;
  data: unknown;
}

/**
 * "unknown": CodePipeline has no such job (JobNotFoundException) or refuses the id
 * (ValidationException, e.g. not a job id at all): there is nothing a result could be reported to.
 */
export type JobRead = { kind: "found"; job: PipelineJob } | { kind: "unknown"; reason: string };

export interface JobReader {
  getJob(jobId: string): Promise<JobRead>;
}

const UNKNOWN_JOB = new Set(["JobNotFoundException", "ValidationException"]);

export function createJobReader(
  client = new CodePipelineClient({ maxAttempts: REPORT_MAX_ATTEMPTS }),
): JobReader {
  return {
    async getJob(jobId) {
      try {
        const out = await client.send(new GetJobDetailsCommand({ jobId }));
        const details = out.jobDetails;
        if (!details) return { kind: "unknown", reason: "GetJobDetails answered without job details" };
        return {
          kind: "found",
          job: { id: details.id ?? jobId, accountId: details.accountId, data: details.data },
        };
      } catch (error) {
        const name = errorName(error);
        if (UNKNOWN_JOB.has(name)) {
          return { kind: "unknown", reason: `CodePipeline does not know job ${jobId} (${name})` };
        }
        throw new AwsCallError("GetJobDetails", error);
      }
    },
  };
}
