/**
 * Writes definitions/lambdas.schema.json from the zod schema in reconciler/input/definition-schema.ts,
 * and schemas/<command>.schema.json (every command's --format json document) from
 * reconciler/report/json.ts. Run with `npm run schema` after changing either; test/unit/schema.test.ts
 * and test/unit/report/json-schema.test.ts fail until then.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { definitionJsonSchemaText } from "../reconciler/input/definition-schema.ts";
import { JSON_SCHEMAS, type JsonCommand, jsonSchemaText } from "../reconciler/report/json.ts";

const write = (relative: string, text: string) => {
  const target = fileURLToPath(new URL(`../${relative}`, import.meta.url));
  writeFileSync(target, text);
  console.log(`wrote ${target}`);
};

write("definitions/lambdas.schema.json", definitionJsonSchemaText());
mkdirSync(fileURLToPath(new URL("../schemas", import.meta.url)), { recursive: true });
for (const command of Object.keys(JSON_SCHEMAS) as JsonCommand[]) {
  write(`schemas/${command}.schema.json`, jsonSchemaText(command));
}
