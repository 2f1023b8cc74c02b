/**
 * A small local HTTP proxy between the AWS SDK and moto (or any upstream) that emulates what moto
 * does not: Lambda's request quotas, and injected faults. Reusable by benchmarks, fault tests and
 * crash tests. Point the SDK (or a child process) at `endpoint` with `AWS_ENDPOINT_URL`.
 *
 *   const proxy = await startAwsProxy({ upstream: moto.endpoint });
 *   // ... run the reconciler with AWS_ENDPOINT_URL=proxy.endpoint ...
 *   proxy.stats();   // { perClass, throttled, faults, calls }
 *   await proxy.stop();
 *
 * Options:
 * - `upstream`: base URL, e.g. moto's `http://127.0.0.1:PORT`.
 * - `quotas`: requests per second per (account, region) and class; default `LAMBDA_QUOTAS`
 *   ({ control: 15, getFunction: 100 }); `false` turns throttling off. A Lambda call past its
 *   class's budget is answered here, never forwarded: HTTP 429, `x-amzn-ErrorType:
 *   TooManyRequestsException`, `Retry-After: 1`, body `{"__type":"TooManyRequestsException",
 *   "message":"Rate exceeded","Type":"User","Reason":"CallerRateLimitExceeded"}`. The budget is a
 *   sliding window (`windowMs`, default 1000): at most `quota` forwarded calls in any window.
 *   Throttled calls do not count against it.
 * - `faults`: `{ rate, kinds, seed, services?, operations?, slowMs? }`. Each eligible call (service
 *   in `services`, default all but the proxy-free ones; operation in `operations`, default all) gets
 *   a fault with probability `rate`, of one of `kinds`:
 *     "500" / "503"  answered here (not forwarded) with a service-shaped 500 / 503 error;
 *     "429"          answered here with the throttle response above (counted in `faults`);
 *     "reset"        forwarded (the action HAPPENED upstream), then the client's socket is destroyed;
 *     "slow"         forwarded, the response delayed by `slowMs` (default 2000);
 *     "truncate"     forwarded, then half the body is sent and the socket destroyed.
 *   Deterministic for a seed: the decision is a hash of (seed, account, method, path, query, n) where
 *   n counts earlier calls with the same (account, method, path, query); so it does not depend on
 *   how concurrent calls interleave, and a retry of the same request gets a fresh decision.
 * - `hooks.beforeResponse(call)`: called once the upstream answered (the action happened), before
 *   anything is sent back. `"pass"` sends it; `"hold"` never sends it (the connection stays open
 *   until the client goes away or `stop()`): kill the client process meanwhile to test crashes.
 * - `accounts`: access key id -> account id. Calls are attributed to accounts by the SigV4
 *   credential's access key id: `registerAccount(accessKeyId, accountId)` adds one; keys issued by
 *   STS AssumeRole through this proxy are learned automatically (the role ARN's account); unknown
 *   keys act in `defaultAccount` (moto's default, 123456789012), like moto does.
 *
 * `stats()`: `perClass` counts calls FORWARDED upstream per class (`control`, `getFunction` and
 * `invoke` for Lambda; the service name for other services); `throttled` counts quota 429s;
 * `faults` counts injected faults; `calls` lists every call (`ProxyCall`) in arrival order.
 * `reset()` clears stats, quota windows and the fault occurrence counters (same seed, same faults).
 * Lambda operation names follow test/support/moto_launcher.py (method + path after the API version).
 */
import { randomUUID } from "node:crypto";
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { LAMBDA_QUOTAS, lambdaQuotaClass } from "../../reconciler/core/lambda-quotas.ts";
import { lambdaOperation } from "./lambda-operations.ts";

export type FaultKind = "500" | "503" | "429" | "reset" | "slow" | "truncate";

export interface ProxyCall {
  /** SigV4 signing name: lambda, sts, s3, codepipeline...; "unknown" when unsigned. */
  service: string;
  /** e.g. UpdateAlias, AssumeRole, GetObject; "Unknown" when not derivable. */
  operation: string;
  /** From the credential's access key id (see `registerAccount`). */
  account: string;
  accessKeyId: string;
  region: string;
  method: string;
  /** Percent-decoded path, without the query string. */
  path: string;
  query: string;
  /** control | getFunction | invoke (Lambda), else the service name. */
  quotaClass: string;
  /** HTTP status sent back (or that would have been, when held); null until known. */
  status: number | null;
  /** How the proxy answered. */
  outcome: "forwarded" | "throttled" | "fault";
  fault?: FaultKind;
  held?: boolean;
  /** ms since the proxy started. */
  at: number;
}

