//! The private-cookie codec: sign-in time and last activity in, an
//! encrypted cookie value out, and back.
//!
//! The value is sealed exactly like Rocket's private cookies (AES-256-GCM,
//! random 96-bit nonce, the cookie name as associated data, base64 of
//! nonce ‖ ciphertext ‖ tag), under the key Rocket derives from
//! `secret_key`, so `CookieJar::get_private` reads it too. The cipher is set
//! up once per launch, not once per request.

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use rand::RngCore;

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// Longest plaintext we ever write: "1:" and two i64 with a separator.
const MAX_PLAIN: usize = 64;

/// What the stamp cookie holds, in whole Unix seconds (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// When the person signed in.
    pub signed_in_at: i64,
    /// The most recent activity the server has seen.
    pub last_activity: i64,
}

/// Why a stamp could not be read. Every case means "expired": fail closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StampError {
    /// Not base64, too short or too long.
    Malformed,
    /// Wrong key, tampered bytes, or moved from another cookie name.
    Unauthentic,
    /// Decrypted, but not a stamp this crate writes.
    BadPayload,
}

/// Seals and opens stamps under one key and cookie name.
pub struct StampCodec {
    cipher: Aes256Gcm,
    cookie_name: String,
}

impl StampCodec {
    /// A codec from Rocket's 512-bit master key (the encryption half is used,
    /// as Rocket does) for the cookie `cookie_name`.
    pub fn new(master_key: &cookie::Key, cookie_name: &str) -> Self {
        StampCodec { cipher: Aes256Gcm::new(master_key.encryption().into()), cookie_name: cookie_name.to_string() }
    }

    /// Encrypts `stamp` into a cookie value.
    pub fn seal(&self, stamp: Stamp) -> String {
        use std::io::Write;
        let mut plain = [0u8; MAX_PLAIN];
        let mut cursor = std::io::Cursor::new(&mut plain[..]);
        // Cannot fail: two i64 always fit in MAX_PLAIN bytes.
        let _ = write!(cursor, "1:{}:{}", stamp.signed_in_at, stamp.last_activity);
        let len = cursor.position() as usize;

        let mut data = [0u8; NONCE_LEN + MAX_PLAIN + TAG_LEN];
        let (nonce, rest) = data.split_at_mut(NONCE_LEN);
        rand::thread_rng().fill_bytes(nonce);
        let (body, rest) = rest.split_at_mut(len);
        body.copy_from_slice(&plain[..len]);
        let tag = self
            .cipher
            .encrypt_in_place_detached(Nonce::from_slice(nonce), self.cookie_name.as_bytes(), body)
            .expect("AES-GCM sealing of a few bytes cannot fail");
        rest[..TAG_LEN].copy_from_slice(&tag);
        BASE64.encode(&data[..NONCE_LEN + len + TAG_LEN])
    }

    /// Decrypts and parses a cookie value.
    pub fn open(&self, value: &str) -> Result<Stamp, StampError> {
        let max_encoded = (NONCE_LEN + MAX_PLAIN + TAG_LEN).div_ceil(3) * 4;
        if value.len() > max_encoded {
            return Err(StampError::Malformed);
        }
        let mut data = [0u8; NONCE_LEN + MAX_PLAIN + TAG_LEN + 3];
        let len = BASE64.decode_slice(value, &mut data).map_err(|_| StampError::Malformed)?;
        if len <= NONCE_LEN + TAG_LEN {
            return Err(StampError::Malformed);
        }
        let (nonce, rest) = data[..len].split_at_mut(NONCE_LEN);
        let (body, tag) = rest.split_at_mut(rest.len() - TAG_LEN);
        self.cipher
            .decrypt_in_place_detached(
                Nonce::from_slice(nonce),
                self.cookie_name.as_bytes(),
                body,
                aes_gcm::Tag::from_slice(tag),
            )
            .map_err(|_| StampError::Unauthentic)?;
        parse_plain(body).ok_or(StampError::BadPayload)
    }
}

/// `1:<signed_in_at>:<last_activity>`, both non-negative, last ≥ signed in.
fn parse_plain(plain: &[u8]) -> Option<Stamp> {
    let text = std::str::from_utf8(plain).ok()?;
    let rest = text.strip_prefix("1:")?;
    let (signed_in, last) = rest.split_once(':')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(signed_in) || !digits(last) {
        return None;
    }
    let stamp = Stamp { signed_in_at: signed_in.parse().ok()?, last_activity: last.parse().ok()? };
    (stamp.last_activity >= stamp.signed_in_at).then_some(stamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codec() -> StampCodec {
        StampCodec::new(&cookie::Key::from(&[7u8; 64]), "session_security")
    }

    #[test]
    fn round_trips_and_uses_a_fresh_nonce_each_time() {
        let codec = codec();
        let stamp = Stamp { signed_in_at: 1_700_000_000, last_activity: 1_700_000_123 };
        let a = codec.seal(stamp);
        let b = codec.seal(stamp);
        assert_ne!(a, b);
        assert!(!a.contains("1700000"));
        assert_eq!(codec.open(&a), Ok(stamp));
        assert_eq!(codec.open(&b), Ok(stamp));
    }

    #[test]
    fn reads_and_writes_rocket_private_cookie_format() {
        let key = cookie::Key::from(&[9u8; 64]);
        let codec = StampCodec::new(&key, "session_security");
        let stamp = Stamp { signed_in_at: 10, last_activity: 20 };
        let mut jar = cookie::CookieJar::new();
        jar.add(cookie::Cookie::new("session_security", codec.seal(stamp)));
        let plain = jar.private(&key).get("session_security").expect("cookie crate opens our seal");
        assert_eq!(plain.value(), "1:10:20");

        jar.private_mut(&key).add(cookie::Cookie::new("session_security", "1:30:40"));
        let sealed = jar.get("session_security").unwrap().value().to_string();
        assert_eq!(codec.open(&sealed), Ok(Stamp { signed_in_at: 30, last_activity: 40 }));
    }

    #[test]
    fn rejects_other_keys_other_names_and_tampering() {
        let codec = codec();
        let sealed = codec.seal(Stamp { signed_in_at: 1, last_activity: 2 });
        let other_key = StampCodec::new(&cookie::Key::from(&[8u8; 64]), "session_security");
        assert_eq!(other_key.open(&sealed), Err(StampError::Unauthentic));
        let other_name = StampCodec::new(&cookie::Key::from(&[7u8; 64]), "other");
        assert_eq!(other_name.open(&sealed), Err(StampError::Unauthentic));

        let mut bytes = BASE64.decode(&sealed).unwrap();
        bytes[NONCE_LEN] ^= 1;
        assert_eq!(codec.open(&BASE64.encode(bytes)), Err(StampError::Unauthentic));
    }

    #[test]
    fn garbage_never_panics_and_is_never_a_stamp() {
        let codec = codec();
        let long = "A".repeat(10_000);
        for value in ["", "x", "====", "AAAA", "%%%", "1:2:3", long.as_str(), "\u{0}\u{1}", "😀😀😀😀"] {
            assert!(codec.open(value).is_err(), "{value:?}");
        }
    }

    #[test]
    fn payload_rules() {
        assert_eq!(parse_plain(b"1:5:9"), Some(Stamp { signed_in_at: 5, last_activity: 9 }));
        for bad in [
            &b"2:5:9"[..],
            b"1:9:5",
            b"1:-5:9",
            b"1:5",
            b"1:5:9:1",
            b"1::9",
            b"1:+5:9",
            b"1:5:99999999999999999999",
            b"\xff",
        ] {
            assert_eq!(parse_plain(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
