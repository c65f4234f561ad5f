//! Integration tests of `cloudops-estate`: the collectors against a real moto server.

mod collect;
mod incremental;
mod keychain;
mod moto;
mod sync;
