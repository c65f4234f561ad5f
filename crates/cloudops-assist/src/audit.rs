//! The audit trail: an append-only, hash-chained log of every execution, one JSON record per
//! line in `<home>/audit/audit.jsonl`.
//!
//! An execution (one prompt, one plan) leaves a few records under one [`new_execution_id`]:
//! [`AuditEvent::Planned`], for a plan an agent asked to run [`AuditEvent::Requested`], then
//! [`AuditEvent::Approved`] or [`AuditEvent::Refused`], one
//! [`AuditEvent::Command`] per AWS CLI call, and [`AuditEvent::Finished`]. An execution
//! without `Finished` was interrupted.
//!
//! # The chain
//!
//! Each line is the JSON of a record whose last field is `hash`:
//!
//! ```text
//! {"v":1,"seq":1,"time":"…","execution_id":"…","prev_hash":"000…000","event":"planned",…,"hash":"9f2c…"}
//! ```
//!
//! The *body* of a line is the line without its `,"hash":"…"` tail (so it ends in `}`), and
//! `hash = blake3(prev_hash || body)`, with `prev_hash` as its 64 hexadecimal characters and
//! the body as the exact bytes on disk; the first record's `prev_hash` is [`GENESIS_HASH`].
//! [`AuditLog::verify`] recomputes every hash from the raw bytes of the file, never from
//! re-serialized values, so the check does not depend on how serde happens to print a
//! number. One line can be checked by hand: `printf '%s%s' "$prev_hash" "$body" | b3sum`.
//!
//! This makes the log tamper-evident, not tamper-proof: an edited byte, a deleted, reordered
//! or inserted record, a garbage line and an incomplete line all break the chain, and
//! [`AuditLog::verify`] says where. Whoever can write the file can still rewrite the whole
//! chain from the edit onwards, or cut records off its end; [`ChainReport::head`] is the hash
//! of the last record, which an operator can note (or ship elsewhere) to detect both later.
//!
//! # Writers and crashes
//!
//! [`AuditLog::append`] holds an exclusive lock on the file (`flock` on unix) while it reads
//! the last record's hash, writes the new line in one `write` and `fsync`s it; readers hold a
//! shared lock, so they never see half a record of a live writer. Processes and threads may
//! append concurrently, each with its own handle.
//!
//! A crash in the middle of an append can leave a *torn* last line: bytes without the
//! closing newline. Such a line was never a record (an append returns only after the whole
//! line and its newline are on disk), so [`AuditLog::verify`] reports it
//! ([`ChainProblem::Torn`]) and [`AuditLog::records`] skips it, and the next append moves its
//! bytes to a file of their own in the audit directory (`torn-<time>-<offset>.partial`,
//! kept as evidence) before writing after the last complete line. Appends therefore keep
//! working after a crash, and the chain stays verifiable. A complete last line that is not a
//! record is different: nobody can tell which hash it should chain from, so appends refuse
//! ([`Error::AuditDamaged`]) until a person has looked at the file.
//!
//! # Secrets
//!
//! The log stores exactly what it is given. Callers pass redacted text: command output and
//! errors already scrubbed of secrets and cut to an excerpt (the full output is represented
//! by its digest), tags after the redaction policy. As a last guard, outputs and errors longer
//! than [`OUTPUT_LIMIT`] bytes are cut before they are written.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs::{File, OpenOptions};
use std::hash::BuildHasher;
use std::io::{ErrorKind as IoErrorKind, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use cloudops_core::{IdentifiedResource, PlanResponse, time};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The version of the records this code writes (`"v"` in each line); a record of a newer
/// version is refused rather than misread.
pub const FORMAT_VERSION: u32 = 1;

/// The `prev_hash` of the first record: 64 zeros.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The longest command output or error excerpt a record keeps, in bytes; longer text is cut
/// at a character boundary and marked.
pub const OUTPUT_LIMIT: usize = 64 * 1024;

/// The log itself.
const LOG_FILE: &str = "audit.jsonl";
/// What precedes the hash at the end of every line.
const HASH_PREFIX: &[u8] = b",\"hash\":\"";
/// The length of a line's tail: `,"hash":"` + 64 hex digits + `"}`.
const TAIL_LEN: usize = HASH_PREFIX.len() + 64 + 2;
/// Appended to an excerpt cut at [`OUTPUT_LIMIT`].
const CUT_MARK: &str = "\n[… cut by the audit log]";

/// The audit log of one data directory. Cheap to open; every call opens the file anew, so
/// handles in several threads or processes can write the same log.
#[derive(Debug, Clone)]
pub struct AuditLog {
    directory: PathBuf,
    file: PathBuf,
}

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// The record format ([`FORMAT_VERSION`]).
    #[serde(rename = "v")]
    pub version: u32,
    /// The position in the chain, from 1; also the record's line number in the file.
    pub seq: u64,
    /// When the record was written: RFC 3339, UTC, to the millisecond.
    pub time: String,
    /// The execution the record belongs to ([`new_execution_id`]).
    pub execution_id: String,
    /// The hash of the previous record, or [`GENESIS_HASH`] for the first.
    pub prev_hash: String,
    /// What happened. Its fields are inlined in the line, next to `"event": "<kind>"`.
    #[serde(flatten)]
    pub event: AuditEvent,
    /// `blake3(prev_hash || body)` in hexadecimal; see the [module docs](self).
    pub hash: String,
}

