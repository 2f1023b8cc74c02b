/**
 * `npm pack` yields an installable command: the tarball holds the bundled CLI (no dependency to
 * install), and `npx ./lambda-gitops-*.tgz` runs it from an empty folder with no repository or
 * node_modules around it, offline.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { ensureBuilt, PROJECT_ROOT } from "../support/scenario.ts";

const run = promisify(execFile);

describe("the npm package (npm pack)", function () {
  this.timeout(180_000);
  let dir: string;
  let tarball: string;
  let packed: { files: { path: string }[]; filename: string }[];
  let version: string;

  before(async () => {
    await ensureBuilt();
    dir = await mkdtemp(join(tmpdir(), "lambda-gitops-pack-"));
    ({ version } = JSON.parse(await readFile(join(PROJECT_ROOT, "package.json"), "utf8")) as { version: string });
    // The build is fresh (ensureBuilt); --ignore-scripts skips the prepack build.
    const { stdout } = await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], {
      cwd: PROJECT_ROOT,
      maxBuffer: 16 * 1024 * 1024,
    });
    packed = JSON.parse(stdout) as typeof packed;
    tarball = packed[0]?.filename ?? "";
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("holds the bundled CLI, its source map, the README and package.json, and declares no dependency", async () => {
    expect(packed[0]?.files.map((f) => f.path).sort()).to.deep.equal(
      ["README.md", "dist/cli.mjs", "dist/cli.mjs.map", "package.json"].sort(),
    );
    const manifest = JSON.parse(await readFile(join(PROJECT_ROOT, "package.json"), "utf8")) as {
      bin: Record<string, string>;
      dependencies?: Record<string, string>;
    };
    expect(manifest.bin).to.deep.equal({ "lambda-gitops": "dist/cli.mjs" });
    expect(manifest.dependencies ?? {}).to.deep.equal({});
  });

  it("npx ./lambda-gitops-*.tgz runs the bin from an empty folder, offline", async () => {
    const npx = (...args: string[]) =>
      run("npx", ["--yes", "--offline", `./${tarball}`, ...args], {
        cwd: dir,
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "" },
      });
    const { stdout } = await npx("--version");
    expect(stdout).to.equal(`lambda-gitops ${version}\n`);
    await writeFile(
      join(dir, "lambdas.yml"),
      "lambdas:\n  - name: team-a-orders\n    version: 1.0.0\n",
    );
    const validated = await npx("validate", "--allowed-prefix", "team-a-");
    expect(validated.stdout).to.equal("lambdas.yml: 1 function(s) valid and allowed.\n");
    expect(validated.stderr).to.equal("");
  });
});
