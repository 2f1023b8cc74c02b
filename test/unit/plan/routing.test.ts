import { expect } from "chai";
import {
  canonicalRouting,
  describeRouting,
  resolveRouting,
  type Routing,
  routingOfAlias,
  sameRouting,
  toAliasRouting,
} from "../../../reconciler/plan/routing.ts";

const staged: Routing = {
  primary: { version: "1.1.1", functionVersion: "3" },
  additional: [{ target: { version: "1.2.0", stage: 0 }, weight: 0.1 }],
};

describe("canonical routing (one form for plan, apply and report)", () => {
  const rows: { case: string; a: Routing; b: Routing; same: boolean }[] = [
    {
      case: "zero weights are no weights",
      a: routingOfAlias({ functionVersion: "3", weights: { "4": 0 } }),
      b: routingOfAlias({ functionVersion: "3", weights: {} }),
      same: true,
    },
    {
      case: "weights compare to 1/10000",
      a: routingOfAlias({ functionVersion: "3", weights: { "4": 0.07100001 } }),
      b: routingOfAlias({ functionVersion: "3", weights: { "4": 0.071 } }),
      same: true,
    },
    {
      case: "semantic versions are labels, not identity",
      a: routingOfAlias({ functionVersion: "3", weights: {} }, () => "1.1.1"),
      b: routingOfAlias({ functionVersion: "3", weights: {} }),
      same: true,
    },
    {
      case: "another primary differs",
      a: routingOfAlias({ functionVersion: "3", weights: {} }),
      b: routingOfAlias({ functionVersion: "4", weights: {} }),
      same: false,
    },
    {
      case: "a version still to be published is not any known version",
      a: staged,
      b: routingOfAlias({ functionVersion: "3", weights: { "0": 0.1 } }),
      same: false,
    },
  ];
  for (const row of rows) {
    it(row.case, () => {
      expect(sameRouting(row.a, row.b)).to.equal(row.same);
      expect(sameRouting(row.b, row.a)).to.equal(row.same);
    });
  }

  it("orders additional versions and drops zero shares", () => {
    const c = canonicalRouting(routingOfAlias({ functionVersion: "3", weights: { "9": 0.2, "10": 0.1, "4": 0 } }));
    expect(c.additional.map((w) => [w.target, w.weight])).to.deep.equal([
      [{ version: null, functionVersion: "10" }, 0.1],
      [{ version: null, functionVersion: "9" }, 0.2],
    ]);
  });

  it("resolves the versions stage steps produce, and only then becomes an alias write", () => {
    expect(toAliasRouting(staged)).to.equal(undefined);
    expect(describeRouting(staged)).to.equal("v3 + 10% 1.2.0 (published by step 1)");
    const resolved = resolveRouting(staged, new Map([[0, "12"]]));
    expect(toAliasRouting(resolved)).to.deep.equal({ functionVersion: "3", weights: { "12": 0.1 } });
    expect(resolved.additional[0]?.target).to.deep.equal({ version: "1.2.0", functionVersion: "12" });
  });
});
