# Shared settings for the scripts (sourced, not run).
# Build outputs live outside the clone so a fresh clone reuses earlier builds.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/atom-connect/target}"
export PATH="$HOME/.cargo/bin:$PATH"
# cargo-leptos builds the server with this flag; passing the same one to `cargo test` lets the
# tests reuse that build instead of compiling ~230 crates a second time.
export ATOM_TEST_RUSTFLAGS="--cfg erase_components"
