import { expect } from "chai";
import { formatDuration, parseDuration } from "../../../reconciler/input/duration.ts";

describe("durations: 30s, 5m, 1h and combined forms", () => {
  const accepted: [string, number][] = [
    ["0s", 0],
    ["1s", 1],
    ["30s", 30],
    ["90s", 90],
    ["5m", 300],
    ["1h", 3600],
    ["24h", 86_400],
    ["1h30m", 5400],
    ["2m30s", 150],
    ["1h0m5s", 3605],
    ["1h5s", 3605],
    ["007s", 7],
  ];
  for (const [text, seconds] of accepted) {
    it(`reads ${JSON.stringify(text)} as ${seconds} s`, () => {
      expect(parseDuration(text)).to.deep.equal({ ok: true, seconds });
    });
  }

  const rejected: [string, RegExp][] = [
    ["", /empty/],
    ["30", /unit is missing.*"30s"/],
    ["1.5h", /fractions/],
    ["5M", /lower-case/],
    ["1d", /days are not a unit.*24h/],
    ["5 m", /spaces/],
    [" 5m", /spaces/],
    ["5min", /unknown unit/],
    ["5x", /unknown unit/],
    ["m5", /unexpected "m5"/],
    ["30s1m", /order h, m, s/],
    ["1m1m", /order h, m, s/],
    ["-5s", /unexpected/],
    ["12345678s", /too large/],
  ];
  for (const [text, why] of rejected) {
    it(`rejects ${JSON.stringify(text)}, saying why and showing the forms`, () => {
      const result = parseDuration(text);
      expect(result.ok).to.equal(false);
      if (!result.ok) {
        expect(result.message).to.match(why);
        if (text !== "") expect(result.message).to.include(JSON.stringify(text));
      }
    });
  }

  it("enforces a minimum when the caller asks for one (an interval is at least 1s)", () => {
    expect(parseDuration("0s", { min: 1 })).to.deep.equal({
      ok: false,
      message: '"0s" is too short: at least 1s',
    });
    expect(parseDuration("1s", { min: 1 })).to.deep.equal({ ok: true, seconds: 1 });
  });

  const formatted: [number, string][] = [
    [0, "0s"],
    [1, "1s"],
    [59, "59s"],
    [60, "1m"],
    [150, "2m30s"],
    [3600, "1h"],
    [3605, "1h0m5s"],
    [5400, "1h30m"],
    [86_400, "24h"],
    [0.2, "1s"],
  ];
  for (const [seconds, text] of formatted) {
    it(`writes ${seconds} s as ${text}, which reads back to the same whole seconds`, () => {
      expect(formatDuration(seconds)).to.equal(text);
      expect(parseDuration(text)).to.deep.equal({ ok: true, seconds: Math.ceil(seconds) });
    });
  }
});
