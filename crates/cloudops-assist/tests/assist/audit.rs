//! The audit trail on a real file: records read back as written, the chain verifies, every
//! kind of tampering is found where it happened, and concurrent writers (threads with their
//! own handles, and other processes) keep the chain whole.
//!
//! The two-process test re-runs this binary: `in_child_appends` is ignored and only appends
//! when its parent test runs it with the log's home in the environment.

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Barrier};

use cloudops_assist::{
    ApprovalMethod, AuditEvent, AuditLog, AuditRecord, ChainProblem, Error, GENESIS_HASH,
    OUTPUT_LIMIT, Outcome, Phase, new_execution_id, plan_hash,
};
use cloudops_core::{ErrorKind, IdentifiedResource, PlanResponse};
use serde_json::json;

/// Set by the parent of `in_child_appends`: the data directory to append to.
const CHILD_HOME_ENV: &str = "CLOUDOPS_TEST_AUDIT_HOME";
/// Set by the parent of `in_child_appends`: the child's name, used in its execution ids.
const CHILD_NAME_ENV: &str = "CLOUDOPS_TEST_AUDIT_CHILD";
/// Records each child appends.
const CHILD_RECORDS: usize = 60;

fn resource() -> IdentifiedResource {
    serde_json::from_value(json!({
        "resource_type": "rds_instance",
        "arn": "arn:aws:rds:us-east-1:123456789012:db:pg-instance-main1",
        "id": "pg-instance-main1",
        "account_id": "123456789012",
        "account_name": "production",
        "region": "us-east-1",
        "current_state": "available",
        "tags": {"env": "prod"},
        "engine": "postgres"
    }))
    .expect("a resource")
}

fn plan() -> PlanResponse {
    serde_json::from_value(json!({
        "explain_plan": "Stop the RDS instance pg-instance-main1 in us-east-1.",
        "script": {"steps": [{
            "step_id": "1",
            "command": "aws rds stop-db-instance",
            "args": ["--db-instance-identifier", "pg-instance-main1", "--region", "us-east-1"],
            "account_id": "123456789012"
        }]},
        "risk_assessment": {"level": "medium", "reasons": ["production"], "impact": "downtime"},
        "approval_required": true,
        "playbook": {"id": "aws_rds_stop_instance", "version": "1.0.0"},
        "intent": {"operation": "stop", "service": "rds", "confidence": 0.5}
    }))
    .expect("a plan")
}

fn planned(prompt: &str) -> AuditEvent {
    let plan = plan();
    AuditEvent::Planned {
        prompt: prompt.to_owned(),
        resources: vec![resource()],
        plan_hash: plan_hash(&plan),
        plan,
        planner: "in-process".to_owned(),
    }
}

fn command(step_id: &str, exit_code: Option<i32>) -> AuditEvent {
    AuditEvent::Command {
        phase: Phase::Script,
        step_id: step_id.to_owned(),
        argv: vec![
            "aws".into(),
            "rds".into(),
            "stop-db-instance".into(),
            "--db-instance-identifier".into(),
            "pg-instance-main1".into(),
        ],
        account_id: Some("123456789012".into()),
        exit_code,
        duration_ms: 1234,
        output_digest: format!("blake3:{}", blake3::hash(b"{}").to_hex()),
        output: "{\"DBInstance\": {\"DBInstanceStatus\": \"stopping\"}}\n".to_owned(),
        error: None,
    }
}

/// One whole execution: planned, approved, one command, finished.
fn execution(log: &AuditLog, prompt: &str) -> (String, Vec<AuditRecord>) {
    let id = new_execution_id();
    let records = vec![
        log.append(&id, planned(prompt)).expect("planned"),
        log.append(
            &id,
            AuditEvent::Approved { by: "alice".into(), method: ApprovalMethod::TypedName },
        )
        .expect("approved"),
        log.append(&id, command("1", Some(0))).expect("command"),
        log.append(
            &id,
            AuditEvent::Finished { outcome: Outcome::Succeeded, message: "stopped".into() },
        )
        .expect("finished"),
    ];
    (id, records)
}

/// A log of three executions (12 records).
fn log_of_three() -> (tempfile::TempDir, AuditLog) {
    let home = tempfile::tempdir().expect("temporary directory");
    let log = AuditLog::open(home.path()).expect("open");
    for prompt in ["Stop pg-instance-main1", "Stop pg-instance-main2", "Stop pg-instance-main3"] {
        execution(&log, prompt);
    }
    (home, log)
}

fn file_lines(log: &AuditLog) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(log.path()).expect("read the log");
    bytes.split(|&b| b == b'\n').filter(|line| !line.is_empty()).map(<[u8]>::to_vec).collect()
}

