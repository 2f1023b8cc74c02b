// `npm test`: type-check, lint, build, then the unit and integration tests. The type-check and the
// lint (one core each, and nothing else needs them) run while the tests run: the tests spend much
// of their time waiting on moto, child processes and rollout intervals. Their output is printed
// after the tests'; the run fails when any of them fails. Extra arguments go to mocha.
import { spawn } from "node:child_process";

const npm = process.platform === "win32" ? "npm.cmd" : "npm";

/** Runs a command; `buffered`: its output is kept and returned instead of shown as it comes. */
function run(command, args, buffered) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(command, args, { stdio: buffered ? ["ignore", "pipe", "pipe"] : "inherit" });
    let output = "";
    if (buffered) {
      child.stdout.setEncoding("utf8").on("data", (chunk) => (output += chunk));
      child.stderr.setEncoding("utf8").on("data", (chunk) => (output += chunk));
    }
    child.once("error", (error) => resolve({ code: 1, output: `${output}${error.message}\n`, seconds: 0 }));
    child.once("close", (code) => resolve({ code: code ?? 1, output, seconds: (Date.now() - started) / 1000 }));
  });
}

const checks = [
  ["typecheck", run(npm, ["run", "--silent", "typecheck"], true)],
  ["lint", run(npm, ["run", "--silent", "lint"], true)],
];
const build = await run(npm, ["run", "--silent", "build"], false);
const tests =
  build.code === 0
    ? await run("node_modules/.bin/mocha", ["test/unit/**/*.test.ts", "test/integration/**/*.test.ts", ...process.argv.slice(2)], false)
    : { code: 1, seconds: 0 };

let failed = build.code !== 0 || tests.code !== 0;
for (const [name, pending] of checks) {
  const { code, output, seconds } = await pending;
  process.stdout.write(`\n> ${name}: ${code === 0 ? "ok" : `FAILED (exit ${code})`} in ${seconds.toFixed(1)} s\n${output}`);
  failed ||= code !== 0;
}
process.stdout.write(`\n> tests: ${tests.code === 0 ? "ok" : "FAILED"} in ${tests.seconds.toFixed(1)} s\n`);
process.exit(failed ? 1 : 0);
