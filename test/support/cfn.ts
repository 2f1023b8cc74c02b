/**
 * CloudFormation templates for tests: a YAML loader that turns the short-form tags (`!Ref`, `!Sub`, ...)
 * into their long forms, and a small evaluator for the intrinsics our templates use, so a test can
 * ask "what ARNs does this policy grant, for these parameter values?" without AWS.
 *
 * The evaluator is deliberately partial: it implements `Ref`, `Fn::Sub`, `Fn::Join`, `Fn::Split`,
 * `Fn::Select`, `Fn::If` (+ `Fn::Equals`/`Not`/`And`/`Or`/`Condition`), `Fn::GetAtt` (to a placeholder)
 * and the `AWS::LanguageExtensions` `Fn::ForEach` expansion; anything else throws, so a template
 * that starts using another function fails loudly instead of being checked wrongly.
 */
import { readFileSync } from "node:fs";
import { type CollectionTag, parseDocument, type ScalarTag, type YAMLMap, type YAMLSeq } from "yaml";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface Template {
  AWSTemplateFormatVersion?: string;
  Transform?: string | string[];
  Description?: string;
  Parameters?: Record<string, JsonObject>;
  Conditions?: Record<string, Json>;
  Resources: Record<string, Json>;
  Outputs?: Record<string, JsonObject>;
  [section: string]: Json | undefined;
}

/** Pseudo parameters CloudFormation defines (`Ref: AWS::Region`, `${AWS::AccountId}`). */
export const PSEUDO_PARAMETERS = [
  "AWS::AccountId",
  "AWS::NotificationARNs",
  "AWS::NoValue",
  "AWS::Partition",
  "AWS::Region",
  "AWS::StackId",
  "AWS::StackName",
  "AWS::URLSuffix",
] as const;

/** Short-form tag name -> long-form key. `!GetAtt` and `!Condition` are special-cased below. */
const FUNCTION_TAGS: Record<string, string> = {
  "!Ref": "Ref",
  "!Sub": "Fn::Sub",
  "!Join": "Fn::Join",
  "!Split": "Fn::Split",
  "!If": "Fn::If",
  "!Equals": "Fn::Equals",
  "!Not": "Fn::Not",
  "!And": "Fn::And",
  "!Or": "Fn::Or",
  "!Select": "Fn::Select",
  "!FindInMap": "Fn::FindInMap",
  "!ImportValue": "Fn::ImportValue",
  "!Base64": "Fn::Base64",
  "!Cidr": "Fn::Cidr",
  "!GetAZs": "Fn::GetAZs",
  "!Condition": "Condition",
};

function getAttFromScalar(value: string): Json {
  const dot = value.indexOf(".");
  if (dot <= 0) throw new Error(`!GetAtt needs Resource.Attribute, got "${value}"`);
  return { "Fn::GetAtt": [value.slice(0, dot), value.slice(dot + 1)] };
}

function buildTags(): (ScalarTag | CollectionTag)[] {
  const tags: (ScalarTag | CollectionTag)[] = [];
  const toJson = (node: YAMLMap.Parsed | YAMLSeq.Parsed): Json => node.toJSON() as Json;
  for (const [tag, key] of Object.entries(FUNCTION_TAGS)) {
    tags.push({ tag, resolve: (value: string) => ({ [key]: value }) });
    tags.push({ tag, collection: "seq", resolve: (node) => ({ [key]: toJson(node) }) });
    tags.push({ tag, collection: "map", resolve: (node) => ({ [key]: toJson(node) }) });
  }
  tags.push({ tag: "!GetAtt", resolve: (value: string) => getAttFromScalar(value) });
  tags.push({ tag: "!GetAtt", collection: "seq", resolve: (node) => ({ "Fn::GetAtt": toJson(node) }) });
  return tags;
}

const CUSTOM_TAGS = buildTags();

/** Parse CloudFormation YAML; YAML errors and warnings (an unknown `!Tag` is only a warning in `yaml`) throw. */
export function parseTemplate(text: string): Template {
  const doc = parseDocument(text, { customTags: CUSTOM_TAGS, prettyErrors: true, uniqueKeys: true });
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length > 0) throw new Error(problems.map((problem) => problem.message).join("\n"));
  const value: unknown = doc.toJS();
  if (!isObject(value)) throw new Error("template is not a mapping");
  if (!isObject(value.Resources)) throw new Error("template has no Resources mapping");
  return value as unknown as Template;
}

