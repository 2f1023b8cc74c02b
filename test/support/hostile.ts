/**
 * The hostile-input corpus (test/fixtures/hostile/<case>/): loading a case and running it through the
 * real handler (`runJob`) with the real adapters over SDK clients mocked by aws-sdk-client-mock.
 *
 * A case is a directory holding `case.json` (the manifest, see `CaseManifest`) and at most one input
 * file, which IS the hostile input:
 *   lambdas.json | lambdas.yaml   the definition file, zipped as the repository artifact
 *   UserParameters.txt            the action's UserParameters, verbatim except one final newline
 *   event.json                    the whole Lambda event
 *   artifact.bin                  the raw bytes of the input artifact
 * Inputs too large to commit are made by a named generator (`generate`), see GENERATORS.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import {
  CodePipelineClient,
  GetJobDetailsCommand,
  PutJobFailureResultCommand,
  PutJobSuccessResultCommand,
  GetPipelineExecutionCommand,
} from "@aws-sdk/client-codepipeline";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { GetObjectCommand, S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import { sdkStreamMixin } from "@smithy/core/serde";
import { mockClient } from "aws-sdk-client-mock";
import { zipSync } from "fflate";
import { createJobReader, createJobReporter } from "../../reconciler/aws/codepipeline.ts";
import { createExecutionReader } from "../../reconciler/aws/pipeline-execution.ts";
import { createLambdaAdapter } from "../../reconciler/aws/lambda.ts";
import { createArtifactStore } from "../../reconciler/aws/s3.ts";
import { MAX_DEFINITION_BYTES } from "../../reconciler/input/definitions.ts";
import { type HandlerDeps, type LambdaContext, runJob } from "../../reconciler/entry/handler.ts";
import { silentLogger } from "../../reconciler/core/log.ts";
import { codePipelineJobEvent } from "./events.ts";
import { deflateBomb, deflatedEntry, type RawZipEntry, rawZip } from "./zip-writer.ts";

export const CORPUS_DIR = fileURLToPath(new URL("../fixtures/hostile/", import.meta.url));

export const JOB_ID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
export const REQUEST_ID = "hostile-request";
export const BUCKET = "codepipeline-us-east-1-artifacts";
export const OBJECT_KEY = "pipeline/SourceOutput/h0st1le";
/** UserParameters when the case gives none: a valid, minimal action configuration. */
export const DEFAULT_PARAMETERS = { allowedPrefixes: ["team-a-"] };

export type Kind = "definition" | "prefix" | "parameters" | "artifact" | "event";

/** One expected line: exact text, or `{ "regex": "..." }` for a line with a non-deterministic part. */
export type ExpectedLine = string | { regex: string };

export interface CaseManifest {
  kind: Kind;
  /** What the attack is, in words (the test title). */
  title: string;
  /** UserParameters as an object (JSON.stringify'd), a raw string, or null for absent. */
  userParameters?: Record<string, unknown> | string | null;
  /** The artifact as zip entries (instead of zipping the definition file). */
  zip?: ZipEntrySpec[];
  /** Name of a generator in GENERATORS that makes the input. */
  generate?: keyof typeof GENERATORS;
  /** How S3 answers GetObject for the artifact, instead of serving it. */
  s3?: { error: string; status: number; message: string } | { contentLength: number };
  expect:
    | { result: "failure"; message: ExpectedLine[] }
    /** No job id: nothing can be reported; the invocation must resolve (no throw, no retry). */
    | { result: "none" };
}

export interface ZipEntrySpec {
  name: string;
  /** UTF-8 content (default ""). */
  text?: string;
  /** Content read from this fixture file of the case instead. */
  file?: string;
  deflate?: boolean;
  /** Header fields that lie (see RawZipEntry). */
  uncompressedSize?: number;
  crc32?: number;
  flags?: number;
  method?: number;
  externalAttributes?: number;
}

export interface HostileCase {
  id: string;
  dir: string;
  manifest: CaseManifest;
  /** The input files present besides case.json. */
  files: string[];
}

const INPUT_FILES = ["lambdas.json", "lambdas.yaml", "UserParameters.txt", "event.json", "artifact.bin"];

