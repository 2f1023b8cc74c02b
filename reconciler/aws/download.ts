/**
 * Downloads a deployment package from a presigned `Code.Location` URL (valid 10 minutes: fetched
 * at once, never stored or logged), with a size cap, and verifies its SHA-256 (base64) against the
 * source version's CodeSha256. Unverified bytes are never returned.
 */
import { createHash } from "node:crypto";
import { hostOf, networkCause } from "../core/network.ts";

/**
 * A failed download says why: `httpStatus` when the server answered with an error status (a 403
 * from a presigned `Code.Location` usually means the 10-minute link expired: fetch a new one).
 */
export type DownloadResult =
  | { ok: true; bytes: Uint8Array }
  /** `timedOut`: the transfer was cut at `expected.timeoutMs`. */
  | { ok: false; message: string; httpStatus?: number; timedOut?: true };

/** The longest a code download may take. */
export const DOWNLOAD_TIMEOUT_MS = 120_000;

export type Downloader = (
  url: string,
  /** `timeoutMs`: cut the transfer after this long (default DOWNLOAD_TIMEOUT_MS; the deadline may shorten it). */
  expected: { codeSha256: string; maxBytes: number; timeoutMs?: number },
) => Promise<DownloadResult>;

export function sha256Base64(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("base64");
}

export const downloadPackage: Downloader = async (url, expected) => {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(expected.timeoutMs ?? DOWNLOAD_TIMEOUT_MS) });
  } catch (error) {
    return { ok: false, message: `code download from ${hostOf(url)} failed: ${downloadCause(error)}`, ...timedOut(error) };
  }
  if (!response.ok || !response.body)
    return { ok: false, message: `code download failed: HTTP ${response.status}`, httpStatus: response.status };
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
    return { ok: false, message: `code download from ${hostOf(url)} interrupted: ${downloadCause(error)}`, ...timedOut(error) };
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

const timedOut = (error: unknown): { timedOut?: true } =>
  error instanceof Error && error.name === "TimeoutError" ? { timedOut: true } : {};

/** The network code (ECONNREFUSED, ENOTFOUND...) or the error's name (TimeoutError): never the URL. */
function downloadCause(error: unknown): string {
  const cause = networkCause(error);
  if (cause) return cause.code;
  return error instanceof Error && error.name !== "Error" ? error.name : "unknown error";
}

/**
 * Downloads from a link fetched when the transfer actually starts (`fetchLink`, e.g. a fresh
 * GetFunction: a link read earlier and queued behind other transfers may have expired), and fetches
 * a new link once when the download answers 403 (the 10-minute link expired meanwhile).
 */
export async function downloadWithFreshLink(
  fetchLink: () => Promise<string | undefined>,
  download: Downloader,
  expected: { codeSha256: string; maxBytes: number },
): Promise<DownloadResult> {
  for (let attempt = 1; ; attempt++) {
    const url = await fetchLink();
    if (url === undefined) return { ok: false, message: "the source version has no code location to download" };
    const result = await download(url, expected);
    if (result.ok || result.httpStatus !== 403 || attempt >= 2) {
      return !result.ok && result.httpStatus === 403
        ? { ...result, message: `${result.message} (also with a freshly fetched code link)` }
        : result;
    }
  }
}
