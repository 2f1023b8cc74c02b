/**
 * Network failures as the user needs them named: the error code (ECONNREFUSED, ENOTFOUND,
 * UND_ERR_SOCKET...) and the host, found through `cause` (fetch wraps them in "TypeError: fetch
 * failed"), and a URL's host without its path or query (presigned URLs carry credentials).
 */

/** The first `code` (and host) along the error's `cause` chain. */
export function networkCause(error: unknown): { code: string; host: string | undefined } | undefined {
  let e: unknown = error;
  for (let depth = 0; e !== null && typeof e === "object" && depth < 5; depth++) {
    const code: unknown = "code" in e ? e.code : undefined;
    if (typeof code === "string" && code !== "") {
      const hostname: unknown = "hostname" in e ? e.hostname : undefined;
      const address: unknown = "address" in e ? e.address : undefined;
      const port: unknown = "port" in e ? e.port : undefined;
      const host =
        typeof hostname === "string"
          ? hostname
          : typeof address === "string"
            ? `${address}${typeof port === "number" ? `:${port}` : ""}`
            : undefined;
      return { code, host };
    }
    e = "cause" in e ? e.cause : undefined;
  }
  return undefined;
}

/** "bucket.s3.amazonaws.com" for a presigned URL: never the path or the signed query. */
export function hostOf(url: string): string {
  try {
    return new URL(url).host || "an unknown host";
  } catch {
    return "an unparsable URL";
  }
}
