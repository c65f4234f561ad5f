//! `cloudops query` and the answers of `cloudops ask QUESTION`: counts, groups and the
//! first resources from the local estate, with how complete and fresh they are.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use cloudops_assist::Answer;
use cloudops_core::{ClientConfig, DataDir, GroupKey, QueryRequest, Resource, Sort};
use cloudops_sync::SyncState;

use crate::output::{clean, columns};

#[derive(Debug, clap::Args)]
pub(crate) struct QueryArgs {
    /// Filters, e.g. 'type:ec2_instance state:running account:staging -tag:owner
    /// engine=postgres backup_retention_period<7 created>30d' (all must hold; `-` negates;
    /// when the first starts with `-`, put `--` before it).
    #[arg(num_args = 0.., value_name = "FILTER")]
    filters: Vec<String>,
    /// Group the matches by account, region, type, state, env, tag:KEY or an attribute
    /// (at most twice).
    #[arg(long = "group-by", value_name = "KEY")]
    group_by: Vec<String>,
    /// Only count (list no resources).
    #[arg(long)]
    count: bool,
    /// List at most this many resources (at most 1000).
    #[arg(long, default_value_t = cloudops_core::DEFAULT_QUERY_LIMIT)]
    limit: usize,
    /// Order of the listing: name, last_seen (newest first) or created (oldest first).
    #[arg(long, default_value = "name", value_parser = ["name", "last_seen", "created"])]
    sort: String,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

pub(crate) fn query(home: &Path, args: QueryArgs) -> Result<ExitCode> {
    let mut request = QueryRequest::parse(&args.filters.join(" "))?;
    request.group_by =
        args.group_by.iter().map(|key| GroupKey::parse(key)).collect::<Result<_, _>>()?;
    request.limit = if args.count { 0 } else { args.limit };
    request.sort = match args.sort.as_str() {
        "last_seen" => Sort::LastSeen,
        "created" => Sort::Created,
        _ => Sort::Name,
    };
    request.validate()?;
    let config = ClientConfig::load(home)?;
    let estate = crate::open_estate_for_reading(home)?;
    crate::warn_about(&estate);
    let state = SyncState::open(DataDir::new(home).sync_state())?;
    let answer = cloudops_assist::answer_query(&estate, &state, &config.accounts, &request)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
    } else {
        print!("{}", render(&answer));
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, clap::Args)]
pub(crate) struct CheckArgs {
    /// The check (no-backups, public-databases, public-buckets, missing-tags,
    /// stopped-instances, deprecated-runtimes); none: every check, counted.
    name: Option<String>,
    /// For stopped-instances: stopped longer than this many days (else `[checks]
    /// stopped_days`, 7).
    #[arg(long)]
    days: Option<u32>,
    /// List at most this many resources.
    #[arg(long, default_value_t = cloudops_core::DEFAULT_QUERY_LIMIT)]
    limit: usize,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn check(home: &Path, args: CheckArgs) -> Result<ExitCode> {
    let config = ClientConfig::load(home)?;
    let estate = std::sync::Arc::new(crate::open_estate_for_reading(home)?);
    crate::warn_about(&estate);
    let (assistant, _) = cloudops_assist::Assistant::open(home, config, estate, None)?;
    let state = SyncState::open(DataDir::new(home).sync_state())?;
    let names: Vec<String> = match &args.name {
        Some(name) => vec![name.clone()],
        None => cloudops_assist::CHECKS.iter().map(|n| (*n).to_owned()).collect(),
    };
    let limit = if args.name.is_some() { args.limit } else { 0 };
    let mut answers = Vec::new();
    for name in &names {
        match assistant.run_check(name, args.days, &state, limit) {
            Ok(answered) => answers.push(answered),
            // A check the configuration does not allow (no required tags): said, not fatal.
            Err(error) if args.name.is_none() => eprintln!("{name}: {error}"),
            Err(error) => return Err(error.into()),
        }
    }
    if args.json {
        let value: Vec<serde_json::Value> = answers
            .iter()
            .map(|(check, answer)| serde_json::json!({ "check": check.name, "title": check.title, "answer": answer }))
            .collect();
        let value = if args.name.is_some() {
            value.into_iter().next().unwrap_or_default()
        } else {
            value.into()
        };
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else if args.name.is_some() {
        for (_, answer) in &answers {
            print!("{}", render(answer));
        }
    } else {
        let rows: Vec<[String; 4]> = answers
            .iter()
            .map(|(check, answer)| {
                [
                    check.name.clone(),
                    answer.response.total.to_string(),
                    if answer.coverage.complete {
                        "complete".to_owned()
                    } else {
                        "INCOMPLETE".to_owned()
                    },
                    check.title.clone(),
                ]
            })
            .collect();
        print!("{}", columns(&["check", "found", "coverage", "what"], &rows));
        println!("\n`cloudops check NAME` lists them.");
    }
    Ok(ExitCode::SUCCESS)
}

/// The answer as text: the count, the groups with bars, the first resources, and how
/// complete and fresh it is.
pub(crate) fn render(answer: &Answer) -> String {
    let mut out = String::new();
    let response = &answer.response;
    let noun = if response.total == 1 { "resource" } else { "resources" };
    let query =
        if answer.query.is_empty() { "everything".to_owned() } else { clean(&answer.query) };
    let _ = writeln!(out, "{} {noun}  ({query})", response.total);
    for note in &answer.notes {
        let _ = writeln!(out, "note: {}", clean(note));
    }
    if !response.groups.is_empty() {
        let labels: Vec<String> = answer.group_by.iter().map(GroupKey::label).collect();
        let largest = response.groups.iter().map(|g| g.count).max().unwrap_or(1).max(1);
        let rows: Vec<[String; 3]> = response
            .groups
            .iter()
            .map(|group| {
                let key = labels
                    .iter()
                    .map(|label| clean(group.key.get(label).map_or("", String::as_str)))
                    .collect::<Vec<_>>()
                    .join(" / ");
                let bar = "█".repeat((group.count * 30).div_ceil(largest));
                [key, group.count.to_string(), bar]
            })
            .collect();
        let header = labels.join(" / ");
        out.push('\n');
        out.push_str(&columns(&[header.as_str(), "count", ""], &rows));
    }
    if !response.results.is_empty() {
        out.push('\n');
        let rows: Vec<[String; 6]> = response.results.iter().map(row).collect();
        out.push_str(&columns(&["name", "type", "account", "region", "state", "facts"], &rows));
        let more = response.total.saturating_sub(response.results.len());
        if more > 0 {
            let _ =
                writeln!(out, "… and {more} more (--limit to list more, --json for all fields)");
        }
    }
    out.push('\n');
    let scopes = answer.coverage.scopes;
    match (&answer.coverage.as_of, answer.coverage.complete) {
        (Some(as_of), true) => {
            let _ = writeln!(out, "complete: every scope covered ({scopes}) synced; as of {as_of}");
        }
        (as_of, _) => {
            let _ = writeln!(
                out,
                "INCOMPLETE: {}{}",
                answer.coverage.incomplete.first().map_or("", String::as_str),
                as_of.as_ref().map(|a| format!("; as of {a}")).unwrap_or_default()
            );
            for line in answer.coverage.incomplete.iter().skip(1).take(9) {
                let _ = writeln!(out, "  {}", clean(line));
            }
            let hidden = answer.coverage.incomplete.len().saturating_sub(10);
            if hidden > 0 {
                let _ = writeln!(out, "  … and {hidden} more scopes (--json lists them all)");
            }
        }
    }
    out
}

/// One resource as a row, with the facts questions are usually about.
fn row(resource: &Resource) -> [String; 6] {
    let account = if resource.account_name.is_empty() {
        resource.account_id.clone()
    } else {
        resource.account_name.clone()
    };
    let mut facts = Vec::new();
    for key in ["instance_type", "instance_class", "engine", "runtime"] {
        if let Some(value) = resource.attribute_str(key) {
            facts.push(value.to_owned());
        }
    }
    let constraints = &resource.constraints;
    if let Some(backups) = constraints.automated_backups_enabled {
        facts.push(if backups { "backups on" } else { "NO backups" }.to_owned());
    }
    if let Some(multi_az) = constraints.multi_az {
        facts.push(if multi_az { "multi-AZ" } else { "single-AZ" }.to_owned());
    }
    let name = if resource.name.is_empty() { &resource.id } else { &resource.name };
    [
        clean(name),
        resource.resource_type.as_str().to_owned(),
        clean(&account),
        clean(&resource.region),
        clean(&resource.state),
        clean(&facts.join(", ")),
    ]
}
