import { expect } from "chai";
import fc from "fast-check";
import { stringify as toYaml } from "yaml";
import {
  definitionFormat,
  MAX_DEFINITION_BYTES,
  type ParseResult,
  parseDefinition,
} from "../../../reconciler/input/definitions.ts";
import { formatProblem } from "../../../reconciler/core/errors.ts";

/** Lines joined with "\n", so that line numbers in the expectations are easy to count. */
const j = (...lines: string[]) => lines.join("\n");
/** One entry on one line: `{ "name": ..., "version": ... }` (name value at column 15 when indented by 4). */
const entry = (name: string, version = "1.0.0") =>
  `{ "name": ${JSON.stringify(name)}, "version": ${JSON.stringify(version)} }`;

interface Case {
  name: string;
  /** Defaults to lambdas.json. */
  file?: string;
  text: string;
  /** Every problem, rendered with formatProblem, in the order reported. */
  problems: string[];
}

function rendered(result: ParseResult): string[] {
  return result.ok ? [] : result.problems.map(formatProblem);
}

const malformed: Case[] = [
  // invalid JSON
  {
    name: "trailing comma in an object",
    text: j("{", '  "lambdas": [', '    { "name": "team-a-x", "version": "1.0.0", }', "  ]", "}"),
    problems: ['lambdas.json:3:45: invalid JSON: trailing comma before "}"'],
  },
  {
    name: "trailing comma in an array",
    text: j("{", '  "lambdas": [', '    { "name": "team-a-x", "version": "1.0.0" },', "  ]", "}"),
    problems: ['lambdas.json:3:47: invalid JSON: trailing comma before "]"'],
  },
  {
    name: "missing comma",
    text: j("{", '  "lambdas": [', '    { "name": "team-a-x" "version": "1.0.0" }', "  ]", "}"),
    problems: ['lambdas.json:3:26: invalid JSON: expected "," or "}" after a property value, found a string'],
  },
  {
    name: "comment",
    text: j("{", "  // production", '  "lambdas": []', "}"),
    problems: [
      'lambdas.json:2:3: invalid JSON: expected a double-quoted key, found "/" (comments are not allowed in JSON; a .yaml file may have them)',
    ],
  },
  {
    name: "unquoted key",
    text: j("{", "  lambdas: []", "}"),
    problems: [
      "lambdas.json:2:3: invalid JSON: expected a double-quoted key, found lambdas (text must be in double quotes)",
    ],
  },
  {
    name: "single quotes",
    text: j("{", "  'lambdas': []", "}"),
    problems: [
      'lambdas.json:2:3: invalid JSON: expected a double-quoted key, found "\'" (JSON strings use double quotes)',
    ],
  },
  {
    name: "unterminated document",
    text: j("{", '  "lambdas": ['),
    problems: ["lambdas.json:2:15: invalid JSON: expected a value, found the end of the file"],
  },
  {
    name: "text after the document",
    text: j('{ "lambdas": [] }', "}"),
    problems: ['lambdas.json:2:1: invalid JSON: unexpected "}" after the end of the document'],
  },
  {
    name: "unquoted version",
    text: j("{", '  "lambdas": [{ "name": "team-a-x", "version": 1.2.3 }]', "}"),
    problems: [
      'lambdas.json:2:48: invalid JSON: 1.2.3 is not a valid JSON number: write versions as strings, e.g. "1.2.3"',
    ],
  },
  {
    name: "leading zero",
    text: j("{", '  "lambdas": [{ "name": "team-a-x", "version": 01 }]', "}"),
    problems: [
      "lambdas.json:2:48: invalid JSON: 01 is not a valid JSON number: numbers must not have leading zeros",
    ],
  },
  {
    name: "line break in a string",
    text: j("{", '  "lambdas": [{ "name": "team-a-x', '", "version": "1.0.0" }]', "}"),
    problems: ["lambdas.json:2:34: invalid JSON: line break (U+000A) inside a string: write it as \\n"],
  },
  {
    name: "bad escape",
    text: j("{", '  "lambdas": [{ "name": "team\\a", "version": "1.0.0" }]', "}"),
    problems: ['lambdas.json:2:30: invalid JSON: invalid escape "\\a" in a string'],
  },
  {
    name: "unterminated string",
    text: j("{", '  "lambdas": [{ "name": "team-a-x }]', "}"),
    problems: ["lambdas.json:2:37: invalid JSON: line break (U+000A) inside a string: write it as \\n"],
  },
  {
    name: "capitalised literal",
    text: j("{", '  "lambdas": True', "}"),
    problems: [
      "lambdas.json:2:14: invalid JSON: expected a value, found True (text must be in double quotes)",
    ],
  },
  {
    name: "nesting over the limit",
    text: `{ "lambdas": ${"[".repeat(70)}${"]".repeat(70)} }`,
    problems: ["lambdas.json:1:77: invalid JSON: nested more than 64 levels deep"],
  },
  {
    name: "YAML in a .json file",
    text: j("lambdas:", "  - name: team-a-x", "    version: 1.0.0"),
    problems: [
      "lambdas.json:1:1: invalid JSON: expected a value, found lambdas (text must be in double quotes)",
    ],
  },
  // YAML syntax
  {
    name: "YAML bad indentation",
    file: "lambdas.yaml",
    text: j("lambdas:", "  - name: team-a-x", "   version: 1.0.0"),
    problems: ["lambdas.yaml:3:1: invalid YAML: Sequence item without - indicator"],
  },
  {
    name: "YAML unclosed flow",
    file: "lambdas.yaml",
    text: j("lambdas: [", "  { name: team-a-x"),
    problems: [
      "lambdas.yaml:2:19: invalid YAML: Flow map in block collection must be sufficiently indented and end with a }",
      "lambdas.yaml:2:19: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]",
    ],
  },
  {
    name: "YAML tab indentation",
    file: "lambdas.yaml",
    text: j("lambdas:", "\t- name: team-a-x"),
    problems: ["lambdas.yaml:2:1: invalid YAML: Tabs are not allowed as indentation"],
  },
  {
    name: "YAML two documents",
    file: "lambdas.yaml",
    text: j("lambdas: []", "---", "lambdas: []"),
    problems: ["lambdas.yaml:2:1: invalid YAML: the file holds more than one document; keep only the first"],
  },
  {
    name: "YAML custom tag",
    file: "lambdas.yaml",
    text: j("lambdas: !Ref Functions"),
    problems: ["lambdas.yaml:1:10: invalid YAML: Unresolved tag: !Ref"],
  },
  {
    name: "YAML undefined alias",
    file: "lambdas.yaml",
    text: j("lambdas:", "  - *team-a"),
    problems: [
      'lambdas.yaml:2:5: lambdas[0]: unknown alias "*team-a": define the anchor "&team-a" before using it',
    ],
  },
  // empty
  {
    name: "empty",
    text: "",
    problems: ['lambdas.json:1:1: the file is empty: expected an object with a "lambdas" array'],
  },
  {
    name: "whitespace only",
    text: " \n\t\r\n",
    problems: ['lambdas.json:1:1: the file is empty: expected an object with a "lambdas" array'],
  },
  {
    name: "YAML comments only",
    file: "lambdas.yaml",
    text: j("# nothing deployed yet", ""),
    problems: ['lambdas.yaml:1:1: the file is empty: expected an object with a "lambdas" array'],
  },
  // top-level
  {
    name: "top-level array",
    text: j("[", '  { "name": "team-a-x", "version": "1.0.0" }', "]"),
    problems: ['lambdas.json:1:1: expected an object with a "lambdas" array, found an array'],
  },
  {
    name: "top-level string",
    text: '"lambdas"',
    problems: ['lambdas.json:1:1: expected an object with a "lambdas" array, found the string "lambdas"'],
  },
  {
    name: "YAML top-level sequence",
    file: "lambdas.yaml",
    text: j("", "- name: team-a-x", "  version: 1.0.0"),
    problems: ['lambdas.yaml:2:1: expected an object with a "lambdas" array, found an array'],
  },
  {
    name: "YAML top-level scalar",
    file: "lambdas.yaml",
    text: "team-a-x",
    problems: ['lambdas.yaml:1:1: expected an object with a "lambdas" array, found the string "team-a-x"'],
  },
  {
    name: "missing lambdas",
    text: j("{", '  "$schema": "../lambdas.schema.json"', "}"),
    problems: ['lambdas.json:1:1: missing required key "lambdas"'],
  },
  {
    name: "lambdas an object",
    text: j("{", '  "lambdas": { "name": "team-a-x", "version": "1.0.0" }', "}"),
    problems: ["lambdas.json:2:14: lambdas: expected an array of functions, found an object"],
  },
  {
    name: "lambdas null",
    text: j("{", '  "lambdas": null', "}"),
    problems: ["lambdas.json:2:14: lambdas: expected an array of functions, found null"],
  },
  {
    name: "YAML lambdas a string",
    file: "lambdas.yaml",
    text: j("lambdas: team-a-x"),
    problems: ['lambdas.yaml:1:10: lambdas: expected an array of functions, found the string "team-a-x"'],
  },
  {
    name: "$schema not a string",
    text: j("{", '  "$schema": 1,', '  "lambdas": []', "}"),
    problems: ["lambdas.json:2:14: $schema: expected a string, found the number 1"],
  },
  {
    name: "entries not objects",
    text: j("{", '  "lambdas": [', "    5,", "    null,", '    "team-a-x",', "    []", "  ]", "}"),
    problems: [
      'lambdas.json:3:5: lambdas[0]: expected an object with "name" and "version", found the number 5',
      'lambdas.json:4:5: lambdas[1]: expected an object with "name" and "version", found null',
      'lambdas.json:5:5: lambdas[2]: expected an object with "name" and "version", found the string "team-a-x"',
      'lambdas.json:6:5: lambdas[3]: expected an object with "name" and "version", found an array',
    ],
  },
  {
    name: "missing name and version",
    text: j(
      "{",
      '  "lambdas": [',
      "    {},",
      '    { "name": "team-a-x" },',
      '    { "version": "1.0.0" }',
      "  ]",
      "}",
    ),
    problems: [
      'lambdas.json:3:5: lambdas[0]: missing required key "name"',
      'lambdas.json:3:5: lambdas[0]: missing required key "version"',
      'lambdas.json:4:5: lambdas[1]: missing required key "version"',
      'lambdas.json:5:5: lambdas[2]: missing required key "name"',
    ],
  },
  {
    name: "YAML missing version",
    file: "lambdas.yaml",
    text: j("lambdas:", "  - name: team-a-x", "  - name: team-a-y", "    version:"),
    problems: [
      'lambdas.yaml:2:5: lambdas[0]: missing required key "version"',
      'lambdas.yaml:4:13: lambdas[1].version: expected a version string such as "1.4.2", found null',
    ],
  },
  // unknown keys
  {
    name: "misspelt keys",
    text: j(
      "{",
      '  "Lambdas": [],',
      '  "schema": "x",',
      '  "lambdas": [',
      '    { "name": "team-a-x", "verison": "1.0.0", "canry": { "version": "1.1.0", "weight": 5 } },',
      '    { "Name": "team-a-y", "version": "1.0.0", "canary": { "version": "1.1.0", "weigth": 5 } }',
      "  ]",
      "}",
    ),
    problems: [
      'lambdas.json:2:3: unknown key "Lambdas": did you mean "lambdas"?',
      'lambdas.json:3:3: unknown key "schema": did you mean "$schema"?',
      'lambdas.json:5:5: lambdas[0]: missing required key "version"',
      'lambdas.json:5:27: lambdas[0]: unknown key "verison": did you mean "version"?',
      'lambdas.json:5:47: lambdas[0]: unknown key "canry": did you mean "canary"?',
      'lambdas.json:6:5: lambdas[1]: missing required key "name"',
      'lambdas.json:6:7: lambdas[1]: unknown key "Name": did you mean "name"?',
      'lambdas.json:6:57: lambdas[1].canary: missing required key "weight"',
      'lambdas.json:6:79: lambdas[1].canary: unknown key "weigth": did you mean "weight"?',
    ],
  },
  {
    name: "unrelated keys",
    text: j(
      "{",
      '  "lambdas": [{ "name": "team-a-x", "version": "1.0.0", "region": "eu-west-1" }],',
      '  "environment": "prod"',
      "}",
    ),
    problems: [
      'lambdas.json:2:57: lambdas[0]: unknown key "region": did you mean "regions"?',
      'lambdas.json:3:3: unknown key "environment": allowed keys are "$schema", "rollout", "regions", "lambdas"',
    ],
  },
  {
    name: "__proto__ and friends",
    text: j(
      "{",
      '  "__proto__": { "polluted": true },',
      '  "lambdas": [',
      '    { "name": "team-a-x", "version": "1.0.0", "constructor": { "prototype": { "polluted": true } }, "__proto__": { "polluted": true } },',
      '    { "name": "team-a-y", "version": "1.0.0", "canary": { "version": "1.1.0", "weight": 5, "prototype": 1 } }',
      "  ]",
      "}",
    ),
    problems: [
      'lambdas.json:2:3: unknown key "__proto__": allowed keys are "$schema", "rollout", "regions", "lambdas"',
      'lambdas.json:4:47: lambdas[0]: unknown key "constructor": allowed keys are "name", "version", "canary", "rollout", "regions", "group"',
      'lambdas.json:4:101: lambdas[0]: unknown key "__proto__": allowed keys are "name", "version", "canary", "rollout", "regions", "group"',
      'lambdas.json:5:92: lambdas[1].canary: unknown key "prototype": allowed keys are "version", "weight"',
    ],
  },
  {
    name: "YAML __proto__",
    file: "lambdas.yaml",
    text: j(
      "__proto__:",
      "  polluted: true",
      "lambdas:",
      "  - name: team-a-x",
      "    version: 1.0.0",
      "    __proto__: { polluted: true }",
    ),
    problems: [
      'lambdas.yaml:1:1: unknown key "__proto__": allowed keys are "$schema", "rollout", "regions", "lambdas"',
      'lambdas.yaml:6:5: lambdas[0]: unknown key "__proto__": allowed keys are "name", "version", "canary", "rollout", "regions", "group"',
    ],
  },
  // duplicate keys
  {
    name: "duplicate keys in JSON",
    text: j(
      "{",
      '  "lambdas": [',
      "    {",
      '      "name": "team-a-x",',
      '      "version": "1.0.0",',
      '      "canary": { "version": "1.1.0", "weight": 5, "weight": 50 },',
      '      "version": "2.0.0"',
      "    }",
      "  ],",
      '  "lambdas": []',
      "}",
    ),
    problems: [
      'lambdas.json:6:52: lambdas[0].canary: duplicate key "weight" (first at line 6)',
      'lambdas.json:7:7: lambdas[0]: duplicate key "version" (first at line 5)',
      'lambdas.json:10:3: duplicate key "lambdas" (first at line 2)',
    ],
  },
  {
    name: "duplicate keys in YAML",
    file: "lambdas.yaml",
    text: j(
      "lambdas:",
      "  - name: team-a-x",
      "    version: 1.0.0",
      "    version: 2.0.0",
      "    name: team-a-y",
      "lambdas: []",
    ),
    problems: [
      'lambdas.yaml:4:5: lambdas[0]: duplicate key "version" (first at line 3)',
      'lambdas.yaml:5:5: lambdas[0]: duplicate key "name" (first at line 2)',
      'lambdas.yaml:6:1: duplicate key "lambdas" (first at line 1)',
    ],
  },
  {
    name: "duplicate function names",
    text: j(
      "{",
      '  "lambdas": [',
      `    ${entry("team-a-x")},`,
      `    ${entry("team-a-y")},`,
      `    ${entry("team-a-x", "1.1.0")},`,
      `    ${entry("team-a-y", "1.2.0")},`,
      `    ${entry("team-a-x", "1.3.0")}`,
      "  ]",
      "}",
    ),
    problems: [
      'lambdas.json:5:15: lambdas[2].name: function "team-a-x" is listed more than once (first at line 3)',
      'lambdas.json:6:15: lambdas[3].name: function "team-a-y" is listed more than once (first at line 4)',
      'lambdas.json:7:15: lambdas[4].name: function "team-a-x" is listed more than once (first at line 3)',
    ],
  },
  {
    name: "YAML duplicate through an alias",
    file: "lambdas.yaml",
    text: j("lambdas:", "  - &x", "    name: team-a-x", "    version: 1.0.0", "  - *x"),
    problems: [
      'lambdas.yaml:5:5: lambdas[1].name: function "team-a-x" is listed more than once (first at line 3)',
    ],
  },
  // names
  {
    name: "ARN",
    text: j(
      "{",
      '  "lambdas": [',
      `    ${entry("arn:aws:lambda:eu-west-1:123456789012:function:team-a-x")},`,
      `    ${entry("arn:aws:lambda:eu-west-1:123456789012:function:team-a-y:LIVE")}`,
      "  ]",
      "}",
    ),
    problems: [
      'lambdas.json:3:15: lambdas[0].name: "arn:aws:lambda:eu-west-1:123456789012:function:team-a-x" is an ARN: use the plain function name ("team-a-x")',
      'lambdas.json:4:15: lambdas[1].name: "arn:aws:lambda:eu-west-1:123456789012:function:team-a-y:LIVE" is an ARN: use the plain function name ("team-a-y")',
    ],
  },
  {
    name: "qualified name",
    text: j(
      "{",
      '  "lambdas": [',
      `    ${entry("team-a-x:LIVE")},`,
      `    ${entry("team-a-y:$LATEST")},`,
      `    ${entry("123456789012:function:team-a-z")}`,
      "  ]",
      "}",
    ),
    problems: [
      'lambdas.json:3:15: lambdas[0].name: "team-a-x:LIVE" has a qualifier (":LIVE"): use the plain function name "team-a-x"; the reconciler manages aliases itself',
      'lambdas.json:4:15: lambdas[1].name: "team-a-y:$LATEST" has a qualifier (":$LATEST"): use the plain function name "team-a-y"; the reconciler manages aliases itself',
      'lambdas.json:5:15: lambdas[2].name: "123456789012:function:team-a-z" is an ARN: use the plain function name ("team-a-z")',
    ],
  },
  {
    name: "spaces and look-alikes",
    text: j(
      "{",
      '  "lambdas": [',
      `    ${entry("team a x")},`,
      `    ${entry("team-a-x ")},`,
      `    ${entry("team-\u0430-x")},`,
      `    ${entry("team\u2010a\u2010y")},`,
      `    ${entry("team-a-z\u200b")},`,
      `    ${entry("team.a.w")}`,
      "  ]",
      "}",
    ),
    problems: [
      'lambdas.json:3:15: lambdas[0].name: "team a x" contains " " (U+0020), which is not allowed in a function name: use letters A-Z and a-z, digits, "-" and "_"',
      'lambdas.json:4:15: lambdas[1].name: "team-a-x " contains " " (U+0020), which is not allowed in a function name: use letters A-Z and a-z, digits, "-" and "_"',
      'lambdas.json:5:15: lambdas[2].name: "team-\u0430-x" contains "\u0430" (U+0430), which is not allowed in a function name: use letters A-Z and a-z, digits, "-" and "_"',
      'lambdas.json:6:15: lambdas[3].name: "team\u2010a\u2010y" contains "\u2010" (U+2010), which is not allowed in a function name: use letters A-Z and a-z, digits, "-" and "_"',
      'lambdas.json:7:15: lambdas[4].name: "team-a-z\u200b" contains "\u200b" (U+200B), which is not allowed in a function name: use letters A-Z and a-z, digits, "-" and "_"',
      'lambdas.json:8:15: lambdas[5].name: "team.a.w" contains "." (U+002E), which is not allowed in a function name: use letters A-Z and a-z, digits, "-" and "_"',
    ],
  },
  {
    name: "name length",
    text: j(
      "{",
      '  "lambdas": [',
      `    ${entry("a".repeat(64))},`,
      `    ${entry("b".repeat(65))},`,
      `    ${entry("")}`,
      "  ]",
      "}",
    ),
    problems: [
      'lambdas.json:4:15: lambdas[1].name: "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" is 65 characters long: a function name is at most 64 characters',
      "lambdas.json:5:15: lambdas[2].name: the function name is empty",
    ],
  },
  {
    name: "name types",
    text: j(
      "{",
      '  "lambdas": [',
      '    { "name": 12, "version": "1.0.0" },',
      '    { "name": null, "version": "1.0.0" },',
      '    { "name": ["team-a-x"], "version": "1.0.0" }',
      "  ]",
      "}",
    ),
    problems: [
      "lambdas.json:3:15: lambdas[0].name: expected a function name (a string), found the number 12",
      "lambdas.json:4:15: lambdas[1].name: expected a function name (a string), found null",
      "lambdas.json:5:15: lambdas[2].name: expected a function name (a string), found an array",
    ],
  },
  // versions
  {
    name: "versions",
    text: j(
      "{",
      '  "lambdas": [',
      `    ${entry("team-a-a", "v1.2.3")},`,
      `    ${entry("team-a-b", "1.2")},`,
      `    ${entry("team-a-c", "1.2.3+abc")},`,
      `    ${entry("team-a-d", "01.2.3")},`,
      `    ${entry("team-a-e", " 1.2.3")},`,
      '    { "name": "team-a-f", "version": 1.2 },',
      `    ${entry("team-a-g", "latest")},`,
      `    ${entry("team-a-h", `1.0.0-${"a".repeat(123)}`)},`,
      '    { "name": "team-a-i", "version": true }',
      "  ]",
      "}",
    ),
    problems: [
      'lambdas.json:3:38: lambdas[0].version: "v1.2.3" is not a valid semantic version: drop the leading "v" (use "1.2.3")',
      'lambdas.json:4:38: lambdas[1].version: "1.2" is not a valid semantic version: use three numbers, e.g. "1.2.0"',
      'lambdas.json:5:38: lambdas[2].version: "1.2.3+abc" is not a valid semantic version: build metadata ("+abc") is not allowed, because Lambda alias names cannot carry it and two builds would map to one alias',
      'lambdas.json:6:38: lambdas[3].version: "01.2.3" is not a valid semantic version: numbers must not have leading zeros (use "1.2.3")',
      'lambdas.json:7:38: lambdas[4].version: " 1.2.3" is not a valid semantic version: remove the surrounding whitespace (use "1.2.3")',
      'lambdas.json:8:38: lambdas[5].version: expected a version string such as "1.4.2", found the number 1.2',
      'lambdas.json:9:38: lambdas[6].version: "latest" is not a valid semantic version (expected MAJOR.MINOR.PATCH, e.g. "1.4.2")',
      'lambdas.json:10:38: lambdas[7].version: "1.0.0-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"\u2026 (129 characters) is too long for a version: it becomes a Lambda alias name, which is limited to 128 characters',
      'lambdas.json:11:38: lambdas[8].version: expected a version string such as "1.4.2", found the boolean true',
    ],
  },
  {
    name: "YAML versions",
    file: "lambdas.yaml",
    text: j(
      "lambdas:",
      "  - name: team-a-a",
      "    version: 1.2",
      "  - name: team-a-b",
      "    version: 1",
      "  - name: team-a-c",
      "    version: v1.2.3",
      "  - name: team-a-d",
      "    version: 1.2.3 # fine",
      "  - name: team-a-e",
      '    version: "1.2"',
    ),
    problems: [
      'lambdas.yaml:3:14: lambdas[0].version: expected a version string such as "1.4.2", found the number 1.2',
      'lambdas.yaml:5:14: lambdas[1].version: expected a version string such as "1.4.2", found the number 1',
      'lambdas.yaml:7:14: lambdas[2].version: "v1.2.3" is not a valid semantic version: drop the leading "v" (use "1.2.3")',
      'lambdas.yaml:11:14: lambdas[4].version: "1.2" is not a valid semantic version: use three numbers, e.g. "1.2.0"',
    ],
  },
  // canary
  {
    name: "canary weights",
    text: j(
      "{",
      '  "lambdas": [',
      ...[0, 100, 12.345, -1, 150, 0.001].map(
        (w, i) =>
          `    { "name": "team-a-${i}", "version": "1.0.0", "canary": { "version": "1.1.0", "weight": ${w} } },`,
      ),
      '    { "name": "team-a-6", "version": "1.0.0", "canary": { "version": "1.1.0", "weight": "10" } }',
      "  ]",
      "}",
    ),
    problems: [
      'lambdas.json:3:89: lambdas[0].canary.weight: the canary weight must be greater than 0 (found 0); to stop a canary, remove "canary"',
      'lambdas.json:4:89: lambdas[1].canary.weight: the canary weight must be less than 100 (found 100); to send all traffic to the canary version, make it the "version" and remove "canary"',
      "lambdas.json:5:89: lambdas[2].canary.weight: the canary weight 12.345 has more than two decimal places (e.g. 12.35)",
      'lambdas.json:6:89: lambdas[3].canary.weight: the canary weight must be greater than 0 (found -1); to stop a canary, remove "canary"',
      'lambdas.json:7:89: lambdas[4].canary.weight: the canary weight must be less than 100 (found 150); to send all traffic to the canary version, make it the "version" and remove "canary"',
      "lambdas.json:8:89: lambdas[5].canary.weight: the canary weight 0.001 has more than two decimal places",
      'lambdas.json:9:89: lambdas[6].canary.weight: expected a number (the percentage of traffic), found the string "10"',
    ],
  },
  {
    // Within any float tolerance of two decimals, yet 100% and 0% once Lambda stores the fraction.
    name: "canary weights that only look like two decimals",
    text: j(
      "{",
      '  "lambdas": [',
      '    { "name": "team-a-0", "version": "1.0.0", "canary": { "version": "1.1.0", "weight": 99.999999999999 } },',
      '    { "name": "team-a-1", "version": "1.0.0", "canary": { "version": "1.1.0", "weight": 1e-12 } }',
      "  ]",
      "}",
    ),
    problems: [
      "lambdas.json:3:89: lambdas[0].canary.weight: the canary weight 99.999999999999 has more than two decimal places",
      "lambdas.json:4:89: lambdas[1].canary.weight: the canary weight 1e-12 has more than two decimal places",
    ],
  },
  {
    name: "canary shape",
    text: j(
      "{",
      '  "lambdas": [',
      '    { "name": "team-a-a", "version": "1.0.0", "canary": { "version": "1.0.0", "weight": 10 } },',
      '    { "name": "team-a-b", "version": "1.0.0", "canary": { "version": "1.1.0" } },',
      '    { "name": "team-a-c", "version": "1.0.0", "canary": { "weight": 10 } },',
      '    { "name": "team-a-d", "version": "1.0.0", "canary": { "version": "1.1.0", "weight": 10, "alias": "LIVE" } },',
      '    { "name": "team-a-e", "version": "1.0.0", "canary": "1.1.0" },',
      '    { "name": "team-a-f", "version": "1.0.0", "canary": { "version": "v1.1.0", "weight": 10 } },',
      '    { "name": "team-a-g", "version": "1.0.0", "canary": null }',
      "  ]",
      "}",
    ),
    problems: [
      'lambdas.json:3:70: lambdas[0].canary.version: the canary version is the same as "version" ("1.0.0"): a canary must use a different version',
      'lambdas.json:4:57: lambdas[1].canary: missing required key "weight"',
      'lambdas.json:5:57: lambdas[2].canary: missing required key "version"',
      'lambdas.json:6:93: lambdas[3].canary: unknown key "alias": allowed keys are "version", "weight"',
      'lambdas.json:7:57: lambdas[4].canary: expected an object with "version" and "weight", found the string "1.1.0"',
      'lambdas.json:8:70: lambdas[5].canary.version: "v1.1.0" is not a valid semantic version: drop the leading "v" (use "1.1.0")',
      'lambdas.json:9:57: lambdas[6].canary: expected an object with "version" and "weight", found null',
    ],
  },
  {
    name: "YAML canary",
    file: "lambdas.yaml",
    text: j(
      "lambdas:",
      "  - name: team-a-x",
      "    version: 1.0.0",
      "    canary:",
      "      version: 1.0.0",
      "      weight: .nan",
      "  - name: team-a-y",
      "    version: 1.0.0",
      "    canary: { version: 1.1.0, weight: .inf }",
    ),
    problems: [
      'lambdas.yaml:5:16: lambdas[0].canary.version: the canary version is the same as "version" ("1.0.0"): a canary must use a different version',
      "lambdas.yaml:6:15: lambdas[0].canary.weight: expected a number (the percentage of traffic), found NaN (not a finite number)",
      "lambdas.yaml:9:39: lambdas[1].canary.weight: expected a number (the percentage of traffic), found Infinity (not a finite number)",
    ],
  },
  // many at once
  {
    name: "everything at once",
    text: j(
      "{",
      '  "lambdas": [',
      '    { "name": "team-a-x", "version": "v1.0.0", "canary": { "version": "v1.0.0", "weight": 100 }, "extra": 1 },',
      '    { "name": "team-a-x", "verison": "1.0.0" },',
      '    { "name": "arn:aws:lambda:eu-west-1:123456789012:function:team-a-y", "version": "1.2" }',
      "  ],",
      '  "region": "eu-west-1"',
      "}",
    ),
    problems: [
      'lambdas.json:3:38: lambdas[0].version: "v1.0.0" is not a valid semantic version: drop the leading "v" (use "1.0.0")',
      'lambdas.json:3:71: lambdas[0].canary.version: "v1.0.0" is not a valid semantic version: drop the leading "v" (use "1.0.0")',
      'lambdas.json:3:91: lambdas[0].canary.weight: the canary weight must be less than 100 (found 100); to send all traffic to the canary version, make it the "version" and remove "canary"',
      'lambdas.json:3:98: lambdas[0]: unknown key "extra": allowed keys are "name", "version", "canary", "rollout", "regions", "group"',
      'lambdas.json:4:5: lambdas[1]: missing required key "version"',
      'lambdas.json:4:15: lambdas[1].name: function "team-a-x" is listed more than once (first at line 3)',
      'lambdas.json:4:27: lambdas[1]: unknown key "verison": did you mean "version"?',
      'lambdas.json:5:15: lambdas[2].name: "arn:aws:lambda:eu-west-1:123456789012:function:team-a-y" is an ARN: use the plain function name ("team-a-y")',
      'lambdas.json:5:85: lambdas[2].version: "1.2" is not a valid semantic version: use three numbers, e.g. "1.2.0"',
      'lambdas.json:7:3: unknown key "region": did you mean "regions"?',
    ],
  },
];

