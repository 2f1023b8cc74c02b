/**
 * `lambda-gitops publish`: carries a build into the lowest environment, in the account of the
 * current credentials. A short pipeline of named stages:
 *   flags / manifest -> specs (validated, prefix policy: before any AWS call)
 *   -> packages (read and hashed locally; an S3 object is downloaded to hash it)
 *   -> observe ($LATEST, version alias, the version behind it) -> plan (pure) -> apply -> report.
 * Exit 0 when every function is published or already was; 1 otherwise (refused, failed, bad input).
 * Arguments, help, usage errors and problems are the shared ones (../command.ts).
 */
import { readFile, stat } from "node:fs/promises";
import pLimit from "p-limit";
import { STAGED_UPLOAD_LIMIT } from "../../apply/apply.ts";
import { fitsDirectUpload, MAX_DIRECT_ZIP_BYTES } from "../../aws/request-size.ts";
import { applyPublishPlan, type UploadCode } from "../../apply/publish.ts";
import { sha256Base64 } from "../../aws/download.ts";
import type { LambdaReader } from "../../aws/lambda.ts";
import { hashObject, s3Client } from "../../aws/s3.ts";
import { describeError } from "../../core/errors.ts";
import { MAX_DEFINITION_BYTES } from "../../input/definitions.ts";
import {
  COMMAND_LINE,
  parsePublishManifest,
  type PublishRequestResult,
  type PublishSpec,
  publishRequestFromFlags,
} from "../../input/publish-request.ts";
import { observePublish } from "../../observe/publish.ts";
import { type PublishPlanEntry, planPublish, type ResolvedCode } from "../../plan/publish.ts";
import { renderPublishPlanText, renderPublishText } from "../../report/publish.ts";
import { publishJson, publishPlanJson } from "../../report/json.ts";
import { type FlagValues, listFlag, stringFlag } from "../args.ts";
import {
  type CliIo,
  commandError,
  commandLogger,
  type CommandSpec,
  connect,
  EXIT_ERROR,
  EXIT_OK,
  formatFlag,
  LOG_FORMAT_FLAG,
  parseInvocation,
  PROGRAM,
  reportProblems,
  whereJson,
} from "../command.ts";
import { parametersFromFlags, SETTINGS_FLAGS } from "../settings.ts";

const FORMATS = ["table", "json"] as const;

/** The settings flags publish takes (it acts in the account of the current credentials: no source role, no LIVE). */
const PUBLISH_SETTINGS = ["allowed-prefix", "region", "profile", "concurrency", "control-rate", "get-function-rate"];

export const PUBLISH: CommandSpec = {
  name: "publish",
  summary: "Publish a build (zip or S3) as a version in the account of the current credentials.",
  synopsis: "--function NAME --version X.Y.Z (--zip FILE | --s3 s3://BUCKET/KEY) [options]\n" +
    `       ${PROGRAM} publish --manifest FILE [options]`,
  description:
    "Updates $LATEST (guarded), waits, publishes a version (guarded by the package's CodeSha256) and\n" +
    "creates the version alias (1.4.2 -> 1-4-2). Already published with the same code: nothing to do.\n" +
    "With different code: refused. A manifest is a JSON or YAML list of {function, version, zip|s3,\n" +
    "runtime?, handler?, architecture?, layers?, description?}; zip paths are relative to it.\n" +
    "Exit codes: 0 every function published or already was; 1 otherwise (refused, failed, bad input).",
  flags: [
    { name: "function", type: "string", value: "NAME", help: "the function (must exist; publish never creates functions)" },
    { name: "version", type: "string", value: "X.Y.Z", help: "the semantic version to publish" },
    { name: "zip", type: "string", value: "FILE", help: "the deployment package (up to 50 MB; larger: upload it to S3, use --s3)" },
    { name: "s3", type: "string", value: "s3://BUCKET/KEY", help: "the package in S3 (same Region; downloaded once to hash it, up to 250 MB)" },
    { name: "manifest", type: "string", value: "FILE", help: "publish every function listed in this JSON or YAML file" },
    { name: "runtime", type: "string", value: "ID", help: "e.g. nodejs22.x" },
    { name: "handler", type: "string", value: "H", help: "e.g. index.handler" },
    { name: "architecture", type: "string", value: "A", help: "x86_64 or arm64" },
    { name: "layer", type: "string", multiple: true, value: "ARN", help: 'layer version ARN (repeatable; "none" removes all)' },
    { name: "description", type: "string", value: "TEXT", help: "provenance for the version's description, e.g. the commit" },
    ...SETTINGS_FLAGS.filter((f) => PUBLISH_SETTINGS.includes(f.name)),
    formatFlag(FORMATS),
    { name: "dry-run", type: "boolean", help: "print the plan (the steps per function) and change nothing" },
    LOG_FORMAT_FLAG,
  ],
  formats: FORMATS,
  maxPositionals: 0,
};