fn write_lines(log: &AuditLog, lines: &[Vec<u8>]) {
    let mut bytes = Vec::new();
    for line in lines {
        bytes.extend_from_slice(line);
        bytes.push(b'\n');
    }
    std::fs::write(log.path(), bytes).expect("write the log");
}

/// A line that is a well-formed record with a correct hash of its own, chained to `prev`.
fn forged_line(seq: u64, prev_hash: &str) -> Vec<u8> {
    let body = format!(
        "{{\"v\":1,\"seq\":{seq},\"time\":\"2026-01-01T00:00:00.000Z\",\"execution_id\":\"forged\",\
         \"prev_hash\":\"{prev_hash}\",\"event\":\"finished\",\"outcome\":\"succeeded\",\
         \"message\":\"nothing to see\"}}"
    );
    let mut hasher = blake3::Hasher::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(body.as_bytes());
    let hash = hasher.finalize().to_hex();
    format!("{},\"hash\":\"{hash}\"}}", &body[..body.len() - 1]).into_bytes()
}

fn hash_of(line: &[u8]) -> String {
    let record: AuditRecord = serde_json::from_slice(line).expect("a record");
    record.hash
}

#[test]
fn appended_records_read_back_and_chain() {
    let home = tempfile::tempdir().expect("temporary directory");
    let log = AuditLog::open(home.path()).expect("open");
    assert_eq!(log.path(), home.path().join("audit").join("audit.jsonl"));
    assert!(log.records().expect("records").is_empty());
    let empty = log.verify().expect("verify");
    assert!(empty.intact && empty.records == 0 && empty.head.is_none());

    let (id, written) = execution(&log, "Stop pg-instance-main1");
    let read = log.records().expect("records");
    assert_eq!(read, written);
    assert_eq!(read.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2, 3, 4]);
    assert_eq!(read[0].prev_hash, GENESIS_HASH);
    for pair in read.windows(2) {
        assert_eq!(pair[1].prev_hash, pair[0].hash);
    }
    assert!(read.iter().all(|r| r.execution_id == id && r.version == 1));
    assert!(read[0].time.ends_with('Z') && read[0].time.len() == 24, "{}", read[0].time);

    // One line per record, the event inline, the hash last.
    let lines = file_lines(&log);
    assert_eq!(lines.len(), 4);
    let first = String::from_utf8(lines[0].clone()).expect("utf-8");
    assert!(first.starts_with("{\"v\":1,\"seq\":1,"), "{first}");
    assert!(first.contains("\"event\":\"planned\""), "{first}");
    assert!(first.ends_with(&format!(",\"hash\":\"{}\"}}", read[0].hash)), "{first}");

    let report = log.verify().expect("verify");
    assert!(report.intact, "{report}");
    assert_eq!(report.records, 4);
    assert_eq!(report.head.as_deref(), Some(read[3].hash.as_str()));
    assert_eq!(report.to_string(), "audit chain intact: 4 records");

    let summaries = log.executions().expect("executions");
    assert_eq!(summaries.len(), 1);
    let summary = &summaries[0];
    assert_eq!(summary.id, id);
    assert_eq!(summary.prompt, "Stop pg-instance-main1");
    assert_eq!(summary.playbook.as_deref(), Some("aws_rds_stop_instance"));
    assert_eq!(summary.resources, ["pg-instance-main1"]);
    assert_eq!(summary.outcome, Some(Outcome::Succeeded));
    assert_eq!(summary.approval, Some(ApprovalMethod::TypedName));
    assert_eq!(summary.commands, 1);
    assert_eq!(summary.started, read[0].time);
    assert_eq!(summary.finished.as_deref(), Some(read[3].time.as_str()));
    assert_eq!((summary.first_seq, summary.last_seq), (1, 4));

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |path: &Path| std::fs::metadata(path).expect("metadata").permissions().mode();
        assert_eq!(mode(&home.path().join("audit")) & 0o777, 0o700);
        assert_eq!(mode(log.path()) & 0o777, 0o600);
    }
}

#[test]
fn an_unfinished_execution_has_no_outcome() {
    let home = tempfile::tempdir().expect("temporary directory");
    let log = AuditLog::open(home.path()).expect("open");
    let id = new_execution_id();
    log.append(&id, planned("Stop pg-instance-main1")).expect("planned");
    let summary = &log.executions().expect("executions")[0];
    assert_eq!(summary.outcome, None);
    assert_eq!(summary.finished, None);
    assert_eq!(summary.approval, None);
}

