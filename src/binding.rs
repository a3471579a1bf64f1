//! What ties a stamp to the sign-in it was made for: two keyed digests under
//! keys derived with the stamp's own (HKDF of Rocket's master key), sealed
//! inside the stamp and never shown in clear.
//!
//! * The **login tag** (SipHash-2-4, 64 bits) digests the configured login
//!   cookies' values exactly as the browser sends them. Every request
//!   recomputes it and compares: SipHash is a keyed PRF made for short
//!   inputs, a few dozen nanoseconds for a cookie, where HMAC-SHA256 costs
//!   two SHA-256 blocks; and the tag is never seen, so 64 bits leave nothing
//!   to guess offline.
//! * The **person tag** (HMAC-SHA256 cut to 64 bits) digests *who* signed
//!   in: each login cookie's
//!   decrypted value when it is a Rocket private cookie under the app's key,
//!   else its plain value. A private cookie re-issued by the app gets a new
//!   nonce, so a new login tag, but keeps its person tag: the crate then
//!   re-binds the stamp instead of signing the person out. The browser is
//!   shown a further digest of it, so it can tell "the same person signed in
//!   again" from "someone else did" without learning who.
//!
//! Each cookie enters the digest as its index in `login_cookies` and its
//! length-prefixed value, so no two different sets of cookies digest alike.

use std::hash::Hasher;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use siphasher::sip::SipHasher24;

use crate::stamp::{base64url, LoginTag, PersonTag, PERSON_TAG_BYTES};

/// At most this many `login_cookies` (checked in the configuration): the
/// request's values fit on the stack.
pub const MAX_LOGIN_COOKIES: usize = 8;

/// The values of the configured login cookies in one request or response,
/// by their index in `login_cookies`.
pub type LoginValues<'a> = [Option<&'a str>; MAX_LOGIN_COOKIES];

const PERSON_DOMAIN: u8 = b'P';
const BROWSER_DOMAIN: u8 = b'B';
const DRAFT_DOMAIN: u8 = b'D';

/// Makes the binding tags under their keys. The keyed HMAC state is made
/// once; each person tag clones it.
#[derive(Clone)]
pub struct Binder {
    login_key: [u8; 16],
    mac: Hmac<Sha256>,
    /// Which app this is (its stamp's cookie name and base): two apps that
    /// share a `secret_key` show one person two unrelated browser tags.
    app: Vec<u8>,
}

/// `index ‖ length ‖ value` of each value (index and length as one
/// big-endian `u64`, one write): no two different sets digest alike.
fn feed<'a>(mut update: impl FnMut(&[u8]), values: impl Iterator<Item = (usize, &'a [u8])>) {
    for (index, value) in values {
        update(&((index as u64) << 32 | value.len() as u64).to_be_bytes());
        update(value);
    }
}

impl Binder {
    /// A binder keyed with the stamp's derived login and person keys, for
    /// the app `app` (the stamp's cookie name and `base`, which set an app
    /// apart on one origin or under one key).
    pub fn new(login_key: &[u8; 16], person_key: &[u8; 32], app: &str) -> Self {
        Binder {
            login_key: *login_key,
            mac: Hmac::new_from_slice(person_key).expect("HMAC takes any key length"),
            app: app.as_bytes().to_vec(),
        }
    }

    fn hmac<'a>(&self, domain: u8, values: impl Iterator<Item = (usize, &'a [u8])>) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(&[domain]);
        feed(|bytes| mac.update(bytes), values);
        mac.finalize().into_bytes().into()
    }

    /// The login tag of the values as the browser sends them.
    pub fn login_tag(&self, values: &LoginValues<'_>) -> LoginTag {
        let mut hasher = SipHasher24::new_with_key(&self.login_key);
        feed(|bytes| hasher.write(bytes), present(values).map(|(i, v)| (i, v.as_bytes())));
        hasher.finish().to_be_bytes()
    }

    /// The person tag of identities (decrypted values, see [`identity`]).
    pub fn person_tag<'a>(&self, identities: impl Iterator<Item = (usize, &'a [u8])>) -> PersonTag {
        let mut tag = [0u8; PERSON_TAG_BYTES];
        tag.copy_from_slice(&self.hmac(PERSON_DOMAIN, identities)[..PERSON_TAG_BYTES]);
        tag
    }

    /// What the browser is shown for a person tag: base64url of 12 bytes of a
    /// digest of it and the app, 16 characters; `""` when no login cookie was
    /// configured or seen (nobody to tell apart).
    pub fn browser_tag(&self, person_tag: &PersonTag) -> String {
        if *person_tag == [0; PERSON_TAG_BYTES] {
            return String::new();
        }
        let digest = self.hmac(BROWSER_DOMAIN, [(0, person_tag.as_slice()), (1, self.app.as_slice())].into_iter());
        base64url(&digest[..12])
    }

    /// The key that seals this person's kept draft in the browser
    /// (`keep_unsaved_forms`): 32 bytes for AES-256-GCM, in base64url
    /// without padding (43 characters, a JWK's `k`). The same for
    /// every sign-in of the same person in this app, unrelated to the
    /// browser tag (another domain of the digest), so the page's `data-person`
    /// gives nothing of it away; `None` without a person.
    pub fn draft_key(&self, person_tag: &PersonTag) -> Option<String> {
        if *person_tag == [0; PERSON_TAG_BYTES] {
            return None;
        }
        Some(base64url(&self.hmac(DRAFT_DOMAIN, [(0, person_tag.as_slice()), (1, self.app.as_slice())].into_iter())))
    }
}

