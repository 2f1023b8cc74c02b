import { expect } from "chai";
import type { Definition } from "../../../reconciler/input/definitions.ts";
import { declaredRegions, inRegion } from "../../../reconciler/input/regional.ts";

const at = { line: 1, column: 1 };
const definition: Definition = {
  file: "lambdas.json",
  functions: [
    { name: "a", version: "1.0.0", index: 0, at, regions: ["us-east-1", "eu-west-1"] },
    { name: "b", version: "1.0.0", index: 1, at, regions: ["eu-west-1", "ap-south-1"] },
    { name: "c", version: "1.0.0", index: 2, at },
  ],
};

describe("inRegion", () => {
  it("keeps the run's Region's functions (and those without regions) and counts the others per Region", () => {
    const result = inRegion(definition, "us-east-1");
    if (!result.ok) throw new Error(result.message);
    expect(result.definition.functions.map((f) => f.name)).to.deep.equal(["a", "c"]);
    expect(result.leftTo).to.deep.equal([
      { region: "ap-south-1", count: 1 },
      { region: "eu-west-1", count: 2 },
    ]);
  });

  it("refuses a file with regions when the run's Region is unknown; without regions, keeps all", () => {
    expect(inRegion(definition, undefined).ok).to.equal(false);
    const plain = { ...definition, functions: [definition.functions[2]!] };
    expect(inRegion(plain, undefined)).to.deep.equal({ ok: true, definition: plain, leftTo: [] });
  });

  it("lists every declared Region once, sorted", () => {
    expect(declaredRegions(definition, "us-east-1")).to.deep.equal(["ap-south-1", "eu-west-1", "us-east-1"]);
  });
});
