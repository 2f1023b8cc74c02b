import { expect } from "chai";
import { applyPrune, type PruneLambda, recheck } from "../../../reconciler/apply/prune.ts";
import { silentLogger } from "../../../reconciler/core/log.ts";
import type { Deletion, PrunePlan } from "../../../reconciler/plan/prune.ts";

const deletion = (functionVersion: string, aliases: string[] = []): Deletion => ({
  functionVersion,
  aliases,
  versions: [],
  reason: aliases.length > 0 ? "outside-window" : "unaliased-older-than-live",
  codeSha256: "sha",
  lastModified: "",
});
const a = (name: string, functionVersion: string, weights: Record<string, number> = {}) => ({ name, functionVersion, weights });
const state = (name: string, functionVersion: string) => ({ ...a(name, functionVersion), revisionId: "r", description: "" });

describe("prune apply: the re-check right before each delete", () => {
  const rows: { case: string; aliases: ReturnType<typeof a>[] | undefined; deletion: Deletion; why: string | undefined }[] = [
    { case: "nothing moved", aliases: [a("LIVE", "6"), a("1-0-0", "1")], deletion: deletion("1", ["1-0-0"]), why: undefined },
    { case: "LIVE moved onto it", aliases: [a("LIVE", "1"), a("1-0-0", "1")], deletion: deletion("1", ["1-0-0"]), why: "alias LIVE now routes to version 1" },
    { case: "LIVE weights it", aliases: [a("LIVE", "6", { "1": 0.1 })], deletion: deletion("1"), why: "alias LIVE now routes to version 1" },
    { case: "a new foreign alias", aliases: [a("LIVE", "6"), a("pinned", "3")], deletion: deletion("3"), why: "alias pinned now routes to version 3" },
    {
      case: "our version alias was repointed",
      aliases: [a("LIVE", "6"), a("1-0-0", "5")],
      deletion: deletion("1", ["1-0-0"]),
      why: "version alias 1-0-0 no longer points at version 1 alone",
    },
    { case: "LIVE is gone", aliases: [a("1-0-0", "1")], deletion: deletion("1", ["1-0-0"]), why: "LIVE no longer exists" },
    { case: "the function is gone", aliases: undefined, deletion: deletion("1"), why: "the function no longer exists" },
  ];
  for (const row of rows) {
    it(row.case, () => expect(recheck(row.deletion, row.aliases, "LIVE")).to.equal(row.why));
  }

  it("deletes aliases then the version; a refusal (alias moved after the re-check) restores the aliases", async () => {
    const calls: string[] = [];
    const lambda: PruneLambda = {
      listAliases: async () => {
        calls.push("ListAliases");
        return [state("LIVE", "6")];
      },
      deleteAlias: async (_n, alias) => {
        calls.push(`DeleteAlias ${alias}`);
        return "deleted";
      },
      deleteVersion: async (_n, v) => {
        calls.push(`DeleteFunction ${v}`);
        return v === "2" ? { kind: "referenced", message: "Unable to delete version because the following aliases reference it: [LIVE]" } : { kind: "deleted" };
      },
      createAlias: async (_n, alias, write) => {
        calls.push(`CreateAlias ${alias} -> ${write.functionVersion}`);
        return state(alias, write.functionVersion);
      },
    };
    const plan: PrunePlan = {
      liveAlias: "LIVE",
      keep: 1,
      entries: [{ name: "f", kind: "prune", live: "6", keep: [], deletions: [deletion("1", ["1-0-0"]), deletion("2", ["1-1-0"])] }],
    };
    const report = await applyPrune(plan, { lambda, liveAlias: "LIVE", concurrency: 1, logger: silentLogger });
    expect(calls).to.deep.equal([
      "ListAliases",
      "DeleteAlias 1-0-0",
      "DeleteFunction 1",
      "ListAliases",
      "DeleteAlias 1-1-0",
      "DeleteFunction 2",
      "CreateAlias 1-1-0 -> 2",
    ]);
    const result = report.results[0]!;
    expect(result.status).to.equal("pruned");
    expect(result.status !== "skipped" && result.outcomes.map((o) => o.kind)).to.deep.equal(["deleted", "kept"]);
  });

  it("an AWS error fails that function only, keeping what was done", async () => {
    const lambda: PruneLambda = {
      listAliases: async () => [state("LIVE", "6")],
      deleteAlias: async () => "deleted",
      deleteVersion: async () => {
        throw new Error("TooManyRequestsException");
      },
      createAlias: async () => {
        throw new Error("no");
      },
    };
    const plan: PrunePlan = {
      liveAlias: "LIVE",
      keep: 1,
      entries: [
        { name: "f", kind: "prune", live: "6", keep: [], deletions: [deletion("1")] },
        { name: "g", kind: "skipped", code: "no-live", reason: "no LIVE alias" },
      ],
    };
    const report = await applyPrune(plan, { lambda, liveAlias: "LIVE", concurrency: 2, logger: silentLogger });
    expect(report.results.map((r) => r.status)).to.deep.equal(["failed", "skipped"]);
  });
});
