/**
 * Redaction of AWS error text before it leaves the account in a pull-request comment (anyone who can
 * open a pull request reads it): account ids other than the ones this deployment names, and ARNs in
 * other accounts, are replaced. An AccessDenied message quotes the caller's role ARN and the
 * resource's account; a reviewer needs the cause, not another account's layout. Pure.
 */

/** A 12-digit run that is not part of a longer word (a commit id, a hash). */
const ACCOUNT_ID = /(?<![0-9A-Za-z])\d{12}(?![0-9A-Za-z])/g;
/** arn:partition:service:region:account:resource (resource up to whitespace or a quote/bracket). */
const ARN = /arn:aws[a-z-]*:[a-z0-9-]*:[a-z0-9-]*:(\d{12})?:[^\s"'`<>()[\]{},;|]*/g;

export const REDACTED_ACCOUNT = "<account>";
export const REDACTED_ARN = "<ARN in another account>";

/** Replaces ARNs and account ids of accounts not in `keepAccounts`. */
export function redactAwsText(text: string, keepAccounts: readonly string[]): string {
  const keep = new Set(keepAccounts);
  return text
    .replace(ARN, (arn, account: string | undefined) =>
      account === undefined || keep.has(account) ? arn : REDACTED_ARN,
    )
    .replace(ACCOUNT_ID, (id) => (keep.has(id) ? id : REDACTED_ACCOUNT));
}
