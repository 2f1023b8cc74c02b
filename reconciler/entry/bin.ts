/**
 * The `lambda-gitops` executable (dist/cli.mjs): the process's streams, terminals and environment
 * handed to runCli.
 */
import { createInterface } from "node:readline/promises";
import { runCli } from "./cli.ts";

// The AWS SDK prints a 9-line notice on every run under Node < 22 ("NodeVersionSupportWarning");
// its documented opt-out is this variable, read when the first client is made. The README states
// the Node versions supported; set the variable to "false" to see the SDK's notice again.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

async function prompt(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

const code = await runCli(process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
  stdoutIsTTY: process.stdout.isTTY === true,
  stderrIsTTY: process.stderr.isTTY === true,
  stdinIsTTY: process.stdin.isTTY === true,
  prompt,
});
process.exitCode = code;
