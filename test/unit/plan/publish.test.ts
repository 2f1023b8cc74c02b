import { expect } from "chai";
import type { FunctionState } from "../../../reconciler/observe/state.ts";
import type { PublishSpec } from "../../../reconciler/input/publish-request.ts";
import {
  type PublishObservation,
  type PublishStep,
  planPublish,
  versionDescription,
} from "../../../reconciler/plan/publish.ts";
import { alias, fnState } from "../../support/fixtures.ts";

const NAME = "team-a-orders";
const NEW = "bmV3LXNoYQ==";
const OLD = "b2xkLXNoYQ==";

interface Row {
  case: string;
  spec?: Partial<PublishSpec>;
  observation:
    | "missing-function"
    | "failed"
    | {
        latest?: Partial<FunctionState>;
        /** The version alias 1-4-2 -> this function version (weights optional). */
        alias?: { functionVersion: string; weights?: Record<string, number> };
        /** The version behind the alias; omit to model "could not be read". */
        aliased?: Partial<FunctionState>;
      };
  expect:
    | { kind: "unchanged"; functionVersion: string }
    | { kind: "refused"; code: string; reason?: RegExp }
    | { kind: "publish"; revisionId?: string; steps: PublishStep["kind"][]; detail?: Partial<PublishStep>[] };
}

function observationOf(row: Row): PublishObservation {
  if (row.observation === "missing-function") return { kind: "missing-function" };
  if (row.observation === "failed") return { kind: "failed", message: "GetFunction failed: AccessDeniedException" };
  const o = row.observation;
  return {
    kind: "observed",
    latest: fnState({ codeSha256: OLD, layers: [], ...o.latest }),
    versionAlias: o.alias ? alias("1-4-2", o.alias.functionVersion, o.alias.weights) : undefined,
    aliased: o.aliased ? fnState({ functionVersion: o.alias?.functionVersion, layers: [], ...o.aliased }) : undefined,
  };
}

const LAYER = "arn:aws:lambda:eu-west-1:111111111111:layer:shared:3";

