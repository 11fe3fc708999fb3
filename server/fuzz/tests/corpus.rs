//! Replays every committed fuzz input (corpus/<target>/ and regressions/<target>/) through its
//! target's checks: what the fuzzer once found stays found. `make fuzz` grows the corpus.

use std::path::Path;

#[test]
fn every_committed_fuzz_input_still_passes_its_checks() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (name, check) in atom_fuzz::TARGETS {
        let mut replayed = 0;
        for dir in ["corpus", "regressions"] {
            let Ok(entries) = std::fs::read_dir(root.join(dir).join(name)) else {
                continue;
            };
            for entry in entries {
                let path = entry.expect("a readable directory").path();
                let input = std::fs::read(&path).expect("a readable input");
                let outcome = std::panic::catch_unwind(|| check(&input));
                assert!(
                    outcome.is_ok(),
                    "{name}: {} fails its checks",
                    path.display()
                );
                replayed += 1;
            }
        }
        assert!(
            replayed > 0,
            "{name}: no committed inputs (corpus/{name}/ is empty)"
        );
    }
}
