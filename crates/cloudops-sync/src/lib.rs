//! The AWS side of CloudOps: read the estate into the local index.
//!
//! - [`sync_home()`]: a data directory's configured accounts, with the keychain's keys — the
//!   entry point of the CLI's `estate sync` and the desktop's "Sync now".
//! - [`sync()`]: every configured account × region × service read in parallel (bounded), each
//!   scope written into the [`cloudops_core::Estate`] as it is read; full the first time,
//!   incremental after (CloudTrail-narrowed on AWS, content hashes always); a failing scope is
//!   reported and keeps its previous data, stale. Progress arrives as [`SyncEvent`]s.
//!   [`refresh()`] re-reads named resources (after a change).
//! - [`SyncState`]: per scope the last syncs, counts and errors, in `sled`.
//! - [`collect`]: one collector per service (EC2, RDS, S3, Lambda, ELBv2) that lists every page
//!   of one account in one region, or re-reads named resources, and normalizes each item into
//!   a [`cloudops_core::Resource`]. The one module path of the crate: each service's module
//!   has the same functions (`collect`, `collect_ids`, `normalize_*`).
//! - [`changes_since`]: CloudTrail's management events, narrowed per service, for incremental
//!   syncs.
//! - [`connect()`]: the SDK configuration for an account (profile, keychain key or standard
//!   chain; an assumed role; adaptive retry; timeouts) and its account id.
//! - [`Keychain`]: access keys in the OS keychain; [`stored_credentials`] for the sync.
//! - [`permissions`]: what the identity in use may do, from its own IAM policies evaluated
//!   locally ([`permissions::identity_policies`], [`permissions::IdentityPolicies::decide`]).
//!
//! This crate depends on `cloudops-core` only; it knows nothing of plans or playbooks.
//!
//! One collector on its own:
//!
//! ```no_run
//! # async fn run() -> cloudops_sync::Result<()> {
//! use cloudops_core::AccountConfig;
//! use cloudops_sync::{ConnectConfig, connect, collect};
//!
//! let account = AccountConfig { name: "production".into(), ..Default::default() };
//! let connection = connect(&account, "us-west-2", None, &ConnectConfig::default()).await?;
//! let instances = collect::ec2::collect(&connection.ec2(), &connection.scope, Default::default()).await?;
//! println!("{} instances in {}", instances.len(), connection.scope.account_id);
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod arn;
mod cloudtrail;
pub mod collect;
mod connect;
mod coverage;
mod credentials;
mod error;
pub mod permissions;
mod state;
mod sync;

pub use crate::{
    cloudtrail::{
        Changes, ChangesConfig, DELIVERY_OVERLAP, EVENT_HISTORY, EVENTS_PER_PAGE, LookupStrategy,
        MAX_TARGETED_IDS, ServiceChanges, changes_since, cloudtrail_client, service_changes,
    },
    collect::{Scope, Targeted},
    connect::{ConnectConfig, Connection, account_id, assume_role, connect, sdk_config},
    coverage::{Coverage, coverage},
    credentials::{
        AccessKey, KEYCHAIN_ENV, Keychain, KeychainBackend, KeychainConfig, Secret, StoredKey,
        mask_access_key_id, stored_credentials,
    },
    error::{Error, Result},
    state::{GLOBAL_REGION, ScopeKey, ScopeState, ScopeStatus, SyncState},
    sync::{
        Counts, DEFAULT_ACCOUNT, ReadMethod, RefreshReport, ScopeReport, SyncEvent, SyncMode,
        SyncOptions, SyncReport, SyncRequest, accounts_to_sync, default_region, refresh, sync,
        sync_home,
    },
};
