//! Schema migrations for ATOM Connect, run at start and by `atom migrate`.
//! Every migration must run on SQLite and PostgreSQL alike.
//!
//! Rolling upgrades: the new release migrates while instances of the previous one still run,
//! so a migration *expands* (new tables, new nullable or defaulted columns, new indexes) and the
//! previous release keeps working on the result. A change the previous release cannot serve
//! (dropping or renaming what it reads, a column it would insert rows without) is a *contract*
//! migration: it ships one release after the code stopped using the old shape, and it raises
//! the floor (`UPDATE schema_floor SET oldest_reader = '<its own name>'`) so that older
//! binaries refuse this database instead of failing on it (m0010_schema_floor).

pub use sea_orm_migration::prelude::*;

mod m0001_initial;
mod m0002_api_keys_and_leases;
mod m0003_revocation_retries;
mod m0004_connect_links;
mod m0005_accounts;
mod m0006_webhooks;
mod m0007_indexes;
mod m0008_flow_stats;
mod m0009_connection_schedule;
mod m0010_schema_floor;
mod m0011_audit_notify;
mod m0012_platform_users;
mod m0013_calls_through_the_hub;
mod m0014_several_accounts;
mod m0015_flow_counts;

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
            Box::new(m0010_schema_floor::Migration),
            Box::new(m0011_audit_notify::Migration),
            Box::new(m0012_platform_users::Migration),
            Box::new(m0013_calls_through_the_hub::Migration),
            Box::new(m0014_several_accounts::Migration),
            Box::new(m0015_flow_counts::Migration),
        ]
    }
}
