//! Integration tests of `cloudops-sync`: the collectors against a real moto server.

mod collect;
mod incremental;
mod keychain;
mod moto;
mod sync;
