//! PostgreSQL: every statement that inserts audit events notifies `atom_audit` when its
//! transaction commits, so each instance's live-update reader wakes at once instead of on its
//! next poll (events.rs). SQLite (one instance) has nothing to notify. Expand-only.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = m.get_connection();
        db.execute_unprepared(
            "CREATE OR REPLACE FUNCTION atom_audit_notify() RETURNS trigger AS $$ \
             BEGIN PERFORM pg_notify('atom_audit', ''); RETURN NULL; END $$ LANGUAGE plpgsql",
        )
        .await?;
        db.execute_unprepared(
            "CREATE TRIGGER atom_audit_notify AFTER INSERT ON audit_events \
             FOR EACH STATEMENT EXECUTE FUNCTION atom_audit_notify()",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = m.get_connection();
        db.execute_unprepared("DROP TRIGGER IF EXISTS atom_audit_notify ON audit_events")
            .await?;
        db.execute_unprepared("DROP FUNCTION IF EXISTS atom_audit_notify()")
            .await?;
        Ok(())
    }
}
