import { expect } from "chai";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { checkRegion, KNOWN_REGIONS, REGION_PATTERN } from "../../../reconciler/core/regions.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const PARTITIONS = "node_modules/@aws-sdk/core/dist-es/submodules/client/util-endpoints/lib/aws/partitions.js";

/** The Regions in the SDK's endpoint partitions (the file is not exported, so it is read as text). */
function sdkRegions(): string[] {
  const text = readFileSync(resolve(ROOT, PARTITIONS), "utf8");
  const info = JSON.parse(text.replace(/^export const partitionsInfo = /, "").replace(/;\s*$/, "")) as {
    partitions: { regions: Record<string, unknown> }[];
  };
  return info.partitions.flatMap((p) => Object.keys(p.regions)).filter((r) => !r.endsWith("-global"));
}

describe("regions", () => {
  it("knows exactly the Regions the AWS SDK knows", () => {
    expect([...KNOWN_REGIONS].sort()).to.deep.equal(sdkRegions().sort());
  });

  it("every known Region matches the pattern", () => {
    const pattern = new RegExp(REGION_PATTERN);
    expect(KNOWN_REGIONS.filter((r) => !pattern.test(r))).to.deep.equal([]);
  });

  it("accepts a known Region and suggests the nearest for a typo", () => {
    expect(checkRegion("eu-west-1")).to.equal(undefined);
    expect(checkRegion("us-east1")).to.equal('"us-east1" is not a Region name (such as "eu-west-1"): did you mean "us-east-1"?');
  });
});
