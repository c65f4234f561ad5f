//! The commands the web UI may invoke. Each is thin: it calls the same library functions
//! as the CLI (`cloudops_core::Estate`, `cloudops_assist::Assistant`, `cloudops_sync::sync`)
//! and returns the shared types, so no operation's logic lives here or in TypeScript. Work
//! that touches the index, the model, the keychain or AWS runs off the UI's threads.

use std::time::Duration;

use cloudops_assist::{
    Answer, ApprovalInput, AuditLog, ExecutionEvent, ExecutionReport, Fleet, OperationAccess,
    PendingExecution, PendingState, PendingStore, Proposal, Resolution, ServerPlanner,
};
use cloudops_core::{
    ClientConfig, Condition, DataDir, ErrorKind, Filter, GroupKey, LookupRequest, LookupResponse,
    QueryRequest, Resource, ResourceType, parse_tag,
};
use cloudops_embed::{default_model_dir, model_present};
use cloudops_sync::{
    AccessKey, Keychain, KeychainConfig, ScopeStatus, Secret, SyncEvent, SyncReport, SyncRequest,
};
use tauri::State;
use tauri::ipc::Channel;

use crate::error::{CommandError, CommandResult};
use crate::state::{AppState, blocking};
use crate::views::{
    AccountsView, AppInfo, AuditRecordView, Facets, HistoryView, ModelStatus, PlannerKind,
    SearchRequest, Settings,
};

/// The longest prompt or query accepted; longer text is not a resource mention.
const MAX_INPUT_CHARS: usize = 2_000;
/// The most tag filters in one search.
const MAX_TAG_FILTERS: usize = 16;

/// The status line: index size, semantic search, planner, notes.
#[tauri::command]
pub async fn app_info(state: State<'_, AppState>) -> CommandResult<AppInfo> {
    let estate = state.estate().await?;
    let facets = state.facets().await?;
    let (assistant, mut notes) = state.assistant().await?;
    notes.extend(estate.warnings().iter().cloned());
    Ok(AppInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        home: state.home().display().to_string(),
        resources: facets.resources,
        semantic: estate.is_semantic(),
        embedder: embedder_name(estate.is_semantic()),
        planner: assistant.planner(),
        notes,
    })
}

/// Search-as-you-type and autocomplete: the hybrid lookup with the explorer's filters.
#[tauri::command]
pub async fn search(
    state: State<'_, AppState>,
    request: SearchRequest,
) -> CommandResult<LookupResponse> {
    let lookup = lookup_request(request)?;
    let estate = state.estate().await?;
    blocking(move || Ok(estate.lookup(&lookup)?)).await
}

/// Turns the UI's search into the index's request: each tag filter is read by core's one
/// tag parser ([`parse_tag`]) into the request's structured tags.
fn lookup_request(request: SearchRequest) -> CommandResult<LookupRequest> {
    if request.query.chars().count() > MAX_INPUT_CHARS {
        return Err(CommandError::invalid(format!(
            "the query is longer than {MAX_INPUT_CHARS} characters"
        )));
    }
    if request.tags.len() > MAX_TAG_FILTERS {
        return Err(CommandError::invalid(format!("at most {MAX_TAG_FILTERS} tag filters")));
    }
    let tags = request.tags.iter().map(|tag| parse_tag(tag)).collect::<Result<Vec<_>, _>>()?;
    let resource_type = match non_empty(request.resource_type) {
        None => None,
        Some(name) => match name.parse::<ResourceType>() {
            Ok(ResourceType::Other(name)) => {
                return Err(CommandError::invalid(format!("unknown resource type {name:?}")));
            }
            Ok(kind) => Some(kind),
            Err(never) => match never {},
        },
    };
    Ok(LookupRequest {
        query: request.query,
        tags,
        resource_type,
        account: non_empty(request.account),
        region: non_empty(request.region),
        state: non_empty(request.state),
        limit: Some(request.limit.unwrap_or(50).clamp(1, 500)),
        lexical_only: request.lexical_only,
    })
}

