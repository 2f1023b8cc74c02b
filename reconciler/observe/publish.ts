/**
 * Read-only observation for `publish`, in the account of the current credentials: $LATEST (its
 * CodeSha256, RevisionId and configuration), the version alias, and the version behind it. Three
 * reads at most: GetFunction twice (its own 100/s quota) and one GetAlias. A read failure is a
 * value ("failed"), never "absent": only ResourceNotFoundException means missing (lambda.ts).
 */
import type { LambdaReader } from "../aws/lambda.ts";
import { describeError } from "../core/errors.ts";
import type { PublishSpec } from "../input/publish-request.ts";
import { versionToAlias } from "../input/versions.ts";
import { type AliasState, type FunctionState, isPublishedVersion } from "./state.ts";

/** What `publish` saw of one function (plan/publish.ts decides from it). */
export type PublishObservation =
  | { kind: "missing-function" }
  | { kind: "failed"; message: string }
  | {
      kind: "observed";
      latest: FunctionState;
      /** The version alias, when it exists. */
      versionAlias: AliasState | undefined;
      /** The version behind the version alias (read only when the alias exists). */
      aliased: FunctionState | undefined;
    };

export async function observePublish(lambda: LambdaReader, spec: PublishSpec): Promise<PublishObservation> {
  try {
    const latest = await lambda.getFunction(spec.function);
    if (!latest) return { kind: "missing-function" };
    const versionAlias = await lambda.getAlias(spec.function, versionToAlias(spec.version));
    const aliased =
      versionAlias && isPublishedVersion(versionAlias.functionVersion)
        ? await lambda.getFunction(spec.function, versionAlias.functionVersion)
        : undefined;
    return { kind: "observed", latest, versionAlias, aliased };
  } catch (error) {
    return { kind: "failed", message: `could not read "${spec.function}": ${describeError(error)}` };
  }
}
