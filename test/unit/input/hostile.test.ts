/**
 * The hostile-input corpus (test/fixtures/hostile/, one directory per case; the format is described
 * in test/support/hostile.ts): every case runs through the real handler (`runJob`) with the real
 * adapters over mocked SDK clients, and must
 *   - resolve (never throw: a throw would make Lambda retry the invocation),
 *   - report exactly one job result, a failure for this job, whose message is exactly the expected
 *     lines (FILE:LINE:COL for problems in a file); or, when the event carries no usable job id,
 *     report nothing at all,
 *   - make no Lambda call of any kind (not even a read), never build the AWS context or the
 *     staging-bucket stager, and read at most the one artifact object from S3 (nothing for bad
 *     events and parameters, which are refused before the artifact is read).
 * Expected lines are exact text; the only `{ "regex" }` lines cover wording owned by third parties
 * (yauzl's and zlib's error text, the stack depth at which yaml gives up) and the list of known
 * settings, which grows as settings are added.
 *
 * Adding a case is adding a directory: case.json plus the hostile input file.
 */
import { expect } from "chai";
import fc from "fast-check";
import { loadDesired } from "../../../reconciler/input/desired.ts";
import {
  type CaseRun,
  type ExpectedLine,
  type HostileCase,
  JOB_ID,
  type Kind,
  loadCorpus,
  matchesLines,
  runCase,
} from "../../support/hostile.ts";

const corpus = loadCorpus();

/** Expected lines as text, regex lines replaced by the actual line when it matches (for a readable diff). */
function comparable(
  actual: string,
  expected: readonly ExpectedLine[],
): { actual: string[]; expected: string[] } {
  const lines = actual.split("\n");
  return {
    actual: lines,
    expected: expected.map((line, i) => {
      if (typeof line === "string") return line;
      const candidate = lines[i] ?? "";
      return new RegExp(`^(?:${line.regex})$`).test(candidate) ? candidate : `/${line.regex}/`;
    }),
  };
}

/** Whether the case's input is refused before the artifact is read. */
const refusedBeforeArtifact = (kind: Kind) => kind === "parameters" || kind === "event";

const SECRETS = ["hostile-artifact-secret", "hostile-artifact-session"];

describe("hostile input corpus (test/fixtures/hostile): refused through runJob, nothing touched", () => {
  it("holds at least 60 cases, covering every kind of input", () => {
    expect(corpus.length).to.be.at.least(60);
    const perKind = (kind: Kind) => corpus.filter((c) => c.manifest.kind === kind).length;
    expect(perKind("definition")).to.be.at.least(20);
    expect(perKind("prefix")).to.be.at.least(10);
    expect(perKind("parameters")).to.be.at.least(10);
    expect(perKind("artifact")).to.be.at.least(10);
    expect(perKind("event")).to.be.at.least(10);
  });

  for (const kind of ["definition", "prefix", "parameters", "artifact", "event"] as const) {
    describe(kind, () => {
      for (const c of corpus.filter((x) => x.manifest.kind === kind)) {
        it(`${c.id}: ${c.manifest.title}`, async function () {
          this.timeout(15_000);
          const run = await runCase(c);
          assertRefused(c, run);
        });
      }
    });
  }
});

function assertRefused(c: HostileCase, run: CaseRun): void {
  const { manifest } = c;
  expect(run.threw, "runJob must resolve: a rejection makes Lambda retry the invocation").to.equal(undefined);
  expect(run.lambdaCalls, "no Lambda call at all").to.deep.equal([]);
  expect(run.awsContexts, "the Lambda/STS context is never built").to.equal(0);
  expect(run.stagers, "the staging bucket is never touched").to.equal(0);
  expect(run.ms, "refused quickly (bombs are cut off, not expanded)").to.be.below(10_000);

  if (manifest.expect.result === "none") {
    expect(run.results, "without a job id there is nothing to report to").to.deep.equal([]);
    expect(run.s3Calls, "and nothing is read").to.deep.equal([]);
    return;
  }

  expect(run.s3Calls, "S3: at most the one artifact read").to.deep.equal(
    refusedBeforeArtifact(manifest.kind) ? [] : ["GetObject"],
  );
  expect(
    run.results.map((r) => [r.kind, r.jobId]),
    "exactly one job result: a failure",
  ).to.deep.equal([["failure", JOB_ID]]);
  const result = run.results[0]!;
  const message = result.kind === "failure" ? result.message : "";
  const expected = manifest.expect.message;
  if (!matchesLines(message, expected)) {
    const { actual, expected: wanted } = comparable(message, expected);
    expect(actual, `${c.id}: the failure message`).to.deep.equal(wanted);
  }
  for (const secret of SECRETS) expect(message).not.to.contain(secret);

  // A problem inside the definition file is always located: FILE:LINE:COL: ...
  const [head, ...problems] = message.split("\n");
  if (/^lambdas\.(json|yaml) is invalid; nothing was changed:$/.test(head ?? "")) {
    expect(problems.length, "at least one located problem").to.be.above(0);
    for (const line of problems) expect(line).to.match(/^lambdas\.(json|yaml):[1-9]\d*:[1-9]\d*: \S/);
  }
}

describe("prefix policy, property: whatever the name, only plain names starting with an allowed prefix pass", () => {
  const PREFIX = "team-a-";
  // Names built from pieces that attackers use: the prefix, look-alikes, invisible characters,
  // separators and qualifiers, case variants.
  const piece = fc.constantFrom(
    PREFIX,
    "team-a",
    "TEAM-A-",
    "team-\u0430-",
    "\uff54\uff45\uff41\uff4d-a-",
    "\u200b",
    "\u200d",
    "\u202e",
    "\ufeff",
    "\u0301",
    " ",
    "\t",
    "\n",
    ":",
    ":LIVE",
    "arn:aws:lambda:us-east-1:222222222222:function:",
    "/",
    "..",
    "%2e",
    "\u0000",
    "orders",
    "team-b-",
    "-",
    "_",
    "x",
  );
  const name = fc.oneof(
    fc.array(piece, { minLength: 1, maxLength: 5 }).map((parts) => parts.join("")),
    fc.string({ unit: "grapheme", minLength: 1, maxLength: 24 }).map((s) => PREFIX + s),
    fc.string({ unit: "binary", minLength: 1, maxLength: 24 }),
  );

  it("accepts a name only when it is [A-Za-z0-9_-]{1,64} and starts with the prefix, case-sensitively", () => {
    fc.assert(
      fc.property(name, (candidate) => {
        const file = JSON.stringify({ lambdas: [{ name: candidate, version: "1.0.0" }] });
        const result = loadDesired(file, "lambdas.json", [PREFIX]);
        const plain = /^[A-Za-z0-9_-]{1,64}$/.test(candidate);
        expect(result.ok, JSON.stringify(candidate)).to.equal(plain && candidate.startsWith(PREFIX));
        if (!result.ok) {
          for (const problem of result.problems) {
            expect(problem.line).to.be.at.least(1);
            expect(problem.column).to.be.at.least(1);
            expect(problem.path).to.equal("lambdas[0].name");
          }
        }
      }),
      { numRuns: 3000, seed: 20240611 },
    );
  });
});
