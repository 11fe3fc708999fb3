//! Integration tests: the real server on port 0, the sandbox over real HTTP, a fresh database.
//! SQLite by default; ATOM_TEST_DATABASE=postgres runs the same suite on PostgreSQL.

mod backend_api;
mod bad_input;
mod check;
mod connect;
mod connect_links;
mod flow_rules;
mod helpers;
mod instances;
mod provider_faults;
mod providers;
mod secrets;
mod security;
mod trello;
