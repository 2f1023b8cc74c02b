/**
 * `npm run demo`: lambda-gitops end to end on this machine, no AWS account needed.
 *
 * Starts moto (a local AWS emulator) with two accounts, "staging" and "production", seeds a few
 * functions, commits a lambdas.json into a CodePipeline source artifact in S3, and invokes the real
 * built handler (dist/handler.mjs) with a real CodePipeline job event, as the pipeline would. Then it
 * shows, per function, what happened (the handler's plan, LIVE read back before and after, the job
 * result it reported), and runs the same commit again to show that nothing changes the second time.
 *
 * Needs python3 with moto: pip install "moto[server]".
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ListAliasesCommand, ResourceNotFoundException } from "@aws-sdk/client-lambda";
import { cloudWatchFor, putAlarm, setAlarm } from "../test/support/alarms.ts";
import { MotoMissingError, type MotoServer, startMoto, stopSharedMoto } from "../test/support/moto.ts";
import {
  ALLOWED_PREFIX,
  startPipelineJob,
  createArtifactBucket,
  DEMO_CASES,
  downloadCode,
  ensureBuilt,
  type HandlerRun,
  invokeHandler,
  lambdasJsonOf,
  mutatingCalls,
  putSourceArtifact,
  reconcilerEnv,
  repositoryFiles,
  runCli,
  type Scenario,
  seedScenario,
  sha256Hex,
} from "../test/support/scenario.ts";
import {
  type AccountWorld,
  assumeInto,
  type Credentials,
  PRODUCTION,
  STAGING,
  seedFunction,
  versionAlias,
  zipOf,
} from "../test/support/seed.ts";
import { DEADLINE_RESERVE_MS } from "../reconciler/entry/handler.ts";

const BUCKET = `codepipeline-us-east-1-${PRODUCTION}`;
const out = (line = "") => process.stdout.write(`${line}\n`);

function heading(title: string): void {
  out();
  out(title);
  out("-".repeat(title.length));
}

/** A plain-text table, indented by two spaces; the last column is not padded. */
function table(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    `  ${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("   ")}`.trimEnd();
  out(line(header));
  for (const row of rows) out(line(row));
}

/** "1.1.0" from the alias "1-1-0" (and "1.0.0-rc.1" from "1-0-0_rc-1"); null for LIVE and others. */
function semverOfAlias(alias: string): string | null {
  const version = alias.replaceAll("-", ".").replaceAll("_", "-");
  return /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version) && versionAlias(version) === alias
    ? version
    : null;
}

interface FunctionView {
  versions: string[];
  live: { functionVersion: string; semver: string | null; weights: Record<string, number> } | null;
}

/** The version aliases of a function and where LIVE points; null when the function does not exist. */
async function look(world: AccountWorld, name: string): Promise<FunctionView | null> {
  let aliases: {
    Name?: string;
    FunctionVersion?: string;
    RoutingConfig?: { AdditionalVersionWeights?: Record<string, number> };
  }[];
  try {
    aliases = (await world.lambda.send(new ListAliasesCommand({ FunctionName: name }))).Aliases ?? [];
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return null;
    throw error;
  }
  const versions = aliases.flatMap((a) => {
    const v = semverOfAlias(a.Name ?? "");
    return v ? [{ version: v, functionVersion: a.FunctionVersion ?? "" }] : [];
  });
  const live = aliases.find((a) => a.Name === "LIVE");
  return {
    versions: versions.map((v) => v.version).sort((a, b) => a.localeCompare(b, "en", { numeric: true })),
    live: live
      ? {
          functionVersion: live.FunctionVersion ?? "",
          semver: versions.find((v) => v.functionVersion === live.FunctionVersion)?.version ?? null,
          weights: live.RoutingConfig?.AdditionalVersionWeights ?? {},
        }
      : null,
  };
}

