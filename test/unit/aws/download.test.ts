import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import { downloadPackage, sha256Base64 } from "../../../reconciler/aws/download.ts";
import { closedPort } from "../../support/net.ts";

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
    expect(result).to.deep.equal({ ok: false, message: "code download failed: HTTP 403" });
  });
});

describe("package download failures name the host and the cause, never the signed query", () => {
  it("a refused connection: host:port and ECONNREFUSED", async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}/bucket/key.zip?X-Amz-Signature=secret&X-Amz-Credential=AKIA`;
    const result = await downloadPackage(url, { codeSha256: "x", maxBytes: 4096 });
    expect(result).to.deep.equal({
      ok: false,
      message: `code download from 127.0.0.1:${port} failed: ECONNREFUSED`,
    });
  });

  it("an unknown host: the host name and ENOTFOUND (or the resolver's EAI_AGAIN offline)", async () => {
    const url = "http://no-such-host.invalid/key.zip?X-Amz-Signature=secret";
    const result = await downloadPackage(url, { codeSha256: "x", maxBytes: 4096 });
    expect(result.ok).to.equal(false);
    if (!result.ok) {
      expect(result.message).to.match(/^code download from no-such-host\.invalid failed: (ENOTFOUND|EAI_AGAIN)$/);
      expect(result.message).not.to.include("secret");
    }
  });
});
