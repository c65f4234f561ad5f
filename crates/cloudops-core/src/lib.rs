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
//! use cloudops_core::{Estate, EstateConfig, LookupRequest, MatchKind, demo};
//!
//! # fn main() -> cloudops_core::Result<()> {
//! let directory = tempfile::tempdir().expect("temporary directory");
//! // No model here: lexical lookup plus the built-in hashing embedder.
//! let config = EstateConfig { semantic: false, ..EstateConfig::default() };
//! let estate = Estate::open(directory.path(), config)?;
//! estate.upsert(&demo::generate(&demo::DemoConfig::with_total(300)))?;
//!
//! let found = estate.lookup(&LookupRequest { query: "Stop pg-instance-main1".into(), ..Default::default() })?;
//! assert_eq!(found.results[0].resource.name, "pg-instance-main1");
//! assert_eq!(found.results[0].matched_by, MatchKind::ExactName);
//! assert!(!found.ambiguous);
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

mod catalog;
mod config;
mod data_dir;
pub mod demo;
mod document;
mod embed;
mod error;
mod estate;
mod fusion;
mod lexical;
mod model;
mod plan;
mod query;
mod service;
pub mod time;
mod vectors;

#[cfg(feature = "candle")]
pub use crate::embed::{MiniLmEmbedder, ModelWeights};
pub use crate::{
    catalog::{Catalog, CatalogDocument, CatalogHit, CatalogQuery},
    config::{
        AccountConfig, AskSection, CONFIG_FILE, ClientConfig, DEFAULT_TAGS_DENY, EstateSection,
        HOME_ENV, SyncSection, default_home,
    },
    data_dir::DataDir,
    embed::{DIMENSIONS, Embedder, HashEmbedder, default_model_dir, model_present},
    error::{Error, ErrorKind, Result},
    estate::{
        AccountFacet, Estate, EstateConfig, EstateStats, FORMAT_VERSION, FacetCount, Facets,
        LookupRequest, LookupResponse, LookupResult, Progress, UpsertReport,
    },
    fusion::{Fusion, MatchKind},
    model::{Constraints, Resource, ResourceType, normalize_environment},
    plan::{
        EnrichedRequest, IdentifiedResource, Intent, PlanResponse, PlaybookRef, PlaybookSummary,
        RiskAssessment, RiskLevel, Script, Step, UserContext,
    },
    query::{ParsedQuery, RegionScope, parse_query, parse_tag},
    service::Service,
};
