/**
 * Semantic versions and the Lambda alias names that carry them.
 *
 * Every deployed version is published behind an alias named after it. Lambda alias names match
 * `(?!^[0-9]+$)([a-zA-Z0-9-_]+)` and are 1..128 characters, so the version is mapped character by
 * character: "-" -> "_", then "." -> "-" ("1.2.0-rc.1" -> "1-2-0_rc-1"). Semver text never contains
 * "_", so the mapping is a bijection on its alphabet and therefore injective.
 */
import semver from "semver";

export const MAX_ALIAS_LENGTH = 128;

const EXAMPLE_VERSION = "1.4.2";
const MAX_QUOTED_LENGTH = 80;

/** A value quoted for a message; very long values are shortened so messages stay readable. */
export function quoteValue(value: string): string {
  if (value.length <= MAX_QUOTED_LENGTH) return JSON.stringify(value);
  return `${JSON.stringify(value.slice(0, MAX_QUOTED_LENGTH))}… (${value.length} characters)`;
}

/** Accepted by semver and already in canonical form: no "v"/"=" prefix, no build metadata, no padding. */
function isStrictSemver(value: string): boolean {
  return semver.parse(value)?.version === value;
}

/** Strict semver check. ok:false carries a human message with a hint. */
export function checkVersion(value: string): { ok: true } | { ok: false; message: string } {
  if (value.length > MAX_ALIAS_LENGTH) {
    return {
      ok: false,
      message:
        `${quoteValue(value)} is too long for a version: it becomes a Lambda alias name, ` +
        `which is limited to ${MAX_ALIAS_LENGTH} characters`,
    };
  }
  if (isStrictSemver(value)) return { ok: true };
  return { ok: false, message: `${quoteValue(value)} is not a valid semantic version${versionHint(value)}` };
}

function versionHint(value: string): string {
  const trimmed = value.trim();
  if (trimmed !== value && isStrictSemver(trimmed)) {
    return `: remove the surrounding whitespace (use ${JSON.stringify(trimmed)})`;
  }
  const prefix = /^[vV=]/.exec(value)?.[0];
  if (prefix !== undefined && isStrictSemver(value.slice(1))) {
    return `: drop the leading ${JSON.stringify(prefix)} (use ${JSON.stringify(value.slice(1))})`;
  }
  const plus = value.indexOf("+");
  if (plus > 0 && isStrictSemver(value.slice(0, plus))) {
    return (
      `: build metadata (${JSON.stringify(value.slice(plus))}) is not allowed, ` +
      "because Lambda alias names cannot carry it and two builds would map to one alias"
    );
  }
  if (/^\d+(\.\d+)?$/.test(value)) {
    const numbers = value.split(".").map(stripLeadingZeros);
    while (numbers.length < 3) numbers.push("0");
    return `: use three numbers, e.g. ${JSON.stringify(numbers.join("."))}`;
  }
  const unpadded = withoutLeadingZeros(value);
  if (unpadded !== undefined && unpadded !== value && isStrictSemver(unpadded)) {
    return `: numbers must not have leading zeros (use ${JSON.stringify(unpadded)})`;
  }
  return ` (expected MAJOR.MINOR.PATCH, e.g. ${JSON.stringify(EXAMPLE_VERSION)})`;
}

function stripLeadingZeros(digits: string): string {
  return digits.replace(/^0+(?=\d)/, "");
}

/** "01.2.3-rc.01" -> "1.2.3-rc.1"; undefined when the value is not shaped like a version. */
function withoutLeadingZeros(value: string): string | undefined {
  const match = /^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?$/.exec(value);
  if (!match) return undefined;
  const [, major = "", minor = "", patch = "", pre] = match;
  const core = [major, minor, patch].map(stripLeadingZeros).join(".");
  if (pre === undefined) return core;
  const ids = pre.split(".").map((id) => (/^\d+$/.test(id) ? stripLeadingZeros(id) : id));
  return `${core}-${ids.join(".")}`;
}

/** "1.1.1" -> "1-1-1"; pre-release: '-' -> '_' then '.' -> '-', so "1.2.0-rc.1" -> "1-2-0_rc-1". Assumes a valid version. */
export function versionToAlias(version: string): string {
  return version.replaceAll("-", "_").replaceAll(".", "-");
}

/** Inverse: returns the semver string, or undefined when the alias is not a valid version alias (e.g. "LIVE"). */
export function aliasToVersion(alias: string): string | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(alias)) return undefined;
  const version = alias.replaceAll("-", ".").replaceAll("_", "-");
  if (!checkVersion(version).ok || versionToAlias(version) !== alias) return undefined;
  return version;
}

/** semver comparison, -1/0/1 */
export function compareVersions(a: string, b: string): number {
  return semver.compare(a, b);
}