/// What a record says happened. The text in it is untrusted (prompts, command output):
/// strip control characters before printing it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[allow(
    clippy::large_enum_variant,
    reason = "a handful of events per execution, each written to disk: boxing the plan would \
              only make them clumsier to build and match"
)]
pub enum AuditEvent {
    /// A plan was obtained for a prompt.
    Planned {
        /// The operator's words, verbatim.
        prompt: String,
        /// The resources the prompt was resolved to, as sent to the planner.
        resources: Vec<IdentifiedResource>,
        /// The plan, as received.
        plan: PlanResponse,
        /// [`plan_hash`] of the plan, which an approval refers to.
        plan_hash: String,
        /// Who planned: `in-process`, or the planning server's URL.
        planner: String,
    },
    /// An agent asked for the verified plan to run (`cloudops mcp`); it waits for a person.
    Requested {
        /// The requesting client as it named itself (not verified).
        client: String,
        /// When the request expires unless a person decides (RFC 3339).
        expires_at: String,
    },
    /// Verification or approval refused the plan; nothing ran.
    Refused {
        /// Why, one reason per entry.
        reasons: Vec<String>,
    },
    /// The operator approved the plan.
    Approved {
        /// Who approved (the local user name).
        by: String,
        /// How.
        method: ApprovalMethod,
    },
    /// One AWS CLI invocation and its result.
    Command {
        /// Which part of the plan the step belongs to.
        phase: Phase,
        /// The step's id in its script.
        step_id: String,
        /// The exact arguments run, program first. Never contains a secret.
        argv: Vec<String>,
        /// The account whose credentials ran it.
        #[serde(default)]
        account_id: Option<String>,
        /// The exit code; `None` when the process did not exit normally (killed, or never
        /// started).
        #[serde(default)]
        exit_code: Option<i32>,
        /// How long it ran.
        duration_ms: u64,
        /// A digest of the full output (e.g. `blake3:<hex>`), which the excerpt may cut.
        output_digest: String,
        /// A redacted excerpt of the output, at most [`OUTPUT_LIMIT`] bytes.
        output: String,
        /// Why it could not run or failed, redacted; `None` on success.
        #[serde(default)]
        error: Option<String>,
    },
    /// One target of the plan is done: how it ended for that resource alone (a fleet's
    /// targets each get one, before the execution's `finished`).
    Target {
        /// The resource (its ARN, else its id), as the plan's steps name it.
        target: String,
        /// How it ended for this target.
        result: TargetResult,
        /// A sentence for the operator.
        message: String,
    },
    /// The execution ended.
    Finished {
        /// How.
        outcome: Outcome,
        /// A sentence for the operator.
        message: String,
    },
}

/// How an execution ended for one of its targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum TargetResult {
    /// Its steps and verification passed.
    Ok,
    /// A step failed and nothing of it needed undoing (or it has no rollback).
    Failed,
    /// A step failed and its rollback completed.
    RolledBack,
    /// A step failed and so did its rollback: it needs a person.
    RollbackFailed,
    /// The plan left it out (the wrong state for the operation); nothing ran on it.
    Skipped,
}

impl fmt::Display for TargetResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TargetResult::Ok => "ok",
            TargetResult::Failed => "failed",
            TargetResult::RolledBack => "rolled back",
            TargetResult::RollbackFailed => "rollback failed",
            TargetResult::Skipped => "skipped",
        })
    }
}

impl AuditEvent {
    /// The event's name as written in the log (`planned`, `command`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            AuditEvent::Planned { .. } => "planned",
            AuditEvent::Requested { .. } => "requested",
            AuditEvent::Refused { .. } => "refused",
            AuditEvent::Approved { .. } => "approved",
            AuditEvent::Command { .. } => "command",
            AuditEvent::Target { .. } => "target",
            AuditEvent::Finished { .. } => "finished",
        }
    }
}

/// How a plan was approved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ApprovalMethod {
    /// The operator answered `y` at the prompt.
    Confirmed,
    /// The operator typed the resource's name.
    TypedName,
    /// The operator typed the number of targets (a fleet over `[ask] fleet_confirm_over`).
    TypedCount,
    /// `--yes` on the command line.
    YesFlag,
    /// `--yes --force` on the command line, for a plan that otherwise needs typing the name.
    YesForce,
    /// The plan needed no approval.
    NotRequired,
}

