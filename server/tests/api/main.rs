//! Integration tests: the real server on port 0, the sandbox over real HTTP, a fresh database.
//! SQLite by default; ATOM_TEST_DATABASE=postgres runs the same suite on PostgreSQL.

mod accounts;
mod admin;
mod backend_api;
mod bad_input;
mod check;
mod connect;
mod connect_links;
mod dashboard;
mod flow_rules;
mod hardening;
mod hardening_two;
mod helpers;
mod hostile;
mod imports;
mod instances;
mod kill;
mod link_accounts;
mod mcp;
mod operations;
mod platform_users;
mod provider_faults;
mod providers;
mod proxy;
mod secrets;
mod security;
mod several_accounts;
mod sso;
mod token_lifecycle;
mod trello;
mod webhooks;
