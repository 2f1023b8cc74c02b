/**
 * Starts moto (Python) as a real HTTP server for integration tests, through test/support/moto_launcher.py,
 * which adds the AWS behaviours moto lacks (downloadable Code.Location, RevisionId, AWS error names,
 * CodePipeline job results, CodeCommit GetFile and pull-request comments) and a call log. One server
 * per test file: `before(startMoto)`, `after(stop)`.
 *
 * Missing python3/moto is always a failure (MotoMissingError), never a skip.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export interface MotoCall {
  method: string;
  /** Percent-decoded path, e.g. `/2015-03-31/functions/orders/aliases/LIVE`. */
  path: string;
  /** Raw query string (e.g. `Qualifier=3`), "" when none. */
  query: string;
  target: string | null;
  /** SigV4 signing name from the credential scope: lambda, sts, iam, s3, codepipeline, ... */
  service: string;
  /** 12-digit account moto acted in (from the access key; STS-issued keys map to the role's account). */
  account: string;
  /** AWS operation name, e.g. UpdateAlias, AssumeRole, PutJobSuccessResult; "Unknown" if not derivable. */
  operation: string;
  /** HTTP status answered; null while the response has not started. */
  status: number | null;
}

export interface JobResultRecord {
  operation: "PutJobSuccessResult" | "PutJobFailureResult";
  jobId: string;
  body: Record<string, unknown>;
}

/** One GET of a rewritten `Code.Location` (launcher route, so not in the call log). */
export interface CodeDownload {
  account: string;
  region: string;
  functionName: string;
  version: string;
  status: number;
}

/** A file CodeCommit GetFile serves (launcher stand-in; moto has no GetFile). */
export interface CodeCommitFile {
  repositoryName: string;
  /** The commit ID (or any specifier) GetFile is called with, matched exactly. */
  commitSpecifier: string;
  filePath: string;
  content: string;
}

/** A comment created by PostCommentForPullRequest (a repeated identical request creates none). */
export interface CodeCommitComment {
  commentId: string;
  account: string;
  clientRequestToken: string | null;
  pullRequestId: string;
  repositoryName: string;
  beforeCommitId: string;
  afterCommitId: string;
  content: string;
  location: Record<string, unknown> | null;
}

/** What the launcher answers to Lambda Invoke of a function (moto itself would need Docker). */
export interface InvokeAnswer {
  functionName: string;
  /** Version or alias the answer is for; omitted = any qualifier of the function. */
  qualifier?: string;
  /** HTTP status of the answer (default 200). */
  statusCode?: number;
  /** Lambda's X-Amz-Function-Error ("Unhandled", "Handled"), for a failing function. */
  functionError?: string;
  /** The JSON the function returns. */
  payload?: unknown;
}

/** One Invoke the launcher answered (or refused with 404 ResourceNotFoundException: not recorded). */
export interface InvokeRecord {
  account: string;
  functionName: string;
  qualifier: string;
  executedVersion: string;
  invocationType: string;
  payload: unknown;
}

/**
 * What ListPipelineExecutions and ListActionExecutions answer for one pipeline (moto has neither), in
 * the API's JSON shapes; timestamps are epoch seconds (pipelineHistoryOf builds it from SDK objects).
 */
export interface PipelineHistory {
  /** Default: moto's default account. */
  account?: string;
  pipelineName: string;
  /** The most recent first, as AWS lists them. */
  pipelineExecutionSummaries: Record<string, unknown>[];
  actionExecutionDetails: Record<string, unknown>[];
}

/** One CloudTrail event LookupEvents serves (moto has none): its API shape plus the resource it names. */
export interface TrailEventRecord {
  resourceName: string;
  EventName: string;
  /** Epoch seconds. */
  EventTime: number;
  CloudTrailEvent: string;
}

