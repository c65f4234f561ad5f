//! Integration tests of the planning server: in process over real TCP, and the binary as a
//! child process, with a real `redis-server` and real Git repositories.

mod advisor;
mod binary;
mod errors;
mod plan;
mod redis_store;
mod routes;
mod support;