impl fmt::Display for ApprovalMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ApprovalMethod::Confirmed => "confirmed at the prompt",
            ApprovalMethod::TypedName => "typed the resource name",
            ApprovalMethod::TypedCount => "typed the number of targets",
            ApprovalMethod::YesFlag => "--yes",
            ApprovalMethod::YesForce => "--yes --force",
            ApprovalMethod::NotRequired => "not required",
        })
    }
}

/// The part of a plan a command belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The plan's script.
    Script,
    /// The read-only checks after the script.
    Verification,
    /// Undoing the script after a failure.
    Rollback,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Script => "script",
            Phase::Verification => "verification",
            Phase::Rollback => "rollback",
        })
    }
}

/// How an execution ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every step and every verification passed.
    Succeeded,
    /// A step failed and there was no rollback to run.
    Failed,
    /// A step failed and the rollback completed.
    RolledBack,
    /// A step failed and so did the rollback: the resources need a person.
    RollbackFailed,
    /// Some targets of a fleet succeeded and others did not (each target's result is in
    /// its `target` record).
    Partial,
    /// Shown, not run.
    DryRun,
    /// Verification or approval refused the plan; nothing ran.
    Refused,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Failed => "failed",
            Outcome::RolledBack => "rolled back",
            Outcome::RollbackFailed => "rollback failed",
            Outcome::Partial => "partly succeeded",
            Outcome::DryRun => "dry run",
            Outcome::Refused => "refused",
        })
    }
}

/// One execution at a glance, from its records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ExecutionSummary {
    /// The execution id.
    pub id: String,
    /// The time of its first record.
    pub started: String,
    /// The time of its `finished` record; `None` while unfinished (or interrupted).
    pub finished: Option<String>,
    /// The operator's words (empty when no plan was recorded). Untrusted text.
    pub prompt: String,
    /// The playbook the plan came from.
    pub playbook: Option<String>,
    /// The resources, by name (else id, else ARN).
    pub resources: Vec<String>,
    /// How it ended; `None` while unfinished.
    pub outcome: Option<Outcome>,
    /// How it was approved, when it was.
    pub approval: Option<ApprovalMethod>,
    /// The number of commands run (script, verification and rollback).
    pub commands: usize,
    /// The sequence numbers of its first and last records.
    pub first_seq: u64,
    /// See [`Self::first_seq`].
    pub last_seq: u64,
}

/// The verdict of [`AuditLog::verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ChainReport {
    /// Whether every line is a record that chains to the one before it.
    pub intact: bool,
    /// The records checked and found intact, from the start of the file up to the first
    /// break.
    pub records: u64,
    /// The hash of the last intact record (`None` for an empty log). Noting it down lets a
    /// later check detect records cut off the end, which the chain alone cannot.
    pub head: Option<String>,
    /// Where and why the chain breaks; `None` when intact.
    pub broken: Option<ChainBreak>,
}

/// The first place the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ChainBreak {
    /// The sequence number the record there should have, which is also its line number.
    pub seq: u64,
    /// What is wrong.
    pub problem: ChainProblem,
    /// The details, for a person.
    pub reason: String,
}

/// The ways a chain breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ChainProblem {
    /// A line that is not a record (garbage, an empty line, no hash at the end).
    Malformed,
    /// The last line is incomplete (no newline): a write interrupted by a crash, or a cut.
    Torn,
    /// The record's bytes do not match its hash: it was edited.
    Modified,
    /// Records are missing: the sequence jumps.
    Missing,
    /// A record is out of place: moved, or repeated.
    OutOfOrder,
    /// The record does not chain to the one before it: inserted, or the one before replaced.
    Unlinked,
    /// A record of a newer format than this build reads.
    UnsupportedFormat,
}

impl fmt::Display for ChainProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ChainProblem::Malformed => "malformed line",
            ChainProblem::Torn => "incomplete last line",
            ChainProblem::Modified => "modified record",
            ChainProblem::Missing => "missing records",
            ChainProblem::OutOfOrder => "record out of order",
            ChainProblem::Unlinked => "record not linked to the previous one",
            ChainProblem::UnsupportedFormat => "unsupported record format",
        })
    }
}

impl fmt::Display for ChainReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.broken {
            None => write!(
                f,
                "audit chain intact: {} record{}",
                self.records,
                if self.records == 1 { "" } else { "s" }
            ),
            Some(broken) => {
                write!(f, "audit chain BROKEN at record {}: {}", broken.seq, broken.reason)
            }
        }
    }
}

