/**
 * Extract one file (the definition file) from the pipeline's input artifact, a zip held in memory.
 *
 * The artifact is untrusted input: anything malformed or hostile comes back as an `ExtractResult`
 * failure value, never as a throw, an unhandled 'error' event or unbounded memory use.
 * - The zip, its entry count and the sum of declared sizes are bounded before any data is read.
 * - Any unsafe entry name (absolute, `..`, backslash, NUL) refuses the whole artifact.
 * - Only the wanted entry is decompressed, counting bytes as they stream and stopping at the first
 *   byte over the limit or over its declared size, so a lying header cannot inflate a zip bomb.
 * - The wanted entry is checked against its CRC-32 (yauzl does not check CRCs).
 */

import { Buffer } from "node:buffer";
import type { Readable } from "node:stream";
import { crc32 } from "node:zlib";
import type { Entry, ZipFile } from "yauzl";
import yauzl from "yauzl";
import { toError } from "../core/errors.ts";
import { MAX_DEFINITION_BYTES } from "./definitions.ts";

export interface ZipLimits {
  /** Most entries (files and directories) the zip may list. */
  maxEntries: number;
  /** Largest uncompressed size of the wanted file, declared or actual. */
  maxFileBytes: number;
  /** Largest sum of the declared uncompressed sizes of all entries. */
  maxTotalUncompressedBytes: number;
  /** Largest zip accepted at all. */
  maxZipBytes: number;
}

const MiB = 1024 * 1024;

/** The limits the pipeline handler reads the repository zip with (and the tests start from). */
export const DEFAULT_ZIP_LIMITS: ZipLimits = Object.freeze({
  maxEntries: 20_000,
  maxFileBytes: MAX_DEFINITION_BYTES,
  maxTotalUncompressedBytes: 2048 * MiB,
  maxZipBytes: 256 * MiB,
});

export type ExtractResult =
  | { ok: true; path: string; bytes: Uint8Array }
  | {
      ok: false;
      reason:
        | "not-a-zip"
        | "too-large"
        | "too-many-entries"
        | "unsafe-path"
        | "not-found"
        | "corrupt"
        | "encrypted";
      message: string;
    };

type ExtractFailure = Extract<ExtractResult, { ok: false }>;
type FailureReason = ExtractFailure["reason"];

const MAX_SUGGESTIONS = 5;

function fail(reason: FailureReason, message: string): ExtractFailure {
  return { ok: false, reason, message };
}

/**
 * Normalise the configured definition path: a relative POSIX path inside the repository.
 * Strips leading `./` (and any `.` or empty segments); rejects empty, absolute, `..`, backslashes,
 * NUL and paths naming a directory.
 */
export function normaliseWantedPath(p: string): { ok: true; path: string } | { ok: false; message: string } {
  const example = '"deploy/prod/lambdas.json"';
  if (typeof p !== "string" || p.trim() === "") {
    return { ok: false, message: `definition path is empty; give a relative path such as ${example}` };
  }
  const shown = quote(p);
  if (p.includes("\0")) return { ok: false, message: `definition path ${shown} contains a NUL character` };
  if (p.includes("\\")) {
    return {
      ok: false,
      message: `definition path ${shown} contains a backslash; use forward slashes, e.g. ${example}`,
    };
  }
  if (isAbsolute(p)) {
    return {
      ok: false,
      message: `definition path ${shown} is absolute; give it relative to the repository root, e.g. ${example}`,
    };
  }
  const segments = p.split("/");
  if (segments.includes("..")) {
    return {
      ok: false,
      message: `definition path ${shown} contains a ".." segment; give a path inside the repository`,
    };
  }
  const kept = segments.filter((s) => s !== "" && s !== ".");
  if (kept.length === 0 || p.endsWith("/") || segments[segments.length - 1] === ".") {
    return {
      ok: false,
      message: `definition path ${shown} names a directory; give the file, e.g. ${example}`,
    };
  }
  return { ok: true, path: kept.join("/") };
}

/**
 * Extract `wanted` (a relative POSIX path such as "lambdas.json" or "deploy/prod/lambdas.json") from `zip`.
 * Never throws and never rejects.
 */