export interface FaultOptions {
  /** Probability (0..1) that an eligible call gets a fault. */
  rate: number;
  kinds: FaultKind[];
  seed: number;
  /** Only calls to these services (default: all). */
  services?: string[];
  /** Only these operations (default: all). */
  operations?: string[];
  slowMs?: number;
}

export interface AwsProxyOptions {
  upstream: string;
  quotas?: { control: number; getFunction: number } | false;
  windowMs?: number;
  faults?: FaultOptions;
  hooks?: { beforeResponse?(call: ProxyCall): Promise<"pass" | "hold"> };
  accounts?: Record<string, string>;
  defaultAccount?: string;
  /** Listen port (default 0: any free port) on 127.0.0.1. */
  port?: number;
}

export interface ProxyStats {
  perClass: Record<string, number>;
  throttled: number;
  faults: number;
  calls: ProxyCall[];
}

export interface AwsProxy {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  stats(): ProxyStats;
  reset(): void;
  registerAccount(accessKeyId: string, accountId: string): void;
  stop(): Promise<void>;
}

export const MOTO_DEFAULT_ACCOUNT = "123456789012";

export const THROTTLE_BODY = JSON.stringify({
  __type: "TooManyRequestsException",
  message: "Rate exceeded",
  Type: "User",
  Reason: "CallerRateLimitExceeded",
});

// ---------------------------------------------------------------------------------------------
// Classification
// ---------------------------------------------------------------------------------------------


export { LAMBDA_QUOTAS, lambdaOperation, lambdaQuotaClass };

const CREDENTIAL = /Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request/;

function credentialOf(headers: IncomingHttpHeaders): {
  accessKeyId: string;
  region: string;
  service: string;
} {
  const m = CREDENTIAL.exec(String(headers.authorization ?? ""));
  return m
    ? { accessKeyId: m[1]!, region: m[3]!, service: m[4]!.toLowerCase() }
    : { accessKeyId: "", region: "", service: "unknown" };
}

const QUERY_PROTOCOL = new Set(["sts", "iam"]);

function operationOf(
  service: string,
  method: string,
  path: string,
  query: string,
  headers: IncomingHttpHeaders,
  body: Buffer | undefined,
): string {
  const target = headers["x-amz-target"];
  if (typeof target === "string" && target) return target.split(".").pop() ?? "Unknown";
  if (service === "lambda") return lambdaOperation(method, path, query);
  if (QUERY_PROTOCOL.has(service)) {
    const action =
      new URLSearchParams(query).get("Action") ??
      new URLSearchParams(body?.toString("utf8") ?? "").get("Action");
    return action ?? "Unknown";
  }
  if (service === "s3") {
    const parts = path.split("/").filter(Boolean);
    if (parts.length === 0) return method === "GET" ? "ListBuckets" : "Unknown";
    if (parts.length === 1) {
      return (
        { GET: "ListObjects", PUT: "CreateBucket", DELETE: "DeleteBucket", HEAD: "HeadBucket" }[method] ??
        "Unknown"
      );
    }
    return (
      { GET: "GetObject", PUT: "PutObject", HEAD: "HeadObject", DELETE: "DeleteObject" }[method] ?? "Unknown"
    );
  }
  return "Unknown";
}

// ---------------------------------------------------------------------------------------------
// Deterministic fault decisions
// ---------------------------------------------------------------------------------------------