export function loadTemplate(path: string): Template {
  return parseTemplate(readFileSync(path, "utf8"));
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The single key of a one-key object whose key is an intrinsic (`Ref`, `Fn::*`, `Condition`), else undefined. */
export function intrinsicName(value: Json | undefined): string | undefined {
  if (!isObject(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1) return undefined;
  const key = keys[0]!;
  return key === "Ref" || key === "Condition" || key.startsWith("Fn::") ? key : undefined;
}

// ---------------------------------------------------------------------------------------------
// Fn::Sub string parsing

/** Variables referenced by a Fn::Sub template string; `${!Literal}` is skipped (it renders as `${Literal}`). */
export function subVariables(template: string): string[] {
  const names: string[] = [];
  for (const match of template.matchAll(/\$\{([^}]*)\}/g)) {
    const inner = match[1]!;
    if (inner.startsWith("!")) continue;
    names.push(inner.trim());
  }
  return names;
}

function renderSub(template: string, lookup: (name: string) => string): string {
  return template.replace(/\$\{([^}]*)\}/g, (_whole, inner: string) =>
    inner.startsWith("!") ? `\${${inner.slice(1)}}` : lookup(inner.trim()),
  );
}

// ---------------------------------------------------------------------------------------------
// Parameters, conditions, Fn::ForEach

export type ParameterValue = string | string[];

export interface StackInput {
  /** Values for parameters; parameters not given take their Default. A list may be given as "a,b". */
  parameters?: Record<string, ParameterValue>;
  region?: string;
  accountId?: string;
  partition?: string;
  stackName?: string;
}

export interface EvalContext {
  parameters: Record<string, ParameterValue>;
  pseudo: Record<string, string>;
  conditions: Record<string, boolean>;
  resources: Set<string>;
}

/** Sentinel for `Ref: AWS::NoValue`; removed from the lists and objects that contain it. */
export const NO_VALUE: unique symbol = Symbol("AWS::NoValue");
export type Evaluated = Json | typeof NO_VALUE;

/**
 * Apply defaults and split CommaDelimitedList values the way CloudFormation does (on ",", no trimming).
 * Every parameter must end up with a value, and every value must satisfy the parameter's constraints.
 */
export function resolveParameters(template: Template, given: Record<string, ParameterValue> = {}) {
  const declared = template.Parameters ?? {};
  for (const name of Object.keys(given)) {
    if (!(name in declared)) throw new Error(`unknown parameter ${name}`);
  }
  const values: Record<string, ParameterValue> = {};
  for (const [name, declaration] of Object.entries(declared)) {
    const raw = name in given ? given[name]! : declaration.Default;
    if (raw === undefined || raw === null) throw new Error(`parameter ${name} has no value and no Default`);
    const type = String(declaration.Type);
    if (type === "CommaDelimitedList" || type.startsWith("List<")) {
      values[name] = Array.isArray(raw) ? raw.map(String) : String(raw).split(",");
    } else {
      values[name] = Array.isArray(raw) ? raw.join(",") : String(raw);
    }
    const problem = checkParameterValue(declaration, values[name]!);
    if (problem) throw new Error(`parameter ${name}: ${problem}`);
  }
  return values;
}

/**
 * Check one parameter value against AllowedPattern / AllowedValues / Min/MaxLength / Min/MaxValue.
 * AllowedPattern must match the whole value, and each entry of a CommaDelimitedList.
 * Returns a message, or undefined when the value is allowed.
 */