/// The body of a line: a record without its hash, fields in the order of [`AuditRecord`].
#[derive(Serialize)]
struct Body<'a> {
    v: u32,
    seq: u64,
    time: &'a str,
    execution_id: &'a str,
    prev_hash: &'a str,
    #[serde(flatten)]
    event: &'a AuditEvent,
}

/// The few fields read before trusting a line to be of a format this build knows.
#[derive(Deserialize)]
struct Head {
    v: u32,
    seq: u64,
}

/// A line taken apart.
struct Line {
    record: AuditRecord,
    /// The bytes the hash covers after `prev_hash`.
    body: Vec<u8>,
    /// The hash at the end of the line.
    hash: String,
}

/// Why a line could not be read.
enum LineError {
    Malformed(String),
    Format(u32),
}

/// What an append needs from the end of the file.
struct Tail {
    /// The length of the file up to and including the last newline.
    complete_len: u64,
    /// The last complete line, without its newline.
    last_line: Option<Vec<u8>>,
    /// Bytes after the last newline: an interrupted write.
    torn: Vec<u8>,
}

impl AuditLog {
    /// Opens the log in the data directory `home`, creating `<home>/audit/` (mode 0700 on
    /// unix) and an empty `audit.jsonl` (0600) when missing.
    pub fn open(home: &Path) -> Result<AuditLog> {
        let directory = cloudops_core::DataDir::new(home).audit();
        create_private_dir(&directory)?;
        let file = directory.join(LOG_FILE);
        let log = AuditLog { directory, file };
        if !log.file.exists() {
            let mut options = OpenOptions::new();
            options.append(true).create(true);
            private_file(&mut options);
            options.open(&log.file).map_err(|e| io_error("cannot create", &log.file, e))?;
            // The new file's name must survive a crash too.
            sync_dir(&log.directory);
        }
        Ok(log)
    }

    /// The log file (`<home>/audit/audit.jsonl`).
    pub fn path(&self) -> &Path {
        &self.file
    }

    /// Appends one record for `execution_id`, chained to the last one, and returns it once
    /// it is on disk (written and `fsync`ed). Safe to call from several threads and processes
    /// at once. `event` must hold redacted text only.
    pub fn append(&self, execution_id: &str, event: AuditEvent) -> Result<AuditRecord> {
        check_execution_id(execution_id)?;
        let event = bounded(event);
        let mut options = OpenOptions::new();
        options.read(true).append(true).create(true);
        private_file(&mut options);
        let mut file =
            options.open(&self.file).map_err(|e| io_error("cannot open", &self.file, e))?;
        file.lock().map_err(|e| io_error("cannot lock", &self.file, e))?;

        let tail = read_tail(&mut file).map_err(|e| io_error("cannot read", &self.file, e))?;
        if !tail.torn.is_empty() {
            self.set_aside(&tail)?;
            file.set_len(tail.complete_len)
                .map_err(|e| io_error("cannot cut the incomplete last line of", &self.file, e))?;
        }
        let (seq, prev_hash) = match &tail.last_line {
            None => (1, GENESIS_HASH.to_owned()),
            Some(line) => {
                let (head, hash) = read_head(line).map_err(|error| match error {
                    LineError::Malformed(reason) => Error::AuditDamaged(format!(
                        "the last line of {} is not a record ({reason})",
                        self.file.display()
                    )),
                    LineError::Format(found) => {
                        Error::AuditFormat { found, supported: FORMAT_VERSION }
                    }
                })?;
                (head.seq + 1, hash)
            }
        };

        let time = time::rfc3339_millis(SystemTime::now());
        let body = serde_json::to_vec(&Body {
            v: FORMAT_VERSION,
            seq,
            time: &time,
            execution_id,
            prev_hash: &prev_hash,
            event: &event,
        })
        .map_err(|e| Error::Audit(format!("cannot encode an audit record: {e}")))?;
        let hash = chain_hash(&prev_hash, &body);
        let mut line = body;
        line.pop(); // the closing brace, which the tail puts back
        line.extend_from_slice(HASH_PREFIX);
        line.extend_from_slice(hash.as_bytes());
        line.extend_from_slice(b"\"}\n");

        if let Err(error) = file.write_all(&line).and_then(|()| file.sync_all()) {
            // Leave no half record behind when we can; if this fails too, the next append
            // sets the torn bytes aside.
            let _ = file.set_len(tail.complete_len).and_then(|()| file.sync_all());
            return Err(io_error("cannot write", &self.file, error));
        }
        drop(file); // closing releases the lock
        Ok(AuditRecord {
            version: FORMAT_VERSION,
            seq,
            time,
            execution_id: execution_id.to_owned(),
            prev_hash,
            event,
            hash,
        })
    }

