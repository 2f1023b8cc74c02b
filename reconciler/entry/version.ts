/**
 * The CLI's version: embedded at build time (scripts/build.mjs defines __LAMBDA_GITOPS_VERSION__
 * from package.json), so the bundle needs no package.json beside it; from source (tsx), read from
 * the repository's package.json.
 */
import { readFileSync } from "node:fs";

declare const __LAMBDA_GITOPS_VERSION__: string | undefined;

export function cliVersion(): string {
  if (typeof __LAMBDA_GITOPS_VERSION__ === "string") return __LAMBDA_GITOPS_VERSION__;
  try {
    const pkg: unknown = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
    const version = typeof pkg === "object" && pkg !== null && "version" in pkg ? pkg.version : undefined;
    return typeof version === "string" ? version : "unknown";
  } catch {
    return "unknown";
  }
}
