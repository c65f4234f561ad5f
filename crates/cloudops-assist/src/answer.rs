//! Answers from the local estate: a structured query or a question, counted, grouped and
//! listed by the index, with how complete and how fresh the answer is ([`Answer`]). Nothing
//! here plans or changes anything.

use cloudops_core::{
    AccountConfig, ClientConfig, Condition, Estate, GroupKey, QueryRequest, QueryResponse,
};
use cloudops_sync::{Coverage, SyncState, coverage};
use serde::Serialize;

use crate::error::Result;

/// An answer from the local estate.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Answer {
    /// The question as asked; `None` for a structured query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
    /// The filters that were counted, in the query grammar (`type:rds_instance
    /// automated_backups_enabled=false`): what the question was read as.
    pub query: String,
    /// What the groups are formed by.
    pub group_by: Vec<GroupKey>,
    /// The question asked for a number.
    pub count: bool,
    /// Totals, groups and the first resources.
    #[serde(flatten)]
    #[cfg_attr(feature = "ts", ts(flatten))]
    pub response: QueryResponse,
    /// How complete and how fresh the answer is.
    #[serde(flatten)]
    #[cfg_attr(feature = "ts", ts(flatten))]
    pub coverage: Coverage,
    /// What was read approximately.
    pub notes: Vec<String>,
}

/// Answers a structured query from `estate`, with its coverage judged from the sync
/// `state` of the configured `accounts`.
pub fn answer_query(
    estate: &Estate,
    state: &SyncState,
    accounts: &[AccountConfig],
    request: &QueryRequest,
) -> Result<Answer> {
    let response = estate.query(request)?;
    let coverage = coverage(state, accounts, request)?;
    Ok(Answer {
        question: None,
        query: request.describe(),
        group_by: request.group_by.clone(),
        count: request.limit == 0,
        response,
        coverage,
        notes: Vec::new(),
    })
}

/// Answers a question about the estate ("how many databases have no backups?"): read as a
/// query ([`cloudops_core::read_question`]), or as the saved check it asks for ("functions
/// on deprecated runtimes", with the question's scopes and groups), and answered as
/// [`answer_query`] does, listing up to `limit` resources.
pub fn answer_question(
    estate: &Estate,
    state: &SyncState,
    config: &ClientConfig,
    question: &str,
    limit: usize,
) -> Result<Answer> {
    let read = estate.read_question(question)?;
    let mut notes = read.notes;
    let mut request = read.request;
    if let Some(name) = crate::checks::check_for_question(question) {
        let check = crate::checks::check(config, name, None)?;
        let scopes = request.filters.into_iter().filter(|filter| {
            matches!(
                filter.condition,
                Condition::Account { .. }
                    | Condition::Region { .. }
                    | Condition::Environment { .. }
            )
        });
        request.filters = check.request.filters.into_iter().chain(scopes).collect();
        notes.push(format!("answered by the saved check {name} ({})", check.title));
    }
    let request = QueryRequest { limit, ..request };
    let mut answer = answer_query(estate, state, &config.accounts, &request)?;
    answer.question = Some(question.to_owned());
    answer.count = read.count;
    answer.notes = notes;
    Ok(answer)
}