function describeLive(view: FunctionView | null): string {
  if (!view) return "(no function)";
  if (!view.live) return "(no LIVE)";
  const { semver, functionVersion } = view.live;
  return semver ? `${semver} (v${functionVersion})` : `v${functionVersion}`;
}

async function lookAll(scenario: Scenario, world: AccountWorld): Promise<Map<string, FunctionView | null>> {
  const views = new Map<string, FunctionView | null>();
  for (const f of scenario.functions) views.set(f.name, await look(world, f.name));
  return views;
}

/** "UpdateAlias x2, PublishVersion" */
function countOperations(operations: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const op of operations) counts.set(op, (counts.get(op) ?? 0) + 1);
  return [...counts].map(([op, n]) => (n > 1 ? `${op} x${n}` : op)).join(", ");
}

interface RunInput {
  title: string;
  intro: string[];
  scenario: Scenario;
  /** Function names in this commit. */
  names: string[];
  objectKey: string;
  revision: string;
  artifactCredentials: Credentials;
}

async function pipelineRun(moto: MotoServer, input: RunInput): Promise<HandlerRun> {
  const { scenario } = input;
  const before = await lookAll(scenario, scenario.production);
  // The handler trusts only CodePipeline's record of the job (GetJobDetails): start it there.
  const event = await startPipelineJob(moto, {
    jobId: crypto.randomUUID(),
    accountId: PRODUCTION,
    bucket: BUCKET,
    objectKey: input.objectKey,
    artifactCredentials: input.artifactCredentials,
    revision: input.revision,
  });
  heading(input.title);
  for (const line of input.intro) out(line);
  const job = event["CodePipeline.job"] as { id: string };
  out(`CodePipeline job ${job.id} reads s3://${BUCKET}/${input.objectKey} (commit ${input.revision}).`);
  out();

  const run = await invokeHandler(moto, event, scenario.production.credentials);
  if (run.code !== 0) {
    out(`The handler crashed (exit ${run.code}):`);
    out(run.stderr || run.stdout);
    throw new Error("handler failed");
  }
  const after = await lookAll(scenario, scenario.production);

  const planned = new Map(
    run.logs.filter((l) => l.message === "planned").map((l) => [String(l.function), l]),
  );
  const failures = new Map(
    run.logs.filter((l) => l.message === "failed" || l.message === "blocked").map((l) => [String(l.function), l]),
  );
  const rows = input.names.map((name) => {
    const f = scenario.functions.find((x) => x.name === name)!;
    const action = String(planned.get(name)?.action ?? "");
    const nowLive = after.get(name)?.live;
    const failure = failures.get(name);
    let what: string;
    if (failure) what = `refused: ${String(failure.error)}`;
    else if (action === "noop") what = "nothing to do: already live";
    else if (action === "rollback")
      what = `rolled back: LIVE moved to ${f.desired.version}, which production still had`;
    else if (action === "rollforward")
      what = `rolled forward: LIVE moved to ${f.desired.version}, already in production`;
    else if (action === "create")
      what = `created LIVE on ${f.desired.version}, already in production`;
    else if (action === "promote")
      what = `promoted: copied ${f.desired.version} from staging, published it as v${nowLive?.functionVersion}, moved LIVE`;
    else what = "not planned (see the job result)";
    return [
      name,
      f.desired.version,
      describeLive(before.get(name) ?? null),
      describeLive(after.get(name) ?? null),
      what,
    ];
  });
  table(["FUNCTION", "WANTS", "LIVE BEFORE", "LIVE AFTER", "WHAT HAPPENED"], rows);

  out();
  const result = run.jobResults[0];
  if (run.jobResults.length !== 1 || !result) {
    out(`Unexpected: the handler reported ${run.jobResults.length} job results.`);
    throw new Error("expected exactly one job result");
  }
  if (result.operation === "PutJobSuccessResult") {
    const details = result.body.executionDetails as { summary?: string } | undefined;
    const variables = Object.entries(
      (result.body.outputVariables as Record<string, string> | undefined) ?? {},
    );
    out("Job result reported to CodePipeline: SUCCEEDED");
    out(`  summary:          ${details?.summary ?? ""}`);
    out(
      `  output variables: ${variables.length > 0 ? variables.map(([k, v]) => `${k}=${v}`).join(", ") : "(none: nothing changed)"}`,
    );
  } else {
    const details = result.body.failureDetails as { message?: string } | undefined;
    out("Job result reported to CodePipeline: FAILED (the pipeline stops here)");
    out(`  message: ${details?.message ?? ""}`);
  }

  const writes = mutatingCalls(run.calls);
  const stagingReads = run.calls.filter((c) => c.account === STAGING && c.service === "lambda");
  if (writes.length === 0) {
    out("Changes made: none. Not a single write call reached AWS.");
  } else {
    const where = [...new Set(writes.map((c) => (c.account === PRODUCTION ? "production" : c.account)))].join(
      ", ",
    );
    out(
      `Changes made: ${writes.length} write calls, all in ${where}: ${countOperations(writes.map((c) => c.operation))}.`,
    );
  }
  if (stagingReads.length > 0) {
    out(
      `Staging was only read, through the source role: ${countOperations(stagingReads.map((c) => c.operation))}.`,
    );
  }
  return run;
}

