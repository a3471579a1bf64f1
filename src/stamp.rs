//! The stamp codec: sign-in time, last activity and the two binding tags in,
//! an encrypted, authenticated cookie value out, and back.
//!
//! Format (version 5): `base64url(nonce ‖ ciphertext ‖ tag)` without padding,
//! always [`ENCODED_LEN`] characters. The plaintext is 50 bytes: the version
//! byte, `signed_in_at` as a big-endian `i64`, `last_activity` as seconds
//! after it (a big-endian `i32`, ±68 years: before it once the last tab
//! closed, see `end_with_last_tab`), the 8-byte
//! [`login tag`](Stamp::login_tag), the 8-byte
//! [`person tag`](Stamp::person_tag) (see `binding.rs`), the 8-byte random
//! [`session id`](Stamp::session_id) that revocations name, the session's
//! [`timing`](Stamp::timeouts) (`warn_after`, `expire_after`,
//! `absolute_timeout`, big-endian `u32`s, chosen at sign-in), and a reserved
//! byte, 0 (so the sealed value is whole base64 groups). It is sealed with
//! AES-256-GCM, a random 96-bit nonce per seal, the cookie name as associated
//! data (a stamp moved to another cookie does not open), under a key of its
//! own: the first 32 bytes of HKDF-SHA256 of Rocket's 512-bit master key with
//! the info [`KEY_INFO`] (the rest keys the binding tags). So no private
//! cookie of the app, sealed under Rocket's key, ever opens as a stamp, and a
//! stamp never opens as one of them.
//!
//! Why not Rocket's private-cookie format: its standard base64 has `/`, `+`
//! and `=`, which cookies carry percent-encoded, so every request paid for a
//! percent-decoding copy of the value, and its text payload was longer. This
//! value needs no encoding at all.
//! The key is derived and the cipher set up once per launch, not per request.

use std::sync::Mutex;

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::RngCore;

use crate::timing::Timeouts;

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const VERSION: u8 = 5;
/// Length of the login tag (SipHash-2-4: 64 bits).
pub const LOGIN_TAG_BYTES: usize = 8;
/// Length of the person tag (HMAC-SHA256 cut to 64 bits).
pub const PERSON_TAG_BYTES: usize = 8;
/// Version byte, sign-in `i64`, activity offset `i32`, two binding tags,
/// the session id, three `u32` limits, a reserved byte.
const PLAIN_LEN: usize = 1 + 8 + 4 + LOGIN_TAG_BYTES + PERSON_TAG_BYTES + 8 + 12 + 1;
const LOGIN_AT: usize = 13;
const PERSON_AT: usize = LOGIN_AT + LOGIN_TAG_BYTES;
const SESSION_AT: usize = PERSON_AT + PERSON_TAG_BYTES;
const TIMING_AT: usize = SESSION_AT + 8;
const RESERVED_AT: usize = TIMING_AT + 12;
const SEALED_LEN: usize = NONCE_LEN + PLAIN_LEN + TAG_LEN;
/// The length of every stamp cookie value (78 bytes make 104 base64
/// characters, no padding).
pub const ENCODED_LEN: usize = SEALED_LEN / 3 * 4;
const _: () = assert!(SEALED_LEN.is_multiple_of(3), "a padded value would need percent-encoding");
const _: () = assert!(ENCODED_LEN.is_multiple_of(8), "compared in 8-byte words");
/// The HKDF info that makes the stamp key from Rocket's master key.
pub const KEY_INFO: &[u8] = b"rocket_session_security stamp v5 AES-256-GCM, SipHash-2-4, HMAC-SHA256";

/// The keyed digest of the login cookies as sent (see `binding.rs`).
pub type LoginTag = [u8; LOGIN_TAG_BYTES];
/// The keyed digest of who signed in (see `binding.rs`).
pub type PersonTag = [u8; PERSON_TAG_BYTES];

/// What the stamp cookie holds: times in whole Unix seconds (UTC), and what
/// binds it to the sign-in it was made for. Crate-private: apps' tests read
/// one through the getters of [`crate::testing::Stamp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stamp {
    /// When the person signed in.
    pub signed_in_at: i64,
    /// The most recent activity the server has seen.
    pub last_activity: i64,
    /// Keyed digest of the login cookies' values as the browser sends them:
    /// checked on every request, cheaply.
    pub login_tag: LoginTag,
    /// Keyed digest of who signed in (the login cookies' decrypted values):
    /// the same for every sign-in of one person. Checked when the login tag
    /// differs (the app re-issued its cookie), and shown to the browser.
    pub person_tag: PersonTag,
    /// The session's random id, made at sign-in: what a revocation of this
    /// one session names. 0 for none (a stamp made by hand in a test).
    pub session_id: u64,
    /// The session's timing, chosen at sign-in (valid: a stamp with a
    /// timing that breaks [`Timeouts::validate`] does not open).
    pub timeouts: Timeouts,
}

