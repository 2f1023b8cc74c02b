import { readFileSync } from "node:fs";
import { expect } from "chai";
import fc from "fast-check";
import {
  checkFunctionName,
  definitionJsonSchemaText,
  FUNCTION_NAME_PATTERN,
  VERSION_PATTERN,
} from "../../../reconciler/input/definition-schema.ts";
import { parseDefinition } from "../../../reconciler/input/definitions.ts";
import { formatProblem } from "../../../reconciler/core/errors.ts";
import { checkVersion, MAX_ALIAS_LENGTH } from "../../../reconciler/input/versions.ts";

const read = (path: string) => readFileSync(new URL(`../../../definitions/${path}`, import.meta.url), "utf8");

describe("definitions/lambdas.schema.json", () => {
  it("is up to date with reconciler/definition-schema.ts", () => {
    const committed = read("lambdas.schema.json");
    expect(
      committed === definitionJsonSchemaText(),
      "the JSON Schema is out of date: run `npm run schema`",
    ).to.equal(true);
  });

  it("is a draft 2020-12 schema with help for every field", () => {
    const schema = JSON.parse(read("lambdas.schema.json"));
    expect(schema.$schema).to.equal("https://json-schema.org/draft/2020-12/schema");
    expect(schema.additionalProperties).to.equal(false);
    expect(schema.required).to.deep.equal(["lambdas"]);
    const entry = schema.properties.lambdas.items;
    const canary = entry.properties.canary;
    for (const field of [
      schema.properties.$schema,
      schema.properties.lambdas,
      entry,
      entry.properties.name,
      entry.properties.version,
      canary,
      canary.properties.version,
      canary.properties.weight,
    ]) {
      expect(field.title).to.be.a("string");
      expect(field.description).to.be.a("string");
    }
    expect(entry.required).to.deep.equal(["name", "version"]);
    expect(entry.additionalProperties).to.equal(false);
    expect(canary.required).to.deep.equal(["version", "weight"]);
    expect(canary.additionalProperties).to.equal(false);
    expect(canary.properties.weight).to.include({ exclusiveMinimum: 0, exclusiveMaximum: 100 });
  });

  describe("patterns agree with the reconciler's checks", () => {
    const nameRegex = new RegExp(FUNCTION_NAME_PATTERN);
    const versionRegex = new RegExp(VERSION_PATTERN);
    const schemaAcceptsVersion = (v: string) => versionRegex.test(v) && v.length <= MAX_ALIAS_LENGTH;

    it("for function names", () => {
      const nameLike = fc.stringMatching(/^[A-Za-z0-9_:. \u0430-]{0,70}$/);
      for (const arbitrary of [fc.string(), nameLike]) {
        fc.assert(
          fc.property(arbitrary, (name) => {
            expect(nameRegex.test(name), JSON.stringify(name)).to.equal(
              checkFunctionName(name) === undefined,
            );
          }),
          { numRuns: 2000 },
        );
      }
    });

    it("for versions", () => {
      // Mostly version-shaped strings with noise, so that both outcomes are common (numbers stay far
      // below Number.MAX_SAFE_INTEGER, which only checkVersion enforces).
      const num = fc.oneof(
        { arbitrary: fc.constantFrom("0", "1", "12"), weight: 6 },
        { arbitrary: fc.constantFrom("01", "", "v1", " 1", "a"), weight: 1 },
      );
      const dot = fc.oneof(
        { arbitrary: fc.constant("."), weight: 6 },
        { arbitrary: fc.constantFrom("-", "", "..", "_"), weight: 1 },
      );
      const tail = fc.array(fc.constantFrom("0", "1", "01", "a", "rc", "-", ".", "Z", "+", "_", " "), {
        maxLength: 5,
      });
      const versionLike = fc
        .tuple(num, dot, num, dot, num, fc.constantFrom("", "-", "+", "--"), tail)
        .map(([a, s1, b, s2, c, s3, rest]) => `${a}${s1}${b}${s2}${c}${s3}${rest.join("")}`);
      for (const arbitrary of [versionLike, fc.string({ maxLength: 15 })]) {
        fc.assert(
          fc.property(arbitrary, (v) => {
            expect(schemaAcceptsVersion(v), JSON.stringify(v)).to.equal(checkVersion(v).ok);
          }),
          { numRuns: 5000 },
        );
      }
      for (const v of ["1.2.3", "1.2.0-rc.1", "1.0.0-a-b.0", `1.0.0-${"a".repeat(122)}`]) {
        expect(schemaAcceptsVersion(v), v).to.equal(true);
      }
      for (const v of ["v1.2.3", "1.2", "1.2.3+abc", "01.2.3", " 1.2.3", `1.0.0-${"a".repeat(123)}`]) {
        expect(schemaAcceptsVersion(v), v).to.equal(false);
      }
    });
  });
});

describe("definitions/example", () => {
  for (const file of ["example/lambdas.json", "example/lambdas.yaml"]) {
    it(`${file} parses cleanly`, () => {
      const result = parseDefinition(read(file), file);
      expect(result.ok ? [] : result.problems.map(formatProblem)).to.deep.equal([]);
    });
  }

  it("the JSON and YAML examples declare the same functions", () => {
    const functions = (file: string) => {
      const result = parseDefinition(read(file), file);
      return result.ok
        ? result.definition.functions.map(({ name, version, canary }) => ({ name, version, canary }))
        : [];
    };
    const json = functions("example/lambdas.json");
    expect(json).to.have.length.greaterThan(0);
    expect(json.some((f) => f.canary !== undefined)).to.equal(true);
    expect(json.every((f) => f.name.startsWith("team-a-"))).to.equal(true);
    expect(functions("example/lambdas.yaml")).to.deep.equal(json);
  });
});
