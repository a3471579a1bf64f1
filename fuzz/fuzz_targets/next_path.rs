//! `safe_next` on arbitrary input: what it accepts never leaves the site.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rocket_session_security::safe_next;

fuzz_target!(|data: &[u8]| {
    if let Ok(candidate) = std::str::from_utf8(data) {
        if let Some(next) = safe_next(candidate) {
            // A path-absolute reference: resolved against this site, it stays on it.
            assert!(next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\"));
            assert!(next.bytes().all(|b| b.is_ascii_graphic()));
        }
    }
});
