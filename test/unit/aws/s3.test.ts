/**
 * The staging adapter (aws/s3.ts createStager) at the SDK boundary: SSE-KMS staging buckets work by
 * their default encryption, so the stager sends no encryption settings of its own.
 */
import { PutObjectCommand, S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import { createStager } from "../../../reconciler/aws/s3.ts";
import { kmsDenial } from "../../../reconciler/core/errors.ts";

describe("createStager (SDK boundary mocked)", () => {
  const client = new S3Client({ region: "eu-west-1", credentials: { accessKeyId: "a", secretAccessKey: "s" } });
  const s3 = mockClient(client);
  beforeEach(() => s3.reset());

  it("writes under lambda-gitops/<function>/<sha hex>.zip with no encryption settings (the bucket's default, SSE-KMS included, applies)", async () => {
    s3.on(PutObjectCommand).resolves({ ServerSideEncryption: "aws:kms", SSEKMSKeyId: "arn:aws:kms:eu-west-1:222222222222:key/k" });
    const bytes = new Uint8Array([80, 75, 5, 6]);
    const where = await createStager(client, "staging").stage("team-a-orders", "AAEC", bytes);
    expect(where).to.deep.equal({ bucket: "staging", key: "lambda-gitops/team-a-orders/000102.zip" });
    const input = s3.commandCalls(PutObjectCommand)[0]!.args[0].input;
    expect(Object.keys(input).sort()).to.deep.equal(["Body", "Bucket", "Key"]);
  });

  it("lets S3's KMS refusal through as an error the stage step recognises (it names the key and the role)", async () => {
    const key = "arn:aws:kms:eu-west-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    s3.on(PutObjectCommand).rejects(
      new S3ServiceException({
        name: "AccessDenied",
        message: `User: arn:aws:sts::222222222222:assumed-role/r/x is not authorized to perform: kms:GenerateDataKey on resource: ${key}`,
        $fault: "client",
        $metadata: { httpStatusCode: 403 },
      }),
    );
    const error = await createStager(client, "staging")
      .stage("team-a-orders", "AAEC", new Uint8Array([1]))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(kmsDenial(error)).to.deep.equal({ key });
  });
});