export interface MotoServer {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  port: number;
  calls(): Promise<MotoCall[]>;
  resetCalls(): Promise<void>;
  /** PutJobSuccessResult / PutJobFailureResult calls that succeeded, in order. */
  jobResults(): Promise<JobResultRecord[]>;
  /** The next `count` job-result calls answer HTTP 500 InternalServerError (and are not recorded). */
  failNextJobResults(count: number): Promise<void>;
  /** The next `count` job results are recorded but answered with a 500, as if the answer was lost. */
  loseNextJobResultAnswers(count: number): Promise<void>;
  /** What GetJobDetails answers as `jobDetails.data` for this job id (others: JobNotFoundException). */
  defineJob(jobId: string, data: Record<string, unknown>): Promise<void>;
  /** What GetPipelineExecution answers for this execution (a defined job's execution: InProgress). */
  setExecutionStatus(pipelineExecutionId: string, status: string): Promise<void>;
  /**
   * Teach Lambda's real behaviour (off by default, to keep the suite fast): the update window
   * (LastUpdateStatus InProgress and ResourceConflictException for a second write, for
   * `updateWindowSeconds`) and deprecated runtimes (UpdateFunctionCode refused).
   */
  lambdaBehaviour(behaviour: { updateWindowSeconds?: number; deprecatedRuntimes?: string[] }): Promise<void>;
  codeDownloads(): Promise<CodeDownload[]>;
  /** Serve `content` from CodeCommit GetFile for exactly this repository, commit and path. */
  putCodeCommitFile(file: CodeCommitFile): Promise<void>;
  /** Pull-request comments created so far, in order. */
  codeCommitComments(): Promise<CodeCommitComment[]>;
  /** Resets every moto backend (all accounts) and the launcher's logs, job results and fault hooks. */
  resetAll(): Promise<void>;
  /** Lambda Invoke of that function (and qualifier) answers this; without one, Invoke fails (Unhandled). */
  defineInvokeAnswer(answer: InvokeAnswer): Promise<void>;
  /** Invoke calls answered so far, in order. */
  invocations(): Promise<InvokeRecord[]>;
  /** What ListPipelineExecutions / ListActionExecutions answer for this pipeline (replaces any earlier table). */
  definePipelineHistory(history: PipelineHistory): Promise<void>;
  /** What CloudTrail LookupEvents serves in that account (default: moto's default account; none: empty). */
  defineTrailEvents(events: TrailEventRecord[], account?: string): Promise<void>;
  stop(): Promise<void>;
}

export class MotoMissingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MotoMissingError";
  }
}

/** moto's default account: any access key moto did not issue acts in it. */
export const MOTO_DEFAULT_ACCOUNT = "123456789012";
export const MOTO_REGION = "us-east-1";
/** Fake long-term credentials (20-char key id, as moto's access-key parser expects). */
export const MOTO_ACCESS_KEY_ID = "AKIAMOTOHARNESS00001";
export const MOTO_SECRET_ACCESS_KEY = "moto-harness-secret-access-key";

export { MUTATING_LAMBDA_OPERATIONS } from "./lambda-operations.ts";

const INSTALL_HINT = 'pip install "moto[server]"';
const LAUNCHER = fileURLToPath(new URL("./moto_launcher.py", import.meta.url));
const PYTHON = process.env.MOTO_PYTHON ?? "python3";
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;
const EXIT_MOTO_MISSING = 3;

/** Environment for child processes / SDK clients pointed at moto (credentials act in moto's default account). */
export function motoEnv(server: MotoServer): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: server.endpoint,
    AWS_REGION: MOTO_REGION,
    AWS_DEFAULT_REGION: MOTO_REGION,
    AWS_ACCESS_KEY_ID: MOTO_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: MOTO_SECRET_ACCESS_KEY,
    AWS_MAX_ATTEMPTS: "3",
    AWS_RETRY_MODE: "standard",
    AWS_EC2_METADATA_DISABLED: "true",
    // Keep a developer's ~/.aws profile (SSO, role chains) out of the picture.
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
  };
}

// ---------------------------------------------------------------------------------------------
// Orphan protection: the launcher also exits when its stdin closes (i.e. when this process dies,
// however it dies); on a normal exit we kill it synchronously as well.
// ---------------------------------------------------------------------------------------------
const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  running.add(child);
  child.once("exit", () => running.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", () => {
      for (const c of running) c.kill("SIGKILL");
    });
  }
}

const pythonChecks = new Map<string, Promise<void>>();
/** Fails fast with install instructions when python3 or moto's server extras are missing (once per binary). */
function checkPythonMoto(python: string): Promise<void> {
  let check = pythonChecks.get(python);
  if (check) return check;
  check = new Promise<void>((resolve, reject) => {
    execFile(
      python,
      ["-c", "import moto, moto.server"],
      { timeout: 20_000, encoding: "utf8" },
      (error, _stdout, stderr) => {
        if (!error) return resolve();
        const why =
          error.code === "ENOENT"
            ? `${python} was not found`
            : `\`${python} -c "import moto, moto.server"\` failed: ${lastLines(stderr, 3) || error.message}`;
        reject(
          new MotoMissingError(
            `moto is required for the integration tests but ${why}. Install Python 3 and run: ${INSTALL_HINT}`,
          ),
        );
      },
    );
  });
  pythonChecks.set(python, check);
  return check;
}

function lastLines(text: string, count: number): string {
  return text.trim().split("\n").slice(-count).join("\n");
}

export interface StartMotoOptions {
  /** Echo the launcher's stderr (and every request) to this process's stderr. Default: MOTO_LOG=1. */
  log?: boolean;
  /** Python interpreter. Default: $MOTO_PYTHON or python3. */
  python?: string;
}

