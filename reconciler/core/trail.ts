/**
 * What CloudTrail says about one Lambda write, in domain terms: the CloudTrail adapter
 * (../aws/cloudtrail.ts) maps LookupEvents records to it; drift attribution (../report/drift.ts)
 * reads it.
 */
export interface TrailEvent {
  eventName: string;
  eventTime: Date;
  /** userIdentity.arn: e.g. arn:aws:sts::1:assumed-role/Admin/alice, arn:aws:iam::1:user/bob */
  actorArn: string;
  /** userIdentity.sessionContext.sessionIssuer.arn: the role behind an assumed-role session. */
  issuerArn: string | undefined;
  userName: string | undefined;
  userAgent: string;
  /** requestParameters, as CloudTrail recorded them (functionName, name, functionVersion...). */
  request: Record<string, unknown>;
}

/** The request names this function (by name, or by ARN with or without a qualifier). */
export function namesFunction(event: TrailEvent, functionName: string): boolean {
  const named = event.request.functionName;
  if (typeof named !== "string") return false;
  return named === functionName || named.endsWith(`:function:${functionName}`) || named.includes(`:function:${functionName}:`);
}
