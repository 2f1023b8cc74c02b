/**
 * Thin adapter over CodePipeline's execution history: the pipeline's most recent run of one action
 * (the Reconcile action), with the input artifact CodePipeline gave it and the source revision that
 * artifact was built from, and the newest source revision the pipeline has seen since.
 *
 * What the API reference says these calls return (CodePipeline API Reference, ListActionExecutions,
 * ActionExecutionDetail, ActionExecutionInput, ArtifactDetail, ListPipelineExecutions, SourceRevision):
 * - ListActionExecutions -> `actionExecutionDetails[]`: pipelineExecutionId, actionExecutionId,
 *   stageName, actionName, startTime, status (InProgress | Abandoned | Succeeded | Failed),
 *   `input.inputArtifacts[]` = { name, s3location: { bucket, key } }, and
 *   `output.outputArtifacts[]` / `output.outputVariables` / `output.executionResult`. An action
 *   execution does not carry the source revision; its `filter.pipelineExecutionId` lists one
 *   pipeline execution's actions (history is kept 12 months).
 * - ListPipelineExecutions -> `pipelineExecutionSummaries[]`, the most recent first, each with
 *   `sourceRevisions[]` = { actionName, revisionId (the commit for CodeCommit and CodeConnections),
 *   revisionSummary, revisionUrl }.
 * So: list the newest pipeline executions, and in each (newest first) look for the action; the
 * first found is the last run. The source action is the one whose output artifact is the run's
 * input artifact, and its revision is that execution's `sourceRevisions` entry for it.
 *
 * A missing pipeline or a pipeline that has not run the action is a value; any other failure
 * (access denied, throttling past the SDK's retries) is thrown as an AwsCallError.
 */
import {
  type ActionExecutionDetail,
  CodePipelineClient,
  ListActionExecutionsCommand,
  ListPipelineExecutionsCommand,
  type PipelineExecutionSummary,
} from "@aws-sdk/client-codepipeline";
import { AwsCallError, errorName } from "../core/errors.ts";

/** How many of the newest pipeline executions are searched for a run of the action. */
export const MAX_EXECUTIONS_SEARCHED = 50;
/** Pages of one pipeline execution's action executions read at most (100 each). */
const MAX_ACTION_PAGES = 5;
/** Attempts per call (the SDK retries throttles and 5xx) before the error surfaces. */
export const HISTORY_MAX_ATTEMPTS = 5;

export interface ActionRun {
  pipelineExecutionId: string;
  actionExecutionId: string;
  /** InProgress | Succeeded | Failed | Abandoned (CodePipeline's ActionExecutionStatus). */
  status: string;
  startTime: Date | undefined;
  /** The run's first input artifact (the one the reconciler reads), where the artifact store holds it. */
  artifact: { name: string; bucket: string; key: string };
  /**
   * The source action that produced the artifact, the revision it produced for this run and the
   * newest revision the pipeline has seen of it; undefined where CodePipeline does not say.
   */
  source: { actionName: string; revision: string | undefined; latestRevision: string | undefined } | undefined;
}

export type LastRun = { ok: true; run: ActionRun } | { ok: false; message: string };

export interface ActionHistory {
  /** The most recent run of `stageName`/`actionName`, whatever its status (see lastRunIn). */
  lastRun(pipelineName: string, stageName: string, actionName: string): Promise<LastRun>;
}

