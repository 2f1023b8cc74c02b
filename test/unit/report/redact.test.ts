/** redactAwsText (report/redact.ts): what a pull-request comment may show of AWS error text. */
import { expect } from "chai";
import { REDACTED_ACCOUNT, REDACTED_ARN, redactAwsText } from "../../../reconciler/report/redact.ts";

const OURS = "222222222222";

describe("report/redact: redactAwsText", () => {
  const rows: { title: string; text: string; expect: string }[] = [
    { title: "our account id is kept", text: `account ${OURS}`, expect: `account ${OURS}` },
    { title: "another account id is replaced", text: "account 999988887777.", expect: `account ${REDACTED_ACCOUNT}.` },
    {
      title: "an ARN in another account is replaced whole",
      text: "User: arn:aws:sts::999988887777:assumed-role/ops/me is not authorized",
      expect: `User: ${REDACTED_ARN} is not authorized`,
    },
    {
      title: "an ARN in our account is kept",
      text: `on resource: arn:aws:lambda:eu-west-1:${OURS}:function:team-a-x:LIVE because`,
      expect: `on resource: arn:aws:lambda:eu-west-1:${OURS}:function:team-a-x:LIVE because`,
    },
    {
      title: "other partitions too",
      text: "arn:aws-cn:iam::999988887777:role/x",
      expect: REDACTED_ARN,
    },
    { title: "an ARN without an account (S3) is kept", text: "arn:aws:s3:::bucket/key", expect: "arn:aws:s3:::bucket/key" },
    {
      title: "12 digits inside a hash or a longer number are not account ids",
      text: "sha a999988887777b and 1234567890123",
      expect: "sha a999988887777b and 1234567890123",
    },
    { title: "inside Markdown code spans", text: "`999988887777`", expect: `\`${REDACTED_ACCOUNT}\`` },
  ];
  for (const row of rows) {
    it(row.title, () => {
      expect(redactAwsText(row.text, [OURS])).to.equal(row.expect);
    });
  }
});
