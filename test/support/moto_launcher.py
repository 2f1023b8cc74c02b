#!/usr/bin/env python3
"""In-process moto server for the lambda-gitops integration tests.

Usage: python3 moto_launcher.py [--port 0] [--host 127.0.0.1] [--verbose]

Starts moto's WSGI app (the same app `moto_server` runs) on a real loopback socket, prints exactly one
line ``READY <port>`` on stdout once the socket accepts connections, and exits when stdin closes (the
parent died or called stop()) or on SIGTERM/SIGINT.

moto runs *in this process* on purpose: the middleware below needs moto's backends (to serve a function
version's zip bytes, to resolve which account an access key belongs to, to reset state). Around the moto
app sits a thin WSGI middleware that makes moto behave like AWS where the reconciler depends on it,
without any test-only branch in production code:

1. Code download   - GetFunction's Code.Location becomes a URL this server actually serves.
2. RevisionId      - function configurations get a RevisionId that changes when code/config change.
3. Error names     - Lambda's ConflictException becomes ResourceConflictException (what AWS returns).
4. Job results     - CodePipeline job APIs (PutJobSuccessResult, ...) that moto lacks are recorded.
5. Call log        - every request that is not a launcher route (/_moto/*) is recorded with service, account,
                     operation and HTTP status, for assertions; that includes the CodePipeline job calls of 4.
6. CodeCommit      - moto has no GetFile or pull-request comments: GetFile is served from an in-memory store
                     (files put through /_moto/codecommit/files), PostCommentForPullRequest is recorded and is
                     idempotent by clientRequestToken like AWS (same token + same parameters -> the original
                     comment, nothing recorded; same token + other parameters -> IdempotencyParameterMismatchException);
                     GetCommentsForPullRequest lists a revision's comments (tokened ones) with their tokens.
7. Timestamps      - CodePipeline GetPipeline/ListPipelines timestamps become epoch seconds, as AWS sends them.
8. Lambda updates  - opt-in (POST /_moto/lambda/behaviour), as real Lambda behaves and moto does not:
                     * update window: after UpdateFunctionCode/UpdateFunctionConfiguration, $LATEST reports
                       LastUpdateStatus InProgress for `updateWindowSeconds`, and a second UpdateFunctionCode,
                       UpdateFunctionConfiguration or PublishVersion meanwhile gets ResourceConflictException (409,
                       "The operation cannot be performed at this time. An update is in progress for resource: <arn>");
                     * deprecated runtimes: UpdateFunctionCode on a function whose runtime is in `deprecatedRuntimes`
                       gets InvalidParameterValueException (400, "The runtime parameter of <runtime> is no longer
                       supported for creating or updating AWS Lambda functions..."), while UpdateFunctionConfiguration
                       (e.g. to a supported runtime) works.
9. Referenced versions - DeleteFunction with a version Qualifier that an alias references (primary or additional
                     weight) is refused with ResourceConflictException (409), as AWS does ("You can't delete a
                     version that an alias references", DeleteFunction API reference); moto deletes it.
10. Lambda Invoke  - answered from a table the test sets (moto would need Docker to run the function); recorded.
11. Execution history - moto has no ListPipelineExecutions or ListActionExecutions: both are answered from a
                     table the test sets per account and pipeline (POST /_moto/codepipeline/history), in the
                     API's shapes: summaries as given (the most recent first, as AWS lists them), action
                     executions filtered by `filter.pipelineExecutionId`, both paged by maxResults/nextToken
                     (at most 100); timestamps as epoch seconds. A pipeline moto does not know is
                     PipelineNotFoundException; one without a table has run nothing (empty lists).
12. CloudTrail     - moto has no LookupEvents: answered from a table the test sets (POST /_moto/cloudtrail/events,
                     each with its `resourceName`), filtered by a ResourceName or EventName lookup attribute;
                     empty by default, as for an account where nobody changed anything.

Launcher-owned routes (never forwarded to moto, never in the call log):

  GET  /_moto/health                  -> {"ok": true}
  GET  /_moto/calls                   -> [call, ...]        POST /_moto/calls/reset
  GET  /_moto/jobs                    -> [job result, ...]  POST /_moto/jobs/fail-next {"count": N}
  POST /_moto/jobs/lose-next-answer {"count": N}  (record the result, then answer 500: a lost answer)
  POST /_moto/jobs/define {"jobId", "data"}  (what GetJobDetails answers for that job; others: JobNotFoundException)
  (concern 11) CreateEventSourceMapping / ListEventSourceMappings keep a mapping's qualified FunctionArn (moto
  resolves aliases to versions and lists by exact name); ListProvisionedConcurrencyConfigs answers none.
  POST /_moto/executions/status {"pipelineExecutionId", "status"}  (what GetPipelineExecution answers; an execution
                                      a defined job names is InProgress by default, others PipelineExecutionNotFound)
  GET  /_moto/code/<account>/<region>/<function>/<version>  -> the version's zip bytes
  GET  /_moto/downloads               -> [{"account","region","functionName","version","status"}, ...]
  POST /_moto/codecommit/files {"repositoryName","commitSpecifier","filePath","content"}  (what GetFile serves)
  GET  /_moto/codecommit/comments     -> [comment, ...]     (PostCommentForPullRequest calls that created one)
  POST /_moto/lambda/behaviour {"updateWindowSeconds": 1.5, "deprecatedRuntimes": ["nodejs12.x"]}  (concern 8; reset-all turns it off)
  POST /_moto/reset-all               -> resets moto's backends and every launcher log
  POST /_moto/lambda/invoke-answers {"functionName","qualifier"?,"statusCode"?,"functionError"?,"payload"?}
  GET  /_moto/lambda/invocations      -> [invocation, ...]  (Invoke calls answered from that table)
  POST /_moto/codepipeline/history {"account"?, "pipelineName", "pipelineExecutionSummaries", "actionExecutionDetails"}
  POST /_moto/cloudtrail/events {"account"?, "events": [{"resourceName", "EventName", "EventTime", "CloudTrailEvent", ...}]}
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import logging
import os
import re
import signal
import sys
import threading
import time
import uuid
from http import HTTPStatus
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs, quote

EXIT_MOTO_MISSING = 3
INSTALL_HINT = 'pip install "moto[server]"   (moto >= 5 with Flask/Werkzeug, for python3)'
DEFAULT_ACCOUNT_ID = "123456789012"


def import_moto() -> Any:
    """Import moto's server pieces, or exit with a recognisable message the TS side turns into MotoMissingError."""
    try:
        import moto  # noqa: F401
        from moto.server import DomainDispatcherApplication, create_backend_app
    except ImportError as error:
        print(f"MOTO_MISSING: cannot import moto's server ({error}). Install it with: {INSTALL_HINT}", file=sys.stderr)
        sys.stderr.flush()
        sys.exit(EXIT_MOTO_MISSING)
    major = int(str(getattr(moto, "__version__", "0")).split(".")[0] or 0)
    if major < 5:
        print(f"MOTO_MISSING: moto {moto.__version__} is too old; need >= 5. Install: {INSTALL_HINT}", file=sys.stderr)
        sys.exit(EXIT_MOTO_MISSING)
    return DomainDispatcherApplication(create_backend_app)


# --------------------------------------------------------------------------------------------------
# Shared launcher state (one lock; the server is threaded)
# --------------------------------------------------------------------------------------------------