/**
 * From a zip to production: the build publishes a new version into staging with
 * `lambda-gitops publish` (twice: the second run changes nothing), then a commit asks for it and the
 * pipeline promotes those exact bytes. Returns whether everything went as described.
 */
async function fromZip(moto: MotoServer, scenario: Scenario, input: Omit<RunInput, "title" | "intro" | "scenario" | "names" | "objectKey" | "revision">): Promise<boolean> {
  const target = scenario.byKind("promote");
  const version = "1.2.0";
  const dir = await mkdtemp(join(tmpdir(), "lambda-gitops-demo-"));
  try {
    const zip = join(dir, "invoices.zip");
    await writeFile(
      zip,
      zipOf({ "index.js": `exports.handler = async () => ({ statusCode: 200, body: "${target.name} ${version}, built by CI" });\n` }),
    );
    heading(`Run 4: from a zip to production (${target.name} ${version})`);
    out("A build produced invoices.zip. It publishes it into staging, the lowest account, with staging's credentials:");
    const args = ["publish", "--function", target.name, "--version", version, "--zip", zip, "--allowed-prefix", ALLOWED_PREFIX];
    out(`  lambda-gitops ${args.slice(0, 5).join(" ")} --zip invoices.zip --allowed-prefix ${ALLOWED_PREFIX} --description "commit 789abc" --format json`);
    const env = reconcilerEnv(moto, scenario.staging.credentials);
    const first = await runCli([...args, "--description", "commit 789abc", "--format", "json"], { env });
    for (const line of first.stdout.trimEnd().split("\n")) out(`  ${line}`);
    await moto.resetCalls();
    const again = await runCli(args, { env });
    const againWrites = mutatingCalls(await moto.calls());
    out(`The same publish again: ${again.stdout.trim().split("\n")[0]} (${againWrites.length} write calls).`);

    const definition = lambdasJsonOf([{ name: target.name, desired: { version } }]);
    await putSourceArtifact(scenario.production, BUCKET, "pipeline/SourceOutput/Pub789z", repositoryFiles(definition));
    const shown = { ...scenario, functions: scenario.functions.map((f) => (f.name === target.name ? { ...f, desired: { version } } : f)) };
    const run = await pipelineRun(moto, {
      ...input,
      scenario: shown,
      names: [target.name],
      title: `Then a commit asks for ${target.name} ${version} in production`,
      intro: [],
      objectKey: "pipeline/SourceOutput/Pub789z",
      revision: "789abc",
    });
    const published = await downloadCode(scenario.staging, target.name, versionAlias(version));
    const live = await downloadCode(scenario.production, target.name, "LIVE");
    const same = sha256Hex(published.bytes) === sha256Hex(live.bytes);
    out(
      `Code check: production's LIVE ${target.name} is ${same ? "byte for byte" : "NOT"} the zip published in staging (sha256 ${sha256Hex(live.bytes).slice(0, 16)}...).`,
    );
    return (
      first.code === 0 &&
      again.code === 0 &&
      againWrites.length === 0 &&
      run.jobResults[0]?.operation === "PutJobSuccessResult" &&
      same
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  // The SDK's documented opt-out of its "Node 20 support ends in 2027" notice, which would open the demo.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  await ensureBuilt();
  let moto: MotoServer;
  try {
    moto = await startMoto();
  } catch (error) {
    if (!(error instanceof MotoMissingError)) throw error;
    process.stderr.write(
      [
        "The demo needs moto, a local AWS emulator for Python, and it could not be started:",
        ...error.message.split("\n").map((line) => `  ${line}`),
        "",
        "Install it with:",
        "",
        '  pip install "moto[server]"',
        "",
        "then run `npm run demo` again.",
        "",
      ].join("\n"),
    );
    return 1;
  }

  let scenario: Scenario | undefined;
  try {
    scenario = await seedScenario(moto, DEMO_CASES);
    const artifactCredentials = await assumeInto(moto, PRODUCTION, "codepipeline-artifact-access");
    await createArtifactBucket(scenario.production, BUCKET);
    const deployable = scenario.functions.filter((f) => f.expectedPlan.action !== "blocked");
    await putSourceArtifact(
      scenario.production,
      BUCKET,
      "pipeline/SourceOutput/AbC12xy",
      repositoryFiles(scenario.convergentJson),
    );
    await putSourceArtifact(
      scenario.production,
      BUCKET,
      "pipeline/SourceOutput/Zz91kQe",
      repositoryFiles(scenario.lambdasJson),
    );

    out("lambda-gitops demo");
    out("==================");
    out("lambdas.json, committed in git, says which version of each Lambda function should be LIVE.");
    out("A CodePipeline action runs the reconciler, which makes production match the file:");
    out("it moves the LIVE alias, or first copies a version's code over from staging.");
    out();
    out(`Two pretend AWS accounts, run on this machine by moto (${moto.endpoint}):`);
    table(
      ["ACCOUNT", "ID", "ROLE"],
      [
        ["staging", STAGING, "where versions are built and tested; the reconciler only reads it"],
        ["production", PRODUCTION, "where the pipeline deploys; the reconciler runs here"],
      ],
    );
    out(`Only functions starting with "${ALLOWED_PREFIX}" may be touched (the pipeline's allowed prefix).`);

    heading("Before the pipeline runs");
    const inStaging = await lookAll(scenario, scenario.staging);
    const inProduction = await lookAll(scenario, scenario.production);
    table(
      ["FUNCTION", "VERSIONS IN STAGING", "VERSIONS IN PRODUCTION", "LIVE IN PRODUCTION"],
      scenario.functions.map((f) => [
        f.name,
        inStaging.get(f.name)?.versions.join(", ") || "-",
        inProduction.get(f.name)?.versions.join(", ") || "-",
        describeLive(inProduction.get(f.name) ?? null),
      ]),
    );

    heading("The commit: lambdas.json");
    for (const line of scenario.convergentJson.trimEnd().split("\n")) out(`  ${line}`);

    const deployableNames = deployable.map((f) => f.name);
    const common = { scenario, artifactCredentials, names: deployableNames };
    const first = await pipelineRun(moto, {
      ...common,
      title: "Run 1: the pipeline deploys the commit",
      intro: [],
      objectKey: "pipeline/SourceOutput/AbC12xy",
      revision: "abc123",
    });

    const promoted = scenario.byKind("promote");
    const alias = versionAlias(promoted.desired.version);
    const fromStaging = await downloadCode(scenario.staging, promoted.name, alias);
    const inProd = await downloadCode(scenario.production, promoted.name, "LIVE");
    const same = sha256Hex(fromStaging.bytes) === sha256Hex(inProd.bytes);
    out(
      `Code check: ${promoted.name} ${promoted.desired.version} in production is ${same ? "byte for byte" : "NOT"} the build from staging (sha256 ${sha256Hex(inProd.bytes).slice(0, 16)}...).`,
    );

    const second = await pipelineRun(moto, {
      ...common,
      title: "Run 2: the same commit again",
      intro: ["Pipelines re-run (retries, new commits to other files). A second run must change nothing."],
      objectKey: "pipeline/SourceOutput/AbC12xy",
      revision: "abc123",
    });

    const blocked = scenario.functions.filter((f) => f.expectedPlan.action === "blocked");
    const third = await pipelineRun(moto, {
      ...common,
      names: scenario.functions.map((f) => f.name),
      title: "Run 3: a commit asking for a version nobody built",
      intro: blocked.map(
        (f) =>
          `This commit also asks for ${f.name} ${f.desired.version}, a version that was never built (neither account has it).`,
      ),
      objectKey: "pipeline/SourceOutput/Zz91kQe",
      revision: "def456",
    });

    const published = await fromZip(moto, scenario, { artifactCredentials });
    const rolloutsOk = await rolloutDemo(moto, scenario.production, artifactCredentials);

    heading("In short");
    const words: Record<string, string> = {
      promote: "promotion from staging",
      rollback: "rollback",
      rollforward: "roll-forward",
      create: "LIVE created",
    };
    const firstActions = [
      ...new Set(first.logs.filter((l) => l.message === "planned").map((l) => String(l.action))),
    ]
      .filter((action) => action in words)
      .map((action) => {
        const n = first.logs.filter((l) => l.message === "planned" && l.action === action).length;
        return `${n} ${words[action]}${n > 1 ? "s" : ""}`;
      })
      .join(", ");
    const ok =
      first.jobResults[0]?.operation === "PutJobSuccessResult" &&
      second.jobResults[0]?.operation === "PutJobSuccessResult" &&
      mutatingCalls(second.calls).length === 0 &&
      third.jobResults[0]?.operation === "PutJobFailureResult" &&
      mutatingCalls(third.calls).length === 0 &&
      same &&
      published;
    out(`Run 1: production now matches lambdas.json (${firstActions}; the rest was already live).`);
    out("Run 2: the same commit again changed nothing: running the reconciler twice is safe.");
    out("Run 3: a version nobody built was refused; the job failed with the reason and nothing changed.");
    out("Run 4: a zip was published into staging (publishing it again changed nothing), then promoted to production byte for byte.");
    out("Every run reported exactly one job result to CodePipeline.");
    if (!ok) out("\nSomething did not go as described above: see the tables and job results.");
    out();
    out("Try it on a real account: see infra/README.md. The CLI works the same way:");
    out(
      "  node dist/cli.mjs plan lambdas.json --allowed-prefix team-a- --source-role-arn <staging role ARN>",
    );
    return ok && rolloutsOk ? 0 : 1;
  } finally {
    scenario?.destroy();
    await stopSharedMoto();
  }
}

// ---------------------------------------------------------------------------------------------
// Progressive rollouts (issue 13): a two-step rollout to the end, then one an alarm rolls back.
// ---------------------------------------------------------------------------------------------

async function rolloutDemo(moto: MotoServer, production: AccountWorld, artifactCredentials: Credentials): Promise<boolean> {
  const cloudwatch = cloudWatchFor(production);
  const cases = [
    { name: "team-a-checkout", alarm: "team-a-checkout-5xx", key: "pipeline/SourceOutput/R0ll0ut1" },
    { name: "team-a-search", alarm: "team-a-search-5xx", key: "pipeline/SourceOutput/R0ll0ut2" },
  ];
  for (const c of cases) {
    await seedFunction(production, { name: c.name, versions: [{ version: "1.0.0" }, { version: "1.1.0" }], live: "1.0.0" });
    await moto.defineInvokeAnswer({ functionName: c.name, qualifier: versionAlias("1.1.0"), payload: { ok: true } });
    await putAlarm(cloudwatch, c.alarm);
    const definition = {
      rollout: { steps: [10, 50], interval: "2s", bake: "2s", alarms: [c.alarm], smoke: { payload: { ping: true } } },
      lambdas: [{ name: c.name, version: "1.1.0" }],
    };
    await putSourceArtifact(production, BUCKET, c.key, repositoryFiles(`${JSON.stringify(definition, null, 2)}\n`));
  }
  const invoke = async (key: string, remainingMs: number, continuationToken?: string) =>
    invokeHandler(
      moto,
      await startPipelineJob(moto, {
        jobId: crypto.randomUUID(),
        accountId: PRODUCTION,
        bucket: BUCKET,
        objectKey: key,
        artifactCredentials,
        revision: key.slice(-8),
        ...(continuationToken ? { data: { continuationToken } } : {}),
      }),
      production.credentials,
      { remainingMs },
    );
  const liveText = (view: FunctionView | null) =>
    describeLive(view) +
    Object.entries(view?.live?.weights ?? {})
      .map(([fv, w]) => ` + ${Math.round(w * 10000) / 100}% v${fv}`)
      .join("");
  const moves = (run: HandlerRun) => {
    for (const l of run.logs.filter((x) => x.message === "rollout")) out(`  ${String(l.detail)}`);
  };
  const result = (run: HandlerRun) => {
    const r = run.jobResults[0];
    const text =
      r?.operation === "PutJobSuccessResult"
        ? `SUCCEEDED${r.body.continuationToken ? " (in progress: continuation token)" : ""}: ${String((r.body.executionDetails as { summary?: string }).summary)}`
        : `FAILED: ${String((r?.body.failureDetails as { message?: string } | undefined)?.message)}`;
    out(`  job result: ${text}`);
    return r;
  };

  const [good, bad] = cases as [(typeof cases)[0], (typeof cases)[0]];
  heading("Run 5: a progressive rollout (10% -> 50% -> 100%, 2s apart, 2s bake, alarm watched)");
  out(`lambdas.json adds a "rollout": a smoke invocation of ${good.name} 1.1.0, then traffic in steps.`);
  const done = await invoke(good.key, 900_000);
  moves(done);
  const doneResult = result(done);
  out(`  LIVE now: ${liveText(await look(production, good.name))}`);

  heading("Run 6: the same rollout for another function, and its alarm fires at 10%");
  const first = await invoke(bad.key, DEADLINE_RESERVE_MS + 1_500);
  moves(first);
  const token = result(first)?.body.continuationToken as string | undefined;
  out(`  LIVE now: ${liveText(await look(production, bad.name))}; the handler handed over before its deadline.`);
  await setAlarm(cloudwatch, bad.alarm, "ALARM");
  out(`  ... ${bad.alarm} goes to ALARM; CodePipeline invokes the handler again with the token:`);
  const second = await invoke(bad.key, 900_000, token);
  moves(second);
  const secondResult = result(second);
  const after = await look(production, bad.name);
  out(`  LIVE now: ${liveText(after)}`);
  cloudwatch.destroy();
  out();
  out("Run 5: the rollout moved traffic in steps while its alarm was watched, and finished by itself.");
  out("Run 6: the alarm fired during the canary: LIVE went back to 1.0.0 at once and the job failed, naming it.");
  return (
    doneResult?.operation === "PutJobSuccessResult" &&
    token !== undefined &&
    secondResult?.operation === "PutJobFailureResult" &&
    after?.live?.functionVersion === "1" &&
    Object.keys(after.live.weights).length === 0
  );
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
