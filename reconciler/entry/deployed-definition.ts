/**
 * The definition the pipeline last deployed, whatever its source (CodeCommit, or GitHub, GitLab,
 * Bitbucket through CodeConnections): the input artifact of the pipeline's most recent run of the
 * Reconcile action (aws/action-executions.ts), read from the artifact store exactly as the
 * reconciler reads its own input artifact: the same zip defences and size limits
 * (input/artifact.ts, DEFAULT_ZIP_LIMITS), the same UTF-8 check.
 */
import type { ActionHistory, ActionRun } from "../aws/action-executions.ts";
import type { ArtifactStore } from "../aws/s3.ts";
import { decodeUtf8 } from "../core/text.ts";
import { DEFAULT_ZIP_LIMITS, extractFile } from "../input/artifact.ts";

export type ArtifactText = { ok: true; text: string } | { ok: false; message: string };

/** One file of a zip artifact held in the artifact store, as text; every problem is a value. */
export async function readArtifactFile(
  store: ArtifactStore,
  location: { bucket: string; key: string },
  path: string,
): Promise<ArtifactText> {
  const zip = await store.get(location.bucket, location.key, DEFAULT_ZIP_LIMITS.maxZipBytes);
  if (!zip.ok) return zip;
  const extracted = await extractFile(zip.bytes, path, DEFAULT_ZIP_LIMITS);
  if (!extracted.ok) return { ok: false, message: `input artifact: ${extracted.message}` };
  return decodeUtf8(extracted.bytes, path);
}

export type DeployedDefinition =
  | { ok: true; text: string; run: ActionRun }
  | { ok: false; stage: "deployed" | "artifact"; message: string };

export async function readDeployedDefinition(
  ports: { history: ActionHistory; store: ArtifactStore },
  where: { pipelineName: string; stageName: string; actionName: string; definitionFile: string },
): Promise<DeployedDefinition> {
  const last = await ports.history.lastRun(where.pipelineName, where.stageName, where.actionName);
  if (!last.ok) return { ok: false, stage: "deployed", message: last.message };
  const run = last.run;
  const read = await readArtifactFile(ports.store, run.artifact, where.definitionFile);
  if (!read.ok) {
    const expired = /does not exist/.test(read.message) ? " (artifacts expire with the artifact bucket's lifecycle: run the pipeline again)" : "";
    return {
      ok: false,
      stage: "artifact",
      message: `the artifact of the last "${where.actionName}" run (pipeline execution ${run.pipelineExecutionId}, ${run.status}): ${read.message}${expired}`,
    };
  }
  return { ok: true, text: read.text, run };
}