export async function startMoto(options: StartMotoOptions = {}): Promise<MotoServer> {
  const python = options.python ?? PYTHON;
  await checkPythonMoto(python);
  const log = options.log ?? process.env.MOTO_LOG === "1";
  const args = [LAUNCHER, "--port", "0", ...(log ? ["--verbose"] : [])];
  const child = spawn(python, args, {
    stdio: ["pipe", "pipe", "pipe"],
    // MOTO_ACCOUNT_ID would force every request into one account and defeat the multi-account world.
    env: { ...process.env, MOTO_ACCOUNT_ID: undefined, PYTHONUNBUFFERED: "1" },
  });
  track(child);

  let stderrTail = "";
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (chunk: string) => {
    // Always drain stderr (a full pipe would block python); keep a tail for error messages.
    stderrTail = (stderrTail + chunk).slice(-4000);
    if (log) process.stderr.write(`[moto] ${chunk}`);
  });

  const port = await new Promise<number>((resolve, reject) => {
    let stdout = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`moto_launcher did not print READY within ${READY_TIMEOUT_MS} ms.\n${stderrTail}`));
    }, READY_TIMEOUT_MS);
    const onData = (chunk: string) => {
      stdout += chunk;
      const match = /^READY (\d+)$/m.exec(stdout);
      if (match) {
        clearTimeout(timer);
        child.stdout!.off("data", onData);
        child.off("exit", onExit);
        resolve(Number(match[1]));
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      // Give the stderr pipe a tick to deliver the last message.
      setImmediate(() => {
        const detail = lastLines(stderrTail, 10);
        if (code === EXIT_MOTO_MISSING || /MOTO_MISSING|ModuleNotFoundError|No module named/.test(detail)) {
          reject(
            new MotoMissingError(`moto could not be started: ${detail}\nInstall it with: ${INSTALL_HINT}`),
          );
        } else {
          reject(new Error(`moto_launcher exited (code ${code}, signal ${signal}) before READY.\n${detail}`));
        }
      });
    };
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", onData);
    child.once("exit", onExit);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(
        new MotoMissingError(
          `could not run ${python} (${error.message}). Install Python 3 and ${INSTALL_HINT}`,
        ),
      );
    });
  });

  // A forgotten stop() must not keep mocha alive: unref now, ref again while stopping.
  const handles = [child, child.stdin, child.stdout, child.stderr] as const;
  for (const handle of handles) (handle as { unref?: () => void } | null)?.unref?.();

  const endpoint = `http://127.0.0.1:${port}`;
  const api = async <T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${endpoint}${path}`, {
      method,
      headers: { "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`moto launcher ${method} ${path}: HTTP ${response.status} ${text}`);
    return JSON.parse(text) as T;
  };

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= new Promise<void>((resolve) => {
      child.ref();
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const killer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      child.once("exit", () => {
        clearTimeout(killer);
        resolve();
      });
      child.stdin!.end();
      child.kill("SIGTERM");
    });
    return stopping;
  };

  return {
    endpoint,
    port,
    calls: () => api<MotoCall[]>("GET", "/_moto/calls"),
    resetCalls: async () => {
      await api("POST", "/_moto/calls/reset", {});
    },
    jobResults: () => api<JobResultRecord[]>("GET", "/_moto/jobs"),
    loseNextJobResultAnswers: async (count) => {
      await api("POST", "/_moto/jobs/lose-next-answer", { count });
    },
    failNextJobResults: async (count) => {
      await api("POST", "/_moto/jobs/fail-next", { count });
    },
    defineJob: async (jobId, data) => {
      await api("POST", "/_moto/jobs/define", { jobId, data });
    },
    setExecutionStatus: async (pipelineExecutionId, status) => {
      await api("POST", "/_moto/executions/status", { pipelineExecutionId, status });
    },
    lambdaBehaviour: async (behaviour) => {
      await api("POST", "/_moto/lambda/behaviour", behaviour);
    },
    codeDownloads: () => api<CodeDownload[]>("GET", "/_moto/downloads"),
    putCodeCommitFile: async (file) => {
      await api("POST", "/_moto/codecommit/files", file);
    },
    codeCommitComments: () => api<CodeCommitComment[]>("GET", "/_moto/codecommit/comments"),
    resetAll: async () => {
      await api("POST", "/_moto/reset-all", {});
    },
    defineInvokeAnswer: async (answer) => {
      await api("POST", "/_moto/lambda/invoke-answers", answer);
    },
    invocations: () => api<InvokeRecord[]>("GET", "/_moto/lambda/invocations"),
    definePipelineHistory: async (history) => {
      await api("POST", "/_moto/codepipeline/history", history);
    },
    defineTrailEvents: async (events, account) => {
      await api("POST", "/_moto/cloudtrail/events", { account, events });
    },
    stop,
  };
}
