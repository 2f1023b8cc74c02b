/**
 * Static checks of the CloudFormation templates in infra/: structure, references, and above all the
 * IAM policies, evaluated with sample parameters so the test sees the ARNs CloudFormation would
 * produce. No AWS calls.
 */

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import { parse as parseYaml } from "yaml";
import { parseUserParameters } from "../../../reconciler/input/parameters.ts";
import {
  type EvalContext,
  evaluate,
  evaluateJson,
  expandTemplate,
  instantiate,
  intrinsicName,
  isObject,
  type Json,
  type JsonObject,
  loadTemplate,
  NO_VALUE,
  type ParameterValue,
  PSEUDO_PARAMETERS,
  parseTemplate,
  resolveParameters,
  subVariables,
  type Template,
} from "../../support/cfn.ts";

const INFRA_DIR = fileURLToPath(new URL("../../../infra/", import.meta.url));

const REGION = "eu-west-1";
const TARGET_ACCOUNT = "111111111111";
const SOURCE_ACCOUNT = "222222222222";
const PREFIXES = ["team-a-", "team-b-"];
const SOURCE_ROLE_ARN = `arn:aws:iam::${SOURCE_ACCOUNT}:role/lambda-gitops-source`;
const RECONCILER_ROLE_ARNS = [
  `arn:aws:iam::${TARGET_ACCOUNT}:role/lambda-gitops-ExecutionRole-ABC123`,
  "arn:aws:iam::333333333333:role/other-reconciler",
];