#[test]
fn reopening_continues_the_chain() {
    let home = tempfile::tempdir().expect("temporary directory");
    let first = {
        let log = AuditLog::open(home.path()).expect("open");
        execution(&log, "Stop pg-instance-main1").1
    };
    let log = AuditLog::open(home.path()).expect("reopen");
    let (_, second) = execution(&log, "Start pg-instance-main1");
    assert_eq!(second[0].seq, 5);
    assert_eq!(second[0].prev_hash, first[3].hash);
    let report = log.verify().expect("verify");
    assert!(report.intact && report.records == 8, "{report}");
    assert_eq!(log.executions().expect("executions").len(), 2);
}

/// Tampers with a log of three executions and checks where and how verify finds it.
fn check_tampering(
    what: &str,
    tamper: impl FnOnce(&mut Vec<Vec<u8>>),
    seq: u64,
    problem: ChainProblem,
) {
    let (_home, log) = log_of_three();
    let mut lines = file_lines(&log);
    tamper(&mut lines);
    write_lines(&log, &lines);
    let report = log.verify().expect("verify");
    assert!(!report.intact, "{what}: not detected");
    let broken = report.broken.as_ref().expect("a break");
    assert_eq!((broken.seq, broken.problem), (seq, problem), "{what}: {report}");
    assert_eq!(report.records, seq - 1, "{what}");
    assert!(report.to_string().starts_with(&format!("audit chain BROKEN at record {seq}: ")));
}

#[test]
fn every_kind_of_tampering_is_detected_where_it_happened() {
    check_tampering(
        "a byte of the first prompt edited",
        |lines| {
            let line = &mut lines[0];
            let at = line.windows(4).position(|w| w == b"main").expect("the prompt");
            line[at] = b'M';
        },
        1,
        ChainProblem::Modified,
    );
    check_tampering(
        "an exit code edited",
        |lines| {
            let text = String::from_utf8(lines[6].clone()).expect("utf-8");
            assert!(text.contains("\"exit_code\":0"), "{text}");
            lines[6] = text.replace("\"exit_code\":0", "\"exit_code\":1").into_bytes();
        },
        7,
        ChainProblem::Modified,
    );
    check_tampering(
        "a hash edited",
        |lines| {
            let last = lines[2].len() - 3;
            lines[2][last] = if lines[2][last] == b'0' { b'1' } else { b'0' };
        },
        3,
        ChainProblem::Modified,
    );
    check_tampering(
        "a middle line deleted",
        |lines| {
            lines.remove(5);
        },
        6,
        ChainProblem::Missing,
    );
    check_tampering("two lines swapped", |lines| lines.swap(3, 4), 4, ChainProblem::OutOfOrder);
    check_tampering(
        "a record repeated",
        |lines| {
            let copy = lines[2].clone();
            lines.insert(3, copy);
        },
        4,
        ChainProblem::OutOfOrder,
    );
    check_tampering(
        "a forged line appended with a wrong prev hash",
        |lines| {
            let wrong = hash_of(&lines[10]);
            lines.push(forged_line(13, &wrong));
        },
        13,
        ChainProblem::Unlinked,
    );
    check_tampering(
        "a forged record inserted in the middle, renumbering nothing",
        |lines| {
            let prev = hash_of(&lines[5]);
            lines.insert(6, forged_line(7, &prev));
        },
        8,
        ChainProblem::OutOfOrder,
    );
    check_tampering(
        "a garbage line inserted",
        |lines| lines.insert(8, b"{\"seq\": 9, oops".to_vec()),
        9,
        ChainProblem::Malformed,
    );
    check_tampering(
        "an empty line inserted",
        |lines| lines.insert(2, Vec::new()),
        3,
        ChainProblem::Malformed,
    );
    check_tampering(
        "a record of a newer format",
        |lines| {
            let text = String::from_utf8(lines[11].clone()).expect("utf-8");
            lines[11] = text.replacen("{\"v\":1,", "{\"v\":2,", 1).into_bytes();
        },
        12,
        ChainProblem::UnsupportedFormat,
    );
}

