//! The integration tests, in one binary (one link of Rocket and the demo
//! instead of one per file): one module per concern. Apart, in processes of
//! their own: `tests/logging.rs` (a process has one logger), `tests/env_config.rs`
//! (it sets `ROCKET_*` variables that every Rocket built in the process reads)
//! and `tests/browser` (real browsers, timed in seconds, two scenarios at a
//! time and nothing else beside them).

#[path = "../common/mod.rs"]
mod common;

mod bench_server;
mod binding;
mod client_assets;
mod clock;
mod concurrency;
mod config;
mod demo;
mod examples;
mod layers;
mod ping;
mod properties;
mod proxy;
mod quickstart;
mod redis_store;
mod revocation;
mod revocation_redis;
mod rocket_idioms;
mod session;
