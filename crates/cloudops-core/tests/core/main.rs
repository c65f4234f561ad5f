//! Integration tests of `cloudops-core`: one binary, one module per feature.

mod estate;
mod evaluation;
mod facets;
mod support;
