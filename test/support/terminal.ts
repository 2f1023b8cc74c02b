/**
 * Runs the built CLI on a pseudo-terminal (util-linux `script`): stdin, stdout and stderr are all a
 * TTY, output merged into `stdout`; `input` is typed into it.
 */
import { spawn } from "node:child_process";
import { CLI_BUNDLE, type ChildResult } from "./scenario.ts";

export function runOnTerminal(
  args: readonly string[],
  env: Record<string, string>,
  cwd: string,
  input = "",
): Promise<ChildResult> {
  const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
  const command = [process.execPath, CLI_BUNDLE, ...args].map(quote).join(" ");
  return new Promise((resolve, reject) => {
    const child = spawn("script", ["-qec", command, "/dev/null"], { env: { ...env, TERM: "xterm-256color" }, cwd });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr: "" });
    });
    child.stdin.write(input);
  });
}
