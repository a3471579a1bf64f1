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
/// Longest sealed value: the base64 of nonce ‖ longest plaintext ‖ tag.
const MAX_SEALED: usize = (NONCE_LEN + MAX_PLAIN + TAG_LEN).div_ceil(3) * 4;

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

/// A sealed stamp before base64: nonce ‖ ciphertext ‖ tag, on the stack.
#[derive(Clone, Copy)]
pub struct SealedBytes {
    data: [u8; NONCE_LEN + MAX_PLAIN + TAG_LEN],
    len: usize,
}

impl SealedBytes {
    /// Nonce ‖ ciphertext ‖ tag: the cookie value is their standard, padded base64.
    pub fn as_bytes(&self) -> &[u8] {
        &self.data[..self.len]
    }
}

impl std::fmt::Debug for SealedBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SealedBytes").field(&self.as_bytes()).finish()
    }
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
    #[cfg(any(test, feature = "internals"))]
    pub fn seal(&self, stamp: Stamp) -> String {
        BASE64.encode(self.seal_bytes(stamp).as_bytes())
    }

    /// Encrypts `stamp`, without an allocation; the cookie value is the
    /// base64 of the result (what [`seal`](Self::seal) returns).
    pub fn seal_bytes(&self, stamp: Stamp) -> SealedBytes {
        let mut sealed = SealedBytes { data: [0u8; NONCE_LEN + MAX_PLAIN + TAG_LEN], len: 0 };
        let (nonce, rest) = sealed.data.split_at_mut(NONCE_LEN);
        rand::thread_rng().fill_bytes(nonce);
        let len = write_plain(rest, stamp);
        let (body, rest) = rest.split_at_mut(len);
        let tag = self
            .cipher
            .encrypt_in_place_detached(Nonce::from_slice(nonce), self.cookie_name.as_bytes(), body)
            .expect("AES-GCM sealing of a few bytes cannot fail");
        rest[..TAG_LEN].copy_from_slice(&tag);
        sealed.len = NONCE_LEN + len + TAG_LEN;
        sealed
    }

    /// Decrypts and parses a cookie value.
    pub fn open(&self, value: &str) -> Result<Stamp, StampError> {
        if value.len() > MAX_SEALED {
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

/// Writes `1:<signed_in_at>:<last_activity>` (what `write!` would print)
/// at the start of `out`; returns its length (at most `MAX_PLAIN`).
fn write_plain(out: &mut [u8], stamp: Stamp) -> usize {
    out[..2].copy_from_slice(b"1:");
    let at = write_decimal(out, 2, stamp.signed_in_at);
    out[at] = b':';
    write_decimal(out, at + 1, stamp.last_activity)
}

/// Writes `n` in decimal at `out[at..]` (a `-` first if negative); returns
/// the index after the last digit.
fn write_decimal(out: &mut [u8], at: usize, n: i64) -> usize {
    let mut digits = [0u8; 20];
    let mut first = digits.len();
    let mut rest = n.unsigned_abs();
    loop {
        first -= 1;
        digits[first] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let mut at = at;
    if n < 0 {
        out[at] = b'-';
        at += 1;
    }
    let digits = &digits[first..];
    out[at..at + digits.len()].copy_from_slice(digits);
    at + digits.len()
}

/// `1:<signed_in_at>:<last_activity>`, both non-negative, last ≥ signed in.
fn parse_plain(plain: &[u8]) -> Option<Stamp> {
    let rest = plain.strip_prefix(b"1:")?;
    let colon = rest.iter().position(|&b| b == b':')?;
    let stamp = Stamp { signed_in_at: parse_digits(&rest[..colon])?, last_activity: parse_digits(&rest[colon + 1..])? };
    (stamp.last_activity >= stamp.signed_in_at).then_some(stamp)
}

/// One or more ASCII digits (no sign) that fit an `i64`.
fn parse_digits(digits: &[u8]) -> Option<i64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0i64, |n, &b| {
        if !b.is_ascii_digit() {
            return None;
        }
        n.checked_mul(10)?.checked_add(i64::from(b - b'0'))
    })
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
    fn plaintext_is_written_as_format_would() {
        let mut out = [0u8; MAX_PLAIN];
        for (a, b) in [(0, 0), (5, 9), (1_700_000_000, 1_700_000_123), (-1, 10), (i64::MIN, i64::MAX), (i64::MAX, -7)] {
            let len = write_plain(&mut out, Stamp { signed_in_at: a, last_activity: b });
            assert_eq!(std::str::from_utf8(&out[..len]).unwrap(), format!("1:{a}:{b}"));
        }
    }

    #[test]
    fn sealed_bytes_are_the_seal_before_base64() {
        let codec = codec();
        for stamp in
            [Stamp { signed_in_at: 1, last_activity: 2 }, Stamp { signed_in_at: i64::MAX, last_activity: i64::MAX }]
        {
            let sealed = codec.seal_bytes(stamp);
            assert_eq!(codec.open(&BASE64.encode(sealed.as_bytes())), Ok(stamp));
        }
        // The longest plaintext (two negative 20-character numbers) still fits.
        let longest = codec.seal_bytes(Stamp { signed_in_at: i64::MIN, last_activity: i64::MIN });
        assert_eq!(longest.as_bytes().len(), NONCE_LEN + 43 + TAG_LEN);
        assert_eq!(codec.open(&BASE64.encode(longest.as_bytes())), Err(StampError::BadPayload));
    }

    /// The parser before it worked on bytes: the reference for `parse_plain`.
    fn parse_plain_via_str(plain: &[u8]) -> Option<Stamp> {
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

    #[test]
    fn byte_parser_agrees_with_the_str_parser() {
        let mut corpus: Vec<Vec<u8>> = [
            &b"1:5:9"[..],
            b"1:007:0009",
            b"1:0:0",
            b"1:9223372036854775807:9223372036854775807",
            b"1:9223372036854775808:9223372036854775808",
            b"1:5:9:",
            b"1:\xc3\xa9:9",
            b"1:5:\xff",
            b"1:5\x00:9",
            b"1:+5:+9",
            b"1:-0:0",
            b"11:5:9",
            b"",
            b"1:",
            b"1::",
        ]
        .iter()
        .map(|b| b.to_vec())
        .collect();
        let alphabet = b"0123456789:-+ 1\xff";
        let mut x: u32 = 12345;
        for _ in 0..20_000 {
            let len = (x % 12) as usize;
            let mut v = b"1:".to_vec();
            for _ in 0..len {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                v.push(alphabet[(x >> 16) as usize % alphabet.len()]);
            }
            corpus.push(v);
        }
        for plain in &corpus {
            assert_eq!(parse_plain(plain), parse_plain_via_str(plain), "{:?}", String::from_utf8_lossy(plain));
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
            b"1:5:9223372036854775808",
            b"1:5:9 ",
            b"1:5:",
            b":5:9",
            b"\xff",
        ] {
            assert_eq!(parse_plain(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
