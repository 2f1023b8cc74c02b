import {
  GetFunctionCommand,
  LambdaClient,
  ListAliasesCommand,
  PublishVersionCommand,
  UpdateAliasCommand,
} from "@aws-sdk/client-lambda";
import { findLive } from "../../../reconciler/observe/live.ts";
import { HttpResponse } from "@smithy/core/protocols";
import { expect } from "chai";
import type { LambdaWriter } from "../../../reconciler/aws/lambda.ts";
import type { AliasState, FunctionState } from "../../../reconciler/observe/state.ts";
import { applyPlan } from "../../../reconciler/apply/apply.ts";
import { ratesOf } from "../../../reconciler/entry/context.ts";
import { runCli } from "../../../reconciler/entry/cli.ts";
import { silentLogger } from "../../../reconciler/core/log.ts";
import { parseUserParameters } from "../../../reconciler/input/parameters.ts";
import { type PlanEntry, planFunction } from "../../../reconciler/plan/plan.ts";
import { spec } from "../../support/fixtures.ts";
import { type Clock, RateScheduler, SchedulerRegistry } from "../../../reconciler/aws/scheduler.ts";
import {
  attachScheduler,
  classifyLambdaCommand,
  SCHEDULER_MIDDLEWARE_NAME,
  throttleRetryAfterMs,
} from "../../../reconciler/aws/scheduler-middleware.ts";
import { TransferBudget, transferWeight } from "../../../reconciler/apply/transfer-budget.ts";

/** A clock whose time only moves when the test says so; timers fire in order, no real sleeping. */
class FakeClock implements Clock {
  private t = 0;
  private seq = 0;
  private timers = new Map<number, { at: number; callback: () => void }>();
  now = () => this.t;
  setTimer = (callback: () => void, ms: number) => {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + ms, callback });
    return id;
  };
  clearTimer = (handle: unknown) => {
    this.timers.delete(handle as number);
  };
  /** Moves time forward by `ms`, firing due timers in order (and letting promise callbacks run). */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      const next = [...this.timers.entries()].sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (!next || next[1].at > end) break;
      this.timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].callback();
    }
    this.t = end;
    await settle();
  }
}

/** Lets pending promise callbacks run (microtasks only: no timers, no sleeping). */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

const limits = (control: number, getFunction = 100) => ({
  control: { rate: control },
  getFunction: { rate: getFunction },
});

/** Issues `count` acquires at once and records when each is granted. */
function requestMany(
  scheduler: RateScheduler,
  clock: FakeClock,
  quotaClass: "control" | "getFunction",
  count: number,
) {
  const grants: number[] = [];
  for (let i = 0; i < count; i++) {
    void scheduler.acquire(quotaClass).then(() => grants.push(clock.now()));
  }
  return grants;
}

/** The most grants in any window of `windowMs` (windows start at a grant). */
function busiestWindow(grants: number[], windowMs: number): number {
  let best = 0;
  for (let i = 0; i < grants.length; i++) {
    let n = 0;
    for (let j = i; j < grants.length && grants[j]! < grants[i]! + windowMs; j++) n++;
    best = Math.max(best, n);
  }
  return best;
}

