//! `cloudops history`: the audit trail of executions — the list, one execution in full, and
//! the check of the hash chain.
//!
//! Everything read from the log is untrusted text (prompts, tags, command output): it is
//! printed with control and bidirectional formatting characters replaced.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;
use cloudops_assist::{
    AuditEvent, AuditLog, AuditRecord, ChainReport, ExecutionSummary, summarize,
};
use cloudops_core::IdentifiedResource;
use serde_json::{Value, json};

use crate::output::{self, clean};

/// The exit code of `history` and `history verify` when the audit chain is broken.
pub(crate) const BROKEN_CHAIN: u8 = 6;

/// The longest prompt the list shows, in characters.
const PROMPT_WIDTH: usize = 48;
/// The longest resource list the list shows, in characters.
const RESOURCES_WIDTH: usize = 32;

/// `cloudops history [--json] [--limit N]`, `history show ID`, `history verify`. Every form
/// exits 6 when the chain is broken.
#[derive(Debug, clap::Args)]
pub(crate) struct HistoryArgs {
    #[command(subcommand)]
    command: Option<HistoryCommand>,
    /// Print JSON: `{"chain": …, "executions": [… with their "records"]}`.
    #[arg(long)]
    json: bool,
    /// Only the N most recent executions.
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum HistoryCommand {
    /// Everything recorded about one execution: prompt, resources, plan, approval, each
    /// command with its exit code, duration and output digest, and the outcome.
    Show {
        /// The execution id, or any unique prefix of it.
        id: String,
        /// Print JSON: the summary and every record.
        #[arg(long)]
        json: bool,
    },
    /// Check the whole hash chain: "audit chain intact: N records", or where and why it is
    /// broken (exit code 6).
    Verify {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs `cloudops history` against the log in `home`.
pub(crate) fn run(home: &Path, args: HistoryArgs) -> Result<ExitCode> {
    let log = AuditLog::open(home)?;
    match args.command {
        None => list(&log, args.json, args.limit),
        Some(HistoryCommand::Show { id, json }) => show(&log, &id, json || args.json),
        Some(HistoryCommand::Verify { json }) => verify(&log, json || args.json),
    }
}

fn exit_code(report: &ChainReport) -> ExitCode {
    if report.intact { ExitCode::SUCCESS } else { ExitCode::from(BROKEN_CHAIN) }
}

fn verify(log: &AuditLog, json: bool) -> Result<ExitCode> {
    let report = log.verify()?;
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        // The reason may quote a bit of a damaged line.
        writeln!(out, "{}", clean(&report.to_string()))?;
        if let Some(head) = &report.head {
            writeln!(out, "last intact record hash: {head}")?;
        }
    }
    out.flush()?;
    Ok(exit_code(&report))
}

fn list(log: &AuditLog, json: bool, limit: Option<usize>) -> Result<ExitCode> {
    let report = log.verify()?;
    if !report.intact {
        eprintln!("warning: {}", clean(&report.to_string()));
    }
    let records = match log.records() {
        Ok(records) => records,
        Err(error) if !report.intact => {
            eprintln!("error: {}", clean(&error.to_string()));
            return Ok(ExitCode::from(BROKEN_CHAIN));
        }
        Err(error) => return Err(error.into()),
    };
    let mut summaries = summarize(&records);
    if let Some(limit) = limit {
        summaries.drain(..summaries.len().saturating_sub(limit));
    }
    let mut out = std::io::stdout().lock();
    if json {
        let executions: Vec<Value> = summaries
            .iter()
            .map(|summary| execution_json(summary, &records))
            .collect::<Result<_>>()?;
        let value = json!({ "chain": report, "executions": executions });
        serde_json::to_writer_pretty(&mut out, &value)?;
        writeln!(out)?;
    } else {
        write!(out, "{}", table(&summaries))?;
        writeln!(
            out,
            "({} execution{} in {}; {})",
            summaries.len(),
            if summaries.len() == 1 { "" } else { "s" },
            log.path().display(),
            clean(&report.to_string())
        )?;
    }
    out.flush()?;
    Ok(exit_code(&report))
}

fn show(log: &AuditLog, id: &str, json: bool) -> Result<ExitCode> {
    let records = log.execution(id)?;
    let report = log.verify()?;
    let mut out = std::io::stdout().lock();
    let summary = summarize(&records).into_iter().next();
    if json {
        let mut value = match &summary {
            Some(summary) => execution_json(summary, &records)?,
            None => json!({ "records": [] }),
        };
        value["chain"] = serde_json::to_value(&report)?;
        serde_json::to_writer_pretty(&mut out, &value)?;
        writeln!(out)?;
    } else {
        write!(out, "{}", render(&records))?;
        if !report.intact {
            writeln!(out, "warning: {}", clean(&report.to_string()))?;
        }
    }
    out.flush()?;
    Ok(exit_code(&report))
}

/// A summary with its records, for `--json`.
fn execution_json(summary: &ExecutionSummary, records: &[AuditRecord]) -> Result<Value> {
    let mut value = serde_json::to_value(summary)?;
    let own: Vec<&AuditRecord> =
        records.iter().filter(|record| record.execution_id == summary.id).collect();
    value["records"] = serde_json::to_value(own)?;
    Ok(value)
}

/// The list: one row per execution, oldest first.
fn table(summaries: &[ExecutionSummary]) -> String {
    if summaries.is_empty() {
        return "no executions recorded\n".to_owned();
    }
    let headers = ["ID", "STARTED", "OUTCOME", "PLAYBOOK", "RESOURCES", "PROMPT"];
    let rows: Vec<[String; 6]> = summaries
        .iter()
        .map(|summary| {
            [
                clean(&summary.id),
                summary.started.get(..19).unwrap_or(&summary.started).replace('T', " "),
                summary.outcome.map_or_else(|| "unfinished".to_owned(), |o| o.to_string()),
                clean(summary.playbook.as_deref().unwrap_or("-")),
                shorten(&clean(&summary.resources.join(", ")), RESOURCES_WIDTH),
                shorten(&clean(&summary.prompt), PROMPT_WIDTH),
            ]
        })
        .collect();
    output::columns(&headers, &rows)
}

/// One execution in full, record by record.
fn render(records: &[AuditRecord]) -> String {
    let mut out = String::new();
    let (Some(first), Some(last)) = (records.first(), records.last()) else {
        return out;
    };
    let _ = writeln!(
        out,
        "execution {}  (records {}–{})",
        clean(&first.execution_id),
        first.seq,
        last.seq
    );
    let mut finished = false;
    for record in records {
        let time = clean(&record.time);
        match &record.event {
            AuditEvent::Planned { prompt, resources, plan, plan_hash, planner } => {
                let _ = writeln!(out, "{time}  planned by {}", clean(planner));
                let _ = writeln!(out, "  prompt:    {}", clean(prompt));
                for resource in resources {
                    let _ = writeln!(out, "  resource:  {}", resource_line(resource));
                }
                let _ = writeln!(out, "  plan hash: {}", clean(plan_hash));
                for line in output::plan(plan).lines() {
                    let _ = writeln!(out, "  {line}");
                }
                if !plan.risk_assessment.impact.is_empty() {
                    let _ = writeln!(out, "  impact: {}", clean(&plan.risk_assessment.impact));
                }
            }
            AuditEvent::Requested { client, expires_at } => {
                let _ = writeln!(
                    out,
                    "{time}  requested by agent {}; waits for a person until {}",
                    clean(client),
                    clean(expires_at)
                );
            }
            AuditEvent::Refused { reasons } => {
                let _ = writeln!(out, "{time}  refused; nothing ran");
                for reason in reasons {
                    let _ = writeln!(out, "  - {}", clean(reason));
                }
            }
            AuditEvent::Approved { by, method } => {
                let _ = writeln!(out, "{time}  approved by {} ({method})", clean(by));
            }
            AuditEvent::Target { target, result, message } => {
                let _ =
                    writeln!(out, "{time}  target {}: {result}: {}", clean(target), clean(message));
            }
            AuditEvent::Command {
                phase,
                step_id,
                argv,
                account_id,
                exit_code,
                duration_ms,
                output_digest,
                output,
                error,
            } => {
                let _ = writeln!(out, "{time}  {phase} {}: {}", clean(step_id), command_line(argv));
                let exit =
                    exit_code.map_or_else(|| "no exit code".to_owned(), |c| format!("exit {c}"));
                let account = account_id
                    .as_deref()
                    .map(|account| format!(", account {}", clean(account)))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "  {exit}, {duration_ms} ms{account}, output {}",
                    clean(output_digest)
                );
                if let Some(error) = error {
                    let _ = writeln!(out, "  error: {}", clean(error));
                }
                for line in output.lines() {
                    let _ = writeln!(out, "  | {}", clean(line));
                }
            }
            AuditEvent::Finished { outcome, message } => {
                finished = true;
                let _ = writeln!(out, "{time}  finished: {outcome}; {}", clean(message));
            }
        }
    }
    if !finished {
        let _ = writeln!(out, "not finished: the execution is still running, or was interrupted");
    }
    out
}

/// `rds_instance pg-instance-main1 (db-…) in production (123456789012) us-east-1, available`.
fn resource_line(resource: &IdentifiedResource) -> String {
    let mut line = resource.resource_type.to_string();
    let id = resource.identifier();
    match (resource.name.as_deref(), id) {
        (Some(name), Some(id)) if name != id => {
            let _ = write!(line, " {} ({})", clean(name), clean(id));
        }
        (Some(name), _) => {
            let _ = write!(line, " {}", clean(name));
        }
        (None, Some(id)) => {
            let _ = write!(line, " {}", clean(id));
        }
        (None, None) => {
            let _ = write!(line, " {}", clean(resource.arn.as_deref().unwrap_or("?")));
        }
    }
    let account = match &resource.account_name {
        Some(name) => format!("{} ({})", clean(name), clean(&resource.account_id)),
        None => clean(&resource.account_id),
    };
    let _ = write!(line, " in {account} {}", clean(&resource.region));
    if !resource.current_state.is_empty() {
        let _ = write!(line, ", {}", clean(&resource.current_state));
    }
    line
}

/// The arguments as they read back as words (display only; nothing is run through a shell).
fn command_line(argv: &[String]) -> String {
    let words: Vec<String> = argv
        .iter()
        .map(|argument| {
            let argument = clean(argument);
            let plain = !argument.is_empty()
                && argument.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:/=,@+".contains(c));
            if plain { argument } else { format!("'{}'", argument.replace('\'', "'\\''")) }
        })
        .collect();
    words.join(" ")
}

/// At most `width` characters, with `…` when cut.
fn shorten(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(width.saturating_sub(1)).collect();
    short.push('…');
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untrusted_text_is_neutralized() {
        assert_eq!(clean("a\u{1b}[2Jb\r\n"), "a?[2Jb??");
        assert_eq!(clean("evil\u{202E}txt.exe"), "evil?txt.exe");
        assert_eq!(clean("pg-instance-main1"), "pg-instance-main1");
    }

    #[test]
    fn long_text_is_shortened() {
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("abc", 4), "abc");
    }

    #[test]
    fn arguments_read_back_as_words() {
        let argv: Vec<String> =
            ["aws", "s3", "rm", "s3://b/my file", "it's"].map(str::to_owned).to_vec();
        assert_eq!(command_line(&argv), "aws s3 rm 's3://b/my file' 'it'\\''s'");
    }
}
