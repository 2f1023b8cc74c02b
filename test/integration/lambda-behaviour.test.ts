/**
 * The reconciler against Lambda as it really behaves, emulated by the launcher (concern 8 of
 * test/support/moto_launcher.py): after each update `$LATEST` stays InProgress for a second and a
 * second write meanwhile gets ResourceConflictException; a function on a deprecated runtime refuses
 * UpdateFunctionCode. A target on nodejs12.x is promoted to a nodejs22.x build: the configuration
 * moves first, then the code; one run converges, the next writes nothing.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetFunctionCommand } from "@aws-sdk/client-lambda";
import { expect } from "chai";
import { type MotoServer, startMoto } from "../support/moto.ts";
import {
  type ChildResult,
  describeCalls,
  ensureBuilt,
  mutatingCalls,
  readAlias,
  reconcilerEnv,
  runCli,
} from "../support/scenario.ts";
import { account, type AccountWorld, PRODUCTION, STAGING, seedFunction, sourceRoleArn } from "../support/seed.ts";

const NAME = "team-a-legacy";

describe("Lambda's update window and a deprecated-runtime target (launcher-taught behaviour)", function () {
  this.timeout(120_000);
  let moto: MotoServer;
  let dir: string;
  let staging: AccountWorld;
  let production: AccountWorld;
  let stagingSha: string;
  let env: Record<string, string>;
  const runs: ChildResult[] = [];
  const writes: string[][] = [];

  before(async function () {
    this.timeout(200_000);
    dir = await mkdtemp(join(tmpdir(), "lambda-gitops-behaviour-"));
    [moto] = await Promise.all([startMoto(), ensureBuilt()]);
    staging = await account(moto, STAGING);
    production = await account(moto, PRODUCTION);
    const seeded = await seedFunction(staging, {
      name: NAME,
      runtime: "nodejs22.x",
      handler: "main.handler",
      versions: [{ version: "1.1.0" }],
      live: "1.1.0",
    });
    stagingSha = seeded.versions["1.1.0"]!.codeSha256;
    await seedFunction(production, { name: NAME, runtime: "nodejs12.x", versions: [{ version: "1.0.0" }], live: "1.0.0" });
    await writeFile(join(dir, "lambdas.json"), JSON.stringify({ lambdas: [{ name: NAME, version: "1.1.0" }] }));
    // Seeded as it was; from now on Lambda behaves as in AWS.
    await moto.lambdaBehaviour({ updateWindowSeconds: 1, deprecatedRuntimes: ["nodejs12.x", "python3.6"] });
    env = reconcilerEnv(moto, production.credentials);
    for (let i = 0; i < 2; i++) {
      await moto.resetCalls();
      runs.push(
        await runCli(["apply", "lambdas.json", "--auto-approve", "--allowed-prefix", "team-a-", "--source-role-arn", sourceRoleArn(STAGING)], {
          env,
          cwd: dir,
        }),
      );
      writes.push(describeCalls(mutatingCalls(await moto.calls())));
    }
  });

  after(async () => {
    await moto?.lambdaBehaviour({});
    staging?.lambda.destroy();
    production?.lambda.destroy();
    await moto?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const explain = (run: ChildResult | undefined) => `exit ${run?.code}\nstdout:\n${run?.stdout}\nstderr:\n${run?.stderr}`;

  it("converges in one run: configuration first, then the code, then publish and LIVE", async () => {
    expect(runs[0]?.code, explain(runs[0])).to.equal(0);
    const operations = writes[0]!.map((w) => w.split(" ")[1]);
    expect(operations).to.deep.equal([
      "lambda:UpdateFunctionConfiguration",
      "lambda:UpdateFunctionCode",
      "lambda:PublishVersion",
      "lambda:CreateAlias",
      "lambda:UpdateAlias",
    ]);
    const live = await readAlias(production, NAME, "LIVE");
    const behind = await production.lambda.send(new GetFunctionCommand({ FunctionName: NAME, Qualifier: "LIVE" }));
    expect(behind.Configuration?.Version).to.equal(live?.functionVersion);
    expect(behind.Configuration?.Runtime).to.equal("nodejs22.x");
    expect(behind.Configuration?.Handler).to.equal("main.handler");
    expect(behind.Configuration?.CodeSha256).to.equal(stagingSha);
  });

  it("the next run writes nothing", () => {
    expect(runs[1]?.code, explain(runs[1])).to.equal(0);
    expect(writes[1]).to.deep.equal([]);
  });
});