export function loadCorpus(dir = CORPUS_DIR): HostileCase[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .map((id) => {
      const caseDir = join(dir, id);
      const files = readdirSync(caseDir).filter((f) => f !== "case.json");
      const unknown = files.filter((f) => !INPUT_FILES.includes(f));
      if (unknown.length > 0) throw new Error(`${id}: unexpected files ${unknown.join(", ")}`);
      const manifest = JSON.parse(readFileSync(join(caseDir, "case.json"), "utf8")) as CaseManifest;
      return { id, dir: caseDir, manifest, files };
    });
}

// ---------------------------------------------------------------------------------------------
// Building the inputs
// ---------------------------------------------------------------------------------------------

export interface Inputs {
  event: unknown;
  /** The artifact bytes S3 serves (undefined when `s3` says otherwise). */
  artifact: Uint8Array | undefined;
}

const MiB = 1024 * 1024;

/** Inputs too large (or too binary) to commit, by name. */
export const GENERATORS = {
  /** A valid definition just over the 1 MiB cap (many valid entries). */
  "definition-over-1mib": (): Partial<GeneratedInput> => {
    const entries: string[] = [];
    let size = 20;
    for (let i = 0; size <= MAX_DEFINITION_BYTES; i++) {
      const line = `    { "name": "team-a-fn-${String(i).padStart(6, "0")}", "version": "1.0.0" }`;
      entries.push(line);
      size += line.length + 2;
    }
    return { definition: `{\n  "lambdas": [\n${entries.join(",\n")}\n  ]\n}\n` };
  },
  /** JSON nested 100,000 levels deep (under the size cap): a stack-overflow attempt. */
  "json-nested-100k": (): Partial<GeneratedInput> => ({
    definition: `{"lambdas": ${"[".repeat(100_000)}${"]".repeat(100_000)}}`,
  }),
  /** YAML flow sequences nested 100,000 levels deep. */
  "yaml-nested-100k": (): Partial<GeneratedInput> => ({
    definitionName: "lambdas.yaml",
    definition: `lambdas: ${"[".repeat(100_000)}${"]".repeat(100_000)}\n`,
  }),
  /** 1 GiB of zeros in ~1 MiB of deflate, honestly declared. */
  "zip-bomb-declared": (): Partial<GeneratedInput> => {
    const data = deflateBomb(1024);
    return { zip: [{ name: "lambdas.json", data, method: 8, uncompressedSize: 1024 * MiB, crc32: 0 }] };
  },
  /** The same bomb, its headers claiming 200 bytes: only streaming limits can stop it. */
  "zip-bomb-lying": (): Partial<GeneratedInput> => {
    const data = deflateBomb(1024);
    return { zip: [{ name: "lambdas.json", data, method: 8, uncompressedSize: 200, crc32: 0 }] };
  },
  /** The bomb declared at exactly the 1 MiB file limit. */
  "zip-bomb-at-limit": (): Partial<GeneratedInput> => {
    const data = deflateBomb(1024);
    return { zip: [{ name: "lambdas.json", data, method: 8, uncompressedSize: MiB, crc32: 0 }] };
  },
  /** A small definition next to entries declaring more than 2 GiB uncompressed in total. */
  "declared-total-over-2gib": (): Partial<GeneratedInput> => ({
    zip: [
      deflatedEntry("lambdas.json", '{"lambdas": []}\n'),
      { name: "assets/blob.bin", data: new Uint8Array(8), method: 8, uncompressedSize: 0xf0000000 },
    ],
  }),
  /** 20,001 empty files (the handler allows 20,000 entries). */
  "too-many-entries": (): Partial<GeneratedInput> => ({
    fflate: Object.fromEntries([
      ["lambdas.json", new TextEncoder().encode('{"lambdas": []}\n')],
      ...Array.from({ length: 20_000 }, (_, i) => [`src/f${i}.js`, new Uint8Array(0)] as const),
    ]),
  }),
} satisfies Record<string, () => Partial<GeneratedInput>>;

interface GeneratedInput {
  definition: string;
  definitionName: string;
  zip: RawZipEntry[];
  fflate: Record<string, Uint8Array>;
}

export function baseEvent(userParameters: string | undefined): Record<string, unknown> {
  return codePipelineJobEvent({
    jobId: JOB_ID,
    accountId: "222222222222",
    bucket: BUCKET,
    objectKey: OBJECT_KEY,
    userParameters,
    revision: "0123abcd",
    artifactCredentials: {
      accessKeyId: "ASIAHOSTILEARTIFACTS",
      secretAccessKey: "hostile-artifact-secret",
      sessionToken: "hostile-artifact-session",
    },
  });
}

