/**
 * `lambda-gitops publish`: carries a build into the lowest environment, in the account of the
 * current credentials. A short pipeline of named stages:
 *   flags / manifest -> specs (validated, prefix policy: before any AWS call)
 *   -> packages (read and hashed locally; an S3 object is downloaded to hash it)
 *   -> observe ($LATEST, version alias, the version behind it) -> plan (pure) -> apply -> report.
 * Exit 0 when every function is published or already was; 1 otherwise (refused, failed, bad input).
 */
import { readFile, stat } from "node:fs/promises";
import { parseArgs } from "node:util";
import pLimit from "p-limit";
import { STAGED_UPLOAD_LIMIT } from "../../apply/apply.ts";
import { fitsDirectUpload, MAX_DIRECT_ZIP_BYTES } from "../../aws/request-size.ts";
import { applyPublishPlan, type UploadCode } from "../../apply/publish.ts";
import { createAwsContext } from "../context.ts";
import { sha256Base64 } from "../../aws/download.ts";
import type { LambdaReader } from "../../aws/lambda.ts";
import { hashObject, s3Client } from "../../aws/s3.ts";
import { describeError, formatProblem, type Problem } from "../../core/errors.ts";
import { createLogger, levelFromEnv } from "../../core/log.ts";
import { MAX_DEFINITION_BYTES } from "../../input/definitions.ts";
import { validateParameters } from "../../input/parameters.ts";
import {
  COMMAND_LINE,
  parsePublishManifest,
  type PublishRequestResult,
  type PublishSpec,
  publishRequestFromFlags,
} from "../../input/publish-request.ts";
import { observePublish } from "../../observe/publish.ts";
import { type PublishPlanEntry, planPublish, type ResolvedCode } from "../../plan/publish.ts";
import { publishToJson, renderPublishPlanText, renderPublishText } from "../../report/publish.ts";
import type { CliIo } from "../command.ts";

export const PUBLISH_USAGE = `Usage: lambda-gitops publish --function NAME --version X.Y.Z (--zip FILE | --s3 s3://BUCKET/KEY) [options]
       lambda-gitops publish --manifest FILE [options]

Publishes a build into the account of the current credentials: updates $LATEST (guarded), waits,
publishes a version (guarded by the package's CodeSha256) and creates the version alias (1.4.2 ->
1-4-2). Already published with the same code: nothing to do. With different code: refused.

Options:
  --function NAME         the function (must exist; publish never creates functions)
  --version X.Y.Z         the semantic version to publish
  --zip FILE              the deployment package (up to 50 MB; larger: upload it to S3, use --s3)
  --s3 s3://BUCKET/KEY    the package in S3 (same Region; downloaded once to hash it, up to 250 MB)
  --manifest FILE         JSON or YAML list of {function, version, zip|s3, runtime?, handler?,
                          architecture?, layers?, description?}; zip paths relative to the file
  --runtime ID            e.g. nodejs22.x      --handler H   e.g. index.handler
  --architecture A        x86_64 or arm64      --layer ARN   layer version ARN (repeatable; "none" removes all)
  --description TEXT      provenance for the version's description, e.g. the commit
  --allowed-prefix P      allowed function-name prefix (repeatable, required)
  --region REGION         AWS region (default: the SDK's chain, e.g. AWS_REGION)
  --concurrency N         functions published at once (default 4)
  --control-rate N        Lambda control-plane calls/s (default 14)   --get-function-rate N (default 90)
  --format FMT            table (default) or json
  --dry-run               print the plan (the steps per function) and change nothing
`;