export async function extractFile(
  zip: Uint8Array,
  wanted: string,
  limits: ZipLimits = DEFAULT_ZIP_LIMITS,
): Promise<ExtractResult> {
  const target = normaliseWantedPath(wanted);
  if (!target.ok) return fail("unsafe-path", target.message);
  const path = target.path;

  if (!(zip instanceof Uint8Array))
    return fail("not-a-zip", "artifact is not binary data; expected the zip bytes");
  if (zip.byteLength > limits.maxZipBytes) {
    return fail(
      "too-large",
      `artifact is ${formatBytes(zip.byteLength)}, over the ${formatBytes(limits.maxZipBytes)} limit for zip artifacts; keep large files out of the repository`,
    );
  }
  if (zip.byteLength === 0) {
    return fail("not-a-zip", "artifact is empty (0 bytes), not a zip; check the pipeline's input artifact");
  }

  const opened = await openZip(zip);
  if (!opened.ok) return opened;
  const zipfile = opened.zipfile;
  try {
    if (zipfile.entryCount > limits.maxEntries) {
      return fail(
        "too-many-entries",
        `artifact lists ${zipfile.entryCount} entries, over the limit of ${limits.maxEntries}; is this the repository zip?`,
      );
    }
    const scan = await scanEntries(zipfile, path, limits);
    if (!scan.ok) return scan;
    const entry = scan.wanted;
    if (entry === undefined) return fail("not-found", notFoundMessage(path, scan.fileCount, scan.similar));
    if (entry.uncompressedSize > limits.maxFileBytes) {
      return fail(
        "too-large",
        `${quote(path)} is ${formatBytes(entry.uncompressedSize)} uncompressed, over the ${formatBytes(limits.maxFileBytes)} limit for the definition file`,
      );
    }
    if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
      return fail(
        "corrupt",
        `${quote(path)} uses unsupported zip compression method ${entry.compressionMethod}; only stored and deflate are read`,
      );
    }
    return await readWanted(zipfile, entry, path, limits);
  } catch (error) {
    // Defensive: every known path resolves to a value; this keeps the "never throws" promise.
    return fail("corrupt", `artifact could not be read (${detail(error)})`);
  } finally {
    closeQuietly(zipfile);
  }
}

// ---------------------------------------------------------------------------------------------
// Opening

type Opened = { ok: true; zipfile: ZipFile } | ExtractFailure;

function openZip(zip: Uint8Array): Promise<Opened> {
  // yauzl reads with Buffer methods; view the same memory rather than copying it.
  const buffer = Buffer.isBuffer(zip) ? zip : Buffer.from(zip.buffer, zip.byteOffset, zip.byteLength);
  return new Promise<Opened>((resolve) => {
    const notAZip = (error: unknown) =>
      resolve(
        fail(
          "not-a-zip",
          `artifact is not a readable zip (${detail(error)}); check that the input artifact is the source zip`,
        ),
      );
    try {
      yauzl.fromBuffer(
        buffer,
        { lazyEntries: true, validateEntrySizes: true, strictFileNames: true, decodeStrings: true },
        (error, zipfile) => {
          if (error || !zipfile) return notAZip(error ?? "no zip file");
          // A permanent sink: a late error must never become an unhandled 'error' event.
          zipfile.on("error", () => {});
          resolve({ ok: true, zipfile });
        },
      );
    } catch (error) {
      notAZip(error);
    }
  });
}

function closeQuietly(zipfile: ZipFile): void {
  try {
    zipfile.close();
  } catch {
    // Closing an in-memory zip only drops a reference count; nothing to report.
  }
}

// ---------------------------------------------------------------------------------------------
// Scanning the central directory

type Scan = { ok: true; wanted: Entry | undefined; fileCount: number; similar: string[] } | ExtractFailure;

