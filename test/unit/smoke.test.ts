import { expect } from "chai";
import { formatProblem } from "../../reconciler/errors.ts";
describe("smoke", () => {
  it("formats", () => {
    expect(formatProblem({ file: "a", line: 1, column: 2, path: "p", message: "m" })).to.equal("a:1:2: p: m");
  });
});
