#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| atom_fuzz::return_to(data));