describe("rate scheduler (fake clock)", () => {
  describe("budgeting", () => {
    it("never grants more than rate*t + burst tokens in t, and keeps up with the rate", async () => {
      const clock = new FakeClock();
      const scheduler = new RateScheduler({ limits: limits(14), clock });
      const grants = requestMany(scheduler, clock, "control", 200);
      await clock.advance(10_000);
      // burst = max(1, 14/10) = 1.4: at most 1.4 + 14 t in any window of t seconds.
      for (const windowMs of [100, 500, 1000, 3000]) {
        expect(busiestWindow(grants, windowMs), `window ${windowMs} ms`).to.be.at.most(
          Math.floor(1.4 + (14 * windowMs) / 1000),
        );
      }
      // ...and does not waste the budget: 1 at once, then 14 per second.
      expect(grants.length).to.be.within(140, 142);
      expect(scheduler.stats().control).to.include({
        calls: 200,
        waiting: 200 - grants.length,
        throttled: 0,
      });
    });

    it("grants at once while the bucket has tokens, first come first served after that", async () => {
      const clock = new FakeClock();
      const scheduler = new RateScheduler({
        limits: { control: { rate: 10, burst: 3 }, getFunction: { rate: 100 } },
        clock,
      });
      const order: number[] = [];
      for (let i = 0; i < 6; i++) void scheduler.acquire("control").then(() => order.push(i));
      await settle();
      expect(order).to.deep.equal([0, 1, 2]);
      await clock.advance(100);
      expect(order).to.deep.equal([0, 1, 2, 3]);
      await clock.advance(200);
      expect(order).to.deep.equal([0, 1, 2, 3, 4, 5]);
    });

    it("budgets each quota class independently", async () => {
      const clock = new FakeClock();
      const scheduler = new RateScheduler({ limits: limits(2, 50), clock });
      const control = requestMany(scheduler, clock, "control", 50);
      const getFunction = requestMany(scheduler, clock, "getFunction", 50);
      await clock.advance(1000);
      expect(control.length).to.equal(3); // 1 at once + 2/s
      expect(getFunction.length).to.equal(50); // 5 at once + 50/s: not held back by control
      scheduler.throttled("control", 5000);
      expect(scheduler.stats().getFunction.rate).to.equal(50);
      let granted = false;
      void scheduler.acquire("getFunction").then(() => {
        granted = true;
      });
      await clock.advance(20);
      expect(granted, "a control throttle does not pause GetFunction").to.equal(true);
    });

    it("shares one scheduler per (account, region) across clients", async () => {
      const clock = new FakeClock();
      const registry = new SchedulerRegistry({ clock });
      const a = registry.get("target", "eu-west-1", { control: 5, getFunction: 50 });
      const b = registry.get("target", "eu-west-1", { control: 5, getFunction: 50 });
      const other = registry.get("111111111111", "eu-west-1", { control: 5, getFunction: 50 });
      const otherRegion = registry.get("target", "us-east-1", { control: 5, getFunction: 50 });
      expect(a).to.equal(b);
      expect(other).to.not.equal(a);
      expect(otherRegion).to.not.equal(a);

      const grants: number[] = [];
      for (let i = 0; i < 20; i++) {
        void (i % 2 ? a : b).acquire("control").then(() => grants.push(clock.now()));
      }
      const elsewhere = requestMany(other, clock, "control", 20);
      await clock.advance(2000);
      expect(grants.length, "two clients together stay within one budget").to.equal(11);
      expect(elsewhere.length, "another account has its own budget").to.equal(11);
    });
  });

  describe("back-off", () => {
    it("pauses the class until Retry-After has passed", async () => {
      const clock = new FakeClock();
      const scheduler = new RateScheduler({ limits: limits(10), clock });
      await scheduler.acquire("control");
      scheduler.throttled("control", 2000);
      const grants = requestMany(scheduler, clock, "control", 3);
      await clock.advance(1999);
      expect(grants).to.deep.equal([]);
      await clock.advance(1001);
      expect(grants.length).to.be.at.least(1);
      expect(grants[0]!).to.be.at.least(2000);
    });

    it("pauses 1 s when the 429 carries no Retry-After", async () => {
      const clock = new FakeClock();
      const scheduler = new RateScheduler({ limits: limits(10), clock });
      scheduler.throttled("control");
      const grants = requestMany(scheduler, clock, "control", 1);
      await clock.advance(999);
      expect(grants).to.deep.equal([]);
      await clock.advance(500);
      expect(grants).to.have.length(1);
    });

    it("lowers the rate multiplicatively once per throttle episode, then recovers additively (slowly near the throttled rate)", async () => {
      const clock = new FakeClock();
      const scheduler = new RateScheduler({ limits: limits(10), clock });
      scheduler.throttled("control", 1000);
      expect(scheduler.stats().control.rate).to.equal(7);
      // More 429s from calls already in flight in the same episode: no further decrease.
      scheduler.throttled("control", 1000);
      await clock.advance(500);
      scheduler.throttled("control", 1000);
      expect(scheduler.stats().control.rate).to.equal(7);
      expect(scheduler.stats().control.throttled).to.equal(3);
      // Paused until 1500 (the last Retry-After); no recovery while paused.
      await clock.advance(1000);
      expect(scheduler.stats().control.rate).to.equal(7);
      // A throttle in a new episode decreases again: 7 * 0.7.
      scheduler.throttled("control", 1000);
      expect(scheduler.stats().control.rate).to.equal(4.9);
      // Paused until 2500; then +1/s (10% of the configured rate per second) up to 90% of the
      // rate last throttled (7 -> 6.3), +0.2/s from there to 110% of it (7.7), +1/s again up to 10.
      await clock.advance(1000);
      expect(scheduler.stats().control.rate).to.equal(4.9);
      await clock.advance(1400);
      expect(scheduler.stats().control.rate).to.equal(6.3);
      await clock.advance(600);
      expect(scheduler.stats().control.rate).to.equal(6.42);
      await clock.advance(6400);
      expect(scheduler.stats().control.rate).to.equal(7.7);
      await clock.advance(1000);
      expect(scheduler.stats().control.rate).to.equal(8.7);
      await clock.advance(10_000);
      expect(scheduler.stats().control.rate).to.equal(10);
    });

    it("spends tokens at the lowered rate after a throttle", async () => {
      const clock = new FakeClock();
      const scheduler = new RateScheduler({
        limits: limits(10),
        clock,
        adaptive: { recoveryPerSecond: 0 },
      });
      scheduler.throttled("control", 0);
      const grants = requestMany(scheduler, clock, "control", 100);
      await clock.advance(10_000);
      expect(grants.length).to.be.within(69, 71); // 7/s
    });

    it("never drops below the floor (10% of the configured rate)", async () => {
      const clock = new FakeClock();
      const scheduler = new RateScheduler({ limits: limits(10), clock, adaptive: { recoveryPerSecond: 0 } });
      for (let i = 0; i < 20; i++) {
        scheduler.throttled("control", 0);
        await clock.advance(1000);
      }
      expect(scheduler.stats().control.rate).to.equal(1);
    });

    it("reads Retry-After (seconds or a date) and x-amz-retry-after from throttling errors", () => {
      const throttle = (headers: Record<string, string>, extra: Record<string, unknown> = {}) => ({
        name: "TooManyRequestsException",
        $metadata: { httpStatusCode: 429 },
        $response: { headers },
        ...extra,
      });
      expect(throttleRetryAfterMs(throttle({ "retry-after": "1" }))).to.equal(1000);
      expect(throttleRetryAfterMs(throttle({ "Retry-After": "2.5" }))).to.equal(2500);
      expect(throttleRetryAfterMs(throttle({ "x-amz-retry-after": "750" }))).to.equal(750);
      const now = Date.parse("2026-01-01T00:00:00Z");
      expect(
        throttleRetryAfterMs(throttle({ "retry-after": "Thu, 01 Jan 2026 00:00:03 GMT" }), now),
      ).to.equal(3000);
      expect(throttleRetryAfterMs(throttle({}, { retryAfterSeconds: "4" }))).to.equal(4000);
      expect(throttleRetryAfterMs(throttle({}))).to.equal(null);
      expect(
        throttleRetryAfterMs({ name: "ThrottlingException", $metadata: { httpStatusCode: 400 } }),
      ).to.equal(null);
      expect(throttleRetryAfterMs({ name: "ResourceConflictException", $metadata: { httpStatusCode: 409 } }))
        .to.be.undefined;
      expect(throttleRetryAfterMs(new Error("socket hang up"))).to.be.undefined;
    });
  });

  describe("SDK middleware", () => {
    type Answer = { status: number; body: string; headers?: Record<string, string> };

    /** A real LambdaClient whose HTTP layer answers from `answers`; SDK retries have no delay. */
    function stubClient(answers: Answer[], maxAttempts = 3) {
      const seen: string[] = [];
      const client = new LambdaClient({
        region: "eu-west-1",
        credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "secret" },
        maxAttempts,
        retryStrategy: {
          acquireInitialRetryToken: async () => token(0),
          refreshRetryTokenForRetry: async (t: { getRetryCount(): number }, info: { error?: unknown }) => {
            if (t.getRetryCount() + 1 >= maxAttempts) throw info.error;
            return token(t.getRetryCount() + 1);
          },
          recordSuccess: () => {},
        },
        requestHandler: {
          handle: async (request: { method: string; path: string; headers: Record<string, string> }) => {
            seen.push(`${request.method} ${request.path} signed=${"authorization" in request.headers}`);
            const a = answers.shift() ?? { status: 200, body: "{}" };
            return {
              response: new HttpResponse({
                statusCode: a.status,
                headers: { "content-type": "application/json", ...a.headers },
                body: Buffer.from(a.body),
              }),
            };
          },
        },
      });
      return { client, seen };
    }
    const token = (count: number) => ({
      getRetryCount: () => count,
      getRetryDelay: () => 0,
      getRetryCost: () => 0,
    });
    const ok = (body = "{}"): Answer => ({ status: 200, body });
    const throttle: Answer = {
      status: 429,
      headers: { "x-amzn-errortype": "TooManyRequestsException", "retry-after": "1" },
      body: JSON.stringify({ __type: "TooManyRequestsException", message: "Rate exceeded", Type: "User" }),
    };
    const serverError: Answer = {
      status: 500,
      headers: { "x-amzn-errortype": "ServiceException" },
      body: JSON.stringify({ __type: "ServiceException", message: "boom" }),
    };

    it("classifies GetFunction apart from every other Lambda command", () => {
      expect(classifyLambdaCommand("GetFunctionCommand")).to.equal("getFunction");
      for (const name of [
        "ListAliasesCommand",
        "GetAliasCommand",
        "UpdateAliasCommand",
        "PublishVersionCommand",
      ]) {
        expect(classifyLambdaCommand(name), name).to.equal("control");
      }
    });

    it("sits inside the retry loop, before signing", () => {
      const { client } = stubClient([]);
      attachScheduler(client, new RateScheduler({ limits: limits(14), clock: new FakeClock() }));
      const names = client.middlewareStack.identify().map((m) => m.split(" ")[0]);
      const at = (name: string) => names.indexOf(name);
      expect(names).to.include(SCHEDULER_MIDDLEWARE_NAME);
      expect(at(SCHEDULER_MIDDLEWARE_NAME)).to.equal(at("retryMiddleware") + 1);
      expect(at("httpSigningMiddleware")).to.equal(at(SCHEDULER_MIDDLEWARE_NAME) + 1);
    });

    it("takes a token per attempt, per class, and counts them", async () => {
      const clock = new FakeClock();
      const scheduler = new RateScheduler({ limits: limits(100, 100), clock });
      const { client, seen } = stubClient([
        ok('{"Configuration":{"Version":"$LATEST"}}'),
        ok('{"Aliases":[]}'),
        serverError,
        serverError,
        ok('{"Name":"LIVE","FunctionVersion":"2"}'),
      ]);
      const perClient: string[] = [];
      attachScheduler(client, scheduler, { onAttempt: (c, name) => perClient.push(`${c}:${name}`) });
      await client.send(new GetFunctionCommand({ FunctionName: "f" }));
      await client.send(new ListAliasesCommand({ FunctionName: "f" }));
      const out = await client.send(
        new UpdateAliasCommand({ FunctionName: "f", Name: "LIVE", FunctionVersion: "2", RevisionId: "r" }),
      );
      expect(out.$metadata.attempts).to.equal(3);
      expect(seen).to.have.length(5);
      expect(seen.every((s) => s.endsWith("signed=true"))).to.equal(true);
      const stats = scheduler.stats();
      expect(stats.getFunction.calls).to.equal(1);
      expect(stats.control.calls).to.equal(4); // ListAliases + 3 attempts of UpdateAlias
      expect(perClient).to.deep.equal([
        "getFunction:GetFunctionCommand",
        "control:ListAliasesCommand",
        "control:UpdateAliasCommand",
        "control:UpdateAliasCommand",
        "control:UpdateAliasCommand",
      ]);
    });

    it("feeds a 429 back: counted, the class paused for Retry-After, the rate lowered", async () => {
      const clock = new FakeClock();
      const scheduler = new RateScheduler({ limits: limits(10), clock });
      const { client } = stubClient([throttle], 1);
      const throttles: (number | null)[] = [];
      attachScheduler(client, scheduler, { onThrottle: (_c, ms) => throttles.push(ms) });
      const error = await client.send(new PublishVersionCommand({ FunctionName: "f" })).then(
        () => undefined,
        (e: unknown) => e as { name: string },
      );
      expect(error?.name).to.equal("TooManyRequestsException");
      expect(throttles).to.deep.equal([1000]);
      expect(scheduler.stats().control).to.include({ calls: 1, throttled: 1, rate: 7 });
      const next = requestMany(scheduler, clock, "control", 1);
      await clock.advance(999);
      expect(next, "paused until Retry-After has passed").to.deep.equal([]);
      await clock.advance(200);
      expect(next).to.have.length(1);
    });

    it("waits for a token before the request goes out", async () => {
      const clock = new FakeClock();
      const scheduler = new RateScheduler({ limits: limits(1), clock });
      const { client, seen } = stubClient([ok('{"Aliases":[]}'), ok('{"Aliases":[]}')]);
      attachScheduler(client, scheduler);
      await client.send(new ListAliasesCommand({ FunctionName: "a" }));
      let done = false;
      void client.send(new ListAliasesCommand({ FunctionName: "b" })).then(() => {
        done = true;
      });
      await clock.advance(900);
      expect(seen).to.have.length(1);
      await clock.advance(100);
      await new Promise((r) => setImmediate(r)); // the stub handler's own promise chain
      expect(seen).to.have.length(2);
      expect(done).to.equal(true);
    });
  });
});

