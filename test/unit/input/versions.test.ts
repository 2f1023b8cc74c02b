import { expect } from "chai";
import fc from "fast-check";
import {
  aliasToVersion,
  checkVersion,
  compareVersions,
  MAX_ALIAS_LENGTH,
  versionToAlias,
} from "../../../reconciler/input/versions.ts";

/** Lambda's alias name rule: (?!^[0-9]+$)([a-zA-Z0-9-_]+), 1..128 characters. */
const LAMBDA_ALIAS = /^(?!^[0-9]+$)([a-zA-Z0-9-_]+)$/;

const numericPart = fc.oneof(
  fc.integer({ min: 0, max: 20 }),
  fc.integer({ min: 0, max: 1_000_000 }),
  fc.constant(Number.MAX_SAFE_INTEGER),
);
const numericId = numericPart.map(String);
/** Alphanumeric identifiers: at least one non-digit, may contain '-' anywhere (e.g. "-", "a-b", "0-"). */
const alphanumericId = fc.stringMatching(/^[0-9A-Za-z-]{0,6}[A-Za-z-][0-9A-Za-z-]{0,6}$/);
const prereleaseId = fc.oneof(numericId, alphanumericId);

const validVersion = fc
  .record({
    core: fc.tuple(numericPart, numericPart, numericPart),
    pre: fc.option(fc.array(prereleaseId, { minLength: 1, maxLength: 5 }), { nil: undefined }),
  })
  .map(({ core, pre }) => (pre ? `${core.join(".")}-${pre.join(".")}` : core.join(".")))
  .filter((v) => v.length <= MAX_ALIAS_LENGTH);

/** Versions from a tiny alphabet, so that near-collisions ("a.b" vs "a-b") are common. */
const crowdedVersion = fc
  .record({
    core: fc.tuple(fc.constantFrom(0, 1), fc.constantFrom(0, 1), fc.constantFrom(0, 1)),
    pre: fc.option(fc.array(fc.constantFrom("a", "b", "-", "a-b", "a--", "1", "0"), { maxLength: 4 }), {
      nil: undefined,
    }),
  })
  .map(({ core, pre }) => (pre && pre.length > 0 ? `${core.join(".")}-${pre.join(".")}` : core.join(".")));