export function checkParameterValue(declaration: JsonObject, value: ParameterValue): string | undefined {
  const entries = Array.isArray(value) ? value : [value];
  const pattern = declaration.AllowedPattern;
  for (const entry of entries) {
    if (typeof pattern === "string" && !new RegExp(`^(?:${pattern})$`).test(entry)) {
      return `"${entry}" does not match ${pattern}`;
    }
    const allowed = declaration.AllowedValues;
    if (Array.isArray(allowed) && !allowed.map(String).includes(entry)) {
      return `"${entry}" is not one of ${allowed.join(", ")}`;
    }
    if (typeof declaration.MaxLength === "number" && entry.length > declaration.MaxLength) {
      return `"${entry}" is longer than ${declaration.MaxLength}`;
    }
    if (typeof declaration.MinLength === "number" && entry.length < declaration.MinLength) {
      return `"${entry}" is shorter than ${declaration.MinLength}`;
    }
    if (declaration.Type === "Number") {
      const n = Number(entry);
      if (entry.trim() === "" || Number.isNaN(n)) return `"${entry}" is not a number`;
      if (typeof declaration.MinValue === "number" && n < declaration.MinValue)
        return `${n} < ${declaration.MinValue}`;
      if (typeof declaration.MaxValue === "number" && n > declaration.MaxValue)
        return `${n} > ${declaration.MaxValue}`;
    }
  }
  return undefined;
}

const FOR_EACH = "Fn::ForEach::";

/** `&{Id}` drops non-alphanumeric characters from the value; `${Id}` substitutes it as is. */
function substituteIdentifier(text: string, identifier: string, value: string): string {
  return text
    .split(`\${${identifier}}`)
    .join(value)
    .split(`&{${identifier}}`)
    .join(value.replace(/[^A-Za-z0-9]/g, ""));
}

function substituteInFragment(fragment: Json, identifier: string, value: string): Json {
  if (typeof fragment === "string") return substituteIdentifier(fragment, identifier, value);
  if (Array.isArray(fragment)) return fragment.map((item) => substituteInFragment(item, identifier, value));
  if (!isObject(fragment)) return fragment;
  if (intrinsicName(fragment) === "Ref" && fragment.Ref === identifier) return value;
  const out: JsonObject = {};
  for (const [key, child] of Object.entries(fragment)) {
    out[substituteIdentifier(key, identifier, value)] = substituteInFragment(child, identifier, value);
  }
  return out;
}

/**
 * Expand `Fn::ForEach::Name: [Identifier, Collection, {OutputKey: OutputValue}]` entries of one
 * section (as the AWS::LanguageExtensions transform does), recursively. Duplicate keys throw, as they
 * would fail the real transform.
 */
export function expandForEachSection(
  section: Record<string, Json>,
  parameters: Record<string, ParameterValue>,
): Record<string, Json> {
  const out: Record<string, Json> = {};
  const put = (key: string, value: Json) => {
    if (key in out) throw new Error(`Fn::ForEach produced duplicate key ${key}`);
    out[key] = value;
  };
  for (const [key, value] of Object.entries(section)) {
    if (!key.startsWith(FOR_EACH)) {
      put(key, value);
      continue;
    }
    if (!Array.isArray(value) || value.length !== 3)
      throw new Error(`${key} must be [Identifier, Collection, Fragment]`);
    const [identifier, collection, fragment] = value as [Json, Json, Json];
    if (typeof identifier !== "string") throw new Error(`${key}: identifier must be a string`);
    if (!isObject(fragment)) throw new Error(`${key}: fragment must be a mapping`);
    let items: string[];
    if (Array.isArray(collection)) items = collection.map(String);
    else if (intrinsicName(collection) === "Ref" && isObject(collection)) {
      const list = parameters[String(collection.Ref)];
      if (!Array.isArray(list)) throw new Error(`${key}: collection must Ref a CommaDelimitedList parameter`);
      items = list;
    } else throw new Error(`${key}: unsupported collection`);
    for (const outputKey of Object.keys(fragment)) {
      const mentions = outputKey.includes(`\${${identifier}}`) || outputKey.includes(`&{${identifier}}`);
      if (!outputKey.startsWith(FOR_EACH) && !mentions) {
        throw new Error(`${key}: output key ${outputKey} must contain \${${identifier}} or &{${identifier}}`);
      }
    }
    for (const item of items) {
      const expanded = substituteInFragment(fragment, identifier, item);
      if (!isObject(expanded)) throw new Error(`${key}: fragment did not expand to a mapping`);
      for (const [outKey, outValue] of Object.entries(expandForEachSection(expanded, parameters)))
        put(outKey, outValue);
    }
  }
  return out;
}

/** The template as the AWS::LanguageExtensions transform would hand it on (Fn::ForEach expanded). */
export function expandTemplate(template: Template, parameters: Record<string, ParameterValue>): Template {
  const copy: Template = { ...template, Resources: expandForEachSection(template.Resources, parameters) };
  if (template.Conditions) copy.Conditions = expandForEachSection(template.Conditions, parameters);
  if (template.Outputs) {
    copy.Outputs = expandForEachSection(template.Outputs, parameters) as Record<string, JsonObject>;
  }
  return copy;
}