describe("transfer byte budget", () => {
  const deferred = () => {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => {
      resolve = r;
    });
    return { promise, resolve };
  };

  it("never has more bytes in flight than the budget", async () => {
    const budget = new TransferBudget(100);
    let inFlight = 0;
    let peak = 0;
    const gates = Array.from({ length: 8 }, deferred);
    const sizes = [40, 30, 50, 20, 60, 10, 40, 30];
    const runs = sizes.map((size, i) =>
      budget.run(size, async () => {
        inFlight += size;
        peak = Math.max(peak, inFlight);
        await gates[i]!.promise;
        inFlight -= size;
      }),
    );
    await settle();
    expect(inFlight).to.equal(70); // 40 + 30; 50 would exceed 100
    for (const gate of gates) {
      gate.resolve();
      await settle();
      expect(inFlight).to.be.at.most(100);
    }
    await Promise.all(runs);
    expect(peak).to.be.at.most(100);
    expect(budget.stats()).to.include({ inFlightBytes: 0, inFlight: 0, waiting: 0 });
  });

  it("lets a transfer larger than the whole budget proceed, alone", async () => {
    const budget = new TransferBudget(100);
    const small = deferred();
    const big = deferred();
    const log: string[] = [];
    const first = budget.run(30, async () => {
      log.push("small start");
      await small.promise;
      log.push("small end");
    });
    const second = budget.run(250, async () => {
      log.push("big start");
      await big.promise;
      log.push("big end");
    });
    const third = budget.run(10, async () => {
      log.push("tiny");
    });
    await settle();
    expect(log).to.deep.equal(["small start"]); // big waits for the small one; tiny queues behind big
    small.resolve();
    await settle();
    expect(log).to.deep.equal(["small start", "small end", "big start"]);
    expect(budget.stats().inFlightBytes).to.equal(250);
    big.resolve();
    await Promise.all([first, second, third]);
    expect(log).to.deep.equal(["small start", "small end", "big start", "big end", "tiny"]);
  });

  it("releases the bytes when the transfer fails", async () => {
    const budget = new TransferBudget(100);
    await budget.run(80, async () => Promise.reject(new Error("download failed"))).catch(() => undefined);
    expect(budget.stats().inFlightBytes).to.equal(0);
    await budget.run(80, async () => undefined);
  });

  it("bounds the packages held between download and upload across concurrent promotions", async () => {
    const MiB = 1024 * 1024;
    const SHA = "c3JjLXNoYQ==";
    const fn = (o: Partial<FunctionState> = {}): FunctionState => ({
      functionVersion: "$LATEST",
      packageType: "Zip",
      codeSha256: SHA,
      codeSize: 10 * MiB,
      runtime: "nodejs22.x",
      handler: "index.handler",
      architectures: ["x86_64"],
      role: "arn:aws:iam::222222222222:role/exec",
      deadLetterTargetArn: undefined,
      revisionId: "rev",
      state: "Active",
      lastUpdateStatus: "Successful",
      lastUpdateStatusReason: undefined,
      codeLocation: "https://code.example/pkg",
      ...o,
    });
    const alias = (name: string, functionVersion: string): AliasState => ({
      name,
      functionVersion,
      weights: {},
      revisionId: "r",
      description: "",
    });
    let held = 0;
    let peak = 0;
    const target: LambdaWriter = {
      listAliases: async () => [],
      listEventSourceMappings: async () => [],
      listProvisionedConcurrency: async () => [],
      getFunction: async () => fn(),
      getAlias: async (_name, a) => alias(a, "2"),
      getCodeSigning: async () => undefined,
      getProvisionedConcurrency: async () => undefined,
      updateFunctionCode: async () => {
        await new Promise((r) => setImmediate(r));
        held -= 1; // uploaded: the bytes are let go
        return fn({ lastUpdateStatus: "InProgress" });
      },
      updateFunctionConfiguration: async () => fn(),
      publishVersion: async () => fn({ functionVersion: "2" }),
      createAlias: async (_name, a) => alias(a, "2"),
      updateAlias: async (_name, a) => alias(a, "2"),
      listVersions: async () => [],
      deleteAlias: async () => "deleted",
      deleteVersion: async () => ({ kind: "deleted" }),
      invoke: async () => ({ ok: true, statusCode: 200, executedVersion: "2" }),
    };
    const entry = (name: string): PlanEntry =>
      planFunction(spec(name, "1.1.0"), {
        kind: "observed",
        live: findLive([alias("LIVE", "1")], "LIVE"),
        aliases: [alias("1-0-0", "1"), alias("LIVE", "1")],
        versions: {
          "1.1.0": {
            where: "source",
            sourceAccount: "111111111111",
            source: fn({ functionVersion: "1", codeSize: 10 * MiB }),
          },
        },
        latest: fn({ revisionId: "latest", codeSha256: "b2xk" }),
      });
    const budget = new TransferBudget(100 * MiB); // a 10 MiB package weighs 40 MiB: two at a time
    const report = await applyPlan(
      { liveAlias: "LIVE", entries: Array.from({ length: 8 }, (_, i) => entry(`team-a-${i}`)) },
      {
        target,
        source: { reader: target, accountId: "111111111111" },
        liveAlias: "LIVE",
        concurrency: 8,
        download: async () => {
          held += 1;
          peak = Math.max(peak, held);
          await new Promise((r) => setImmediate(r));
          return { ok: true, bytes: new Uint8Array(4) };
        },
        replan: async () => {
          throw new Error("no re-plan expected");
        },
        logger: silentLogger,
        wait: { minDelay: 0.001, maxDelay: 0.002, maxWaitTime: 5 },
        transfer: budget,
      },
    );
    expect(report.results.map((r) => r.status)).to.deep.equal(Array(8).fill("applied"));
    expect(peak).to.equal(2);
    expect(budget.stats()).to.include({ peakInFlightBytes: 80 * MiB, inFlightBytes: 0 });
  });

  it("weighs a transfer by the memory it holds, not only the package size", () => {
    expect(transferWeight(40 * 1024 * 1024)).to.be.greaterThan(40 * 1024 * 1024 * 3);
  });
});

