//! The schema's floor: the oldest migration a release must know to serve this database. A
//! release that finds migrations it does not know (a newer release migrated the database during
//! a rolling upgrade) keeps serving when it knows the floor, and refuses, naming the floor,
//! when it does not. See lib.rs for when a migration raises it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SchemaFloor {
    Table,
    Id,
    OldestReader,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(SchemaFloor::Table)
                .col(
                    ColumnDef::new(SchemaFloor::Id)
                        .integer()
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(SchemaFloor::OldestReader)
                        .string_len(128)
                        .not_null(),
                )
                .to_owned(),
        )
        .await?;
        // Every release from this one on knows this migration and reads the floor.
        m.exec_stmt(
            Query::insert()
                .into_table(SchemaFloor::Table)
                .columns([SchemaFloor::Id, SchemaFloor::OldestReader])
                .values_panic([1.into(), "m0010_schema_floor".into()])
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(SchemaFloor::Table).to_owned())
            .await
    }
}
