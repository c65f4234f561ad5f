//! Integration tests of the playbook library and the planner.

mod intent;
mod library;
mod plans;
mod retrieval;
mod snapshots;
mod support;
mod verify;