    /// Every record, oldest first. An incomplete last line (an interrupted write) is
    /// skipped; any other line that is not a record is an error. This reads, it does not
    /// check the chain: that is [`Self::verify`].
    pub fn records(&self) -> Result<Vec<AuditRecord>> {
        let bytes = self.read_all()?;
        let (complete, _torn) = split_torn(&bytes);
        lines(complete)
            .enumerate()
            .map(|(index, line)| {
                parse_line(line).map(|line| line.record).map_err(|error| match error {
                    LineError::Malformed(reason) => Error::AuditDamaged(format!(
                        "line {} of {} is not a record ({reason})",
                        index + 1,
                        self.file.display()
                    )),
                    LineError::Format(found) => {
                        Error::AuditFormat { found, supported: FORMAT_VERSION }
                    }
                })
            })
            .collect()
    }

    /// The records of one execution, named by its id or a unique prefix of it.
    pub fn execution(&self, id_or_prefix: &str) -> Result<Vec<AuditRecord>> {
        let records = self.records()?;
        let id = resolve(&records, id_or_prefix)?;
        Ok(records.into_iter().filter(|record| record.execution_id == id).collect())
    }

    /// Every execution, summarized, in the order they started.
    pub fn executions(&self) -> Result<Vec<ExecutionSummary>> {
        Ok(summarize(&self.records()?))
    }

    /// Checks the whole chain from the raw bytes of the file. A broken chain is a report,
    /// not an error; errors are for a file that cannot be read.
    pub fn verify(&self) -> Result<ChainReport> {
        Ok(check_chain(&self.read_all()?))
    }

    /// The whole file, read under a shared lock so no half-written record is seen.
    fn read_all(&self) -> Result<Vec<u8>> {
        let mut file = match File::open(&self.file) {
            Ok(file) => file,
            Err(error) if error.kind() == IoErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(io_error("cannot open", &self.file, error)),
        };
        file.lock_shared().map_err(|e| io_error("cannot lock", &self.file, e))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(|e| io_error("cannot read", &self.file, e))?;
        Ok(bytes)
    }

    /// Keeps the bytes of an interrupted write in a file of their own.
    fn set_aside(&self, tail: &Tail) -> Result<()> {
        let stamp = time::compact(SystemTime::now());
        let path = self.directory.join(format!("torn-{stamp}-{}.partial", tail.complete_len));
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        private_file(&mut options);
        let mut file = options.open(&path).map_err(|e| io_error("cannot create", &path, e))?;
        file.write_all(&tail.torn)
            .and_then(|()| file.sync_all())
            .map_err(|e| io_error("cannot write", &path, e))?;
        sync_dir(&self.directory);
        tracing::warn!(
            bytes = tail.torn.len(),
            kept_in = %path.display(),
            "the audit log ended in an incomplete line (an interrupted write); set it aside"
        );
        Ok(())
    }
}

/// A new execution id: the UTC time to the second and 8 random hexadecimal digits, e.g.
/// `20261126T101500Z-3f9a2c07`. Ids sort by time; any unique prefix names one.
pub fn new_execution_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now();
    let nanos = now.duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    // Randomness without a dependency: std's hasher keys are seeded from the OS; the clock,
    // the process id and a counter keep ids of one process apart even so.
    let random = std::hash::RandomState::new().hash_one((
        nanos,
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        std::thread::current().id(),
    ));
    let mut hasher = blake3::Hasher::new();
    hasher.update(&nanos.to_le_bytes());
    hasher.update(&random.to_le_bytes());
    let digest = hasher.finalize();
    let suffix: String = digest.to_hex().chars().take(8).collect();
    format!("{}-{suffix}", time::compact(now))
}

/// The hash an approval refers to: blake3, in hexadecimal, of the plan's JSON as
/// `serde_json::to_vec` writes it.
pub fn plan_hash(plan: &PlanResponse) -> String {
    // Serializing plain structs, string-keyed maps and finite numbers cannot fail; the
    // empty fallback still hashes to something no plan has.
    let bytes = serde_json::to_vec(plan).unwrap_or_default();
    blake3::hash(&bytes).to_hex().to_string()
}

/// `blake3(prev_hash || body)` in hexadecimal.
fn chain_hash(prev_hash: &str, body: &[u8]) -> String {
    let mut hasher = blake3::Hasher::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(body);
    hasher.finalize().to_hex().to_string()
}

/// Splits off a last line without its newline.
fn split_torn(bytes: &[u8]) -> (&[u8], &[u8]) {
    match bytes.iter().rposition(|&byte| byte == b'\n') {
        Some(end) => bytes.split_at(end + 1),
        None => (&[], bytes),
    }
}

/// The lines of `complete` (which is empty or ends in a newline), without their newlines.
fn lines(complete: &[u8]) -> impl Iterator<Item = &[u8]> {
    let without_last_newline = complete.strip_suffix(b"\n").unwrap_or(complete);
    let empty = complete.is_empty();
    without_last_newline.split(|&byte| byte == b'\n').filter(move |_| !empty)
}

