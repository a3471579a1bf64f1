//! The ping's query parser on arbitrary queries: never panics, and a value
//! it accepts is a whole number of seconds that fits a u32.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rocket_session_security::__internals::parse_idle_for;

fuzz_target!(|data: &[u8]| {
    if let Ok(query) = std::str::from_utf8(data) {
        if let Ok(Some(seconds)) = parse_idle_for(Some(query)) {
            assert!(query.contains(&seconds.to_string()) || query.contains('%'));
        }
    }
});
