//! Ending sessions before they expire: what a revocation is, the store that
//! keeps revocations and the sessions list, and the set every instance holds
//! in memory and checks on each request without I/O.
//!
//! Nothing here knows of Rocket. A store is any [`RevocationStore`]: the
//! embedded SQLite database (the default), Redis (feature `redis`), the
//! in-process [`MemoryStore`] (tests), or the app's own (its Postgres, say).
//! Every instance loads the store's revocations at launch and follows the
//! ones other instances write, so a sign-out on one is enforced by all.

use std::fmt;

mod memory;
#[cfg(feature = "redis")]
mod redis;
mod service;
mod set;
mod sqlite;
mod user_agent;

#[cfg(feature = "redis")]
pub use self::redis::RedisStore;
pub use memory::MemoryStore;
pub use service::Revocations;
pub(crate) use service::{RevocationTiming, StoreChoice};
pub use set::RevocationSet;
pub use sqlite::EmbeddedStore;
pub use user_agent::describe_user_agent;

/// A session's id: 64 random bits made at sign-in and sealed in its stamp.
/// Shown as 16 hexadecimal digits.
///
/// ```
/// use rocket_session_security::SessionId;
/// let id: SessionId = "00000000000004d2".parse().unwrap();
/// assert_eq!(id.as_u64(), 1234);
/// assert_eq!(id.to_string(), "00000000000004d2");
/// assert!("xyz".parse::<SessionId>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct SessionId(u64);

impl SessionId {
    /// A fresh random id (never 0: 0 marks "no id" in a stamp).
    pub fn random() -> SessionId {
        loop {
            let id = rand::random::<u64>();
            if id != 0 {
                return SessionId(id);
            }
        }
    }

    /// The id of a number (as stores keep it).
    pub fn from_u64(id: u64) -> SessionId {
        SessionId(id)
    }

    /// The number (as stores keep it).
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl std::str::FromStr for SessionId {
    type Err = String;

    fn from_str(s: &str) -> Result<SessionId, String> {
        if s.len() != 16 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("{s:?} is not a session id (16 hexadecimal digits)"));
        }
        u64::from_str_radix(s, 16).map(SessionId).map_err(|e| e.to_string())
    }
}

/// Who a session belongs to, as stores see it: the stamp's person tag (a
/// keyed digest of the login cookies' values; never who it is). Shown as 16
/// hexadecimal digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct PersonKey(pub(crate) [u8; 8]);

impl PersonKey {
    /// The key of 8 bytes (as stores keep it).
    pub fn from_bytes(bytes: [u8; 8]) -> PersonKey {
        PersonKey(bytes)
    }

    /// The 8 bytes (as stores keep them).
    pub fn to_bytes(self) -> [u8; 8] {
        self.0
    }
}

impl fmt::Display for PersonKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl std::str::FromStr for PersonKey {
    type Err = String;

    fn from_str(s: &str) -> Result<PersonKey, String> {
        let id: SessionId = s.parse().map_err(|_| format!("{s:?} is not a person key (16 hexadecimal digits)"))?;
        Ok(PersonKey(id.as_u64().to_be_bytes()))
    }
}

/// One revocation. Each lives until no stamp it covers can still be valid
/// (`until`, Unix seconds): after it every such stamp is idle-expired anyway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Revocation {
    /// One session ended (a sign-out, or ended from the sessions list).
    Session {
        /// The session.
        id: SessionId,
        /// Its person, so stores drop it from their sessions list.
        person: PersonKey,
        /// When it was revoked.
        at: i64,
        /// When the entry may be forgotten.
        until: i64,
    },
    /// Every session of a person signed in before `not_before` ended (sign
    /// out everywhere, an account disabled), but `except` (the current one,
    /// after a password change).
    Person {
        /// The person.
        person: PersonKey,
        /// Sessions signed in before this time are over.
        not_before: i64,
        /// A session this revocation spares.
        except: Option<SessionId>,
        /// When the entry may be forgotten.
        until: i64,
    },
    /// Every session of everyone signed in before `not_before` ended.
    Everyone {
        /// Sessions signed in before this time are over.
        not_before: i64,
        /// When the entry may be forgotten.
        until: i64,
    },
}

