import { createServer, type IncomingHttpHeaders, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import {
  type AwsProxy,
  type AwsProxyOptions,
  faultFor,
  lambdaOperation,
  lambdaQuotaClass,
  type ProxyCall,
  startAwsProxy,
  THROTTLE_BODY,
} from "../../support/aws-proxy.ts";

interface Seen {
  method: string;
  url: string;
  body: string;
}

/** A tiny upstream: answers every request with JSON describing it (STS AssumeRole: a credentials XML). */
async function startUpstream(): Promise<{ endpoint: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      seen.push({ method: req.method ?? "", url: req.url ?? "", body });
      if (body.includes("Action=AssumeRole")) {
        const xml =
          "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIASTAGING000000001</AccessKeyId>" +
          "</Credentials><AssumedRoleUser><Arn>arn:aws:sts::111111111111:assumed-role/r/s</Arn></AssumedRoleUser>" +
          "</AssumeRoleResult></AssumeRoleResponse>";
        res.writeHead(200, { "content-type": "text/xml" });
        res.end(xml);
        return;
      }
      const payload = JSON.stringify({ method: req.method, url: req.url, padding: "x".repeat(200) });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(payload);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One signed-looking request (the proxy reads the SigV4 credential scope; nothing verifies signatures). */
function send(
  proxy: AwsProxy,
  method: string,
  path: string,
  options: { key?: string; service?: string; body?: string } = {},
): Promise<Reply> {
  const url = new URL(path, proxy.endpoint);
  const auth = `AWS4-HMAC-SHA256 Credential=${options.key ?? "AKIATARGET0000000001"}/20260101/us-east-1/${options.service ?? "lambda"}/aws4_request, SignedHeaders=host, Signature=00`;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        headers: {
          authorization: auth,
          ...(options.body
            ? {
                "content-type": "application/x-www-form-urlencoded",
                "content-length": Buffer.byteLength(options.body),
              }
            : {}),
        },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", reject);
        res.on("aborted", () => reject(new Error("aborted")));
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

const LIST_ALIASES = "/2015-03-31/functions/team-a-orders/aliases";
const GET_FUNCTION = "/2015-03-31/functions/team-a-orders";

describe("aws-proxy (against a tiny local upstream)", () => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let proxy: AwsProxy | undefined;

  before(async () => {
    upstream = await startUpstream();
  });
  after(() => new Promise<void>((resolve) => upstream.server.close(() => resolve())));
  beforeEach(() => {
    upstream.seen.length = 0;
  });
  afterEach(async () => {
    await proxy?.stop();
    proxy = undefined;
  });

  const start = async (options: Omit<AwsProxyOptions, "upstream"> = {}) => {
    proxy = await startAwsProxy({ upstream: upstream.endpoint, ...options });
    return proxy;
  };

  it("names Lambda operations from method + path, and their quota class", () => {
    expect(lambdaOperation("GET", LIST_ALIASES)).to.equal("ListAliases");
    expect(lambdaOperation("GET", GET_FUNCTION)).to.equal("GetFunction");
    expect(lambdaOperation("PUT", `${LIST_ALIASES}/LIVE`)).to.equal("UpdateAlias");
    expect(lambdaOperation("POST", "/2015-03-31/functions/f/versions")).to.equal("PublishVersion");
    expect(lambdaOperation("PUT", "/2015-03-31/functions/f/code")).to.equal("UpdateFunctionCode");
    expect(lambdaQuotaClass("GetFunction")).to.equal("getFunction");
    expect(lambdaQuotaClass("UpdateAlias")).to.equal("control");
    expect(lambdaQuotaClass("Invoke")).to.equal("invoke");
  });

  it("answers 429 with Retry-After past a class's budget, per account, and forwards nothing then", async () => {
    const p = await start({ quotas: { control: 15, getFunction: 100 }, windowMs: 1000 });
    p.registerAccount("AKIASOURCE0000000001", "111111111111");
    const replies = await Promise.all(Array.from({ length: 20 }, () => send(p, "GET", LIST_ALIASES)));
    const ok = replies.filter((r) => r.status === 200);
    const throttled = replies.filter((r) => r.status === 429);
    expect(ok).to.have.length(15);
    expect(throttled).to.have.length(5);
    expect(throttled[0]!.body).to.equal(THROTTLE_BODY);
    expect(JSON.parse(throttled[0]!.body)).to.deep.equal({
      __type: "TooManyRequestsException",
      message: "Rate exceeded",
      Type: "User",
      Reason: "CallerRateLimitExceeded",
    });
    expect(throttled[0]!.headers).to.include({
      "x-amzn-errortype": "TooManyRequestsException",
      "retry-after": "1",
    });
    expect(upstream.seen).to.have.length(15);

    // GetFunction has its own budget; another account has its own.
    expect((await send(p, "GET", GET_FUNCTION)).status).to.equal(200);
    expect((await send(p, "GET", LIST_ALIASES, { key: "AKIASOURCE0000000001" })).status).to.equal(200);

    const stats = p.stats();
    expect(stats.throttled).to.equal(5);
    expect(stats.perClass).to.deep.equal({ control: 16, getFunction: 1 });
    expect(stats.calls.filter((c) => c.outcome === "throttled").every((c) => c.status === 429)).to.equal(
      true,
    );
    expect(new Set(stats.calls.map((c) => c.account))).to.deep.equal(
      new Set(["123456789012", "111111111111"]),
    );

    // Once the window has passed, calls go through again.
    await new Promise((r) => setTimeout(r, 1050));
    expect((await send(p, "GET", LIST_ALIASES)).status).to.equal(200);
  });

  it("learns the account of keys issued by STS AssumeRole", async () => {
    const p = await start({ quotas: false });
    await send(p, "POST", "/", { service: "sts", body: "Action=AssumeRole&RoleArn=x" });
    await send(p, "GET", LIST_ALIASES, { key: "ASIASTAGING000000001" });
    const [assume, list] = p.stats().calls;
    expect(assume).to.include({ service: "sts", operation: "AssumeRole", account: "123456789012" });
    expect(list).to.include({ service: "lambda", operation: "ListAliases", account: "111111111111" });
  });

  describe("faults", () => {
    const paths = Array.from({ length: 40 }, (_, i) => `/2015-03-31/functions/fn-${i}/aliases`);
    const pattern = async (seed: number): Promise<string[]> => {
      const p = await start({ quotas: false, faults: { rate: 0.5, kinds: ["500", "503", "429"], seed } });
      const replies = await Promise.all(paths.map((path) => send(p, "GET", path)));
      await p.stop();
      proxy = undefined;
      return replies.map((r) => String(r.status));
    };

    it("are deterministic for a seed, whatever the order of the calls", async () => {
      const a = await pattern(7);
      const b = await pattern(7);
      const c = await pattern(8);
      expect(a).to.deep.equal(b);
      expect(a).to.not.deep.equal(c);
      expect(a.filter((s) => s !== "200").length).to.be.within(10, 30);
      expect(new Set(a)).to.deep.equal(new Set(["200", "500", "503", "429"]));
      // The decision depends on the call's identity and occurrence, not on arrival order.
      expect(faultFor({ rate: 0.5, kinds: ["500"], seed: 7 }, "x", 0)).to.equal(
        faultFor({ rate: 0.5, kinds: ["500"], seed: 7 }, "x", 0),
      );
    });

    it("answer 500 / 503 / 429 without forwarding, shaped like the service's errors", async () => {
      const p = await start({ quotas: false, faults: { rate: 1, kinds: ["503"], seed: 1 } });
      const reply = await send(p, "PUT", `${LIST_ALIASES}/LIVE`);
      expect(reply.status).to.equal(503);
      expect(reply.headers["x-amzn-errortype"]).to.equal("ServiceUnavailableException");
      expect(upstream.seen).to.have.length(0);
      expect(p.stats()).to.include({ faults: 1, throttled: 0 });
      expect(p.stats().calls[0]).to.include({ outcome: "fault", fault: "503", operation: "UpdateAlias" });
    });

    it("reset: the call happened upstream, then the connection dies", async () => {
      const p = await start({ quotas: false, faults: { rate: 1, kinds: ["reset"], seed: 1 } });
      const error = await send(p, "PUT", `${LIST_ALIASES}/LIVE`).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error?.message).to.match(/socket hang up|ECONNRESET|aborted/);
      expect(upstream.seen.map((s) => s.method)).to.deep.equal(["PUT"]);
    });

    it("truncate: half the body, then the connection dies", async () => {
      const p = await start({ quotas: false, faults: { rate: 1, kinds: ["truncate"], seed: 1 } });
      const error = await send(p, "GET", LIST_ALIASES).then(
        (r) => new Error(`complete reply ${r.body.length}`),
        (e: Error) => e,
      );
      expect(error.message).to.match(/aborted|ECONNRESET|socket hang up/);
      expect(upstream.seen).to.have.length(1);
    });

    it("slow: forwarded, answered after slowMs", async () => {
      const p = await start({ quotas: false, faults: { rate: 1, kinds: ["slow"], seed: 1, slowMs: 60 } });
      const t0 = performance.now();
      const reply = await send(p, "GET", LIST_ALIASES);
      expect(reply.status).to.equal(200);
      expect(performance.now() - t0).to.be.at.least(55);
    });

    it("only hit the services and operations asked for", async () => {
      const p = await start({
        quotas: false,
        faults: { rate: 1, kinds: ["500"], seed: 1, services: ["lambda"], operations: ["UpdateAlias"] },
      });
      expect((await send(p, "GET", LIST_ALIASES)).status).to.equal(200);
      expect((await send(p, "PUT", `${LIST_ALIASES}/LIVE`)).status).to.equal(500);
      expect(
        (await send(p, "POST", "/", { service: "sts", body: "Action=GetCallerIdentity" })).status,
      ).to.equal(200);
    });
  });

  it("hold: the action happens upstream, the answer never comes back", async () => {
    const heldCalls: ProxyCall[] = [];
    const p = await start({
      quotas: false,
      hooks: {
        beforeResponse: async (call) => {
          if (call.operation !== "UpdateAlias") return "pass";
          heldCalls.push(call);
          return "hold";
        },
      },
    });
    expect((await send(p, "GET", LIST_ALIASES)).status).to.equal(200);
    let settled = false;
    const held = send(p, "PUT", `${LIST_ALIASES}/LIVE`).then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    while (heldCalls.length === 0) await new Promise((r) => setImmediate(r));
    expect(upstream.seen.map((s) => s.method)).to.deep.equal(["GET", "PUT"]);
    expect(heldCalls[0]).to.include({ operation: "UpdateAlias", status: 200, held: true });
    await new Promise((r) => setTimeout(r, 30));
    expect(settled).to.equal(false);
    await p.stop(); // the held connection is cut
    proxy = undefined;
    await held;
    expect(settled).to.equal(true);
  });

  it("reset() clears the stats, the budgets and the fault sequence", async () => {
    const p = await start({ quotas: { control: 2, getFunction: 100 }, windowMs: 60_000 });
    for (let i = 0; i < 3; i++) await send(p, "GET", LIST_ALIASES);
    expect(p.stats()).to.include({ throttled: 1 });
    p.reset();
    expect(p.stats()).to.deep.equal({ perClass: {}, throttled: 0, faults: 0, calls: [] });
    expect((await send(p, "GET", LIST_ALIASES)).status).to.equal(200);
  });
});