/** The commit-to-production pipeline lives in the lowest account (staging = SOURCE_ACCOUNT). */
const PIPELINE_ACCOUNT = SOURCE_ACCOUNT;
const PRODUCTION_ACTION_ROLE = `arn:aws:iam::${TARGET_ACCOUNT}:role/lambda-gitops-pipeline-action`;
const PIPELINE_ROLE_ARN = `arn:aws:iam::${PIPELINE_ACCOUNT}:role/lambda-gitops-full-pipeline`;
const ARTIFACT_KEY_ARN = `arn:aws:kms:${REGION}:${PIPELINE_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const CONNECTION_ARN = `arn:aws:codeconnections:${REGION}:${PIPELINE_ACCOUNT}:connection/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee`;
/** pipeline.yaml lives in the target account: its connection is that account's. */
const TARGET_CONNECTION_ARN = `arn:aws:codeconnections:${REGION}:${TARGET_ACCOUNT}:connection/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee`;

type TemplateName =
  | "reconciler"
  | "source-role"
  | "pipeline"
  | "pr-plan"
  | "pipeline-full"
  | "pipeline-production-role"
  | "github-oidc"
  | "drift";

interface Sample {
  accountId: string;
  /** Other accounts the template may name in ARNs (a cross-account resource it is granted), if any. */
  otherAccounts?: string[];
  /** Parameters every variant gets (required ones have no Default). */
  base: Record<string, ParameterValue>;
  /** Extra parameter sets, each merged over base, to exercise every condition branch. */
  variants: Record<string, ParameterValue>[];
}

const STAGING_KEY = `arn:aws:kms:${REGION}:${TARGET_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const SOURCE_CODE_KEYS = [
  `arn:aws:kms:${REGION}:${SOURCE_ACCOUNT}:key/0000abcd-12ab-34cd-56ef-1234567890ab`,
  `arn:aws:kms:${REGION}:${SOURCE_ACCOUNT}:key/1111abcd-12ab-34cd-56ef-1234567890ab`,
];

const ARTIFACT_KEY = `arn:aws:kms:${REGION}:${TARGET_ACCOUNT}:key/2222abcd-12ab-34cd-56ef-1234567890ab`;

const SAMPLES: Record<TemplateName, Sample> = {
  reconciler: {
    accountId: TARGET_ACCOUNT,
    base: {
      AllowedPrefixes: PREFIXES.join(","),
      SourceRoleArn: SOURCE_ROLE_ARN,
      CodeS3Bucket: "deploy-artifacts-111111111111",
      CodeS3Key: "lambda-gitops/0.1.0/lambda-gitops.zip",
    },
    variants: [
      {},
      { StagingBucket: "staging-bucket-1", CodeS3ObjectVersion: "3sL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY" },
      { AllowPrune: "true" },
      { StagingBucket: "staging-bucket-1", StagingBucketKmsKeyArn: STAGING_KEY },
    ],
  },
  "source-role": {
    accountId: SOURCE_ACCOUNT,
    base: { AllowedPrefixes: PREFIXES.join(","), ReconcilerRoleArns: RECONCILER_ROLE_ARNS.join(",") },
    variants: [
      {},
      { ExternalId: "lambda-gitops-ext-1" },
      { PrincipalOrgId: "o-abcdefghij" },
      { ExternalId: "lambda-gitops-ext-1", PrincipalOrgId: "o-abcdefghij" },
      { SourceCodeKmsKeyArns: SOURCE_CODE_KEYS.join(",") },
    ],
  },
  pipeline: {
    accountId: TARGET_ACCOUNT,
    base: {
      RepositoryName: "lambda-definitions",
      AllowedPrefixes: PREFIXES.join(","),
      SourceRoleArn: SOURCE_ROLE_ARN,
    },
    variants: [
      {},
      { ExternalId: "lambda-gitops-ext-1" },
      { StagingBucket: "staging-bucket-1" },
      { ExternalId: "lambda-gitops-ext-1", StagingBucket: "staging-bucket-1" },
      {
        SourceProvider: "CodeConnections",
        RepositoryName: "",
        ConnectionArn: TARGET_CONNECTION_ARN,
        FullRepositoryId: "acme/lambda-definitions",
      },
    ],
  },
  "pr-plan": {
    accountId: TARGET_ACCOUNT,
    base: {
      RepositoryName: "lambda-definitions",
      AllowedPrefixes: PREFIXES.join(","),
      SourceRoleArn: SOURCE_ROLE_ARN,
      CodeS3Bucket: "deploy-artifacts-111111111111",
      CodeS3Key: "lambda-gitops/0.1.0/lambda-gitops.zip",
    },
    variants: [
      {},
      {
        DefinitionFile: "deploy/production/lambdas.json",
        CodeS3ObjectVersion: "3sL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY",
        PipelineName: "team-a-deploy",
        ActionName: "Apply",
      },
    ],
  },
  drift: {
    accountId: TARGET_ACCOUNT,
    base: {
      ArtifactBucketName: "lambda-gitops-artifacts-111111111111",
      AllowedPrefixes: PREFIXES.join(","),
      CodeS3Bucket: "deploy-artifacts-111111111111",
      CodeS3Key: "lambda-gitops/0.1.0/lambda-gitops.zip",
    },
    variants: [
      // Any source (CodeConnections): no repository.
      {},
      { ArtifactKmsKeyArn: ARTIFACT_KEY },
      {
        RepositoryName: "lambda-definitions",
        OnDrift: "start-pipeline",
        ReconcilerRoleArn: RECONCILER_ROLE_ARNS[0]!,
        DefinitionFile: "deploy/production/lambdas.json",
        ScheduleExpression: "cron(0/15 * * * ? *)",
        MetricNamespace: "Team/Deploys",
      },
    ],
  },
  "pipeline-full": {
    accountId: PIPELINE_ACCOUNT,
    base: {
      AllowedPrefixes: PREFIXES.join(","),
      CliBucket: "deploy-artifacts-222222222222",
      CliKey: "lambda-gitops/0.1.0/cli.mjs",
      ProductionAccountId: TARGET_ACCOUNT,
      SourceRoleArn: SOURCE_ROLE_ARN,
    },
    variants: [
      { RepositoryName: "orders-service" },
      { SourceProvider: "CodeConnections", ConnectionArn: CONNECTION_ARN, FullRepositoryId: "acme/orders-service" },
    ],
  },
  "pipeline-production-role": {
    accountId: TARGET_ACCOUNT,
    otherAccounts: [PIPELINE_ACCOUNT],
    base: {
      PipelineRoleArn: PIPELINE_ROLE_ARN,
      ArtifactBucketName: `lambda-gitops-full-artifacts-${PIPELINE_ACCOUNT}`,
      ArtifactKeyArn: ARTIFACT_KEY_ARN,
    },
    variants: [{}, { RoleName: "team-a-pipeline-action", ReconcilerFunctionName: "team-a-reconciler" }],
  },
  "github-oidc": {
    accountId: TARGET_ACCOUNT,
    base: {
      GitHubRepository: "acme/lambda-definitions",
      AllowedPrefixes: PREFIXES.join(","),
      SourceRoleArn: SOURCE_ROLE_ARN,
      CliBucket: "deploy-artifacts-111111111111",
      CliKey: "lambda-gitops/0.1.0/cli.mjs",
    },
    variants: [
      {},
      { CreateProvider: "false" },
      { PlanWorkflowPath: ".github/workflows/plan.yaml", DefaultBranch: "trunk" },
    ],
  },
};

/**
 * The only statements allowed to use `Resource: "*"`, per template, each with why.
 * Anything else with "*" fails the test.
 */
const STAR_RESOURCE_ALLOWLIST: Record<TemplateName, { actions: string[]; reason: string }[]> = {
  reconciler: [
    {
      actions: [
        "codepipeline:GetJobDetails",
        "codepipeline:GetPipelineExecution",
        "codepipeline:PutJobSuccessResult",
        "codepipeline:PutJobFailureResult",
      ],
      reason:
        "CodePipeline job APIs have no resource type in IAM; only '*' is accepted (GetPipelineExecution, read-only, shares the statement: one of its own would not fit the policy quota)",
    },
    {
      actions: ["lambda:ListEventSourceMappings", "lambda:ListProvisionedConcurrencyConfigs"],
      reason:
        "pruning (AllowPrune=true) lists what invokes a version; ListEventSourceMappings has no resource type in IAM, and the read-only ListProvisionedConcurrencyConfigs shares the statement (one per prefix would not fit the policy quota)",
    },
  ],
  "source-role": [],
  pipeline: [
    {
      actions: ["lambda:ListFunctions"],
      reason: "the CodePipeline Lambda Invoke action needs ListFunctions, which supports only '*'",
    },
  ],
  "pr-plan": [],
  drift: [
    { actions: ["cloudtrail:LookupEvents"], reason: "LookupEvents has no resource type in IAM; only '*' is accepted" },
    {
      actions: ["cloudwatch:PutMetricData"],
      reason: "PutMetricData has no resource type; the statement is scoped by the cloudwatch:namespace condition",
    },
  ],
  "pipeline-full": [
    {
      actions: ["lambda:ListFunctions"],
      reason: "the CodePipeline Lambda Invoke action needs ListFunctions, which supports only '*'",
    },
  ],
  "pipeline-production-role": [
    {
      actions: ["lambda:ListFunctions"],
      reason: "the cross-account Lambda Invoke action needs ListFunctions, which supports only '*'",
    },
  ],
  "github-oidc": [],
};

const RECONCILER_LAMBDA_ACTIONS = [
  "lambda:GetFunction",
  "lambda:GetAlias",
  "lambda:ListAliases",
  "lambda:GetFunctionCodeSigningConfig",
  "lambda:GetProvisionedConcurrencyConfig",
  "lambda:UpdateFunctionCode",
  "lambda:UpdateFunctionConfiguration",
  "lambda:PublishVersion",
  "lambda:CreateAlias",
  "lambda:UpdateAlias",
  "lambda:ListVersionsByFunction",
];
/** Pruning's deletes: on qualified ARNs only (issue 16). */
const PRUNE_LAMBDA_ACTIONS = ["lambda:DeleteAlias", "lambda:DeleteFunction"];
/** What the read-only drift check may do on the prefix functions. */
const DRIFT_LAMBDA_ACTIONS = [
  "lambda:GetFunction",
  "lambda:GetFunctionConfiguration",
  "lambda:GetAlias",
  "lambda:ListAliases",
];
/** The source account is only read with GetFunction (observe.ts sightInSource, apply.ts promote). */
const SOURCE_LAMBDA_ACTIONS = ["lambda:GetFunction"];

const templates = new Map<TemplateName, Template>();
function template(name: TemplateName): Template {
  let loaded = templates.get(name);
  if (!loaded) {
    loaded = loadTemplate(`${INFRA_DIR}${name}.yaml`);
    templates.set(name, loaded);
  }
  return loaded;
}

function stack(name: TemplateName, variant: Record<string, ParameterValue> = {}) {
  const sample = SAMPLES[name];
  return instantiate(template(name), {
    parameters: { ...sample.base, ...variant },
    accountId: sample.accountId,
    region: REGION,
  });
}

function prefixArns(account: string, prefixes = PREFIXES): string[] {
  return prefixes.flatMap((prefix) => [
    `arn:aws:lambda:${REGION}:${account}:function:${prefix}*`,
    `arn:aws:lambda:${REGION}:${account}:function:${prefix}*:*`,
  ]);
}

function asList(value: Json | undefined): Json[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function strings(value: Json | undefined): string[] {
  return asList(value).map((item) => {
    if (typeof item !== "string") throw new Error(`expected a string, got ${JSON.stringify(item)}`);
    return item;
  });
}

function sorted(values: string[]): string[] {
  return [...values].sort();
}

// ---------------------------------------------------------------------------------------------
// Walking the raw template

interface Reference {
  kind: "Ref" | "Sub" | "GetAtt" | "If" | "Condition" | "DependsOn";
  name: string;
  path: string;
  /** Fn::ForEach identifiers in scope at this point. */
  scope: string[];
}

/** Every reference in a section of the raw (unexpanded) template, with the ForEach identifiers in scope. */
function collectReferences(node: Json, path: string, scope: string[], out: Reference[]): void {
  if (Array.isArray(node)) {
    node.forEach((item, index) => {
      collectReferences(item, `${path}[${index}]`, scope, out);
    });
    return;
  }
  if (!isObject(node)) return;
  const name = intrinsicName(node);
  const args = name ? node[name]! : undefined;
  switch (name) {
    case "Ref":
      out.push({ kind: "Ref", name: String(args), path, scope });
      return;
    case "Condition":
      out.push({ kind: "Condition", name: String(args), path, scope });
      return;
    case "Fn::GetAtt": {
      const target = Array.isArray(args) ? args[0] : undefined;
      out.push({ kind: "GetAtt", name: String(target), path, scope });
      return;
    }
    case "Fn::Sub": {
      const [text, variables] = Array.isArray(args) ? [args[0], args[1]] : [args, undefined];
      const local = isObject(variables) ? Object.keys(variables) : [];
      for (const variable of subVariables(String(text))) {
        if (!local.includes(variable)) out.push({ kind: "Sub", name: variable, path, scope });
      }
      if (variables !== undefined) collectReferences(variables, `${path}.Fn::Sub[1]`, scope, out);
      return;
    }
    case "Fn::If": {
      const list = asList(args);
      out.push({ kind: "If", name: String(list[0]), path, scope });
      list.slice(1).forEach((branch, index) => {
        collectReferences(branch, `${path}.Fn::If[${index + 1}]`, scope, out);
      });
      return;
    }
  }
  for (const [key, child] of Object.entries(node)) {
    if (key.startsWith("Fn::ForEach::") && Array.isArray(child) && child.length === 3) {
      const [identifier, collection, fragment] = child as [Json, Json, Json];
      collectReferences(collection, `${path}.${key}[1]`, scope, out);
      collectReferences(fragment, `${path}.${key}[2]`, [...scope, String(identifier)], out);
      continue;
    }
    collectReferences(child, `${path}.${key}`, scope, out);
  }
}

function allReferences(t: Template): Reference[] {
  const out: Reference[] = [];
  for (const section of ["Conditions", "Resources", "Outputs"] as const) {
    const body = t[section];
    if (body) collectReferences(body as Json, section, [], out);
  }
  // Resource- and output-level `Condition: Name` and `DependsOn`.
  for (const [id, resource] of Object.entries(t.Resources)) {
    if (!isObject(resource)) continue;
    if (typeof resource.Condition === "string") {
      out.push({ kind: "Condition", name: resource.Condition, path: `Resources.${id}.Condition`, scope: [] });
    }
    for (const dependency of strings(resource.DependsOn)) {
      out.push({ kind: "DependsOn", name: dependency, path: `Resources.${id}.DependsOn`, scope: [] });
    }
  }
  for (const [id, output] of Object.entries(t.Outputs ?? {})) {
    if (typeof output.Condition === "string") {
      out.push({ kind: "Condition", name: output.Condition, path: `Outputs.${id}.Condition`, scope: [] });
    }
  }
  return out;
}

/** Logical IDs declared directly (not generated by Fn::ForEach). */
function declaredResources(t: Template): string[] {
  return Object.keys(t.Resources).filter((id) => !id.startsWith("Fn::ForEach::"));
}

// ---------------------------------------------------------------------------------------------
// IAM statements, evaluated

interface Statement {
  resource: string;
  kind: "trust" | "identity" | "resource-policy";
  effect: string;
  actions: string[];
  resources: string[];
  raw: JsonObject;
}

function statementsOf(document: Json, resource: string, kind: Statement["kind"]): Statement[] {
  if (!isObject(document)) throw new Error(`${resource}: policy document is not a mapping`);
  expect(document.Version, `${resource} policy Version`).to.equal("2012-10-17");
  return asList(document.Statement).map((raw) => {
    if (!isObject(raw)) throw new Error(`${resource}: statement is not a mapping`);
    return {
      resource,
      kind,
      effect: String(raw.Effect),
      actions: strings(raw.Action),
      resources: strings(raw.Resource),
      raw,
    };
  });
}

function policyStatements(t: Template, ctx: EvalContext): Statement[] {
  const out: Statement[] = [];
  for (const [id, resource] of Object.entries(t.Resources)) {
    if (!isObject(resource) || !isObject(resource.Properties)) continue;
    if (typeof resource.Condition === "string" && !ctx.conditions[resource.Condition]) continue;
    const properties = evaluateJson(resource.Properties, ctx);
    if (!isObject(properties)) continue;
    switch (resource.Type) {
      case "AWS::IAM::Role":
        out.push(...statementsOf(properties.AssumeRolePolicyDocument ?? null, id, "trust"));
        for (const policy of asList(properties.Policies)) {
          if (!isObject(policy)) throw new Error(`${id}: policy is not a mapping`);
          out.push(
            ...statementsOf(policy.PolicyDocument ?? null, `${id}/${String(policy.PolicyName)}`, "identity"),
          );
        }
        break;
      case "AWS::IAM::RolePolicy":
      case "AWS::IAM::Policy":
      case "AWS::IAM::ManagedPolicy":
        out.push(...statementsOf(properties.PolicyDocument ?? null, id, "identity"));
        break;
      case "AWS::S3::BucketPolicy":
        out.push(...statementsOf(properties.PolicyDocument ?? null, id, "resource-policy"));
        break;
    }
  }
  return out;
}

/** The characters of a role's inline policies as IAM counts them (whitespace does not count). */
function inlinePolicySize(t: Template, ctx: EvalContext): number {
  let size = 0;
  for (const resource of Object.values(t.Resources)) {
    const r = evaluateJson(resource, ctx) as JsonObject;
    const p = r.Properties as JsonObject;
    let documents: Json[] = [];
    if (r.Type === "AWS::IAM::Role") documents = asList(p.Policies).map((x) => (x as JsonObject).PolicyDocument ?? null);
    if (r.Type === "AWS::IAM::RolePolicy") documents = [p.PolicyDocument ?? null];
    for (const doc of documents) size += JSON.stringify(doc).replace(/\s/g, "").length;
  }
  return size;
}

function everyVariant(name: TemplateName, check: (s: ReturnType<typeof stack>, label: string) => void) {
  for (const variant of SAMPLES[name].variants)
    check(stack(name, variant), `${name} ${JSON.stringify(variant)}`);
}

// ---------------------------------------------------------------------------------------------

describe("infra: CloudFormation loader and evaluator (test/support/cfn.ts)", () => {
  it("turns short-form tags into long forms", () => {
    const t = parseTemplate(
      [
        "Resources:",
        "  R:",
        "    Type: X",
        "    Properties:",
        "      A: !Ref P",
        "      B: !GetAtt Res.Arn",
        "      C: !GetAtt Res.Endpoint.Address",
        "      D: !GetAtt [Res, Arn]",
        '      E: !Sub "a-${P}"',
        '      F: !Sub ["${X}", {X: !Ref P}]',
        '      G: !Join [",", !Split ["|", !Select [0, !GetAZs ""]]]',
        "      H: !If [C1, !Base64 {Fn::Sub: x}, !ImportValue other]",
        "      I: !FindInMap [M, k, v]",
        '      J: !Cidr ["10.0.0.0/16", 2, 8]',
        "Conditions:",
        '  C1: !And [!Equals [!Ref P, ""], !Not [!Condition C2], !Or [!Condition C2, !Condition C2]]',
      ].join("\n"),
    );
    const props = (t.Resources.R as JsonObject).Properties as JsonObject;
    expect(props.A).to.deep.equal({ Ref: "P" });
    expect(props.B).to.deep.equal({ "Fn::GetAtt": ["Res", "Arn"] });
    expect(props.C).to.deep.equal({ "Fn::GetAtt": ["Res", "Endpoint.Address"] });
    expect(props.D).to.deep.equal({ "Fn::GetAtt": ["Res", "Arn"] });
    expect(props.E).to.deep.equal({ "Fn::Sub": "a-${P}" });
    expect(props.F).to.deep.equal({ "Fn::Sub": ["${X}", { X: { Ref: "P" } }] });
    expect(props.G).to.deep.equal({
      "Fn::Join": [",", { "Fn::Split": ["|", { "Fn::Select": [0, { "Fn::GetAZs": "" }] }] }],
    });
    expect(props.H).to.deep.equal({
      "Fn::If": ["C1", { "Fn::Base64": { "Fn::Sub": "x" } }, { "Fn::ImportValue": "other" }],
    });
    expect(props.I).to.deep.equal({ "Fn::FindInMap": ["M", "k", "v"] });
    expect(props.J).to.deep.equal({ "Fn::Cidr": ["10.0.0.0/16", 2, 8] });
    expect(t.Conditions?.C1).to.deep.equal({
      "Fn::And": [
        { "Fn::Equals": [{ Ref: "P" }, ""] },
        { "Fn::Not": [{ Condition: "C2" }] },
        { "Fn::Or": [{ Condition: "C2" }, { Condition: "C2" }] },
      ],
    });
  });

  it("rejects unknown tags and duplicate keys", () => {
    expect(() => parseTemplate("Resources:\n  R: !Bogus x\n")).to.throw(/Bogus/);
    expect(() => parseTemplate("Resources:\n  R: 1\n  R: 2\n")).to.throw();
  });

  it("evaluates Ref, Sub, Join, Split, If and AWS::NoValue with pseudo parameters", () => {
    const t = parseTemplate(
      [
        "Parameters:",
        "  L: {Type: CommaDelimitedList, Default: 'a,b'}",
        "  S: {Type: String, Default: ''}",
        "Conditions:",
        "  HasS: !Not [!Equals [!Ref S, '']]",
        "Resources:",
        "  R: {Type: X}",
      ].join("\n"),
    );
    const { ctx } = instantiate(t, { accountId: "123456789012", region: "us-east-2" });
    const arns = parseTemplate(
      [
        "Resources:",
        "  V: !Split [',', !Sub ['arn:${AWS::Partition}:x:${AWS::Region}:${AWS::AccountId}:${Inner}', {Inner: !Join [',', !Ref L]}]]",
        "  W: [1, !If [HasS, 2, !Ref AWS::NoValue], 3]",
        "  X: !Sub '${!Literal}-${R}-${R.Arn}'",
      ].join("\n"),
    ).Resources;
    expect(evaluate(arns.V!, ctx)).to.deep.equal(["arn:aws:x:us-east-2:123456789012:a", "b"]);
    expect(evaluate(arns.W!, ctx)).to.deep.equal([1, 3]);
    expect(evaluate(arns.X!, ctx)).to.equal("${Literal}-<R>-<R.Arn>");
    expect(evaluate({ Ref: "AWS::NoValue" }, ctx)).to.equal(NO_VALUE);
  });

  it("refuses a non-literal Fn::Join delimiter, as CloudFormation does (why the templates use Fn::ForEach)", () => {
    const { ctx } = instantiate(parseTemplate("Resources:\n  R: {Type: X}\n"));
    const join = { "Fn::Join": [{ "Fn::Sub": ",arn:${AWS::Region}:" }, ["a", "b"]] } as Json;
    expect(() => evaluate(join, ctx)).to.throw(/delimiter must be a literal/);
  });

  it("expands Fn::ForEach with ${Id} and &{Id} and rejects colliding keys", () => {
    const t = parseTemplate(
      [
        "Transform: AWS::LanguageExtensions",
        "Parameters:",
        "  L: {Type: CommaDelimitedList}",
        "Resources:",
        "  Fn::ForEach::Loop:",
        "    - Item",
        "    - !Ref L",
        "    - R&{Item}:",
        "        Type: X",
        "        Properties: {Name: !Sub 'n-${Item}', Same: !Ref Item}",
      ].join("\n"),
    );
    const expanded = expandTemplate(t, resolveParameters(t, { L: "a-1,b_2" }));
    expect(expanded.Resources).to.deep.equal({
      Ra1: { Type: "X", Properties: { Name: { "Fn::Sub": "n-a-1" }, Same: "a-1" } },
      Rb2: { Type: "X", Properties: { Name: { "Fn::Sub": "n-b_2" }, Same: "b_2" } },
    });
    expect(() => expandTemplate(t, resolveParameters(t, { L: "a-1,a_1" }))).to.throw(/duplicate key Ra1/);
  });

  it("checks parameter values against AllowedPattern per list entry, AllowedValues and numeric bounds", () => {
    const t = parseTemplate(
      [
        "Parameters:",
        "  L: {Type: CommaDelimitedList, AllowedPattern: '[a-z]+'}",
        "  N: {Type: Number, MinValue: 1, MaxValue: 3, Default: 2}",
        "Resources: {R: {Type: X}}",
      ].join("\n"),
    );
    expect(resolveParameters(t, { L: "ab,cd" }).L).to.deep.equal(["ab", "cd"]);
    expect(() => resolveParameters(t, { L: "ab,c1" })).to.throw(/c1/);
    expect(() => resolveParameters(t, { L: "ab", N: "4" })).to.throw(/4 > 3/);
    expect(() => resolveParameters(t, {})).to.throw(/no value/);
  });
});

for (const name of [
  "reconciler",
  "source-role",
  "pipeline",
  "pr-plan",
  "pipeline-full",
  "pipeline-production-role",
  "github-oidc",
  "drift",
] as const) {
  describe(`infra/${name}.yaml: structure`, () => {
    it("parses, with format version and a Description", () => {
      const t = template(name);
      expect(t.AWSTemplateFormatVersion).to.equal("2010-09-09");
      expect(t.Description).to.be.a("string").and.have.length.greaterThan(20);
      expect(Object.keys(t.Resources)).to.not.be.empty;
    });

    it("types and constrains every parameter, and the defaults satisfy the constraints", () => {
      const parameters = template(name).Parameters ?? {};
      expect(Object.keys(parameters)).to.not.be.empty;
      for (const [id, p] of Object.entries(parameters)) {
        expect(p.Type, `${id}.Type`).to.be.oneOf(["String", "Number", "CommaDelimitedList"]);
        expect(p.Description, `${id}.Description`).to.be.a("string").and.not.empty;
        const constrained =
          p.Type === "Number"
            ? (p.MinValue !== undefined && p.MaxValue !== undefined) || Array.isArray(p.AllowedValues)
            : typeof p.AllowedPattern === "string" || Array.isArray(p.AllowedValues);
        expect(constrained, `${id} has no constraint`).to.equal(true);
      }
      // Defaults and samples both pass the template's own constraints (throws otherwise).
      for (const variant of SAMPLES[name].variants)
        resolveParameters(template(name), { ...SAMPLES[name].base, ...variant });
    });

    it("declares Outputs with a Description and a Value", () => {
      const outputs = template(name).Outputs ?? {};
      expect(Object.keys(outputs)).to.not.be.empty;
      for (const [id, output] of Object.entries(outputs)) {
        expect(output.Description, `${id}.Description`).to.be.a("string").and.not.empty;
        expect(output.Value, `${id}.Value`).to.not.equal(undefined);
      }
    });

    it("resolves every Ref and ${Name} to a parameter, resource, pseudo parameter or loop identifier", () => {
      const t = template(name);
      const parameters = Object.keys(t.Parameters ?? {});
      const resources = declaredResources(t);
      const problems: string[] = [];
      for (const ref of allReferences(t)) {
        if (ref.kind !== "Ref" && ref.kind !== "Sub") continue;
        const target = ref.name;
        if (target.startsWith("AWS::")) {
          if (!(PSEUDO_PARAMETERS as readonly string[]).includes(target))
            problems.push(`${ref.path}: ${target}`);
          continue;
        }
        if (ref.kind === "Sub" && target.includes(".")) {
          if (!resources.includes(target.slice(0, target.indexOf("."))))
            problems.push(`${ref.path}: ${target}`);
          continue;
        }
        if (![...parameters, ...resources, ...ref.scope].includes(target))
          problems.push(`${ref.path}: ${target}`);
      }
      expect(problems).to.deep.equal([]);
    });

    it("names an existing resource in every Fn::GetAtt and DependsOn", () => {
      const t = template(name);
      const resources = declaredResources(t);
      const missing = allReferences(t)
        .filter((ref) => ref.kind === "GetAtt" || ref.kind === "DependsOn")
        .filter((ref) => !resources.includes(ref.name))
        .map((ref) => `${ref.path}: ${ref.name}`);
      expect(missing).to.deep.equal([]);
    });

    it("defines every condition it uses, and uses every condition it defines", () => {
      const t = template(name);
      const defined = Object.keys(t.Conditions ?? {});
      const used = allReferences(t)
        .filter((ref) => ref.kind === "If" || ref.kind === "Condition")
        .map((ref) => ref.name);
      expect(used.filter((c) => !defined.includes(c))).to.deep.equal([]);
      expect(defined.filter((c) => !used.includes(c))).to.deep.equal([]);
    });

    it("evaluates every resource and output for each sample parameter set", () => {
      everyVariant(name, ({ template: expanded, ctx }, label) => {
        for (const [id, resource] of Object.entries(expanded.Resources)) {
          expect(id, `${label}: logical ID`).to.match(/^[A-Za-z0-9]{1,255}$/);
          expect(() => evaluateJson(resource, ctx), `${label}: ${id}`).to.not.throw();
        }
        for (const [id, output] of Object.entries(expanded.Outputs ?? {})) {
          expect(() => evaluateJson(output.Value ?? null, ctx), `${label}: output ${id}`).to.not.throw();
        }
      });
    });
  });

  describe(`infra/${name}.yaml: IAM`, () => {
    it("allows no wildcard actions and uses no NotAction/NotResource/NotPrincipal", () => {
      everyVariant(name, ({ template: t, ctx }, label) => {
        for (const s of policyStatements(t, ctx)) {
          for (const key of ["NotAction", "NotResource", "NotPrincipal"]) {
            expect(s.raw, `${label} ${s.resource}`).to.not.have.property(key);
          }
          if (s.effect !== "Allow") continue;
          for (const action of s.actions) {
            expect(action, `${label} ${s.resource}`).to.match(/^[a-z0-9-]+:[A-Za-z0-9]+$/);
          }
        }
      });
    });

    it('uses Resource "*" only for the allowlisted actions', () => {
      const allow = STAR_RESOURCE_ALLOWLIST[name];
      everyVariant(name, ({ template: t, ctx }, label) => {
        for (const s of policyStatements(t, ctx)) {
          if (s.kind === "trust" || !s.resources.includes("*")) continue;
          expect(s.resources, `${label} ${s.resource}: "*" mixed with ARNs`).to.deep.equal(["*"]);
          const entry = allow.find((e) => sorted(e.actions).join() === sorted(s.actions).join());
          expect(
            entry,
            `${label} ${s.resource}: "*" for ${s.actions.join(", ")} is not allowlisted`,
          ).to.not.equal(undefined);
          expect(entry?.reason).to.be.a("string").and.not.empty;
        }
      });
      // Each allowlist entry is actually used (a stale entry would hide a future regression).
      // (in some variant: pruning's listing statement exists only with AllowPrune=true)
      const used = new Set<string>();
      everyVariant(name, ({ template: t, ctx }) => {
        for (const s of policyStatements(t, ctx)) if (s.resources.includes("*")) used.add(sorted(s.actions).join());
      });
      for (const entry of allow) {
        expect(used.has(sorted(entry.actions).join()), `unused allowlist entry ${entry.actions.join(", ")}`).to.equal(true);
      }
    });

    it("names only this account and Region in ARNs (no wildcard partition, Region or account)", () => {
      everyVariant(name, ({ template: t, ctx }, label) => {
        for (const s of policyStatements(t, ctx)) {
          for (const arn of s.resources.filter((r) => r.startsWith("arn:"))) {
            const [, partition, service, region, account] = arn.split(":");
            expect(partition, `${label} ${arn}`).to.equal("aws");
            if (service === "s3" || service === "iam") continue; // global ARNs; iam names its own account
            expect(region, `${label} ${arn}`).to.equal(REGION);
            expect(account, `${label} ${arn}`).to.be.oneOf([
              SAMPLES[name].accountId,
              ...(SAMPLES[name].otherAccounts ?? []),
            ]);
          }
        }
      });
    });
  });
}

describe("infra/reconciler.yaml", () => {
  const ownFunction = `arn:aws:lambda:${REGION}:${TARGET_ACCOUNT}:function:lambda-gitops-reconciler`;

  it("grants the reconciler's lambda actions exactly on the prefix function ARNs (unqualified and :*)", () => {
    everyVariant("reconciler", ({ template: t, ctx }, label) => {
      const lambda = policyStatements(t, ctx).filter(
        (s) =>
          s.effect === "Allow" &&
          s.actions.some((a) => a.startsWith("lambda:")) &&
          s.raw.Sid !== "ReadCodeSigningConfigs" &&
          s.raw.Sid !== "PrunePrefixVersions" &&
          s.raw.Sid !== "PruneListInvokers" &&
          !s.actions.includes("lambda:InvokeFunction"),
      );
      expect(lambda, label).to.have.length(PREFIXES.length);
      const signing = policyStatements(t, ctx).filter((s) => s.raw.Sid === "ReadCodeSigningConfigs");
      expect(signing.map((s) => [s.actions, s.resources]), label).to.deep.equal([
        [["lambda:GetCodeSigningConfig"], [`arn:aws:lambda:${REGION}:${TARGET_ACCOUNT}:code-signing-config:*`]],
      ]);
      for (const s of lambda) {
        expect(sorted(s.actions), `${label} ${s.resource}`).to.deep.equal(sorted(RECONCILER_LAMBDA_ACTIONS));
        const prefix = PREFIXES.find((p) => s.resources.includes(prefixArns(TARGET_ACCOUNT, [p])[0]!));
        expect(prefix, `${label} ${s.resource}`).to.be.a("string");
        expect(sorted(s.resources)).to.deep.equal(sorted(prefixArns(TARGET_ACCOUNT, [prefix!])));
      }
      expect(sorted(lambda.flatMap((s) => s.resources))).to.deep.equal(sorted(prefixArns(TARGET_ACCOUNT)));
    });
  });

  it("scales the prefix policies with the AllowedPrefixes list", () => {
    const prefixes = ["a_", "payments-", "x_y-"];
    const { template: t, ctx } = stack("reconciler", { AllowedPrefixes: prefixes.join(",") });
    const resources = policyStatements(t, ctx)
      .filter((s) => s.effect === "Allow" && s.actions.includes("lambda:UpdateAlias"))
      .flatMap((s) => s.resources);
    expect(sorted(resources)).to.deep.equal(sorted(prefixArns(TARGET_ACCOUNT, prefixes)));
  });

  it("keeps the role's inline policies under IAM's 10,240-character quota for 15 twenty-character prefixes (12 with smoke invocations)", () => {
    const prefixes = Array.from(
      { length: 15 },
      (_, i) => `team-${String(i).padStart(2, "0")}-${"x".repeat(11)}-`,
    );
    const inlineSize = (variant: Record<string, ParameterValue>) => {
      const { template: t, ctx } = stack("reconciler", { StagingBucket: "s".repeat(63), ...variant });
      return inlinePolicySize(t, ctx);
    };
    // Rollout smoke invocations (issue 13) cost one statement per prefix: 12 such prefixes fit with
    // them, 15 only without them (SmokeInvocations=disabled, documented in infra/README.md).
    expect(inlineSize({ AllowedPrefixes: prefixes.slice(0, 12).join(",") })).to.be.lessThan(10240);
    expect(inlineSize({ AllowedPrefixes: prefixes.join(",") })).to.be.greaterThan(10240);
    const { template: t, ctx } = stack("reconciler", {
      AllowedPrefixes: prefixes.join(","),
      StagingBucket: "s".repeat(63),
      SmokeInvocations: "disabled",
    });
    const size = inlinePolicySize(t, ctx);
    expect(size).to.be.greaterThan(15 * 400);
    expect(size).to.be.lessThan(10240);
  });

  it("rejects prefixes that would widen the grant or break the generated names", () => {
    for (const bad of ["*", "", "team-*", "team a", "-team", "team:a", "a".repeat(64), "team-a-,", "team-a", "-", "a"]) {
      expect(() => stack("reconciler", { AllowedPrefixes: bad }), JSON.stringify(bad)).to.throw();
    }
    // "team-a-" and "teama-" both become logical ID PrefixPolicyteama: the deploy fails rather than merging them.
    expect(() => stack("reconciler", { AllowedPrefixes: "team-a-,teama-" })).to.throw(/duplicate key/);
  });

  it("denies the reconciler write access to itself, the pull-request planner and the drift check, whatever the prefixes", () => {
    const { template: t, ctx } = stack("reconciler", { AllowedPrefixes: "lambda-" });
    const deny = policyStatements(t, ctx).filter((s) => s.effect === "Deny");
    expect(deny).to.have.length(1);
    const planner = `arn:aws:lambda:${REGION}:${TARGET_ACCOUNT}:function:lambda-gitops-pr-plan`;
    const drift = `arn:aws:lambda:${REGION}:${TARGET_ACCOUNT}:function:lambda-gitops-drift`;
    expect(sorted(deny[0]!.resources)).to.deep.equal(
      sorted([ownFunction, `${ownFunction}:*`, planner, `${planner}:*`, drift, `${drift}:*`]),
    );
    const writes = [...RECONCILER_LAMBDA_ACTIONS, ...PRUNE_LAMBDA_ACTIONS].filter((a) => !/:(Get|List)/.test(a));
    expect(sorted(deny[0]!.actions)).to.deep.equal(sorted(writes));
  });

  it("may assume only the one source role, and writes only its own log group", () => {
    everyVariant("reconciler", ({ template: t, ctx }, label) => {
      const statements = policyStatements(t, ctx).filter((s) => s.kind === "identity");
      const sts = statements.filter((s) => s.actions.some((a) => a.startsWith("sts:")));
      expect(
        sts.map((s) => [s.actions, s.resources]),
        label,
      ).to.deep.equal([[["sts:AssumeRole"], [SOURCE_ROLE_ARN]]]);
      const logs = statements.filter((s) => s.actions.some((a) => a.startsWith("logs:")));
      expect(
        logs.map((s) => [sorted(s.actions), s.resources]),
        label,
      ).to.deep.equal([
        [
          ["logs:CreateLogStream", "logs:PutLogEvents"],
          [`arn:aws:logs:${REGION}:${TARGET_ACCOUNT}:log-group:/aws/lambda/lambda-gitops-reconciler:*`],
        ],
      ]);
      const log = evaluateJson(t.Resources.LogGroup!, ctx) as JsonObject;
      expect((log.Properties as JsonObject).LogGroupName).to.equal("/aws/lambda/lambda-gitops-reconciler");
      const services = new Set(statements.flatMap((s) => s.actions.map((a) => a.split(":")[0])));
      expect([...services].sort(), label).to.deep.equal(
        [
          "cloudwatch",
          "codepipeline",
          ...(ctx.conditions.HasStagingBucketKey ? ["kms"] : []),
          "lambda",
          "logs",
          ...(ctx.conditions.HasStagingBucket ? ["s3"] : []),
          "sqs",
          "sts",
        ],
      );
      const sqs = statements.filter((s) => s.actions.some((a) => a.startsWith("sqs:")));
      expect(sqs.map((s) => [s.actions, s.resources]), label).to.deep.equal([
        [["sqs:SendMessage"], ["<FailedInvocations.Arn>"]],
      ]);
    });
  });

  // --- Progressive rollouts (issue 13): alarms and smoke invocations ---
  it("may read alarm states only (DescribeAlarms), only on this account's and Region's alarm ARNs", () => {
    everyVariant("reconciler", ({ template: t, ctx }, label) => {
      const cw = policyStatements(t, ctx).filter((s) => s.actions.some((a) => a.startsWith("cloudwatch:")));
      expect(
        cw.map((s) => [s.effect, s.actions, s.resources]),
        label,
      ).to.deep.equal([["Allow", ["cloudwatch:DescribeAlarms"], [`arn:aws:cloudwatch:${REGION}:${TARGET_ACCOUNT}:alarm:*`]]]);
    });
  });

  it("may invoke only the prefix functions' version aliases (not LIVE, numbered versions, $LATEST or unqualified)", () => {
    everyVariant("reconciler", ({ template: t, ctx }, label) => {
      const invoke = policyStatements(t, ctx).filter((s) => s.actions.includes("lambda:InvokeFunction"));
      for (const s of invoke) expect([s.effect, s.actions], label).to.deep.equal(["Allow", ["lambda:InvokeFunction"]]);
      const resources = invoke.flatMap((s) => s.resources);
      expect(sorted(resources), label).to.deep.equal(
        sorted(PREFIXES.map((p) => `arn:aws:lambda:${REGION}:${TARGET_ACCOUNT}:function:${p}*:*-*-*`)),
      );
      // IAM wildcards: "*" matches any run of characters, including ":".
      const glob = (pattern: string) =>
        new RegExp(`^${pattern.split("*").map((x) => x.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
      const allowed = (arn: string) => resources.some((r) => glob(r).test(arn));
      const fn = `arn:aws:lambda:${REGION}:${TARGET_ACCOUNT}:function:${PREFIXES[0]}orders`;
      expect(allowed(`${fn}:1-5-0`), label).to.equal(true);
      expect(allowed(`${fn}:1-6-0_rc-1`), label).to.equal(true);
      for (const denied of [fn, `${fn}:LIVE`, `${fn}:7`, `${fn}:$LATEST`]) expect(allowed(denied), denied).to.equal(false);
      const other = `arn:aws:lambda:${REGION}:${TARGET_ACCOUNT}:function:lambda-gitops-reconciler:1-0-0`;
      expect(allowed(other), other).to.equal(false);
    });
  });

  it("grants staging S3 access only when StagingBucket is set, and only under lambda-gitops/", () => {
    const without = stack("reconciler");
    expect(
      policyStatements(without.template, without.ctx).filter((s) =>
        s.actions.some((a) => a.startsWith("s3:")),
      ),
    ).to.be.empty;
    const withBucket = stack("reconciler", { StagingBucket: "staging-bucket-1" });
    const s3 = policyStatements(withBucket.template, withBucket.ctx).filter((s) =>
      s.actions.some((a) => a.startsWith("s3:")),
    );
    expect(s3.map((s) => [sorted(s.actions), s.resources])).to.deep.equal([
      [["s3:GetObject", "s3:PutObject"], ["arn:aws:s3:::staging-bucket-1/lambda-gitops/*"]],
    ]);
    // Only this account's bucket of that name (s3:ResourceAccount).
    expect(s3.map((s) => s.raw.Condition)).to.deep.equal([
      { StringEquals: { "s3:ResourceAccount": TARGET_ACCOUNT } },
    ]);
  });

  it("grants the staging bucket's KMS key only when StagingBucketKmsKeyArn (and StagingBucket) are set, only through S3", () => {
    const kms = (variant: Record<string, ParameterValue>) => {
      const { template: t, ctx } = stack("reconciler", variant);
      return policyStatements(t, ctx).filter((s) => s.actions.some((a) => a.startsWith("kms:")));
    };
    expect(kms({})).to.be.empty;
    expect(kms({ StagingBucket: "staging-bucket-1" })).to.be.empty;
    expect(kms({ StagingBucketKmsKeyArn: STAGING_KEY })).to.be.empty;
    const granted = kms({ StagingBucket: "staging-bucket-1", StagingBucketKmsKeyArn: STAGING_KEY });
    expect(granted.map((s) => [sorted(s.actions), s.resources, s.raw.Condition])).to.deep.equal([
      [
        ["kms:Decrypt", "kms:GenerateDataKey"],
        [STAGING_KEY],
        { StringEquals: { "kms:ViaService": `s3.${REGION}.amazonaws.com` } },
      ],
    ]);
    expect(() => stack("reconciler", { StagingBucketKmsKeyArn: "alias/staging" })).to.throw();
  });

  it("reads the job from CodePipeline (GetJobDetails), checks its execution (GetPipelineExecution) and reports its result", () => {
    const { template: t, ctx } = stack("reconciler");
    const pipeline = policyStatements(t, ctx).filter((s) => s.actions.some((a) => a.startsWith("codepipeline:")));
    expect(pipeline.map((s) => [s.effect, sorted(s.actions), s.resources])).to.deep.equal([
      [
        "Allow",
        [
          "codepipeline:GetJobDetails",
          "codepipeline:GetPipelineExecution",
          "codepipeline:PutJobFailureResult",
          "codepipeline:PutJobSuccessResult",
        ],
        ["*"],
      ],
    ]);
  });

  it("does not retry failed asynchronous invocations, drops events older than 15 minutes to a queue that keeps them one day", () => {
    const { template: t, ctx } = stack("reconciler");
    const config = evaluateJson(t.Resources.AsyncInvokeConfig!, ctx) as JsonObject;
    expect(config.Type).to.equal("AWS::Lambda::EventInvokeConfig");
    expect(config.Properties).to.deep.equal({
      FunctionName: "<Function>",
      Qualifier: "$LATEST",
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 900,
      DestinationConfig: { OnFailure: { Destination: "<FailedInvocations.Arn>" } },
    });
    const queue = evaluateJson(t.Resources.FailedInvocations!, ctx) as JsonObject;
    expect([queue.Type, queue.DeletionPolicy, queue.UpdateReplacePolicy]).to.deep.equal([
      "AWS::SQS::Queue",
      "Retain",
      "Retain",
    ]);
    // The messages hold the job event, with its temporary artifact credentials: one day at most.
    expect(queue.Properties).to.deep.equal({ MessageRetentionPeriod: 86400, SqsManagedSseEnabled: true });
  });

  it("defines the function as specified", () => {
    for (const variant of SAMPLES.reconciler.variants) {
      const { template: t, ctx } = stack("reconciler", variant);
      const fn = evaluateJson(t.Resources.Function!, ctx) as JsonObject;
      const p = fn.Properties as JsonObject;
      expect(fn.Type).to.equal("AWS::Lambda::Function");
      expect(fn.DependsOn).to.equal("LogGroup");
      expect(p.Runtime).to.equal("nodejs22.x");
      expect(p.Handler).to.equal("handler.handler");
      expect(p.Timeout).to.equal(900);
      expect(p.MemorySize).to.equal("1024");
      expect(p.Role).to.equal("<ExecutionRole.Arn>");
      expect(p.Environment).to.deep.equal({
        Variables: {
          LOG_LEVEL: "info",
          PIPELINE_NAMES: "lambda-gitops",
          ALLOWED_PREFIXES: PREFIXES.join(","),
          PROTECTED_FUNCTIONS: "lambda-gitops-pr-plan,lambda-gitops-drift",
        },
      });
      const code: JsonObject = {
        S3Bucket: SAMPLES.reconciler.base.CodeS3Bucket!,
        S3Key: SAMPLES.reconciler.base.CodeS3Key!,
      };
      if (variant.CodeS3ObjectVersion) code.S3ObjectVersion = variant.CodeS3ObjectVersion;
      expect(p.Code).to.deep.equal(code);
    }
  });

  it("outputs the function name and ARN and the execution role ARN", () => {
    const { template: t, ctx } = stack("reconciler");
    const outputs = Object.fromEntries(
      Object.entries(t.Outputs ?? {}).map(([id, o]) => [id, evaluateJson(o.Value ?? null, ctx)]),
    );
    expect(outputs).to.deep.equal({
      FunctionName: "<Function>",
      FunctionArn: "<Function.Arn>",
      ExecutionRoleArn: "<ExecutionRole.Arn>",
      FailedInvocationsQueueUrl: "<FailedInvocations>",
    });
  });
});

describe("infra/reconciler.yaml: pruning permissions (issue 16)", () => {
  it("allows DeleteAlias and DeleteFunction only with AllowPrune=true, on qualified prefix ARNs only, in their own statement", () => {
    everyVariant("reconciler", ({ template: t, ctx }, label) => {
      const deletes = policyStatements(t, ctx).filter(
        (s) => s.effect === "Allow" && s.actions.some((a) => PRUNE_LAMBDA_ACTIONS.includes(a)),
      );
      expect(deletes, label).to.have.length(ctx.conditions.PruneAllowed ? PREFIXES.length : 0);
      if (!ctx.conditions.PruneAllowed) return;
      for (const s of deletes) {
        expect(s.raw.Sid).to.equal("PrunePrefixVersions");
        expect(sorted(s.actions)).to.deep.equal(sorted(PRUNE_LAMBDA_ACTIONS));
        expect(s.resources).to.have.length(1);
        expect(s.resources[0]).to.match(/^arn:aws:lambda:[^:]+:\d{12}:function:[A-Za-z0-9_-]+\*:\*$/);
      }
      expect(sorted(deletes.flatMap((s) => s.resources))).to.deep.equal(
        sorted(prefixArns(TARGET_ACCOUNT).filter((arn) => arn.endsWith(":*"))),
      );
    });
  });

  it("lists event-source mappings and provisioned concurrency (read-only) only with AllowPrune=true (issue 20)", () => {
    everyVariant("reconciler", ({ template: t, ctx }, label) => {
      const lists = policyStatements(t, ctx).filter((s) => s.raw.Sid === "PruneListInvokers");
      const listed = policyStatements(t, ctx).filter((s) => s.actions.includes("lambda:ListEventSourceMappings"));
      expect(listed, label).to.deep.equal(lists);
      expect(lists.map((s) => [s.effect, sorted(s.actions), s.resources]), label).to.deep.equal(
        ctx.conditions.PruneAllowed
          ? [["Allow", ["lambda:ListEventSourceMappings", "lambda:ListProvisionedConcurrencyConfigs"], ["*"]]]
          : [],
      );
    });
  });

  it("matches no unqualified function ARN with a delete, so DeleteFunction without Qualifier is denied", () => {
    const { template: t, ctx } = stack("reconciler", { AllowPrune: "true" });
    const deleteResources = policyStatements(t, ctx)
      .filter((s) => s.effect === "Allow" && s.actions.some((a) => PRUNE_LAMBDA_ACTIONS.includes(a)))
      .flatMap((s) => s.resources);
    // IAM's "*" matches any characters, ":" included: model it to check the patterns.
    const matches = (pattern: string, arn: string) =>
      new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`).test(arn);
    const fn = `arn:aws:lambda:${REGION}:${TARGET_ACCOUNT}:function:team-a-orders`;
    expect(deleteResources.some((p) => matches(p, fn))).to.equal(false);
    expect(deleteResources.some((p) => matches(p, `${fn}:7`))).to.equal(true);
    expect(deleteResources.some((p) => matches(p, `${fn}:1-4-0`))).to.equal(true);
    expect(deleteResources.some((p) => matches(p, `arn:aws:lambda:${REGION}:${TARGET_ACCOUNT}:function:team-c-x:7`))).to.equal(false);
  });
});

describe("infra/reconciler.yaml: pruning within IAM's quota", () => {
  it("keeps the inline policies under 10,240 characters for 11 twenty-character prefixes with AllowPrune=true (9 with smoke invocations)", () => {
    const prefixes = Array.from({ length: 11 }, (_, i) => `team-${String(i).padStart(2, "0")}-${"x".repeat(11)}-`);
    const { template: t, ctx } = stack("reconciler", {
      AllowedPrefixes: prefixes.join(","),
      StagingBucket: "s".repeat(63),
      AllowPrune: "true",
      SmokeInvocations: "disabled",
    });
    const size = inlinePolicySize(t, ctx);
    expect(size).to.be.greaterThan(11 * 550);
    expect(size).to.be.lessThan(10240);
    // The rollout smoke-invoke grant (default SmokeInvocations=enabled) costs one statement per
    // prefix: with pruning too, 9 such prefixes fit and 10 do not (documented in infra/README.md).
    const withSmoke = (n: number) => {
      const both = stack("reconciler", {
        AllowedPrefixes: prefixes.slice(0, n).join(","),
        StagingBucket: "s".repeat(63),
        AllowPrune: "true",
      });
      return inlinePolicySize(both.template, both.ctx);
    };
    expect(withSmoke(9)).to.be.lessThan(10240);
    expect(withSmoke(10)).to.be.greaterThan(10240);
  });
});

describe("infra/source-role.yaml", () => {
  it("is trusted by exactly the reconciler role ARNs, with the optional ExternalId and org conditions", () => {
    everyVariant("source-role", ({ template: t, ctx }, label) => {
      const trust = policyStatements(t, ctx).filter((s) => s.kind === "trust");
      expect(trust, label).to.have.length(1);
      const s = trust[0]!;
      expect(s.effect).to.equal("Allow");
      expect(s.actions).to.deep.equal(["sts:AssumeRole"]);
      expect(Object.keys(s.raw.Principal as JsonObject)).to.deep.equal(["AWS"]);
      const principals = strings((s.raw.Principal as JsonObject).AWS);
      expect(principals).to.deep.equal(RECONCILER_ROLE_ARNS);
      for (const principal of principals) {
        expect(principal).to.match(/^arn:aws:iam::\d{12}:role\/.+/);
        expect(principal).to.not.match(/:root$|\*/);
      }
      const expected: JsonObject = {};
      const externalId = ctx.parameters.ExternalId;
      const orgId = ctx.parameters.PrincipalOrgId;
      if (externalId) expected["sts:ExternalId"] = externalId;
      if (orgId) expected["aws:PrincipalOrgID"] = orgId;
      if (Object.keys(expected).length === 0) expect(s.raw).to.not.have.property("Condition");
      else expect(s.raw.Condition).to.deep.equal({ StringEquals: expected });
    });
  });

  it("rejects account roots and wildcards as trusted principals", () => {
    for (const bad of ["*", `arn:aws:iam::${TARGET_ACCOUNT}:root`, TARGET_ACCOUNT, "arn:aws:iam::*:role/x"]) {
      expect(() => stack("source-role", { ReconcilerRoleArns: bad }), bad).to.throw();
    }
  });

  it("grants only read actions, exactly on the prefix function ARNs of the source account", () => {
    everyVariant("source-role", ({ template: t, ctx }, label) => {
      const identity = policyStatements(t, ctx).filter(
        (s) => s.kind === "identity" && !s.actions.every((a) => a.startsWith("kms:")),
      );
      expect(identity, label).to.have.length(PREFIXES.length);
      for (const s of identity) {
        expect(s.effect).to.equal("Allow");
        expect(sorted(s.actions), label).to.deep.equal(sorted(SOURCE_LAMBDA_ACTIONS));
      }
      expect(sorted(identity.flatMap((s) => s.resources))).to.deep.equal(sorted(prefixArns(SOURCE_ACCOUNT)));
    });
  });

  it("grants kms:Decrypt on the source code keys only when SourceCodeKmsKeyArns is set, only through Lambda", () => {
    everyVariant("source-role", ({ template: t, ctx }, label) => {
      const kms = policyStatements(t, ctx).filter((s) => s.actions.some((a) => a.startsWith("kms:")));
      if (!ctx.parameters.SourceCodeKmsKeyArns?.toString()) {
        expect(kms, label).to.be.empty;
        return;
      }
      expect(kms.map((s) => [s.effect, s.actions, sorted(s.resources), s.raw.Condition]), label).to.deep.equal([
        [
          "Allow",
          ["kms:Decrypt"],
          sorted(SOURCE_CODE_KEYS),
          { StringEquals: { "kms:ViaService": `lambda.${REGION}.amazonaws.com` } },
        ],
      ]);
    });
    expect(() => stack("source-role", { SourceCodeKmsKeyArns: "alias/code" })).to.throw();
  });

  it("caps sessions at one hour and outputs the role ARN", () => {
    const { template: t, ctx } = stack("source-role");
    const role = evaluateJson(t.Resources.SourceRole!, ctx) as JsonObject;
    expect((role.Properties as JsonObject).MaxSessionDuration).to.equal(3600);
    expect((role.Properties as JsonObject).RoleName).to.equal("lambda-gitops-source");
    expect(evaluateJson(t.Outputs?.SourceRoleArn?.Value ?? null, ctx)).to.equal("<SourceRole.Arn>");
  });
});

describe("infra/pipeline.yaml", () => {
  function action(t: Template, ctx: EvalContext, stageName: string): JsonObject {
    const pipeline = evaluateJson(t.Resources.Pipeline!, ctx) as JsonObject;
    const stages = (pipeline.Properties as JsonObject).Stages as JsonObject[];
    const stage = stages.find((s) => s.Name === stageName);
    expect(stage, stageName).to.not.equal(undefined);
    return (stage!.Actions as JsonObject[])[0]!;
  }

  function userParameters(variant: Record<string, ParameterValue> = {}): string {
    const { template: t, ctx } = stack("pipeline", variant);
    const configuration = action(t, ctx, "Reconcile").Configuration as JsonObject;
    expect(configuration.FunctionName).to.equal("lambda-gitops-reconciler");
    return String(configuration.UserParameters);
  }

  it("builds UserParameters as JSON with the expected keys, under 1000 characters", () => {
    const text = userParameters();
    expect(text.length).to.be.lessThan(1000);
    expect(JSON.parse(text)).to.deep.equal({
      allowedPrefixes: PREFIXES,
      sourceRoleArn: SOURCE_ROLE_ARN,
      liveAlias: "LIVE",
      definitionFile: "lambdas.json",
      concurrency: 4,
    });
  });

  it("adds externalId and stagingBucket only when set", () => {
    const base = ["allowedPrefixes", "sourceRoleArn", "liveAlias", "definitionFile", "concurrency"];
    const withExternalId = JSON.parse(userParameters({ ExternalId: "lambda-gitops-ext-1" }));
    expect(Object.keys(withExternalId).sort()).to.deep.equal([...base, "externalId"].sort());
    expect(withExternalId.externalId).to.equal("lambda-gitops-ext-1");
    const withStaging = JSON.parse(userParameters({ StagingBucket: "staging-bucket-1" }));
    expect(Object.keys(withStaging).sort()).to.deep.equal([...base, "stagingBucket"].sort());
    expect(withStaging.stagingBucket).to.equal("staging-bucket-1");
    const both = JSON.parse(
      userParameters({ ExternalId: "lambda-gitops-ext-1", StagingBucket: "staging-bucket-1" }),
    );
    expect(Object.keys(both).sort()).to.deep.equal([...base, "externalId", "stagingBucket"].sort());
  });

  it("produces UserParameters the reconciler's own parser accepts, for every sample", () => {
    for (const variant of SAMPLES.pipeline.variants) {
      const result = parseUserParameters(userParameters(variant));
      expect(result, JSON.stringify(variant)).to.have.property("ok", true);
      if (!result.ok) continue;
      expect(result.parameters.allowedPrefixes).to.deep.equal(PREFIXES);
      expect(result.parameters.sourceRoleArn).to.equal(SOURCE_ROLE_ARN);
      expect(result.parameters.externalId).to.equal(variant.ExternalId);
      expect(result.parameters.stagingBucket).to.equal(variant.StagingBucket);
    }
  });

  it("stays valid JSON and under 1000 characters for a single prefix and for ten 20-character prefixes", () => {
    expect(JSON.parse(userParameters({ AllowedPrefixes: "solo-" })).allowedPrefixes).to.deep.equal(["solo-"]);
    const many = Array.from(
      { length: 10 },
      (_, i) => `team-${String(i).padStart(2, "0")}-${"x".repeat(11)}-`,
    );
    const text = userParameters({
      AllowedPrefixes: many.join(","),
      ExternalId: "e".repeat(64),
      StagingBucket: "s".repeat(63),
      DefinitionFile: "deploy/production/lambdas.json",
    });
    expect(JSON.parse(text).allowedPrefixes).to.deep.equal(many);
    expect(text.length).to.be.lessThan(1000);
  });

  it("sources from CodeCommit without polling and starts on pushes to the branch through EventBridge", () => {
    const { template: t, ctx } = stack("pipeline");
    const source = action(t, ctx, "Source");
    expect(source.ActionTypeId).to.deep.equal({
      Category: "Source",
      Owner: "AWS",
      Provider: "CodeCommit",
      Version: "1",
    });
    expect(source.Configuration).to.deep.equal({
      RepositoryName: "lambda-definitions",
      BranchName: "main",
      PollForSourceChanges: false,
    });
    const invoke = action(t, ctx, "Reconcile");
    expect(invoke.ActionTypeId).to.deep.equal({
      Category: "Invoke",
      Owner: "AWS",
      Provider: "Lambda",
      Version: "1",
    });
    expect(invoke.InputArtifacts).to.deep.equal(source.OutputArtifacts);

    const rule = (evaluateJson(t.Resources.StartOnPush!, ctx) as JsonObject).Properties as JsonObject;
    const repoArn = `arn:aws:codecommit:${REGION}:${TARGET_ACCOUNT}:lambda-definitions`;
    expect(rule.EventPattern).to.deep.equal({
      source: ["aws.codecommit"],
      "detail-type": ["CodeCommit Repository State Change"],
      resources: [repoArn],
      detail: {
        event: ["referenceCreated", "referenceUpdated"],
        referenceType: ["branch"],
        referenceName: ["main"],
      },
    });
    const pipelineArn = `arn:aws:codepipeline:${REGION}:${TARGET_ACCOUNT}:<Pipeline>`;
    expect(rule.Targets).to.deep.equal([
      { Id: "pipeline", Arn: pipelineArn, RoleArn: "<StartPipelineRole.Arn>" },
    ]);
    const start = policyStatements(t, ctx).filter((s) => s.resource.startsWith("StartPipelineRole/"));
    expect(start.map((s) => [s.actions, s.resources])).to.deep.equal([
      [["codepipeline:StartPipelineExecution"], [pipelineArn]],
    ]);
  });

  it("sources from a CodeConnections connection (GitHub, GitLab, Bitbucket) instead, as pipeline-full.yaml does", () => {
    const connection = SAMPLES.pipeline.variants[4]!;
    const { template: t, ctx } = stack("pipeline", connection);
    expect(ctx.conditions.UseCodeCommit).to.equal(false);
    const source = action(t, ctx, "Source");
    expect(source).to.deep.equal({
      Name: "Source",
      ActionTypeId: { Category: "Source", Owner: "AWS", Provider: "CodeStarSourceConnection", Version: "1" },
      Configuration: {
        ConnectionArn: TARGET_CONNECTION_ARN,
        FullRepositoryId: "acme/lambda-definitions",
        BranchName: "main",
        DetectChanges: true,
      },
      OutputArtifacts: [{ Name: "Definitions" }],
    });
    // The same Invoke action and UserParameters as with CodeCommit.
    expect(action(t, ctx, "Reconcile")).to.deep.equal(action(stack("pipeline").template, stack("pipeline").ctx, "Reconcile"));
    const role = policyStatements(t, ctx).filter((s) => s.resource.startsWith("PipelineRole/"));
    expect(role.find((s) => s.actions.includes("codeconnections:UseConnection"))?.resources).to.deep.equal([TARGET_CONNECTION_ARN]);
    expect(role.some((s) => s.actions.some((a) => a.startsWith("codecommit:")))).to.equal(false);
    // No EventBridge start: the connection detects changes itself.
    for (const id of ["StartOnPush", "StartPipelineRole"]) expect((t.Resources[id] as JsonObject).Condition).to.equal("UseCodeCommit");
    // The CodeCommit variant keeps its EventBridge start and grants no connection.
    const plain = stack("pipeline");
    expect(plain.ctx.conditions.UseCodeCommit).to.equal(true);
    expect(policyStatements(plain.template, plain.ctx).flatMap((s) => s.actions).filter((a) => a.includes("UseConnection"))).to.deep.equal([]);
    // Each provider needs its own parameters (the template's Rules).
    const rules = template("pipeline").Rules as JsonObject;
    expect(Object.keys(rules).sort()).to.deep.equal(["CodeCommitNeedsRepository", "ConnectionNeedsArnAndRepository"]);
  });

  it("gives the pipeline role only invoke on the reconciler, repository reads and artifact-bucket access", () => {
    const { template: t, ctx } = stack("pipeline");
    const role = policyStatements(t, ctx).filter((s) => s.resource.startsWith("PipelineRole/"));
    const byAction = new Map<string, string[]>();
    for (const s of role) {
      expect(s.effect).to.equal("Allow");
      for (const a of s.actions) byAction.set(a, s.resources);
    }
    const reconciler = `arn:aws:lambda:${REGION}:${TARGET_ACCOUNT}:function:lambda-gitops-reconciler`;
    expect(byAction.get("lambda:InvokeFunction")).to.deep.equal([reconciler]);
    expect(byAction.get("lambda:ListFunctions")).to.deep.equal(["*"]);
    for (const [a, resources] of byAction) {
      if (a.startsWith("codecommit:")) {
        expect(a).to.match(/^codecommit:(Get|UploadArchive|CancelUploadArchive)/);
        expect(resources).to.deep.equal([
          `arn:aws:codecommit:${REGION}:${TARGET_ACCOUNT}:lambda-definitions`,
        ]);
      } else if (a.startsWith("s3:")) {
        expect(resources).to.satisfy((r: string[]) =>
          r.every((x) => x === "<ArtifactBucket.Arn>" || x === "<ArtifactBucket.Arn>/*"),
        );
      } else {
        expect(a).to.be.oneOf(["lambda:InvokeFunction", "lambda:ListFunctions"]);
      }
    }
  });

  it("keeps the artifact bucket encrypted, versioned, private and TLS-only", () => {
    const { template: t, ctx } = stack("pipeline");
    const bucket = (evaluateJson(t.Resources.ArtifactBucket!, ctx) as JsonObject).Properties as JsonObject;
    expect(bucket.BucketEncryption).to.deep.equal({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }],
    });
    expect(bucket.VersioningConfiguration).to.deep.equal({ Status: "Enabled" });
    expect(bucket.PublicAccessBlockConfiguration).to.deep.equal({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    const policy = policyStatements(t, ctx).filter((s) => s.kind === "resource-policy");
    expect(policy.map((s) => [s.effect, (s.raw.Condition as JsonObject).Bool])).to.deep.equal([
      ["Deny", { "aws:SecureTransport": "false" }],
    ]);
  });
});

describe("infra/pr-plan.yaml", () => {
  const REPO_ARN = `arn:aws:codecommit:${REGION}:${TARGET_ACCOUNT}:lambda-definitions`;
  /** What planning calls (observe.ts): ListAliases, GetFunction, GetFunctionCodeSigningConfig, GetProvisionedConcurrencyConfig. */
  const LAMBDA_READ_ACTIONS = [
    "lambda:GetFunction",
    "lambda:ListAliases",
    "lambda:GetFunctionCodeSigningConfig",
    "lambda:GetProvisionedConcurrencyConfig",
  ];

  it("is read-only on Lambda: only the read actions, exactly on the prefix function ARNs", () => {
    everyVariant("pr-plan", ({ template: t, ctx }, label) => {
      const statements = policyStatements(t, ctx).filter((s) => s.kind === "identity");
      const lambda = statements.filter(
        (s) => s.effect === "Allow" && s.actions.some((a) => a.startsWith("lambda:")) && s.raw.Sid !== "ReadCodeSigningConfigs",
      );
      expect(lambda, label).to.have.length(PREFIXES.length);
      for (const s of lambda) {
        expect(s.effect).to.equal("Allow");
        expect(sorted(s.actions), `${label} ${s.resource}`).to.deep.equal(sorted(LAMBDA_READ_ACTIONS));
      }
      expect(sorted(lambda.flatMap((s) => s.resources))).to.deep.equal(sorted(prefixArns(TARGET_ACCOUNT)));
      // No Lambda write (or invoke) action at all, in any statement, not even a Deny.
      const writes = statements
        .flatMap((s) => s.actions)
        .filter((a) => a.startsWith("lambda:") && !/^lambda:(Get|List)[A-Za-z]+$/.test(a));
      expect(writes, label).to.deep.equal([]);
      for (const action of RECONCILER_LAMBDA_ACTIONS.filter((a) => !/:(Get|List)/.test(a))) {
        expect(
          statements.flatMap((s) => s.actions),
          label,
        ).to.not.include(action);
      }
      expect(statements.flatMap((s) => s.actions)).to.not.include("iam:PassRole");
    });
  });

  it("denies the planner any Lambda read of itself, the reconciler and the drift check, whatever the prefixes", () => {
    const { template: t, ctx } = stack("pr-plan", { AllowedPrefixes: "lambda-" });
    const deny = policyStatements(t, ctx).filter((s) => s.effect === "Deny");
    const arn = (name: string) => `arn:aws:lambda:${REGION}:${TARGET_ACCOUNT}:function:${name}`;
    expect(deny.map((s) => [sorted(s.actions), sorted(s.resources)])).to.deep.equal([
      [
        ["lambda:GetAlias", "lambda:GetFunction", "lambda:GetFunctionConfiguration", "lambda:ListAliases"],
        sorted([
          arn("lambda-gitops-pr-plan"),
          `${arn("lambda-gitops-pr-plan")}:*`,
          arn("lambda-gitops-reconciler"),
          `${arn("lambda-gitops-reconciler")}:*`,
          arn("lambda-gitops-drift"),
          `${arn("lambda-gitops-drift")}:*`,
        ]),
      ],
    ]);
  });

  it("may assume only the source role, read the file and comment on the repository, read the pipeline, write its logs", () => {
    everyVariant("pr-plan", ({ template: t, ctx }, label) => {
      const pipelineName = String(ctx.parameters.PipelineName);
      const other = policyStatements(t, ctx)
        .filter((s) => s.kind === "identity" && !s.actions.some((a) => a.startsWith("lambda:")))
        .map((s) => [s.effect, sorted(s.actions), s.resources]);
      expect(other, label).to.deep.equal([
        [
          "Allow",
          ["logs:CreateLogStream", "logs:PutLogEvents"],
          [`arn:aws:logs:${REGION}:${TARGET_ACCOUNT}:log-group:/aws/lambda/lambda-gitops-pr-plan:*`],
        ],
        ["Allow", ["sts:AssumeRole"], [SOURCE_ROLE_ARN]],
        [
          "Allow",
          ["codecommit:GetCommentsForPullRequest", "codecommit:GetFile", "codecommit:PostCommentForPullRequest"],
          [REPO_ARN],
        ],
        [
          "Allow",
          ["codepipeline:GetPipeline"],
          [`arn:aws:codepipeline:${REGION}:${TARGET_ACCOUNT}:${pipelineName}`],
        ],
        // Rollouts (issue 13): the plan reads alarm states.
        ["Allow", ["cloudwatch:DescribeAlarms"], [`arn:aws:cloudwatch:${REGION}:${TARGET_ACCOUNT}:alarm:*`]],
      ]);
      const trust = policyStatements(t, ctx).filter((s) => s.kind === "trust");
      expect(trust.map((s) => [s.actions, s.raw.Principal])).to.deep.equal([
        [["sts:AssumeRole"], { Service: "lambda.amazonaws.com" }],
      ]);
    });
  });

  it("defines the function from the same zip with handler pr-plan.handler and the pipeline settings", () => {
    for (const variant of SAMPLES["pr-plan"].variants) {
      const { template: t, ctx } = stack("pr-plan", variant);
      const fn = evaluateJson(t.Resources.Function!, ctx) as JsonObject;
      const p = fn.Properties as JsonObject;
      expect(fn.Type).to.equal("AWS::Lambda::Function");
      expect(fn.DependsOn).to.equal("LogGroup");
      expect(p.Runtime).to.equal("nodejs22.x");
      expect(p.Handler).to.equal("pr-plan.handler");
      expect(p.Role).to.equal("<ExecutionRole.Arn>");
      const code: JsonObject = {
        S3Bucket: SAMPLES["pr-plan"].base.CodeS3Bucket!,
        S3Key: SAMPLES["pr-plan"].base.CodeS3Key!,
      };
      if (variant.CodeS3ObjectVersion) code.S3ObjectVersion = variant.CodeS3ObjectVersion;
      expect(p.Code).to.deep.equal(code);
      const variables: JsonObject = {
        LOG_LEVEL: "info",
        PIPELINE_NAME: variant.PipelineName ?? "lambda-gitops",
        ACTION_NAME: variant.ActionName ?? "Reconcile",
      };
      if (variant.DefinitionFile) variables.DEFINITION_FILE = variant.DefinitionFile;
      variables.ALLOWED_PREFIXES = PREFIXES.join(",");
      variables.PROTECTED_FUNCTIONS = "lambda-gitops-reconciler,lambda-gitops-drift";
      expect(p.Environment).to.deep.equal({ Variables: variables });
      expect(p.ReservedConcurrentExecutions, "a flood of pull requests cannot eat the reconciler's quota").to.equal("2");
    }
    // The reconciler's code parameters (same type, pattern and default; only the wording may
    // differ), so one upload of dist/lambda-gitops.zip serves both functions.
    const withoutDescription = (name: TemplateName, parameter: string) => {
      const { Description: _, ...rest } = template(name).Parameters?.[parameter] ?? {};
      return rest;
    };
    for (const parameter of ["CodeS3Bucket", "CodeS3Key", "CodeS3ObjectVersion"]) {
      expect(withoutDescription("pr-plan", parameter), parameter)
        .to.deep.equal(withoutDescription("reconciler", parameter))
        .and.not.deep.equal({});
    }
  });

  it("is invoked by an EventBridge rule for new and updated open, unmerged pull requests of the repository", () => {
    const { template: t, ctx } = stack("pr-plan");
    const rule = evaluateJson(t.Resources.PullRequestRule!, ctx) as JsonObject;
    expect(rule.Type).to.equal("AWS::Events::Rule");
    const p = rule.Properties as JsonObject;
    expect(p.EventPattern).to.deep.equal({
      source: ["aws.codecommit"],
      "detail-type": ["CodeCommit Pull Request State Change"],
      resources: [REPO_ARN],
      detail: {
        event: ["pullRequestCreated", "pullRequestSourceBranchUpdated"],
        isMerged: ["False"],
        pullRequestStatus: ["Open"],
        destinationReference: ["refs/heads/main"],
      },
    });
    expect(p.Targets).to.deep.equal([{ Id: "pr-plan", Arn: "<Function.Arn>" }]);
    expect(p).to.not.have.property("RoleArn"); // Lambda targets use the resource policy below

    const permission = evaluateJson(t.Resources.InvokeFromRule!, ctx) as JsonObject;
    expect(permission.Type).to.equal("AWS::Lambda::Permission");
    expect(permission.Properties).to.deep.equal({
      FunctionName: "<Function>",
      Action: "lambda:InvokeFunction",
      Principal: "events.amazonaws.com",
      SourceArn: "<PullRequestRule.Arn>",
    });
  });

  it("outputs the function, its role (for the source role's trust list) and the rule", () => {
    const { template: t, ctx } = stack("pr-plan");
    const outputs = Object.fromEntries(
      Object.entries(t.Outputs ?? {}).map(([id, o]) => [id, evaluateJson(o.Value ?? null, ctx)]),
    );
    expect(outputs).to.deep.equal({
      FunctionName: "<Function>",
      FunctionArn: "<Function.Arn>",
      ExecutionRoleArn: "<ExecutionRole.Arn>",
      RuleArn: "<PullRequestRule.Arn>",
    });
  });
});

describe("infra: audit trail", () => {
  for (const name of ["reconciler", "pr-plan"] as const) {
    it(`infra/${name}.yaml keeps its log group when the stack is deleted or the group replaced`, () => {
      const log = template(name).Resources.LogGroup! as JsonObject;
      expect([log.Type, log.DeletionPolicy, log.UpdateReplacePolicy]).to.deep.equal([
        "AWS::Logs::LogGroup",
        "Retain",
        "Retain",
      ]);
    });
  }
  for (const name of ["reconciler", "pr-plan", "pipeline", "source-role"] as const) {
    it(`infra/${name}.yaml accepts only prefixes ending with '-' or '_' (as the reconciler's parser does)`, () => {
      for (const bad of ["team-a", "a", "-", "team-a-x"]) {
        expect(() => stack(name, { AllowedPrefixes: bad }), `${name} ${bad}`).to.throw(/does not match/);
        expect(parseUserParameters(JSON.stringify({ allowedPrefixes: [bad] })).ok, bad).to.equal(false);
      }
      for (const good of ["team-a-", "t_", "a1-"]) {
        expect(() => stack(name, { AllowedPrefixes: good }), `${name} ${good}`).to.not.throw();
        expect(parseUserParameters(JSON.stringify({ allowedPrefixes: [good] })).ok, good).to.equal(true);
      }
    });
  }
});

describe("infra: the UserParameters evaluator is honest", () => {
  it("would catch a JSON-breaking value if a constraint were loosened", () => {
    // Guard for the test itself: evaluate the real Sub with a value the AllowedPattern forbids.
    const t = template("pipeline");
    const pipeline = t.Resources.Pipeline as JsonObject;
    const stages = (pipeline.Properties as JsonObject).Stages as JsonObject[];
    const configuration = ((stages[1]!.Actions as JsonObject[])[0]!.Configuration as JsonObject)
      .UserParameters!;
    const { ctx } = stack("pipeline");
    ctx.parameters.LiveAlias = 'LI"VE';
    expect(() => JSON.parse(String(evaluate(configuration, ctx)))).to.throw();
    expect(() => stack("pipeline", { LiveAlias: 'LI"VE' })).to.throw(/LiveAlias/);
    expect(() => stack("pipeline", { LiveAlias: "123" })).to.throw(/LiveAlias/);
  });
});

describe("infra/drift.yaml (issue 16)", () => {
  const pipelineArn = (name = "lambda-gitops") => `arn:aws:codepipeline:${REGION}:${TARGET_ACCOUNT}:${name}`;

  it("reads Lambda only: read actions on the prefix functions, no write anywhere", () => {
    everyVariant("drift", ({ template: t, ctx }, label) => {
      const statements = policyStatements(t, ctx).filter((s) => s.kind === "identity");
      const lambda = statements.filter((s) => s.effect === "Allow" && s.actions.some((a) => a.startsWith("lambda:")));
      expect(lambda, label).to.have.length(PREFIXES.length);
      for (const s of lambda) {
        expect(sorted(s.actions)).to.deep.equal(sorted(DRIFT_LAMBDA_ACTIONS));
      }
      expect(sorted(lambda.flatMap((s) => s.resources))).to.deep.equal(sorted(prefixArns(TARGET_ACCOUNT)));
      const actions = statements.flatMap((s) => s.actions);
      expect(actions.filter((a) => /^lambda:(Update|Create|Delete|Publish|Put|Add|Remove)/.test(a)), label).to.deep.equal([]);
      expect(actions.filter((a) => a.startsWith("sts:") || a.startsWith("iam:")), label).to.deep.equal([]);
    });
  });

  it("grants exactly what the check uses, each on the narrowest resource", () => {
    everyVariant("drift", ({ template: t, ctx }, label) => {
      const byAction = Object.fromEntries(
        policyStatements(t, ctx)
          .filter((s) => s.kind === "identity" && !s.actions.some((a) => a.startsWith("lambda:") || a.startsWith("logs:")))
          .map((s) => [s.actions.join(","), s.resources]),
      );
      const expected: Record<string, string[]> = {
        "codepipeline:GetPipeline": [pipelineArn()],
        "codepipeline:ListPipelineExecutions,codepipeline:ListActionExecutions": [pipelineArn()],
        "s3:GetObject": ["arn:aws:s3:::lambda-gitops-artifacts-111111111111/*"],
        "cloudtrail:LookupEvents": ["*"],
        "cloudwatch:PutMetricData": ["*"],
        "events:PutEvents": [`arn:aws:events:${REGION}:${TARGET_ACCOUNT}:event-bus/default`],
      };
      if (ctx.conditions.SelfHeal) expected["codepipeline:StartPipelineExecution"] = [pipelineArn()];
      if (ctx.conditions.HasArtifactKey) expected["kms:Decrypt"] = [ARTIFACT_KEY];
      if (ctx.conditions.HasRepository) {
        expected["codecommit:GetFile"] = [`arn:aws:codecommit:${REGION}:${TARGET_ACCOUNT}:lambda-definitions`];
      }
      expect(byAction, label).to.deep.equal(expected);
    });
  });

  it("reads the artifact key only through S3, and only when one is given; CodeCommit's GetFile only with a repository", () => {
    const keyed = stack("drift", { ArtifactKmsKeyArn: ARTIFACT_KEY });
    const decrypt = policyStatements(keyed.template, keyed.ctx).find((s) => s.actions.includes("kms:Decrypt"));
    expect(decrypt?.raw.Condition).to.deep.equal({ StringEquals: { "kms:ViaService": `s3.${REGION}.amazonaws.com` } });
    const plain = stack("drift");
    const actions = policyStatements(plain.template, plain.ctx).flatMap((s) => s.actions);
    expect(actions).to.not.include.members(["kms:Decrypt"]);
    expect(actions).to.not.include.members(["codecommit:GetFile"]);
  });

  it("scopes PutMetricData to the metric namespace", () => {
    everyVariant("drift", ({ template: t, ctx }, label) => {
      const metric = policyStatements(t, ctx).find((s) => s.actions.includes("cloudwatch:PutMetricData"));
      const namespace = ctx.parameters.MetricNamespace;
      expect(metric?.raw.Condition, label).to.deep.equal({ StringEquals: { "cloudwatch:namespace": namespace } });
    });
  });

  it("starts the pipeline only with OnDrift=start-pipeline", () => {
    const plain = stack("drift");
    expect(policyStatements(plain.template, plain.ctx).flatMap((s) => s.actions)).to.not.include(
      "codepipeline:StartPipelineExecution",
    );
    const heal = stack("drift", { OnDrift: "start-pipeline" });
    expect(policyStatements(heal.template, heal.ctx).flatMap((s) => s.actions)).to.include(
      "codepipeline:StartPipelineExecution",
    );
  });

  it("runs drift.handler on the schedule, with the settings the code reads", () => {
    const { template: t, ctx } = stack("drift", SAMPLES.drift.variants[2]);
    const fn = evaluateJson(t.Resources.Function!, ctx) as JsonObject;
    const p = fn.Properties as JsonObject;
    expect(p.Handler).to.equal("drift.handler");
    expect(p.Environment).to.deep.equal({
      Variables: {
        LOG_LEVEL: "info",
        PIPELINE_NAME: "lambda-gitops",
        ACTION_NAME: "Reconcile",
        REPOSITORY_NAME: "lambda-definitions",
        BRANCH_NAME: "main",
        DEFINITION_FILE: "deploy/production/lambdas.json",
        RECONCILER_ROLE_ARN: RECONCILER_ROLE_ARNS[0],
        ON_DRIFT: "start-pipeline",
        METRIC_NAMESPACE: "Team/Deploys",
        ALLOWED_PREFIXES: PREFIXES.join(","),
        PROTECTED_FUNCTIONS: "lambda-gitops-reconciler,lambda-gitops-pr-plan",
      },
    });
    const rule = evaluateJson(t.Resources.ScheduleRule!, ctx) as JsonObject;
    expect((rule.Properties as JsonObject).ScheduleExpression).to.equal("cron(0/15 * * * ? *)");
    expect((rule.Properties as JsonObject).Targets).to.deep.equal([{ Id: "drift", Arn: "<Function.Arn>" }]);
    const permission = evaluateJson(t.Resources.InvokeFromRule!, ctx) as JsonObject;
    expect((permission.Properties as JsonObject).SourceArn).to.equal("<ScheduleRule.Arn>");
    const plain = stack("drift");
    const env = ((evaluateJson(plain.template.Resources.Function!, plain.ctx) as JsonObject).Properties as JsonObject)
      .Environment as JsonObject;
    expect(env.Variables).to.not.have.any.keys("DEFINITION_FILE", "RECONCILER_ROLE_ARN", "REPOSITORY_NAME", "BRANCH_NAME");
    expect(env.Variables).to.deep.include({ PIPELINE_NAME: "lambda-gitops", ACTION_NAME: "Reconcile" });
  });

  it("refuses schedule expressions that are not rate() or cron()", () => {
    for (const bad of ["every hour", "rate(0 minutes)", "rate(1 fortnight)", ""]) {
      expect(() => stack("drift", { ScheduleExpression: bad }), bad).to.throw();
    }
  });
});

describe("infra/pipeline-full.yaml (commit to production)", () => {
  const CODECOMMIT = SAMPLES["pipeline-full"].variants[0]!;
  const CONNECTION = SAMPLES["pipeline-full"].variants[1]!;

  function stages(variant: Record<string, ParameterValue>): JsonObject[] {
    const { template: t, ctx } = stack("pipeline-full", variant);
    const pipeline = evaluateJson(t.Resources.Pipeline!, ctx) as JsonObject;
    return (pipeline.Properties as JsonObject).Stages as JsonObject[];
  }
  const onlyAction = (stage: JsonObject) => (stage.Actions as JsonObject[])[0]!;

  it("runs source, build (test + publish), staging, a manual approval, then production, in that order", () => {
    const list = stages(CODECOMMIT);
    expect(list.map((s) => s.Name)).to.deep.equal([
      "Source",
      "Build",
      "ReconcileStaging",
      "ApproveProduction",
      "ReconcileProduction",
    ]);
    expect(onlyAction(list[1]!).ActionTypeId).to.deep.include({ Category: "Build", Provider: "CodeBuild" });
    expect(onlyAction(list[3]!).ActionTypeId).to.deep.include({ Category: "Approval", Provider: "Manual" });
    for (const stage of [list[2]!, list[4]!]) {
      expect(onlyAction(stage).ActionTypeId).to.deep.include({ Category: "Invoke", Provider: "Lambda" });
      expect(onlyAction(stage).InputArtifacts).to.deep.equal([{ Name: "Source" }]);
    }
  });

  it("reconciles staging here without a source role, and production through the production action role", () => {
    const list = stages(CODECOMMIT);
    const staging = onlyAction(list[2]!);
    expect(staging).to.not.have.property("RoleArn");
    const stagingParameters = parseUserParameters(String((staging.Configuration as JsonObject).UserParameters));
    expect(stagingParameters.ok && stagingParameters.parameters).to.deep.include({
      allowedPrefixes: PREFIXES,
      definitionFile: "environments/staging/lambdas.json",
    });
    expect(stagingParameters.ok && stagingParameters.parameters).to.not.have.property("sourceRoleArn");
    const production = onlyAction(list[4]!);
    expect(production.RoleArn).to.equal(PRODUCTION_ACTION_ROLE);
    const productionParameters = parseUserParameters(
      String((production.Configuration as JsonObject).UserParameters),
    );
    expect(productionParameters.ok && productionParameters.parameters).to.deep.include({
      allowedPrefixes: PREFIXES,
      definitionFile: "environments/production/lambdas.json",
      sourceRoleArn: SOURCE_ROLE_ARN,
    });
  });

  it("sources from CodeCommit (started by EventBridge) or from a CodeConnections connection (detects changes itself)", () => {
    expect(onlyAction(stages(CODECOMMIT)[0]!)).to.deep.include({
      ActionTypeId: { Category: "Source", Owner: "AWS", Provider: "CodeCommit", Version: "1" },
      Configuration: { RepositoryName: "orders-service", BranchName: "main", PollForSourceChanges: false },
    });
    expect(onlyAction(stages(CONNECTION)[0]!)).to.deep.include({
      ActionTypeId: { Category: "Source", Owner: "AWS", Provider: "CodeStarSourceConnection", Version: "1" },
      Configuration: {
        ConnectionArn: CONNECTION_ARN,
        FullRepositoryId: "acme/orders-service",
        BranchName: "main",
        DetectChanges: true,
      },
    });
    expect(stack("pipeline-full", CODECOMMIT).ctx.conditions.UseCodeCommit).to.equal(true);
    expect(stack("pipeline-full", CONNECTION).ctx.conditions.UseCodeCommit).to.equal(false);
    const { template: t, ctx } = stack("pipeline-full", CONNECTION);
    const role = policyStatements(t, ctx).filter((s) => s.resource.startsWith("PipelineRole/"));
    const use = role.find((s) => s.actions.includes("codeconnections:UseConnection"));
    expect(use?.resources).to.deep.equal([CONNECTION_ARN]);
    expect(role.some((s) => s.actions.some((a) => a.startsWith("codecommit:")))).to.equal(false);
  });

  it("lets the build publish (and only publish) into this account, on the prefix functions only", () => {
    const { template: t, ctx } = stack("pipeline-full", CODECOMMIT);
    const statements = policyStatements(t, ctx).filter((s) => s.kind === "identity");
    const lambda = statements.filter((s) => s.actions.some((a) => a.startsWith("lambda:")) && s.resource.startsWith("PublishPolicy"));
    expect(lambda).to.have.length(PREFIXES.length);
    for (const s of lambda) {
      expect(sorted(s.actions)).to.deep.equal(
        sorted([
          "lambda:GetFunction",
          "lambda:GetAlias",
          "lambda:UpdateFunctionCode",
          "lambda:UpdateFunctionConfiguration",
          "lambda:PublishVersion",
          "lambda:CreateAlias",
        ]),
      );
    }
    expect(sorted(lambda.flatMap((s) => s.resources))).to.deep.equal(sorted(prefixArns(PIPELINE_ACCOUNT)));
    // The build can never move LIVE (no UpdateAlias) nor invoke anything.
    const buildActions = statements
      .filter((s) => s.resource.startsWith("BuildRole/") || s.resource.startsWith("PublishPolicy"))
      .flatMap((s) => s.actions);
    expect(buildActions).to.not.include.members(["lambda:UpdateAlias", "lambda:InvokeFunction"]);
  });

  it("never lets the build write an artifact a later stage reads: PutObject only under its own declared outputs", () => {
    for (const variant of [CODECOMMIT, CONNECTION]) {
      const { template: t, ctx } = stack("pipeline-full", variant);
      const list = stages(variant);
      const build = list.find((s) => s.Name === "Build")!;
      const outputs = (build.Actions as JsonObject[]).flatMap((a) =>
        ((a.OutputArtifacts as JsonObject[] | undefined) ?? []).map((o) => String(o.Name)),
      );
      // CodePipeline stores an output artifact under <pipeline name>/<artifact name>/ in the bucket.
      const pipelineName = String(ctx.parameters.PipelineName);
      const allowed = outputs.map((o) => `<ArtifactBucket.Arn>/${pipelineName}/${o}/*`);
      const buildStatements = policyStatements(t, ctx).filter(
        (s) => s.kind === "identity" && (s.resource.startsWith("BuildRole/") || s.resource.startsWith("PublishPolicy")),
      );
      const writes = buildStatements.filter((s) => s.actions.some((a) => /^s3:(\*|Put|.*Multipart|Delete|Restore|Replicate)/.test(a)));
      expect(writes.flatMap((s) => s.resources), JSON.stringify(variant)).to.deep.equal(allowed);
      // Without a declared output the build cannot encrypt under the artifact key either.
      const kms = buildStatements.filter((s) => s.actions.some((a) => a.startsWith("kms:")));
      expect(kms.flatMap((s) => s.actions)).to.deep.equal(outputs.length > 0 ? ["kms:Decrypt", "kms:GenerateDataKey"] : ["kms:Decrypt"]);
      // Every later stage reads the Source artifact (the approved commit), never a build output.
      for (const stage of list.slice(list.indexOf(build) + 1)) {
        for (const action of stage.Actions as JsonObject[]) {
          for (const input of (action.InputArtifacts as JsonObject[] | undefined) ?? []) {
            expect(outputs, `${String(stage.Name)} reads ${String(input.Name)}`).to.not.include(input.Name);
          }
        }
      }
      // The build reads its input artifact.
      const reads = buildStatements.filter((s) => s.actions.includes("s3:GetObject") && s.resources.includes("<ArtifactBucket.Arn>/*"));
      expect(reads).to.have.length(1);
    }
  });

  it("encrypts artifacts with its own KMS key, shared with exactly the production action role", () => {
    const { template: t, ctx } = stack("pipeline-full", CODECOMMIT);
    const key = (evaluateJson(t.Resources.ArtifactKey!, ctx) as JsonObject).Properties as JsonObject;
    const keyStatements = (key.KeyPolicy as JsonObject).Statement as JsonObject[];
    const production = keyStatements.find((s) => s.Sid === "ProductionActionRoleDecrypts")!;
    expect(production.Action).to.deep.equal(["kms:Decrypt", "kms:DescribeKey"]);
    expect(production.Condition).to.deep.equal({ ArnEquals: { "aws:PrincipalArn": PRODUCTION_ACTION_ROLE } });
    const bucketPolicy = policyStatements(t, ctx).filter((s) => s.kind === "resource-policy");
    const read = bucketPolicy.find((s) => s.effect === "Allow")!;
    expect(read.actions).to.deep.equal(["s3:GetObject", "s3:GetObjectVersion"]);
    expect(read.raw.Condition).to.deep.equal({ ArnEquals: { "aws:PrincipalArn": PRODUCTION_ACTION_ROLE } });
    const pipeline = (evaluateJson(t.Resources.Pipeline!, ctx) as JsonObject).Properties as JsonObject;
    expect((pipeline.ArtifactStore as JsonObject).EncryptionKey).to.deep.equal({ Id: "<ArtifactKey.Arn>", Type: "KMS" });
  });
});

describe("infra/pipeline-production-role.yaml", () => {
  it("is trusted by exactly the pipeline role, and may only invoke the reconciler and read the artifacts", () => {
    everyVariant("pipeline-production-role", ({ template: t, ctx }, label) => {
      const statements = policyStatements(t, ctx);
      const trust = statements.filter((s) => s.kind === "trust");
      expect(trust.map((s) => [s.actions, s.raw.Principal]), label).to.deep.equal([
        [["sts:AssumeRole"], { AWS: PIPELINE_ROLE_ARN }],
      ]);
      const reconciler = String(ctx.parameters.ReconcilerFunctionName);
      const byAction = new Map(
        statements.filter((s) => s.kind === "identity").flatMap((s) => s.actions.map((a) => [a, s.resources])),
      );
      expect(Object.fromEntries(byAction), label).to.deep.equal({
        "lambda:InvokeFunction": [`arn:aws:lambda:${REGION}:${TARGET_ACCOUNT}:function:${reconciler}`],
        "lambda:ListFunctions": ["*"],
        "s3:GetObject": [`arn:aws:s3:::lambda-gitops-full-artifacts-${PIPELINE_ACCOUNT}/*`],
        "s3:GetObjectVersion": [`arn:aws:s3:::lambda-gitops-full-artifacts-${PIPELINE_ACCOUNT}/*`],
        "kms:Decrypt": [ARTIFACT_KEY_ARN],
        "kms:DescribeKey": [ARTIFACT_KEY_ARN],
      });
    });
  });

  it("rejects an account root or a wildcard as the trusted pipeline role", () => {
    const t = template("pipeline-production-role");
    const base = SAMPLES["pipeline-production-role"].base;
    for (const bad of [`arn:aws:iam::${PIPELINE_ACCOUNT}:root`, "*", `arn:aws:iam::${PIPELINE_ACCOUNT}:role/*`]) {
      expect(() => resolveParameters(t, { ...base, PipelineRoleArn: bad }), bad).to.throw();
    }
  });
});

describe("infra/github-oidc.yaml", () => {
  const PROVIDER = `arn:aws:iam::${TARGET_ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`;

  it("trusts only the plan workflow as the default branch defines it (job_workflow_ref in a customised subject)", () => {
    everyVariant("github-oidc", ({ template: t, ctx }, label) => {
      const trust = policyStatements(t, ctx).filter((s) => s.kind === "trust");
      expect(trust, label).to.have.length(1);
      const [statement] = trust;
      expect(statement!.actions).to.deep.equal(["sts:AssumeRoleWithWebIdentity"]);
      const federated = (statement!.raw.Principal as JsonObject).Federated;
      expect(federated, label).to.equal(ctx.conditions.MakeProvider ? "<GitHubProvider>" : PROVIDER);
      const workflow = String(ctx.parameters.PlanWorkflowPath);
      const branch = String(ctx.parameters.DefaultBranch);
      expect(statement!.raw.Condition, label).to.deep.equal({
        StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" },
        StringLike: {
          "token.actions.githubusercontent.com:sub": `repo:acme/lambda-definitions:*:job_workflow_ref:acme/lambda-definitions/${workflow}@refs/heads/${branch}`,
        },
      });
    });
    const provider = stack("github-oidc");
    expect(provider.ctx.conditions.MakeProvider).to.equal(true);
    const props = (evaluateJson(provider.template.Resources.GitHubProvider!, provider.ctx) as JsonObject)
      .Properties as JsonObject;
    expect(props).to.deep.equal({
      Url: "https://token.actions.githubusercontent.com",
      ClientIdList: ["sts.amazonaws.com"],
    });
  });

  it("refuses the subjects a pull request can obtain: its own or an edited workflow, another repository, another branch", () => {
    const { template: t, ctx } = stack("github-oidc");
    const trust = policyStatements(t, ctx).find((s) => s.kind === "trust")!;
    const pattern = String(((trust.raw.Condition as JsonObject).StringLike as JsonObject)["token.actions.githubusercontent.com:sub"]);
    // IAM's StringLike: "*" matches any run of characters, "?" one character; nothing else is special.
    const like = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`);
    const plan = "acme/lambda-definitions/.github/workflows/lambda-gitops-plan.yml";
    // pull_request_target (and any event) running the default branch's definition of the plan workflow.
    expect(like.test(`repo:acme/lambda-definitions:pull_request:job_workflow_ref:${plan}@refs/heads/main`)).to.equal(true);
    for (const sub of [
      "repo:acme/lambda-definitions:pull_request", // the default subject, any pull_request workflow
      `repo:acme/lambda-definitions:pull_request:job_workflow_ref:${plan}@refs/pull/7/merge`, // the PR's edit of it
      "repo:acme/lambda-definitions:pull_request:job_workflow_ref:acme/lambda-definitions/.github/workflows/evil.yml@refs/heads/main",
      `repo:acme/lambda-definitions:ref:refs/heads/feature:job_workflow_ref:${plan}@refs/heads/feature`,
      `repo:acme/other:pull_request:job_workflow_ref:${plan}@refs/heads/main`,
      `repo:evil/lambda-definitions:pull_request:job_workflow_ref:evil/lambda-definitions/.github/workflows/lambda-gitops-plan.yml@refs/heads/main`,
    ]) {
      expect(like.test(sub), sub).to.equal(false);
    }
  });

  it("pairs with examples/github/plan.yml: pull_request_target only, never checks out or runs the pull request's code", () => {
    const workflow = parseYaml(readFileSync(new URL("../../../examples/github/plan.yml", import.meta.url), "utf8")) as {
      on: Record<string, { branches?: string[] }>;
      permissions: Record<string, string>;
      jobs: Record<string, { steps: { uses?: string; run?: string; with?: Record<string, string> }[] }>;
    };
    expect(Object.keys(workflow.on)).to.deep.equal(["pull_request_target"]);
    expect(workflow.on.pull_request_target!.branches).to.deep.equal(["main"]);
    expect(workflow.permissions["id-token"]).to.equal("write");
    const steps = Object.values(workflow.jobs).flatMap((job) => job.steps);
    expect(steps.map((step) => step.uses).filter(Boolean)).to.deep.equal([
      "actions/setup-node@v4",
      "aws-actions/configure-aws-credentials@v4",
    ]);
    const scripts = steps.map((step) => step.run ?? "").join("\n");
    // The pull request's text fields (title, body, branch name) never reach a shell.
    expect(scripts).to.not.match(/github\.event\.pull_request\.(title|body|head\.ref|head\.label)/);
    expect(scripts).to.not.match(/\b(npm|npx|yarn|pnpm|git clone|git checkout)\b/);
    // The file is fetched through the API at the pull request's head commit, as data.
    expect(scripts).to.include("contents/$DEFINITION_FILE?ref=$HEAD_SHA");
    const defaults = template("github-oidc").Parameters!;
    expect(defaults.PlanWorkflowPath!.Default).to.equal(".github/workflows/lambda-gitops-plan.yml");
    expect(defaults.DefaultBranch!.Default).to.equal("main");
  });

  it("rejects a workflow path or branch that would widen the trust", () => {
    const t = template("github-oidc");
    const base = SAMPLES["github-oidc"].base;
    for (const bad of ["*", ".github/workflows/*.yml", "plan.yml", ".github/workflows/a/b.yml", ".github/workflows/p?.yml"]) {
      expect(() => resolveParameters(t, { ...base, PlanWorkflowPath: bad }), bad).to.throw();
    }
    for (const bad of ["*", "main*", "ma?n", ""]) {
      expect(() => resolveParameters(t, { ...base, DefaultBranch: bad }), bad).to.throw();
    }
  });

  it("rejects a repository pattern that would widen the trust", () => {
    const t = template("github-oidc");
    const base = SAMPLES["github-oidc"].base;
    for (const bad of ["acme/*", "*", "acme", "acme/repo:ref:refs/heads/main"]) {
      expect(() => resolveParameters(t, { ...base, GitHubRepository: bad }), bad).to.throw();
    }
  });

  it("is read-only: Lambda read actions on the prefix functions, the source role, the CLI bundle", () => {
    everyVariant("github-oidc", ({ template: t, ctx }, label) => {
      const identity = policyStatements(t, ctx).filter((s) => s.kind === "identity");
      const signing = identity.filter((s) => s.actions.includes("lambda:GetCodeSigningConfig"));
      const lambda = identity.filter(
        (s) => s.actions.some((a) => a.startsWith("lambda:")) && !signing.includes(s),
      );
      // What `lambda-gitops plan` calls (observe.ts): no GetFunctionConfiguration, GetAlias or
      // ListVersionsByFunction, which would return configuration the plan does not use.
      for (const s of lambda) {
        expect(sorted(s.actions), label).to.deep.equal(
          sorted([
            "lambda:GetFunction",
            "lambda:ListAliases",
            "lambda:GetProvisionedConcurrencyConfig",
            "lambda:GetFunctionCodeSigningConfig",
          ]),
        );
      }
      expect(sorted(lambda.flatMap((s) => s.resources))).to.deep.equal(sorted(prefixArns(TARGET_ACCOUNT)));
      // The plan blocks a promotion into a function whose code-signing policy is Enforce: it reads
      // the configuration, and nothing else of Lambda.
      expect(signing, label).to.have.length.greaterThan(0);
      for (const s of signing) {
        expect(s.actions, label).to.deep.equal(["lambda:GetCodeSigningConfig"]);
        for (const r of s.resources) expect(r, label).to.match(/^arn:aws:lambda:[a-z0-9-]+:\d{12}:code-signing-config:\*$/);
      }
      const others = identity
        .filter((s) => !lambda.includes(s) && !signing.includes(s))
        .map((s) => [s.actions, s.resources]);
      expect(others, label).to.deep.equal([
        [["sts:AssumeRole"], [SOURCE_ROLE_ARN]],
        [["s3:GetObject"], ["arn:aws:s3:::deploy-artifacts-111111111111/lambda-gitops/0.1.0/cli.mjs"]],
      ]);
    });
  });
});