function read(c: HostileCase, file: string): Buffer {
  return readFileSync(join(c.dir, file));
}

/** The definition file's name in the zip (and its fixture), if the case has one. */
function definitionName(c: HostileCase): string | undefined {
  return c.files.find((f) => f === "lambdas.json" || f === "lambdas.yaml");
}

export function buildInputs(c: HostileCase): Inputs {
  const m = c.manifest;
  const generated: Partial<GeneratedInput> = m.generate ? GENERATORS[m.generate]() : {};
  const defName = generated.definitionName ?? definitionName(c) ?? "lambdas.json";

  let userParameters: string | undefined;
  if (c.files.includes("UserParameters.txt")) {
    userParameters = read(c, "UserParameters.txt").toString("utf8").replace(/\n$/, "");
  } else if (m.userParameters === null) {
    userParameters = undefined;
  } else if (typeof m.userParameters === "string") {
    userParameters = m.userParameters;
  } else {
    const given = m.userParameters ?? DEFAULT_PARAMETERS;
    const withFile = defName === "lambdas.json" ? given : { definitionFile: defName, ...given };
    userParameters = JSON.stringify(withFile);
  }

  const event = c.files.includes("event.json")
    ? JSON.parse(read(c, "event.json").toString("utf8"))
    : baseEvent(userParameters);

  let artifact: Uint8Array | undefined;
  if (c.files.includes("artifact.bin")) {
    artifact = new Uint8Array(read(c, "artifact.bin"));
  } else if (m.zip) {
    artifact = rawZip(
      m.zip.map((spec) => {
        const content = spec.file ? new Uint8Array(read(c, spec.file)) : Buffer.from(spec.text ?? "", "utf8");
        const entry = spec.deflate ? deflatedEntry(spec.name, content) : { name: spec.name, data: content };
        return {
          ...entry,
          ...(spec.method === undefined ? {} : { method: spec.method }),
          ...(spec.uncompressedSize === undefined ? {} : { uncompressedSize: spec.uncompressedSize }),
          ...(spec.crc32 === undefined ? {} : { crc32: spec.crc32 }),
          ...(spec.flags === undefined ? {} : { flags: spec.flags }),
          ...(spec.externalAttributes === undefined ? {} : { externalAttributes: spec.externalAttributes }),
        };
      }),
    );
  } else if (generated.zip) {
    artifact = rawZip(generated.zip);
  } else if (generated.fflate) {
    artifact = zipSync(generated.fflate, { level: 0 });
  } else {
    const definition =
      generated.definition !== undefined
        ? new TextEncoder().encode(generated.definition)
        : definitionName(c)
          ? new Uint8Array(read(c, defName))
          : new TextEncoder().encode('{"lambdas": []}\n');
    artifact = zipSync({
      [defName]: definition,
      "README.md": new TextEncoder().encode("# team-a deployments\n"),
    });
  }
  return { event, artifact };
}

// ---------------------------------------------------------------------------------------------
// Running a case through runJob
// ---------------------------------------------------------------------------------------------

export interface CaseRun {
  /** Resolved (true) or rejected with this error. */
  threw: unknown;
  /** The job results reported, in order. */
  results: ({ kind: "success"; jobId: string } | { kind: "failure"; jobId: string; message: string })[];
  /** Every Lambda SDK call made (target and source clients). */
  lambdaCalls: string[];
  /** Every S3 SDK call made. */
  s3Calls: string[];
  /** How often the handler built its AWS (Lambda/STS) context. */
  awsContexts: number;
  /** How often the handler built its staging-bucket stager. */
  stagers: number;
  ms: number;
}

const credentials = { accessKeyId: "test", secretAccessKey: "test" };
const codePipelineClient = new CodePipelineClient({ region: "us-east-1", credentials });
const s3Client = new S3Client({ region: "us-east-1", credentials });
const targetClient = new LambdaClient({ region: "us-east-1", credentials });
const sourceClient = new LambdaClient({ region: "us-east-1", credentials });
const codePipeline = mockClient(codePipelineClient);
const s3 = mockClient(s3Client);
const target = mockClient(targetClient);
const source = mockClient(sourceClient);

const EXECUTION_ID = "0b0e7c1a-1111-4222-8333-444455556666";
const context: LambdaContext = { awsRequestId: REQUEST_ID, getRemainingTimeInMillis: () => 600_000 };

