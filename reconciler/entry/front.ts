/**
 * The front half every Lambda entry point shares (the pipeline handler, the pull-request planner and
 * the drift check):
 *   trusted job or settings -> parameters -> pin -> definition.
 * - Parameters are the pipeline action's `UserParameters`, parsed by the reconciler's parser; the
 *   handler reads them from the job (GetJobDetails), the planner and the drift check from the
 *   pipeline itself (GetPipeline).
 * - The stack's pin (input/pin.ts) then decides: the parameters may narrow the stack's prefixes,
 *   never widen them, and may not name another Region than the function's own.
 * - The definition is checked against the parameters' prefixes and the pin's protected functions.
 * Pure but for the one GetPipeline read; every problem is a value the entry point reports its way.
 */
import { z } from "zod";
import type { PipelineConfigReader } from "../aws/pipeline-config.ts";
import type { Problem } from "../core/errors.ts";
import { type DesiredResult, loadDesired } from "../input/desired.ts";
import { type JobParameters, jobParametersSchema, parseUserParameters } from "../input/parameters.ts";
import { checkRegion, narrowPrefixes, type Pin, readPin } from "../input/pin.ts";

/** Why parameters were refused: not valid, wider than the stack's prefixes, or another Region. */
export type Refusal = "invalid" | "widened" | "region";

export type PinnedParameters =
  | { ok: true; parameters: JobParameters }
  | { ok: false; refused: Refusal; problems: Problem[] };

/** `UserParameters` text -> job parameters the stack's pin allows. */
export function pinnedParameters(userParameters: string | undefined, pin: Pin): PinnedParameters {
  const params = parseUserParameters(userParameters);
  if (!params.ok) return { ok: false, refused: "invalid", problems: params.problems };
  const parameters = params.parameters;
  const narrowed = narrowPrefixes(pin, parameters.allowedPrefixes);
  if (!narrowed.ok) return { ok: false, refused: "widened", problems: narrowed.problems };
  const region = checkRegion(pin, parameters.region);
  if (!region.ok) {
    const problem: Problem = { file: "UserParameters", line: 1, column: 1, path: "region", message: region.reason };
    return { ok: false, refused: "region", problems: [problem] };
  }
  return { ok: true, parameters };
}

/** The definition text -> the definition, within the parameters' prefixes and never a protected function. */
export function pinnedDefinition(text: string, file: string, parameters: JobParameters, pin: Pin): DesiredResult {
  return loadDesired(text, file, parameters.allowedPrefixes, pin.protectedFunctions);
}

// ---- The pipeline's action, read by the functions that are not the action itself ---------------

const NAME = /^[A-Za-z0-9.@_-]{1,100}$/;

/** The environment variables naming the pipeline action whose `UserParameters` are the policy. */
export const pipelineActionSchema = z.object({
  PIPELINE_NAME: z.string({ error: "is not set" }).regex(NAME, "expected a CodePipeline pipeline name"),
  ACTION_NAME: z.string({ error: "is not set" }).regex(NAME, "expected a CodePipeline action name"),
  // Same rules as the pipeline's own `definitionFile` setting; empty means "not overridden".
  DEFINITION_FILE: z.union([z.literal(""), jobParametersSchema.shape.definitionFile.unwrap()]).optional(),
});

export interface PipelineAction {
  pipelineName: string;
  actionName: string;
  /** The definition file's path when the stack overrides the pipeline's `definitionFile`. */
  definitionFile: string | undefined;
  /** The stack's pin (ALLOWED_PREFIXES, PROTECTED_FUNCTIONS, this function's own name and Region). */
  pin: Pin;
}

/** One environment-variable problem: the variable (or path) and what is wrong with it. */
export interface SettingProblem {
  variable: string;
  message: string;
}

/**
 * This function's settings: `schema` (which extends pipelineActionSchema) and the stack's pin, read
 * together so that every problem of both is reported at once.
 */
export function readActionSettings<S extends z.ZodObject<typeof pipelineActionSchema.shape>>(
  schema: S,
  env: Record<string, string | undefined>,
): { ok: true; values: z.infer<S>; action: PipelineAction } | { ok: false; problems: SettingProblem[] } {
  const parsed = schema.safeParse(env);
  const pinned = readPin(env);
  if (!parsed.success || !pinned.ok) {
    return {
      ok: false,
      problems: [
        ...(parsed.success ? [] : parsed.error.issues.map((i) => ({ variable: i.path.join("."), message: i.message }))),
        ...(pinned.ok ? [] : pinned.problems.map(pinProblem)),
      ],
    };
  }
  const values = parsed.data as z.infer<S>;
  const { PIPELINE_NAME, ACTION_NAME, DEFINITION_FILE } = parsed.data as z.infer<typeof pipelineActionSchema>;
  return {
    ok: true,
    values,
    action: {
      pipelineName: PIPELINE_NAME,
      actionName: ACTION_NAME,
      definitionFile: DEFINITION_FILE || undefined,
      pin: pinned.pin,
    },
  };
}

/** readPin's "NAME: message" as a setting problem. */
function pinProblem(problem: string): SettingProblem {
  const match = /^([A-Z_]+): ([\s\S]*)$/.exec(problem);
  return match ? { variable: match[1]!, message: match[2]! } : { variable: "environment", message: problem };
}

export type ActionParametersResult =
  /** `stageName`: the stage the action is in (the pipeline says; execution history is keyed by it). */
  | { ok: true; parameters: JobParameters; file: string; stageName: string }
  | { ok: false; stage: "pipeline"; message: string }
  | { ok: false; stage: "parameters"; refused: Refusal; problems: Problem[] };

/**
 * The pipeline action's `UserParameters` (GetPipeline) -> the parameters the stack's pin allows,
 * and the definition file to read (the stack's override, else the parameters').
 */
export async function readActionParameters(
  reader: PipelineConfigReader,
  action: PipelineAction,
): Promise<ActionParametersResult> {
  const read = await reader.readActionUserParameters(action.pipelineName, action.actionName);
  if (!read.ok) return { ok: false, stage: "pipeline", message: read.message };
  const pinned = pinnedParameters(read.userParameters, action.pin);
  if (!pinned.ok) return { ok: false, stage: "parameters", refused: pinned.refused, problems: pinned.problems };
  return {
    ok: true,
    parameters: pinned.parameters,
    file: action.definitionFile ?? pinned.parameters.definitionFile,
    stageName: read.stageName,
  };
}
