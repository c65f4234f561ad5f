//! Integration tests of `cloudops-assist`.

mod audit;
