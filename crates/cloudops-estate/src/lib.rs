//! Sync of the AWS estate into the local index.
//!
//! Groundwork: collectors for EC2, RDS, S3, Lambda and ELBv2 that list every page of one
//! account in one region and normalize each item into a [`cloudops_core::Resource`], and
//! the connection to an account (profile, static credentials or assumed role; adaptive
//! retry; timeouts). Orchestration over accounts × regions × services, sync state and the
//! CLI come next (see `NOTES.md`).
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
pub mod cloudtrail;
pub mod collect;
mod connect;
pub mod credentials;
mod error;
mod service;
pub mod state;
pub mod sync;

pub use crate::{
    collect::Scope,
    connect::{ConnectConfig, Connection, account_id, assume_role, connect, sdk_config},
    error::{Error, Result},
    service::Service,
    state::{ScopeKey, ScopeState, SyncState},
    sync::{SyncEvent, SyncOptions, SyncReport, accounts_to_sync, default_region, sync},
};
