/** Direct upload or staging (aws/request-size.ts): decided by the size of the request Lambda limits. */
import { expect } from "chai";
import {
  base64Length,
  fitsDirectUpload,
  MAX_DIRECT_ZIP_BYTES,
  UPDATE_CODE_REQUEST_LIMIT,
  UPDATE_CODE_REQUEST_OVERHEAD,
} from "../../../reconciler/aws/request-size.ts";

const MiB = 1024 * 1024;

describe("aws/request-size: fitsDirectUpload (UpdateFunctionCode's request limit, base64 of the zip)", () => {
  const rows: [string, number, boolean][] = [
    ["an empty zip", 0, true],
    ["1 MiB", MiB, true],
    ["49 MiB", 49 * MiB, true],
    ["the largest zip that fits", MAX_DIRECT_ZIP_BYTES, true],
    ["one byte more than that", MAX_DIRECT_ZIP_BYTES + 1, false],
    ["exactly 50 MiB (fits as bytes, not once encoded)", 50 * MiB, false],
    ["50 MiB minus 100 bytes (encoded plus the JSON around it is over)", 50 * MiB - 100, false],
  ];
  for (const [title, bytes, fits] of rows) {
    it(`${title}: ${fits ? "direct" : "staged"}`, () => {
      expect(fitsDirectUpload(bytes)).to.equal(fits);
    });
  }
  it("the limit is AWS's 69,905,067 bytes: 50 MiB encoded (rounded up)", () => {
    expect(UPDATE_CODE_REQUEST_LIMIT).to.equal(Math.ceil((50 * MiB * 4) / 3));
    expect(base64Length(3)).to.equal(4);
    expect(base64Length(4)).to.equal(8);
    expect(base64Length(MAX_DIRECT_ZIP_BYTES) + UPDATE_CODE_REQUEST_OVERHEAD).to.be.below(UPDATE_CODE_REQUEST_LIMIT);
  });
});