function evaluateCondition(
  expression: Json,
  ctx: EvalContext,
  definitions: Record<string, Json>,
  seen: string[],
): boolean {
  const name = intrinsicName(expression);
  if (!name || !isObject(expression))
    throw new Error(`not a condition expression: ${JSON.stringify(expression)}`);
  const args = expression[name]!;
  const list = (n: number): Json[] => {
    if (!Array.isArray(args) || (n >= 0 && args.length !== n)) throw new Error(`${name} has wrong arguments`);
    return args;
  };
  switch (name) {
    case "Condition": {
      const ref = String(args);
      return lookupCondition(ref, ctx, definitions, seen);
    }
    case "Fn::Equals": {
      const [a, b] = list(2);
      return JSON.stringify(evaluate(a!, ctx)) === JSON.stringify(evaluate(b!, ctx));
    }
    case "Fn::Not":
      return !evaluateCondition(list(1)[0]!, ctx, definitions, seen);
    case "Fn::And":
      return list(-1).every((item) => evaluateCondition(item, ctx, definitions, seen));
    case "Fn::Or":
      return list(-1).some((item) => evaluateCondition(item, ctx, definitions, seen));
    default:
      throw new Error(`${name} is not a condition function`);
  }
}

function lookupCondition(
  name: string,
  ctx: EvalContext,
  definitions: Record<string, Json>,
  seen: string[],
): boolean {
  if (name in ctx.conditions) return ctx.conditions[name]!;
  if (seen.includes(name)) throw new Error(`condition cycle: ${[...seen, name].join(" -> ")}`);
  const definition = definitions[name];
  if (definition === undefined) throw new Error(`undefined condition ${name}`);
  const value = evaluateCondition(definition, ctx, definitions, [...seen, name]);
  ctx.conditions[name] = value;
  return value;
}

/**
 * Resolve parameters, expand Fn::ForEach and evaluate every condition: everything a test needs to
 * evaluate any part of the template for one set of inputs.
 */
export function instantiate(
  template: Template,
  input: StackInput = {},
): { template: Template; ctx: EvalContext } {
  const parameters = resolveParameters(template, input.parameters);
  const expanded = expandTemplate(template, parameters);
  const region = input.region ?? "eu-west-1";
  const ctx: EvalContext = {
    parameters,
    pseudo: {
      "AWS::AccountId": input.accountId ?? "111111111111",
      "AWS::Partition": input.partition ?? "aws",
      "AWS::Region": region,
      "AWS::StackName": input.stackName ?? "test-stack",
      "AWS::StackId": `arn:aws:cloudformation:${region}:${input.accountId ?? "111111111111"}:stack/test-stack/0`,
      "AWS::URLSuffix": "amazonaws.com",
    },
    conditions: {},
    resources: new Set(Object.keys(expanded.Resources)),
  };
  const definitions = expanded.Conditions ?? {};
  for (const name of Object.keys(definitions)) lookupCondition(name, ctx, definitions, []);
  return { template: expanded, ctx };
}

// ---------------------------------------------------------------------------------------------
// Evaluation

function asString(value: Evaluated, what: string): string {
  if (typeof value === "string") return value;
  if (typeof value === "number") return String(value);
  throw new Error(
    `${what} must be a string, got ${String(typeof value === "symbol" ? "AWS::NoValue" : JSON.stringify(value))}`,
  );
}

function asStringList(value: Evaluated, what: string): string[] {
  if (!Array.isArray(value)) throw new Error(`${what} must be a list`);
  return value.map((item) => asString(item, what));
}

function refValue(name: string, ctx: EvalContext): Evaluated {
  if (name === "AWS::NoValue") return NO_VALUE;
  if (name in ctx.parameters) return ctx.parameters[name]!;
  if (name in ctx.pseudo) return ctx.pseudo[name]!;
  // A resource's Ref value depends on its type; a stable placeholder is enough for our tests.
  if (ctx.resources.has(name)) return `<${name}>`;
  throw new Error(`Ref to unknown name ${name}`);
}