#[test]
fn a_truncated_last_line_is_reported_and_appends_go_on() {
    let (home, log) = log_of_three();
    let bytes = std::fs::read(log.path()).expect("read");
    let cut = bytes.len() - 40;
    std::fs::write(log.path(), &bytes[..cut]).expect("truncate");

    let report = log.verify().expect("verify");
    let broken = report.broken.as_ref().expect("a break");
    assert_eq!((broken.seq, broken.problem), (12, ChainProblem::Torn), "{report}");
    assert_eq!(report.records, 11);
    // The torn line is not a record; the others still read.
    assert_eq!(log.records().expect("records").len(), 11);

    let record = log
        .append(&new_execution_id(), AuditEvent::Refused { reasons: vec!["no".into()] })
        .expect("append after a torn line");
    assert_eq!(record.seq, 12);
    let report = log.verify().expect("verify");
    assert!(report.intact && report.records == 12, "{report}");

    // The torn bytes were kept, not thrown away.
    let kept: Vec<_> = std::fs::read_dir(home.path().join("audit"))
        .expect("list")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "partial"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    let start = bytes[..cut].iter().rposition(|&b| b == b'\n').expect("a newline") + 1;
    assert_eq!(std::fs::read(&kept[0]).expect("read"), &bytes[start..cut]);
}

#[test]
fn appends_refuse_to_chain_onto_a_damaged_last_line() {
    let (_home, log) = log_of_three();
    let mut lines = file_lines(&log);
    lines.push(b"not a record".to_vec());
    write_lines(&log, &lines);
    let error = log
        .append(&new_execution_id(), AuditEvent::Refused { reasons: vec![] })
        .expect_err("refused");
    assert!(matches!(error, Error::AuditDamaged(_)), "{error}");
    assert_eq!(error.kind(), ErrorKind::Internal);
    assert!(error.to_string().contains("cloudops history verify"), "{error}");
    assert!(matches!(log.records(), Err(Error::AuditDamaged(_))));

    let (_home, log) = log_of_three();
    let mut lines = file_lines(&log);
    let text = String::from_utf8(lines[11].clone()).expect("utf-8");
    lines[11] = text.replacen("{\"v\":1,", "{\"v\":9,", 1).into_bytes();
    write_lines(&log, &lines);
    let error = log
        .append(&new_execution_id(), AuditEvent::Refused { reasons: vec![] })
        .expect_err("refused");
    assert!(matches!(error, Error::AuditFormat { found: 9, supported: 1 }), "{error}");
    assert_eq!(error.kind(), ErrorKind::Conflict);
}

#[test]
fn an_edited_but_readable_record_still_reads() {
    // Reading is not verifying: `history` can still show a tampered log next to the verdict.
    let (_home, log) = log_of_three();
    let mut lines = file_lines(&log);
    let text = String::from_utf8(lines[0].clone()).expect("utf-8");
    lines[0] = text.replace("main1", "main9").into_bytes();
    write_lines(&log, &lines);
    assert_eq!(log.records().expect("records").len(), 12);
    assert!(!log.verify().expect("verify").intact);
}