/// The body and hash of a line, from its bytes.
fn split_hash(line: &[u8]) -> Result<(Vec<u8>, String), LineError> {
    let malformed = || LineError::Malformed("no hash at the end of the line".to_owned());
    if line.len() < TAIL_LEN + 2 {
        return Err(if line.is_empty() {
            LineError::Malformed("empty line".to_owned())
        } else {
            malformed()
        });
    }
    let (start, tail) = line.split_at(line.len() - TAIL_LEN);
    let hash = tail
        .strip_prefix(HASH_PREFIX)
        .and_then(|rest| rest.strip_suffix(b"\"}"))
        .filter(|hash| hash.iter().all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f')))
        .ok_or_else(malformed)?;
    let mut body = start.to_vec();
    body.push(b'}');
    Ok((body, String::from_utf8_lossy(hash).into_owned()))
}

/// The format, sequence number and hash of a line, without reading its event.
fn read_head(line: &[u8]) -> Result<(Head, String), LineError> {
    let (_, hash) = split_hash(line)?;
    let head: Head =
        serde_json::from_slice(line).map_err(|e| LineError::Malformed(e.to_string()))?;
    if head.v > FORMAT_VERSION {
        return Err(LineError::Format(head.v));
    }
    Ok((head, hash))
}

fn parse_line(line: &[u8]) -> Result<Line, LineError> {
    let (body, hash) = split_hash(line)?;
    read_head(line)?;
    let record: AuditRecord =
        serde_json::from_slice(line).map_err(|e| LineError::Malformed(e.to_string()))?;
    Ok(Line { record, body, hash })
}

/// Walks the chain; stops at the first break.
fn check_chain(bytes: &[u8]) -> ChainReport {
    let (complete, torn) = split_torn(bytes);
    let all: Vec<&[u8]> = lines(complete).collect();
    let mut prev_hash = GENESIS_HASH.to_owned();
    let mut head = None;
    let mut checked = 0u64;
    let report = |checked: u64, head: Option<String>, broken: Option<ChainBreak>| ChainReport {
        intact: broken.is_none(),
        records: checked,
        head,
        broken,
    };
    for (index, raw) in all.iter().enumerate() {
        let seq = checked + 1;
        let broken = |problem, reason: String| Some(ChainBreak { seq, problem, reason });
        let line = match parse_line(raw) {
            Ok(line) => line,
            Err(LineError::Malformed(reason)) => {
                return report(
                    checked,
                    head,
                    broken(
                        ChainProblem::Malformed,
                        format!("line {seq} is not a record: {reason}"),
                    ),
                );
            }
            Err(LineError::Format(found)) => {
                return report(
                    checked,
                    head,
                    broken(
                        ChainProblem::UnsupportedFormat,
                        format!(
                            "record {seq} has format {found}; this build reads {FORMAT_VERSION}: \
                             upgrade cloudops"
                        ),
                    ),
                );
            }
        };
        let record = &line.record;
        if chain_hash(&record.prev_hash, &line.body) != line.hash || record.hash != line.hash {
            return report(
                checked,
                head,
                broken(
                    ChainProblem::Modified,
                    format!("record {seq} does not match its hash: it was modified"),
                ),
            );
        }
        if record.seq != seq {
            let later = all[index + 1..]
                .iter()
                .any(|raw| serde_json::from_slice::<Head>(raw).is_ok_and(|other| other.seq == seq));
            let (problem, reason) = if record.seq > seq && !later {
                let missing = if record.seq == seq + 1 {
                    format!("record {seq} is missing")
                } else {
                    format!("records {seq} to {} are missing", record.seq - 1)
                };
                (ChainProblem::Missing, format!("{missing} (found record {} next)", record.seq))
            } else {
                (
                    ChainProblem::OutOfOrder,
                    format!(
                        "record {} is where record {seq} should be (moved or repeated)",
                        record.seq
                    ),
                )
            };
            return report(checked, head, broken(problem, reason));
        }
        if record.prev_hash != prev_hash {
            return report(
                checked,
                head,
                broken(
                    ChainProblem::Unlinked,
                    format!(
                        "record {seq} does not chain to record {}: a record was inserted or \
                         replaced",
                        seq - 1
                    ),
                ),
            );
        }
        prev_hash = line.hash;
        head = Some(prev_hash.clone());
        checked = seq;
    }
    if !torn.is_empty() {
        let seq = checked + 1;
        return report(
            checked,
            head,
            Some(ChainBreak {
                seq,
                problem: ChainProblem::Torn,
                reason: format!(
                    "the last line ({} bytes) is incomplete: a write was interrupted, or the file \
                     was cut; the next append sets it aside",
                    torn.len()
                ),
            }),
        );
    }
    report(checked, head, None)
}

/// The id `id_or_prefix` names among the records' executions.
fn resolve(records: &[AuditRecord], id_or_prefix: &str) -> Result<String> {
    let mut seen = HashSet::new();
    let ids: Vec<&str> = records
        .iter()
        .map(|record| record.execution_id.as_str())
        .filter(|id| seen.insert(*id))
        .collect();
    if let Some(id) = ids.iter().find(|id| **id == id_or_prefix) {
        return Ok((*id).to_owned());
    }
    if id_or_prefix.trim().is_empty() {
        return Err(Error::InvalidExecutionId(
            "an empty execution id; see `cloudops history` for the ids".to_owned(),
        ));
    }
    let matches: Vec<&str> = ids.into_iter().filter(|id| id.starts_with(id_or_prefix)).collect();
    match matches.as_slice() {
        [] => Err(Error::UnknownExecution(id_or_prefix.to_owned())),
        [id] => Ok((*id).to_owned()),
        _ => Err(Error::AmbiguousExecution {
            prefix: id_or_prefix.to_owned(),
            matches: matches.into_iter().map(str::to_owned).collect(),
        }),
    }
}

/// The executions of `records`, in the order they started; what [`AuditLog::executions`]
/// returns, for callers that already hold the records.
pub fn summarize(records: &[AuditRecord]) -> Vec<ExecutionSummary> {
    let mut summaries: Vec<ExecutionSummary> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for record in records {
        let position = *index.entry(&record.execution_id).or_insert_with(|| {
            summaries.push(ExecutionSummary {
                id: record.execution_id.clone(),
                started: record.time.clone(),
                finished: None,
                prompt: String::new(),
                playbook: None,
                resources: Vec::new(),
                outcome: None,
                approval: None,
                commands: 0,
                first_seq: record.seq,
                last_seq: record.seq,
            });
            summaries.len() - 1
        });
        let summary = &mut summaries[position];
        summary.last_seq = record.seq;
        match &record.event {
            AuditEvent::Planned { prompt, resources, plan, .. } => {
                summary.prompt.clone_from(prompt);
                summary.playbook = plan.playbook.as_ref().map(|playbook| playbook.id.clone());
                summary.resources = resources.iter().map(resource_label).collect();
            }
            AuditEvent::Approved { method, .. } => summary.approval = Some(*method),
            AuditEvent::Command { .. } => summary.commands += 1,
            AuditEvent::Refused { .. }
            | AuditEvent::Requested { .. }
            | AuditEvent::Target { .. } => {}
            AuditEvent::Finished { outcome, .. } => {
                summary.outcome = Some(*outcome);
                summary.finished = Some(record.time.clone());
            }
        }
    }
    summaries
}

/// A resource as people name it: its name, else its id, else its ARN.
fn resource_label(resource: &IdentifiedResource) -> String {
    resource
        .name
        .clone()
        .or_else(|| resource.identifier().map(str::to_owned))
        .or_else(|| resource.arn.clone())
        .unwrap_or_else(|| resource.resource_type.to_string())
}

fn check_execution_id(id: &str) -> Result<()> {
    let valid = !id.is_empty()
        && id.len() <= 128
        && id.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c));
    if valid {
        Ok(())
    } else {
        Err(Error::InvalidExecutionId(format!(
            "{:?} is not an execution id (1 to 128 letters, digits, `-`, `_`, `.`, `:`); use \
             new_execution_id()",
            id.chars().take(40).collect::<String>()
        )))
    }
}

