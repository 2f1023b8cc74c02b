import { crc32 } from "node:zlib";
import { expect } from "chai";
import fc from "fast-check";
import { deflateSync, strToU8, zipSync } from "fflate";
import {
  DEFAULT_ZIP_LIMITS,
  type ExtractResult,
  extractFile,
  normaliseWantedPath,
  type ZipLimits,
} from "../../../reconciler/input/artifact.ts";

const DEFINITION = strToU8(JSON.stringify({ lambdas: [{ name: "orders", version: "1.2.3" }] }));
const text = (s: string) => strToU8(s);

function limits(overrides: Partial<ZipLimits>): ZipLimits {
  return { ...DEFAULT_ZIP_LIMITS, ...overrides };
}

function expectOk(result: ExtractResult, path: string, bytes: Uint8Array): void {
  if (!result.ok) expect.fail(`expected ok, got ${result.reason}: ${result.message}`);
  expect(result.path).to.equal(path);
  expect(Buffer.from(result.bytes).equals(Buffer.from(bytes))).to.equal(true);
}

function expectFailure(result: ExtractResult, reason: string, ...fragments: string[]): void {
  if (result.ok) expect.fail(`expected ${reason}, got ok for ${result.path}`);
  expect(result.reason, result.message).to.equal(reason);
  for (const fragment of fragments) expect(result.message).to.include(fragment);
}

// ---------------------------------------------------------------------------------------------
// A hand-written zip writer for the artifacts fflate refuses or cannot express: duplicate names,
// unsafe names, flags and sizes that lie.

interface RawEntry {
  name: string;
  /** Uncompressed content; deflated unless method is 0. */
  content?: Uint8Array;
  method?: 0 | 8;
  /** Bytes written as the entry's data, instead of compressing `content`. */
  payload?: Uint8Array;
  /** Declared uncompressed size, instead of content's length. */
  size?: number;
  crc?: number;
  flags?: number;
}

function rawZip(entries: RawEntry[], options: { declaredEntries?: number } = {}): Uint8Array {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const content = e.content ?? new Uint8Array(0);
    const method = e.method ?? 8;
    const data = Buffer.from(e.payload ?? (method === 8 ? deflateSync(content) : content));
    const name = Buffer.from(e.name, "utf8");
    const flags = (e.flags ?? 0) | 0x800; // names are UTF-8
    const crc = e.crc ?? crc32(content);
    const size = e.size ?? content.length;

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc >>> 0, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, data);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc >>> 0, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);

    offset += local.length + name.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  const count = options.declaredEntries ?? entries.length;
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(count, 8);
  end.writeUInt16LE(count, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...locals, directory, end]));
}

/**
 * A raw deflate stream of `1 + 258 * matches` zero bytes, written directly (one fixed-Huffman block:
 * a literal 0, then length-258/distance-1 matches), so a 50 MB bomb costs ~300 KB and no inflating.
 */
function deflatedZeros(matches: number): Uint8Array {
  const out = new Uint8Array(Math.ceil((3 + 8 + 13 * matches + 7) / 8));
  let bit = 0;
  const put = (value: number, count: number) => {
    for (let i = 0; i < count; i++, bit++) if ((value >> i) & 1) out[bit >> 3]! |= 1 << (bit & 7);
  };
  const code = (value: number, length: number) => {
    for (let i = length - 1; i >= 0; i--, bit++) if ((value >> i) & 1) out[bit >> 3]! |= 1 << (bit & 7);
  };
  put(1, 1); // BFINAL
  put(1, 2); // BTYPE = fixed Huffman
  code(0x30, 8); // literal 0
  for (let i = 0; i < matches; i++) {
    code(0xc5, 8); // length code 285 = 258 bytes
    code(0, 5); // distance code 0 = distance 1
  }
  code(0, 7); // end of block
  return out;
}

// ---------------------------------------------------------------------------------------------

