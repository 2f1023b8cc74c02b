import { expect } from "chai";
import {
  AwsCallError,
  errorMessage,
  errorName,
  httpStatusOf,
  renderPath,
} from "../../../reconciler/core/errors.ts";
import { createLogger, entryLogger } from "../../../reconciler/core/log.ts";
import { decodeUtf8 } from "../../../reconciler/core/text.ts";

class ResourceNotFoundException extends Error {
  override name = "ResourceNotFoundException";
  $metadata = { httpStatusCode: 404 };
}

describe("core helpers", () => {
  describe("errorName / errorMessage / httpStatusOf: whatever was thrown", () => {
    const sdk = new ResourceNotFoundException("Function not found");
    const rows: { thrown: unknown; name: string; message: string; status: number | undefined }[] = [
      { thrown: sdk, name: "ResourceNotFoundException", message: "Function not found", status: 404 },
      {
        thrown: new AwsCallError("GetAlias", sdk),
        name: "ResourceNotFoundException",
        message: "GetAlias failed: ResourceNotFoundException: Function not found",
        status: 404,
      },
      { thrown: new TypeError("x is undefined"), name: "TypeError", message: "x is undefined", status: undefined },
      { thrown: { name: "ThrottlingException", $metadata: { httpStatusCode: 429 } }, name: "ThrottlingException", message: "", status: 429 },
      { thrown: { name: 42, message: 7, $metadata: { httpStatusCode: "429" } }, name: "", message: "", status: undefined },
      { thrown: "a string", name: "", message: "", status: undefined },
      { thrown: undefined, name: "", message: "", status: undefined },
      { thrown: null, name: "", message: "", status: undefined },
    ];
    for (const { thrown, name, message, status } of rows) {
      it(`${thrown instanceof Error ? thrown.constructor.name : JSON.stringify(thrown)} -> "${name}", ${status}`, () => {
        expect(errorName(thrown)).to.equal(name);
        expect(errorMessage(thrown)).to.equal(message);
        expect(httpStatusOf(thrown)).to.equal(status);
      });
    }
  });

  describe("renderPath: one rendering for problems and zod issues", () => {
    const rows: [PropertyKey[], string][] = [
      [[], ""],
      [["lambdas", 3, "version"], "lambdas[3].version"],
      [["data", "inputArtifacts", 0, "location"], "data.inputArtifacts[0].location"],
      [["lambdas", 0, "a b"], 'lambdas[0]["a b"]'],
      [["allowed-prefixes"], '["allowed-prefixes"]'],
      [["__proto__"], "__proto__"],
    ];
    for (const [path, rendered] of rows) {
      it(`${JSON.stringify(path)} -> ${rendered || "(empty)"}`, () => {
        expect(renderPath(path)).to.equal(rendered);
      });
    }
  });

  describe("decodeUtf8", () => {
    it("decodes UTF-8 and refuses anything else, naming the file", () => {
      expect(decodeUtf8(new TextEncoder().encode("é ✓"), "lambdas.json")).to.deep.equal({ ok: true, text: "é ✓" });
      expect(decodeUtf8(new Uint8Array([0x7b, 0xff, 0x7d]), "lambdas.json")).to.deep.equal({
        ok: false,
        message: "lambdas.json: the file is not valid UTF-8",
      });
    });
  });

  describe("entryLogger", () => {
    const rows: [string | undefined, "info" | "warn", string[]][] = [
      [undefined, "info", ["info", "warn"]],
      [undefined, "warn", ["warn"]],
      ["DEBUG", "warn", ["debug", "info", "warn"]],
      ["nonsense", "warn", ["warn"]],
    ];
    for (const [env, fallback, expected] of rows) {
      it(`LOG_LEVEL=${env} (fallback ${fallback}) writes ${expected.join(", ")}`, () => {
        const lines: string[] = [];
        const log = entryLogger({ LOG_LEVEL: env }, fallback, (line) => lines.push(line));
        log.debug("d");
        log.info("i");
        log.warn("w");
        expect(lines.map((line) => (JSON.parse(line) as { level: string }).level)).to.deep.equal(expected);
      });
    }
    it("writes the same lines as createLogger", () => {
      const a: string[] = [];
      const b: string[] = [];
      entryLogger({}, "info", (line) => a.push(line.replace(/"time":"[^"]*"/, ""))).info("m", { jobId: "j" });
      createLogger({ write: (line) => b.push(line.replace(/"time":"[^"]*"/, "")) }).info("m", { jobId: "j" });
      expect(a).to.deep.equal(b);
    });
  });
});
