pub mod account;
pub mod admin;
pub mod connections;
pub mod setup;
pub mod signin;