describe("parseDefinition", () => {
  describe("rejects malformed input with every problem, positioned", () => {
    for (const c of malformed) {
      it(c.name, () => {
        const result = parseDefinition(c.text, c.file ?? "lambdas.json");
        expect(result.ok, "expected problems").to.equal(false);
        expect(rendered(result)).to.deep.equal(c.problems);
      });
    }
  });

  describe("happy path", () => {
    const expected = [
      { name: "team-a-orders", version: "1.4.2", index: 0, at: { line: 4, column: 15 } },
      {
        name: "team-a-payments",
        version: "2.0.0",
        canary: { version: "2.1.0-rc.1", weight: 12.5 },
        index: 1,
        at: { line: 8, column: 15 },
      },
      { name: "team-a_legacy", version: "0.0.1", index: 2, at: { line: 16, column: 15 } },
    ];

    it("reads JSON", () => {
      const text = j(
        "{",
        '  "$schema": "../lambdas.schema.json",',
        '  "lambdas": [',
        '    { "name": "team-a-orders", "version": "1.4.2" },',
        "    {",
        '      "version": "2.0.0",',
        '      "canary": { "weight": 12.5, "version": "2.1.0-rc.1" },',
        '      "name": "team-a-payments"',
        "    },",
        "",
        "",
        "",
        "",
        "",
        "",
        '    { "name": "team-a_legacy", "version": "0.0.1" }',
        "  ]",
        "}",
        "",
      );
      expect(parseDefinition(text, "envs/prod/lambdas.json")).to.deep.equal({
        ok: true,
        definition: { file: "envs/prod/lambdas.json", functions: expected },
      });
    });

    it("reads YAML, with comments, an anchor and flow style", () => {
      const text = j(
        "# Production",
        "lambdas:",
        "  # orders",
        "  - name: team-a-orders",
        "    version: 1.4.2",
        "  - version: &v2 2.0.0",
        "    canary: { version: 2.1.0-rc.1, weight: 12.5 }",
        "    name: team-a-payments",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "  - {name: team-a_legacy, version: '0.0.1'}",
      );
      const columns = [11, 11, 12];
      expect(parseDefinition(text, "lambdas.yml")).to.deep.equal({
        ok: true,
        definition: {
          file: "lambdas.yml",
          functions: expected.map((f, i) => ({ ...f, at: { line: f.at.line, column: columns[i] } })),
        },
      });
    });

    it("accepts an empty list, a byte order mark and CRLF line endings", () => {
      const empty = { ok: true, definition: { file: "lambdas.json", functions: [] } };
      expect(parseDefinition('{ "lambdas": [] }', "lambdas.json")).to.deep.equal(empty);
      expect(parseDefinition('\uFEFF{ "lambdas": [] }', "lambdas.json")).to.deep.equal(empty);
      const crlf = parseDefinition(
        '{\r\n  "lambdas": [\r\n    { "name": "team-a-x", "version": "1.0.0" }\r\n  ]\r\n}',
        "x.json",
      );
      expect(crlf.ok && crlf.definition.functions[0]?.at).to.deep.equal({ line: 3, column: 15 });
    });

    it("accepts boundary values: 64-character names, 128-character versions, weights 0.01 and 99.99", () => {
      const version = `1.0.0-${"a".repeat(122)}`;
      const text = JSON.stringify({
        lambdas: [
          { name: "a".repeat(64), version, canary: { version: "1.0.0", weight: 0.01 } },
          { name: "b", version: "1.0.0", canary: { version: "1.0.1", weight: 99.99 } },
          { name: "c", version: "1.0.0", canary: { version: "1.0.1", weight: 0.07 } },
          { name: "d", version: "1.0.0", canary: { version: "1.0.1", weight: 33.33 } },
        ],
      });
      const result = parseDefinition(text, "lambdas.json");
      expect(rendered(result)).to.deep.equal([]);
      expect(result.ok && result.definition.functions.map((f) => f.canary?.weight)).to.deep.equal([
        0.01, 99.99, 0.07, 33.33,
      ]);
    });

    it("accepts arbitrary valid definitions in both formats", () => {
      const name = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
      const version = fc
        .tuple(
          fc.nat(30),
          fc.nat(30),
          fc.nat(30),
          fc.option(fc.constantFrom("rc.1", "beta-2", "0"), { nil: undefined }),
        )
        .map(([a, b, c, pre]) => (pre ? `${a}.${b}.${c}-${pre}` : `${a}.${b}.${c}`));
      const weight = fc.integer({ min: 1, max: 9999 }).map((n) => n / 100);
      const lambdaEntry = fc.record(
        { name, version, canary: fc.record({ version, weight }) },
        { requiredKeys: ["name", "version"] },
      );
      const definition = fc
        .uniqueArray(lambdaEntry, { selector: (e) => e.name, maxLength: 6 })
        .filter((entries) => entries.every((e) => e.canary?.version !== e.version));
      fc.assert(
        fc.property(definition, (lambdas) => {
          const expected = lambdas.map((e) => ({ name: e.name, version: e.version, canary: e.canary }));
          for (const [file, text] of [
            ["lambdas.json", JSON.stringify({ lambdas }, null, 2)],
            ["lambdas.yaml", toYaml({ lambdas })],
          ] as const) {
            const result = parseDefinition(text, file);
            expect(rendered(result), text).to.deep.equal([]);
            const functions = result.ok ? result.definition.functions : [];
            expect(
              functions.map((f) => ({ name: f.name, version: f.version, canary: f.canary })),
            ).to.deep.equal(expected);
            expect(functions.map((f) => f.index)).to.deep.equal(lambdas.map((_, i) => i));
          }
        }),
        { numRuns: 300 },
      );
    });
  });

  describe("limits", () => {
    it("rejects a file over the size limit without parsing it", () => {
      const text = `{ "lambdas": [] }${" ".repeat(MAX_DEFINITION_BYTES)}`;
      expect(rendered(parseDefinition(text, "big.json"))).to.deep.equal([
        `big.json:1:1: the file is ${text.length} bytes, over the limit of 1048576 bytes (1 MiB)`,
      ]);
    });

    it("counts the limit in UTF-8 bytes, and accepts exactly the limit", () => {
      const base = '{ "lambdas": [] }';
      const atLimit = base + " ".repeat(MAX_DEFINITION_BYTES - base.length);
      expect(parseDefinition(atLimit, "x.json").ok).to.equal(true);
      const multiByte = `{ "lambdas": [], "é": "${"é".repeat(MAX_DEFINITION_BYTES / 2)}" }`;
      expect(multiByte.length).to.be.below(MAX_DEFINITION_BYTES);
      expect(rendered(parseDefinition(multiByte, "x.json"))[0]).to.match(
        /^x\.json:1:1: the file is \d+ bytes, over/,
      );
    });

    it("stops YAML alias bombs", () => {
      const text = j(
        'a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]',
        "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]",
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]",
        "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]",
        "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]",
        "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]",
        "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]",
        "lambdas: []",
      );
      expect(rendered(parseDefinition(text, "bomb.yaml"))).to.deep.equal([
        "bomb.yaml:1:1: the document expands YAML aliases too often (limit 100); use fewer aliases",
      ]);
    });

    it("reports deep nesting instead of crashing", () => {
      const tooDeep = /^deep\.yaml:\d+:\d+: the document is nested too deeply to be read$/;
      const depth = 20_000;
      const flow = `lambdas: ${"[".repeat(depth)}${"]".repeat(depth)}`;
      const flowProblems = rendered(parseDefinition(flow, "deep.yaml"));
      expect(flowProblems).to.have.length(1);
      expect(flowProblems[0]).to.match(tooDeep);
      // Block nesting within the size limit may or may not exhaust the stack, depending on the JIT.
      const block = Array.from({ length: 1400 }, (_, i) => `${" ".repeat(i)}a:`).join("\n");
      const blockProblems = rendered(parseDefinition(block, "deep.yaml"));
      expect(blockProblems.length).to.be.within(1, 2);
      expect(blockProblems.every((p) => tooDeep.test(p) || p.startsWith("deep.yaml:1:1: "))).to.equal(true);
      const json = `{"lambdas": ${"[".repeat(depth)}${"]".repeat(depth)}}`;
      expect(rendered(parseDefinition(json, "deep.json"))).to.deep.equal([
        "deep.json:1:76: invalid JSON: nested more than 64 levels deep",
      ]);
    });
  });

  describe("safety", () => {
    it("never pollutes prototypes", () => {
      const texts: Array<[string, string]> = [
        ["x.json", '{ "__proto__": { "polluted": 1 }, "lambdas": [{ "__proto__": { "polluted": 1 } }] }'],
        ["x.json", '{ "lambdas": [], "constructor": { "prototype": { "polluted": 1 } } }'],
        ["x.yaml", "__proto__: { polluted: 1 }\nlambdas:\n  - __proto__: { polluted: 1 }\n"],
      ];
      for (const [file, text] of texts) {
        const result = parseDefinition(text, file);
        expect(result.ok).to.equal(false);
        expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
        expect(Object.prototype).to.not.have.property("polluted");
      }
    });

    it("agrees with JSON.parse on what is valid JSON", () => {
      const token = fc.constantFrom(
        ..."{}[],:\"-0.eE+ \n\t\\x/'\u00a0\r\u0001\u2028".split(""),
        '"a"',
        "1",
        "12",
        "true",
        "nul",
        '"\\u00e9"',
        '"\\x"',
        '"lambdas"',
      );
      const soup = fc.array(token, { maxLength: 30 }).map((tokens) => tokens.join(""));
      const jsonParseFails = (text: string) => {
        try {
          JSON.parse(text);
          return false;
        } catch {
          return true;
        }
      };
      for (const arbitrary of [soup, fc.string({ unit: "binary", maxLength: 20 })]) {
        fc.assert(
          fc.property(arbitrary, (text) => {
            fc.pre(!/^[ \t\r\n]*$/.test(text) && !text.startsWith("\uFEFF"));
            const problems = parseDefinition(text, "x.json");
            const invalid =
              !problems.ok && problems.problems.some((p) => p.message.startsWith("invalid JSON: "));
            expect(invalid, JSON.stringify(text)).to.equal(jsonParseFails(text));
          }),
          { numRuns: 5000 },
        );
      }
    });

    it("reads any JSON value in either format (reporting only the unknown key holding it)", () => {
      fc.assert(
        fc.property(fc.jsonValue(), fc.constantFrom(0, 2, "\t"), (value, indent) => {
          const data = { lambdas: [{ name: "team-a-x", version: "1.0.0" }], extra: value };
          for (const [file, text] of [
            ["x.json", JSON.stringify(data, null, indent)],
            ["x.yaml", toYaml(data)],
          ] as const) {
            const problems = rendered(parseDefinition(text, file));
            expect(problems, text).to.have.length(1);
            expect(problems[0]).to.match(/^x\.(json|yaml):\d+:\d+: unknown key "extra": allowed keys are/);
          }
        }),
        { numRuns: 1000 },
      );
    });

    it("never throws, and reports sorted problems with positions, for any text", () => {
      const yamlish = fc
        .array(
          fc.constantFrom(
            "lambdas",
            ":",
            " ",
            "\n",
            "- ",
            "name",
            "version",
            "&a ",
            "*a",
            "{",
            "}",
            "[",
            "]",
            ",",
            "1.0.0",
            "#",
            "'",
            '"',
            "\t",
            "?",
            "!t ",
            "<<",
            "---",
          ),
          { maxLength: 40 },
        )
        .map((tokens) => tokens.join(""));
      for (const arbitrary of [fc.string(), yamlish]) {
        fc.assert(
          fc.property(arbitrary, fc.constantFrom("x.json", "x.yaml"), (text, file) => {
            const result = parseDefinition(text, file);
            if (result.ok) return;
            expect(result.problems.length).to.be.greaterThan(0);
            for (const p of result.problems) {
              expect(p.file).to.equal(file);
              expect(p.line).to.be.at.least(1);
              expect(p.column).to.be.at.least(1);
            }
            const order = result.problems.map((p) => [p.line, p.column]);
            const sorted = [...order].sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
            expect(order).to.deep.equal(sorted);
          }),
          { numRuns: 2000 },
        );
      }
    });
  });
});

describe("definitionFormat", () => {
  it("picks the format from the extension", () => {
    expect(definitionFormat("lambdas.json")).to.equal("json");
    expect(definitionFormat("a/b/lambdas.yaml")).to.equal("yaml");
    expect(definitionFormat("lambdas.yml")).to.equal("yaml");
    expect(definitionFormat("LAMBDAS.YAML")).to.equal("yaml");
    expect(definitionFormat("lambdas")).to.equal("json");
    expect(definitionFormat("lambdas.txt")).to.equal("json");
    expect(definitionFormat("yaml/lambdas.json")).to.equal("json");
  });
});
