//! The stamp decoder on arbitrary cookie values: never panics, and whatever
//! opens is a stamp it could have sealed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rocket_session_security::__internals::StampCodec;

fuzz_target!(|data: &[u8]| {
    let codec = StampCodec::new(&cookie::Key::from(&[42u8; 64]), "session_security");
    if let Ok(value) = std::str::from_utf8(data) {
        if let Ok(stamp) = codec.open(value) {
            assert!(stamp.last_activity >= stamp.signed_in_at);
            assert_eq!(codec.open(&codec.seal(stamp)), Ok(stamp));
        }
    }
});