const OPTIONS = {
  function: { type: "string" },
  version: { type: "string" },
  zip: { type: "string" },
  s3: { type: "string" },
  manifest: { type: "string" },
  runtime: { type: "string" },
  handler: { type: "string" },
  architecture: { type: "string" },
  layer: { type: "string", multiple: true },
  description: { type: "string" },
  "allowed-prefix": { type: "string", multiple: true },
  region: { type: "string" },
  concurrency: { type: "string" },
  "control-rate": { type: "string" },
  "get-function-rate": { type: "string" },
  format: { type: "string" },
  "dry-run": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

const SINGLE_ONLY = ["function", "version", "zip", "s3", "runtime", "handler", "architecture", "layer"] as const;
const SETTING_FLAGS: Record<string, string> = {
  allowedPrefixes: "--allowed-prefix",
  region: "--region",
  concurrency: "--concurrency",
  controlRate: "--control-rate",
  getFunctionRate: "--get-function-rate",
};

const EXIT_OK = 0;
const EXIT_ERROR = 1;

export async function runPublish(argv: string[], io: CliIo): Promise<number> {
  let values: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; strict: true }>>["values"];
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    io.stderr(`lambda-gitops publish: ${describeError(error)}\n\n${PUBLISH_USAGE}`);
    return EXIT_ERROR;
  }
  if (values.help) {
    io.stdout(PUBLISH_USAGE);
    return EXIT_OK;
  }
  const format = values.format ?? "table";
  if (format !== "table" && format !== "json") {
    io.stderr(`lambda-gitops publish: --format must be table or json (got "${format}")\n`);
    return EXIT_ERROR;
  }
  const number = (value: string | undefined) => (value === undefined ? undefined : Number(value));
  const settings = validateParameters(
    {
      allowedPrefixes: values["allowed-prefix"] ?? [],
      region: values.region ?? io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION,
      concurrency: number(values.concurrency),
      controlRate: number(values["control-rate"]),
      getFunctionRate: number(values["get-function-rate"]),
    },
    COMMAND_LINE,
  );
  if (!settings.ok) {
    const problems = settings.problems.map((p) => ({ ...p, path: SETTING_FLAGS[p.path.split(/[.[]/)[0] ?? ""] ?? p.path }));
    return reportProblems(io, problems);
  }
  const parameters = settings.parameters;

  // Stage 1: what to publish, validated, policy checked. No AWS call before this passes.
  const request = await readRequest(values, parameters.allowedPrefixes);
  if (!request.ok) return reportProblems(io, request.problems);

  // Stage 2: the packages, hashed here (an S3 object is read once to hash it).
  const s3 = request.specs.some((s) => s.code.kind === "s3") ? s3Client({ region: parameters.region }) : undefined;
  const resolved = await Promise.all(
    request.specs.map(async (spec) => ({ spec, code: await resolvePackage(spec, s3) })),
  );
  const unreadable = resolved.flatMap(({ spec, code }) => (code.ok ? [] : [`${spec.function}: ${code.message}`]));
  if (unreadable.length > 0) {
    io.stderr(`${unreadable.join("\n")}\n${unreadable.length} package(s) could not be read; nothing was changed.\n`);
    return EXIT_ERROR;
  }

  const logger = createLogger({ level: levelFromEnv(io.env.LOG_LEVEL, "warn"), write: (l) => io.stderr(`${l}\n`) });
  const aws = (io.createAws ?? createAwsContext)(parameters);
  const codes = new Map(resolved.map(({ spec, code }) => [spec.function, { spec, code: code as ResolvedPackage }]));
  const planOne = async (lambda: LambdaReader, name: string): Promise<PublishPlanEntry> => {
    const { spec, code } = codes.get(name)!;
    return planPublish(spec, code, await observePublish(lambda, spec));
  };

  // Stages 3-5: observe and plan every function (bounded), then apply the plans, then report.
  const limit = pLimit(parameters.concurrency);
  const plans = await Promise.all(request.specs.map((spec) => limit(() => planOne(aws.target, spec.function))));
  if (values["dry-run"]) {
    io.stdout(`${format === "json" ? JSON.stringify(plans, null, 2) : renderPublishPlanText(plans)}\n`);
    return plans.some((p) => p.decision.kind === "refused") ? EXIT_ERROR : EXIT_OK;
  }
  const results = await applyPublishPlan(plans, {
    lambda: aws.target,
    concurrency: parameters.concurrency,
    upload: (entry) => uploadOf(codes.get(entry.function)!.code),
    replan: (entry) => planOne(aws.target, entry.function),
    logger,
  });
  if (aws.apiUsage) logger.info("Lambda API calls (attempts) and throttles", aws.apiUsage());
  io.stdout(
    `${format === "json" ? JSON.stringify(publishToJson(results, values.manifest !== undefined), null, 2) : renderPublishText(results)}\n`,
  );
  return results.every((r) => r.action === "published" || r.action === "unchanged") ? EXIT_OK : EXIT_ERROR;
}

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; strict: true }>>["values"];

