/**
 * The comments the pull-request planner (entry/pr-plan.ts) posts: the plan, or why there is none,
 * each naming the file and the revision it read, and each within CodeCommit's 10,240 characters.
 */
import type { Problem } from "../core/errors.ts";
import type { Plan } from "../plan/plan.ts";
import { fitMarkdown, MAX_COMMENT_LENGTH, renderPlanMarkdown, renderProblemsMarkdown } from "./report.ts";
import { truncate } from "./text.ts";

export const COMMENT_TITLE = "lambda-gitops plan";

/** The commits (and branches) a pull request's plan was made at. */
export interface PullRequestRevision {
  sourceCommit: string;
  destinationCommit: string;
  sourceReference: string | undefined;
  destinationReference: string | undefined;
}

export const short = (sha: string): string => sha.slice(0, 7);
const branch = (ref: string | undefined): string | undefined => ref?.replace(/^refs\/heads\//, "");

/** Which file at which commits: "`lambdas.json` at `a1b2c3d` (`feature`), to merge into `0f1e2d3` (`main`)". */
export function revisionText(pr: PullRequestRevision, file: string): string {
  const source = branch(pr.sourceReference);
  const destination = branch(pr.destinationReference);
  const from = `\`${file}\` at \`${short(pr.sourceCommit)}\`${source ? ` (\`${source}\`)` : ""}`;
  const into = `\`${short(pr.destinationCommit)}\`${destination ? ` (\`${destination}\`)` : ""}`;
  return `${from}, to merge into ${into}`;
}

/** The line under a plan's summary: what was planned, and that the pipeline applies it on merge. */
export function contextLine(pr: PullRequestRevision, file: string, pipelineName: string): string {
  return `Planned ${revisionText(pr, file)}. Read-only: nothing was changed; pipeline \`${pipelineName}\` applies this on merge.`;
}

export type CommentBody =
  | { kind: "settings"; problems: string[] }
  | { kind: "pipeline"; pipelineName: string; actionName: string; message: string }
  | { kind: "parameters"; pipelineName: string; actionName: string; problems: Problem[] }
  | { kind: "file"; file: string; message: string; pipelineName: string }
  | { kind: "definition"; file: string; problems: Problem[]; pipelineName: string }
  | { kind: "plan"; file: string; plan: Plan; pipelineName: string };

/** Renders every comment the planner posts; each fits CodeCommit's 10,240-character limit. */
export function renderComment(pr: PullRequestRevision, body: CommentBody, max = MAX_COMMENT_LENGTH): string {
  const title = `**${COMMENT_TITLE}**`;
  const notOurChange = "This is a problem in the deployment of lambda-gitops, not in this pull request.";
  switch (body.kind) {
    case "settings":
      return fitMarkdown(
        [`${title}: could not plan: the pull-request planner is misconfigured. ${notOurChange}`, ""],
        body.problems.map((problem) => `- environment variable ${problem}`),
        (n) => `_${n} more not shown._`,
        max,
      );
    case "pipeline":
      return truncate(
        `${title}: could not plan: cannot read the settings of pipeline \`${body.pipelineName}\` action \`${body.actionName}\`: ${body.message}. ${notOurChange}`,
        max,
      );
    case "parameters":
      return renderProblemsMarkdown(
        `${title}: could not plan: the \`UserParameters\` of pipeline \`${body.pipelineName}\` action \`${body.actionName}\` are invalid, so the pipeline would fail too. ${notOurChange}`,
        body.problems,
        { maxLength: max, more: "see the pipeline's action configuration" },
      );
    case "file":
      return truncate(
        `${title}: could not plan: ${body.message}.\n\nRead ${revisionText(pr, body.file)}. Pipeline \`${body.pipelineName}\` reads \`${body.file}\` (its \`definitionFile\` setting) and would fail the same way after the merge; other files are not planned.`,
        max,
      );
    case "definition": {
      const count = `${body.problems.length} problem${body.problems.length === 1 ? "" : "s"}`;
      return renderProblemsMarkdown(
        `${title}: \`${body.file}\` is invalid (${count}); the pipeline would refuse it and change nothing.`,
        body.problems,
        { context: [`Checked ${revisionText(pr, body.file)}.`], maxLength: max },
      );
    }
    case "plan":
      return renderPlanMarkdown(body.plan, {
        title: COMMENT_TITLE,
        context: [contextLine(pr, body.file, body.pipelineName)],
        maxLength: max,
      });
  }
}