/// Why a stamp could not be read. Every case means "expired": fail closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StampError {
    /// Not [`ENCODED_LEN`] characters of base64url.
    Malformed,
    /// Wrong key, tampered bytes, another format, or moved from another cookie name.
    Unauthentic,
    /// Decrypted, but not a stamp this crate writes.
    BadPayload,
}

impl StampError {
    /// Why, in words, for the log.
    pub fn as_str(self) -> &'static str {
        match self {
            StampError::Malformed => "not a stamp value",
            StampError::Unauthentic => "does not open under this key",
            StampError::BadPayload => "not a stamp this version writes",
        }
    }
}

/// A sealed stamp as its cookie value, on the stack.
#[derive(Clone, Copy)]
pub struct EncodedStamp([u8; ENCODED_LEN]);

impl EncodedStamp {
    /// The cookie value: base64url characters only, nothing to percent-encode.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("base64 is ASCII")
    }
}

impl std::fmt::Debug for EncodedStamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("EncodedStamp").field(&self.as_str()).finish()
    }
}

/// The keys derived from Rocket's master key: the stamp's cipher key and the
/// binding tags' keys.
pub struct StampKeys {
    /// AES-256-GCM key of the stamp.
    pub cipher: [u8; 32],
    /// SipHash-2-4 key of the login tag.
    pub login: [u8; 16],
    /// HMAC-SHA256 key of the person tag.
    pub person: [u8; 32],
}

impl StampKeys {
    /// HKDF-SHA256 of the 512-bit master key with [`KEY_INFO`], 80 bytes, split.
    pub fn derive(master_key: &cookie::Key) -> Self {
        let mut okm = [0u8; 80];
        hkdf::Hkdf::<sha2::Sha256>::new(None, master_key.master())
            .expand(KEY_INFO, &mut okm)
            .expect("80 bytes is a valid HKDF-SHA256 output length");
        let mut keys = StampKeys { cipher: [0; 32], login: [0; 16], person: [0; 32] };
        keys.cipher.copy_from_slice(&okm[..32]);
        keys.login.copy_from_slice(&okm[32..48]);
        keys.person.copy_from_slice(&okm[48..]);
        keys
    }
}

/// How many stamps each codec remembers by value, and as many by content.
const REMEMBERED: usize = 64;

/// A stamp and the value it was sealed into (or opened from) by this codec.
#[derive(Clone, Copy)]
struct Known {
    value: [u8; ENCODED_LEN],
    stamp: Stamp,
}

/// One remembered stamp; `try_lock` only: a busy slot is a miss, never a wait.
type Slot = Mutex<Option<Known>>;

/// Seals and opens stamps under one key and cookie name.
///
/// It remembers the stamps it sealed or opened last (64 by value, 64 by
/// content), so that a browser's next request, or the same stamp written
/// again within its second, costs no AES-GCM: about 2,300 instructions each
/// way (bench/callgrind.sh). Only a value that authenticated under this very
/// codec is remembered, so the same value always stands for the same stamp;
/// whether that stamp is still good (idle, absolute limit, revoked, bound to
/// the login cookies) is decided after, for every request alike. Sealing the
/// same stamp twice gives the same value: a new nonce per *plaintext*, which
/// is what AES-GCM asks for.
pub struct StampCodec {
    cipher: Aes256Gcm,
    associated_data: Vec<u8>,
    by_value: [Slot; REMEMBERED],
    by_stamp: [Slot; REMEMBERED],
}

impl StampCodec {
    /// A codec for the cookie `cookie_name`, keyed from Rocket's 512-bit
    /// master key (see the module documentation).
    #[cfg_attr(not(any(test, feature = "__internals")), allow(dead_code))]
    pub fn new(master_key: &cookie::Key, cookie_name: &str) -> Self {
        Self::with_keys(&StampKeys::derive(master_key), cookie_name)
    }

