import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import {
  type Downloader,
  downloadPackage,
  downloadWithFreshLink,
  sha256Base64,
} from "../../../reconciler/aws/download.ts";

describe("package download (real HTTP on loopback)", () => {
  let server: Server;
  let base: string;
  const body = Buffer.from("PK\u0005\u0006 the package bytes");

  before(async () => {
    server = createServer((req, res) => {
      if (req.url === "/ok") return res.end(body);
      if (req.url === "/big") {
        res.writeHead(200);
        // No content-length: the cap must apply while streaming.
        for (let i = 0; i < 64; i++) res.write(Buffer.alloc(1024, 1));
        return res.end();
      }
      if (req.url === "/declared-big") {
        res.writeHead(200, { "content-length": String(10 * 1024 * 1024) });
        return res.end(Buffer.alloc(16));
      }
      res.writeHead(403);
      res.end("AccessDenied");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("returns the bytes when their SHA-256 matches CodeSha256", async () => {
    const result = await downloadPackage(`${base}/ok`, { codeSha256: sha256Base64(body), maxBytes: 1024 });
    expect(result.ok && Buffer.from(result.bytes).equals(body)).to.equal(true);
  });

  it("refuses bytes whose hash differs, naming both hashes", async () => {
    const result = await downloadPackage(`${base}/ok`, {
      codeSha256: sha256Base64(Buffer.from("other")),
      maxBytes: 1024,
    });
    expect(result.ok).to.equal(false);
    if (!result.ok) expect(result.message).to.match(/does not match the source version's CodeSha256/);
  });

  it("stops reading past the size cap even without a content-length", async () => {
    const result = await downloadPackage(`${base}/big`, { codeSha256: "x", maxBytes: 4096 });
    expect(result).to.deep.equal({ ok: false, message: "package exceeds the 4096-byte limit" });
  });

  it("refuses a declared size over the cap before reading", async () => {
    const result = await downloadPackage(`${base}/declared-big`, { codeSha256: "x", maxBytes: 4096 });
    expect(result.ok).to.equal(false);
    if (!result.ok) expect(result.message).to.match(/10485760 bytes, over the 4096-byte limit/);
  });

  it("reports HTTP errors without echoing the presigned URL", async () => {
    const url = `${base}/expired?X-Amz-Signature=secret`;
    const result = await downloadPackage(url, { codeSha256: "x", maxBytes: 4096 });
    expect(result).to.deep.equal({ ok: false, message: "code download failed: HTTP 403", httpStatus: 403 });
  });
});

describe("downloadWithFreshLink: the 10-minute code link", () => {
  const expected = { codeSha256: "sha", maxBytes: 10 };
  /** A downloader that answers 403 for links issued before `validFrom`. */
  function recording(validFrom: number) {
    const urls: string[] = [];
    const download: Downloader = async (url) => {
      urls.push(url);
      return Number(url.split("#")[1]) >= validFrom
        ? { ok: true, bytes: new Uint8Array([1]) }
        : { ok: false, message: "code download failed: HTTP 403", httpStatus: 403 };
    };
    return { urls, download };
  }

  it("fetches the link when the transfer starts, not before", async () => {
    const order: string[] = [];
    const { download } = recording(0);
    const result = await downloadWithFreshLink(
      async () => {
        order.push("link");
        return "https://code#1";
      },
      async (url, e) => {
        order.push("download");
        return download(url, e);
      },
      expected,
    );
    expect(result.ok).to.equal(true);
    expect(order).to.deep.equal(["link", "download"]);
  });

  it("refetches the link once on 403 and succeeds with the fresh one", async () => {
    let issued = 0;
    const { urls, download } = recording(2);
    const result = await downloadWithFreshLink(async () => `https://code#${++issued}`, download, expected);
    expect(result.ok).to.equal(true);
    expect(urls).to.deep.equal(["https://code#1", "https://code#2"]);
  });

  it("gives up after the second 403, saying so", async () => {
    let issued = 0;
    const { urls, download } = recording(99);
    const result = await downloadWithFreshLink(async () => `https://code#${++issued}`, download, expected);
    expect(urls).to.have.length(2);
    expect(result).to.deep.include({ ok: false, httpStatus: 403 });
    if (!result.ok) expect(result.message).to.match(/also with a freshly fetched code link/);
  });

  it("does not refetch for other failures (a hash mismatch is not an expired link)", async () => {
    let issued = 0;
    const result = await downloadWithFreshLink(
      async () => `https://code#${++issued}`,
      async () => ({ ok: false, message: "hash mismatch" }),
      expected,
    );
    expect(issued).to.equal(1);
    expect(result).to.deep.equal({ ok: false, message: "hash mismatch" });
  });
});
