//! Integration tests of `cloudops-estate`: the collectors against a real moto server.

mod audit;
mod collect;
mod incremental;
mod keychain;
mod moto;
mod sync;
