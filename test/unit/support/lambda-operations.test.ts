import { expect } from "chai";
import { readFileSync } from "node:fs";
import {
  LAMBDA_ROUTES,
  lambdaOperation,
  MUTATING_LAMBDA_OPERATIONS,
} from "../../support/lambda-operations.ts";

/** The `LAMBDA_ROUTES` table of the moto launcher, read from its source: "METHOD path/with/* Operation". */
export function pythonRoutes(source: string): string[] {
  const table = /^LAMBDA_ROUTES[^=]*= \[\n([\s\S]*?)^\]/m.exec(source)?.[1] ?? "";
  const row = /\("([A-Z]+)", \(([^)]*)\), "(\w+)"\)/g;
  return [...table.matchAll(row)].map(([, method, path, operation]) => {
    const segments = [...path!.matchAll(/"([^"]*)"/g)].map((m) => m[1]);
    return `${method} ${segments.join("/")} ${operation}`;
  });
}

const launcher = readFileSync(new URL("../../support/moto_launcher.py", import.meta.url), "utf8");
const tsRoutes = LAMBDA_ROUTES.map(([method, path, operation]) => `${method} ${path.join("/")} ${operation}`);

describe("Lambda operations: one list for TypeScript, the moto launcher agrees", () => {
  it("reads the launcher's table (a table it cannot read would compare nothing)", () => {
    expect(pythonRoutes('LAMBDA_ROUTES: list = [\n    ("GET", ("functions", "*"), "GetFunction"),\n]\n')).to.deep.equal([
      "GET functions/* GetFunction",
    ]);
    expect(pythonRoutes(launcher)).to.have.length.above(40);
  });

  it("the launcher names the same operations for the same routes", () => {
    expect(pythonRoutes(launcher)).to.deep.equal(tsRoutes);
  });

  it("the launcher and the TypeScript list agree on which operations change state", () => {
    const mutating = pythonRoutes(launcher)
      .map((route) => route.split(" "))
      .filter(([method, , operation]) => method !== "GET" && !["Invoke", "InvokeAsync"].includes(operation!))
      .map(([, , operation]) => operation);
    expect(new Set(mutating)).to.deep.equal(MUTATING_LAMBDA_OPERATIONS);
  });

  it("classifies the calls this tool makes", () => {
    expect(lambdaOperation("PUT", "/2015-03-31/functions/f/aliases/LIVE")).to.equal("UpdateAlias");
    expect(MUTATING_LAMBDA_OPERATIONS.has("UpdateAlias")).to.equal(true);
    expect(MUTATING_LAMBDA_OPERATIONS.has("PublishVersion")).to.equal(true);
    expect(MUTATING_LAMBDA_OPERATIONS.has("GetAlias")).to.equal(false);
    expect(MUTATING_LAMBDA_OPERATIONS.has("Invoke")).to.equal(false);
  });
});