function scanEntries(zipfile: ZipFile, path: string, limits: ZipLimits): Promise<Scan> {
  return new Promise<Scan>((resolve) => {
    let settled = false;
    let entries = 0;
    let fileCount = 0;
    let declaredTotal = 0;
    let wanted: Entry | undefined;
    const similar: string[] = [];
    const looksSimilar = similarityTest(path);

    const finish = (result: Scan) => {
      if (settled) return;
      settled = true;
      zipfile.removeListener("entry", onEntry);
      zipfile.removeListener("end", onEnd);
      zipfile.removeListener("error", onError);
      resolve(result);
    };

    const next = () => {
      try {
        zipfile.readEntry();
      } catch (error) {
        finish(fail("corrupt", `artifact could not be read (${detail(error)})`));
      }
    };

    const onEntry = (entry: Entry) => {
      if (settled) return;
      try {
        const failure = checkEntry(entry);
        if (failure) return finish(failure);
        next();
      } catch (error) {
        finish(fail("corrupt", `artifact could not be read (${detail(error)})`));
      }
    };

    const checkEntry = (entry: Entry): ExtractFailure | undefined => {
      entries += 1;
      if (entries > limits.maxEntries) {
        return fail(
          "too-many-entries",
          `artifact has more than ${limits.maxEntries} entries; is this the repository zip?`,
        );
      }
      const name = entry.fileName;
      const unsafe = unsafeNameReason(name);
      if (unsafe) return unsafePath(name, unsafe);
      if (entry.isEncrypted()) {
        return fail(
          "encrypted",
          `artifact entry ${quote(name)} is encrypted; the artifact must be an unencrypted zip`,
        );
      }
      declaredTotal += entry.uncompressedSize;
      if (declaredTotal > limits.maxTotalUncompressedBytes) {
        return fail(
          "too-large",
          `artifact declares more than ${formatBytes(limits.maxTotalUncompressedBytes)} uncompressed in total (at ${quote(name)}); keep large files out of the repository`,
        );
      }
      if (name.endsWith("/")) return undefined; // a directory entry
      const canonical = canonicalName(name);
      if (canonical === "") return undefined;
      fileCount += 1;
      if (canonical === path) {
        if (wanted !== undefined) {
          return fail(
            "corrupt",
            `${quote(path)} appears more than once in the artifact; refusing to pick one of the copies`,
          );
        }
        wanted = entry;
      } else if (looksSimilar(canonical)) {
        similar.push(canonical);
      }
      return undefined;
    };

    const onEnd = () => finish({ ok: true, wanted, fileCount, similar });
    const onError = (error: unknown) => finish(classifyDirectoryError(error));

    zipfile.on("entry", onEntry);
    zipfile.on("end", onEnd);
    zipfile.on("error", onError);
    next();
  });
}

function isAbsolute(name: string): boolean {
  return name.startsWith("/") || /^[A-Za-z]:/.test(name);
}

/** Why an entry name is unsafe to have in the artifact at all, or undefined if it is fine. */
function unsafeNameReason(name: string): string | undefined {
  if (name.includes("\0")) return "contains a NUL character";
  if (name.includes("\\")) return "contains a backslash";
  if (isAbsolute(name)) return "is an absolute path";
  if (name.split("/").includes("..")) return 'contains a ".." segment';
  return undefined;
}

function unsafePath(name: string, why: string): ExtractFailure {
  return fail("unsafe-path", `artifact entry ${quote(name)} ${why}; refusing the whole artifact`);
}

/** `./a//b` and `a/b` are the same file to anyone unpacking the zip. */
function canonicalName(name: string): string {
  return name
    .split("/")
    .filter((s) => s !== "" && s !== ".")
    .join("/");
}

// yauzl (strictFileNames) rejects unsafe names with an error instead of an entry; these are its messages.
const YAUZL_NAME_ERROR =
  /^(?:invalid characters in fileName|absolute path|invalid relative path): ([\s\S]*)$/;

function classifyDirectoryError(error: unknown): ExtractFailure {
  const message = toError(error).message;
  const name = YAUZL_NAME_ERROR.exec(message)?.[1];
  if (name !== undefined) return unsafePath(name, unsafeNameReason(name) ?? "is unsafe");
  if (/strong encryption/i.test(message)) {
    return fail(
      "encrypted",
      "artifact has an entry with strong encryption; the artifact must be an unencrypted zip",
    );
  }
  if (/size mismatch/i.test(message)) {
    return fail(
      "corrupt",
      `artifact has a stored entry whose sizes disagree (${detail(error)}); the artifact is corrupt or hostile`,
    );
  }
  return fail(
    "not-a-zip",
    `artifact's zip central directory is truncated or damaged (${detail(error)}); re-run the source stage`,
  );
}

// ---------------------------------------------------------------------------------------------
// Reading the wanted entry