const commandName = (call: { args: unknown[] }) =>
  (call.args[0] as { constructor: { name: string } }).constructor.name.replace(/Command$/, "");

export async function runCase(c: HostileCase): Promise<CaseRun> {
  const { event, artifact } = buildInputs(c);
  codePipeline.reset();
  s3.reset();
  target.reset();
  source.reset();
  codePipeline.on(PutJobSuccessResultCommand).resolves({});
  codePipeline.on(PutJobFailureResultCommand).resolves({});
  // CodePipeline knows the job as the case's event describes it (the handler reads it from there).
  const job = (event as { "CodePipeline.job"?: { id?: unknown; data?: Record<string, unknown> } } | null)?.[
    "CodePipeline.job"
  ];
  if (typeof job?.id === "string") {
    codePipeline.on(GetJobDetailsCommand, { jobId: job.id }).resolves({
      jobDetails: { id: job.id, data: { ...job.data, pipelineContext: { pipelineName: "lambda-gitops", pipelineExecutionId: EXECUTION_ID } } as never },
    });
  }
  // The job's pipeline execution is still running.
  codePipeline.on(GetPipelineExecutionCommand).resolves({ pipelineExecution: { status: "InProgress" } });
  // Any Lambda call is answered, so that a missing guard shows up as a recorded call, not a crash.
  target.onAnyCommand().resolves({});
  source.onAnyCommand().resolves({});
  const s3Behaviour = c.manifest.s3;
  if (s3Behaviour && "error" in s3Behaviour) {
    s3.on(GetObjectCommand).rejects(
      new S3ServiceException({
        name: s3Behaviour.error,
        message: s3Behaviour.message,
        $fault: s3Behaviour.status >= 500 ? "server" : "client",
        $metadata: { httpStatusCode: s3Behaviour.status },
      }),
    );
  } else {
    const bytes = artifact ?? new Uint8Array(0);
    const contentLength = s3Behaviour?.contentLength ?? bytes.byteLength;
    s3.on(GetObjectCommand).callsFake(() => ({
      Body: sdkStreamMixin(Readable.from([Buffer.from(bytes)])),
      ContentLength: contentLength,
    }));
  }
  let awsContexts = 0;
  let stagers = 0;
  const deps: HandlerDeps = {
    reporter: createJobReporter(codePipelineClient),
    jobs: createJobReader(codePipelineClient),
    executions: createExecutionReader(codePipelineClient),
    env: {},
    artifacts: () => createArtifactStore(s3Client),
    aws: () => {
      awsContexts += 1;
      return {
        target: createLambdaAdapter(targetClient),
        source: { reader: createLambdaAdapter(sourceClient), accountId: "111111111111" },
      };
    },
    stager: () => {
      stagers += 1;
      return undefined;
    },
    download: async () => ({ ok: false, message: "no download in the hostile corpus" }),
    logger: silentLogger,
    sleep: async () => {},
    wait: { minDelay: 0.001, maxDelay: 0.002, maxWaitTime: 1 },
  };
  const started = performance.now();
  let threw: unknown;
  try {
    await runJob(event, context, deps);
  } catch (error) {
    threw = error ?? new Error("rejected with nothing");
  }
  const ms = performance.now() - started;
  const results = codePipeline
    .calls()
    .filter((call) => commandName(call) !== "GetJobDetails" && commandName(call) !== "GetPipelineExecution")
    .map((call) => {
    const input = (call.args[0] as unknown as { input: Record<string, unknown> }).input;
    if (commandName(call) === "PutJobSuccessResult")
      return { kind: "success" as const, jobId: String(input.jobId) };
    const details = input.failureDetails as { message?: string } | undefined;
    return { kind: "failure" as const, jobId: String(input.jobId), message: details?.message ?? "" };
  });
  return {
    threw,
    results,
    lambdaCalls: [...target.calls(), ...source.calls()].map(commandName),
    s3Calls: s3.calls().map(commandName),
    awsContexts,
    stagers,
    ms,
  };
}

/** Whether `actual` (a failure message) matches the expected lines exactly. */
export function matchesLines(actual: string, expected: readonly ExpectedLine[]): boolean {
  const lines = actual.split("\n");
  if (lines.length !== expected.length) return false;
  return expected.every((line, i) =>
    typeof line === "string" ? lines[i] === line : new RegExp(`^(?:${line.regex})$`).test(lines[i]!),
  );
}