const rows: Row[] = [
  {
    case: "new version, code differs from $LATEST: update code, wait, publish, alias",
    observation: {},
    expect: { kind: "publish", revisionId: "rev-latest", steps: ["update-code", "wait", "publish", "create-alias"] },
  },
  {
    case: "configuration asked for and different: configure (and wait) BEFORE the code",
    spec: { runtime: "nodejs22.x", handler: "main.handler" },
    observation: { latest: { runtime: "nodejs20.x" } },
    expect: {
      kind: "publish",
      steps: ["configure", "wait", "update-code", "wait", "publish", "create-alias"],
      detail: [{ kind: "configure", runtime: "nodejs22.x", handler: "main.handler" }],
    },
  },
  {
    case: "configuration asked for and already there: no configure step",
    spec: { runtime: "nodejs22.x", handler: "index.handler" },
    observation: {},
    expect: { kind: "publish", steps: ["update-code", "wait", "publish", "create-alias"] },
  },
  {
    case: "layers differ: configure carries exactly the layers asked for",
    spec: { layers: [LAYER] },
    observation: {},
    expect: {
      kind: "publish",
      steps: ["configure", "wait", "update-code", "wait", "publish", "create-alias"],
      detail: [{ kind: "configure", layers: [LAYER] }],
    },
  },
  {
    case: "crash recovery: the code is already on $LATEST: not uploaded again",
    observation: { latest: { codeSha256: NEW } },
    expect: { kind: "publish", steps: ["publish", "create-alias"] },
  },
  {
    case: "same code but another architecture asked for: the code update carries it",
    spec: { architecture: "arm64" },
    observation: { latest: { codeSha256: NEW } },
    expect: {
      kind: "publish",
      steps: ["update-code", "wait", "publish", "create-alias"],
      detail: [{ kind: "update-code", architectures: ["arm64"] }],
    },
  },
  {
    case: "the description carries the version and the provenance",
    spec: { description: "commit 0a1b2c3" },
    observation: { latest: { codeSha256: NEW } },
    expect: {
      kind: "publish",
      steps: ["publish", "create-alias"],
      detail: [{ kind: "publish", codeSha256: NEW, description: "lambda-gitops 1.4.2: commit 0a1b2c3" }],
    },
  },
  {
    case: "version alias exists with the same code: unchanged",
    observation: { alias: { functionVersion: "7" }, aliased: { codeSha256: NEW } },
    expect: { kind: "unchanged", functionVersion: "7" },
  },
  {
    case: "version alias exists with different code: refused, both hashes named, bump the version",
    observation: { alias: { functionVersion: "7" }, aliased: { codeSha256: OLD } },
    expect: { kind: "refused", code: "code-differs", reason: new RegExp(`${OLD}.*${NEW}.*bump the version`) },
  },
  {
    case: "same code, but the version runs with another runtime than asked: refused",
    spec: { runtime: "nodejs22.x" },
    observation: { alias: { functionVersion: "7" }, aliased: { codeSha256: NEW, runtime: "nodejs20.x" } },
    expect: { kind: "refused", code: "config-differs", reason: /runtime/ },
  },
  {
    case: "version alias points at $LATEST: refused (versions are immutable)",
    observation: { alias: { functionVersion: "$LATEST" } },
    expect: { kind: "refused", code: "alias-not-published" },
  },
  {
    case: "version alias is weighted: refused",
    observation: { alias: { functionVersion: "7", weights: { "8": 0.1 } }, aliased: { codeSha256: NEW } },
    expect: { kind: "refused", code: "alias-not-published" },
  },
  {
    case: "the version behind the alias could not be read: refused, never guessed",
    observation: { alias: { functionVersion: "7" } },
    expect: { kind: "refused", code: "observe-failed" },
  },
  {
    case: "image-packaged function: refused",
    observation: { latest: { packageType: "Image" } },
    expect: { kind: "refused", code: "image-package" },
  },
  {
    case: "the function does not exist: refused (publish never creates functions)",
    observation: "missing-function",
    expect: { kind: "refused", code: "function-missing" },
  },
  {
    case: "the function could not be read: refused with the reason",
    observation: "failed",
    expect: { kind: "refused", code: "observe-failed", reason: /AccessDenied/ },
  },
];

describe("publish planner (pure)", () => {
  for (const row of rows) {
    it(row.case, () => {
      const spec: PublishSpec = {
        function: NAME,
        version: "1.4.2",
        code: { kind: "zip", path: "orders.zip" },
        ...row.spec,
      };
      const entry = planPublish(spec, { codeSha256: NEW, codeSize: 10 }, observationOf(row));
      expect(entry).to.include({ function: NAME, version: "1.4.2", alias: "1-4-2", codeSha256: NEW });
      const { decision } = entry;
      expect(decision.kind).to.equal(row.expect.kind);
      if (row.expect.kind === "unchanged") {
        expect(decision).to.deep.equal(row.expect);
      } else if (row.expect.kind === "refused" && decision.kind === "refused") {
        expect(decision.code).to.equal(row.expect.code);
        if (row.expect.reason) expect(decision.reason).to.match(row.expect.reason);
      } else if (row.expect.kind === "publish" && decision.kind === "publish") {
        expect(decision.steps.map((s) => s.kind)).to.deep.equal(row.expect.steps);
        if (row.expect.revisionId) expect(decision.revisionId).to.equal(row.expect.revisionId);
        for (const detail of row.expect.detail ?? []) {
          expect(decision.steps.find((s) => s.kind === detail.kind)).to.deep.include(detail);
        }
        expect(decision.steps.at(-1)).to.deep.equal({ kind: "create-alias", alias: "1-4-2" });
      }
    });
  }

  it("cuts the description to Lambda's 256 characters", () => {
    const text = versionDescription("1.4.2", "x".repeat(400));
    expect(text).to.have.length(256);
    expect(text.startsWith("lambda-gitops 1.4.2: xxx")).to.be.true;
    expect(versionDescription("1.4.2", undefined)).to.equal("lambda-gitops 1.4.2");
  });
});
