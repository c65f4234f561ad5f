//! CloudOps core: the resource model, the planning types, and the local estate index.
//!
//! The estate is a local, offline copy of an AWS estate, indexed two ways: an in-process
//! Qdrant store (`qdrant-edge`) holds one point per resource (its embedding, and the resource
//! itself as payload), and a `tantivy` index holds its names, ids, tags and descriptions for
//! exact, fuzzy and n-gram matching. [`Estate::lookup`] combines them: exact identifiers
//! first, then lexical and semantic candidates fused, with the scopes the query names
//! (environment, account, region, resource type, `key=value` tags) applied as filters.
//!
//! ```
//! use cloudops_core::{Estate, EstateConfig, LookupRequest, MatchKind, Resource};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let directory = tempfile::tempdir()?;
//! // Core's hashing embedder: no model (the `cloudops-embed` crate opens it with MiniLM).
//! let estate = Estate::open(directory.path(), EstateConfig::default())?;
//! let database: Resource = serde_json::from_value(serde_json::json!({
//!     "arn": "arn:aws:rds:us-west-2:123456789012:db:pg-instance-main1",
//!     "resource_type": "rds_instance",
//!     "id": "pg-instance-main1",
//!     "name": "pg-instance-main1",
//!     "account_id": "123456789012",
//!     "account_name": "production",
//!     "region": "us-west-2",
//!     "state": "available",
//!     "tags": { "env": "prod", "app": "main" }
//! }))?;
//! estate.upsert(&[database])?;
//!
//! let found = estate.lookup(&LookupRequest { query: "Stop pg-instance-main1".into(), ..Default::default() })?;
//! assert_eq!(found.results[0].resource.name, "pg-instance-main1");
//! assert_eq!(found.results[0].matched_by, MatchKind::ExactName);
//! assert!(!found.ambiguous);
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod catalog;
mod config;
mod data_dir;
#[cfg(feature = "demo")]
pub mod demo;
mod document;
mod embed;
mod error;
mod estate;
mod filters;
mod fusion;
mod intent;
mod lexical;
mod model;
mod plan;
mod query;
mod question;
mod service;
pub mod time;
mod vectors;

pub use crate::{
    catalog::{Catalog, CatalogDocument, CatalogHit, CatalogQuery},
    config::{
        AccountConfig, AskSection, CONFIG_FILE, ChecksSection, ClientConfig, DEFAULT_TAGS_DENY,
        DEPRECATED_RUNTIMES, EstateSection, HOME_ENV, MCP_FIELDS, McpSection, SyncSection,
        default_home,
    },
    data_dir::DataDir,
    embed::{DIMENSIONS, Embedder, HashEmbedder},
    error::{Error, ErrorKind, Result},
    estate::{
        AccountFacet, Estate, EstateConfig, EstateStats, FORMAT_VERSION, FacetCount, Facets,
        LookupRequest, LookupResponse, LookupResult, Progress, UpsertReport,
    },
    filters::{
        AgeOf, Comparison, Condition, DEFAULT_QUERY_LIMIT, Filter, Group, GroupKey,
        MAX_QUERY_LIMIT, MAX_QUERY_WORDS, NO_VALUE, QueryRequest, QueryResponse, Sort,
    },
    fusion::{Fusion, MatchKind},
    intent::{
        Classification, IntentClass, MAX_CLASSIFIED_BYTES, classify, operator_words,
        similar_spelling,
    },
    model::{Constraints, Resource, ResourceType, normalize_environment},
    plan::{
        EnrichedRequest, IdentifiedResource, Intent, PlanResponse, PlaybookRef, PlaybookSummary,
        RiskAssessment, RiskLevel, Script, SkippedTarget, Step, UserContext,
    },
    query::{ParsedQuery, RegionScope, parse_query, parse_tag},
    question::{QuestionQuery, read_fleet, read_question},
    service::Service,
};