function readWanted(zipfile: ZipFile, entry: Entry, path: string, limits: ZipLimits): Promise<ExtractResult> {
  const shown = quote(path);
  const declared = entry.uncompressedSize;
  const corrupt = (what: string) => fail("corrupt", `${shown} ${what}; the artifact is corrupt or hostile`);

  return new Promise<ExtractResult>((resolve) => {
    let settled = false;
    let stream: Readable | undefined;
    const finish = (result: ExtractResult) => {
      if (settled) return;
      settled = true;
      if (!result.ok && stream) {
        try {
          stream.destroy(); // stops decompression; nothing is piped from it, so no unpipe is needed
        } catch {
          // already torn down
        }
      }
      resolve(result);
    };

    const onOpened = (error: Error | null, opened: Readable | undefined) => {
      if (settled) return;
      if (error || !opened) return finish(corrupt(`cannot be opened (${detail(error ?? "no stream")})`));
      stream = opened;
      const chunks: Uint8Array[] = [];
      let received = 0;
      opened.on("data", (chunk: unknown) => {
        if (settled) return;
        if (!(chunk instanceof Uint8Array)) return finish(corrupt("yielded non-binary data"));
        received += chunk.byteLength;
        if (received > limits.maxFileBytes) {
          return finish(
            fail(
              "too-large",
              `${shown} decompresses to more than ${formatBytes(limits.maxFileBytes)}, the limit for the definition file`,
            ),
          );
        }
        if (received > declared)
          return finish(corrupt(`holds more data than the ${declared} bytes its header declares`));
        chunks.push(chunk);
      });
      opened.on("error", (streamError: unknown) =>
        finish(classifyStreamError(streamError, corrupt, declared)),
      );
      opened.on("end", () => {
        if (settled) return;
        if (received !== declared) {
          return finish(corrupt(`holds ${received} bytes but its header declares ${declared}`));
        }
        const bytes = new Uint8Array(received);
        let offset = 0;
        for (const chunk of chunks) {
          bytes.set(chunk, offset);
          offset += chunk.byteLength;
        }
        if (crc32(bytes) !== entry.crc32 >>> 0) return finish(corrupt("fails its CRC-32 check"));
        finish({ ok: true, path, bytes });
      });
    };

    try {
      zipfile.openReadStream(entry, onOpened);
    } catch (error) {
      finish(corrupt(`cannot be opened (${detail(error)})`));
    }
  });
}

function classifyStreamError(
  error: unknown,
  corrupt: (what: string) => ExtractFailure,
  declared: number,
): ExtractFailure {
  const message = toError(error).message;
  if (/too many bytes/i.test(message))
    return corrupt(`holds more data than the ${declared} bytes its header declares`);
  if (/not enough bytes/i.test(message))
    return corrupt(`holds less data than the ${declared} bytes its header declares`);
  return corrupt(`cannot be decompressed (${detail(error)})`);
}

// ---------------------------------------------------------------------------------------------
// Messages

function similarityTest(path: string): (candidate: string) => boolean {
  const base = basename(path).toLowerCase();
  const dot = base.indexOf(".");
  const stem = dot > 0 ? base.slice(0, dot) : base;
  return (candidate) => {
    const b = basename(candidate).toLowerCase();
    return b === base || b === stem || b.startsWith(`${stem}.`);
  };
}

function notFoundMessage(path: string, fileCount: number, similar: string[]): string {
  const shown = quote(path);
  if (similar.length === 0) {
    const files = fileCount === 1 ? "1 file" : `${fileCount} files`;
    return `${shown} not found in the artifact (${files}, none named like it); check the definition path and the source stage`;
  }
  const wantedBase = basename(path).toLowerCase();
  const rank = (p: string) =>
    p.toLowerCase() === path.toLowerCase() ? 0 : basename(p).toLowerCase() === wantedBase ? 1 : 2;
  const sorted = [...similar].sort(
    (a, b) => rank(a) - rank(b) || a.split("/").length - b.split("/").length || (a < b ? -1 : a > b ? 1 : 0),
  );
  const listed = sorted.slice(0, MAX_SUGGESTIONS).map(quote).join(", ");
  const more = sorted.length > MAX_SUGGESTIONS ? ` and ${sorted.length - MAX_SUGGESTIONS} more` : "";
  return `${shown} not found in the artifact; similar files: ${listed}${more}; set the definition path to the right one`;
}

function basename(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash === -1 ? path : path.slice(slash + 1);
}

/** A path for a message: JSON-quoted (control characters escaped) and cut short. */
function quote(text: string): string {
  const max = 200;
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}

/** A short, single-line, escaped description of an error from yauzl or zlib. */
function detail(error: unknown): string {
  const text = JSON.stringify(toError(error).message).slice(1, -1);
  return text.length > 160 ? `${text.slice(0, 160)}…` : text;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < MiB) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / MiB).toFixed(1)} MiB`;
}
