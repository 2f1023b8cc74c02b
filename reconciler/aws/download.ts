/**
 * Downloads a deployment package from a presigned `Code.Location` URL (valid 10 minutes: fetched
 * at once, never stored or logged), with a size cap, and verifies its SHA-256 (base64) against the
 * source version's CodeSha256. Unverified bytes are never returned.
 */
import { createHash } from "node:crypto";
import { errorName } from "../core/errors.ts";

export type DownloadResult = { ok: true; bytes: Uint8Array } | { ok: false; message: string };

export type Downloader = (
  url: string,
  expected: { codeSha256: string; maxBytes: number },
) => Promise<DownloadResult>;

export function sha256Base64(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("base64");
}

export const downloadPackage: Downloader = async (url, expected) => {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(120_000) });
  } catch (error) {
    return { ok: false, message: `code download failed: ${errorName(error)}` };
  }
  if (!response.ok || !response.body)
    return { ok: false, message: `code download failed: HTTP ${response.status}` };
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > expected.maxBytes) {
    await response.body.cancel();
    return { ok: false, message: `package is ${declared} bytes, over the ${expected.maxBytes}-byte limit` };
  }
  const hash = createHash("sha256");
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > expected.maxBytes) {
        await reader.cancel();
        return { ok: false, message: `package exceeds the ${expected.maxBytes}-byte limit` };
      }
      hash.update(value);
      chunks.push(value);
    }
  } catch (error) {
    return { ok: false, message: `code download interrupted: ${errorName(error)}` };
  }
  const actual = hash.digest("base64");
  if (actual !== expected.codeSha256) {
    return {
      ok: false,
      message: `downloaded package hash ${actual} does not match the source version's CodeSha256 ${expected.codeSha256}; refusing to deploy unverified bytes`,
    };
  }
  return { ok: true, bytes: Buffer.concat(chunks) };
};