/// The explorer's count: every resource its filters select (type, account, region, state,
/// tags; the typed words rank, they do not count), counted and grouped by up to two keys
/// (`account`, `region`, `type`, `state`, `env`, `tag:KEY`), with how complete and how
/// fresh the count is.
#[tauri::command]
pub async fn count(
    state: State<'_, AppState>,
    request: SearchRequest,
    group_by: Vec<String>,
) -> CommandResult<Answer> {
    let lookup = lookup_request(request)?;
    let mut filters = Vec::new();
    let mut holds = |condition: Condition| filters.push(Filter::holds(condition));
    if let Some(value) = lookup.resource_type {
        holds(Condition::Type { value });
    }
    if let Some(value) = lookup.account {
        holds(Condition::Account { value });
    }
    if let Some(value) = lookup.region {
        holds(Condition::Region { value });
    }
    if let Some(value) = lookup.state {
        holds(Condition::State { value });
    }
    for (key, value) in lookup.tags {
        holds(Condition::Tag { key, value: Some(value) });
    }
    let group_by =
        group_by.iter().map(|key| GroupKey::parse(key)).collect::<Result<Vec<_>, _>>()?;
    let query = QueryRequest { filters, group_by, limit: 0, ..QueryRequest::default() };
    query.validate()?;
    let (assistant, _) = state.assistant().await?;
    let sync_state = state.sync_state().await?;
    blocking(move || Ok(assistant.answer_query(&query, &sync_state)?)).await
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// One resource in full, for the detail pane.
#[tauri::command]
pub async fn resource(state: State<'_, AppState>, arn: String) -> CommandResult<Resource> {
    let estate = state.estate().await?;
    blocking(move || {
        estate.get(&arn)?.ok_or_else(|| {
            CommandError::not_found(format!("{arn} is not in the local estate (any more)"))
        })
    })
    .await
}

/// The playbook library's operations on one resource, each with whether the credentials may
/// run it as the last sync judged, for the detail pane.
#[tauri::command]
pub async fn resource_operations(
    state: State<'_, AppState>,
    arn: String,
) -> CommandResult<Vec<OperationAccess>> {
    let estate = state.estate().await?;
    let (assistant, _) = state.assistant().await?;
    blocking(move || {
        let resource = estate.get(&arn)?.ok_or_else(|| {
            CommandError::not_found(format!("{arn} is not in the local estate (any more)"))
        })?;
        Ok(assistant.operations_on(&resource))
    })
    .await
}

/// The values the explorer's filters offer.
#[tauri::command]
pub async fn facets(state: State<'_, AppState>) -> CommandResult<Facets> {
    state.facets().await
}

/// The answer to a chat prompt that is a question about the estate (counted, grouped, the
/// first resources, with completeness and `as_of`); `None` when the prompt is not a
/// question (then it is resolved and planned). A question is never planned.
#[tauri::command]
pub async fn answer(state: State<'_, AppState>, prompt: String) -> CommandResult<Option<Answer>> {
    check_prompt(&prompt)?;
    let (assistant, _) = state.assistant().await?;
    if !assistant.is_question(&prompt) {
        return Ok(None);
    }
    let sync_state = state.sync_state().await?;
    blocking(move || Ok(Some(assistant.answer(&prompt, &sync_state, ANSWER_LIMIT)?))).await
}

/// The resources an answer in the chat lists.
const ANSWER_LIMIT: usize = 20;

/// The whole set of resources a plural or quantified request means ("stop all the
/// orders-api servers in development"), for the operator to narrow and plan; `None` when
/// the request names one resource (then it is resolved).
#[tauri::command]
pub async fn fleet(state: State<'_, AppState>, prompt: String) -> CommandResult<Option<Fleet>> {
    check_prompt(&prompt)?;
    let (assistant, _) = state.assistant().await?;
    if assistant.decline(&prompt).is_some() {
        return Ok(None);
    }
    let sync_state = state.sync_state().await?;
    blocking(move || Ok(assistant.resolve_fleet(&prompt, &sync_state)?)).await
}

/// The resources a chat prompt is about; never a guess: ambiguous mentions come back for
/// the operator to pick.
#[tauri::command]
pub async fn resolve(state: State<'_, AppState>, prompt: String) -> CommandResult<Resolution> {
    check_prompt(&prompt)?;
    let (assistant, _) = state.assistant().await?;
    blocking(move || Ok(assistant.resolve(&prompt)?)).await
}

fn check_prompt(prompt: &str) -> CommandResult<()> {
    if prompt.trim().is_empty() {
        return Err(CommandError::invalid("say what to do, e.g. \"Stop pg-instance-main1\""));
    }
    if prompt.chars().count() > MAX_INPUT_CHARS {
        return Err(CommandError::invalid(format!(
            "the request is longer than {MAX_INPUT_CHARS} characters"
        )));
    }
    Ok(())
}

/// Plans `prompt` for the resources the operator confirmed (by ARN), verifies the plan
/// against this client's catalog and keeps it for approval.
#[tauri::command]
pub async fn propose(
    state: State<'_, AppState>,
    prompt: String,
    arns: Vec<String>,
) -> CommandResult<Proposal> {
    check_prompt(&prompt)?;
    if arns.is_empty() {
        return Err(CommandError::invalid("pick at least one resource"));
    }
    let estate = state.estate().await?;
    let resources = blocking(move || {
        let mut resources = Vec::with_capacity(arns.len());
        for arn in arns {
            if resources.iter().any(|r: &Resource| r.arn == arn) {
                continue;
            }
            match estate.get(&arn)? {
                Some(resource) => resources.push(resource),
                None => {
                    return Err(CommandError::not_found(format!(
                        "{arn} is not in the local estate (any more)"
                    )));
                }
            }
        }
        Ok(resources)
    })
    .await?;
    let (assistant, _) = state.assistant().await?;
    let proposal = assistant.propose(&prompt, resources).await?;
    if proposal.executable() {
        state.keep_proposal(proposal.clone())?;
    }
    Ok(proposal)
}

/// Runs an approved plan, streaming the workflow's events to `on_event`, and answers when
/// it ended (the touched resources re-read into the index).
#[tauri::command]
pub async fn approve(
    state: State<'_, AppState>,
    execution_id: String,
    input: ApprovalInput,
    on_event: Channel<ExecutionEvent>,
) -> CommandResult<ExecutionReport> {
    let proposal = state.take_proposal(&execution_id)?;
    let approval = match proposal.accept(&input) {
        Ok(approval) => approval,
        Err(why) => {
            // A mistyped name is not a rejection: the plan stays for another try.
            state.keep_proposal(proposal)?;
            return Err(CommandError::invalid(why));
        }
    };
    let (assistant, _) = state.assistant().await?;
    let send = move |event: &ExecutionEvent| {
        // A closed window stops listening; the execution goes on and is audited.
        let _ = on_event.send(event.clone());
    };
    let report = assistant.execute(&proposal, approval, &send).await;
    state.forget_facets();
    crate::memory::release_freed_memory_off_thread().await;
    Ok(report?)
}

/// The operator rejected the plan: recorded, and nothing runs.
#[tauri::command]
pub async fn reject(state: State<'_, AppState>, execution_id: String) -> CommandResult<()> {
    let proposal = state.take_proposal(&execution_id)?;
    let (assistant, _) = state.assistant().await?;
    blocking(move || {
        Ok(assistant.refuse(&proposal, vec!["the operator rejected the plan".to_owned()])?)
    })
    .await
}

/// The executions agents asked for (`cloudops mcp`) that wait for a person, oldest first.
#[tauri::command]
/// Read from the requests' own store: listing them needs neither the estate nor the planner.
pub async fn agent_requests(state: State<'_, AppState>) -> CommandResult<Vec<PendingExecution>> {
    let home = state.home().to_path_buf();
    blocking(move || {
        let all = PendingStore::open(&home)?.list_as_of(std::time::SystemTime::now())?;
        Ok(all.into_iter().filter(|p| p.state == PendingState::Pending).collect())
    })
    .await
}

/// An agent's request as a plan for the operator: verified again, kept for `approve` or
/// `reject` like any proposal (approving it settles the request; rejecting it too).
#[tauri::command]
pub async fn agent_request_open(
    state: State<'_, AppState>,
    execution_id: String,
) -> CommandResult<Proposal> {
    let (assistant, _) = state.assistant().await?;
    let proposal = blocking(move || Ok(assistant.pending_proposal(&execution_id)?)).await?;
    state.keep_proposal(proposal.clone())?;
    Ok(proposal)
}

/// Every scope's last syncs, counts and errors.
#[tauri::command]
pub async fn sync_status(state: State<'_, AppState>) -> CommandResult<Vec<ScopeStatus>> {
    let sync_state = state.sync_state().await?;
    blocking(move || Ok(sync_state.status()?)).await
}

/// Syncs every configured account, region and service (incremental where a full sync
/// exists, unless `full`), streaming per-scope progress to `on_event`.
#[tauri::command]
pub async fn sync_now(
    state: State<'_, AppState>,
    full: bool,
    on_event: Channel<SyncEvent>,
) -> CommandResult<SyncReport> {
    let Ok(_running) = state.syncing.try_lock() else {
        return Err(CommandError::new(ErrorKind::Conflict, "a sync is already running"));
    };
    let estate = state.estate().await?;
    let sync_state = state.sync_state().await?;
    let send = move |event: SyncEvent| {
        let _ = on_event.send(event);
    };
    let data = DataDir::new(state.home());
    let library = cloudops_assist::library(&data.load_config()?)?;
    let request = SyncRequest {
        full,
        needed_actions: cloudops_assist::needed_actions(&library),
        ..SyncRequest::default()
    };
    let report = cloudops_sync::sync_home(&data, estate, &sync_state, &request, &send).await;
    state.forget_facets();
    crate::memory::release_freed_memory_off_thread().await;
    Ok(report?)
}

fn open_keychain() -> CommandResult<Keychain> {
    Ok(Keychain::open(&KeychainConfig::from_env()?)?)
}

fn accounts_view(config: &ClientConfig) -> AccountsView {
    match open_keychain() {
        Ok(keychain) => match keychain.list(&config.accounts) {
            Ok(stored) => AccountsView::new(
                &config.accounts,
                &stored,
                Some(keychain.backend().description().to_owned()),
                None,
            ),
            Err(error) => AccountsView::new(
                &config.accounts,
                &[],
                Some(keychain.backend().description().to_owned()),
                Some(error.to_string()),
            ),
        },
        Err(error) => AccountsView::new(&config.accounts, &[], None, Some(error.message)),
    }
}

/// The configured accounts and the keys the keychain holds for them (masked; never the
/// secret).
#[tauri::command]
pub async fn accounts(state: State<'_, AppState>) -> CommandResult<AccountsView> {
    let config = state.config()?;
    blocking(move || Ok(accounts_view(&config))).await
}

/// Stores an access key pair for a configured account in the OS keychain. The secrets are
/// wiped from memory when stored and are never returned, logged or written to a file.
#[tauri::command]
pub async fn account_key_add(
    state: State<'_, AppState>,
    name: String,
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
) -> CommandResult<AccountsView> {
    let secret = Secret::new(secret_access_key);
    let token = session_token.filter(|t| !t.trim().is_empty()).map(Secret::new);
    let config = state.config()?;
    if !config.accounts.iter().any(|account| account.name == name) {
        return Err(CommandError::not_found(format!(
            "account {name:?} is not in {}: add an [[accounts]] entry there first",
            DataDir::new(state.home()).config_file().display()
        )));
    }
    let key = AccessKey::new(access_key_id.trim(), secret, token)?;
    let view = blocking(move || {
        open_keychain()?.store(&name, &key)?;
        Ok(accounts_view(&config))
    })
    .await?;
    state.forget_assistant().await;
    Ok(view)
}

/// Deletes an account's key from the keychain.
#[tauri::command]
pub async fn account_key_remove(
    state: State<'_, AppState>,
    name: String,
) -> CommandResult<AccountsView> {
    let config = state.config()?;
    let view = blocking(move || {
        if !open_keychain()?.remove(&name)? {
            return Err(CommandError::not_found(format!("no access key of account {name:?}")));
        }
        Ok(accounts_view(&config))
    })
    .await?;
    state.forget_assistant().await;
    Ok(view)
}

fn embedder_name(semantic: bool) -> String {
    if semantic { "all-MiniLM-L6-v2" } else { "hashing (no model)" }.to_owned()
}

/// The planner and the embedding model.
#[tauri::command]
pub async fn settings(state: State<'_, AppState>) -> CommandResult<Settings> {
    let config = state.config()?;
    let estate = state.estate().await?;
    let semantic = estate.is_semantic();
    let model_dir = config.estate.model_dir.clone().or_else(default_model_dir);
    let message = if semantic {
        format!(
            "semantic search with all-MiniLM-L6-v2 from {}",
            model_dir.as_ref().map(|d| d.display().to_string()).unwrap_or_default()
        )
    } else if !config.estate.semantic {
        "semantic search is off ([estate] semantic = false in config.toml)".to_owned()
    } else if model_dir.as_deref().is_some_and(model_present) {
        "the model is installed but the index was opened without it; restart the app".to_owned()
    } else {
        let mut message = "running without semantic search: the model is not installed (scripts/fetch-model.sh installs it)".to_owned();
        for warning in estate.warnings() {
            message.push_str("; ");
            message.push_str(warning);
        }
        message
    };
    Ok(Settings {
        planner: if config.ask.server_url.is_some() {
            PlannerKind::Server
        } else {
            PlannerKind::InProcess
        },
        server_url: config.ask.server_url.clone(),
        server_ca_file: config.ask.server_ca_file.as_ref().map(|p| p.display().to_string()),
        model: ModelStatus {
            semantic,
            embedder: embedder_name(semantic),
            model_dir: model_dir.map(|d| d.display().to_string()),
            message,
        },
        home: state.home().display().to_string(),
    })
}

/// Plans in-process (`None`) or with the planning server at `server_url`, which must be
/// HTTPS (plain HTTP only on a loopback address); saved in `config.toml`.
#[tauri::command]
pub async fn set_planner(
    state: State<'_, AppState>,
    server_url: Option<String>,
) -> CommandResult<Settings> {
    let url = non_empty(server_url);
    let config = state.config()?;
    if let Some(url) = &url {
        ServerPlanner::new(
            url,
            Duration::from_secs(config.ask.server_timeout_secs.max(1)),
            config.ask.server_ca_file.as_deref(),
        )?;
    }
    let home = state.home().to_path_buf();
    blocking(move || Ok(ClientConfig::set_server_url(&home, url.as_deref())?)).await?;
    state.forget_assistant().await;
    settings(state).await
}

/// The audit trail: executions newest first and whether the hash chain is intact.
#[tauri::command]
pub async fn history(state: State<'_, AppState>) -> CommandResult<HistoryView> {
    let home = state.home().to_path_buf();
    blocking(move || {
        let audit = AuditLog::open(&home)?;
        let mut executions = audit.executions()?;
        executions.reverse();
        Ok(HistoryView { executions, chain: audit.verify()? })
    })
    .await
}

/// Every audit record of one execution (id or unique prefix).
#[tauri::command]
pub async fn history_show(
    state: State<'_, AppState>,
    id: String,
) -> CommandResult<Vec<AuditRecordView>> {
    let home = state.home().to_path_buf();
    blocking(move || {
        let records = AuditLog::open(&home)?.execution(&id)?;
        Ok(records.into_iter().map(AuditRecordView::from).collect())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The commands the app registers, the ones build.rs makes permissions for, and the ones
    /// the window's permission set grants are the same: a command missing from either list
    /// is refused by the webview's ACL at run time ("not allowed by ACL").
    #[test]
    fn every_registered_command_is_granted_to_the_window() {
        let source = |path: &str| {
            std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
                .expect(path)
        };
        let lib = source("src/lib.rs");
        let handler = lib.split("generate_handler![").nth(1).expect("handler list");
        let mut registered: Vec<String> = handler
            .split(']')
            .next()
            .unwrap_or_default()
            .split(',')
            .filter_map(|item| item.trim().strip_prefix("commands::"))
            .map(str::to_owned)
            .collect();
        let build = source("build.rs");
        let listed = build.split("const COMMANDS: &[&str] = &[").nth(1).expect("COMMANDS");
        let mut built: Vec<String> = listed
            .split("];")
            .next()
            .unwrap_or_default()
            .split(',')
            .map(|item| item.trim().trim_matches('"').to_owned())
            .filter(|item| !item.is_empty())
            .collect();
        let toml = source("permissions/app.toml");
        let mut granted: Vec<String> = toml
            .lines()
            .filter_map(|line| line.trim().strip_prefix("\"allow-"))
            .map(|rest| rest.trim_end_matches(',').trim_end_matches('"').replace('-', "_"))
            .filter(|name| name != "app_commands")
            .collect();
        registered.sort();
        built.sort();
        granted.sort();
        assert!(registered.len() > 10, "{registered:?}");
        assert_eq!(registered, built, "src/lib.rs vs build.rs COMMANDS");
        assert_eq!(registered, granted, "src/lib.rs vs permissions/app.toml");
    }

    #[test]
    fn tag_filters_become_structured_tags_and_bad_ones_are_refused() {
        let request = lookup_request(SearchRequest {
            query: "pg".into(),
            tags: vec!["env=prod".into(), "app:main".into(), r#"Name="web 1""#.into()],
            resource_type: Some("rds_instance".into()),
            state: Some(" available ".into()),
            account: Some(String::new()),
            ..SearchRequest::default()
        })
        .expect("valid");
        assert_eq!(request.query, "pg");
        let pair = |key: &str, value: &str| (key.to_owned(), value.to_owned());
        assert_eq!(request.tags, [pair("env", "prod"), pair("app", "main"), pair("Name", "web 1")]);
        assert_eq!(request.resource_type, Some(ResourceType::RdsInstance));
        assert_eq!(request.state.as_deref(), Some("available"));
        assert_eq!(request.account, None);

        for bad in ["env", "=prod", "env=", "env=prod app=main", "a=b\u{7}"] {
            let result =
                lookup_request(SearchRequest { tags: vec![bad.into()], ..Default::default() });
            assert!(result.is_err(), "{bad:?}");
        }
        let unknown = lookup_request(SearchRequest {
            resource_type: Some("dynamodb_table".into()),
            ..Default::default()
        });
        assert_eq!(unknown.expect_err("unknown type").kind, "invalid_input");
        let long = lookup_request(SearchRequest { query: "x".repeat(3000), ..Default::default() });
        assert!(long.is_err());
    }
}
