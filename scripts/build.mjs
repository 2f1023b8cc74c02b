// Bundles the entry points with esbuild into dist/: each bundle runs on its own (no node_modules
// beside it), as a Lambda zip would. `--minify` is used by `npm run package`.
import { mkdir, rm } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { build } from "esbuild";

// The CLI's --version, embedded so the bundle needs no package.json beside it.
const { version } = JSON.parse(readFileSync("package.json", "utf8"));

const minify = process.argv.includes("--minify");
await rm("dist", { recursive: true, force: true });
await mkdir("dist", { recursive: true });

const common = {
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  sourcemap: true,
  minify,
  legalComments: "none",
  // Some CommonJS dependencies call require(); give the ESM bundle one.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  logLevel: "warning",
};

await build({
  ...common,
  entryPoints: { cli: "reconciler/entry/bin.ts" },
  outExtension: { ".js": ".mjs" },
  outdir: "dist",
  banner: { js: `#!/usr/bin/env node\n${common.banner.js}` },
  define: { __LAMBDA_GITOPS_VERSION__: JSON.stringify(version) },
});
const entries = {
  handler: "reconciler/entry/handler.ts",
  "pr-plan": "reconciler/entry/pr-plan.ts",
  drift: "reconciler/entry/drift.ts",
};
const { existsSync } = await import("node:fs");
for (const [name, path] of Object.entries(entries)) {
  if (!existsSync(path)) continue;
  await build({ ...common, entryPoints: { [name]: path }, outExtension: { ".js": ".mjs" }, outdir: "dist" });
}
await import("node:fs/promises").then((fs) => fs.chmod("dist/cli.mjs", 0o755));
console.log(`built dist/ (${minify ? "minified" : "readable"})`);
