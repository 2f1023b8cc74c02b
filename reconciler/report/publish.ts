/**
 * Renders publish results (pure). `--format json` prints the result values themselves (one object
 * for a single function, an array for a manifest): the output a build's next step reads, like
 * Octopus's output variables. The text form is one line per function.
 */
import type { PublishResult } from "../apply/publish.ts";
import type { PublishPlanEntry, PublishStep } from "../plan/publish.ts";

export function publishToJson(results: readonly PublishResult[]) {
  const rows = results.map((r) => ({
    function: r.function,
    version: r.version,
    alias: r.alias,
    functionVersion: r.functionVersion,
    codeSha256: r.codeSha256,
    action: r.action,
    ...(r.error === undefined ? {} : { error: r.error }),
  }));
  return rows;
}

export function renderPublishText(results: readonly PublishResult[]): string {
  const lines = results.map((r) => {
    const what = `${r.function} ${r.version}`;
    switch (r.action) {
      case "published":
        return `${what}: published as version ${r.functionVersion} (alias ${r.alias}, CodeSha256 ${r.codeSha256})`;
      case "unchanged":
        return `${what}: already published as version ${r.functionVersion} (alias ${r.alias}); nothing to do`;
      case "refused":
        return `${what}: refused: ${r.error ?? ""}`;
      case "failed":
        return `${what}: failed: ${r.error ?? ""}`;
    }
  });
  const count = (action: string) => results.filter((r) => r.action === action).length;
  lines.push(
    `${count("published")} published, ${count("unchanged")} unchanged, ${count("refused")} refused, ${count("failed")} failed.`,
  );
  return lines.join("\n");
}

function describeStep(step: PublishStep): string {
  switch (step.kind) {
    case "configure": {
      const fields = Object.entries(step)
        .filter(([key]) => key !== "kind")
        .map(([key, value]) => `${key}=${Array.isArray(value) ? `[${value.join(",")}]` : String(value)}`);
      return `configure(${fields.join(" ")})`;
    }
    case "update-code":
      return `update-code(${step.architectures.join(",")})`;
    case "publish":
      return "publish";
    case "create-alias":
      return `create-alias(${step.alias})`;
    case "wait":
      return "wait";
  }
}

/** `--dry-run`: what publish would do, one line per function (the plan value itself with --format json). */
export function renderPublishPlanText(plans: readonly PublishPlanEntry[]): string {
  return plans
    .map((p) => {
      const what = `${p.function} ${p.version} (CodeSha256 ${p.codeSha256})`;
      switch (p.decision.kind) {
        case "unchanged":
          return `${what}: unchanged: already published as version ${p.decision.functionVersion}`;
        case "refused":
          return `${what}: refused (${p.decision.code}): ${p.decision.reason}`;
        case "publish":
          return `${what}: ${p.decision.steps.map(describeStep).join(" -> ")}`;
      }
    })
    .join("\n");
}
