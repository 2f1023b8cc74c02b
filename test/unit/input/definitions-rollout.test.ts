import { expect } from "chai";
import { formatProblem } from "../../../reconciler/core/errors.ts";
import { parseDefinition } from "../../../reconciler/input/definitions.ts";

const problems = (text: string, file = "lambdas.json") => {
  const result = parseDefinition(text, file);
  return result.ok ? [] : result.problems.map(formatProblem);
};

describe("parseDefinition: rollouts", () => {
  it("gives every function the file's rollout unless it has its own or opts out", () => {
    const text = `{
  "rollout": { "steps": [10, 50], "interval": "5m", "bake": "10m", "alarms": ["a-5xx"], "smoke": { "payload": { "ping": true } } },
  "lambdas": [
    { "name": "team-a-orders", "version": "1.5.0" },
    { "name": "team-a-batch", "version": "2.0.0", "rollout": "all-at-once" },
    { "name": "team-a-fast", "version": "2.0.0", "rollout": { "steps": [], "bake": "30s" } }
  ]
}`;
    const result = parseDefinition(text, "lambdas.json");
    expect(result.ok).to.equal(true);
    if (!result.ok) return;
    const [orders, batch, fast] = result.definition.functions;
    expect(orders!.rollout).to.deep.equal({
      steps: [10, 50],
      intervalSeconds: 300,
      bakeSeconds: 600,
      alarms: ["a-5xx"],
      smoke: { payload: { ping: true } },
    });
    expect(batch!.rollout).to.equal(undefined);
    expect(fast!.rollout).to.deep.equal({ steps: [], intervalSeconds: 0, bakeSeconds: 30, alarms: [] });
  });

  it("reports rollout problems with file, line, column and field, with did-you-mean", () => {
    const text = `{
  "rollout": { "steps": [10, 10], "intervl": "5m" },
  "lambdas": [
    { "name": "team-a-orders", "version": "1.5.0", "rollout": "all-at-one" },
    { "name": "team-a-batch", "version": "2.0.0", "rollout": { "steps": [5], "interval": "5 m" } }
  ]
}`;
    expect(problems(text)).to.deep.equal([
      'lambdas.json:2:14: rollout: missing required key "interval": how long each step holds (e.g. "5m")',
      'lambdas.json:2:30: rollout.steps[1]: rollout steps must be strictly increasing: 10 comes after 10',
      'lambdas.json:2:35: rollout: unknown key "intervl": did you mean "interval"?',
      'lambdas.json:4:63: lambdas[0].rollout: expected "all-at-once" or a rollout object with "steps": did you mean "all-at-once"?',
      'lambdas.json:5:90: lambdas[1].rollout.interval: "5 m" is not a duration: spaces are not accepted (write "30s", "5m", "1h" or "1h30m")',
    ]);
  });

  it("reports a rollout too long for the pipeline at the rollout, in YAML too", () => {
    const text = "rollout:\n  steps: [10, 50]\n  interval: 12h\nlambdas:\n  - name: team-a-orders\n    version: 1.5.0\n";
    const found = problems(text, "lambdas.yaml");
    expect(found).to.have.length(1);
    expect(found[0]).to.match(/^lambdas\.yaml:2:3: rollout: the rollout lasts 24h .* must fit in 23h/);
  });
});
