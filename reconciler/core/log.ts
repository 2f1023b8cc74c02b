/**
 * Structured JSON logs, one object per line. Carries the job id and function name as context.
 * Never pass credentials, presigned URLs, events or code bytes: only the fields named here.
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
}

export function levelFromEnv(value: string | undefined, fallback: LogLevel): LogLevel {
  const v = value?.toLowerCase();
  return v && v in order ? (v as LogLevel) : fallback;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? "info";
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const context = options.context ?? {};
  const now = options.now ?? (() => new Date());
  const emit = (lvl: LogLevel, message: string, fields?: LogFields) => {
    if (order[lvl] < order[level]) return;
    const extra: Record<string, unknown> = {};
    for (const [key, value] of Object.entries({ ...context, ...fields })) {
      // The line's own keys cannot be overwritten by a field: such a field keeps its value as `field.<key>`.
      extra[RESERVED.has(key) ? `field.${key}` : key] = value;
    }
    write(JSON.stringify({ time: now().toISOString(), level: lvl, message, ...extra }));
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (fields) => createLogger({ level, write, now, context: { ...context, ...fields } }),
  };
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
): Logger {
  return createLogger({ level: levelFromEnv(env.LOG_LEVEL, fallback), write });
}