impl Revocation {
    /// When the entry may be forgotten.
    pub fn until(&self) -> i64 {
        match *self {
            Revocation::Session { until, .. }
            | Revocation::Person { until, .. }
            | Revocation::Everyone { until, .. } => until,
        }
    }

    /// The same revocation kept at least until `until`.
    pub fn kept_until(mut self, at_least: i64) -> Revocation {
        match &mut self {
            Revocation::Session { until, .. }
            | Revocation::Person { until, .. }
            | Revocation::Everyone { until, .. } => *until = (*until).max(at_least),
        }
        self
    }

    /// Whether it ends a session of `person`, `id`, signed in at `signed_in_at`.
    pub fn covers(&self, person: PersonKey, id: SessionId, signed_in_at: i64) -> bool {
        match *self {
            Revocation::Session { id: revoked, .. } => revoked == id,
            Revocation::Person { person: p, not_before, except, .. } => {
                p == person && signed_in_at < not_before && except != Some(id)
            }
            Revocation::Everyone { not_before, .. } => signed_in_at < not_before,
        }
    }

    /// A compact text form, for stores that keep strings (Redis, logs):
    /// `s:<id>:<person>:<at>:<until>`, `p:<person>:<not_before>:<except or ->:<until>`, `e:<not_before>:<until>`.
    ///
    /// ```
    /// use rocket_session_security::{Revocation, SessionId};
    /// let r = Revocation::Everyone { not_before: 10, until: 20 };
    /// assert_eq!(r.encode(), "e:10:20");
    /// assert_eq!(Revocation::decode(&r.encode()), Some(r));
    /// assert_eq!(Revocation::decode("x:1"), None);
    /// ```
    pub fn encode(&self) -> String {
        match *self {
            Revocation::Session { id, person, at, until } => format!("s:{id}:{person}:{at}:{until}"),
            Revocation::Person { person, not_before, except, until } => {
                let except = except.map_or("-".to_string(), |id| id.to_string());
                format!("p:{person}:{not_before}:{except}:{until}")
            }
            Revocation::Everyone { not_before, until } => format!("e:{not_before}:{until}"),
        }
    }

    /// Reads [`encode`](Self::encode)'s form; `None` for anything else.
    pub fn decode(text: &str) -> Option<Revocation> {
        let parts: Vec<&str> = text.split(':').collect();
        match parts.as_slice() {
            ["s", id, person, at, until] => Some(Revocation::Session {
                id: id.parse().ok()?,
                person: person.parse().ok()?,
                at: at.parse().ok()?,
                until: until.parse().ok()?,
            }),
            ["p", person, not_before, except, until] => Some(Revocation::Person {
                person: person.parse().ok()?,
                not_before: not_before.parse().ok()?,
                except: match *except {
                    "-" => None,
                    id => Some(id.parse().ok()?),
                },
                until: until.parse().ok()?,
            }),
            ["e", not_before, until] => {
                Some(Revocation::Everyone { not_before: not_before.parse().ok()?, until: until.parse().ok()? })
            }
            _ => None,
        }
    }
}

/// A signed-in session, as the sessions list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// The session.
    pub id: SessionId,
    /// Whose it is.
    pub person: PersonKey,
    /// When the person signed in (Unix seconds).
    pub signed_in: i64,
    /// Its last activity, to within a minute (Unix seconds).
    pub last_seen: i64,
    /// A short description of the browser, e.g. "Firefox on Linux".
    pub user_agent: String,
    /// When it expires if nothing happens (Unix seconds): the list leaves it out after.
    pub until: i64,
}

