//! The ping's query parsers on arbitrary queries: never panic, a value
//! `idle_for` accepts is a whole number of seconds that fits a u32, and
//! `closing` is found only in a query that spells it (maybe encoded).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rocket_session_security::__internals::{is_closing, parse_idle_for};

fuzz_target!(|data: &[u8]| {
    if let Ok(query) = std::str::from_utf8(data) {
        if let Ok(Some(seconds)) = parse_idle_for(Some(query)) {
            assert!(query.contains(&seconds.to_string()) || query.contains('%'));
        }
        if is_closing(Some(query)) {
            assert!(query.contains("closing") || query.contains('%'));
        }
    }
});
