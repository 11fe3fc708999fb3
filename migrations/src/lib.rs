//! Schema migrations for ATOM Connect, run at start and by `atom migrate`.
//! Every migration must run on SQLite and PostgreSQL alike.

pub use sea_orm_migration::prelude::*;
pub use sea_orm_migration::MigrationStatus;

mod m0001_initial;
mod m0002_api_keys_and_leases;
mod m0003_revocation_retries;
mod m0004_connect_links;
mod m0005_accounts;
mod m0006_webhooks;
mod m0007_indexes;
mod m0008_flow_stats;
mod m0009_connection_schedule;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_initial::Migration),
            Box::new(m0002_api_keys_and_leases::Migration),
            Box::new(m0003_revocation_retries::Migration),
            Box::new(m0004_connect_links::Migration),
            Box::new(m0005_accounts::Migration),
            Box::new(m0006_webhooks::Migration),
            Box::new(m0007_indexes::Migration),
            Box::new(m0008_flow_stats::Migration),
            Box::new(m0009_connection_schedule::Migration),
        ]
    }
}
