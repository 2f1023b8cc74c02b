import { expect } from "chai";
import type { Observation } from "../../../reconciler/observe/observe.ts";
import { encodeMarker } from "../../../reconciler/observe/marker.ts";
import { buildPlan } from "../../../reconciler/plan/plan.ts";
import { entryToJson, renderPlanMarkdown, renderPlanTable } from "../../../reconciler/report/report.ts";
import { alias, observedInTarget, spec } from "../../support/fixtures.ts";

/** LIVE on `liveOn`, with the marker saying the reconciler wrote v3 (1.1.1). */
function observed(liveOn: string): Observation {
  const written = encodeMarker({ version: "1.1.1", functionVersion: "3", weights: {} })!;
  return observedInTarget([alias("1-1-1", "3"), alias("1-0-0", "2"), alias("LIVE", liveOn, {}, "rev-live", written)], ["1.1.1", "1.0.0"]);
}

function planOf(declared: string, liveOn: string) {
  return buildPlan({ file: "lambdas.json", functions: [spec("team-a-fn", declared)] }, new Map([["team-a-fn", observed(liveOn)]]), "LIVE");
}

describe("plan output marks drift (LIVE moved out of band) apart from an ordinary change", () => {
  it("someone moved LIVE, the file is unchanged: the plan says drift, in JSON, table and Markdown", () => {
    const plan = planOf("1.1.1", "2");
    const [entry] = plan.entries;
    expect(entry!.action.kind).to.equal("rollforward");
    expect(entryToJson(entry!).drift).to.deep.equal({
      kind: "drifted",
      expected: { functionVersion: "3", weights: {} },
      actual: { functionVersion: "2", weights: {} },
      declared: { version: "1.1.1" },
      fileChanged: false,
    });
    const table = renderPlanTable(plan);
    expect(table).to.match(/rollforward \(drift\)/);
    expect(table).to.match(/LIVE was moved out of band: the reconciler wrote v3, it routes v2 now \(file unchanged\)/);
    expect(renderPlanMarkdown(plan)).to.match(/\| rollforward \(drift\) \|/);
  });

  it("the file changed and LIVE is as written: an ordinary change, no drift mark", () => {
    const plan = planOf("1.0.0", "3");
    expect(entryToJson(plan.entries[0]!).drift.kind).to.equal("file-changed");
    expect(renderPlanTable(plan)).to.not.match(/drift|out of band/);
  });

  it("in sync: noop, no mark", () => {
    const plan = planOf("1.1.1", "3");
    expect(plan.entries[0]!.action.kind).to.equal("noop");
    expect(entryToJson(plan.entries[0]!).drift).to.deep.equal({ kind: "in-sync" });
  });
});
