/**
 * Checks across every template in infra/, read as YAML: what one template must agree on with the
 * others and with the reconciler's code (the prefix rule, the set of protected lambda-gitops
 * functions, the Lambda settings of the reconciler's asynchronous invocations).
 */
import { readFileSync } from "node:fs";
import { expect } from "chai";
import { PREFIX } from "../../../reconciler/input/parameters.ts";
import { evaluateJson, instantiate, isObject, type Json, type JsonObject } from "../../support/cfn.ts";
import { infraTemplates, packagedFunctions } from "../../support/infra-templates.ts";

/** Parameters (any template) that take function-name prefixes: their name says so. */
const takesPrefixes = (name: string) => /Prefix(es)?$/.test(name);

describe("infra: every template", () => {
  it("takes prefixes with the reconciler's own rule (reconciler/input/parameters.ts PREFIX), nothing wider", () => {
    const seen: string[] = [];
    for (const { file, template } of infraTemplates()) {
      for (const [name, declaration] of Object.entries(template.Parameters ?? {})) {
        if (!takesPrefixes(name)) continue;
        seen.push(`${file} ${name}`);
        expect(declaration.AllowedPattern, `${file} ${name}`).to.equal(PREFIX.source);
        expect(declaration.Type, `${file} ${name}`).to.equal("CommaDelimitedList");
        expect(declaration, `${file} ${name}: no default, so every stack names its own list`).to.not.have.property("Default");
      }
    }
    expect(seen).to.deep.equal([
      "drift.yaml AllowedPrefixes",
      "github-oidc.yaml AllowedPrefixes",
      "pipeline-full.yaml AllowedPrefixes",
      "pipeline.yaml AllowedPrefixes",
      "pr-plan.yaml AllowedPrefixes",
      "reconciler.yaml AllowedPrefixes",
      "source-role.yaml AllowedPrefixes",
    ]);
  });

  it("refuses, in every template, the prefixes the reconciler refuses (\"team-a\" would also grant team-admin-*)", () => {
    const code = (prefix: string) => PREFIX.test(prefix);
    for (const { file, template } of infraTemplates()) {
      const declaration = template.Parameters?.AllowedPrefixes;
      if (!declaration) continue;
      const pattern = new RegExp(String(declaration.AllowedPattern));
      for (const prefix of ["team-a", "team-a-", "team_a_", "a-", "-", "team*", "team a-", "", "x".repeat(63) + "-", "-a-"]) {
        expect(pattern.test(prefix), `${file}: ${JSON.stringify(prefix)}`).to.equal(code(prefix));
      }
    }
  });

  it("protects every lambda-gitops function from every other: PROTECTED_FUNCTIONS and an IAM Deny name them all", () => {
    const functions = packagedFunctions();
    const all = functions.map((f) => f.defaultName).sort();
    expect(all).to.deep.equal(["lambda-gitops-drift", "lambda-gitops-pr-plan", "lambda-gitops-reconciler"]);
    const template = new Map(infraTemplates().map((t) => [t.file, t.template]));
    for (const { file, logicalId, defaultName } of functions) {
      const t = template.get(file)!;
      // Every name parameter at its default: the names the templates deploy when used as documented.
      const required = Object.fromEntries(
        Object.entries(t.Parameters ?? {})
          .filter(([, d]) => d.Default === undefined)
          .map(([name, d]) => [name, sampleValue(name, d)]),
      );
      const { template: expanded, ctx } = instantiate(t, { parameters: required });
      const fn = evaluateJson(expanded.Resources[logicalId]!, ctx) as JsonObject;
      const variables = ((fn.Properties as JsonObject).Environment as JsonObject).Variables as JsonObject;
      const others = all.filter((name) => name !== defaultName);
      // The code's pin (reconciler/input/pin.ts) adds the function itself (AWS_LAMBDA_FUNCTION_NAME).
      // Every entry point reads the same pin (entry/front.ts), the drift check included.
      expect(variables.PROTECTED_FUNCTIONS, `${file} sets PROTECTED_FUNCTIONS`).to.be.a("string");
      const listed = String(variables.PROTECTED_FUNCTIONS).split(",").sort();
      expect(listed, `${file} PROTECTED_FUNCTIONS`).to.deep.equal(others);
      const denied = denyResources(evaluateJson(expanded.Resources.ExecutionRole!, ctx) as JsonObject);
      const names = [...new Set(denied.map((arn) => /:function:([^:]+)/.exec(arn)![1]!))].sort();
      expect(names, `${file}: the Deny names every lambda-gitops function`).to.deep.equal(all);
      for (const name of all) {
        expect(denied, `${file}: ${name} and its versions`).to.include.members([
          `arn:aws:lambda:eu-west-1:111111111111:function:${name}`,
          `arn:aws:lambda:eu-west-1:111111111111:function:${name}:*`,
        ]);
      }
    }
  });
});

describe("infra: the Node the tests run on", () => {
  it("is the runtime the templates deploy: tools/node22 pins the same major as every function's Runtime", () => {
    const read = (path: string) => JSON.parse(readFileSync(new URL(`../../../${path}`, import.meta.url), "utf8")) as {
      engines?: { node?: string };
      devDependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    const runtimes = new Set(
      infraTemplates().flatMap(({ template }) =>
        Object.values(template.Resources)
          .filter((r) => isObject(r) && r.Type === "AWS::Lambda::Function")
          .map((r) => String(((r as JsonObject).Properties as JsonObject).Runtime)),
      ),
    );
    expect([...runtimes]).to.deep.equal(["nodejs22.x"]);
    const tools = read("tools/node22/package.json");
    const versions = Object.values(tools.optionalDependencies ?? {});
    expect(versions).to.have.length.greaterThan(0);
    for (const version of versions) expect(version).to.match(/^22\.\d+\.\d+$/);
    const project = read("package.json");
    expect(project.devDependencies?.["lambda-gitops-node22"]).to.equal("file:tools/node22");
    // The supported versions: Node 22 (deployed) and the machine's Node 20 (what eslint 10 accepts).
    expect(project.engines?.node).to.equal("^20.19.0 || >=22.13.0");
  });
});

function sampleValue(name: string, declaration: JsonObject): string {
  if (declaration.Type === "CommaDelimitedList") return "team-a-";
  if (name.endsWith("RoleArn")) return "arn:aws:iam::222222222222:role/lambda-gitops-source";
  if (name === "CodeS3Bucket") return "deploy-artifacts-111111111111";
  if (name === "CodeS3Key") return "lambda-gitops/0.1.0/lambda-gitops.zip";
  return "lambda-definitions";
}

/** The resources of the Deny statements of a role's inline policies. */
function denyResources(role: JsonObject): string[] {
  const policies = (role.Properties as JsonObject).Policies as Json[];
  return policies.flatMap((policy) => {
    const statements = ((policy as JsonObject).PolicyDocument as JsonObject).Statement as Json[];
    return statements.flatMap((statement) => {
      if (!isObject(statement) || statement.Effect !== "Deny") return [];
      const resources = statement.Resource as Json[];
      return resources.map(String);
    });
  });
}
