//! Placeholder replaced by the micro-benchmarks.
fn main() {}