    /// A codec for `cookie_name` under already derived keys.
    pub fn with_keys(keys: &StampKeys, cookie_name: &str) -> Self {
        StampCodec {
            cipher: Aes256Gcm::new(&keys.cipher.into()),
            associated_data: cookie_name.as_bytes().to_vec(),
            by_value: std::array::from_fn(|_| Mutex::new(None)),
            by_stamp: std::array::from_fn(|_| Mutex::new(None)),
        }
    }

    /// Encrypts `stamp` into a cookie value.
    pub fn seal(&self, stamp: Stamp) -> String {
        self.seal_encoded(stamp).as_str().to_string()
    }

    /// Encrypts `stamp` into a cookie value, without an allocation: the
    /// value made last time when this stamp was just sealed.
    pub fn seal_encoded(&self, stamp: Stamp) -> EncodedStamp {
        let slot = &self.by_stamp[stamp.session_id as usize % REMEMBERED];
        // The session id first: random, so another session's stamp differs there at once.
        if let Some(known) = recall(slot, |k| k.stamp.session_id == stamp.session_id && k.stamp == stamp) {
            return EncodedStamp(known.value);
        }
        let value = self.seal_fresh(stamp);
        let known = Known { value: value.0, stamp };
        remember(slot, known);
        // The browser sends it back next: opened from memory too.
        remember(&self.by_value[value_slot(&value.0)], known);
        value
    }

    /// Encrypts `stamp` under a fresh random nonce.
    fn seal_fresh(&self, stamp: Stamp) -> EncodedStamp {
        let mut sealed = [0u8; SEALED_LEN];
        let (nonce, rest) = sealed.split_at_mut(NONCE_LEN);
        rand::thread_rng().fill_bytes(nonce);
        let (body, tag) = rest.split_at_mut(PLAIN_LEN);
        body[0] = VERSION;
        body[1..9].copy_from_slice(&stamp.signed_in_at.to_be_bytes());
        // Before the sign-in only when the last tab closed (end_with_last_tab); 68 years is far enough.
        let offset =
            stamp.last_activity.saturating_sub(stamp.signed_in_at).clamp(i64::from(i32::MIN), i64::from(i32::MAX))
                as i32;
        body[9..LOGIN_AT].copy_from_slice(&offset.to_be_bytes());
        body[LOGIN_AT..PERSON_AT].copy_from_slice(&stamp.login_tag);
        body[PERSON_AT..SESSION_AT].copy_from_slice(&stamp.person_tag);
        body[SESSION_AT..TIMING_AT].copy_from_slice(&stamp.session_id.to_be_bytes());
        let t = stamp.timeouts;
        for (at, limit) in [t.warn_after, t.expire_after, t.absolute_timeout].into_iter().enumerate() {
            body[TIMING_AT + 4 * at..TIMING_AT + 4 * at + 4].copy_from_slice(&limit.to_be_bytes());
        }
        body[RESERVED_AT] = 0;
        let computed = self
            .cipher
            .encrypt_in_place_detached(Nonce::from_slice(nonce), &self.associated_data, body)
            .expect("AES-GCM sealing of a few bytes cannot fail");
        tag.copy_from_slice(&computed);
        EncodedStamp(base64url_encode(&sealed))
    }

    /// Seals any plaintext of [`PLAIN_LEN`] bytes (padded with zeros or cut
    /// to it): for the fuzz target that feeds the payload parser, which no
    /// random cookie value reaches past AES-GCM.
    #[cfg(any(test, feature = "__internals"))]
    pub fn seal_plaintext(&self, plain: &[u8]) -> String {
        let mut sealed = [0u8; SEALED_LEN];
        let (nonce, rest) = sealed.split_at_mut(NONCE_LEN);
        let (body, tag) = rest.split_at_mut(PLAIN_LEN);
        let taken = plain.len().min(PLAIN_LEN);
        body[..taken].copy_from_slice(&plain[..taken]);
        let computed = self
            .cipher
            .encrypt_in_place_detached(Nonce::from_slice(nonce), &self.associated_data, body)
            .expect("AES-GCM sealing of a few bytes cannot fail");
        tag.copy_from_slice(&computed);
        base64url_encode(&sealed).into_iter().map(char::from).collect()
    }

    /// Decrypts and checks a cookie value (from memory when this codec
    /// sealed or opened exactly this value lately).
    pub fn open(&self, value: &str) -> Result<Stamp, StampError> {
        let Ok(chars) = <&[u8; ENCODED_LEN]>::try_from(value.as_bytes()) else { return Err(StampError::Malformed) };
        let slot = &self.by_value[value_slot(chars)];
        if let Some(known) = recall(slot, |k| same_value(&k.value, chars)) {
            return Ok(known.stamp);
        }
        let stamp = self.open_fresh(chars)?;
        remember(slot, Known { value: *chars, stamp });
        Ok(stamp)
    }

