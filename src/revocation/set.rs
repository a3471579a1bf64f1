//! The revocations every instance holds in memory and checks on each
//! guarded request: no I/O, and a read lock that writers take only for one
//! insert or a small batch of removals at a time.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::RwLock;

use super::{PersonKey, Revocation, SessionId};

/// Session ids are random (made by the crate, sealed in stamps): their own
/// bits are a hash already, and no client chooses them.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

/// A person's newest not-before time, and the session it spares.
#[derive(Debug, Clone, Copy)]
struct PersonEntry {
    not_before: i64,
    except: Option<SessionId>,
    until: i64,
}

/// What a person's or everyone's entry is filed under in the expiry queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Person(u64),
    Everyone,
}

#[derive(Default)]
struct Inner {
    /// Revoked session id → until.
    sessions: IdMap<i64>,
    /// Person tag (its 8 bytes as a number) → the newest not-before.
    persons: IdMap<PersonEntry>,
    /// Everyone's not-before and until.
    everyone: Option<(i64, i64)>,
    /// Which session to forget when, the earliest first (16 bytes an entry:
    /// the bulk of a large set).
    session_expiry: BinaryHeap<Reverse<(i64, u64)>>,
    /// The same for persons and everyone (few).
    other_expiry: BinaryHeap<Reverse<(i64, Key)>>,
}

impl Inner {
    fn len(&self) -> usize {
        self.sessions.len() + self.persons.len() + usize::from(self.everyone.is_some())
    }
}

/// The in-memory revocation set.
///
/// ```
/// use rocket_session_security::{PersonKey, Revocation, RevocationSet, SessionId};
///
/// let set = RevocationSet::default();
/// let (alice, id) = (PersonKey::from_bytes([1; 8]), SessionId::from_u64(7));
/// assert!(!set.is_revoked(id, alice, 100));
/// set.apply(&Revocation::Session { id, person: alice, at: 150, until: 900 });
/// assert!(set.is_revoked(id, alice, 100));
/// set.prune(900);
/// assert!(!set.is_revoked(id, alice, 100) && set.is_empty());
/// ```
#[derive(Default)]
pub struct RevocationSet {
    inner: RwLock<Inner>,
    /// Entries held: the check skips the lock while there are none.
    len: AtomicUsize,
}

/// At most this many expired entries are forgotten per hold of the write
/// lock, so a prune of a million never stalls the requests checking.
const PRUNE_BATCH: usize = 4096;

impl RevocationSet {
    /// Whether a session (`id`, of `person`, signed in at `signed_in_at`) is revoked.
    pub fn is_revoked(&self, id: SessionId, person: PersonKey, signed_in_at: i64) -> bool {
        if self.len.load(Ordering::Acquire) == 0 {
            return false;
        }
        let inner = self.inner.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        if inner.everyone.is_some_and(|(not_before, _)| signed_in_at < not_before) {
            return true;
        }
        if inner.sessions.contains_key(&id.as_u64()) {
            return true;
        }
        inner
            .persons
            .get(&u64::from_be_bytes(person.0))
            .is_some_and(|p| signed_in_at < p.not_before && p.except != Some(id))
    }

    /// Adds a revocation (a repeated one changes nothing; a person's or
    /// everyone's newer not-before replaces the older).
    pub fn apply(&self, revocation: &Revocation) {
        let mut inner = self.inner.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        match *revocation {
            Revocation::Session { id, until, .. } => {
                let kept = inner.sessions.entry(id.as_u64()).or_insert(until);
                *kept = (*kept).max(until);
                let until = *kept;
                inner.session_expiry.push(Reverse((until, id.as_u64())));
            }
            Revocation::Person { person, not_before, except, until } => {
                let key = u64::from_be_bytes(person.0);
                let entry = PersonEntry { not_before, except, until };
                let kept = inner.persons.entry(key).or_insert(entry);
                // The newer not-before wins (with its exception); the entry lives as long as the longest.
                let until = kept.until.max(until);
                if not_before > kept.not_before || (not_before == kept.not_before && except.is_none()) {
                    *kept = entry;
                }
                kept.until = until;
                inner.other_expiry.push(Reverse((until, Key::Person(key))));
            }
            Revocation::Everyone { not_before, until } => {
                let (nb, u) = inner.everyone.map_or((not_before, until), |(nb, u)| (nb.max(not_before), u.max(until)));
                inner.everyone = Some((nb, u));
                inner.other_expiry.push(Reverse((u, Key::Everyone)));
            }
        }
        self.len.store(inner.len(), Ordering::Release);
    }