describe("artifact", () => {
  describe("normaliseWantedPath", () => {
    it("accepts relative POSIX paths and strips a leading ./", () => {
      expect(normaliseWantedPath("lambdas.json")).to.deep.equal({ ok: true, path: "lambdas.json" });
      expect(normaliseWantedPath("./lambdas.json")).to.deep.equal({ ok: true, path: "lambdas.json" });
      expect(normaliseWantedPath("././deploy//prod/lambdas.json")).to.deep.equal({
        ok: true,
        path: "deploy/prod/lambdas.json",
      });
    });

    const rejected: Array<[string, string]> = [
      ["", "empty"],
      ["  ", "empty"],
      ["./", "names a directory"],
      ["deploy/", "names a directory"],
      ["/lambdas.json", "is absolute"],
      ["C:\\repo\\lambdas.json", "backslash"],
      ["C:/repo/lambdas.json", "is absolute"],
      ["deploy\\lambdas.json", "backslash"],
      ["../lambdas.json", '".." segment'],
      ["deploy/../../lambdas.json", '".." segment'],
      ["lambdas.json\0", "NUL"],
    ];
    for (const [input, fragment] of rejected) {
      it(`rejects ${JSON.stringify(input)}`, () => {
        const result = normaliseWantedPath(input);
        if (result.ok) expect.fail(`accepted as ${result.path}`);
        expect(result.message).to.include(fragment);
      });
    }
  });

  describe("extractFile", () => {
    it("extracts the definition file at the root", async () => {
      const zip = zipSync({
        "lambdas.json": DEFINITION,
        "src/index.ts": text("export {};\n"),
        "README.md": text("x"),
      });
      expectOk(await extractFile(zip, "lambdas.json"), "lambdas.json", DEFINITION);
    });

    it("extracts the definition file from a subfolder, deflated or stored", async () => {
      const tree = { deploy: { prod: { "lambdas.json": DEFINITION }, dev: { "lambdas.json": text("{}") } } };
      expectOk(
        await extractFile(zipSync(tree), "deploy/prod/lambdas.json"),
        "deploy/prod/lambdas.json",
        DEFINITION,
      );
      expectOk(
        await extractFile(zipSync(tree, { level: 0 }), "deploy/prod/lambdas.json"),
        "deploy/prod/lambdas.json",
        DEFINITION,
      );
    });

    it("accepts ./lambdas.json as the wanted path", async () => {
      const zip = zipSync({ "lambdas.json": DEFINITION });
      expectOk(await extractFile(zip, "./lambdas.json"), "lambdas.json", DEFINITION);
    });

    it("extracts an empty file", async () => {
      const empty = new Uint8Array(0);
      expectOk(await extractFile(zipSync({ "lambdas.json": empty }), "lambdas.json"), "lambdas.json", empty);
    });

    it("ignores directory entries", async () => {
      const zip = rawZip([
        { name: "deploy/" },
        { name: "lambdas.json/" },
        { name: "deploy/lambdas.json", content: DEFINITION },
      ]);
      expectOk(await extractFile(zip, "deploy/lambdas.json"), "deploy/lambdas.json", DEFINITION);
      expectFailure(
        await extractFile(zip, "lambdas.json"),
        "not-found",
        '"lambdas.json"',
        '"deploy/lambdas.json"',
      );
    });

    it("rejects an unsafe wanted path before reading the zip", async () => {
      const zip = zipSync({ "lambdas.json": DEFINITION });
      expectFailure(
        await extractFile(zip, "../lambdas.json"),
        "unsafe-path",
        '"../lambdas.json"',
        '".." segment',
      );
    });

    it("reports a missing file with similarly named definition files", async () => {
      const zip = zipSync({
        "lambdas.yaml": text("x"),
        "deploy/prod/lambdas.json": text("{}"),
        "Lambdas.JSON": text("{}"),
        "README.md": text("x"),
        "src/lambda.ts": text("x"),
      });
      const result = await extractFile(zip, "lambdas.json");
      expectFailure(
        result,
        "not-found",
        '"lambdas.json" not found',
        '"Lambdas.JSON", "deploy/prod/lambdas.json", "lambdas.yaml"',
      );
      if (!result.ok) {
        expect(result.message).not.to.include("README");
        expect(result.message).not.to.include("lambda.ts");
      }
    });

    it("lists at most five suggestions", async () => {
      const files: Record<string, Uint8Array> = {};
      for (const env of ["a", "b", "c", "d", "e", "f", "g"]) files[`deploy/${env}/lambdas.json`] = text("{}");
      const result = await extractFile(zipSync(files), "lambdas.json");
      expectFailure(result, "not-found", '"deploy/a/lambdas.json"', '"deploy/e/lambdas.json"', "and 2 more");
      if (!result.ok) expect(result.message).not.to.include("deploy/f/");
    });

    it("reports a missing file without suggestions", async () => {
      const zip = zipSync({ "README.md": text("x"), "src/index.ts": text("x") });
      expectFailure(
        await extractFile(zip, "deploy/lambdas.json"),
        "not-found",
        '"deploy/lambdas.json"',
        "2 files",
      );
    });

    it("rejects data that is not a zip", async () => {
      const result = await extractFile(
        text("hello, this is plain text and not a zip archive\n"),
        "lambdas.json",
      );
      expectFailure(result, "not-a-zip", "not a readable zip", "input artifact");
    });

    it("rejects an empty buffer", async () => {
      expectFailure(await extractFile(new Uint8Array(0), "lambdas.json"), "not-a-zip", "empty");
    });

    it("rejects a truncated zip", async () => {
      const zip = zipSync({ "lambdas.json": DEFINITION, "README.md": text("x") });
      expectFailure(
        await extractFile(zip.subarray(0, zip.length - 10), "lambdas.json"),
        "not-a-zip",
        "not a readable zip",
      );
      expectFailure(await extractFile(zip.subarray(0, zip.length / 2), "lambdas.json"), "not-a-zip");
    });

    it("rejects a truncated central directory", async () => {
      const zip = rawZip(
        [
          { name: "lambdas.json", content: DEFINITION },
          { name: "README.md", content: text("x") },
        ],
        { declaredEntries: 3 },
      );
      expectFailure(
        await extractFile(zip, "lambdas.json"),
        "not-a-zip",
        "central directory is truncated or damaged",
      );
    });

    const unsafeNames: Array<[string, string]> = [
      ["../evil.sh", '".." segment'],
      ["deploy/../../evil.sh", '".." segment'],
      ["/etc/passwd", "absolute path"],
      ["C:/Windows/evil.dll", "absolute path"],
      ["C:\\Windows\\evil.dll", "backslash"],
      ["deploy\\..\\evil.sh", "backslash"],
      ["evil\0.sh", "NUL"],
    ];
    for (const [name, why] of unsafeNames) {
      it(`refuses the whole artifact for an entry named ${JSON.stringify(name)}`, async () => {
        const zip = rawZip([
          { name: "lambdas.json", content: DEFINITION },
          { name, content: text("#!/bin/sh\n") },
        ]);
        expectFailure(
          await extractFile(zip, "lambdas.json"),
          "unsafe-path",
          JSON.stringify(name),
          why,
          "refusing",
        );
      });
    }

    it("rejects more entries than the limit, before reading them", async () => {
      const files: Record<string, Uint8Array> = { "lambdas.json": DEFINITION };
      for (let i = 0; i < 5; i++) files[`src/${i}.ts`] = text("x");
      const result = await extractFile(zipSync(files), "lambdas.json", limits({ maxEntries: 5 }));
      expectFailure(result, "too-many-entries", "6 entries", "limit of 5");
      expectOk(
        await extractFile(zipSync(files), "lambdas.json", limits({ maxEntries: 6 })),
        "lambdas.json",
        DEFINITION,
      );
    });

    it("rejects a zip over maxZipBytes", async () => {
      const zip = zipSync({ "lambdas.json": DEFINITION });
      expectFailure(
        await extractFile(zip, "lambdas.json", limits({ maxZipBytes: 100 })),
        "too-large",
        "limit for zip",
      );
    });

    it("rejects a wanted file whose declared size is over the limit", async () => {
      const zip = zipSync({ "lambdas.json": new Uint8Array(2000).fill(32), "README.md": text("x") });
      expectFailure(
        await extractFile(zip, "lambdas.json", limits({ maxFileBytes: 1000 })),
        "too-large",
        '"lambdas.json" is 2.0 KiB',
        "1000 bytes limit",
      );
      expectOk(await extractFile(zip, "README.md", limits({ maxFileBytes: 1000 })), "README.md", text("x"));
    });

    it("rejects declared sizes summing over maxTotalUncompressedBytes", async () => {
      const zip = zipSync({
        "a.bin": new Uint8Array(600),
        "b.bin": new Uint8Array(600),
        "lambdas.json": DEFINITION,
      });
      expectFailure(
        await extractFile(zip, "lambdas.json", limits({ maxTotalUncompressedBytes: 1000 })),
        "too-large",
        "in total",
        '"b.bin"',
      );
    });

    describe("zip bomb: a 50 MB entry of zeros, ~300 KB compressed", () => {
      const matches = 203_250; // 1 + 258 * 203_250 = 52_438_501 bytes
      const bombSize = 1 + 258 * matches;
      let payload: Uint8Array;
      before(() => {
        payload = deflatedZeros(matches);
      });

      it("is refused from its honest header without inflating it", async () => {
        const zip = rawZip([{ name: "lambdas.json", payload, size: bombSize, crc: 0 }]);
        expectFailure(
          await extractFile(zip, "lambdas.json"),
          "too-large",
          '"lambdas.json" is 50.0 MiB',
          "1.0 MiB limit",
        );
      });

      it("is aborted while streaming when the header lies about its size", async () => {
        const zip = rawZip([{ name: "lambdas.json", payload, size: 1000, crc: 0 }]);
        const before = process.memoryUsage().arrayBuffers;
        const result = await extractFile(zip, "lambdas.json");
        expectFailure(
          result,
          "corrupt",
          '"lambdas.json" holds more data than the 1000 bytes its header declares',
        );
        expect(process.memoryUsage().arrayBuffers - before).to.be.below(16 * 1024 * 1024);
      });

      it("is aborted when the lying header declares exactly maxFileBytes", async () => {
        const zip = rawZip([{ name: "lambdas.json", payload, size: 4096, crc: 0 }]);
        const result = await extractFile(zip, "lambdas.json", limits({ maxFileBytes: 4096 }));
        if (result.ok) expect.fail("expected a failure");
        expect(result.reason).to.be.oneOf(["corrupt", "too-large"]);
        expect(result.message).to.include('"lambdas.json"');
      });
    });

    it("rejects a stored entry whose header lies about its sizes", async () => {
      const zip = rawZip([
        { name: "lambdas.json", method: 0, payload: DEFINITION, size: DEFINITION.length + 1 },
      ]);
      expectFailure(await extractFile(zip, "lambdas.json"), "corrupt", "sizes disagree");
    });

    it("rejects a wanted file that decompresses to less than declared", async () => {
      const zip = rawZip([{ name: "lambdas.json", content: DEFINITION, size: DEFINITION.length + 50 }]);
      expectFailure(await extractFile(zip, "lambdas.json"), "corrupt", '"lambdas.json" holds less data');
    });

    it("rejects a wanted file with a wrong CRC-32", async () => {
      const zip = rawZip([{ name: "lambdas.json", content: DEFINITION, crc: crc32(DEFINITION) ^ 1 }]);
      expectFailure(
        await extractFile(zip, "lambdas.json"),
        "corrupt",
        '"lambdas.json" fails its CRC-32 check',
      );
    });

    it("rejects a wanted file whose deflate data is garbage", async () => {
      const zip = rawZip([
        { name: "lambdas.json", content: DEFINITION, payload: new Uint8Array(40).fill(0xff) },
      ]);
      expectFailure(
        await extractFile(zip, "lambdas.json"),
        "corrupt",
        '"lambdas.json" cannot be decompressed',
      );
    });

    it("rejects an unsupported compression method", async () => {
      const zip = zipSync({ "lambdas.json": DEFINITION }, { level: 0 });
      const patched = Buffer.from(zip);
      const central = patched.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
      patched.writeUInt16LE(12, central + 10); // bzip2
      expectFailure(await extractFile(patched, "lambdas.json"), "corrupt", "compression method 12");
    });

    it("rejects duplicate entries of the wanted path", async () => {
      const zip = rawZip([
        { name: "lambdas.json", content: DEFINITION },
        { name: "README.md", content: text("x") },
        { name: "lambdas.json", content: text('{"lambdas":[]}') },
      ]);
      expectFailure(
        await extractFile(zip, "lambdas.json"),
        "corrupt",
        '"lambdas.json" appears more than once',
      );
    });

    it("treats ./lambdas.json and lambdas.json entries as duplicates", async () => {
      const zip = rawZip([
        { name: "./lambdas.json", content: DEFINITION },
        { name: "lambdas.json", content: DEFINITION },
      ]);
      expectFailure(await extractFile(zip, "lambdas.json"), "corrupt", "appears more than once");
    });

    it("rejects encrypted entries", async () => {
      const traditional = rawZip([{ name: "lambdas.json", content: DEFINITION, flags: 0x1 }]);
      expectFailure(
        await extractFile(traditional, "lambdas.json"),
        "encrypted",
        '"lambdas.json" is encrypted',
      );
      const strong = rawZip([
        { name: "lambdas.json", content: DEFINITION },
        { name: "secret.bin", content: text("x"), flags: 0x41 },
      ]);
      expectFailure(await extractFile(strong, "lambdas.json"), "encrypted", "strong encryption");
    });

    it("never throws on damaged zips (fuzz)", async () => {
      const zip = zipSync({
        "lambdas.json": DEFINITION,
        "deploy/prod/lambdas.json": DEFINITION,
        "src/index.ts": text("export const handler = async () => 'ok';\n"),
      });
      const reasons = [
        "not-a-zip",
        "too-large",
        "too-many-entries",
        "unsafe-path",
        "not-found",
        "corrupt",
        "encrypted",
      ];
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(fc.nat(zip.length - 1), fc.integer({ min: 0, max: 255 })), {
            minLength: 1,
            maxLength: 4,
          }),
          fc.nat(zip.length),
          async (patches, cut) => {
            const damaged = Uint8Array.from(zip);
            for (const [at, value] of patches) damaged[at] = value;
            for (const candidate of [damaged, damaged.subarray(cut)]) {
              const result = await extractFile(
                candidate,
                "lambdas.json",
                limits({ maxFileBytes: 64 * 1024 }),
              );
              if (!result.ok) {
                expect(reasons).to.include(result.reason);
                expect(result.message).to.be.a("string").and.not.equal("");
              }
            }
          },
        ),
        { numRuns: 300 },
      );
    });
  });
});
