//! Integration tests of `cloudops-embed`: the estate with the MiniLM model, one module per
//! feature.

mod evaluation;
mod lookup;
mod open;
mod support;