const SINGLE_ONLY = ["function", "version", "zip", "s3", "runtime", "handler", "architecture", "layer"] as const;

export async function runPublish(argv: string[], io: CliIo): Promise<number> {
  const call = parseInvocation(PUBLISH, argv, io);
  if (!call.ok) return call.code;
  const { values, format } = call;
  const settings = parametersFromFlags(values, io.env);
  if (!settings.ok) return reportProblems(io, settings.problems);
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
    for (const line of unreadable) commandError(io, "publish", line);
    io.stderr(`${unreadable.length} package(s) could not be read; nothing was changed.\n`);
    return EXIT_ERROR;
  }

  const logger = commandLogger(values, io);
  // Preflight: no credentials or no Region is one error, before any Lambda call.
  const connection = await connect("publish", parameters, io);
  if (!connection.ok) return connection.code;
  const { aws } = connection;
  const where = whereJson(connection.identity, parameters);
  const codes = new Map(resolved.map(({ spec, code }) => [spec.function, { spec, code: code as ResolvedPackage }]));
  const planOne = async (lambda: LambdaReader, name: string): Promise<PublishPlanEntry> => {
    const { spec, code } = codes.get(name)!;
    return planPublish(spec, code, await observePublish(lambda, spec));
  };

  // Stages 3-5: observe and plan every function (bounded), then apply the plans, then report.
  const limit = pLimit(parameters.concurrency);
  const plans = await Promise.all(request.specs.map((spec) => limit(() => planOne(aws.target, spec.function))));
  if (values["dry-run"] === true) {
    io.stdout(`${format === "json" ? JSON.stringify(publishPlanJson(plans, where), null, 2) : renderPublishPlanText(plans)}\n`);
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
    `${format === "json" ? JSON.stringify(publishJson(results, where), null, 2) : renderPublishText(results)}\n`,
  );
  return results.every((r) => r.action === "published" || r.action === "unchanged") ? EXIT_OK : EXIT_ERROR;
}

async function readRequest(values: FlagValues, allowedPrefixes: readonly string[]): Promise<PublishRequestResult> {
  const commandLine = (path: string, message: string): PublishRequestResult => ({
    ok: false,
    problems: [{ file: COMMAND_LINE, line: 1, column: 1, path, message }],
  });
  const manifest = stringFlag(values, "manifest");
  const description = stringFlag(values, "description");
  if (manifest === undefined) {
    return publishRequestFromFlags(
      {
        function: stringFlag(values, "function"),
        version: stringFlag(values, "version"),
        zip: stringFlag(values, "zip"),
        s3: stringFlag(values, "s3"),
        runtime: stringFlag(values, "runtime"),
        handler: stringFlag(values, "handler"),
        architecture: stringFlag(values, "architecture"),
        layers: listFlag(values, "layer"),
        description,
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
  const file = manifest;
  try {
    const info = await stat(file);
    if (!info.isFile()) return commandLine("--manifest", `${file} is not a file`);
    if (info.size > MAX_DEFINITION_BYTES)
      return commandLine("--manifest", `${file} is ${info.size} bytes; the limit is ${MAX_DEFINITION_BYTES}`);
    const text = await readFile(file, "utf8");
    return parsePublishManifest(text, file, allowedPrefixes, description === undefined ? {} : { description });
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