async function readRequest(values: Values, allowedPrefixes: readonly string[]): Promise<PublishRequestResult> {
  const commandLine = (path: string, message: string): PublishRequestResult => ({
    ok: false,
    problems: [{ file: COMMAND_LINE, line: 1, column: 1, path, message }],
  });
  if (values.manifest === undefined) {
    return publishRequestFromFlags(
      {
        function: values.function,
        version: values.version,
        zip: values.zip,
        s3: values.s3,
        runtime: values.runtime,
        handler: values.handler,
        architecture: values.architecture,
        layers: values.layer,
        description: values.description,
      },
      allowedPrefixes,
    );
  }
  const clash = SINGLE_ONLY.filter((flag) => values[flag] !== undefined);
  if (clash.length > 0) {
    return commandLine(
      "--manifest",
      `cannot be combined with ${clash.map((f) => `--${f}`).join(", ")}: put them in the manifest's entries`,
    );
  }
  const file = values.manifest;
  try {
    const info = await stat(file);
    if (!info.isFile()) return commandLine("--manifest", `${file} is not a file`);
    if (info.size > MAX_DEFINITION_BYTES)
      return commandLine("--manifest", `${file} is ${info.size} bytes; the limit is ${MAX_DEFINITION_BYTES}`);
    const text = await readFile(file, "utf8");
    return parsePublishManifest(text, file, allowedPrefixes, { description: values.description });
  } catch (error) {
    const code = (error as { code?: string }).code;
    return commandLine("--manifest", code === "ENOENT" ? `${file}: no such file` : `${file}: ${describeError(error)}`);
  }
}

type ResolvedPackage = ResolvedCode & { spec: PublishSpec };
type Resolution = ({ ok: true } & ResolvedPackage) | { ok: false; message: string };

/** Hash the package: a local zip (up to the direct-upload limit) or an S3 object (downloaded once). */
async function resolvePackage(spec: PublishSpec, s3: ReturnType<typeof s3Client> | undefined): Promise<Resolution> {
  if (spec.code.kind === "s3") {
    const hashed = await hashObject(s3!, spec.code.bucket, spec.code.key, STAGED_UPLOAD_LIMIT);
    return hashed.ok ? { ok: true, spec, codeSha256: hashed.codeSha256, codeSize: hashed.size } : hashed;
  }
  const read = await readZip(spec.code.path);
  return read.ok ? { ok: true, spec, codeSha256: sha256Base64(read.bytes), codeSize: read.bytes.byteLength } : read;
}

async function readZip(path: string): Promise<{ ok: true; bytes: Uint8Array } | { ok: false; message: string }> {
  try {
    const info = await stat(path);
    if (!info.isFile()) return { ok: false, message: `${path} is not a file` };
    if (!fitsDirectUpload(info.size)) {
      return {
        ok: false,
        message: `${path} is ${info.size} bytes, over the direct upload limit (${MAX_DIRECT_ZIP_BYTES} bytes: UpdateFunctionCode's request carries the zip base64-encoded): upload it to S3 and use --s3`,
      };
    }
    return { ok: true, bytes: await readFile(path) };
  } catch (error) {
    const code = (error as { code?: string }).code;
    return { ok: false, message: code === "ENOENT" ? `${path}: no such file` : `${path}: ${describeError(error)}` };
  }
}

/** What UpdateFunctionCode gets: the zip re-read and re-verified (uploaded = hashed), or the S3 object. */
async function uploadOf(resolved: ResolvedPackage): Promise<UploadCode> {
  const { code } = resolved.spec;
  if (code.kind === "s3") return { s3: { bucket: code.bucket, key: code.key } };
  const read = await readZip(code.path);
  if (!read.ok) throw new Error(read.message);
  if (sha256Base64(read.bytes) !== resolved.codeSha256) {
    throw new Error(`${code.path} changed after it was hashed; nothing was uploaded`);
  }
  return { zipFile: read.bytes };
}

function reportProblems(io: CliIo, problems: readonly Problem[]): number {
  for (const p of problems) {
    io.stderr(p.file === COMMAND_LINE ? `command line: ${p.path}: ${p.message}\n` : `${formatProblem(p)}\n`);
  }
  io.stderr(`${problems.length} problem(s) found; nothing was changed.\n`);
  return EXIT_ERROR;
}