function getAttValue(resource: string, attribute: string, ctx: EvalContext): string {
  if (!ctx.resources.has(resource)) throw new Error(`Fn::GetAtt of unknown resource ${resource}`);
  return `<${resource}.${attribute}>`;
}

/** Evaluate a template fragment; objects and lists drop members that evaluate to AWS::NoValue. */
export function evaluate(value: Json, ctx: EvalContext): Evaluated {
  if (Array.isArray(value)) {
    return value.map((item) => evaluate(item, ctx)).filter((item): item is Json => item !== NO_VALUE);
  }
  if (!isObject(value)) return value;
  const name = intrinsicName(value);
  if (!name) {
    const out: JsonObject = {};
    for (const [key, child] of Object.entries(value)) {
      const evaluated = evaluate(child, ctx);
      if (evaluated !== NO_VALUE) out[key] = evaluated;
    }
    return out;
  }
  const args = value[name]!;
  switch (name) {
    case "Ref":
      return refValue(String(args), ctx);
    case "Fn::GetAtt": {
      if (!Array.isArray(args) || args.length !== 2)
        throw new Error("Fn::GetAtt needs [Resource, Attribute]");
      return getAttValue(
        asString(evaluate(args[0]!, ctx), "GetAtt resource"),
        asString(evaluate(args[1]!, ctx), "GetAtt attribute"),
        ctx,
      );
    }
    case "Fn::Sub": {
      const [template, variables] = Array.isArray(args) ? [args[0], args[1]] : [args, undefined];
      if (typeof template !== "string") throw new Error("Fn::Sub template must be a literal string");
      const local: Record<string, string> = {};
      if (variables !== undefined) {
        if (!isObject(variables)) throw new Error("Fn::Sub variables must be a mapping");
        for (const [key, child] of Object.entries(variables))
          local[key] = asString(evaluate(child, ctx), `Fn::Sub variable ${key}`);
      }
      return renderSub(template, (inner) => {
        if (inner in local) return local[inner]!;
        const dot = inner.indexOf(".");
        if (dot > 0 && !inner.startsWith("AWS::"))
          return getAttValue(inner.slice(0, dot), inner.slice(dot + 1), ctx);
        const resolved = refValue(inner, ctx);
        if (Array.isArray(resolved)) throw new Error(`Fn::Sub cannot substitute list parameter ${inner}`);
        return asString(resolved, `\${${inner}}`);
      });
    }
    case "Fn::Join": {
      if (!Array.isArray(args) || args.length !== 2) throw new Error("Fn::Join needs [delimiter, list]");
      if (typeof args[0] !== "string") throw new Error("Fn::Join delimiter must be a literal string");
      return asStringList(evaluate(args[1]!, ctx), "Fn::Join list").join(args[0]);
    }
    case "Fn::Split": {
      if (!Array.isArray(args) || args.length !== 2) throw new Error("Fn::Split needs [delimiter, string]");
      if (typeof args[0] !== "string") throw new Error("Fn::Split delimiter must be a literal string");
      return asString(evaluate(args[1]!, ctx), "Fn::Split source").split(args[0]);
    }
    case "Fn::Select": {
      if (!Array.isArray(args) || args.length !== 2) throw new Error("Fn::Select needs [index, list]");
      const index = Number(asString(evaluate(args[0]!, ctx), "Fn::Select index"));
      const list = evaluate(args[1]!, ctx);
      if (!Array.isArray(list) || !Number.isInteger(index) || index < 0 || index >= list.length) {
        throw new Error("Fn::Select index out of range");
      }
      return list[index]!;
    }
    case "Fn::If": {
      if (!Array.isArray(args) || args.length !== 3) throw new Error("Fn::If needs [condition, then, else]");
      const condition = String(args[0]);
      if (!(condition in ctx.conditions)) throw new Error(`Fn::If on undefined condition ${condition}`);
      return evaluate(ctx.conditions[condition] ? args[1]! : args[2]!, ctx);
    }
    default:
      throw new Error(`evaluator does not implement ${name}`);
  }
}

/** Evaluate and reject AWS::NoValue at the top. */
export function evaluateJson(value: Json, ctx: EvalContext): Json {
  const result = evaluate(value, ctx);
  if (result === NO_VALUE) throw new Error("value evaluated to AWS::NoValue");
  return result;
}
