/**
 * Drift attribution and the drift report. Pure: from CloudTrail events already read (aws/cloudtrail.ts)
 * and the drift verdicts (plan/drift.ts), say who changed LIVE and when, and build the EventBridge
 * event's detail and the log lines.
 *
 * Attribution takes the newest Lambda write on the function that the reconciler's own role did not
 * make: first an alias write on LIVE (UpdateAlias / CreateAlias naming it), else a code write
 * (UpdateFunctionCode, PublishVersion). "alice moved LIVE to 1.3.0 (v4) at 2026-11-30 14:02 UTC
 * from the console".
 */
import { namesFunction, type TrailEvent } from "../observe/trail.ts";
import type { DriftVerdict, FileChange } from "../plan/drift.ts";
import type { AliasRouting } from "../plan/routing.ts";
import { describeAliasRouting } from "./report.ts";

export interface Attribution {
  actor: string;
  actorArn: string;
  at: string;
  eventName: string;
  via: string;
  text: string;
}

/** True when the event was made by `roleArn` (directly or through an assumed-role session). */
export function madeBy(event: TrailEvent, roleArn: string | undefined): boolean {
  if (!roleArn) return false;
  if (event.issuerArn === roleArn || event.actorArn === roleArn) return true;
  const roleName = roleArn.split("/").pop();
  const assumed = /:assumed-role\/([^/]+)\//.exec(event.actorArn)?.[1];
  return roleName !== undefined && assumed === roleName && event.actorArn.split(":")[4] === roleArn.split(":")[4];
}

/** "alice" for a user or a session name, else the ARN. */
export function actorName(event: TrailEvent): string {
  if (event.userName) return event.userName;
  const session = /:assumed-role\/[^/]+\/(.+)$/.exec(event.actorArn)?.[1];
  return session ?? (event.actorArn || "someone");
}

export function via(userAgent: string): string {
  const ua = userAgent.toLowerCase();
  if (ua.includes("console.amazonaws.com") || ua === "aws internal" || ua.includes("signin.amazonaws.com")) return "from the console";
  if (ua.includes("cloudformation")) return "through CloudFormation";
  if (ua.includes("aws-cli")) return "with the AWS CLI";
  if (ua.includes("terraform")) return "with Terraform";
  if (ua.includes("aws-sdk") || ua.includes("boto")) return "with an AWS SDK";
  return userAgent ? `with ${userAgent.slice(0, 60)}` : "by unknown means";
}

const ALIAS_EVENTS = new Set(["UpdateAlias20150331", "CreateAlias20150331"]);

/** A record without a function name was found by ResourceName = the function: it is about it. */
function sameFunction(event: TrailEvent, functionName: string): boolean {
  return typeof event.request.functionName !== "string" || namesFunction(event, functionName);
}

/** Who changed the function last (outside the reconciler's role), newest first; undefined if unknown. */
export function attribute(
  events: readonly TrailEvent[],
  context: { functionName: string; liveAlias: string; reconcilerRoleArn: string | undefined; semverOf: (v: string) => string | null },
): Attribution | undefined {
  const candidates = [...events]
    .filter((e) => sameFunction(e, context.functionName) && !madeBy(e, context.reconcilerRoleArn))
    .sort((a, b) => b.eventTime.getTime() - a.eventTime.getTime());
  const onLive = candidates.find((e) => ALIAS_EVENTS.has(e.eventName) && e.request.name === context.liveAlias);
  const chosen = onLive ?? candidates.find((e) => !ALIAS_EVENTS.has(e.eventName));
  if (!chosen) return undefined;
  const actor = actorName(chosen);
  const at = `${chosen.eventTime.toISOString().slice(0, 16).replace("T", " ")} UTC`;
  const how = via(chosen.userAgent);
  let what: string;
  if (onLive) {
    const fv = String(chosen.request.functionVersion ?? "");
    const semver = fv ? context.semverOf(fv) : null;
    what = `moved ${context.liveAlias} to ${semver ? `${semver} (v${fv})` : fv ? `v${fv}` : "another version"}`;
  } else {
    what = chosen.eventName.startsWith("PublishVersion") ? "published a version" : "changed the code";
  }
  return {
    actor,
    actorArn: chosen.actorArn,
    at: chosen.eventTime.toISOString(),
    eventName: chosen.eventName,
    via: how,
    text: `${actor} ${what} at ${at} ${how}`,
  };
}

export interface DriftedFunction {
  name: string;
  expected: AliasRouting;
  actual: AliasRouting;
  declaredVersion: string;
  /** Whether the next pipeline run deploys something else than the reconciler wrote (plan/drift.ts FileChange). */
  fileChange: FileChange;
  /** `fileChange !== "unchanged"`, kept for consumers of the event's earlier boolean. */
  fileChanged: boolean;
  changedBy: Attribution | null;
}

/** The pipeline run whose definition the check compared with: the last run of the Reconcile action. */
export interface DeployedRun {
  pipelineExecutionId: string;
  actionExecutionId: string;
  /** InProgress | Succeeded | Failed | Abandoned */
  status: string;
  startedAt: string | null;
  /** The source action and the revision (commit) it deployed, and the newest the pipeline has seen. */
  sourceAction: string | null;
  revision: string | null;
  latestRevision: string | null;
}

export interface DriftDetail {
  pipeline: string;
  checkedAt: string;
  /** What was compared with: the definition of this run (the artifact it was given). */
  deployed: DeployedRun;
  liveAlias: string;
  functions: number;
  drifted: DriftedFunction[];
  /** Functions whose drift cannot be told (no LIVE, no marker), by name. */
  unknown: string[];
  selfHeal: { pipelineExecutionId: string } | null;
}

export function driftedOf(
  name: string,
  verdict: Extract<DriftVerdict, { kind: "drifted" }>,
  changedBy: Attribution | undefined,
  fileChange: FileChange,
): DriftedFunction {
  return {
    name,
    expected: verdict.expected,
    actual: verdict.actual,
    declaredVersion: verdict.declared.version,
    fileChange,
    fileChanged: fileChange !== "unchanged",
    changedBy: changedBy ?? null,
  };
}

const FILE_CHANGE_TEXT: Record<FileChange, string> = {
  unchanged: "file unchanged",
  changed: "the file changed too",
  "newer-commit-not-deployed": "newer commit not deployed yet",
};

/** One line per drifted function, for logs and the job summary. */
export function describeDrift(d: DriftedFunction): string {
  const who = d.changedBy ? d.changedBy.text : "who changed it is not in CloudTrail's recent events";
  return `${d.name}: LIVE routes ${describeAliasRouting(d.actual)}, the reconciler wrote ${describeAliasRouting(d.expected)} (${d.declaredVersion}; ${FILE_CHANGE_TEXT[d.fileChange]}); ${who}`;
}