    /// Decrypts and checks a cookie value with AES-GCM.
    fn open_fresh(&self, chars: &[u8; ENCODED_LEN]) -> Result<Stamp, StampError> {
        let mut data = base64url_decode(chars).ok_or(StampError::Malformed)?;
        let (nonce, rest) = data.split_at_mut(NONCE_LEN);
        let (body, tag) = rest.split_at_mut(PLAIN_LEN);
        self.cipher
            .decrypt_in_place_detached(
                Nonce::from_slice(nonce),
                &self.associated_data,
                body,
                aes_gcm::Tag::from_slice(tag),
            )
            .map_err(|_| StampError::Unauthentic)?;
        parse_plain(body).ok_or(StampError::BadPayload)
    }
}

/// The slot of a value: its first character, 6 random bits of the nonce.
fn value_slot(chars: &[u8; ENCODED_LEN]) -> usize {
    usize::from(SEXTETS[usize::from(chars[0])]) % REMEMBERED
}

/// Equal values, compared without an early exit: how long it takes does not
/// tell how much of a forged value matched a remembered one. In 8-byte words
/// rather than with `subtle` (as the 8-byte binding tags are): its byte-wise
/// comparison of these 104 bytes took a remembered open from 31 to 137 ns
/// (benches/micro.rs), most of what remembering saves.
fn same_value(a: &[u8; ENCODED_LEN], b: &[u8; ENCODED_LEN]) -> bool {
    let word = |chunk: &[u8]| u64::from_ne_bytes(chunk.try_into().expect("chunks of 8 bytes"));
    let diff = a.chunks_exact(8).zip(b.chunks_exact(8)).fold(0, |diff, (x, y)| diff | (word(x) ^ word(y)));
    std::hint::black_box(diff) == 0
}

fn recall(slot: &Slot, matches: impl Fn(&Known) -> bool) -> Option<Known> {
    let known = (*slot.try_lock().ok()?)?;
    matches(&known).then_some(known)
}

fn remember(slot: &Slot, known: Known) {
    if let Ok(mut held) = slot.try_lock() {
        *held = Some(known);
    }
}

