/**
 * Reads a trace written by `strace -f -yy -o FILE` and checks INV-1 at the system-call level: when
 * an HTTP answer leaves the process, everything the process wrote to the SQLite write-ahead log
 * before it is on stable storage, that is, covered by an fdatasync (or fsync) of the log that
 * began after those writes had completed and that has itself returned 0.
 *
 * Strict on purpose, for answers given one at a time: with requests in parallel a later batch's
 * frames could be in flight, undurable and rightly so, when an earlier batch is answered.
 */

export interface TraceFindings {
  /** Completed writes to the log. */
  logWrites: number;
  /** fdatasync/fsync calls on the log that returned 0. */
  logSyncs: number;
  /** Answers that matched `answer`, in order. */
  answers: number;
  /** One line per answer that left before the log writes preceding it were durable. */
  violations: string[];
}

const CALL = /^(\d+)\s+(?:(\w+)\((.*)|<\.\.\. (\w+) resumed>(.*))$/;
const LOG_FD = /^\d+<[^>]*-wal>/;
const SOCKET_FD = /^\d+<TCP/;
const WRITES = new Set(["write", "pwrite64", "writev", "pwritev", "pwritev2"]);
const SYNCS = new Set(["fdatasync", "fsync"]);
const SENDS = new Set(["write", "writev", "sendmsg", "sendto"]);

/** `answer` picks the answers to check from a send's argument text, e.g. /"HTTP\/1\.1 204 /. */
export function checkDurableAnswers(trace: string, answer: RegExp): TraceFindings {
  const findings: TraceFindings = { logWrites: 0, logSyncs: 0, answers: 0, violations: [] };
  let entered = 0; // log writes begun
  let completed = 0; // log writes returned
  let durable = 0; // log writes known to be on disk
  /** Per thread, the call it is in: what it is, and for a sync, how many writes it covers. */
  const open = new Map<string, { kind: "write" | "sync"; covers: number }>();
  for (const line of trace.split("\n")) {
    const m = CALL.exec(line);
    if (!m) continue;
    const [, pid, name, args, resumedName, rest] = m;
    if (name !== undefined) {
      const unfinished = args!.endsWith("<unfinished ...>");
      const ok = !unfinished && /\)\s+=\s+\d+/.test(args!);
      if (WRITES.has(name) && LOG_FD.test(args!)) {
        entered++;
        if (unfinished) open.set(pid!, { kind: "write", covers: 0 });
        else if (ok) {
          completed++;
          findings.logWrites++;
        }
      } else if (SYNCS.has(name) && LOG_FD.test(args!)) {
        if (unfinished) open.set(pid!, { kind: "sync", covers: completed });
        else if (ok) {
          durable = Math.max(durable, completed);
          findings.logSyncs++;
        }
      }
      if (SENDS.has(name) && SOCKET_FD.test(args!) && answer.test(args!)) {
        findings.answers++;
        if (durable < entered) {
          findings.violations.push(`answer ${findings.answers} sent with ${entered - durable} log write(s) not yet durable: ${line.slice(0, 160)}`);
        }
      }
    } else {
      const call = open.get(pid!);
      if (!call) continue;
      open.delete(pid!);
      const ok = /^.*\)\s+=\s+\d+/.test(rest!);
      if (call.kind === "write" && WRITES.has(resumedName!) && ok) {
        completed++;
        findings.logWrites++;
      } else if (call.kind === "sync" && SYNCS.has(resumedName!) && ok) {
        durable = Math.max(durable, call.covers);
        findings.logSyncs++;
      }
    }
  }
  return findings;
}
