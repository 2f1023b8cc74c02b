/**
 * Structured JSON logs, one object per line. Carries the job id and function name as context.
 * Never pass credentials, presigned URLs, events or code bytes: only the fields named here.
 * `format: "text"` writes the same content as readable lines (the CLI on a terminal).
 */
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";
const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

const RESERVED = new Set(["time", "level", "message"]);

export type LogFields = Record<string, string | number | boolean | null | undefined | readonly string[]>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  write?: (line: string) => void;
  context?: LogFields;
  now?: () => Date;
  /** `json` (default): one JSON object per line; `text`: `12:00:01 WARN  fn: message key=value`. */
  format?: LogFormat;
}

export type LogFormat = "json" | "text";

export function levelFromEnv(value: string | undefined, fallback: LogLevel): LogLevel {
  const v = value?.toLowerCase();
  return v && v in order ? (v as LogLevel) : fallback;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? "info";
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const context = options.context ?? {};
  const now = options.now ?? (() => new Date());
  const format = options.format ?? "json";
  const emit = (lvl: LogLevel, message: string, fields?: LogFields) => {
    if (order[lvl] < order[level]) return;
    const extra: Record<string, unknown> = {};
    for (const [key, value] of Object.entries({ ...context, ...fields })) {
      // The line's own keys cannot be overwritten by a field: such a field keeps its value as `field.<key>`.
      extra[RESERVED.has(key) ? `field.${key}` : key] = value;
    }
    const time = now().toISOString();
    write(format === "text" ? textLine(time, lvl, message, extra) : JSON.stringify({ time, level: lvl, message, ...extra }));
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (fields) => createLogger({ level, write, now, format, context: { ...context, ...fields } }),
  };
}

/** `12:00:01 WARN  team-a-orders: retrying step=UpdateAlias attempt=2`: the function leads. */
export function textLine(time: string, level: LogLevel, message: string, fields: Record<string, unknown>): string {
  const { function: fn, ...rest } = fields;
  const pairs = Object.entries(rest)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === "string" && !/\s/.test(v) ? v : JSON.stringify(v)}`);
  const lead = `${time.slice(11, 19)} ${level.toUpperCase().padEnd(5)}`;
  return [lead, `${typeof fn === "string" ? `${fn}: ` : ""}${message}`, ...pairs].join(" ");
}

export const silentLogger: Logger = createLogger({ level: "silent" });

/**
 * The logger of an entry point: level from `LOG_LEVEL` (else `fallback`), one JSON line per `write`
 * (default: stdout, which Lambda sends to CloudWatch Logs).
 */
export function entryLogger(
  env: Record<string, string | undefined>,
  fallback: LogLevel,
  write: (line: string) => void = (line) => console.log(line),
  format: LogFormat = "json",
): Logger {
  return createLogger({ level: levelFromEnv(env.LOG_LEVEL, fallback), write, format });
}
