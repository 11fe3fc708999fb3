pub mod connections;
pub mod signin;
