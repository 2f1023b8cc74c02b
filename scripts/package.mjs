// Builds the minified bundles and zips the Lambda entry points into dist/lambda-gitops.zip: the
// handler(s) with their source maps and nothing else (no node_modules, no dev dependencies).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { zipSync } from "fflate";

execFileSync(process.execPath, ["scripts/build.mjs", "--minify"], { stdio: "inherit" });

const files = {};
for (const name of ["handler.mjs", "handler.mjs.map", "pr-plan.mjs", "pr-plan.mjs.map", "drift.mjs", "drift.mjs.map"]) {
  const path = `dist/${name}`;
  if (existsSync(path)) files[name] = [readFileSync(path), { mtime: new Date("2020-01-01T00:00:00Z") }];
}
for (const name of ["handler.mjs", "drift.mjs"]) if (!files[name]) throw new Error(`dist/${name} was not built`);
const zip = zipSync(files, { level: 9 });
writeFileSync("dist/lambda-gitops.zip", zip);
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
for (const [name, [bytes]] of Object.entries(files)) console.log(`  ${name.padEnd(18)} ${kib(bytes.length)}`);
console.log(
  `dist/lambda-gitops.zip: ${kib(statSync("dist/lambda-gitops.zip").size)} (handlers: handler.handler, pr-plan.handler, drift.handler)`,
);
