/**
 * What the CLI prints for people: colour (only on a terminal, never with NO_COLOR), and progress
 * lines on stderr as each function finishes (`[ 3/40] team-a-orders  applied  ...`) and as each
 * step of a long one is done (download, upload, publish, LIVE moved), taken from the apply log.
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
 * Colour when the stream is a terminal, unless NO_COLOR is set (https://no-color.org: any
 * non-empty value) or TERM=dumb; FORCE_COLOR (not "0") forces it where there is no terminal.
 * NO_COLOR always wins.
 */
export function colorEnabled(env: Record<string, string | undefined>, isTTY: boolean): boolean {
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0" && env.FORCE_COLOR !== "false") return true;
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

export interface Progress {
  /** One function finished: `status` coloured, `detail` after it. */
  finished(name: string, status: string, detail: string): void;
  /** A logger that also reports each step of a function as it happens. */
  tap(logger: Logger): Logger;
}

export function createProgress(total: number, write: (line: string) => void, colors: Paint): Progress {
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
    child: (fields) => tap(logger.child(fields), { ...context, ...fields }),
  });
  return {
    finished(name, status, detail) {
      done += 1;
      write(`${counter(done)} ${name}  ${statusColor(status)}${detail ? `  ${detail}` : ""}`);
    },
    tap: (logger) => tap(logger),
  };
}
