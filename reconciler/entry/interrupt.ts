/**
 * Ctrl-C and SIGTERM during a run that writes: the first signal stops starting new functions and
 * lets each step in flight finish its guarded write (rollouts stop waiting and stay at their step);
 * the second exits at once, which is safe because every write is guarded and the next run converges.
 */
import { EXIT_INTERRUPTED } from "./command.ts";

export interface Interrupts {
  /** Aborted on the first signal. */
  signal: AbortSignal;
  /** Stop listening (the process's default handling returns). */
  dispose(): void;
}

const SIGNALS = ["SIGINT", "SIGTERM"] as const;

/** Listen for SIGINT and SIGTERM; `notice` is told once, at the first one. */
export function watchInterrupts(notice: (line: string) => void): Interrupts {
  const controller = new AbortController();
  const handler = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(EXIT_INTERRUPTED);
    controller.abort();
    notice(
      `${signal === "SIGINT" ? "Interrupt" : "SIGTERM"} received: starting no new function; the steps in flight finish their write (again to exit at once).`,
    );
  };
  for (const s of SIGNALS) process.on(s, handler);
  return {
    signal: controller.signal,
    dispose: () => {
      for (const s of SIGNALS) process.off(s, handler);
    },
  };
}