/// Where a follower of the store's changes stands (opaque to the crate:
/// a row id, a Redis stream id, an index).
pub type Cursor = String;

/// A store that failed: unreachable, refused, or answered nonsense.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

impl StoreError {
    /// An error with a message.
    pub fn new(message: impl fmt::Display) -> StoreError {
        StoreError(message.to_string())
    }
}

/// Where revocations and the sessions list are kept. The crate calls it off
/// the request path only: at launch ([`load`](Self::load)), from its
/// background tasks (writes, following, pruning, last-seen batches), and from
/// the handlers that ask for a sessions list. Every method may fail; the
/// crate then retries and loses nothing.
///
/// Implement it on your own database to keep everything there:
///
/// ```
/// use rocket_session_security::{Cursor, Revocation, RevocationStore, SessionId, SessionRecord, PersonKey, StoreError};
///
/// struct MyPostgres; // fields: a pool
///
/// #[rocket::async_trait]
/// impl RevocationStore for MyPostgres {
///     async fn load(&self, now: i64) -> Result<(Vec<Revocation>, Cursor), StoreError> {
///         // SELECT revocation FROM revocations WHERE until > $now; and the newest row id
///         Ok((Vec::new(), "0".into()))
///     }
///     async fn revoke(&self, revocation: &Revocation) -> Result<(), StoreError> {
///         // INSERT INTO revocations ...; DELETE FROM sessions WHERE (covered)
///         Ok(())
///     }
///     async fn follow(&self, cursor: &Cursor) -> Result<(Vec<Revocation>, Cursor), StoreError> {
///         // SELECT ... WHERE id > $cursor, waiting up to about a second when there are none
///         Ok((Vec::new(), cursor.clone()))
///     }
///     async fn session_started(&self, session: &SessionRecord) -> Result<(), StoreError> { Ok(()) }
///     async fn sessions_seen(&self, seen: &[(SessionId, i64, i64)]) -> Result<(), StoreError> { Ok(()) }
///     async fn sessions(&self, person: PersonKey, now: i64) -> Result<Vec<SessionRecord>, StoreError> {
///         Ok(Vec::new())
///     }
///     async fn prune(&self, now: i64) -> Result<(), StoreError> { Ok(()) }
/// }
/// ```
#[rocket::async_trait]
pub trait RevocationStore: Send + Sync + 'static {
    /// Every revocation whose `until` is after `now`, and a cursor from
    /// which [`follow`](Self::follow) reports later ones. Called at launch;
    /// the launch waits for it (a bounded time) rather than accept sessions it
    /// cannot check.
    async fn load(&self, now: i64) -> Result<(Vec<Revocation>, Cursor), StoreError>;

    /// Keeps a revocation (idempotent: the same one twice is one), and drops
    /// the sessions it covers from the sessions list.
    async fn revoke(&self, revocation: &Revocation) -> Result<(), StoreError>;

    /// Revocations kept (by any instance, this one included) after
    /// `cursor`, and the new cursor. When there are none it may wait up to
    /// about a second for one, then answer an empty list.
    async fn follow(&self, cursor: &Cursor) -> Result<(Vec<Revocation>, Cursor), StoreError>;

    /// A session was signed in: it joins its person's sessions list.
    async fn session_started(&self, session: &SessionRecord) -> Result<(), StoreError>;

    /// Sessions seen again: `(id, last_seen, until)` each, at most once a
    /// minute per session, in batches.
    async fn sessions_seen(&self, seen: &[(SessionId, i64, i64)]) -> Result<(), StoreError>;

    /// The sessions of `person` signed in and not ended (`until` after `now`),
    /// oldest sign-in first.
    async fn sessions(&self, person: PersonKey, now: i64) -> Result<Vec<SessionRecord>, StoreError>;

    /// Forgets revocations and sessions whose `until` is not after `now`.
    async fn prune(&self, now: i64) -> Result<(), StoreError>;
}