class HarnessState:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.host = "127.0.0.1"
        self.port = 0
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.calls: list[dict[str, Any]] = []
            self.job_results: list[dict[str, Any]] = []
            self.job_definitions: dict[str, Any] = {}
            # Concern 11: event-source mappings as Lambda keeps them (qualified FunctionArn), in order.
            self.event_source_mappings: list[dict[str, Any]] = []
            # pipelineExecutionId -> status GetPipelineExecution answers (default for a defined job's: InProgress).
            self.execution_status: dict[str, str] = {}
            self.fail_next_job_results = 0
            self.lose_next_job_answers = 0
            self.downloads: list[dict[str, Any]] = []
            # (account, region, function) -> number of successful code/config updates of $LATEST.
            self.latest_generation: dict[tuple[str, str, str], int] = {}
            # (repositoryName, commitSpecifier, filePath) -> file bytes served by CodeCommit GetFile.
            self.codecommit_files: dict[tuple[str, str, str], bytes] = {}
            # Comments created by PostCommentForPullRequest, in order; and token -> (parameters, response).
            self.codecommit_comments: list[dict[str, Any]] = []
            self.comment_tokens: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
            # Concern 8 (opt-in): Lambda's update window and deprecated runtimes.
            self.update_window_seconds = 0.0
            self.deprecated_runtimes: set[str] = set()
            # (account, region, function) -> time.monotonic() until which $LATEST is InProgress.
            self.updating_until: dict[tuple[str, str, str], float] = {}
            # Concern 11: (account, pipeline) -> {"pipelineExecutionSummaries": [...], "actionExecutionDetails": [...]}.
            self.pipeline_history: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = {}
            # Concern 12: account -> CloudTrail events LookupEvents serves.
            self.trail_events: dict[str, list[dict[str, Any]]] = {}


STATE = HarnessState()


# --------------------------------------------------------------------------------------------------
# Small WSGI helpers
# --------------------------------------------------------------------------------------------------

StartResponse = Callable[..., Any]


def json_response(
    start_response: StartResponse,
    status: int,
    payload: Any,
    content_type: str = "application/json",
    extra_headers: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    body = json.dumps(payload).encode("utf-8")
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))] + (extra_headers or [])
    start_response(f"{status} {HTTPStatus(status).phrase}", headers)
    return [body]


def read_body(environ: dict[str, Any]) -> bytes:
    """Read the request body once and put it back, so moto (which reads it again) still sees it."""
    cached = environ.get("harness.body")
    if cached is not None:
        return cached
    stream = environ.get("wsgi.input")
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if stream is None:
        body = b""
    elif length > 0:
        body = stream.read(length)
    elif environ.get("wsgi.input_terminated"):  # chunked upload: werkzeug lets us read to EOF
        body = stream.read()
    else:
        body = b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    environ["harness.body"] = body
    return body


