//! `cloudops ask` and `cloudops resume`: the conversation around the shared ask flow
//! (`cloudops_assist::Assistant`) — show candidates and the plan, ask for approval and pass
//! the answer through (the library judges it), show progress.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Result;
use cloudops_assist::{
    ApprovalInput, ApprovalMethod, ApprovalNeed, Assistant, ExecutionEvent, ExecutionReport, Fleet,
    Outcome, PendingExecution, PendingState, PendingStore, Proposal, Resolution, Verdict,
};
use cloudops_core::{ClientConfig, LookupResult, Resource};
use cloudops_sync::permissions::Access;
use serde_json::json;

use crate::output::{self, clean};

/// Exit code when nothing ran because the plan or the approval was refused.
pub(crate) const EXIT_REFUSED: u8 = 7;
/// Exit code when a mention is ambiguous and nobody can choose.
const EXIT_AMBIGUOUS: u8 = 4;
/// The resources an answer to a question lists.
const QUESTION_LIMIT: usize = 20;
/// Exit code when nothing matches the mention.
const EXIT_NOT_FOUND: u8 = 3;

#[derive(Debug, clap::Args)]
pub(crate) struct AskArgs {
    /// What to do, e.g. "Stop pg-instance-main1".
    prompt: String,
    /// Plan with this server instead of in-process (also `server_url` in config.toml).
    #[arg(long, value_name = "URL")]
    server: Option<String>,
    /// Approve without asking (a destructive high-risk plan also needs --force).
    #[arg(long)]
    yes: bool,
    /// With --yes: approve a destructive high-risk plan too.
    #[arg(long, requires = "yes")]
    force: bool,
    /// Show the verified plan and stop; nothing runs.
    #[arg(long)]
    dry_run: bool,
    /// Print one JSON object with the request, plan, verdict and outcome.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ResumeArgs {
    /// The execution id (from `cloudops history`).
    id: String,
    /// Approve without asking.
    #[arg(long)]
    yes: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ApproveArgs {
    /// The execution id an agent's `request_execution` returned (`cloudops pending`).
    id: String,
    /// Approve without asking (a destructive high-risk plan also needs --force).
    #[arg(long)]
    yes: bool,
    /// With --yes: approve a destructive high-risk plan too.
    #[arg(long, requires = "yes")]
    force: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct RejectArgs {
    /// The execution id.
    id: String,
    /// Why, for the audit trail.
    #[arg(long, default_value = "")]
    reason: String,
}

#[derive(Debug, clap::Args)]
pub(crate) struct PendingArgs {
    /// Print JSON (one array).
    #[arg(long)]
    json: bool,
    /// Also list those already decided or expired.
    #[arg(long)]
    all: bool,
}

fn assistant(home: &Path, server: Option<String>) -> Result<Assistant> {
    let config = ClientConfig::load(home)?;
    let estate = Arc::new(crate::open_estate(home)?);
    crate::warn_about(&estate);
    let (assistant, notes) = Assistant::open(home, config, estate, server.as_deref())?;
    for note in notes {
        eprintln!("note: {}", clean(&note));
    }
    Ok(assistant)
}

pub(crate) fn ask(home: &Path, args: AskArgs) -> Result<ExitCode> {
    let interactive = std::io::stdin().is_terminal();
    // A question is answered from the estate, never planned (so the planner and its
    // playbook catalog are not even loaded).
    if cloudops_assist::is_question(&args.prompt) {
        let config = ClientConfig::load(home)?;
        let estate = crate::open_estate_for_reading(home)?;
        crate::warn_about(&estate);
        let state = cloudops_sync::SyncState::open(cloudops_core::DataDir::new(home).sync_state())?;
        let answer = cloudops_assist::answer_question(
            &estate,
            &state,
            &config,
            &args.prompt,
            QUESTION_LIMIT,
        )?;
        if args.json {
            let object =
                json!({ "prompt": args.prompt, "intent_class": "question", "answer": answer });
            println!("{}", serde_json::to_string_pretty(&object)?);
        } else {
            print!("{}", crate::query::render(&answer));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let assistant = assistant(home, args.server.clone())?;
    // Only a request for a change is resolved and planned.
    if let Some(why) = assistant.decline(&args.prompt) {
        eprintln!("{}", clean(&why));
        eprintln!("nothing was planned");
        return Ok(ExitCode::from(EXIT_REFUSED));
    }
    // A plural or quantified mention means the whole matching set: shown in full, narrowed
    // by the operator, planned as one.
    let state = cloudops_sync::SyncState::open(cloudops_core::DataDir::new(home).sync_state())?;
    let fleet = assistant.resolve_fleet(&args.prompt, &state)?;
    drop(state);
    if let Some(fleet) = &fleet {
        eprint!("{}", show_fleet(fleet));
        if let Some(why) = &fleet.blocked {
            eprintln!("nothing was planned: {}", clean(why));
            if args.json {
                let value =
                    json!({ "prompt": args.prompt, "fleet": fleet, "outcome": Outcome::Refused });
                println!("{}", serde_json::to_string(&value)?);
            }
            return Ok(ExitCode::from(EXIT_REFUSED));
        }
    }
    let resources = match &fleet {
        Some(fleet) if interactive && !args.yes => match narrow(fleet)? {
            Some(members) => members,
            None => {
                eprintln!("stopped; nothing was planned");
                return Ok(ExitCode::from(EXIT_REFUSED));
            }
        },
        Some(fleet) => fleet.members.clone(),
        None => match assistant.resolve(&args.prompt)? {
            Resolution::Resolved(result) => {
                eprintln!("resource: {}", describe(&result.resource));
                vec![result.resource.clone()]
            }
            Resolution::NotFound { notes } => {
                eprintln!("nothing in the local estate matches {:?}", clean(&args.prompt));
                for note in notes {
                    eprintln!("note: {}", clean(&note));
                }
                eprintln!("sync the estate (`cloudops estate sync`) or name the resource exactly");
                return Ok(ExitCode::from(EXIT_NOT_FOUND));
            }
            Resolution::Ambiguous(candidates) => {
                eprintln!("{:?} could mean several resources:", clean(&args.prompt));
                for (number, candidate) in candidates.iter().enumerate() {
                    eprintln!("  {}. {}", number + 1, describe(&candidate.resource));
                }
                if !interactive || args.yes {
                    eprintln!("refusing to guess: name the resource exactly (its name, id or ARN)");
                    return Ok(ExitCode::from(EXIT_AMBIGUOUS));
                }
                match pick(&candidates)? {
                    Some(chosen) => chosen,
                    None => {
                        eprintln!("stopped; nothing was planned");
                        return Ok(ExitCode::from(EXIT_AMBIGUOUS));
                    }
                }
            }
        },
    };
    let runtime = crate::estate_sync::runtime()?;
    let proposal = runtime.block_on(assistant.propose(&args.prompt, resources))?;
    eprint!("{}", show(&proposal));

    let finish = |approval: Option<ApprovalMethod>,
                  report: Option<&ExecutionReport>,
                  code: u8|
     -> Result<ExitCode> {
        if args.json {
            let value = json!({
                "execution_id": proposal.execution_id,
                "planner": proposal.planner,
                "request": proposal.request,
                "plan": proposal.plan,
                "verdict": proposal.verdict,
                "freshness": proposal.freshness,
                "permissions": proposal.permissions,
                "approval": approval,
                "outcome": report.map(|r| r.outcome).or(match code {
                    0 => Some(Outcome::DryRun),
                    _ => Some(Outcome::Refused),
                }),
                "message": report.map(|r| r.message.clone()),
                "refresh": report.map(|r| &r.refresh),
                "targets": report.map(|r| &r.targets),
                "fleet": fleet,
            });
            println!("{}", serde_json::to_string(&value)?);
        }
        Ok(ExitCode::from(code))
    };

    if !proposal.executable() {
        eprintln!("nothing runs (execution {})", proposal.execution_id);
        return finish(None, None, EXIT_REFUSED);
    }
    if args.dry_run {
        assistant.dry_run(&proposal)?;
        eprintln!("dry run: nothing ran (execution {})", proposal.execution_id);
        return finish(None, None, 0);
    }
    let approval = match answer(&proposal, args.yes, args.force, interactive) {
        Ok(approval) => approval,
        Err(reason) => {
            assistant.refuse(&proposal, vec![reason.clone()])?;
            eprintln!("not approved: {reason}; nothing ran");
            return finish(None, None, EXIT_REFUSED);
        }
    };
    let method = approval.method();
    let report = runtime.block_on(assistant.execute(&proposal, approval, &progress))?;
    summarize(&report);
    let code = if report.outcome == Outcome::Succeeded { 0 } else { 1 };
    finish(Some(method), Some(&report), code)
}

pub(crate) fn resume(home: &Path, args: ResumeArgs) -> Result<ExitCode> {
    let assistant = assistant(home, None)?;
    let input = if args.yes || !std::io::stdin().is_terminal() {
        ApprovalInput::Flags { yes: args.yes, force: false }
    } else {
        ApprovalInput::Answer {
            text: read_answer(&format!("Resume execution {}? [y/N] ", clean(&args.id)))?,
        }
    };
    let runtime = crate::estate_sync::runtime()?;
    ended(runtime.block_on(assistant.resume(&args.id, &input, &progress)))
}

/// How a run ended, for the operator and as the exit code: 0 succeeded, 1 failed or rolled
/// back, 7 when it was not approved and nothing ran.
fn ended(result: cloudops_assist::Result<ExecutionReport>) -> Result<ExitCode> {
    let report = match result {
        Err(cloudops_assist::Error::NotApproved(reason)) => {
            eprintln!("{}", clean(&reason));
            return Ok(ExitCode::from(EXIT_REFUSED));
        }
        other => other?,
    };
    summarize(&report);
    Ok(ExitCode::from(if report.outcome == Outcome::Succeeded { 0 } else { 1 }))
}

/// `cloudops pending`: what agents asked for and waits for a person.
pub(crate) fn pending(home: &Path, args: PendingArgs) -> Result<ExitCode> {
    // The requests' own store: listing them needs neither the estate nor the planner, so it
    // works while the desktop app holds the estate.
    let all = PendingStore::open(home)?.list_as_of(std::time::SystemTime::now())?;
    let shown: Vec<&PendingExecution> =
        all.iter().filter(|p| args.all || p.state == PendingState::Pending).collect();
    if args.json {
        println!("{}", serde_json::to_string(&shown)?);
        return Ok(ExitCode::SUCCESS);
    }
    if shown.is_empty() {
        eprintln!("no execution waits for approval");
    }
    for pending in shown {
        println!(
            "{}  {:<8}  {}  by {}  expires {}",
            pending.id,
            pending.state.to_string(),
            clean(&pending.prompt),
            clean(&pending.client),
            pending.expires_at
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `cloudops approve ID`: a person approves what an agent requested, by the same rule as
/// `ask` (a yes, the names typed for risky plans, --yes/--force without a terminal), and it
/// runs here.
pub(crate) fn approve(home: &Path, args: ApproveArgs) -> Result<ExitCode> {
    let interactive = std::io::stdin().is_terminal();
    let assistant = assistant(home, None)?;
    let pending = assistant.pending_execution(&args.id)?;
    eprintln!(
        "requested by agent {:?} at {} (expires {})",
        clean(&pending.client),
        pending.requested_at,
        pending.expires_at
    );
    eprintln!("request: {}", clean(&pending.prompt));
    let proposal = match assistant.pending_proposal(&args.id) {
        Err(cloudops_assist::Error::NotApproved(reason)) => {
            eprintln!("{}", clean(&reason));
            return Ok(ExitCode::from(EXIT_REFUSED));
        }
        other => other?,
    };
    for resource in &proposal.resources {
        eprintln!("resource: {}", describe(resource));
    }
    eprint!("{}", show(&proposal));
    let approval = match answer(&proposal, args.yes, args.force, interactive) {
        Ok(approval) => approval,
        Err(reason) => {
            eprintln!(
                "not approved: {reason}; nothing ran. It stays pending until {} \
                 (`cloudops reject {}` to reject it)",
                pending.expires_at, pending.id
            );
            return Ok(ExitCode::from(EXIT_REFUSED));
        }
    };
    let runtime = crate::estate_sync::runtime()?;
    ended(runtime.block_on(assistant.execute(&proposal, approval, &progress)))
}

/// `cloudops reject ID`: nothing runs, and the audit trail says who rejected it.
pub(crate) fn reject(home: &Path, args: RejectArgs) -> Result<ExitCode> {
    let assistant = assistant(home, None)?;
    match assistant.reject(&args.id, &args.reason) {
        Ok(pending) => {
            eprintln!(
                "rejected execution {} ({}), requested by {:?}; nothing ran",
                pending.id,
                clean(&pending.prompt),
                clean(&pending.client)
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(cloudops_assist::Error::NotApproved(reason)) => {
            eprintln!("{}", clean(&reason));
            Ok(ExitCode::from(EXIT_REFUSED))
        }
        Err(error) => Err(error.into()),
    }
}

fn describe(resource: &Resource) -> String {
    format!(
        "{} {} ({}) in {} {} [{}], {}",
        resource.resource_type.as_str(),
        clean(&resource.name),
        clean(&resource.id),
        clean(&resource.account_name),
        clean(&resource.region),
        clean(&resource.account_id),
        clean(&resource.state)
    )
}

/// A fleet as the operator reads it: how many, how complete and fresh, the groups, every
/// member.
fn show_fleet(fleet: &Fleet) -> String {
    let mut text = format!(
        "{} resource{} match {}",
        fleet.total,
        if fleet.total == 1 { "" } else { "s" },
        clean(&fleet.query)
    );
    let coverage = &fleet.coverage;
    text.push_str(&match (&coverage.as_of, coverage.complete) {
        (Some(as_of), true) => format!(" (complete, as of {as_of})\n"),
        (Some(as_of), false) => format!(" (INCOMPLETE, as of {as_of})\n"),
        (None, _) => " (never synced)\n".to_owned(),
    });
    for missing in coverage.incomplete.iter().take(5) {
        text.push_str(&format!("  not covered: {}\n", clean(missing)));
    }
    for note in &fleet.notes {
        text.push_str(&format!("  note: {}\n", clean(note)));
    }
    for by in ["account", "region", "state", "name"] {
        let groups: Vec<String> = fleet
            .groups
            .iter()
            .filter(|g| g.by == by)
            .map(|g| format!("{}={} ({})", by, clean(&g.value), g.count))
            .collect();
        if !groups.is_empty() {
            text.push_str(&format!("  by {by}: {}\n", groups.join(", ")));
        }
    }
    for (number, member) in fleet.members.iter().enumerate() {
        text.push_str(&format!("  {}. {}\n", number + 1, describe(member)));
    }
    if fleet.members.len() < fleet.total {
        text.push_str(&format!("  … and {} more not listed\n", fleet.total - fleet.members.len()));
    }
    text
}

/// The operator keeps the whole fleet, a group of it (`region=us-east-1`), some members
/// (`1,3`), or stops.
fn narrow(fleet: &Fleet) -> Result<Option<Vec<Resource>>> {
    loop {
        let answer = read_answer(&format!(
            "Plan for all {}? Enter or `all`; a group as region=us-east-1; members as 1,3; `no` to stop: ",
            fleet.total
        ))?;
        let answer = answer.trim();
        if answer.is_empty() || answer.eq_ignore_ascii_case("all") {
            return Ok(Some(fleet.members.clone()));
        }
        if answer.eq_ignore_ascii_case("no") || answer.eq_ignore_ascii_case("n") {
            return Ok(None);
        }
        if let Some((by, value)) = answer.split_once('=')
            && let Some(group) =
                fleet.groups.iter().find(|g| g.by == by.trim() && g.value == value.trim())
        {
            let kept = fleet.members.iter().filter(|m| group.members.contains(&m.arn)).cloned();
            return Ok(Some(kept.collect()));
        }
        match numbered(answer, fleet.members.iter()) {
            Some(kept) => return Ok(Some(kept)),
            None => eprintln!("answer with Enter, `all`, a group from the list, numbers, or `no`"),
        }
    }
}

/// The operator picks one candidate, several ("1,3"), all of them, or none.
fn pick(candidates: &[LookupResult]) -> Result<Option<Vec<Resource>>> {
    loop {
        let answer = read_answer(&format!(
            "Which? 1-{}, several as 1,3, `all`, or Enter to stop: ",
            candidates.len()
        ))?;
        let answer = answer.trim();
        if answer.is_empty() {
            return Ok(None);
        }
        if answer.eq_ignore_ascii_case("all") {
            return Ok(Some(candidates.iter().map(|c| c.resource.clone()).collect()));
        }
        match numbered(answer, candidates.iter().map(|c| &c.resource)) {
            Some(chosen) => return Ok(Some(chosen)),
            None => eprintln!("answer with numbers from the list, `all`, or Enter"),
        }
    }
}

/// The resources an answer like `1,3` numbers in a list shown from 1, each once; `None`
/// when a part is not a number of the list.
fn numbered<'a>(answer: &str, listed: impl Iterator<Item = &'a Resource>) -> Option<Vec<Resource>> {
    let listed: Vec<&Resource> = listed.collect();
    let mut chosen: Vec<Resource> = Vec::new();
    for part in answer.split(',') {
        let number =
            part.trim().parse::<usize>().ok().filter(|n| (1..=listed.len()).contains(n))?;
        let resource = listed[number - 1];
        if !chosen.iter().any(|r| r.arn == resource.arn) {
            chosen.push(resource.clone());
        }
    }
    Some(chosen)
}

/// The proposal as the operator reads it: resources, explanation, risk, exact commands,
/// the verdict.
fn show(proposal: &Proposal) -> String {
    let mut text = String::new();
    text.push_str(&format!("planner: {}\n", clean(&proposal.planner)));
    let freshness = &proposal.freshness;
    text.push_str(&format!("facts: {}\n", clean(&freshness.summary())));
    if !freshness.gone.is_empty() {
        text.push_str(&format!(
            "gone from AWS (read just now), left out: {}\n",
            freshness.gone.iter().map(|g| clean(g)).collect::<Vec<_>>().join(", ")
        ));
    }
    if !freshness.changes.is_empty() {
        text.push_str("changed since the last sync:\n");
        for change in &freshness.changes {
            text.push_str(&format!("  - {}\n", clean(change)));
        }
    }
    text.push_str(&output::plan(&proposal.plan));
    if !proposal.permissions.is_empty() {
        text.push_str("permissions (the identity's own IAM policies):\n");
        for check in &proposal.permissions {
            let (word, detail) = match &check.access {
                Access::Allowed { by } => ("allowed", format!("by {by}")),
                Access::Denied { reason } => ("DENIED", reason.clone()),
                Access::Unknown { reason } => ("unknown", reason.clone()),
            };
            text.push_str(&format!(
                "  {} on {}: {word} ({})\n",
                clean(&check.action),
                clean(&check.resource),
                clean(&detail)
            ));
        }
    }
    match &proposal.verdict {
        Verdict::Verified { risk, destructive, .. } => {
            let level = risk.level;
            text.push_str(&format!(
                "verified: every command is what playbook {} produces for these resources\n",
                proposal.plan.playbook.as_ref().map(|p| clean(&p.id)).unwrap_or_default()
            ));
            if risk.level > proposal.plan.risk_assessment.level {
                text.push_str(&format!("risk raised by this client's assessment to {level}\n"));
            }
            if *destructive {
                text.push_str("destructive: this cannot be undone\n");
            }
        }
        Verdict::NotExecutable => {}
        Verdict::Refused { reasons } => {
            text.push_str("REFUSED: the plan does not verify, so nothing will run:\n");
            for reason in reasons {
                text.push_str(&format!("  - {}\n", clean(reason)));
            }
        }
    }
    text
}

/// The operator's answer judged by [`Proposal::accept`]: the flags without a terminal (or
/// with `--yes`), else what they type at the prompts.
fn answer(
    proposal: &Proposal,
    yes: bool,
    force: bool,
    interactive: bool,
) -> std::result::Result<cloudops_assist::Approval, String> {
    let input = if yes || !interactive {
        Ok(ApprovalInput::Flags { yes, force })
    } else {
        ask_operator(proposal)
    };
    input.and_then(|input| proposal.accept(&input))
}

/// Asks for approval at the terminal — y/N, or the resource names typed for risky plans —
/// and returns the answer as given; [`Proposal::accept`] judges it.
fn ask_operator(proposal: &Proposal) -> std::result::Result<ApprovalInput, String> {
    let no_answer = |error: anyhow::Error| format!("no answer: {error}");
    match proposal.approval_need() {
        None => Err("the plan cannot be executed".to_owned()),
        Some(ApprovalNeed::Confirm) => Ok(ApprovalInput::Answer {
            text: read_answer("Run these commands? [y/N] ").map_err(no_answer)?,
        }),
        Some(ApprovalNeed::TypeCount { count }) => Ok(ApprovalInput::Answer {
            text: read_answer(&format!(
                "This plan acts on {count} resources. Type {count} to approve: "
            ))
            .map_err(no_answer)?,
        }),
        Some(ApprovalNeed::TypeName { names }) => {
            let mut typed = Vec::with_capacity(names.len());
            for name in names {
                typed.push(
                    read_answer(&format!(
                        "This plan is high risk. Type the resource name ({}) to approve: ",
                        clean(name)
                    ))
                    .map_err(no_answer)?,
                );
            }
            Ok(ApprovalInput::Names { names: typed })
        }
    }
}

fn read_answer(question: &str) -> Result<String> {
    eprint!("{question}");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line)
}

/// Progress, one line per event on standard error.
fn progress(event: &ExecutionEvent) {
    match event {
        ExecutionEvent::StepStarted { phase, step_id, argv, .. } => {
            // The steps of a fleet's targets that share one call start together with the
            // same command: shown once.
            static LAST: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());
            let line = clean(&argv.join(" "));
            let mut last = LAST.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if *last == line {
                eprintln!("[{phase} {}] (the same call)", clean(step_id));
            } else {
                eprintln!("[{phase} {}] {line}", clean(step_id));
                *last = line;
            }
        }
        ExecutionEvent::StepRetrying { step_id, runs, observed, .. } => {
            eprintln!(
                "  {}: not yet ({}), run {runs}; checking again",
                clean(step_id),
                clean(observed)
            );
        }
        ExecutionEvent::StepFinished {
            step_id, succeeded, exit_code, duration_ms, output, ..
        } => {
            let code = exit_code.map_or("none".to_owned(), |c| c.to_string());
            if *succeeded {
                eprintln!("  {} ok (exit {code}, {duration_ms} ms)", clean(step_id));
            } else {
                eprintln!(
                    "  {} FAILED (exit {code}, {duration_ms} ms): {}",
                    clean(step_id),
                    clean(output.trim())
                );
            }
        }
        ExecutionEvent::StepSkipped { phase, step_id, reason } => {
            if *phase != cloudops_assist::Phase::Rollback || !reason.contains("succeeded") {
                eprintln!("  {} skipped: {}", clean(step_id), clean(reason));
            }
        }
        ExecutionEvent::RollbackStarted { reason } => {
            eprintln!("rolling back: {}", clean(reason));
        }
        ExecutionEvent::TargetFinished { name, result, message, .. } => {
            eprintln!("target {}: {result}: {}", clean(name), clean(message));
        }
        ExecutionEvent::Finished { .. } => {}
    }
}

fn summarize(report: &ExecutionReport) {
    eprintln!("{}: {}", report.outcome, clean(&report.message));
    let refresh = &report.refresh;
    if refresh.refreshed + refresh.removed > 0 {
        eprintln!(
            "index refreshed: {} resource(s) re-read, {} removed",
            refresh.refreshed, refresh.removed
        );
    }
    for failure in &refresh.failures {
        eprintln!("note: could not refresh {}", clean(failure));
    }
    eprintln!("execution {} (cloudops history show {})", report.execution_id, report.execution_id);
}
