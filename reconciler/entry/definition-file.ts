/**
 * Which definition file a command reads, and reading it within the size limit.
 *
 * Without FILE, the one of lambdas.json, lambdas.yaml, lambdas.yml that exists in the current
 * folder. None: an error naming all three. Two or more: refused, naming them, because a reviewer
 * could read one while the tool applies the other; say which with FILE.
 */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { describeError } from "../core/errors.ts";
import { MAX_DEFINITION_BYTES } from "../input/definitions.ts";

export const DEFAULT_DEFINITION_FILES = ["lambdas.json", "lambdas.yaml", "lambdas.yml"] as const;

export type Located = { ok: true; file: string } | { ok: false; message: string };

/** Pure: the default file given which of the candidates exist. */
export function chooseDefinitionFile(existing: readonly string[], command = "plan"): Located {
  const found = DEFAULT_DEFINITION_FILES.filter((f) => existing.includes(f));
  if (found.length === 1) return { ok: true, file: found[0] as string };
  if (found.length === 0) {
    return {
      ok: false,
      message: `no definition file here: expected one of ${DEFAULT_DEFINITION_FILES.join(", ")} (or name it: lambda-gitops ${command} FILE)`,
    };
  }
  return {
    ok: false,
    message: `${found.join(" and ")} both exist here: name the one you mean (e.g. lambda-gitops ${command} ${found[0]})`,
  };
}

/** FILE as given, or the default found in `cwd`. */
export async function locateDefinitionFile(file: string | undefined, command = "plan", cwd = "."): Promise<Located> {
  if (file !== undefined) return { ok: true, file };
  const existing: string[] = [];
  for (const candidate of DEFAULT_DEFINITION_FILES) {
    if (await isFile(join(cwd, candidate))) existing.push(candidate);
  }
  return chooseDefinitionFile(existing, command);
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

export async function readDefinition(
  file: string,
): Promise<{ ok: true; text: string } | { ok: false; message: string }> {
  try {
    const info = await stat(file);
    if (!info.isFile()) return { ok: false, message: "not a file" };
    if (info.size > MAX_DEFINITION_BYTES) {
      return { ok: false, message: `the file is ${info.size} bytes; the limit is ${MAX_DEFINITION_BYTES}` };
    }
    return { ok: true, text: await readFile(file, "utf8") };
  } catch (error) {
    const code = (error as { code?: string }).code;
    return {
      ok: false,
      message: code === "ENOENT" ? "no such file" : `cannot read: ${describeError(error)}`,
    };
  }
}