/** 32-bit FNV-1a, then a murmur3 finaliser: a well-mixed hash of a string. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function faultFor(faults: FaultOptions, identity: string, occurrence: number): FaultKind | undefined {
  if (faults.kinds.length === 0 || faults.rate <= 0) return undefined;
  const draw = hash32(`${faults.seed}|${identity}|${occurrence}|draw`) / 2 ** 32;
  if (draw >= faults.rate) return undefined;
  return faults.kinds[hash32(`${faults.seed}|${identity}|${occurrence}|kind`) % faults.kinds.length];
}

// ---------------------------------------------------------------------------------------------
// Error bodies, shaped like each protocol's errors so the SDK parses them
// ---------------------------------------------------------------------------------------------

interface Canned {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function throttleResponse(service: string): Canned {
  if (service === "lambda") {
    return {
      status: 429,
      headers: {
        "content-type": "application/json",
        "x-amzn-errortype": "TooManyRequestsException",
        "retry-after": "1",
      },
      body: THROTTLE_BODY,
    };
  }
  return errorResponse(service, 429, "ThrottlingException", "Rate exceeded", { "retry-after": "1" });
}

function errorResponse(
  service: string,
  status: number,
  code: string,
  message: string,
  extra: Record<string, string> = {},
): Canned {
  if (QUERY_PROTOCOL.has(service)) {
    const body = `<ErrorResponse><Error><Type>Receiver</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
    return { status, headers: { "content-type": "text/xml", ...extra }, body };
  }
  if (service === "s3") {
    const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;
    return { status, headers: { "content-type": "application/xml", ...extra }, body };
  }
  return {
    status,
    headers: { "content-type": "application/json", "x-amzn-errortype": code, ...extra },
    body: JSON.stringify({ __type: code, message }),
  };
}

function serverFault(service: string, kind: "500" | "503"): Canned {
  if (kind === "500") {
    const code =
      service === "lambda" ? "ServiceException" : service === "s3" ? "InternalError" : "InternalFailure";
    return errorResponse(service, 500, code, "injected by aws-proxy");
  }
  const code = service === "s3" ? "SlowDown" : "ServiceUnavailableException";
  return errorResponse(service, 503, code, "injected by aws-proxy");
}

// ---------------------------------------------------------------------------------------------
// The proxy
// ---------------------------------------------------------------------------------------------

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "expect",
  "te",
  "trailer",
]);

function forwardHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (!HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

/** A sliding-window budget: at most `limit` admitted events in any `windowMs`. */
class SlidingWindow {
  private readonly times: number[] = [];
  private head = 0;
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}
  admit(now: number): boolean {
    while (this.head < this.times.length && this.times[this.head]! <= now - this.windowMs) this.head++;
    if (this.head > 1024) {
      this.times.splice(0, this.head);
      this.head = 0;
    }
    if (this.times.length - this.head >= this.limit) return false;
    this.times.push(now);
    return true;
  }
}

