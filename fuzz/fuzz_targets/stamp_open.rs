//! The stamp decoder: arbitrary cookie values (which AES-GCM refuses) and
//! arbitrary authentic plaintexts (which only the payload parser judges).
//! Never panics, and whatever opens is a stamp the codec could have sealed:
//! activity within an `i32` of seconds of the sign-in, either side (before it
//! once the last tab closed, see `end_with_last_tab`).
//!
//! Input: a first byte choosing the mode (even: the rest is a cookie value;
//! odd: the rest is a plaintext, sealed before it is opened).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rocket_session_security::__internals::StampCodec;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let codec = StampCodec::new(&cookie::Key::from(&[42u8; 64]), "session_security");
    let opened = if mode % 2 == 0 {
        let Ok(value) = std::str::from_utf8(rest) else { return };
        codec.open(value)
    } else {
        codec.open(&codec.seal_plaintext(rest))
    };
    if let Ok(stamp) = opened {
        assert!(stamp.signed_in_at >= 0);
        let offset = stamp.last_activity - stamp.signed_in_at;
        assert!(i32::try_from(offset).is_ok(), "activity {offset} s from the sign-in");
        assert!(stamp.timeouts.validate().is_ok(), "{:?}", stamp.timeouts);
        assert_eq!(codec.open(&codec.seal(stamp)), Ok(stamp));
    }
});