describe("versions", () => {
  describe("versionToAlias / aliasToVersion", () => {
    const table: Array<[string, string]> = [
      ["1.1.1", "1-1-1"],
      ["0.0.0", "0-0-0"],
      ["10.20.30", "10-20-30"],
      ["1.2.0-rc.1", "1-2-0_rc-1"],
      ["1.2.0-a.b", "1-2-0_a-b"],
      ["1.2.0-a-b", "1-2-0_a_b"],
      ["1.2.0--", "1-2-0__"],
      ["1.0.0-alpha.beta.11", "1-0-0_alpha-beta-11"],
      ["2.0.0-0.3.7", "2-0-0_0-3-7"],
    ];
    for (const [version, alias] of table) {
      it(`${version} <-> ${alias}`, () => {
        expect(versionToAlias(version)).to.equal(alias);
        expect(aliasToVersion(alias)).to.equal(version);
      });
    }

    const notVersionAliases = [
      "LIVE",
      "",
      "1",
      "123",
      "1-2",
      "1.2.3",
      "1-2-3-4",
      "01-2-3",
      "1-2-3_",
      "1-2-3_01",
      "v1-2-3",
      "1-2-3+abc",
      "1-2-3 ",
      `1-2-3_${"a".repeat(MAX_ALIAS_LENGTH)}`,
    ];
    for (const alias of notVersionAliases) {
      it(`${JSON.stringify(alias)} is not a version alias`, () => {
        expect(aliasToVersion(alias)).to.equal(undefined);
      });
    }

    it("round-trips every valid version and yields a valid Lambda alias name", () => {
      fc.assert(
        fc.property(validVersion, (version) => {
          expect(checkVersion(version)).to.deep.equal({ ok: true });
          const alias = versionToAlias(version);
          expect(alias).to.match(LAMBDA_ALIAS);
          expect(alias.length).to.be.within(1, MAX_ALIAS_LENGTH);
          expect(aliasToVersion(alias)).to.equal(version);
        }),
        { numRuns: 2000 },
      );
    });

    it("never maps two different versions to the same alias", () => {
      for (const arbitrary of [validVersion, crowdedVersion]) {
        fc.assert(
          fc.property(arbitrary, arbitrary, (a, b) => {
            fc.pre(a !== b);
            expect(versionToAlias(a)).to.not.equal(versionToAlias(b));
          }),
          { numRuns: 2000 },
        );
      }
    });

    it("accepts an alias only when it round-trips", () => {
      // Mostly well-formed "N-N-N" cores with noisy tails, so that both outcomes are common.
      const num = fc.oneof(
        { arbitrary: fc.constantFrom("0", "1", "12"), weight: 8 },
        { arbitrary: fc.constantFrom("01", "a", "", " "), weight: 1 },
      );
      const dash = fc.oneof(
        { arbitrary: fc.constant("-"), weight: 8 },
        { arbitrary: fc.constantFrom("_", ".", "", "--"), weight: 1 },
      );
      const tail = fc.array(fc.constantFrom("0", "1", "01", "a", "rc", "-", "_", ".", "Z"), { maxLength: 5 });
      const aliasLike = fc
        .tuple(num, dash, num, dash, num, fc.constantFrom("", "_", "-", "__"), tail)
        .map(([a, s1, b, s2, c, s3, rest]) => `${a}${s1}${b}${s2}${c}${s3}${rest.join("")}`);
      for (const arbitrary of [fc.string(), fc.string({ unit: "binary", maxLength: 20 }), aliasLike]) {
        fc.assert(
          fc.property(arbitrary, (s) => {
            const version = aliasToVersion(s);
            if (version !== undefined) {
              expect(checkVersion(version)).to.deep.equal({ ok: true });
              expect(versionToAlias(version)).to.equal(s);
            }
          }),
          { numRuns: 2000 },
        );
      }
    });
  });

  describe("checkVersion", () => {
    const valid = ["0.0.0", "1.2.3", "1.2.3-rc.1", "1.2.3-a-b", "1.0.0-0A.is.legal", "1.0.0-x-y-z.--"];
    for (const version of valid) {
      it(`accepts ${version}`, () => {
        expect(checkVersion(version)).to.deep.equal({ ok: true });
      });
    }

    const invalid: Array<[string, string]> = [
      ["v1.2.3", '"v1.2.3" is not a valid semantic version: drop the leading "v" (use "1.2.3")'],
      ["V1.2.3", '"V1.2.3" is not a valid semantic version: drop the leading "V" (use "1.2.3")'],
      ["=1.2.3", '"=1.2.3" is not a valid semantic version: drop the leading "=" (use "1.2.3")'],
      ["1.2", '"1.2" is not a valid semantic version: use three numbers, e.g. "1.2.0"'],
      ["1", '"1" is not a valid semantic version: use three numbers, e.g. "1.0.0"'],
      ["01.2", '"01.2" is not a valid semantic version: use three numbers, e.g. "1.2.0"'],
      [
        "1.2.3+abc",
        '"1.2.3+abc" is not a valid semantic version: build metadata ("+abc") is not allowed, ' +
          "because Lambda alias names cannot carry it and two builds would map to one alias",
      ],
      [
        "01.2.3",
        '"01.2.3" is not a valid semantic version: numbers must not have leading zeros (use "1.2.3")',
      ],
      [
        "1.2.3-rc.01",
        '"1.2.3-rc.01" is not a valid semantic version: numbers must not have leading zeros (use "1.2.3-rc.1")',
      ],
      [" 1.2.3", '" 1.2.3" is not a valid semantic version: remove the surrounding whitespace (use "1.2.3")'],
      [
        "1.2.3\n",
        '"1.2.3\\n" is not a valid semantic version: remove the surrounding whitespace (use "1.2.3")',
      ],
      ["", '"" is not a valid semantic version (expected MAJOR.MINOR.PATCH, e.g. "1.4.2")'],
      ["latest", '"latest" is not a valid semantic version (expected MAJOR.MINOR.PATCH, e.g. "1.4.2")'],
      ["1.2.3-", '"1.2.3-" is not a valid semantic version (expected MAJOR.MINOR.PATCH, e.g. "1.4.2")'],
      ["1.2.3-a_b", '"1.2.3-a_b" is not a valid semantic version (expected MAJOR.MINOR.PATCH, e.g. "1.4.2")'],
      [
        "99999999999999999999.0.0",
        '"99999999999999999999.0.0" is not a valid semantic version (expected MAJOR.MINOR.PATCH, e.g. "1.4.2")',
      ],
    ];
    for (const [version, message] of invalid) {
      it(`rejects ${JSON.stringify(version)}`, () => {
        expect(checkVersion(version)).to.deep.equal({ ok: false, message });
      });
    }

    it("accepts 128 characters and rejects 129, naming the limit", () => {
      const at = `1.0.0-${"a".repeat(MAX_ALIAS_LENGTH - 6)}`;
      expect(at.length).to.equal(MAX_ALIAS_LENGTH);
      expect(checkVersion(at)).to.deep.equal({ ok: true });
      const over = `${at}b`;
      const result = checkVersion(over);
      expect(result.ok).to.equal(false);
      expect(result.ok ? "" : result.message).to.match(
        /^"1\.0\.0-a+"… \(129 characters\) is too long for a version: .* limited to 128 characters$/,
      );
    });

    it("rejects anything semver would only accept loosely", () => {
      fc.assert(
        fc.property(validVersion, fc.constantFrom("v", "=", " ", "\t"), (version, prefix) => {
          expect(checkVersion(`${prefix}${version}`).ok).to.equal(false);
          expect(checkVersion(`${version}+build.1`).ok).to.equal(false);
        }),
      );
    });
  });

  describe("compareVersions", () => {
    it("orders by semver precedence, pre-releases below releases", () => {
      const sorted = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-rc.1",
        "1.0.0",
      ];
      sorted.push("1.0.1", "1.2.0-rc.1", "1.2.0", "1.10.0", "2.0.0");
      const shuffled = [...sorted].reverse();
      expect(shuffled.sort(compareVersions)).to.deep.equal(sorted);
      expect(compareVersions("1.2.0-rc.1", "1.2.0")).to.equal(-1);
      expect(compareVersions("1.2.0", "1.2.0-rc.1")).to.equal(1);
      expect(compareVersions("1.2.0", "1.2.0")).to.equal(0);
      expect(compareVersions("1.9.0", "1.10.0")).to.equal(-1);
    });

    it("is antisymmetric", () => {
      fc.assert(
        fc.property(validVersion, validVersion, (a, b) => {
          expect(compareVersions(a, b)).to.equal(-compareVersions(b, a) || 0);
        }),
      );
    });
  });
});
