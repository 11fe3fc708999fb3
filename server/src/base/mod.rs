//! The foundation: configuration, the vault, the clock, storage (all SQL), the provider
//! catalogue, audit event types and metrics recording. Nothing here imports from `domain`,
//! the entry points (`http`, `jobs`, `hub`, `state`, ...) or the sandbox: see
//! docs/architecture.md.

pub mod audit;
pub mod bounded;
pub mod clock;
pub mod config;
pub mod hot;
pub mod metrics;
pub mod passwords;
pub mod providers;
pub mod store;
pub mod vault;
