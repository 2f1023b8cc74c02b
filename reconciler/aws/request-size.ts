/**
 * Whether a package can go to UpdateFunctionCode directly (`ZipFile`) or must be staged in S3.
 * Lambda limits the *request*, and the request carries the zip base64-encoded in JSON: AWS answers
 * RequestEntityTooLargeException "Request must be smaller than 69905067 bytes for the
 * UpdateFunctionCode operation" (69905067 = 50 MiB × 4/3, rounded up). So a zip of exactly 50 MiB
 * (52,428,800 bytes) is already too large once encoded; deciding on 50 MiB of bytes fails late.
 */

/** UpdateFunctionCode's request size limit in bytes (the base64 zip and the JSON around it). */
export const UPDATE_CODE_REQUEST_LIMIT = 69_905_067;
/** The JSON around the base64 zip: keys, RevisionId, Architectures, quotes (generous). */
export const UPDATE_CODE_REQUEST_OVERHEAD = 1024;

/** Length of the base64 encoding of `bytes` bytes (with padding). */
export function base64Length(bytes: number): number {
  return 4 * Math.ceil(bytes / 3);
}

/** True when a zip of `zipBytes` bytes fits in one UpdateFunctionCode request. */
export function fitsDirectUpload(zipBytes: number): boolean {
  return base64Length(zipBytes) + UPDATE_CODE_REQUEST_OVERHEAD < UPDATE_CODE_REQUEST_LIMIT;
}

/** The largest zip that fits directly (for messages). */
export const MAX_DIRECT_ZIP_BYTES = 3 * Math.floor((UPDATE_CODE_REQUEST_LIMIT - UPDATE_CODE_REQUEST_OVERHEAD - 1) / 4);
