//! What ties a stamp to the sign-in it was made for: two keyed digests
//! (HMAC-SHA256 under the stamp's derived MAC key, truncated to 96 bits),
//! sealed inside the stamp and never shown in clear.
//!
//! * The **login tag** digests the configured login cookies' values exactly
//!   as the browser sends them. Every request recomputes it (one HMAC of a
//!   few dozen bytes, no decryption) and compares.
//! * The **person tag** digests *who* signed in: each login cookie's
//!   decrypted value when it is a Rocket private cookie under the app's key,
//!   else its plain value. A private cookie re-issued by the app gets a new
//!   nonce, so a new login tag, but keeps its person tag: the crate then
//!   re-binds the stamp instead of signing the person out. The browser is
//!   shown a further digest of it, so it can tell "the same person signed in
//!   again" from "someone else did" without learning who.
//!
//! Each cookie enters the digest as its index in `login_cookies` and its
//! length-prefixed value, so no two different sets of cookies digest alike.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::stamp::{Tag, TAG_BYTES};

/// At most this many `login_cookies` (checked in the configuration): the
/// request's values fit on the stack.
pub const MAX_LOGIN_COOKIES: usize = 8;

/// The values of the configured login cookies in one request or response,
/// by their index in `login_cookies`.
pub type LoginValues<'a> = [Option<&'a str>; MAX_LOGIN_COOKIES];

const LOGIN_DOMAIN: u8 = b'L';
const PERSON_DOMAIN: u8 = b'P';
const BROWSER_DOMAIN: u8 = b'B';

/// Makes the binding tags under one key. The keyed HMAC state is made once;
/// each tag clones it.
#[derive(Clone)]
pub struct Binder {
    mac: Hmac<Sha256>,
}

impl Binder {
    /// A binder keyed with the stamp's derived MAC key.
    pub fn new(key: &[u8; 32]) -> Self {
        Binder { mac: Hmac::new_from_slice(key).expect("HMAC takes any key length") }
    }

    fn digest<'a>(&self, domain: u8, values: impl Iterator<Item = (usize, &'a [u8])>) -> Tag {
        let mut mac = self.mac.clone();
        mac.update(&[domain]);
        for (index, value) in values {
            mac.update(&[index as u8]);
            mac.update(&(value.len() as u32).to_be_bytes());
            mac.update(value);
        }
        let full = mac.finalize().into_bytes();
        let mut tag = [0u8; TAG_BYTES];
        tag.copy_from_slice(&full[..TAG_BYTES]);
        tag
    }

    /// The login tag of the values as the browser sends them.
    pub fn login_tag(&self, values: &LoginValues<'_>) -> Tag {
        self.digest(LOGIN_DOMAIN, present(values).map(|(i, v)| (i, v.as_bytes())))
    }

    /// The person tag of identities (decrypted values, see [`identity`]).
    pub fn person_tag<'a>(&self, identities: impl Iterator<Item = (usize, &'a [u8])>) -> Tag {
        self.digest(PERSON_DOMAIN, identities)
    }

    /// What the browser is shown for a person tag: base64url of a digest of
    /// it, 16 characters; `""` when no login cookie was configured or seen
    /// (nobody to tell apart).
    pub fn browser_tag(&self, person_tag: &Tag) -> String {
        if *person_tag == [0; TAG_BYTES] {
            return String::new();
        }
        let digest = self.digest(BROWSER_DOMAIN, std::iter::once((0, person_tag.as_slice())));
        base64url(&digest)
    }
}

/// Equal tags, compared in constant time.
pub fn ct_eq(a: &Tag, b: &Tag) -> bool {
    a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
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
    let (kind, bytes) = match jar.private_mut(key).decrypt(sealed) {
        Some(opened) => (b'S', opened.value().as_bytes().to_vec()),
        None => (b'P', value.as_bytes().to_vec()),
    };
    let mut marked = Vec::with_capacity(1 + bytes.len());
    marked.push(kind);
    marked.extend_from_slice(&bytes);
    marked
}

/// The person tag of a set of login cookie values (`names` by index).
pub fn person_tag_of(binder: &Binder, key: &cookie::Key, names: &[String], values: &LoginValues<'_>) -> Tag {
    if !any_present(values) {
        return [0; TAG_BYTES];
    }
    let identities: Vec<(usize, Vec<u8>)> =
        present(values).map(|(i, v)| (i, identity(key, names[i].as_str(), v))).collect();
    binder.person_tag(identities.iter().map(|(i, v)| (*i, v.as_slice())))
}

fn base64url(bytes: &[u8; TAG_BYTES]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(TAG_BYTES / 3 * 4);
    for group in bytes.chunks_exact(3) {
        let n = u32::from(group[0]) << 16 | u32::from(group[1]) << 8 | u32::from(group[2]);
        for i in 0..4 {
            out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values<'a>(list: &[Option<&'a str>]) -> LoginValues<'a> {
        let mut values = [None; MAX_LOGIN_COOKIES];
        values[..list.len()].copy_from_slice(list);
        values
    }

    #[test]
    fn tags_are_keyed_and_tell_cookie_sets_apart() {
        let binder = Binder::new(&[1; 32]);
        let other_key = Binder::new(&[2; 32]);
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
        // Login and person tags of the same bytes differ (their own domain).
        let as_person = binder.person_tag(std::iter::once((0, b"alice".as_slice())));
        assert_ne!(binder.login_tag(&alice), as_person);
    }

    #[test]
    fn a_private_cookie_names_the_same_person_whatever_its_nonce() {
        let key = cookie::Key::from(&[9u8; 64]);
        let binder = Binder::new(&[1; 32]);
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
        let binder = Binder::new(&[1; 32]);
        let person = binder.person_tag(std::iter::once((0, b"42".as_slice())));
        let shown = binder.browser_tag(&person);
        assert_eq!(shown.len(), 16);
        assert!(shown.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{shown}");
        assert_eq!(shown, binder.browser_tag(&person));
        assert_ne!(shown, binder.browser_tag(&binder.person_tag(std::iter::once((0, b"43".as_slice())))));
        assert!(!shown.contains("42"));
        assert_eq!(binder.browser_tag(&[0; TAG_BYTES]), "");
    }
}