    /// Forgets the entries whose `until` is not after `now`, a batch per
    /// hold of the lock.
    pub fn prune(&self, now: i64) {
        loop {
            let mut inner = self.inner.write().unwrap_or_else(|poisoned| poisoned.into_inner());
            let mut done = 0;
            // Each is forgotten only if this queue item is the entry's latest `until`.
            while done < PRUNE_BATCH {
                let Some(&Reverse((at, id))) = inner.session_expiry.peek() else { break };
                if at > now {
                    break;
                }
                inner.session_expiry.pop();
                done += 1;
                if inner.sessions.get(&id) == Some(&at) {
                    inner.sessions.remove(&id);
                }
            }
            while done < PRUNE_BATCH {
                let Some(&Reverse((at, key))) = inner.other_expiry.peek() else { break };
                if at > now {
                    break;
                }
                inner.other_expiry.pop();
                done += 1;
                match key {
                    Key::Person(k) => {
                        if inner.persons.get(&k).is_some_and(|p| p.until == at) {
                            inner.persons.remove(&k);
                        }
                    }
                    Key::Everyone => {
                        if inner.everyone.is_some_and(|(_, u)| u == at) {
                            inner.everyone = None;
                        }
                    }
                }
            }
            self.len.store(inner.len(), Ordering::Release);
            let more = done == PRUNE_BATCH;
            drop(inner);
            if !more {
                return;
            }
        }
    }

    /// How many entries are held (sessions, persons, everyone).
    pub fn len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: PersonKey = PersonKey([1; 8]);
    const BOB: PersonKey = PersonKey([2; 8]);

    fn id(n: u64) -> SessionId {
        SessionId::from_u64(n)
    }

    #[test]
    fn a_session_revocation_covers_that_session_only() {
        let set = RevocationSet::default();
        set.apply(&Revocation::Session { id: id(1), person: ALICE, at: 100, until: 200 });
        assert!(set.is_revoked(id(1), ALICE, 50));
        assert!(set.is_revoked(id(1), ALICE, 150), "whatever its sign-in time");
        assert!(!set.is_revoked(id(2), ALICE, 50));
        assert!(!set.is_revoked(id(2), BOB, 50));
        // Applied twice: one entry, kept as long as the longer.
        set.apply(&Revocation::Session { id: id(1), person: ALICE, at: 100, until: 300 });
        assert_eq!(set.len(), 1);
        set.prune(250);
        assert!(set.is_revoked(id(1), ALICE, 50), "the later until holds");
        set.prune(300);
        assert!(set.is_empty());
    }

    #[test]
    fn a_persons_not_before_ends_their_earlier_sessions_but_the_spared_one() {
        let set = RevocationSet::default();
        set.apply(&Revocation::Person { person: ALICE, not_before: 100, except: Some(id(9)), until: 500 });
        assert!(set.is_revoked(id(1), ALICE, 99));
        assert!(!set.is_revoked(id(9), ALICE, 99), "the current session after a password change");
        assert!(!set.is_revoked(id(2), ALICE, 100), "signed in at or after not-before");
        assert!(!set.is_revoked(id(1), BOB, 99));
        // A later "everywhere" ends the spared one too; an older one changes nothing.
        set.apply(&Revocation::Person { person: ALICE, not_before: 120, except: None, until: 520 });
        assert!(set.is_revoked(id(9), ALICE, 99));
        set.apply(&Revocation::Person { person: ALICE, not_before: 50, except: Some(id(3)), until: 400 });
        assert!(set.is_revoked(id(3), ALICE, 40) && set.is_revoked(id(9), ALICE, 110));
        set.prune(519);
        assert!(set.is_revoked(id(9), ALICE, 110));
        set.prune(520);
        assert!(set.is_empty());
    }

    #[test]
    fn everyones_not_before_ends_every_earlier_session() {
        let set = RevocationSet::default();
        set.apply(&Revocation::Everyone { not_before: 100, until: 400 });
        assert!(set.is_revoked(id(1), ALICE, 99) && set.is_revoked(id(2), BOB, 0));
        assert!(!set.is_revoked(id(1), ALICE, 100));
        set.apply(&Revocation::Everyone { not_before: 90, until: 300 });
        assert!(set.is_revoked(id(1), ALICE, 95), "the newer not-before stays");
        set.prune(399);
        assert_eq!(set.len(), 1);
        set.prune(400);
        assert!(set.is_empty());
    }

    #[test]
    fn pruning_a_large_set_forgets_exactly_the_expired_entries() {
        let set = RevocationSet::default();
        for n in 1..=10_000u64 {
            set.apply(&Revocation::Session { id: id(n), person: ALICE, at: 0, until: n as i64 });
        }
        set.prune(5_000);
        assert_eq!(set.len(), 5_000);
        assert!(!set.is_revoked(id(5_000), ALICE, 0) && set.is_revoked(id(5_001), ALICE, 0));
    }

    #[test]
    fn the_text_form_round_trips() {
        for r in [
            Revocation::Session { id: id(u64::MAX), person: ALICE, at: 1, until: 2 },
            Revocation::Person { person: BOB, not_before: -5, except: Some(id(3)), until: 9 },
            Revocation::Person { person: BOB, not_before: 5, except: None, until: 9 },
            Revocation::Everyone { not_before: 1_800_000_000, until: 1_800_000_600 },
        ] {
            assert_eq!(Revocation::decode(&r.encode()), Some(r), "{}", r.encode());
        }
        for bad in ["", "s:1:2:3", "s:zz:0101010101010101:1:2", "p:0101010101010101:1:x:2", "e:1", "e:a:b"] {
            assert_eq!(Revocation::decode(bad), None, "{bad}");
        }
    }
}