def json_body(environ: dict[str, Any]) -> dict[str, Any]:
    try:
        parsed = json.loads(read_body(environ) or b"{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def path_segments(environ: dict[str, Any]) -> list[str]:
    """PATH_INFO is already percent-decoded by the WSGI server; Lambda names never contain '/'."""
    return [segment for segment in environ.get("PATH_INFO", "").split("/") if segment]


# --------------------------------------------------------------------------------------------------
# Who is calling: service, region and account from the SigV4 Authorization header
# --------------------------------------------------------------------------------------------------

CREDENTIAL_SCOPE = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request")


def credential_scope(environ: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(access key, region, service) from the SigV4 header:
    'AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/lambda/aws4_request, SignedHeaders=..., Signature=...'."""
    match = CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    if not match:
        return None, None, None
    return match.group(1), match.group(3), match.group(4).lower()


def account_for(environ: dict[str, Any]) -> str:
    """The account moto will act in, decided exactly like moto's BaseResponse.get_current_account:
    MOTO_ACCOUNT_ID env, then the x-moto-account-id header, then the account that owns the access key
    (STS AssumeRole registers the returned key under the role ARN's account), then the default account."""
    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"]
    if environ.get("HTTP_X_MOTO_ACCOUNT_ID"):
        return environ["HTTP_X_MOTO_ACCOUNT_ID"]
    from moto.core.responses import BaseResponse
    from moto.iam.models import get_account_id_from

    match = BaseResponse.access_key_regex.search(environ.get("HTTP_AUTHORIZATION", ""))
    return get_account_id_from(match.group(1)) if match else DEFAULT_ACCOUNT_ID


# --------------------------------------------------------------------------------------------------
# Operation names (call log)
# --------------------------------------------------------------------------------------------------

# Lambda is a REST API: the operation follows from method + path after "/<api-version>/". "*" = any one segment.
LAMBDA_ROUTES: list[tuple[str, tuple[str, ...], str]] = [
    ("GET", ("functions",), "ListFunctions"),
    ("POST", ("functions",), "CreateFunction"),
    ("GET", ("functions", "*"), "GetFunction"),
    ("DELETE", ("functions", "*"), "DeleteFunction"),
    ("GET", ("functions", "*", "configuration"), "GetFunctionConfiguration"),
    ("PUT", ("functions", "*", "configuration"), "UpdateFunctionConfiguration"),
    ("PUT", ("functions", "*", "code"), "UpdateFunctionCode"),
    ("GET", ("functions", "*", "versions"), "ListVersionsByFunction"),
    ("POST", ("functions", "*", "versions"), "PublishVersion"),
    ("GET", ("functions", "*", "aliases"), "ListAliases"),
    ("POST", ("functions", "*", "aliases"), "CreateAlias"),
    ("GET", ("functions", "*", "aliases", "*"), "GetAlias"),
    ("PUT", ("functions", "*", "aliases", "*"), "UpdateAlias"),
    ("DELETE", ("functions", "*", "aliases", "*"), "DeleteAlias"),
    ("POST", ("functions", "*", "invocations"), "Invoke"),
    ("POST", ("functions", "*", "invoke-async"), "InvokeAsync"),
    ("GET", ("functions", "*", "policy"), "GetPolicy"),
    ("POST", ("functions", "*", "policy"), "AddPermission"),
    ("DELETE", ("functions", "*", "policy", "*"), "RemovePermission"),
    ("GET", ("functions", "*", "concurrency"), "GetFunctionConcurrency"),
    ("PUT", ("functions", "*", "concurrency"), "PutFunctionConcurrency"),
    ("DELETE", ("functions", "*", "concurrency"), "DeleteFunctionConcurrency"),
    ("GET", ("functions", "*", "provisioned-concurrency"), "GetProvisionedConcurrencyConfig"),
    ("PUT", ("functions", "*", "provisioned-concurrency"), "PutProvisionedConcurrencyConfig"),
    ("DELETE", ("functions", "*", "provisioned-concurrency"), "DeleteProvisionedConcurrencyConfig"),
    ("GET", ("functions", "*", "code-signing-config"), "GetFunctionCodeSigningConfig"),
    ("PUT", ("functions", "*", "code-signing-config"), "PutFunctionCodeSigningConfig"),
    ("DELETE", ("functions", "*", "code-signing-config"), "DeleteFunctionCodeSigningConfig"),
    ("GET", ("functions", "*", "url"), "GetFunctionUrlConfig"),
    ("POST", ("functions", "*", "url"), "CreateFunctionUrlConfig"),
    ("PUT", ("functions", "*", "url"), "UpdateFunctionUrlConfig"),
    ("DELETE", ("functions", "*", "url"), "DeleteFunctionUrlConfig"),
    ("GET", ("functions", "*", "urls"), "ListFunctionUrlConfigs"),
    ("GET", ("functions", "*", "event-invoke-config"), "GetFunctionEventInvokeConfig"),
    ("PUT", ("functions", "*", "event-invoke-config"), "PutFunctionEventInvokeConfig"),
    ("POST", ("functions", "*", "event-invoke-config"), "UpdateFunctionEventInvokeConfig"),
    ("DELETE", ("functions", "*", "event-invoke-config"), "DeleteFunctionEventInvokeConfig"),
    ("GET", ("functions", "*", "event-invoke-config", "list"), "ListFunctionEventInvokeConfigs"),
    ("GET", ("functions", "*", "runtime-management-config"), "GetRuntimeManagementConfig"),
    ("PUT", ("functions", "*", "runtime-management-config"), "PutRuntimeManagementConfig"),
    ("GET", ("functions", "*", "recursion-config"), "GetFunctionRecursionConfig"),
    ("PUT", ("functions", "*", "recursion-config"), "PutFunctionRecursionConfig"),
    ("GET", ("tags", "*"), "ListTags"),
    ("POST", ("tags", "*"), "TagResource"),
    ("DELETE", ("tags", "*"), "UntagResource"),
    ("GET", ("event-source-mappings",), "ListEventSourceMappings"),
    ("POST", ("event-source-mappings",), "CreateEventSourceMapping"),
    ("GET", ("event-source-mappings", "*"), "GetEventSourceMapping"),
    ("PUT", ("event-source-mappings", "*"), "UpdateEventSourceMapping"),
    ("DELETE", ("event-source-mappings", "*"), "DeleteEventSourceMapping"),
    ("GET", ("layers",), "ListLayers"),
    ("GET", ("layers", "*", "versions"), "ListLayerVersions"),
    ("POST", ("layers", "*", "versions"), "PublishLayerVersion"),
    ("GET", ("layers", "*", "versions", "*"), "GetLayerVersion"),
    ("DELETE", ("layers", "*", "versions", "*"), "DeleteLayerVersion"),
    ("GET", ("account-settings",), "GetAccountSettings"),
]


def lambda_operation(method: str, segments: list[str], query: dict[str, list[str]]) -> str:
    rest = segments[1:]  # drop the API version ("2015-03-31", "2017-10-31", ...)
    for route_method, pattern, operation in LAMBDA_ROUTES:
        if route_method == method and len(pattern) == len(rest):
            if all(p == "*" or p == s for p, s in zip(pattern, rest)):
                if operation == "GetProvisionedConcurrencyConfig" and "List" in query:
                    return "ListProvisionedConcurrencyConfigs"
                return operation
    return "Unknown"


S3_BUCKET_SUBRESOURCES = {
    "location": "BucketLocation",
    "versioning": "BucketVersioning",
    "policy": "BucketPolicy",
    "tagging": "BucketTagging",
    "acl": "BucketAcl",
    "encryption": "BucketEncryption",
    "lifecycle": "BucketLifecycleConfiguration",
    "cors": "BucketCors",
    "notification": "BucketNotificationConfiguration",
}
S3_OBJECT_OPERATIONS = {"GET": "GetObject", "PUT": "PutObject", "HEAD": "HeadObject", "DELETE": "DeleteObject"}
S3_TAGGING_OPERATIONS = {"GET": "GetObjectTagging", "PUT": "PutObjectTagging", "DELETE": "DeleteObjectTagging"}


def s3_operation(method: str, segments: list[str], query: dict[str, list[str]], environ: dict[str, Any]) -> str:
    """Best-effort S3 operation names for path-style requests (the SDK uses path style for IP endpoints)."""
    if not segments:
        return "ListBuckets" if method == "GET" else "Unknown"
    if len(segments) == 1:
        for sub, name in S3_BUCKET_SUBRESOURCES.items():
            if sub in query:
                return {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}.get(method, "Unknown") + name
        if method == "POST" and "delete" in query:
            return "DeleteObjects"
        if method == "GET":
            if query.get("list-type") == ["2"]:
                return "ListObjectsV2"
            return "ListObjectVersions" if "versions" in query else "ListObjects"
        return {"PUT": "CreateBucket", "DELETE": "DeleteBucket", "HEAD": "HeadBucket"}.get(method, "Unknown")
    if method == "POST" and "uploads" in query:
        return "CreateMultipartUpload"
    if method == "POST" and "uploadId" in query:
        return "CompleteMultipartUpload"
    if method == "PUT" and "partNumber" in query:
        return "UploadPart"
    if method == "PUT" and environ.get("HTTP_X_AMZ_COPY_SOURCE"):
        return "CopyObject"
    if "tagging" in query:
        return S3_TAGGING_OPERATIONS.get(method, "Unknown")
    return S3_OBJECT_OPERATIONS.get(method, "Unknown")


def query_action(environ: dict[str, Any], query: dict[str, list[str]]) -> str:
    """Query protocol (STS, IAM): Action=... in the form body, or in the query string for GETs."""
    if query.get("Action"):
        return query["Action"][0]
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        form = parse_qs(read_body(environ).decode("utf-8", "replace"))
        if form.get("Action"):
            return form["Action"][0]
    return "Unknown"


def operation_for(environ: dict[str, Any], service: str, segments: list[str], query: dict[str, list[str]]) -> str:
    method = environ.get("REQUEST_METHOD", "GET")
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return target.split(".", 1)[-1]
    if len(segments) >= 4 and segments[0] == "service" and segments[2] == "operation":
        return segments[3]  # Smithy RPCv2 CBOR: /service/<Service>/operation/<Operation>
    if service == "lambda":
        return lambda_operation(method, segments, query)
    if service == "s3":
        return s3_operation(method, segments, query, environ)
    return query_action(environ, query)


# --------------------------------------------------------------------------------------------------
# Concern 5: call log
# --------------------------------------------------------------------------------------------------


def record_call(environ: dict[str, Any]) -> dict[str, Any]:
    """Append one call-log entry; its "status" is filled in when the response starts."""
    _, region, service = credential_scope(environ)
    segments = path_segments(environ)
    if service is None:
        service = "moto-api" if segments[:1] == ["moto-api"] else "unknown"
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    entry = {
        "method": environ.get("REQUEST_METHOD", "GET"),
        "path": environ.get("PATH_INFO", ""),
        "query": environ.get("QUERY_STRING", ""),
        "target": environ.get("HTTP_X_AMZ_TARGET"),
        "service": service,
        "region": region,
        "account": account_for(environ),
        "operation": operation_for(environ, service, segments, query),
        "status": None,
    }
    with STATE.lock:
        STATE.calls.append(entry)
    return entry


# --------------------------------------------------------------------------------------------------
# Concern 4: CodePipeline job API (moto has none)
# --------------------------------------------------------------------------------------------------

CODEPIPELINE_TARGET_PREFIX = "CodePipeline_20150709."
JOB_RESULT_OPERATIONS = {"PutJobSuccessResult", "PutJobFailureResult"}
JOB_OPERATIONS = JOB_RESULT_OPERATIONS | {"AcknowledgeJob", "GetJobDetails", "GetPipelineExecution"}
AMZ_JSON_11 = "application/x-amz-json-1.1"


def codepipeline_job_operation(environ: dict[str, Any]) -> str | None:
    target = environ.get("HTTP_X_AMZ_TARGET") or ""
    if target.startswith(CODEPIPELINE_TARGET_PREFIX):
        operation = target[len(CODEPIPELINE_TARGET_PREFIX):]
        if operation in JOB_OPERATIONS:
            return operation
    return None


def handle_codepipeline_job(environ: dict[str, Any], start_response: StartResponse, operation: str) -> list[bytes]:
    """Answer the job API ourselves. Job results are recorded in order so tests can assert exactly what
    the reconciler reported; fail-next lets tests exercise retried result reporting."""
    body = json_body(environ)
    if operation == "GetPipelineExecution":
        return get_pipeline_execution(start_response, body)
    job_id = str(body.get("jobId", ""))
    if operation in JOB_RESULT_OPERATIONS:
        with STATE.lock:
            failing = STATE.fail_next_job_results > 0
            finished = any(r["jobId"] == job_id for r in STATE.job_results)
            losing = not failing and not finished and STATE.lose_next_job_answers > 0
            if failing:
                STATE.fail_next_job_results -= 1
            elif not finished:
                STATE.job_results.append({"operation": operation, "jobId": job_id, "body": body})
            if losing:
                STATE.lose_next_job_answers -= 1
        if failing or losing:
            # lose-next-answer: the result IS recorded, but the caller never hears so (it retries).
            error = {"__type": "InternalServerError", "message": "injected by moto_launcher"}
            return json_response(start_response, 500, error, AMZ_JSON_11, [("X-Amzn-ErrorType", "InternalServerError")])
        if finished:
            # Like CodePipeline: a job that already has a result is no longer in progress.
            error = {"__type": "InvalidJobStateException", "message": f"Job {job_id} is not in progress"}
            return json_response(
                start_response, 400, error, AMZ_JSON_11, [("X-Amzn-ErrorType", "InvalidJobStateException")]
            )
        return json_response(start_response, 200, {}, AMZ_JSON_11)
    if operation == "AcknowledgeJob":
        return json_response(start_response, 200, {"status": "InProgress"}, AMZ_JSON_11)
    with STATE.lock:
        data = STATE.job_definitions.get(job_id)
    if data is None:
        # Like CodePipeline: a job it never started is not found (the reconciler must then make no call).
        error = {"__type": "JobNotFoundException", "message": f"Job {job_id} not found"}
        return json_response(start_response, 400, error, AMZ_JSON_11, [("X-Amzn-ErrorType", "JobNotFoundException")])
    details = {"id": job_id, "accountId": account_for(environ), "data": data}
    return json_response(start_response, 200, {"jobDetails": details}, AMZ_JSON_11)


def get_pipeline_execution(start_response: StartResponse, body: dict[str, Any]) -> list[bytes]:
    """moto runs no pipeline executions: an execution a defined job names is InProgress unless a test
    set its status (POST /_moto/executions/status); any other is PipelineExecutionNotFoundException."""
    pipeline = str(body.get("pipelineName", ""))
    execution = str(body.get("pipelineExecutionId", ""))
    with STATE.lock:
        status = STATE.execution_status.get(execution)
        known = any(
            isinstance(data, dict)
            and (data.get("pipelineContext") or {}).get("pipelineExecutionId") == execution
            and (data.get("pipelineContext") or {}).get("pipelineName") == pipeline
            for data in STATE.job_definitions.values()
        )
    if status is None and not known:
        error = {
            "__type": "PipelineExecutionNotFoundException",
            "message": f"Pipeline execution {execution} of {pipeline} not found",
        }
        return json_response(
            start_response, 400, error, AMZ_JSON_11, [("X-Amzn-ErrorType", "PipelineExecutionNotFoundException")]
        )
    answer = {
        "pipelineExecution": {
            "pipelineName": pipeline,
            "pipelineExecutionId": execution,
            "status": status or "InProgress",
        }
    }
    return json_response(start_response, 200, answer, AMZ_JSON_11)


# --------------------------------------------------------------------------------------------------
# Concern 6: CodeCommit GetFile and pull-request comments (moto has neither)
# --------------------------------------------------------------------------------------------------

CODECOMMIT_TARGET_PREFIX = "CodeCommit_20150413."
CODECOMMIT_OPERATIONS = {"GetFile", "PostCommentForPullRequest", "GetCommentsForPullRequest"}
# CodeCommit's limit for one comment (CommentContentSizeLimitExceededException beyond it).
MAX_COMMENT_LENGTH = 10240
COMMENT_PARAMETERS = ("pullRequestId", "repositoryName", "beforeCommitId", "afterCommitId", "content", "location")


def codecommit_operation(environ: dict[str, Any]) -> str | None:
    target = environ.get("HTTP_X_AMZ_TARGET") or ""
    if target.startswith(CODECOMMIT_TARGET_PREFIX):
        operation = target[len(CODECOMMIT_TARGET_PREFIX):]
        if operation in CODECOMMIT_OPERATIONS:
            return operation
    return None


def codecommit_error(start_response: StartResponse, name: str, message: str, status: int = 400) -> list[bytes]:
    return json_response(
        start_response, status, {"__type": name, "message": message}, AMZ_JSON_11, [("X-Amzn-ErrorType", name)]
    )


def handle_codecommit(environ: dict[str, Any], start_response: StartResponse, operation: str) -> list[bytes]:
    body = json_body(environ)
    if operation == "GetFile":
        return codecommit_get_file(start_response, body)
    if operation == "GetCommentsForPullRequest":
        return codecommit_get_comments(start_response, body)
    return codecommit_post_comment(environ, start_response, body)


def codecommit_get_comments(start_response: StartResponse, body: dict[str, Any]) -> list[bytes]:
    """The comments posted on one pull-request revision (one page), each with its clientRequestToken."""
    key = tuple(str(body.get(k, "")) for k in ("pullRequestId", "beforeCommitId", "afterCommitId"))
    with STATE.lock:
        comments = [
            response["comment"]
            for _, response in STATE.comment_tokens.values()
            if (response["pullRequestId"], response["beforeCommitId"], response["afterCommitId"]) == key
        ]
    data = [
        {
            "pullRequestId": key[0],
            "repositoryName": body.get("repositoryName"),
            "beforeCommitId": key[1],
            "afterCommitId": key[2],
            "comments": comments,
        }
    ] if comments else []
    return json_response(start_response, 200, {"commentsForPullRequestData": data}, AMZ_JSON_11)


def codecommit_get_file(start_response: StartResponse, body: dict[str, Any]) -> list[bytes]:
    """Like AWS: `fileContent` is base64 on the wire (the JS SDK hands back the decoded bytes)."""
    repository, commit, path = (str(body.get(k, "")) for k in ("repositoryName", "commitSpecifier", "filePath"))
    with STATE.lock:
        data = STATE.codecommit_files.get((repository, commit, path))
    if data is None:
        return codecommit_error(
            start_response, "FileDoesNotExistException", f"The specified file {path} does not exist at {commit}."
        )
    blob_id = hashlib.sha1(b"blob %d\x00" % len(data) + data).hexdigest()  # git's blob ID
    payload = {
        "commitId": commit,
        "blobId": blob_id,
        "filePath": path,
        "fileMode": "NORMAL",
        "fileSize": len(data),
        "fileContent": base64.b64encode(data).decode("ascii"),
    }
    return json_response(start_response, 200, payload, AMZ_JSON_11)


def codecommit_post_comment(environ: dict[str, Any], start_response: StartResponse, body: dict[str, Any]) -> list[bytes]:
    for required in ("pullRequestId", "repositoryName", "beforeCommitId", "afterCommitId"):
        if not body.get(required):
            name = {"pullRequestId": "PullRequestIdRequiredException", "repositoryName": "RepositoryNameRequiredException"}
            return codecommit_error(start_response, name.get(required, "CommitIdRequiredException"), f"{required} is required.")
    content = body.get("content")
    if not content:
        return codecommit_error(start_response, "CommentContentRequiredException", "The comment is empty.")
    if len(content) > MAX_COMMENT_LENGTH:
        return codecommit_error(
            start_response,
            "CommentContentSizeLimitExceededException",
            f"The comment is too large. Comments are limited to {MAX_COMMENT_LENGTH:,} characters.",
        )
    if body["beforeCommitId"] == body["afterCommitId"]:
        return codecommit_error(
            start_response,
            "BeforeCommitIdAndAfterCommitIdAreSameException",
            "The before commit ID and the after commit ID are the same.",
        )
    parameters = {key: body.get(key) for key in COMMENT_PARAMETERS}
    token = body.get("clientRequestToken")
    account = account_for(environ)
    with STATE.lock:
        if token and token in STATE.comment_tokens:
            previous, response = STATE.comment_tokens[token]
            if previous != parameters:
                return codecommit_error(
                    start_response,
                    "IdempotencyParameterMismatchException",
                    "The client request token is not valid. Either the token is not in a valid format, or the token "
                    "has been used in a previous request and cannot be reused.",
                )
            return json_response(start_response, 200, response, AMZ_JSON_11)
        comment_id = str(uuid.uuid4())
        now = time.time()
        comment = {
            "commentId": comment_id,
            "content": content,
            "authorArn": f"arn:aws:iam::{account}:root",
            "creationDate": now,
            "lastModifiedDate": now,
            "deleted": False,
            "clientRequestToken": token,
            "callerReactions": [],
            "reactionCounts": {},
        }
        response = {
            "repositoryName": body["repositoryName"],
            "pullRequestId": body["pullRequestId"],
            "beforeCommitId": body["beforeCommitId"],
            "afterCommitId": body["afterCommitId"],
            "comment": comment,
        }
        if body.get("location"):
            response["location"] = body["location"]
        if token:
            STATE.comment_tokens[token] = (parameters, response)
        STATE.codecommit_comments.append(
            {"commentId": comment_id, "account": account, "clientRequestToken": token, **parameters}
        )
    return json_response(start_response, 200, response, AMZ_JSON_11)


# --------------------------------------------------------------------------------------------------
# Concern 7: CodePipeline timestamps
# --------------------------------------------------------------------------------------------------

# moto answers GetPipeline's metadata (created, updated) and ListPipelines' created/updated as ISO-8601
# strings; AWS's JSON 1.1 protocol sends epoch seconds, and the SDK refuses anything else.
CODEPIPELINE_TIMESTAMP_OPERATIONS = {"GetPipeline", "ListPipelines"}
CODEPIPELINE_TIMESTAMP_FIELDS = ("created", "updated", "pollingDisabledAt")


def epoch_seconds(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    from datetime import datetime, timezone

    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def patch_codepipeline_timestamps(
    operation: str, status: int, headers: list[tuple[str, str]], body: bytes
) -> tuple[list[tuple[str, str]], bytes]:
    if status >= 400 or not body:
        return headers, body
    try:
        payload = json.loads(body)
    except ValueError:
        return headers, body
    if not isinstance(payload, dict):
        return headers, body
    records = [payload.get("metadata")] if operation == "GetPipeline" else list(payload.get("pipelines") or [])
    for record in records:
        if isinstance(record, dict):
            for field in CODEPIPELINE_TIMESTAMP_FIELDS:
                if field in record:
                    record[field] = epoch_seconds(record[field])
    return headers, json.dumps(payload).encode("utf-8")


# --------------------------------------------------------------------------------------------------
# Concern 1: code download
# --------------------------------------------------------------------------------------------------


def code_location(account: str, region: str, function_name: str, version: str) -> str:
    """Unlike a presigned URL this never expires, and for $LATEST it serves the code current at download time."""
    parts = [quote(p, safe="") for p in (account, region, function_name, version)]
    return f"http://{STATE.host}:{STATE.port}/_moto/code/" + "/".join(parts)


def rewrite_code_location(payload: dict[str, Any]) -> None:
    """moto's GetFunction answers Code.Location = https://awslambda-<region>-tasks.s3...amazonaws.com/<key>,
    which nothing serves. AWS answers a presigned URL the caller downloads with a plain GET, which is what the
    reconciler does to copy code across accounts; point it at our /_moto/code route instead."""
    code = payload.get("Code")
    config = payload.get("Configuration") or {}
    if not isinstance(code, dict) or code.get("RepositoryType", "S3") != "S3" or "FunctionArn" not in config:
        return
    account, region, function_name = arn_parts(config["FunctionArn"])
    code["Location"] = code_location(account, region, function_name, str(config.get("Version", "$LATEST")))


def serve_code(start_response: StartResponse, segments: list[str]) -> list[bytes]:
    """GET /_moto/code/<account>/<region>/<function>/<version>: the zip bytes of that exact version.
    Uses `code_bytes`: published versions are shallow copies of $LATEST and share its `code` dict, so
    code["ZipFile"] is overwritten by later UpdateFunctionCode calls, while `code_bytes` is per version."""
    from moto.awslambda.models import lambda_backends

    account, region, function_name, version = segments[2:6]  # PATH_INFO is already percent-decoded
    record = {"account": account, "region": region, "functionName": function_name, "version": version, "status": 200}
    try:
        fn = lambda_backends[account][region].get_function(function_name, version)
        data = bytes(getattr(fn, "code_bytes", b"") or b"")
    except Exception:  # moto raises its own not-found errors; any failure is a 404 like an expired URL
        data = None
    if not data:
        record["status"] = 404
        with STATE.lock:
            STATE.downloads.append(record)
        message = f"no code for {function_name}:{version} in {account}/{region}"
        return json_response(start_response, 404, {"message": message})
    with STATE.lock:
        STATE.downloads.append(record)
    start_response("200 OK", [("Content-Type", "application/zip"), ("Content-Length", str(len(data)))])
    return [data]


# --------------------------------------------------------------------------------------------------
# Concern 2: RevisionId on function configurations
# --------------------------------------------------------------------------------------------------

# Everything that makes up a function version's state as far as RevisionId is concerned.
REVISION_FIELDS = (
    "CodeSha256", "CodeSize", "Runtime", "Handler", "Role", "MemorySize", "Timeout", "Description",
    "Environment", "Layers", "VpcConfig", "TracingConfig", "Architectures", "EphemeralStorage",
    "PackageType", "ImageConfigResponse", "LastModified", "KMSKeyArn", "DeadLetterConfig",
    "FileSystemConfigs", "LoggingConfig", "SnapStart",
)
CONFIG_OPERATIONS = {
    "GetFunctionConfiguration", "UpdateFunctionCode", "UpdateFunctionConfiguration", "PublishVersion", "CreateFunction",
}
LATEST_UPDATING_OPERATIONS = {"UpdateFunctionCode", "UpdateFunctionConfiguration"}


def arn_parts(function_arn: str) -> tuple[str, str, str]:
    """arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>] -> (account, region, name)."""
    parts = function_arn.split(":")
    return parts[4], parts[3], parts[6]


def revision_id(config: dict[str, Any]) -> str:
    """moto never sets a function RevisionId (it answers null). AWS changes it on every code or config
    change, and the reconciler passes it back as an optimistic lock, so it must be present and move.
    Deterministic uuid-formatted hash of the version's state. moto does not bump LastModified on
    UpdateFunctionCode/UpdateFunctionConfiguration, so $LATEST also mixes in a per-function update counter."""
    account, region, name = arn_parts(config["FunctionArn"])
    version = str(config.get("Version", "$LATEST"))
    with STATE.lock:
        generation = STATE.latest_generation.get((account, region, name), 0) if version == "$LATEST" else 0
    material = {"function": f"{account}:{region}:{name}", "version": version, "generation": generation}
    material.update({field: config.get(field) for field in REVISION_FIELDS})
    digest = hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode("utf-8")).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def with_revision_id(config: Any) -> None:
    if isinstance(config, dict) and not config.get("RevisionId") and config.get("FunctionArn"):
        config["RevisionId"] = revision_id(config)


def bump_latest_generation(payload: dict[str, Any]) -> None:
    account, region, name = arn_parts(payload["FunctionArn"])
    with STATE.lock:
        key = (account, region, name)
        STATE.latest_generation[key] = STATE.latest_generation.get(key, 0) + 1


def inject_revision_ids(operation: str, payload: dict[str, Any]) -> None:
    if operation == "GetFunction":
        with_revision_id(payload.get("Configuration"))
    elif operation in CONFIG_OPERATIONS:
        with_revision_id(payload)
    elif operation in ("ListVersionsByFunction", "ListFunctions"):
        for config in payload.get("Versions") or payload.get("Functions") or []:
            with_revision_id(config)


# --------------------------------------------------------------------------------------------------
# Concern 3: Lambda error names
# --------------------------------------------------------------------------------------------------

# moto name -> AWS name. CreateAlias on an existing alias: moto says ConflictException, AWS (and the
# Lambda API model the SDK deserialises with) says ResourceConflictException, HTTP 409.
LAMBDA_ERROR_RENAMES = {"ConflictException": "ResourceConflictException"}


def rewrite_error_name(headers: list[tuple[str, str]], body: bytes) -> tuple[list[tuple[str, str]], bytes]:
    """The SDK takes the error name from X-Amzn-ErrorType first, then the body's code/__type: fix both."""
    new_headers = []
    for name, value in headers:
        if name.lower() == "x-amzn-errortype" and value.split(":")[0] in LAMBDA_ERROR_RENAMES:
            value = LAMBDA_ERROR_RENAMES[value.split(":")[0]]
        new_headers.append((name, value))
    try:
        payload = json.loads(body or b"{}")
    except ValueError:
        return new_headers, body
    if isinstance(payload, dict) and payload.get("__type") in LAMBDA_ERROR_RENAMES:
        renamed = LAMBDA_ERROR_RENAMES[payload["__type"]]
        # AWS's body is {"Type": "User", "message": ...}; keep __type too for readers that look there.
        payload = {"Type": "User", "message": payload.get("message", ""), "__type": renamed}
        body = json.dumps(payload).encode("utf-8")
    return new_headers, body


# --------------------------------------------------------------------------------------------------
# Concern 9: a version an alias references cannot be deleted
# --------------------------------------------------------------------------------------------------


def refuse_referenced_version(environ: dict[str, Any]) -> str | None:
    """The refusal message when DeleteFunction names a version some alias routes to, else None."""
    from moto.awslambda.models import lambda_backends

    qualifier = (parse_qs(environ.get("QUERY_STRING", "")).get("Qualifier") or [""])[0]
    segments = path_segments(environ)
    if not re.fullmatch(r"[0-9]+", qualifier) or len(segments) != 3:
        return None
    function_name = segments[2].split(":function:")[-1]
    _, region, _ = credential_scope(environ)
    try:
        aliases = lambda_backends[account_for(environ)][region or "us-east-1"].list_aliases(function_name)
    except Exception:
        return None  # let moto answer (not found, ...)
    referencing = []
    for alias in aliases:
        routing = alias.routing_config or {}
        weights = routing.get("AdditionalVersionWeights") or {} if isinstance(routing, dict) else {}
        if alias.function_version == qualifier or qualifier in weights:
            referencing.append(alias.name)
    if not referencing:
        return None
    return f"Unable to delete version because the following aliases reference it: [{', '.join(sorted(referencing))}]"


# --------------------------------------------------------------------------------------------------
# Concern 10: Lambda Invoke (rollout smoke tests; moto runs functions in Docker, which tests do not have)
# --------------------------------------------------------------------------------------------------
# Invoke is answered here from a table the test sets (POST /_moto/lambda/invoke-answers): per function
# name and qualifier ("*" = any qualifier), the status code, FunctionError and payload to answer. An
# Invoke with no answer defined fails like a crashing function (FunctionError "Unhandled"), so a test
# that forgot to define one cannot pass by accident; an unknown function or qualifier is a 404
# ResourceNotFoundException, as AWS answers. Every Invoke is recorded (GET /_moto/lambda/invocations).


class InvokeTable:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            # (functionName, qualifier or "*") -> {"statusCode", "functionError", "payload"}
            self.answers: dict[tuple[str, str], dict[str, Any]] = {}
            self.invocations: list[dict[str, Any]] = []


INVOKES = InvokeTable()


def is_lambda_invoke(environ: dict[str, Any], entry: dict[str, Any]) -> bool:
    return entry["service"] == "lambda" and entry["operation"] == "Invoke"


def handle_lambda_invoke(environ: dict[str, Any], start_response: StartResponse, entry: dict[str, Any]) -> list[bytes]:
    from moto.awslambda.models import lambda_backends

    segments = path_segments(environ)
    function_name = segments[2].split(":")[-1] if len(segments) > 2 else ""
    qualifier = (parse_qs(environ.get("QUERY_STRING", "")).get("Qualifier") or ["$LATEST"])[0]
    account = account_for(environ)
    region = credential_scope(environ)[1] or "us-east-1"
    body = read_body(environ)
    try:
        payload: Any = json.loads(body) if body else None
    except ValueError:
        payload = body.decode("utf-8", "replace")
    try:
        version = str(lambda_backends[account][region].get_function(function_name, qualifier).version)
    except Exception:
        entry["status"] = 404
        message = f"Function not found: {function_name}:{qualifier}"
        error = {"__type": "ResourceNotFoundException", "Type": "User", "message": message}
        return json_response(start_response, 404, error, extra_headers=[("x-amzn-ErrorType", "ResourceNotFoundException")])
    with INVOKES.lock:
        INVOKES.invocations.append(
            {
                "account": account,
                "functionName": function_name,
                "qualifier": qualifier,
                "executedVersion": version,
                "invocationType": environ.get("HTTP_X_AMZ_INVOCATION_TYPE", "RequestResponse"),
                "payload": payload,
            }
        )
        answer = INVOKES.answers.get((function_name, qualifier)) or INVOKES.answers.get((function_name, "*"))
    if answer is None:
        answer = {
            "statusCode": 200,
            "functionError": "Unhandled",
            "payload": {"errorMessage": f"moto launcher: no Invoke answer defined for {function_name}:{qualifier}"},
        }
    headers = [("X-Amz-Executed-Version", version)]
    if answer.get("functionError"):
        headers.append(("X-Amz-Function-Error", str(answer["functionError"])))
    status = int(answer.get("statusCode", 200))
    entry["status"] = status
    return json_response(start_response, status, answer.get("payload"), extra_headers=headers)


def handle_invoke_route(environ: dict[str, Any], start_response: StartResponse, method: str, route: str) -> list[bytes] | None:
    """POST /_moto/lambda/invoke-answers {"functionName", "qualifier"?, "statusCode"?, "functionError"?, "payload"?};
    GET /_moto/lambda/invocations. None when the route is not one of these."""
    if method == "POST" and route == "lambda/invoke-answers":
        body = json_body(environ)
        name = str(body.get("functionName", ""))
        if not name:
            return json_response(start_response, 400, {"message": "need functionName"})
        answer = {k: body[k] for k in ("statusCode", "functionError", "payload") if k in body}
        with INVOKES.lock:
            INVOKES.answers[(name, str(body.get("qualifier") or "*"))] = answer
        return json_response(start_response, 200, {})
    if method == "GET" and route == "lambda/invocations":
        with INVOKES.lock:
            return json_response(start_response, 200, list(INVOKES.invocations))
    return None


# --------------------------------------------------------------------------------------------------
# Concern 11: what invokes a version besides aliases (event-source mappings, provisioned concurrency)
# --------------------------------------------------------------------------------------------------

INVOKER_OPERATIONS = {"CreateEventSourceMapping", "ListEventSourceMappings", "ListProvisionedConcurrencyConfigs"}


def handle_invokers(environ: dict[str, Any], start_response: StartResponse, operation: str) -> list[bytes]:
    """moto resolves a mapping's FunctionName to a version (an alias mapping gets the version's ARN, not
    the alias's) and lists by the exact FunctionName string given, so a mapping made on `name:2` is not
    listed for `name`. Lambda keeps the FunctionArn as qualified when created (version or alias ARN); this
    table does the same and lists, for FunctionName `name`, the mappings of every qualifier of `name`
    (for a qualified FunctionName, that qualifier's). Provisioned concurrency: none anywhere (as concern 8's
    GetProvisionedConcurrencyConfig 404), so the listing is empty."""
    _, region, _ = credential_scope(environ)
    account = account_for(environ)
    if operation == "ListProvisionedConcurrencyConfigs":
        return json_response(start_response, 200, {"ProvisionedConcurrencyConfigs": []}, "application/json")
    if operation == "CreateEventSourceMapping":
        body = json_body(environ)
        name = str(body.get("FunctionName", ""))
        arn = name if name.startswith("arn:") else f"arn:aws:lambda:{region}:{account}:function:{name}"
        mapping = {
            "UUID": str(uuid.uuid4()),
            "FunctionArn": arn,
            "EventSourceArn": str(body.get("EventSourceArn", "")),
            "BatchSize": int(body.get("BatchSize") or 10),
            "State": "Enabled" if body.get("Enabled", True) else "Disabled",
        }
        with STATE.lock:
            STATE.event_source_mappings.append(mapping)
        return json_response(start_response, 202, mapping, "application/json")
    query = parse_qs(environ.get("QUERY_STRING", ""))
    wanted = (query.get("FunctionName") or [""])[0]
    parts = wanted.split(":")
    wanted_name, wanted_qualifier = (parts[6], parts[7] if len(parts) > 7 else None) if wanted.startswith("arn:") else (
        parts[0],
        parts[1] if len(parts) > 1 else None,
    )

    def matches(mapping: dict[str, Any]) -> bool:
        arn = mapping["FunctionArn"].split(":")
        if not wanted:
            return True
        if arn[6] != wanted_name:
            return False
        return wanted_qualifier is None or (len(arn) > 7 and arn[7] == wanted_qualifier)

    with STATE.lock:
        listed = [m for m in STATE.event_source_mappings if matches(m)]
    return json_response(start_response, 200, {"EventSourceMappings": listed}, "application/json")


# --------------------------------------------------------------------------------------------------
# Lambda response patching (concerns 1-3)
# --------------------------------------------------------------------------------------------------


# Successful Lambda responses we rewrite; everything else (Invoke payloads, ...) passes through byte for byte.
PATCHED_LAMBDA_OPERATIONS = CONFIG_OPERATIONS | {"GetFunction", "ListVersionsByFunction", "ListFunctions"}


def patch_lambda_response(
    operation: str, status: int, headers: list[tuple[str, str]], body: bytes
) -> tuple[list[tuple[str, str]], bytes]:
    if status >= 400:
        return rewrite_error_name(headers, body)
    if not body or operation not in PATCHED_LAMBDA_OPERATIONS:
        return headers, body
    try:
        payload = json.loads(body)
    except ValueError:
        return headers, body
    if not isinstance(payload, dict):
        return headers, body
    if operation in LATEST_UPDATING_OPERATIONS and payload.get("FunctionArn"):
        bump_latest_generation(payload)
        start_update_window(payload)
    inject_revision_ids(operation, payload)
    apply_update_status(operation, payload)
    if operation == "GetFunction":
        rewrite_code_location(payload)
    return headers, json.dumps(payload).encode("utf-8")


def with_content_length(headers: list[tuple[str, str]], length: int) -> list[tuple[str, str]]:
    return [(k, v) for k, v in headers if k.lower() != "content-length"] + [("Content-Length", str(length))]


# --------------------------------------------------------------------------------------------------
# Concern 8: Lambda's update window and deprecated runtimes (opt-in)
# --------------------------------------------------------------------------------------------------

WINDOW_GUARDED_OPERATIONS = {"UpdateFunctionCode", "UpdateFunctionConfiguration", "PublishVersion"}


def function_key(environ: dict[str, Any]) -> tuple[str, str, str] | None:
    """(account, region, function name) of a /<api>/functions/<name-or-arn>/... request."""
    segments = path_segments(environ)
    if len(segments) < 3 or segments[1] != "functions":
        return None
    name = segments[2]
    if name.startswith("arn:"):
        return arn_parts(name)
    _, region, _ = credential_scope(environ)
    return account_for(environ), region or "us-east-1", name.split(":")[0]


def function_arn(key: tuple[str, str, str]) -> str:
    account, region, name = key
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


def lambda_refusal(environ: dict[str, Any], operation: str) -> tuple[int, str, str] | None:
    """What real Lambda refuses and moto accepts: a write during an update; code on a deprecated runtime.
    And what moto lacks: provisioned concurrency (none anywhere: real Lambda's 404 for "none")."""
    if operation == "GetProvisionedConcurrencyConfig":
        return (
            404,
            "ProvisionedConcurrencyConfigNotFoundException",
            "No Provisioned Concurrency Config found for this function",
        )
    if operation not in WINDOW_GUARDED_OPERATIONS:
        return None
    key = function_key(environ)
    if key is None:
        return None
    with STATE.lock:
        updating = STATE.updating_until.get(key, 0.0) > time.monotonic()
        deprecated = set(STATE.deprecated_runtimes)
    if updating:
        return (
            409,
            "ResourceConflictException",
            f"The operation cannot be performed at this time. An update is in progress for resource: {function_arn(key)}",
        )
    if operation == "UpdateFunctionCode" and deprecated:
        from moto.awslambda.models import lambda_backends

        try:
            runtime = lambda_backends[key[0]][key[1]].get_function(key[2]).run_time
        except Exception:  # not found: moto answers that itself
            return None
        if runtime in deprecated:
            return (
                400,
                "InvalidParameterValueException",
                f"The runtime parameter of {runtime} is no longer supported for creating or updating AWS Lambda "
                "functions. We recommend you use a supported runtime while creating or updating functions.",
            )
    return None


def start_update_window(payload: dict[str, Any]) -> None:
    with STATE.lock:
        if STATE.update_window_seconds > 0:
            STATE.updating_until[arn_parts(payload["FunctionArn"])] = time.monotonic() + STATE.update_window_seconds


def apply_update_status(operation: str, payload: dict[str, Any]) -> None:
    """$LATEST reports LastUpdateStatus InProgress while its update window is open."""
    config = payload.get("Configuration") if operation == "GetFunction" else payload
    if not isinstance(config, dict) or not config.get("FunctionArn") or config.get("Version", "$LATEST") != "$LATEST":
        return
    with STATE.lock:
        until = STATE.updating_until.get(arn_parts(config["FunctionArn"]))
    if until is not None and until > time.monotonic():
        config["LastUpdateStatus"] = "InProgress"
        config["LastUpdateStatusReason"] = "The function is being updated."
        config["LastUpdateStatusReasonCode"] = "Updating"
    elif until is not None:
        config["LastUpdateStatus"] = "Successful"
        config.pop("LastUpdateStatusReason", None)
        config.pop("LastUpdateStatusReasonCode", None)


# --------------------------------------------------------------------------------------------------
# Launcher-owned routes
# --------------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------------
# Concerns 11 and 12: CodePipeline execution history and CloudTrail LookupEvents (moto has neither)
# --------------------------------------------------------------------------------------------------

HISTORY_OPERATIONS = {"ListPipelineExecutions", "ListActionExecutions"}
# The target is "<namespace>.CloudTrail_20131101.LookupEvents"; only its end is relied on.
CLOUDTRAIL_LOOKUP_TARGET_SUFFIX = "CloudTrail_20131101.LookupEvents"


def history_operation(environ: dict[str, Any]) -> str | None:
    target = environ.get("HTTP_X_AMZ_TARGET") or ""
    if target.startswith(CODEPIPELINE_TARGET_PREFIX) and target[len(CODEPIPELINE_TARGET_PREFIX):] in HISTORY_OPERATIONS:
        return target[len(CODEPIPELINE_TARGET_PREFIX):]
    return None


def moto_knows_pipeline(account: str, region: str, name: str) -> bool:
    from moto.codepipeline.models import codepipeline_backends

    return name in codepipeline_backends[account][region].pipelines


def page(items: list[dict[str, Any]], body: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
    size = max(1, min(100, int(body.get("maxResults") or 100)))
    start = int(body.get("nextToken") or 0)
    end = start + size
    return items[start:end], (str(end) if end < len(items) else None)


def handle_history(environ: dict[str, Any], start_response: StartResponse, operation: str) -> list[bytes]:
    body = json_body(environ)
    account = account_for(environ)
    region = credential_scope(environ)[1] or "us-east-1"
    name = str(body.get("pipelineName", ""))
    if not moto_knows_pipeline(account, region, name):
        error = {"__type": "PipelineNotFoundException", "message": f"Account '{account}' does not have a pipeline with name '{name}'"}
        return json_response(start_response, 400, error, AMZ_JSON_11, [("X-Amzn-ErrorType", "PipelineNotFoundException")])
    with STATE.lock:
        table = STATE.pipeline_history.get((account, name), {})
        summaries = list(table.get("pipelineExecutionSummaries", []))
        details = list(table.get("actionExecutionDetails", []))
    if operation == "ListPipelineExecutions":
        items, token = page(summaries, body)
        payload: dict[str, Any] = {"pipelineExecutionSummaries": items}
    else:
        wanted = (body.get("filter") or {}).get("pipelineExecutionId")
        if wanted:
            details = [d for d in details if d.get("pipelineExecutionId") == wanted]
        items, token = page(details, body)
        payload = {"actionExecutionDetails": items}
    if token:
        payload["nextToken"] = token
    return json_response(start_response, 200, payload, AMZ_JSON_11)


def handle_lookup_events(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
    body = json_body(environ)
    with STATE.lock:
        events = list(STATE.trail_events.get(account_for(environ), []))
    for attribute in body.get("LookupAttributes") or []:
        key, value = attribute.get("AttributeKey"), attribute.get("AttributeValue")
        if key == "ResourceName":
            events = [e for e in events if e.get("resourceName") == value]
        elif key == "EventName":
            events = [e for e in events if e.get("EventName") == value]
    served = [{k: v for k, v in e.items() if k != "resourceName"} for e in events]
    return json_response(start_response, 200, {"Events": served}, AMZ_JSON_11)


def reset_everything() -> None:
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()
    STATE.reset()
    INVOKES.reset()


def handle_launcher_route(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
    method = environ.get("REQUEST_METHOD", "GET")
    segments = path_segments(environ)
    route = "/".join(segments[1:3])
    invoke_route = handle_invoke_route(environ, start_response, method, route)
    if invoke_route is not None:
        return invoke_route
    if method == "GET" and route == "health":
        return json_response(start_response, 200, {"ok": True, "port": STATE.port})
    if method == "GET" and route == "calls":
        with STATE.lock:
            return json_response(start_response, 200, list(STATE.calls))
    if method == "POST" and route == "calls/reset":
        with STATE.lock:
            STATE.calls.clear()
        return json_response(start_response, 200, {})
    if method == "GET" and route == "jobs":
        with STATE.lock:
            return json_response(start_response, 200, list(STATE.job_results))
    if method == "POST" and route == "jobs/fail-next":
        count = int(json_body(environ).get("count", 1))
        with STATE.lock:
            STATE.fail_next_job_results = max(0, count)
        return json_response(start_response, 200, {})
    if method == "POST" and route == "jobs/lose-next-answer":
        count = int(json_body(environ).get("count", 1))
        with STATE.lock:
            STATE.lose_next_job_answers = max(0, count)
        return json_response(start_response, 200, {})
    if method == "POST" and route == "jobs/define":
        body = json_body(environ)
        with STATE.lock:
            STATE.job_definitions[str(body.get("jobId", ""))] = body.get("data", {})
        return json_response(start_response, 200, {})
    if method == "POST" and route == "executions/status":
        body = json_body(environ)
        with STATE.lock:
            STATE.execution_status[str(body.get("pipelineExecutionId", ""))] = str(body.get("status", "InProgress"))
        return json_response(start_response, 200, {})
    if method == "GET" and segments[1:2] == ["code"] and len(segments) == 6:
        return serve_code(start_response, segments)
    if method == "GET" and route == "downloads":
        with STATE.lock:
            return json_response(start_response, 200, list(STATE.downloads))
    if method == "POST" and route == "codecommit/files":
        body = json_body(environ)
        repository, commit, path = (str(body.get(k, "")) for k in ("repositoryName", "commitSpecifier", "filePath"))
        if not (repository and commit and path) or not isinstance(body.get("content"), str):
            return json_response(start_response, 400, {"message": "need repositoryName, commitSpecifier, filePath, content"})
        with STATE.lock:
            STATE.codecommit_files[(repository, commit, path)] = body["content"].encode("utf-8")
        return json_response(start_response, 200, {})
    if method == "GET" and route == "codecommit/comments":
        with STATE.lock:
            return json_response(start_response, 200, list(STATE.codecommit_comments))
    if method == "POST" and route == "lambda/behaviour":
        body = json_body(environ)
        with STATE.lock:
            STATE.update_window_seconds = max(0.0, float(body.get("updateWindowSeconds", 0) or 0))
            STATE.deprecated_runtimes = {str(r) for r in body.get("deprecatedRuntimes", []) or []}
            STATE.updating_until.clear()
        return json_response(start_response, 200, {})
    if method == "POST" and route == "codepipeline/history":
        body = json_body(environ)
        key = (str(body.get("account") or DEFAULT_ACCOUNT_ID), str(body.get("pipelineName", "")))
        with STATE.lock:
            STATE.pipeline_history[key] = {
                "pipelineExecutionSummaries": list(body.get("pipelineExecutionSummaries") or []),
                "actionExecutionDetails": list(body.get("actionExecutionDetails") or []),
            }
        return json_response(start_response, 200, {})
    if method == "POST" and route == "cloudtrail/events":
        body = json_body(environ)
        with STATE.lock:
            STATE.trail_events[str(body.get("account") or DEFAULT_ACCOUNT_ID)] = list(body.get("events") or [])
        return json_response(start_response, 200, {})
    if method == "POST" and route == "reset-all":
        reset_everything()
        return json_response(start_response, 200, {})
    return json_response(start_response, 404, {"message": f"no launcher route {method} {environ.get('PATH_INFO')}"})


# --------------------------------------------------------------------------------------------------
# The middleware
# --------------------------------------------------------------------------------------------------


class HarnessMiddleware:
    def __init__(self, moto_app: Any) -> None:
        self.moto_app = moto_app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith("/_moto/"):
            return handle_launcher_route(environ, start_response)
        entry = record_call(environ)
        job_operation = codepipeline_job_operation(environ)
        if job_operation:
            return handle_codepipeline_job(environ, self.recording(entry, start_response), job_operation)
        codecommit = codecommit_operation(environ)
        if codecommit:
            return handle_codecommit(environ, self.recording(entry, start_response), codecommit)
        history = history_operation(environ)
        if history:
            return handle_history(environ, self.recording(entry, start_response), history)
        if (environ.get("HTTP_X_AMZ_TARGET") or "").endswith(CLOUDTRAIL_LOOKUP_TARGET_SUFFIX):
            return handle_lookup_events(environ, self.recording(entry, start_response))
        if is_lambda_invoke(environ, entry):
            return handle_lambda_invoke(environ, start_response, entry)
        if entry["service"] == "lambda" and entry["operation"] in INVOKER_OPERATIONS:
            return handle_invokers(environ, self.recording(entry, start_response), entry["operation"])
        if entry["service"] == "lambda":
            return self.call_lambda(environ, start_response, entry)
        if entry["service"] == "codepipeline" and entry["operation"] in CODEPIPELINE_TIMESTAMP_OPERATIONS:
            return self.call_patched(environ, start_response, entry, patch_codepipeline_timestamps)
        return self.moto_app(environ, self.recording(entry, start_response))

    @staticmethod
    def recording(entry: dict[str, Any], start_response: StartResponse) -> StartResponse:
        def wrapped(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            entry["status"] = int(status.split(" ", 1)[0])
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        return wrapped

    def call_lambda(self, environ: dict[str, Any], start_response: StartResponse, entry: dict[str, Any]) -> list[bytes]:
        """Run moto, buffer the (small, JSON) Lambda response, patch it, then send it (after concern 8's
        refusals, which never reach moto)."""
        refusal = lambda_refusal(environ, entry["operation"])
        if refusal is not None:
            status, name, message = refusal
            entry["status"] = status
            body = {"Type": "User", "message": message}
            return json_response(start_response, status, body, "application/json", [("X-Amzn-ErrorType", name)])
        if entry["operation"] == "DeleteFunction":
            refused = refuse_referenced_version(environ)
            if refused:
                entry["status"] = 409
                body = {"Type": "User", "message": refused}
                return json_response(start_response, 409, body, "application/json", [("X-Amzn-ErrorType", "ResourceConflictException")])
        return self.call_patched(environ, start_response, entry, patch_lambda_response)

    def call_patched(
        self,
        environ: dict[str, Any],
        start_response: StartResponse,
        entry: dict[str, Any],
        patch: Callable[[str, int, list[tuple[str, str]], bytes], tuple[list[tuple[str, str]], bytes]],
    ) -> list[bytes]:
        """Run moto, buffer its (small, JSON) response, let `patch` rewrite it, then send it."""
        captured: dict[str, Any] = {}
        chunks: list[bytes] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            captured["status"], captured["headers"] = status, list(headers)
            return chunks.append

        result = self.moto_app(environ, capture)
        try:
            chunks.extend(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        status_line: str = captured["status"]
        status = int(status_line.split(" ", 1)[0])
        headers, body = patch(entry["operation"], status, captured["headers"], b"".join(chunks))
        entry["status"] = status
        start_response(status_line, with_content_length(headers, len(body)))
        return [body]


# --------------------------------------------------------------------------------------------------
# Process lifecycle
# --------------------------------------------------------------------------------------------------


def wait_for_shutdown() -> None:
    """Block until stdin reaches EOF (parent gone or stop()) or SIGTERM/SIGINT arrives."""
    done = threading.Event()

    def watch_stdin() -> None:
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except Exception:
            pass
        done.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: done.set())
    while not done.wait(0.5):
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = let the OS pick a free port")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args()

    moto_app = import_moto()
    from werkzeug.serving import make_server

    if not args.verbose:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server(args.host, args.port, HarnessMiddleware(moto_app), threaded=True)
    STATE.port = server.server_port
    STATE.host = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
    os.environ["MOTO_PORT"] = str(STATE.port)  # moto uses it when it calls itself
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"READY {STATE.port}", flush=True)

    wait_for_shutdown()
    server.shutdown()
    server.server_close()
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown of moto's module-level state; nothing left to flush


if __name__ == "__main__":
    main()
