/**
 * What the CLI prints for people: colour (on a terminal or with FORCE_COLOR, never with NO_COLOR),
 * and progress lines on stderr as each function settles (`[ 3/40] team-a-orders  applied  ...`),
 * on a terminal also as each step of a long one is done (download, upload, publish, LIVE moved),
 * taken from the apply log, and every 30 s for a function still waiting ("waiting for the code
 * update, 45 s"), so that a CI log never goes quiet.
 */
import type { LogFields, Logger } from "../core/log.ts";

export interface Paint {
  enabled: boolean;
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
}

/**
 * Colour when the stream is a terminal (and TERM is not dumb). NO_COLOR (https://no-color.org)
 * present and not empty, whatever its value, turns it off; FORCE_COLOR (https://force-color.org)
 * present and not empty, whatever its value, turns it on where there is no terminal. An empty
 * value is as if unset. NO_COLOR wins over FORCE_COLOR.
 */
export function colorEnabled(env: Record<string, string | undefined>, isTTY: boolean): boolean {
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR) return true;
  return isTTY && env.TERM !== "dumb";
}

export function paint(enabled: boolean): Paint {
  const sgr = (open: number, close: number) => (text: string) =>
    enabled ? `\u001b[${open}m${text}\u001b[${close}m` : text;
  return {
    enabled,
    bold: sgr(1, 22),
    dim: sgr(2, 22),
    red: sgr(31, 39),
    green: sgr(32, 39),
    yellow: sgr(33, 39),
  };
}

/** Apply log messages that mark a finished step of one function, as progress shows them. */
const STEP_MESSAGES: Record<string, string> = {
  "code downloaded and verified": "code downloaded and verified",
  "code updated": "code uploaded",
  "code already on $LATEST; not uploading again": "code already uploaded",
  "version published": "version published",
  "live alias moved": "LIVE moved",
  "changed concurrently; re-planning once": "changed meanwhile: re-planning",
  retrying: "retrying",
};

/** What a function is waiting for after each step, for the heartbeat during long waits. */
const NEXT_ACTIVITY: Record<string, string> = {
  "code downloaded and verified": "uploading the code",
  "code updated": "waiting for the code update",
  "code already on $LATEST; not uploading again": "publishing the version",
  "version published": "waiting for the version, then moving LIVE",
  "live alias moved": "finishing",
  "changed concurrently; re-planning once": "re-planning",
  retrying: "retrying",
};

/** Every 30 s a long wait prints a line, so a log without a terminal never goes quiet. */
export const HEARTBEAT_MS = 30_000;

export interface ProgressOptions {
  /** Print each finished step too (a terminal); without it only each function as it settles. */
  steps: boolean;
  /** Heartbeat period (default HEARTBEAT_MS). */
  heartbeatMs?: number;
  now?: () => number;
}

export interface Progress {
  /** One function finished: `status` coloured, `detail` after it. */
  finished(name: string, status: string, detail: string): void;
  /** A logger that also reports each step of a function as it happens. */
  tap(logger: Logger): Logger;
  /** Stop the heartbeat. */
  stop(): void;
}

export function createProgress(
  total: number,
  write: (line: string) => void,
  colors: Paint,
  options: ProgressOptions = { steps: true },
): Progress {
  const now = options.now ?? Date.now;
  const heartbeatMs = options.heartbeatMs ?? HEARTBEAT_MS;
  /** Functions started and not settled: what each waits for, since when. */
  const inFlight = new Map<string, { activity: string; since: number }>();
  const timer = setInterval(() => {
    const at = now();
    for (const [name, { activity, since }] of inFlight) {
      const seconds = Math.floor((at - since) / 1000);
      if (at - since >= heartbeatMs) write(colors.dim(`${name}: ${activity}, ${seconds} s`));
    }
  }, heartbeatMs);
  timer.unref();
  let done = 0;
  const width = String(total).length;
  const counter = (n: number) => `[${String(n).padStart(width)}/${total}]`;
  const statusColor = (status: string) =>
    status === "failed" || status === "blocked"
      ? colors.red(status)
      : status === "applied"
        ? colors.green(status)
        : status === "unchanged"
          ? colors.dim(status)
          : colors.yellow(status);
  const step = (fields: LogFields, message: string) => {
    const label = STEP_MESSAGES[message];
    const fn = fields.function;
    if (label === undefined || typeof fn !== "string") return;
    if (inFlight.has(fn)) inFlight.set(fn, { activity: NEXT_ACTIVITY[message] ?? "working", since: now() });
    if (!options.steps) return;
    const what = [fields.version, fields.step].filter((v) => typeof v === "string").join(" ");
    write(colors.dim(`${" ".repeat(counter(0).length)} ${fn}: ${label}${what ? ` (${what})` : ""}`));
  };
  const tap = (logger: Logger, context: LogFields = {}): Logger => ({
    debug: (m, f) => logger.debug(m, f),
    info: (m, f) => {
      step({ ...context, ...f }, m);
      logger.info(m, f);
    },
    warn: (m, f) => {
      step({ ...context, ...f }, m);
      logger.warn(m, f);
    },
    error: (m, f) => logger.error(m, f),
    child: (fields) => {
      const fn = fields.function;
      if (typeof fn === "string" && !inFlight.has(fn)) inFlight.set(fn, { activity: "working", since: now() });
      return tap(logger.child(fields), { ...context, ...fields });
    },
  });
  return {
    finished(name, status, detail) {
      inFlight.delete(name);
      done += 1;
      write(`${counter(done)} ${name}  ${statusColor(status)}${detail ? `  ${detail}` : ""}`);
    },
    tap: (logger) => tap(logger),
    stop: () => clearInterval(timer),
  };
}