/// The event with its output and error cut to [`OUTPUT_LIMIT`].
fn bounded(mut event: AuditEvent) -> AuditEvent {
    if let AuditEvent::Command { output, error, .. } = &mut event {
        cut(output);
        if let Some(error) = error {
            cut(error);
        }
    }
    event
}

fn cut(text: &mut String) {
    if text.len() > OUTPUT_LIMIT {
        let mut end = OUTPUT_LIMIT - CUT_MARK.len();
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push_str(CUT_MARK);
    }
}

/// Reads backwards from the end until the last complete line is found.
fn read_tail(file: &mut File) -> std::io::Result<Tail> {
    const CHUNK: u64 = 8 * 1024;
    let len = file.metadata()?.len();
    let mut start = len;
    let mut buffer: Vec<u8> = Vec::new(); // the file from `start` to the end
    loop {
        match buffer.iter().rposition(|&byte| byte == b'\n') {
            Some(last_newline) => {
                let previous = buffer[..last_newline].iter().rposition(|&byte| byte == b'\n');
                if previous.is_some() || start == 0 {
                    let line_start = previous.map_or(0, |newline| newline + 1);
                    return Ok(Tail {
                        complete_len: start + last_newline as u64 + 1,
                        last_line: Some(buffer[line_start..last_newline].to_vec()),
                        torn: buffer[last_newline + 1..].to_vec(),
                    });
                }
            }
            None if start == 0 => {
                return Ok(Tail { complete_len: 0, last_line: None, torn: buffer });
            }
            None => {}
        }
        let from = start.saturating_sub(CHUNK);
        let mut chunk = vec![0; (start - from) as usize];
        file.seek(SeekFrom::Start(from))?;
        file.read_exact(&mut chunk)?;
        chunk.extend_from_slice(&buffer);
        buffer = chunk;
        start = from;
    }
}

