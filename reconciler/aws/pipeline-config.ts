/**
 * Thin adapter over @aws-sdk/client-codepipeline's GetPipeline: the `UserParameters` of the
 * pipeline's Lambda Invoke action, so the pull-request planner enforces exactly the policy the
 * pipeline will (one source of truth for the prefixes, the source role and the file path).
 * A missing pipeline or action is a value (a configuration problem to report); any other failure
 * (access denied, throttling past the SDK's retries) is thrown as an AwsCallError.
 */
import { CodePipelineClient, GetPipelineCommand } from "@aws-sdk/client-codepipeline";
import { AwsCallError, errorName } from "../core/errors.ts";

export type ActionParameters =
  | { ok: true; userParameters: string | undefined; stageName: string }
  | { ok: false; message: string };

export interface PipelineConfigReader {
  readActionUserParameters(pipelineName: string, actionName: string): Promise<ActionParameters>;
}

/** Attempts per GetPipeline call (the SDK retries throttles and 5xx) before the error surfaces. */
export const PIPELINE_CONFIG_MAX_ATTEMPTS = 5;

export function createPipelineConfigReader(
  client = new CodePipelineClient({ maxAttempts: PIPELINE_CONFIG_MAX_ATTEMPTS }),
): PipelineConfigReader {
  return {
    async readActionUserParameters(pipelineName, actionName) {
      let stages: { name?: string; actions?: ActionShape[] }[];
      try {
        const out = await client.send(new GetPipelineCommand({ name: pipelineName }));
        stages = out.pipeline?.stages ?? [];
      } catch (error) {
        if (errorName(error) === "PipelineNotFoundException") {
          return {
            ok: false,
            message: `pipeline "${pipelineName}" does not exist in this account and Region`,
          };
        }
        throw new AwsCallError("GetPipeline", error);
      }
      return findInvokeAction(pipelineName, actionName, stages);
    },
  };
}

interface ActionShape {
  name?: string;
  actionTypeId?: { category?: string; provider?: string };
  configuration?: Record<string, string>;
}

/** Finds the Lambda Invoke action named `actionName` in any stage (action names are unique per stage only). */
export function findInvokeAction(
  pipelineName: string,
  actionName: string,
  stages: readonly { name?: string; actions?: ActionShape[] }[],
): ActionParameters {
  const matches = stages.flatMap((stage) =>
    (stage.actions ?? [])
      .filter((action) => action.name === actionName)
      .map((action) => ({ stage: stage.name ?? "", action })),
  );
  const invokes = matches.filter(
    ({ action }) => action.actionTypeId?.category === "Invoke" && action.actionTypeId.provider === "Lambda",
  );
  if (invokes.length === 1) {
    const [{ stage, action }] = invokes as [(typeof invokes)[number]];
    return { ok: true, userParameters: action.configuration?.UserParameters, stageName: stage };
  }
  if (invokes.length > 1) {
    return {
      ok: false,
      message: `pipeline "${pipelineName}" has ${invokes.length} Lambda Invoke actions named "${actionName}" (stages ${invokes.map((m) => `"${m.stage}"`).join(", ")}); name one uniquely`,
    };
  }
  if (matches.length > 0) {
    return {
      ok: false,
      message: `action "${actionName}" of pipeline "${pipelineName}" is not a Lambda Invoke action`,
    };
  }
  const known = stages.flatMap((stage) =>
    (stage.actions ?? [])
      .filter((a) => a.actionTypeId?.category === "Invoke")
      .map((a) => `"${stage.name ?? ""}/${a.name ?? ""}"`),
  );
  return {
    ok: false,
    message: `pipeline "${pipelineName}" has no action named "${actionName}"${known.length > 0 ? ` (Invoke actions: ${known.join(", ")})` : ""}`,
  };
}