// Base64url of exactly SEALED_LEN bytes, a multiple of 3: whole groups, no
// padding, so a fixed-size loop. Written here rather than with the `base64`
// crate, whose general engine cost about 1,000 instructions a request for
// these two 60-character conversions (measured with bench/callgrind.sh).
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const NOT_BASE64: u8 = 0xff;
/// Each byte's value in [`ALPHABET`], or `NOT_BASE64`.
const SEXTETS: [u8; 256] = {
    let mut table = [NOT_BASE64; 256];
    let mut i = 0;
    while i < 64 {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// Base64url of whole 3-byte groups into `out` (4 characters a group).
fn encode_groups(bytes: &[u8], out: &mut [u8]) {
    for (group, chars) in bytes.chunks_exact(3).zip(out.chunks_exact_mut(4)) {
        let n = u32::from(group[0]) << 16 | u32::from(group[1]) << 8 | u32::from(group[2]);
        for (i, c) in chars.iter_mut().enumerate() {
            *c = ALPHABET[(n >> (18 - 6 * i)) as usize & 63];
        }
    }
}

fn base64url_encode(bytes: &[u8; SEALED_LEN]) -> [u8; ENCODED_LEN] {
    let mut out = [0u8; ENCODED_LEN];
    encode_groups(bytes, &mut out);
    out
}

/// Base64url without padding, of any length: for the browser's person tag
/// and the draft key (a JWK's `k`).
pub fn base64url(bytes: &[u8]) -> String {
    let whole = bytes.len() / 3 * 3;
    let mut out = vec![0u8; whole / 3 * 4];
    encode_groups(&bytes[..whole], &mut out);
    let rest = &bytes[whole..];
    if !rest.is_empty() {
        // A partial group: encoded as if zeros followed, less what they alone make.
        let mut group = [0u8; 3];
        group[..rest.len()].copy_from_slice(rest);
        let mut chars = [0u8; 4];
        encode_groups(&group, &mut chars);
        out.extend_from_slice(&chars[..rest.len() + 1]);
    }
    out.into_iter().map(char::from).collect()
}

/// `None` unless `chars` is exactly [`ENCODED_LEN`] base64url characters.
fn base64url_decode(chars: &[u8]) -> Option<[u8; SEALED_LEN]> {
    if chars.len() != ENCODED_LEN {
        return None;
    }
    let mut out = [0u8; SEALED_LEN];
    for (quad, group) in chars.chunks_exact(4).zip(out.chunks_exact_mut(3)) {
        let mut n = 0u32;
        for &c in quad {
            let sextet = SEXTETS[usize::from(c)];
            if sextet == NOT_BASE64 {
                return None;
            }
            n = n << 6 | u32::from(sextet);
        }
        group.copy_from_slice(&n.to_be_bytes()[1..]);
    }
    Some(out)
}

/// The version byte, the sign-in time (not negative) and the activity
/// offset, both tags, the session id, a valid timing.
fn parse_plain(plain: &[u8]) -> Option<Stamp> {
    if plain.len() != PLAIN_LEN || plain[0] != VERSION {
        return None;
    }
    let signed_in_at = i64::from_be_bytes(plain[1..9].try_into().ok()?);
    let offset = i32::from_be_bytes(plain[9..LOGIN_AT].try_into().ok()?);
    let stamp = Stamp {
        signed_in_at,
        last_activity: signed_in_at.checked_add(i64::from(offset))?,
        login_tag: plain[LOGIN_AT..PERSON_AT].try_into().ok()?,
        person_tag: plain[PERSON_AT..SESSION_AT].try_into().ok()?,
        session_id: u64::from_be_bytes(plain[SESSION_AT..TIMING_AT].try_into().ok()?),
        timeouts: Timeouts {
            warn_after: u32::from_be_bytes(plain[TIMING_AT..TIMING_AT + 4].try_into().ok()?),
            expire_after: u32::from_be_bytes(plain[TIMING_AT + 4..TIMING_AT + 8].try_into().ok()?),
            absolute_timeout: u32::from_be_bytes(plain[TIMING_AT + 8..RESERVED_AT].try_into().ok()?),
        },
    };
    (signed_in_at >= 0 && plain[RESERVED_AT] == 0 && stamp.timeouts.validate().is_ok()).then_some(stamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_of_any_length_without_padding() {
        for (bytes, encoded) in
            [(&b""[..], ""), (b"f", "Zg"), (b"fo", "Zm8"), (b"foo", "Zm9v"), (b"foob", "Zm9vYg"), (b"\xfb\xff", "-_8")]
        {
            assert_eq!(base64url(bytes), encoded, "{bytes:?}");
        }
    }

    fn codec() -> StampCodec {
        StampCodec::new(&cookie::Key::from(&[7u8; 64]), "session_security")
    }

    use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
    use base64::Engine;

    /// The sealed bytes of a value, and back: for tests that tamper.
    fn raw(value: &str) -> Vec<u8> {
        BASE64URL.decode(value).unwrap()
    }

    #[test]
    fn base64url_agrees_with_the_base64_crate() {
        let mut x: u32 = 99;
        let mut next = || {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (x >> 16) as u8
        };
        let mut cases: Vec<[u8; SEALED_LEN]> = vec![[0; SEALED_LEN], [0xff; SEALED_LEN]];
        cases.extend((0..2_000).map(|_| std::array::from_fn(|_| next())));
        for bytes in cases {
            let ours = base64url_encode(&bytes);
            let reference = BASE64URL.encode(bytes);
            assert_eq!(std::str::from_utf8(&ours).unwrap(), reference);
            assert_eq!(base64url_decode(reference.as_bytes()), Some(bytes));
        }
        // Every byte that is not in the alphabet, at every place, is refused.
        let good = base64url_encode(&[7; SEALED_LEN]);
        for b in 0..=255u8 {
            let valid = ALPHABET.contains(&b);
            for at in [0, 1, 2, 3, ENCODED_LEN - 1] {
                let mut chars = good;
                chars[at] = b;
                assert_eq!(base64url_decode(&chars).is_some(), valid, "{b:#x} at {at}");
            }
        }
        assert_eq!(base64url_decode(&good[..ENCODED_LEN - 4]), None);
        assert_eq!(base64url_decode(&[good.as_slice(), b"AAAA"].concat()), None);
    }

    #[test]
    fn round_trips_with_a_fresh_nonce_per_plaintext() {
        let codec = codec();
        let stamp = Stamp {
            signed_in_at: 1_700_000_000,
            last_activity: 1_700_000_123,
            login_tag: [1; 8],
            person_tag: [2; 8],
            session_id: 3,
            timeouts: Timeouts { warn_after: 100, expire_after: 300, absolute_timeout: 0 },
        };
        let a = codec.seal(stamp);
        let later = Stamp { last_activity: stamp.last_activity + 1, ..stamp };
        let b = codec.seal(later);
        assert_ne!(raw(&a)[..NONCE_LEN], raw(&b)[..NONCE_LEN]);
        // The same stamp again: the same value, remembered (no nonce meets a second plaintext).
        assert_eq!(codec.seal(later), b);
        assert_eq!(codec.open(&a), Ok(stamp));
        assert_eq!(codec.open(&b), Ok(later));
        // A codec that never saw them (as after a restart) opens them through AES-GCM alike.
        assert_eq!(self::codec().open(&a), Ok(stamp));
        assert_eq!(self::codec().open(&b), Ok(later));
        let edges = [
            Stamp { signed_in_at: 0, last_activity: 0, ..Stamp::default() },
            Stamp {
                signed_in_at: 5,
                last_activity: 5 + i64::from(i32::MAX),
                login_tag: [0xff; 8],
                person_tag: [0; 8],
                session_id: u64::MAX,
                timeouts: Timeouts { warn_after: u32::MAX - 1, expire_after: u32::MAX, absolute_timeout: u32::MAX },
            },
            Stamp { signed_in_at: i64::MAX - i64::from(i32::MAX), last_activity: i64::MAX, ..Stamp::default() },
            // A closed last tab's: the activity moved before the sign-in.
            Stamp { signed_in_at: 1_700_000_000, last_activity: 1_700_000_000 - 590, ..Stamp::default() },
            Stamp {
                signed_in_at: i64::from(u32::MAX),
                last_activity: i64::from(u32::MAX) + i64::from(i32::MIN),
                ..Stamp::default()
            },
        ];
        for edge in edges {
            assert_eq!(codec.open(&codec.seal(edge)), Ok(edge));
        }
    }

    #[test]
    fn a_remembered_value_stands_only_for_itself() {
        let codec = codec();
        let stamp =
            Stamp { signed_in_at: 1_700_000_000, last_activity: 1_700_000_050, session_id: 9, ..Stamp::default() };
        let value = codec.seal(stamp);
        assert_eq!(codec.open(&value), Ok(stamp));
        // Every value one character off (same slot or not) goes through AES-GCM, and fails.
        for at in 0..ENCODED_LEN {
            let mut forged = value.clone().into_bytes();
            forged[at] = if forged[at] == b'A' { b'B' } else { b'A' };
            let forged = String::from_utf8(forged).expect("ASCII");
            assert_eq!(codec.open(&forged), Err(StampError::Unauthentic), "changed at {at}");
        }
        assert_eq!(codec.open(&value[1..]), Err(StampError::Malformed));
        // Under another key or cookie name, the value the first codec remembers does not open.
        let other_key = StampCodec::new(&cookie::Key::generate(), "session_security");
        let other_name = StampCodec::new(&cookie::Key::from(&[7u8; 64]), "other");
        for other in [other_key, other_name] {
            assert_eq!(other.open(&value), Err(StampError::Unauthentic));
        }
        assert_eq!(codec.open(&value), Ok(stamp));
        // A slot taken by another stamp is a miss, not a wrong answer.
        let neighbour = Stamp { session_id: 9 + REMEMBERED as u64, ..stamp };
        let neighbours_value = codec.seal(neighbour);
        assert_eq!(codec.open(&neighbours_value), Ok(neighbour));
        assert_eq!(codec.open(&value), Ok(stamp));
        assert_eq!(codec.open(&codec.seal(stamp)), Ok(stamp), "sealed anew once its slot was taken");
    }

    #[test]
    fn threads_sharing_a_codec_each_get_their_own_stamps() {
        let codec = codec();
        std::thread::scope(|scope| {
            for thread in 0..8u64 {
                let codec = &codec;
                scope.spawn(move || {
                    for i in 0..2_000u64 {
                        // Every thread's sessions share slots 0 and 1, and stamps repeat.
                        let session_id = thread * REMEMBERED as u64 + i % 2;
                        let last_activity = 1_700_000_000 + (i % 3) as i64;
                        let stamp =
                            Stamp { signed_in_at: 1_700_000_000, last_activity, session_id, ..Stamp::default() };
                        let value = codec.seal(stamp);
                        assert_eq!(codec.open(&value), Ok(stamp));
                    }
                });
            }
        });
    }

    #[test]
    fn same_value_compares_every_byte() {
        let a = [b'x'; ENCODED_LEN];
        assert!(same_value(&a, &a));
        for at in 0..ENCODED_LEN {
            let mut b = a;
            b[at] = b'y';
            assert!(!same_value(&a, &b), "differs at {at}");
        }
    }

    #[test]
    fn values_are_fixed_length_and_need_no_percent_encoding() {
        let codec = codec();
        for i in 0..2_000 {
            let value = codec.seal(Stamp { signed_in_at: i, last_activity: i * 7, ..Stamp::default() });
            assert_eq!(value.len(), ENCODED_LEN);
            assert!(value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{value}");
            let cookie = cookie::Cookie::new("session_security", value.clone());
            assert_eq!(cookie.encoded().to_string(), format!("session_security={value}"));
        }
    }

    #[test]
    fn rejects_other_keys_other_names_other_formats_and_tampering() {
        let codec = codec();
        let sealed = codec.seal(Stamp { signed_in_at: 1, last_activity: 2, ..Stamp::default() });
        let other_key = StampCodec::new(&cookie::Key::from(&[8u8; 64]), "session_security");
        assert_eq!(other_key.open(&sealed), Err(StampError::Unauthentic));
        let other_name = StampCodec::new(&cookie::Key::from(&[7u8; 64]), "other");
        assert_eq!(other_name.open(&sealed), Err(StampError::Unauthentic));

        for at in [0, NONCE_LEN, NONCE_LEN + PLAIN_LEN, SEALED_LEN - 1] {
            let mut bytes = raw(&sealed);
            bytes[at] ^= 1;
            assert_eq!(codec.open(&BASE64URL.encode(bytes)), Err(StampError::Unauthentic), "byte {at}");
        }

        // A Rocket private cookie of the same name under the same secret
        // (another key), even one whose base64 happens to be URL-safe.
        let key = cookie::Key::from(&[7u8; 64]);
        let mut jar = cookie::CookieJar::new();
        let text = "1:1:2".repeat(10);
        jar.private_mut(&key).add(cookie::Cookie::new("session_security", text[..PLAIN_LEN].to_string()));
        let rocket_value = jar.get("session_security").unwrap().value().replace('+', "-").replace('/', "_");
        assert_eq!(rocket_value.len(), ENCODED_LEN);
        assert_eq!(codec.open(&rocket_value), Err(StampError::Unauthentic));
        // And a stamp, in Rocket's alphabet, is not a private cookie of the app.
        let standard = sealed.replace('-', "+").replace('_', "/");
        assert!(jar.private(&key).decrypt(cookie::Cookie::new("session_security", standard)).is_none());
    }

    #[test]
    fn garbage_never_panics_and_is_never_a_stamp() {
        let codec = codec();
        // A value with a `-` or `_` (almost every one: 104 characters), so its standard-base64 spelling differs.
        // (Each a stamp of its own: the same stamp sealed again is the same value.)
        let sealed = (0..100)
            .map(|n| codec.seal(Stamp { signed_in_at: 1, last_activity: 2 + n, ..Stamp::default() }))
            .find(|value| value.contains(['-', '_']))
            .expect("100 random values without a - or _");
        let long = "A".repeat(10_000);
        let standard = sealed.replace('-', "+").replace('_', "/");
        let cases = [
            "",
            "x",
            "====",
            "%%%",
            long.as_str(),
            &long[..ENCODED_LEN],
            &sealed[..ENCODED_LEN - 1],
            &format!("{sealed}A"),
            &format!("{}=", &sealed[..ENCODED_LEN - 1]),
            &format!("{}é", &sealed[..ENCODED_LEN - 2]),
            &format!("{}😀", &sealed[..ENCODED_LEN - 4]),
        ];
        for value in cases {
            assert!(codec.open(value).is_err(), "{value:?}");
        }
        assert_eq!(codec.open(&standard), Err(StampError::Malformed));
    }

    #[test]
    fn any_authentic_plaintext_is_parsed_or_refused_never_trusted_blindly() {
        let codec = codec();
        let stamp = Stamp { signed_in_at: 100, last_activity: 160, session_id: 7, ..Stamp::default() };
        let sealed = raw(&codec.seal(stamp));
        let plain = codec_plaintext(&codec, &sealed);
        assert_eq!(codec.open(&codec.seal_plaintext(&plain)), Ok(stamp), "the same bytes, sealed again");
        let mut other_version = plain;
        other_version[0] = VERSION + 1;
        assert_eq!(codec.open(&codec.seal_plaintext(&other_version)), Err(StampError::BadPayload));
        let mut reserved = plain;
        reserved[RESERVED_AT] = 1;
        assert_eq!(codec.open(&codec.seal_plaintext(&reserved)), Err(StampError::BadPayload));
        assert_eq!(codec.open(&codec.seal_plaintext(&[])), Err(StampError::BadPayload), "all zeros: version 0");
    }

    /// The plaintext inside a sealed value.
    fn codec_plaintext(codec: &StampCodec, sealed: &[u8]) -> [u8; PLAIN_LEN] {
        let mut data: [u8; SEALED_LEN] = sealed.try_into().expect("a sealed value");
        let (nonce, rest) = data.split_at_mut(NONCE_LEN);
        let (body, tag) = rest.split_at_mut(PLAIN_LEN);
        codec
            .cipher
            .decrypt_in_place_detached(
                Nonce::from_slice(nonce),
                &codec.associated_data,
                body,
                aes_gcm::Tag::from_slice(tag),
            )
            .expect("authentic");
        body.try_into().expect("PLAIN_LEN bytes")
    }

    #[test]
    fn payload_rules() {
        let timed = |version: u8, a: i64, offset: i32, timing: [u32; 3]| {
            let mut p = vec![version];
            p.extend_from_slice(&a.to_be_bytes());
            p.extend_from_slice(&offset.to_be_bytes());
            p.extend_from_slice(&[4; LOGIN_TAG_BYTES]);
            p.extend_from_slice(&[5; PERSON_TAG_BYTES]);
            p.extend_from_slice(&77u64.to_be_bytes());
            for limit in timing {
                p.extend_from_slice(&limit.to_be_bytes());
            }
            p.push(0);
            p
        };
        let plain = |version: u8, a: i64, offset: i32| timed(version, a, offset, [540, 600, 43_200]);
        let tags = Stamp {
            login_tag: [4; LOGIN_TAG_BYTES],
            person_tag: [5; PERSON_TAG_BYTES],
            session_id: 77,
            ..Stamp::default()
        };
        assert_eq!(parse_plain(&plain(5, 5, 4)), Some(Stamp { signed_in_at: 5, last_activity: 9, ..tags }));
        assert_eq!(parse_plain(&plain(5, 5, 0)), Some(Stamp { signed_in_at: 5, last_activity: 5, ..tags }));
        assert_eq!(parse_plain(&plain(5, 1000, -600)), Some(Stamp { signed_in_at: 1000, last_activity: 400, ..tags }));
        let off = Timeouts { warn_after: 1, expire_after: 2, absolute_timeout: 0 };
        assert_eq!(
            parse_plain(&timed(5, 5, 0, [1, 2, 0])),
            Some(Stamp { signed_in_at: 5, last_activity: 5, timeouts: off, ..tags })
        );
        let mut reserved_set = plain(5, 5, 4);
        reserved_set[RESERVED_AT] = 1;
        for bad in [
            plain(4, 5, 4),
            plain(6, 5, 4),
            plain(5, -5, 9),
            plain(5, i64::MIN, 0),
            plain(5, i64::MAX, 1),
            reserved_set,
            // A timing the crate never seals.
            timed(5, 5, 4, [0, 600, 0]),
            timed(5, 5, 4, [600, 600, 0]),
            timed(5, 5, 4, [540, 600, 599]),
        ] {
            assert_eq!(parse_plain(&bad), None, "{bad:?}");
        }
        let good = plain(5, 5, 4);
        assert_eq!(parse_plain(&good[..PLAIN_LEN - 1]), None);
        assert_eq!(parse_plain(&[good.clone(), vec![0]].concat()), None);
        assert_eq!(parse_plain(&[]), None);

        // Sealed but not a stamp we write: authentic, yet refused.
        let codec = codec();
        let mut sealed = [0u8; SEALED_LEN];
        sealed[NONCE_LEN..NONCE_LEN + PLAIN_LEN].copy_from_slice(&plain(5, -9, 5));
        let (nonce, rest) = sealed.split_at_mut(NONCE_LEN);
        let (body, tag) = rest.split_at_mut(PLAIN_LEN);
        let computed =
            codec.cipher.encrypt_in_place_detached(Nonce::from_slice(nonce), &codec.associated_data, body).unwrap();
        tag.copy_from_slice(&computed);
        assert_eq!(codec.open(&BASE64URL.encode(sealed)), Err(StampError::BadPayload));
    }
}