export function createActionHistory(
  client = new CodePipelineClient({ maxAttempts: HISTORY_MAX_ATTEMPTS }),
): ActionHistory {
  const actionsOf = async (pipelineName: string, pipelineExecutionId: string): Promise<ActionExecutionDetail[]> => {
    const details: ActionExecutionDetail[] = [];
    let nextToken: string | undefined;
    for (let page = 0; page < MAX_ACTION_PAGES; page++) {
      try {
        const out = await client.send(
          new ListActionExecutionsCommand({ pipelineName, filter: { pipelineExecutionId }, maxResults: 100, nextToken }),
        );
        details.push(...(out.actionExecutionDetails ?? []));
        nextToken = out.nextToken;
      } catch (error) {
        throw new AwsCallError("ListActionExecutions", error);
      }
      if (!nextToken) break;
    }
    return details;
  };
  return {
    async lastRun(pipelineName, stageName, actionName) {
      let executions: PipelineExecutionSummary[];
      try {
        const out = await client.send(
          new ListPipelineExecutionsCommand({ pipelineName, maxResults: MAX_EXECUTIONS_SEARCHED }),
        );
        executions = out.pipelineExecutionSummaries ?? [];
      } catch (error) {
        if (errorName(error) === "PipelineNotFoundException") {
          return { ok: false, message: `pipeline "${pipelineName}" does not exist in this account and Region` };
        }
        throw new AwsCallError("ListPipelineExecutions", error);
      }
      for (const execution of executions) {
        if (!execution.pipelineExecutionId) continue;
        const details = await actionsOf(pipelineName, execution.pipelineExecutionId);
        const detail = lastRunIn(details, stageName, actionName);
        if (detail) return runOf(detail, details, execution, executions, `${stageName}/${actionName}`);
      }
      return {
        ok: false,
        message: `pipeline "${pipelineName}" has not run the action "${stageName}/${actionName}" in its ${executions.length} most recent execution(s); nothing was deployed to compare with (run the pipeline)`,
      };
    },
  };
}

/**
 * The action's most recent execution among one pipeline execution's actions (a retried action
 * runs again in the same pipeline execution), whatever its status: a failed or abandoned run may
 * have moved some functions to that file, and one in progress (a rollout can run for hours) is
 * moving them. Pure.
 */
export function lastRunIn(
  details: readonly ActionExecutionDetail[],
  stageName: string,
  actionName: string,
): ActionExecutionDetail | undefined {
  const time = (d: ActionExecutionDetail) => d.startTime?.getTime() ?? 0;
  return details
    .filter((d) => d.stageName === stageName && d.actionName === actionName)
    .reduce<ActionExecutionDetail | undefined>((newest, d) => (newest === undefined || time(d) > time(newest) ? d : newest), undefined);
}

/** The run as a value: its first input artifact's location and, where known, its source revision. Pure. */
export function runOf(
  detail: ActionExecutionDetail,
  siblings: readonly ActionExecutionDetail[],
  execution: PipelineExecutionSummary,
  newestFirst: readonly PipelineExecutionSummary[],
  what: string,
): LastRun {
  const pipelineExecutionId = detail.pipelineExecutionId ?? execution.pipelineExecutionId ?? "";
  const input = detail.input?.inputArtifacts?.[0];
  const bucket = input?.s3location?.bucket;
  const key = input?.s3location?.key;
  if (!input?.name || !bucket || !key) {
    return {
      ok: false,
      message: `the last run of "${what}" (pipeline execution ${pipelineExecutionId}) names no input artifact location; give the action the source output`,
    };
  }
  const producer = siblings.find((d) => d.output?.outputArtifacts?.some((a) => a.name === input.name))?.actionName;
  const revisionIn = (summary: PipelineExecutionSummary, actionName: string) =>
    summary.sourceRevisions?.find((r) => r.actionName === actionName)?.revisionId;
  // The artifact may come from a build action; a pipeline with one source then still says which.
  const sourceAction =
    producer !== undefined && execution.sourceRevisions?.some((r) => r.actionName === producer)
      ? producer
      : execution.sourceRevisions?.length === 1
        ? execution.sourceRevisions[0]!.actionName
        : undefined;
  return {
    ok: true,
    run: {
      pipelineExecutionId,
      actionExecutionId: detail.actionExecutionId ?? "",
      status: detail.status ?? "unknown",
      startTime: detail.startTime,
      artifact: { name: input.name, bucket, key },
      source:
        sourceAction === undefined
          ? undefined
          : {
              actionName: sourceAction,
              revision: revisionIn(execution, sourceAction),
              latestRevision: newestFirst.map((e) => revisionIn(e, sourceAction)).find((r) => r !== undefined),
            },
    },
  };
}
