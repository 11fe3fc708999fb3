.PHONY: run test bench soak fuzz deploy-test profile

# Run the hub at http://localhost:5058 (installs what it needs first).
run:
	scripts/run.sh

# Run every test: Rust unit and integration (SQLite, PostgreSQL), Playwright in Chromium.
test:
	scripts/test.sh

# Measure build times, wasm size, idle memory and request rates into BENCHMARKS.md.
bench:
	scripts/bench.sh

# Mixed traffic against the release hub for SOAK_SECONDS (default 600); numbers into BENCHMARKS.md.
soak:
	scripts/soak.sh

# Where the release hub spends its CPU on the hot routes (perf); into BENCHMARKS.md.
profile:
	scripts/profile.sh

# Fuzz each parser for FUZZ_SECONDS (default 60) and minimise the corpus (make test replays it).
fuzz:
	scripts/fuzz.sh

# docs/deploy.md under load: two instances behind nginx, rolling restart and upgrade, backup
# and restore, key rotation; counts failed requests (the bar: zero). A few minutes.
deploy-test:
	scripts/deploy-test.sh