fn io_error(what: &str, path: &Path, error: std::io::Error) -> Error {
    Error::Audit(format!("{what} {}: {error}", path.display()))
}

fn create_private_dir(directory: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(directory).map_err(|e| io_error("cannot create", directory, e))
}

fn private_file(options: &mut OpenOptions) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = options;
}

/// Makes a directory's entries durable; best effort (not possible on every platform).
fn sync_dir(directory: &Path) {
    #[cfg(unix)]
    if let Ok(handle) = File::open(directory) {
        let _ = handle.sync_all();
    }
    #[cfg(not(unix))]
    let _ = directory;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finished() -> AuditEvent {
        AuditEvent::Finished { outcome: Outcome::Succeeded, message: "done".into() }
    }

    #[test]
    fn times_and_ids_have_their_shapes() {
        let time = time::rfc3339_millis(SystemTime::now());
        assert_eq!(time.len(), 24, "{time}");
        assert!(time.ends_with('Z') && time.as_bytes()[10] == b'T' && time.as_bytes()[19] == b'.');
        let id = new_execution_id();
        assert_eq!(id.len(), 25, "{id}");
        assert_eq!(&id[8..9], "T");
        assert_eq!(&id[15..17], "Z-");
        assert!(check_execution_id(&id).is_ok());
        assert_ne!(id, new_execution_id());
    }

    #[test]
    fn a_line_ends_in_its_hash_and_the_body_hashes_to_it() {
        let body = serde_json::to_vec(&Body {
            v: 1,
            seq: 1,
            time: "t",
            execution_id: "x",
            prev_hash: GENESIS_HASH,
            event: &finished(),
        })
        .expect("json");
        let hash = chain_hash(GENESIS_HASH, &body);
        let mut line = body.clone();
        line.pop();
        line.extend_from_slice(HASH_PREFIX);
        line.extend_from_slice(hash.as_bytes());
        line.extend_from_slice(b"\"}");
        let parsed = parse_line(&line).ok().expect("a record");
        assert_eq!(parsed.body, body);
        assert_eq!(parsed.hash, hash);
        assert_eq!(parsed.record.hash, hash);
        assert_eq!(parsed.record.event, finished());
        // The record serializes back to the same line: the hash is its last field.
        assert_eq!(serde_json::to_vec(&parsed.record).expect("json"), line);
    }

    #[test]
    fn event_fields_do_not_collide_with_record_fields() {
        let reserved = ["v", "seq", "time", "execution_id", "prev_hash", "hash"];
        let command = AuditEvent::Command {
            phase: Phase::Script,
            step_id: "1".into(),
            argv: vec!["aws".into()],
            account_id: None,
            exit_code: Some(0),
            duration_ms: 1,
            output_digest: String::new(),
            output: String::new(),
            error: None,
        };
        let events = [
            command,
            finished(),
            AuditEvent::Refused { reasons: vec![] },
            AuditEvent::Approved { by: "me".into(), method: ApprovalMethod::Confirmed },
        ];
        for event in events {
            let value = serde_json::to_value(&event).expect("json");
            for key in reserved {
                assert!(value.get(key).is_none(), "{} has {key}", event.kind());
            }
        }
    }

    #[test]
    fn long_outputs_are_cut_at_a_character_boundary() {
        let mut text = "é".repeat(OUTPUT_LIMIT);
        cut(&mut text);
        assert!(text.len() <= OUTPUT_LIMIT);
        assert!(text.ends_with(CUT_MARK));
        let mut short = "ok".to_owned();
        cut(&mut short);
        assert_eq!(short, "ok");
    }

    #[test]
    fn lines_of_empty_and_complete_text() {
        assert_eq!(lines(b"").count(), 0);
        assert_eq!(lines(b"a\n").collect::<Vec<_>>(), vec![b"a".as_slice()]);
        assert_eq!(lines(b"a\n\nb\n").count(), 3);
        assert_eq!(split_torn(b"a\nb"), (b"a\n".as_slice(), b"b".as_slice()));
        assert_eq!(split_torn(b"b"), (b"".as_slice(), b"b".as_slice()));
    }
}
