import { execFileSync, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { motoEnv, startMoto } from "./moto.ts";
import { seedScenario, CLI_BUNDLE, describeCalls, mutatingCalls } from "./scenario.ts";
import { PRODUCTION, account, sourceRoleArn } from "./seed.ts";
const moto = await startMoto();
try {
  const sc = await seedScenario(moto);
  const prod = await account(moto, PRODUCTION);
  await moto.resetCalls();
  writeFileSync("/tmp/explore/lambdas.json", sc.lambdasJson);
  const env = { PATH: process.env.PATH!, ...motoEnv(moto), AWS_ACCESS_KEY_ID: prod.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: prod.credentials.secretAccessKey, AWS_SESSION_TOKEN: prod.credentials.sessionToken! };
  const args = (cmd: string, ...rest: string[]) => [CLI_BUNDLE, cmd, "/tmp/explore/lambdas.json", "--allowed-prefix", "team-a-", "--source-role-arn", sourceRoleArn(), ...rest];
  for (const a of [args("plan", "--format", "json"), args("plan"), args("plan", "--format", "markdown"), args("apply", "--format", "json"), args("apply")]) {
    const r = spawnSync("node", a, { env, encoding: "utf8" });
    console.log("=== ", a.slice(1).join(" "), "exit", r.status);
    console.log(r.stdout); console.log("STDERR:", r.stderr);
    console.log(describeCalls(mutatingCalls(await moto.calls())));
    await moto.resetCalls();
  }
  console.log(JSON.stringify(sc.functions.map(f => f.expectedPlan), null, 1));
} finally { await moto.stop(); }