#[test]
fn concurrent_appends_from_threads_keep_the_chain() {
    const THREADS: usize = 8;
    const EACH: usize = 40;
    let home = tempfile::tempdir().expect("temporary directory");
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let home = home.path().to_owned();
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                let log = AuditLog::open(&home).expect("open");
                let id = new_execution_id();
                barrier.wait();
                for step in 0..EACH {
                    log.append(&id, command(&step.to_string(), Some(0))).expect("append");
                }
                id
            })
        })
        .collect();
    let ids: Vec<String> = handles.into_iter().map(|h| h.join().expect("thread")).collect();

    let log = AuditLog::open(home.path()).expect("open");
    let report = log.verify().expect("verify");
    assert!(report.intact, "{report}");
    assert_eq!(report.records, (THREADS * EACH) as u64);
    for id in &ids {
        let records = log.execution(id).expect("execution");
        assert_eq!(records.len(), EACH);
        // Each thread's records are in its own order.
        let steps: Vec<String> = records
            .iter()
            .map(|r| match &r.event {
                AuditEvent::Command { step_id, .. } => step_id.clone(),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(steps, (0..EACH).map(|s| s.to_string()).collect::<Vec<_>>());
    }
}

#[test]
fn concurrent_appends_from_processes_keep_the_chain() {
    let home = tempfile::tempdir().expect("temporary directory");
    let log = AuditLog::open(home.path()).expect("open");
    let exe = std::env::current_exe().expect("the test binary's path");
    let children: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|name| {
            Command::new(&exe)
                .args(["audit::in_child_appends", "--exact", "--ignored", "--test-threads=1"])
                .env(CHILD_HOME_ENV, home.path())
                .env(CHILD_NAME_ENV, name)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("the test binary runs")
        })
        .collect();
    // This process writes at the same time.
    let id = new_execution_id();
    for step in 0..CHILD_RECORDS {
        log.append(&id, command(&step.to_string(), None)).expect("append");
    }
    for child in children {
        let output = child.wait_with_output().expect("wait");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains("1 passed"),
            "the child failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let report = log.verify().expect("verify");
    assert!(report.intact, "{report}");
    assert_eq!(report.records, 3 * CHILD_RECORDS as u64);
    let executions = log.executions().expect("executions");
    assert_eq!(executions.len(), 3);
    assert!(executions.iter().all(|e| e.commands == CHILD_RECORDS));
}

/// Appends for its parent test; does nothing when run on its own.
#[test]
#[ignore = "run by concurrent_appends_from_processes_keep_the_chain"]
fn in_child_appends() {
    let Some(home) = std::env::var_os(CHILD_HOME_ENV) else { return };
    let name = std::env::var(CHILD_NAME_ENV).unwrap_or_default();
    let log = AuditLog::open(Path::new(&home)).expect("open");
    let id = format!("{}-{name}", new_execution_id());
    for step in 0..CHILD_RECORDS {
        log.append(&id, command(&step.to_string(), Some(0))).expect("append");
    }
}

#[test]
fn executions_are_found_by_a_unique_prefix() {
    let home = tempfile::tempdir().expect("temporary directory");
    let log = AuditLog::open(home.path()).expect("open");
    let ids = [
        "20260101T000000Z-aaaa1111",
        "20260101T000000Z-aaaa2222",
        "20260101T000001Z-bbbb3333",
        "20260101T000001Z-bbbb3333x",
    ];
    for id in ids {
        log.append(id, planned(id)).expect("planned");
        log.append(id, AuditEvent::Finished { outcome: Outcome::DryRun, message: String::new() })
            .expect("finished");
    }

    let found = log.execution("20260101T000000Z-aaaa1").expect("unique prefix");
    assert_eq!(found.len(), 2);
    assert!(found.iter().all(|r| r.execution_id == ids[0]));
    // An exact id wins over the longer id it is a prefix of.
    let exact = log.execution(ids[2]).expect("exact id");
    assert!(exact.iter().all(|r| r.execution_id == ids[2]));

    let error = log.execution("20260101T000000Z-aaaa").expect_err("ambiguous");
    match &error {
        Error::AmbiguousExecution { prefix, matches } => {
            assert_eq!(prefix, "20260101T000000Z-aaaa");
            assert_eq!(matches, &[ids[0], ids[1]]);
        }
        other => panic!("not ambiguous: {other}"),
    }
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert!(error.to_string().contains("type more of the id"), "{error}");

    let error = log.execution("2027").expect_err("unknown");
    assert!(matches!(error, Error::UnknownExecution(_)), "{error}");
    assert_eq!(error.kind(), ErrorKind::NotFound);

    let error = log.execution("").expect_err("empty");
    assert_eq!(error.kind(), ErrorKind::InvalidInput);

    let order: Vec<String> =
        log.executions().expect("executions").into_iter().map(|e| e.id).collect();
    assert_eq!(order, ids);
}

#[test]
fn execution_ids_are_checked_and_outputs_bounded() {
    let home = tempfile::tempdir().expect("temporary directory");
    let log = AuditLog::open(home.path()).expect("open");
    for bad in ["", "with space", "new\nline", "\u{1b}[31m"] {
        let error = log
            .append(bad, AuditEvent::Refused { reasons: vec![] })
            .expect_err("an invalid id is refused");
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "{bad:?}");
    }

    let mut huge = command("1", Some(0));
    if let AuditEvent::Command { output, .. } = &mut huge {
        *output = "x".repeat(OUTPUT_LIMIT * 3);
    }
    let record = log.append(&new_execution_id(), huge).expect("append");
    let AuditEvent::Command { output, .. } = &record.event else { panic!("a command") };
    assert!(output.len() <= OUTPUT_LIMIT);
    assert_eq!(log.records().expect("records")[0], record);

    // Untrusted text with control characters is stored escaped, one record per line.
    let id = new_execution_id();
    log.append(&id, planned("Stop\npg\u{1b}[2J-instance\r")).expect("append");
    assert_eq!(file_lines(&log).len(), 2);
    let AuditEvent::Planned { prompt, .. } = &log.execution(&id).expect("execution")[0].event
    else {
        panic!("planned")
    };
    assert_eq!(prompt, "Stop\npg\u{1b}[2J-instance\r");
    assert!(log.verify().expect("verify").intact);
}

#[test]
fn plan_hash_is_stable_and_sensitive() {
    let plan = plan();
    assert_eq!(plan_hash(&plan), plan_hash(&plan.clone()));
    assert_eq!(plan_hash(&plan).len(), 64);
    let mut changed = plan.clone();
    changed.script.steps[0].args[1] = "pg-instance-main2".into();
    assert_ne!(plan_hash(&plan), plan_hash(&changed));
}
