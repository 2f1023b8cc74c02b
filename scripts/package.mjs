// Builds the minified bundles and zips the Lambda entry points into dist/lambda-gitops.zip: every
// handler bundle scripts/build.mjs writes (dist/<name>.mjs, each with its source map) and nothing
// else: no CLI, no node_modules, no dev dependencies. The templates in infra/ name these handlers
// (`Handler: <name>.handler`); test/integration/package.test.ts checks that every one loads from the zip.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { zipSync } from "fflate";

execFileSync(process.execPath, ["scripts/build.mjs", "--minify"], { stdio: "inherit" });

/** The CLI bundle is run by people and CI, never by Lambda: it stays out of the zip. */
const NOT_A_HANDLER = new Set(["cli.mjs", "cli.mjs.map"]);

const names = readdirSync("dist")
  .filter((name) => /\.mjs(\.map)?$/.test(name) && !NOT_A_HANDLER.has(name))
  .sort();
const files = {};
for (const name of names) files[name] = [readFileSync(`dist/${name}`), { mtime: new Date("2020-01-01T00:00:00Z") }];
if (!names.some((name) => name.endsWith(".mjs"))) throw new Error("scripts/build.mjs built no handler bundle");
const zip = zipSync(files, { level: 9 });
writeFileSync("dist/lambda-gitops.zip", zip);
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log("dist/lambda-gitops.zip holds:");
for (const [name, [bytes]] of Object.entries(files)) console.log(`  ${name.padEnd(18)} ${kib(bytes.length)}`);
const handlers = names.filter((n) => n.endsWith(".mjs")).map((n) => `${n.slice(0, -4)}.handler`);
console.log(`dist/lambda-gitops.zip: ${kib(statSync("dist/lambda-gitops.zip").size)} (handlers: ${handlers.join(", ")})`);
