/**
 * Writes definitions/lambdas.schema.json from the zod schema in reconciler/definition-schema.ts.
 * Run with `npm run schema` after changing the schema; test/unit/schema.test.ts fails until then.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { definitionJsonSchemaText } from "../reconciler/input/definition-schema.ts";

const target = fileURLToPath(new URL("../definitions/lambdas.schema.json", import.meta.url));
writeFileSync(target, definitionJsonSchemaText());
console.log(`wrote ${target}`);