describe("rate and transfer settings", () => {
  it("come from UserParameters, with defaults under the AWS quotas", () => {
    const set = parseUserParameters(
      '{"allowedPrefixes":["team-a-"],"controlRate":10,"getFunctionRate":50.5,"transferBudgetMiB":128}',
    );
    expect(set.ok && set.parameters).to.include({
      controlRate: 10,
      getFunctionRate: 50.5,
      transferBudgetMiB: 128,
    });
    expect(set.ok && ratesOf(set.parameters)).to.deep.equal({ control: 10, getFunction: 50.5 });
    const unset = parseUserParameters('{"allowedPrefixes":["team-a-"]}');
    expect(unset.ok && ratesOf(unset.parameters)).to.deep.equal({ control: 14, getFunction: 90 });
  });

  it("refuse rates above the AWS quotas and non-positive values", () => {
    const problems = (text: string) => {
      const r = parseUserParameters(text);
      return r.ok ? [] : r.problems.map((p) => p.path);
    };
    expect(problems('{"allowedPrefixes":["a-"],"controlRate":16}')).to.deep.equal(["controlRate"]);
    expect(problems('{"allowedPrefixes":["a-"],"getFunctionRate":101}')).to.deep.equal(["getFunctionRate"]);
    expect(problems('{"allowedPrefixes":["a-"],"controlRate":0}')).to.deep.equal(["controlRate"]);
    expect(problems('{"allowedPrefixes":["a-"],"transferBudgetMiB":0.5}')).to.deep.equal([
      "transferBudgetMiB",
    ]);
  });

  it("are CLI flags too, reported under the flag's name", async () => {
    let stderr = "";
    const code = await runCli(
      [
        "plan",
        "missing.json",
        "--allowed-prefix",
        "team-a-",
        "--control-rate",
        "20",
        "--transfer-budget-mib",
        "x",
      ],
      { stdout: () => {}, stderr: (t) => (stderr += t), env: {} },
    );
    expect(code).to.equal(1);
    expect(stderr).to.match(/command line: --control-rate: /);
    expect(stderr).to.match(/command line: --transfer-budget-mib: /);
  });
});
