import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import { createLambdaAdapter, INVOKE_EXCERPT_CHARS } from "../../../reconciler/aws/lambda.ts";
import { AwsCallError } from "../../../reconciler/core/errors.ts";

describe("Lambda adapter invoke (SDK boundary mocked): the rollout's smoke invocation", () => {
  const client = new LambdaClient({ region: "us-east-1", credentials: { accessKeyId: "a", secretAccessKey: "b" } });
  const lambda = mockClient(client);
  const adapter = createLambdaAdapter(client);
  const bytes = (text: string) => new TextEncoder().encode(text);
  beforeEach(() => lambda.reset());

  it("invokes the version alias synchronously with the JSON payload; 200 without FunctionError is success", async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, ExecutedVersion: "7", Payload: bytes('{"pong":true}') as never });
    const outcome = await adapter.invoke("team-a-orders", "1-5-0", { ping: true });
    expect(outcome).to.deep.equal({ ok: true, statusCode: 200, executedVersion: "7" });
    const input = lambda.commandCalls(InvokeCommand)[0]!.args[0].input;
    expect(input.FunctionName).to.equal("team-a-orders");
    expect(input.Qualifier).to.equal("1-5-0");
    expect(input.InvocationType).to.equal("RequestResponse");
    expect(new TextDecoder().decode(input.Payload as Uint8Array)).to.equal('{"ping":true}');
  });

  it("a function error (status 200 with FunctionError) is a failure carrying a short excerpt", async () => {
    const answer = JSON.stringify({ errorMessage: "boom", trace: "x".repeat(5000) });
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: "Unhandled", Payload: bytes(answer) as never });
    const outcome = await adapter.invoke("f", "1-5-0", {});
    expect(outcome.ok).to.equal(false);
    if (outcome.ok) return;
    expect(outcome.functionError).to.equal("Unhandled");
    expect(outcome.excerpt.startsWith('{"errorMessage":"boom"')).to.equal(true);
    expect(outcome.excerpt.length).to.equal(INVOKE_EXCERPT_CHARS + 1); // cut, with an ellipsis
  });

  it("a status other than 200 is a failure even without FunctionError", async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 202, Payload: bytes("") as never });
    const outcome = await adapter.invoke("f", "1-5-0", null);
    expect(outcome).to.deep.equal({
      ok: false,
      statusCode: 202,
      functionError: undefined,
      executedVersion: undefined,
      excerpt: "",
    });
    expect(new TextDecoder().decode(lambda.commandCalls(InvokeCommand)[0]!.args[0].input.Payload as Uint8Array)).to.equal("null");
  });

  it("the call itself failing (no permission) throws AwsCallError", async () => {
    lambda.on(InvokeCommand).rejects(
      Object.assign(new Error("denied"), { name: "AccessDeniedException", $metadata: { httpStatusCode: 403 } }),
    );
    const error = await adapter.invoke("f", "1-5-0", {}).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(AwsCallError);
    expect((error as AwsCallError).operation).to.equal("Invoke");
  });
});
