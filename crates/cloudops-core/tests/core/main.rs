//! Integration tests of `cloudops-core`: one binary, one module per feature.

mod estate;
mod facets;
mod intent;
mod support;