export async function startAwsProxy(options: AwsProxyOptions): Promise<AwsProxy> {
  const upstream = new URL(options.upstream);
  const quotas = options.quotas === false ? undefined : (options.quotas ?? LAMBDA_QUOTAS);
  const windowMs = options.windowMs ?? 1000;
  const defaultAccount = options.defaultAccount ?? MOTO_DEFAULT_ACCOUNT;
  const accounts = new Map(Object.entries(options.accounts ?? {}));
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const started = performance.now();

  let calls: ProxyCall[] = [];
  let perClass: Record<string, number> = {};
  let throttled = 0;
  let faultCount = 0;
  let windows = new Map<string, SlidingWindow>();
  let occurrences = new Map<string, number>();
  const held = new Set<ServerResponse>();

  const admit = (call: ProxyCall): boolean => {
    if (!quotas || call.service !== "lambda") return true;
    const limit = (quotas as Record<string, number>)[call.quotaClass];
    if (limit === undefined) return true;
    const key = `${call.account}|${call.region}|${call.quotaClass}`;
    let window = windows.get(key);
    if (!window) {
      window = new SlidingWindow(limit, windowMs);
      windows.set(key, window);
    }
    return window.admit(performance.now());
  };

  const decideFault = (call: ProxyCall): FaultKind | undefined => {
    const f = options.faults;
    if (!f) return undefined;
    if (f.services && !f.services.includes(call.service)) return undefined;
    if (f.operations && !f.operations.includes(call.operation)) return undefined;
    const identity = `${call.account}|${call.method}|${call.path}|${call.query}`;
    const n = occurrences.get(identity) ?? 0;
    occurrences.set(identity, n + 1);
    return faultFor(f, identity, n);
  };

  const sendCanned = (res: ServerResponse, call: ProxyCall, canned: Canned) => {
    call.status = canned.status;
    res.writeHead(canned.status, {
      ...canned.headers,
      "x-amzn-requestid": randomUUID(),
      "content-length": Buffer.byteLength(canned.body),
    });
    res.end(canned.body);
  };

  /** Learn the account of STS-issued keys from AssumeRole answers. */
  const learn = (call: ProxyCall, body: Buffer) => {
    if (call.service !== "sts" || call.operation !== "AssumeRole") return;
    const text = body.toString("utf8");
    const key = /<AccessKeyId>([^<]+)<\/AccessKeyId>/.exec(text)?.[1];
    const account = /<Arn>arn:[^:]+:sts::(\d{12}):assumed-role\//.exec(text)?.[1];
    if (key && account) accounts.set(key, account);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://proxy");
    const method = req.method ?? "GET";
    const path = safeDecode(url.pathname);
    const query = url.search.replace(/^\?/, "");
    const { accessKeyId, region, service } = credentialOf(req.headers);
    // Query-protocol services name the operation in the (small) form body: buffer those.
    let body: Buffer | undefined;
    if (QUERY_PROTOCOL.has(service)) body = await readAll(req);
    const operation = operationOf(service, method, path, query, req.headers, body);
    const call: ProxyCall = {
      service,
      operation,
      account: accounts.get(accessKeyId) ?? defaultAccount,
      accessKeyId,
      region,
      method,
      path,
      query,
      quotaClass: service === "lambda" ? lambdaQuotaClass(operation) : service,
      status: null,
      outcome: "forwarded",
      at: Math.round(performance.now() - started),
    };
    calls.push(call);

    const fault = decideFault(call);
    if (fault) {
      call.fault = fault;
      faultCount += 1;
    }
    if (fault === "500" || fault === "503" || fault === "429") {
      call.outcome = "fault";
      req.resume();
      sendCanned(res, call, fault === "429" ? throttleResponse(service) : serverFault(service, fault));
      return;
    }
    if (!admit(call)) {
      call.outcome = "throttled";
      throttled += 1;
      req.resume();
      sendCanned(res, call, throttleResponse(service));
      return;
    }
    perClass[call.quotaClass] = (perClass[call.quotaClass] ?? 0) + 1;

    const answer = await forward(req, body);
    call.status = answer.status;
    learn(call, answer.body);
    if (options.hooks?.beforeResponse && (await options.hooks.beforeResponse(call)) === "hold") {
      call.held = true;
      held.add(res);
      res.once("close", () => held.delete(res));
      return;
    }
    if (fault === "reset") {
      res.socket?.destroy();
      return;
    }
    if (fault === "slow") await new Promise((r) => setTimeout(r, options.faults?.slowMs ?? 2000));
    const headers = { ...answer.headers, "content-length": String(answer.body.byteLength) };
    res.writeHead(answer.status, headers);
    if (fault === "truncate") {
      res.write(answer.body.subarray(0, Math.floor(answer.body.byteLength / 2)));
      // Let the partial body reach the client before the connection dies.
      setTimeout(() => res.socket?.destroy(), 20);
      return;
    }
    res.end(answer.body);
  };

  const forward = (
    req: IncomingMessage,
    buffered: Buffer | undefined,
  ): Promise<{ status: number; headers: Record<string, string | string[]>; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const up = httpRequest(
        {
          protocol: upstream.protocol,
          hostname: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: forwardHeaders(req.headers),
          agent,
        },
        (response) => {
          readAll(response).then((body) => {
            const headers: Record<string, string | string[]> = {};
            for (const [k, v] of Object.entries(response.headers)) {
              if (v !== undefined && !HOP_BY_HOP.has(k) && k !== "content-length") headers[k] = v;
            }
            resolve({ status: response.statusCode ?? 502, headers, body });
          }, reject);
        },
      );
      up.on("error", reject);
      if (buffered) up.end(buffered);
      else req.pipe(up);
    });

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) {
        res.socket?.destroy();
        return;
      }
      const body = JSON.stringify({ __type: "ProxyError", message: String(error) });
      res.writeHead(502, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    stats: () => ({ perClass: { ...perClass }, throttled, faults: faultCount, calls: [...calls] }),
    reset: () => {
      calls = [];
      perClass = {};
      throttled = 0;
      faultCount = 0;
      windows = new Map();
      occurrences = new Map();
    },
    registerAccount: (accessKeyId, accountId) => {
      accounts.set(accessKeyId, accountId);
    },
    stop: async () => {
      for (const res of held) res.socket?.destroy();
      held.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      agent.destroy();
    },
  };
}

function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => resolve(Buffer.concat(chunks)));
    stream.on("error", reject);
  });
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}
