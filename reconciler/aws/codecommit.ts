/**
 * Thin adapter over @aws-sdk/client-codecommit: read one file at a commit, post one pull-request
 * comment. The only module that imports the CodeCommit client.
 *
 * - `getFile`: a missing file or path is a value (`absent`), and so is a file CodeCommit refuses
 *   to serve (`FileTooLargeException`) or one that is not UTF-8 text; any other failure (access
 *   denied, throttling past the SDK's retries, KMS, unknown commit) is thrown as an AwsCallError,
 *   so it can never read as "the file is not there".
 * - `postComment`: the caller passes a deterministic `clientRequestToken`. Repeating an identical
 *   request returns the original comment (success, no second comment). CodeCommit's
 *   IdempotencyParameterMismatchException means "the token is not valid: either not in a valid
 *   format, or used in a previous request", so it is not proof of an earlier comment: the adapter
 *   looks for a comment with that token on the revision (GetCommentsForPullRequest). Found: a
 *   CommentTokenConflictError (already commented). Not found: an AwsCallError (a real failure).
 *   Every other error is thrown.
 */
import {
  CodeCommitClient,
  GetFileCommand,
  PostCommentForPullRequestCommand,
  paginateGetCommentsForPullRequest,
} from "@aws-sdk/client-codecommit";
import { AwsCallError, errorName, LambdaGitopsError } from "../core/errors.ts";
import { decodeUtf8 } from "../core/text.ts";

/** GetFile serves at most 6 MB per file (model `FileContent` max 6291456 bytes). */
export const GETFILE_MAX_BYTES = 6 * 1024 * 1024;

export type FileRead =
  | { kind: "found"; text: string; bytes: number }
  | { kind: "absent"; message: string }
  | { kind: "error"; message: string };

export interface CommentRequest {
  pullRequestId: string;
  repositoryName: string;
  /** The destination branch's tip (the event's `destinationCommit`). */
  beforeCommitId: string;
  /** The source branch's tip (the event's `sourceCommit`). */
  afterCommitId: string;
  content: string;
  /** Deterministic, so a redelivered event returns the original comment instead of a second one. */
  clientRequestToken: string;
}

export interface PostedComment {
  commentId: string;
}

export interface CodeCommitAdapter {
  getFile(repositoryName: string, commitSpecifier: string, filePath: string): Promise<FileRead>;
  postComment(request: CommentRequest): Promise<PostedComment>;
}

/**
 * The token was already used for this pull request with different parameters: a comment for this
 * exact revision exists (typically posted by an earlier delivery of the same event, whose plan
 * differed because the live state moved in between). Not retryable.
 */
export class CommentTokenConflictError extends LambdaGitopsError {
  readonly clientRequestToken: string;
  constructor(clientRequestToken: string, cause: unknown) {
    super(
      `PostCommentForPullRequest: clientRequestToken ${clientRequestToken} was already used with different parameters (IdempotencyParameterMismatchException): a comment for this pull-request revision already exists`,
      { cause },
    );
    this.clientRequestToken = clientRequestToken;
  }
}

const ABSENT = new Set(["FileDoesNotExistException", "PathDoesNotExistException"]);

/** Attempts per CodeCommit call (the SDK retries throttles and 5xx) before the error surfaces. */
export const CODECOMMIT_MAX_ATTEMPTS = 5;

export function createCodeCommitAdapter(
  client = new CodeCommitClient({ maxAttempts: CODECOMMIT_MAX_ATTEMPTS }),
): CodeCommitAdapter {
  return {
    async getFile(repositoryName, commitSpecifier, filePath) {
      let content: Uint8Array | undefined;
      try {
        const out = await client.send(new GetFileCommand({ repositoryName, commitSpecifier, filePath }));
        // The JS SDK decodes the API's base64 `fileContent`: these are the file's bytes.
        content = out.fileContent;
      } catch (error) {
        const name = errorName(error);
        if (ABSENT.has(name)) {
          return { kind: "absent", message: `${filePath} does not exist at commit ${commitSpecifier}` };
        }
        if (name === "FileTooLargeException") {
          return {
            kind: "error",
            message: `${filePath} is too large for CodeCommit's GetFile (limit ${GETFILE_MAX_BYTES} bytes, 6 MB)`,
          };
        }
        throw new AwsCallError("GetFile", error);
      }
      const bytes = content ?? new Uint8Array();
      const decoded = decodeUtf8(bytes, filePath);
      return decoded.ok
        ? { kind: "found", text: decoded.text, bytes: bytes.length }
        : { kind: "error", message: decoded.message };
    },
    async postComment(request) {
      try {
        const out = await client.send(
          new PostCommentForPullRequestCommand({
            pullRequestId: request.pullRequestId,
            repositoryName: request.repositoryName,
            beforeCommitId: request.beforeCommitId,
            afterCommitId: request.afterCommitId,
            content: request.content,
            clientRequestToken: request.clientRequestToken,
          }),
        );
        return { commentId: out.comment?.commentId ?? "" };
      } catch (error) {
        if (errorName(error) === "IdempotencyParameterMismatchException") {
          if (await commentWithToken(client, request)) {
            throw new CommentTokenConflictError(request.clientRequestToken, error);
          }
          // Not an earlier comment of ours: the token itself was refused.
          throw new AwsCallError(
            "PostCommentForPullRequest (no comment with this clientRequestToken exists on the revision)",
            error,
          );
        }
        throw new AwsCallError("PostCommentForPullRequest", error);
      }
    },
  };
}

/** Is there a comment on this pull-request revision that was posted with the request's token? */
async function commentWithToken(client: CodeCommitClient, request: CommentRequest): Promise<boolean> {
  try {
    const pages = paginateGetCommentsForPullRequest(
      { client },
      {
        pullRequestId: request.pullRequestId,
        repositoryName: request.repositoryName,
        beforeCommitId: request.beforeCommitId,
        afterCommitId: request.afterCommitId,
      },
    );
    for await (const page of pages) {
      for (const thread of page.commentsForPullRequestData ?? []) {
        if ((thread.comments ?? []).some((c) => c.clientRequestToken === request.clientRequestToken)) return true;
      }
    }
    return false;
  } catch (error) {
    throw new AwsCallError("GetCommentsForPullRequest", error);
  }
}