/// Equal tags, compared in constant time (`subtle`, which keeps the
/// compiler from turning the comparison into an early exit).
pub fn ct_eq<const N: usize>(a: &[u8; N], b: &[u8; N]) -> bool {
    subtle::ConstantTimeEq::ct_eq(a.as_slice(), b.as_slice()).into()
}

/// The present values with their index.
pub fn present<'a, 'v>(values: &'a LoginValues<'v>) -> impl Iterator<Item = (usize, &'v str)> + 'a {
    values.iter().enumerate().filter_map(|(i, v)| v.map(|v| (i, v)))
}

/// Whether any login cookie is present.
pub fn any_present(values: &LoginValues<'_>) -> bool {
    values.iter().any(Option::is_some)
}

/// Who a login cookie names: its decrypted value if it is a Rocket private
/// cookie named `name` under `key`, else its value as sent; marked which, so
/// a plain cookie holding a private cookie's plaintext (a forgery) never
/// names the same person.
pub fn identity(key: &cookie::Key, name: &str, value: &str) -> Vec<u8> {
    let mut jar = cookie::CookieJar::new();
    let sealed = cookie::Cookie::new(name.to_string(), value.to_string());
    match jar.private_mut(key).decrypt(sealed) {
        Some(opened) => private_identity(opened.value()),
        None => marked(b'P', value),
    }
}

/// The identity of a private login cookie whose decrypted value is
/// `plaintext` (what the app passed to `add_private`): for administrators
/// naming a person without their cookie.
pub fn private_identity(plaintext: &str) -> Vec<u8> {
    marked(b'S', plaintext)
}

fn marked(kind: u8, value: &str) -> Vec<u8> {
    let mut marked = Vec::with_capacity(1 + value.len());
    marked.push(kind);
    marked.extend_from_slice(value.as_bytes());
    marked
}

/// The person tag of a set of login cookie values (`names` by index).
pub fn person_tag_of(binder: &Binder, key: &cookie::Key, names: &[String], values: &LoginValues<'_>) -> PersonTag {
    if !any_present(values) {
        return [0; PERSON_TAG_BYTES];
    }
    let identities: Vec<(usize, Vec<u8>)> =
        present(values).map(|(i, v)| (i, identity(key, names[i].as_str(), v))).collect();
    binder.person_tag(identities.iter().map(|(i, v)| (*i, v.as_slice())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_equal_only_in_every_byte() {
        let tag = [9u8; 8];
        assert!(ct_eq(&tag, &[9; 8]));
        for i in 0..8 {
            let mut other = tag;
            other[i] ^= 1;
            assert!(!ct_eq(&tag, &other), "byte {i}");
        }
    }

    fn values<'a>(list: &[Option<&'a str>]) -> LoginValues<'a> {
        let mut values = [None; MAX_LOGIN_COOKIES];
        values[..list.len()].copy_from_slice(list);
        values
    }

    #[test]
    fn tags_are_keyed_and_tell_cookie_sets_apart() {
        let binder = Binder::new(&[1; 16], &[1; 32], "app");
        let other_key = Binder::new(&[2; 16], &[2; 32], "app");
        let alice = values(&[Some("alice")]);
        assert_eq!(binder.login_tag(&alice), binder.login_tag(&values(&[Some("alice")])));
        assert_ne!(binder.login_tag(&alice), other_key.login_tag(&alice));
        assert_ne!(binder.login_tag(&alice), binder.login_tag(&values(&[Some("bob")])));
        // Which cookie holds the value matters, and lengths are not ambiguous.
        assert_ne!(binder.login_tag(&alice), binder.login_tag(&values(&[None, Some("alice")])));
        assert_ne!(
            binder.login_tag(&values(&[Some("ab"), Some("c")])),
            binder.login_tag(&values(&[Some("a"), Some("bc")]))
        );
        // The person tag has its own key: another key, another tag.
        let as_person = binder.person_tag(std::iter::once((0, b"alice".as_slice())));
        assert_ne!(as_person, other_key.person_tag(std::iter::once((0, b"alice".as_slice()))));
    }

    #[test]
    fn a_private_cookie_names_the_same_person_whatever_its_nonce() {
        let key = cookie::Key::from(&[9u8; 64]);
        let binder = Binder::new(&[1; 16], &[1; 32], "app");
        let seal = |value: &str| {
            let mut jar = cookie::CookieJar::new();
            jar.private_mut(&key).add(cookie::Cookie::new("user", value.to_string()));
            jar.get("user").unwrap().value().to_string()
        };
        let (first, second, bob) = (seal("alice"), seal("alice"), seal("bob"));
        assert_ne!(first, second, "a fresh nonce each time");
        let names = vec!["user".to_string()];
        let tag = |v: &str| person_tag_of(&binder, &key, &names, &values(&[Some(v)]));
        assert_eq!(tag(&first), tag(&second));
        assert_ne!(tag(&first), tag(&bob));
        assert_ne!(binder.login_tag(&values(&[Some(&first)])), binder.login_tag(&values(&[Some(&second)])));
        // A plain cookie is its own identity; a sealed one under another name is not opened.
        assert_eq!(identity(&key, "user", "plain-id"), b"Pplain-id");
        assert_eq!(identity(&key, "other", &first), [b"P", first.as_bytes()].concat());
        assert_eq!(identity(&key, "user", &first), b"Salice");
        // A plain cookie holding the plaintext is someone else.
        assert_ne!(tag("alice"), tag(&first));
    }

    #[test]
    fn the_browser_tag_is_stable_opaque_and_empty_for_nobody() {
        let binder = Binder::new(&[1; 16], &[1; 32], "app");
        let person = binder.person_tag(std::iter::once((0, b"42".as_slice())));
        let shown = binder.browser_tag(&person);
        assert_eq!(shown.len(), 16);
        assert!(shown.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{shown}");
        assert_eq!(shown, binder.browser_tag(&person));
        assert_ne!(shown, binder.browser_tag(&binder.person_tag(std::iter::once((0, b"43".as_slice())))));
        assert!(!shown.contains("42"));
        assert_eq!(binder.browser_tag(&[0; PERSON_TAG_BYTES]), "");
        // Another app under the same key (another stamp name or base) shows another tag.
        let other_app = Binder::new(&[1; 16], &[1; 32], "other");
        assert_eq!(other_app.person_tag(std::iter::once((0, b"42".as_slice()))), person);
        assert_ne!(other_app.browser_tag(&person), shown);
    }

    #[test]
    fn the_draft_key_is_per_person_and_app_and_unrelated_to_the_browser_tag() {
        let binder = Binder::new(&[1; 16], &[1; 32], "app");
        let alice = binder.person_tag(std::iter::once((0, b"alice".as_slice())));
        let bob = binder.person_tag(std::iter::once((0, b"bob".as_slice())));
        let key = binder.draft_key(&alice).expect("a person has a key");
        assert_eq!(key.len(), 43, "32 bytes in unpadded base64url: {key}");
        assert!(key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{key}");
        // The last character carries 4 bits of the key and 2 zero bits.
        assert!(b"AEIMQUYcgkosw048".contains(&key.as_bytes()[42]), "{key}");
        assert_eq!(binder.draft_key(&alice).as_deref(), Some(key.as_str()), "the same at every sign-in");
        assert_ne!(binder.draft_key(&bob).as_deref(), Some(key.as_str()), "another person, another key");
        let other_app = Binder::new(&[1; 16], &[1; 32], "other");
        assert_ne!(other_app.draft_key(&alice).as_deref(), Some(key.as_str()), "another app, another key");
        let other_secret = Binder::new(&[1; 16], &[2; 32], "app");
        assert_ne!(other_secret.draft_key(&alice).as_deref(), Some(key.as_str()), "another secret_key, another key");
        // The browser tag's digest is another one: the page's data-person gives nothing of the key.
        let digest = binder.hmac(BROWSER_DOMAIN, [(0, alice.as_slice()), (1, b"app".as_slice())].into_iter());
        let shown: String = digest[..12].iter().map(|byte| format!("{byte:02x}")).collect();
        assert_eq!(base64url(&digest[..12]), binder.browser_tag(&alice));
        assert!(!key.contains(&shown), "{key} {shown}");
        assert_eq!(binder.draft_key(&[0; PERSON_TAG_BYTES]), None, "nobody: no key");
    }
}
