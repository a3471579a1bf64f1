//! `revocations = "memory"`: a store in this process only, for tests. Clones
//! share one store, so several app instances in one test process see each
//! other's revocations as they would through Redis.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{Cursor, PersonKey, Revocation, RevocationStore, SessionId, SessionRecord, StoreError};

#[derive(Default)]
struct State {
    /// Every revocation kept, in order (the cursor is an index into it).
    log: Vec<Revocation>,
    /// The same, to keep each once without a scan of the log.
    kept: std::collections::HashSet<Revocation>,
    /// How many entries were pruned from the front of `log`.
    pruned: usize,
    sessions: Vec<SessionRecord>,
    /// A switch for fault tests: while set, every call fails.
    down: bool,
}

/// An in-process [`RevocationStore`]: nothing survives the process.
///
/// ```
/// use rocket_session_security::{MemoryStore, Revocation, RevocationStore};
/// # rocket::async_test(async {
/// let store = MemoryStore::default();
/// let (_, cursor) = store.load(0).await.unwrap();
/// store.revoke(&Revocation::Everyone { not_before: 10, until: 100 }).await.unwrap();
/// let (seen, _) = store.follow(&cursor).await.unwrap();
/// assert_eq!(seen.len(), 1);
/// # });
/// ```
#[derive(Clone, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
    changed: Arc<tokio::sync::Notify>,
}

impl MemoryStore {
    /// A new, empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// Makes every call fail (`true`) or work again (`false`), as a store
    /// that is down: for fault tests.
    pub fn set_down(&self, down: bool) {
        self.lock().down = down;
        self.changed.notify_waiters();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn up(&self) -> Result<std::sync::MutexGuard<'_, State>, StoreError> {
        let state = self.lock();
        if state.down {
            return Err(StoreError::new("the memory store is down (set_down)"));
        }
        Ok(state)
    }
}

fn cursor_of(state: &State) -> Cursor {
    (state.pruned + state.log.len()).to_string()
}

#[async_trait::async_trait]
impl RevocationStore for MemoryStore {
    async fn load(&self, now: i64) -> Result<(Vec<Revocation>, Cursor), StoreError> {
        let state = self.up()?;
        let live = state.log.iter().filter(|r| r.until() > now).copied().collect();
        Ok((live, cursor_of(&state)))
    }

    async fn revoke(&self, revocation: &Revocation) -> Result<(), StoreError> {
        {
            let mut state = self.up()?;
            if state.kept.insert(*revocation) {
                state.log.push(*revocation);
            }
            state.sessions.retain(|s| !revocation.covers(s.person, s.id, s.signed_in));
        }
        self.changed.notify_waiters();
        Ok(())
    }

    async fn follow(&self, cursor: &Cursor) -> Result<(Vec<Revocation>, Cursor), StoreError> {
        let from: usize =
            cursor.parse().map_err(|_| StoreError::new(format!("not a memory-store cursor: {cursor:?}")))?;
        for attempt in 0..2 {
            let notified = self.changed.notified();
            {
                let state = self.up()?;
                let start = from.saturating_sub(state.pruned).min(state.log.len());
                if start < state.log.len() || attempt == 1 {
                    return Ok((state.log[start..].to_vec(), cursor_of(&state)));
                }
            }
            let _ = tokio::time::timeout(Duration::from_secs(1), notified).await;
        }
        unreachable!("the second attempt answers")
    }

    async fn session_started(&self, session: &SessionRecord) -> Result<(), StoreError> {
        let mut state = self.up()?;
        state.sessions.retain(|s| s.id != session.id);
        state.sessions.push(session.clone());
        Ok(())
    }

    async fn sessions_seen(&self, seen: &[(SessionId, i64, i64)]) -> Result<(), StoreError> {
        let mut state = self.up()?;
        for &(id, last_seen, until) in seen {
            if let Some(session) = state.sessions.iter_mut().find(|s| s.id == id) {
                session.last_seen = session.last_seen.max(last_seen);
                session.until = session.until.max(until);
            }
        }
        Ok(())
    }

    async fn sessions(&self, person: PersonKey, now: i64) -> Result<Vec<SessionRecord>, StoreError> {
        let state = self.up()?;
        let mut list: Vec<SessionRecord> =
            state.sessions.iter().filter(|s| s.person == person && s.until > now).cloned().collect();
        list.sort_by_key(|s| (s.signed_in, s.id));
        Ok(list)
    }

    async fn prune(&self, now: i64) -> Result<(), StoreError> {
        let mut state = self.up()?;
        let before = state.log.len();
        // Only a prefix may go, so cursors stay indices; expired entries elsewhere wait their turn.
        let keep_from = state.log.iter().position(|r| r.until() > now).unwrap_or(before);
        for gone in state.log.drain(..keep_from).collect::<Vec<_>>() {
            state.kept.remove(&gone);
        }
        state.pruned += keep_from;
        state.sessions.retain(|s| s.until > now);
        Ok(())
    }
}
