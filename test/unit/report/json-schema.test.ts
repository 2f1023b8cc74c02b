/**
 * The JSON Schema files in schemas/ are what reconciler/report/json.ts says (regenerate with
 * `npm run schema`), and they accept what the builders produce and refuse what breaks the contract.
 * The built CLI's real outputs are validated against the same files in
 * test/integration/cli-production.test.ts.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { expect } from "chai";
import { z } from "zod";
import { JSON_SCHEMAS, type JsonCommand, jsonDocument, jsonSchemaText, namedRouting } from "../../../reconciler/report/json.ts";
import { PROJECT_ROOT } from "../../support/scenario.ts";

const COMMANDS = Object.keys(JSON_SCHEMAS) as JsonCommand[];

async function schemaFile(command: JsonCommand): Promise<z.ZodType> {
  const text = await readFile(join(PROJECT_ROOT, "schemas", `${command}.schema.json`), "utf8");
  return z.fromJSONSchema(JSON.parse(text) as Parameters<typeof z.fromJSONSchema>[0]);
}

describe("JSON output schemas (schemas/*.schema.json)", () => {
  for (const command of COMMANDS) {
    it(`schemas/${command}.schema.json is current (npm run schema)`, async () => {
      const committed = await readFile(join(PROJECT_ROOT, "schemas", `${command}.schema.json`), "utf8");
      expect(committed).to.equal(jsonSchemaText(command));
    });
  }

  it("refuses another schemaVersion, a missing target, and a display string for routing", async () => {
    const status = await schemaFile("status");
    const where = { target: { account: "222222222222", region: "eu-west-1", roleArn: "arn:aws:iam::222222222222:role/ci" }, source: null };
    const fn = {
      name: "team-a-orders",
      state: "drift",
      live: namedRouting({ functionVersion: "4", weights: { "5": 0.1 } }, new Map([["4", "1.4.0"], ["5", "1.5.0"]])),
      desired: { version: "1.5.0", canary: null },
      detail: "rollforward",
      changedOutside: false,
    };
    const summary = { "in-sync": 0, drift: 1, pending: 0, blocked: 0, changedOutside: 0 };
    const good = jsonDocument("status", where, { liveAlias: "LIVE", functions: [fn], summary });
    expect(status.safeParse(good).success).to.equal(true);
    expect(fn.live).to.deep.equal({
      functionVersion: "4",
      version: "1.4.0",
      weights: { "5": { version: "1.5.0", weight: 0.1 } },
    });
    expect(status.safeParse({ ...good, schemaVersion: 2 }).success).to.equal(false);
    const { target: _, ...noTarget } = good;
    expect(status.safeParse(noTarget).success).to.equal(false);
    expect(status.safeParse({ ...good, functions: [{ ...fn, live: "1.4.0 (v4)" }] }).success).to.equal(false);
  });
});
