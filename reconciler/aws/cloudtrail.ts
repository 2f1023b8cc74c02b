/**
 * Thin adapter over @aws-sdk/client-cloudtrail's LookupEvents: the recent Lambda management events
 * on one function, for drift attribution ("who moved LIVE").
 *
 * - LookupEvents is limited to 2 requests per second per account and Region (API reference), and
 *   takes ONE lookup attribute per call: the adapter spaces its calls at least `minIntervalMs`
 *   (default 500) apart, process-wide for this adapter, and looks up by ResourceName = the function
 *   name, keeping Lambda's write events (their CloudTrail names carry the API version:
 *   `UpdateAlias20150331`, `UpdateFunctionCode20150331v2`, `PublishVersion20150331`).
 * - At most `maxPages` pages of 50 events, newest first; the events' JSON is parsed into the few
 *   fields attribution needs (never logged whole: it may carry request parameters).
 */
import { CloudTrailClient, LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
import { AwsCallError } from "../core/errors.ts";
import { namesFunction, type TrailEvent } from "../core/trail.ts";
import { realSleep, type Sleep } from "./retry.ts";

export type { TrailEvent };

/** Lambda's write events that can move LIVE or change what a version runs. */
export const LAMBDA_WRITE_EVENTS = [
  "UpdateAlias20150331",
  "CreateAlias20150331",
  "UpdateFunctionCode20150331v2",
  "PublishVersion20150331",
] as const;


export interface TrailReader {
  lambdaWrites(functionName: string, options: { since: Date; until: Date }): Promise<TrailEvent[]>;
}

export function createTrailReader(
  client = new CloudTrailClient({ maxAttempts: 5 }),
  options: { minIntervalMs?: number; maxPages?: number; sleep?: Sleep; now?: () => number } = {},
): TrailReader {
  const minInterval = options.minIntervalMs ?? 500;
  const maxPages = options.maxPages ?? 4;
  const sleep = options.sleep ?? realSleep;
  const now = options.now ?? Date.now;
  let next = 0;
  const paced = async <T>(call: () => Promise<T>): Promise<T> => {
    const at = Math.max(now(), next);
    next = at + minInterval;
    if (at > now()) await sleep(at - now());
    return call();
  };
  const names = new Set<string>(LAMBDA_WRITE_EVENTS);
  /** Up to maxPages pages of one lookup (one attribute), keeping Lambda's write events. */
  const lookup = async (attribute: { AttributeKey: "ResourceName" | "EventName"; AttributeValue: string }, since: Date, until: Date) => {
    const events: TrailEvent[] = [];
    let token: string | undefined;
    for (let page = 0; page < maxPages; page++) {
      let out;
      try {
        out = await paced(() =>
          client.send(
            new LookupEventsCommand({
              LookupAttributes: [attribute],
              StartTime: since,
              EndTime: until,
              MaxResults: 50,
              NextToken: token,
            }),
          ),
        );
      } catch (error) {
        throw new AwsCallError("LookupEvents", error);
      }
      for (const e of out.Events ?? []) {
        if (!e.EventName || !names.has(e.EventName)) continue;
        const parsed = parseTrailEvent(e.CloudTrailEvent, e.EventName, e.EventTime);
        if (parsed) events.push(parsed);
      }
      token = out.NextToken;
      if (!token) break;
    }
    return events;
  };
  return {
    async lambdaWrites(functionName, { since, until }) {
      let events = await lookup({ AttributeKey: "ResourceName", AttributeValue: functionName }, since, until);
      if (events.length === 0) {
        // Not every record names its resources: fall back to the alias writes of the account,
        // filtered by the function named in their request (one more call, only when needed).
        events = (await lookup({ AttributeKey: "EventName", AttributeValue: "UpdateAlias20150331" }, since, until)).filter(
          (e) => namesFunction(e, functionName),
        );
      }
      return events.sort((a, b) => b.eventTime.getTime() - a.eventTime.getTime());
    },
  };
}

/** The fields attribution needs from one CloudTrail record (JSON text); undefined when unreadable. */
export function parseTrailEvent(json: string | undefined, eventName: string, eventTime: Date | undefined): TrailEvent | undefined {
  if (!json) return undefined;
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const identity = (record.userIdentity ?? {}) as {
    arn?: string;
    userName?: string;
    sessionContext?: { sessionIssuer?: { arn?: string } };
  };
  const time = eventTime ?? (typeof record.eventTime === "string" ? new Date(record.eventTime) : undefined);
  if (!time || Number.isNaN(time.getTime())) return undefined;
  return {
    eventName,
    eventTime: time,
    actorArn: identity.arn ?? "",
    issuerArn: identity.sessionContext?.sessionIssuer?.arn,
    userName: identity.userName,
    userAgent: typeof record.userAgent === "string" ? record.userAgent : "",
    request: (record.requestParameters ?? {}) as Record<string, unknown>,
  };
}
