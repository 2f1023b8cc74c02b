/**
 * Thin adapter over @aws-sdk/client-s3: reading the pipeline's input artifact (with the job's own
 * artifact credentials, never the function's role) and staging large packages for promotion.
 * Set AWS_S3_FORCE_PATH_STYLE=true for S3-compatible endpoints that lack virtual-hosted buckets.
 */
import { createHash } from "node:crypto";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { Stager } from "../apply/execution.ts";
import { describeError, errorName } from "../core/errors.ts";

export interface ArtifactCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export type ObjectResult = { ok: true; bytes: Uint8Array } | { ok: false; message: string };

export interface ArtifactStore {
  get(bucket: string, key: string, maxBytes: number): Promise<ObjectResult>;
}

export function s3Client(options: { credentials?: ArtifactCredentials; region?: string } = {}): S3Client {
  return new S3Client({
    region: options.region,
    credentials: options.credentials,
    forcePathStyle: process.env.AWS_S3_FORCE_PATH_STYLE === "true",
  });
}

export function createArtifactStore(client: S3Client): ArtifactStore {
  return {
    async get(bucket, key, maxBytes) {
      try {
        const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        if (!out.Body) return { ok: false, message: `s3://${bucket}/${key} has no body` };
        if ((out.ContentLength ?? 0) > maxBytes) {
          await out.Body.transformToWebStream().cancel();
          return {
            ok: false,
            message: `s3://${bucket}/${key} is ${out.ContentLength} bytes, over the ${maxBytes}-byte limit`,
          };
        }
        const bytes = await out.Body.transformToByteArray();
        if (bytes.byteLength > maxBytes)
          return { ok: false, message: `s3://${bucket}/${key} is over the ${maxBytes}-byte limit` };
        return { ok: true, bytes };
      } catch (error) {
        const name = errorName(error);
        if (name === "NoSuchKey" || name === "NoSuchBucket" || name === "NotFound") {
          return { ok: false, message: `the input artifact s3://${bucket}/${key} does not exist (${name})` };
        }
        return {
          ok: false,
          message: `could not read the input artifact s3://${bucket}/${key}: ${describeError(error)}`,
        };
      }
    },
  };
}

/** The stager for the job's `stagingBucket`, or none when no bucket is configured. */
export function stagerFor(parameters: { stagingBucket?: string; region?: string }): Stager | undefined {
  return parameters.stagingBucket
    ? createStager(s3Client({ region: parameters.region }), parameters.stagingBucket)
    : undefined;
}

/** Stages packages over the direct-upload limit under `lambda-gitops/<function>/<sha>.zip`. */
export function createStager(client: S3Client, bucket: string): Stager {
  return {
    async stage(functionName, codeSha256, bytes) {
      const key = `lambda-gitops/${functionName}/${Buffer.from(codeSha256, "base64").toString("hex")}.zip`;
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes }));
      return { bucket, key };
    },
  };
}

export type ObjectHash =
  | { ok: true; codeSha256: string; size: number }
  | { ok: false; message: string };

/**
 * SHA-256 (base64, as Lambda's CodeSha256) of an S3 object, streamed (never held in memory), up to
 * `maxBytes`. `publish --s3` needs the hash before any write: to tell "already published" from
 * "different code", and to guard PublishVersion.
 */
export async function hashObject(
  client: S3Client,
  bucket: string,
  key: string,
  maxBytes: number,
): Promise<ObjectHash> {
  const where = `s3://${bucket}/${key}`;
  try {
    const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!out.Body) return { ok: false, message: `${where} has no body` };
    const stream = out.Body.transformToWebStream();
    if ((out.ContentLength ?? 0) > maxBytes) {
      await stream.cancel();
      return { ok: false, message: `${where} is ${out.ContentLength} bytes, over the ${maxBytes}-byte limit` };
    }
    const hash = createHash("sha256");
    let size = 0;
    for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (size > maxBytes) return { ok: false, message: `${where} is over the ${maxBytes}-byte limit` };
      hash.update(chunk);
    }
    return { ok: true, codeSha256: hash.digest("base64"), size };
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === "NoSuchKey" || name === "NoSuchBucket" || name === "NotFound")
      return { ok: false, message: `${where} does not exist (${name})` };
    return { ok: false, message: `could not read ${where}: ${describeError(error)}` };
  }
}
