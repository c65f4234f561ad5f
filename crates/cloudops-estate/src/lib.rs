//! Sync of the AWS estate into the local index.
//!
//! - [`sync()`]: every configured account × region × service read in parallel (bounded), each
//!   scope written into the [`cloudops_core::Estate`] as it is read; full the first time,
//!   incremental after (CloudTrail-narrowed on AWS, content hashes always); a failing scope is
//!   reported and keeps its previous data, stale. Progress arrives as [`SyncEvent`]s.
//! - [`SyncState`]: per scope the last syncs, counts and errors, in `sled`.
//! - [`collect`]: one collector per service (EC2, RDS, S3, Lambda, ELBv2) that lists every page
//!   of one account in one region, or re-reads named resources, and normalizes each item into
//!   a [`cloudops_core::Resource`].
//! - [`connect()`]: the SDK configuration for an account (profile, keychain key or standard
//!   chain; an assumed role; adaptive retry; timeouts) and its account id.
//! - [`credentials`]: access keys in the OS keychain.
//! - [`audit`]: the append-only, hash-chained audit trail of executions.
//!
//! One collector on its own:
//!
//! ```no_run
//! # async fn run() -> cloudops_estate::Result<()> {
//! use cloudops_core::AccountConfig;
//! use cloudops_estate::{ConnectConfig, connect, collect};
//!
//! let account = AccountConfig { name: "production".into(), ..Default::default() };
//! let connection = connect(&account, "us-west-2", None, &ConnectConfig::default()).await?;
//! let instances = collect::ec2::collect(&connection.ec2(), &connection.scope, Default::default()).await?;
//! println!("{} instances in {}", instances.len(), connection.scope.account_id);
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

pub mod arn;
pub mod ask;
pub mod audit;
pub mod cloudtrail;
pub mod collect;
mod connect;
pub mod context;
pub mod credentials;
mod error;
pub mod execute;
pub mod planning;
mod service;
pub mod state;
pub mod sync;
pub mod workflow;

pub use crate::{
    collect::Scope,
    connect::{ConnectConfig, Connection, account_id, assume_role, connect, sdk_config},
    error::{Error, Result},
    service::Service,
    state::{ScopeKey, ScopeState, SyncState},
    sync::{
        RefreshReport, SyncEvent, SyncOptions, SyncReport, accounts_to_sync, default_region,
        refresh, sync,
    },
};
