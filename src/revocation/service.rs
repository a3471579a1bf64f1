//! The revocations of one running app: the in-memory set every request
//! checks, the store behind it, and the background tasks between them.
//!
//! A revocation takes effect on this instance at once (the set), then goes to
//! the store from an outbox that a task writes, retrying while the store is
//! down: nothing is lost, and no request waits for the store. Another task
//! follows what every instance writes, so a sign-out anywhere is enforced
//! here within about a second. Last-seen times for the sessions list are
//! batched and written at most once a minute per session.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::clock::Clock;
use crate::timing::Timeouts;

use super::sqlite::DEFAULT_PATH;
use super::{
    Cursor, EmbeddedStore, MemoryStore, PersonKey, Revocation, RevocationSet, RevocationStore, SessionId,
    SessionRecord, StoreError,
};

/// How long a revocation may take to reach every instance and still be
/// accounted for: a copy of a stamp used elsewhere meanwhile has its last
/// activity at most this late, so entries live this much longer.
pub const PROPAGATION_BOUND: i64 = 30;

/// Last-seen times wait this long to be written, in one batch.
const SEEN_BATCH_EVERY: Duration = Duration::from_secs(60);

/// What the `revocations` setting names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StoreChoice {
    /// The embedded SQLite database at this path.
    Embedded(PathBuf),
    /// Redis at this URL (feature `redis`).
    Redis(String),
    /// In this process only.
    Memory,
}

impl StoreChoice {
    /// Unset: the embedded store at [`DEFAULT_PATH`]; `"memory"`;
    /// `"redis://…"`; anything else without a scheme: a path.
    pub fn parse(setting: Option<&str>) -> Result<StoreChoice, String> {
        match setting.map(str::trim) {
            None => Ok(StoreChoice::Embedded(PathBuf::from(DEFAULT_PATH))),
            Some("") => {
                Err("is empty: leave it unset for the embedded store, or give a path, \"memory\" or a redis:// URL"
                    .into())
            }
            Some("memory") => Ok(StoreChoice::Memory),
            Some(url) if url.starts_with("rediss://") => Err(format!(
                "{url:?}: Redis over TLS is not supported yet; use redis:// (on a private network or through a TLS tunnel)"
            )),
            Some(url) if url.starts_with("redis://") => {
                if cfg!(feature = "redis") {
                    Ok(StoreChoice::Redis(url.to_string()))
                } else {
                    Err(format!("{url:?} needs the crate's `redis` feature (rocket_session_security = {{ features = [\"redis\"] }})"))
                }
            }
            Some(other) if other.contains("://") => {
                Err(format!("{other:?}: only redis:// URLs are stores; a path has no scheme"))
            }
            Some(path) => Ok(StoreChoice::Embedded(PathBuf::from(path))),
        }
    }

    /// For the launch log.
    pub fn describe(&self) -> String {
        match self {
            StoreChoice::Embedded(path) => format!("the embedded store {}", path.display()),
            StoreChoice::Redis(url) => format!("Redis at {}", redact(url)),
            StoreChoice::Memory => "memory (this process only)".into(),
        }
    }

    /// Opens the store; the error says why not.
    pub async fn open(&self, namespace: &str) -> Result<Arc<dyn RevocationStore>, StoreError> {
        match self {
            StoreChoice::Embedded(path) => Ok(Arc::new(EmbeddedStore::open(path)?)),
            StoreChoice::Memory => Ok(Arc::new(MemoryStore::new())),
            #[cfg(feature = "redis")]
            StoreChoice::Redis(url) => Ok(Arc::new(super::RedisStore::connect(url, namespace).await?)),
            #[cfg(not(feature = "redis"))]
            StoreChoice::Redis(_) => {
                let _ = namespace;
                Err(StoreError::new("the crate was built without its `redis` feature"))
            }
        }
    }
}

/// A URL without its password, for logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}://***@{}", &url[..scheme], &url[at + 1..]),
        _ => url.to_string(),
    }
}

/// The timing revocations are kept for: the configured limits, the longest
/// any session may have (a session's own timing is never longer).
pub(crate) struct RevocationTiming {
    longest_expire_after: i64,
    absolute_timeout: i64,
}

impl RevocationTiming {
    pub fn new(expire_after: u32, absolute_timeout: u32) -> RevocationTiming {
        RevocationTiming {
            longest_expire_after: i64::from(expire_after),
            absolute_timeout: i64::from(absolute_timeout),
        }
    }

    fn expire_after(&self) -> i64 {
        self.longest_expire_after
    }
}

#[derive(Default)]
struct Outbox {
    revocations: Vec<Revocation>,
    started: Vec<SessionRecord>,
}

/// The revocations of a running app (managed by the fairing): check, revoke,
/// list. Held by every guard; its store is written in the background.
pub struct Revocations {
    set: RevocationSet,
    store: Arc<dyn RevocationStore>,
    outbox: Mutex<Outbox>,
    seen: Mutex<HashMap<SessionId, (i64, i64)>>,
    wake: tokio::sync::Notify,
    /// Held for a whole write: a `flush` (at shutdown) then waits for the
    /// background task's write in flight instead of finding the outbox
    /// already emptied by it and returning before the store has it.
    writing: tokio::sync::Mutex<()>,
    timing: RevocationTiming,
    clock: Arc<dyn Clock>,
    store_down: AtomicBool,
}

impl std::fmt::Debug for Revocations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Revocations").field("held", &self.set.len()).finish_non_exhaustive()
    }
}

impl Revocations {
    /// Loads the store's revocations, retrying for at most `wait`, then
    /// starts the background tasks on the current Tokio runtime. An error
    /// means the app must not serve: it could not check the sessions it
    /// would accept.
    pub(crate) async fn start(
        store: Arc<dyn RevocationStore>,
        timing: RevocationTiming,
        clock: Arc<dyn Clock>,
        wait: Duration,
    ) -> Result<Arc<Revocations>, StoreError> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut pause = Duration::from_millis(100);
        let (loaded, cursor) = loop {
            match tokio::time::timeout_at(deadline, store.load(clock.now_unix())).await {
                Ok(Ok(loaded)) => break loaded,
                Ok(Err(e)) if tokio::time::Instant::now() + pause < deadline => {
                    log::warn!("revocation store: {e}; trying again");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(2));
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => return Err(StoreError::new(format!("no answer within {} s", wait.as_secs()))),
            }
        };
        let revocations = Arc::new(Revocations {
            set: RevocationSet::default(),
            store,
            outbox: Mutex::default(),
            seen: Mutex::default(),
            wake: tokio::sync::Notify::new(),
            writing: tokio::sync::Mutex::new(()),
            timing,
            clock,
            store_down: AtomicBool::new(false),
        });
        revocations.apply_all(&loaded);
        tokio::spawn(write_loop(revocations.clone()));
        tokio::spawn(follow_loop(revocations.clone(), cursor));
        tokio::spawn(prune_loop(revocations.clone()));
        Ok(revocations)
    }

    fn now(&self) -> i64 {
        self.clock.now_unix()
    }

    /// Whether a session is revoked: one look in memory, no I/O.
    pub fn is_revoked(&self, id: SessionId, person: PersonKey, signed_in_at: i64) -> bool {
        self.set.is_revoked(id, person, signed_in_at)
    }

    /// How many revocations this instance holds.
    pub fn held(&self) -> usize {
        self.set.len()
    }

    /// Revocations that reached this instance (loaded, or written by any
    /// instance): kept at least until a stamp used meanwhile is idle-expired.
    fn apply_all(&self, revocations: &[Revocation]) {
        let at_least = self.now() + self.timing.expire_after() + PROPAGATION_BOUND;
        for revocation in revocations {
            self.set.apply(&revocation.kept_until(at_least));
        }
    }

    /// Enforced here now, written to the store by the background task.
    fn revoke(&self, revocation: Revocation) -> Revocation {
        self.set.apply(&revocation);
        self.outbox.lock().unwrap_or_else(|p| p.into_inner()).revocations.push(revocation);
        self.wake.notify_one();
        revocation
    }

    /// Ends one session, signed in at `signed_in_at` with the limits
    /// `timeouts` (its own, or the configured ones when unknown).
    pub(crate) fn end_session(
        &self,
        id: SessionId,
        person: PersonKey,
        signed_in_at: i64,
        timeouts: &Timeouts,
    ) -> Revocation {
        let at = self.now();
        // A copy of the stamp used until now stays valid for its idle limit at most.
        let mut until = at + i64::from(timeouts.expire_after) + PROPAGATION_BOUND;
        let absolute = match (timeouts.absolute_timeout, self.timing.absolute_timeout) {
            (0, configured) => configured,
            (own, _) => i64::from(own),
        };
        if absolute > 0 {
            until = until.min(signed_in_at + absolute + PROPAGATION_BOUND);
        }
        self.revoke(Revocation::Session { id, person, at, until })
    }

    /// Ends every session of `person` signed in before this second, but
    /// `except` (a session signed in during this very second is spared:
    /// the one that asks is ended by its own id).
    pub fn end_person(&self, person: PersonKey, except: Option<SessionId>) -> Revocation {
        let now = self.now();
        let until = now + self.timing.expire_after() + PROPAGATION_BOUND;
        self.revoke(Revocation::Person { person, not_before: now, except, until })
    }

    /// Ends every session of everyone signed in before this second.
    pub fn end_everyone(&self) -> Revocation {
        let now = self.now();
        let until = now + self.timing.expire_after() + PROPAGATION_BOUND;
        self.revoke(Revocation::Everyone { not_before: now, until })
    }

    /// A sign-in joins the sessions list (written in the background).
    pub(crate) fn started(&self, record: SessionRecord) {
        self.outbox.lock().unwrap_or_else(|p| p.into_inner()).started.push(record);
        self.wake.notify_one();
    }

    /// A session was active at `last_seen`; it ends at `until` if nothing happens.
    /// Called at most once a minute per session (when the minute changes).
    pub(crate) fn seen(&self, id: SessionId, last_seen: i64, until: i64) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let entry = seen.entry(id).or_insert((last_seen, until));
        *entry = (entry.0.max(last_seen), entry.1.max(until));
    }

    /// The sessions of `person` not yet ended, oldest sign-in first (from the store).
    pub async fn sessions(&self, person: PersonKey) -> Result<Vec<SessionRecord>, StoreError> {
        self.flush().await?;
        let mut list = self.store.sessions(person, self.now()).await?;
        // Revoked here but perhaps not yet written there.
        list.retain(|s| !self.set.is_revoked(s.id, s.person, s.signed_in));
        Ok(list)
    }

    /// Writes everything pending now (the background task does it anyway):
    /// for shutdown, and before reading the sessions list.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let _one_writer = self.writing.lock().await;
        self.write_pending().await?;
        self.write_seen().await
    }

    async fn write_pending(&self) -> Result<(), StoreError> {
        let pending = std::mem::take(&mut *self.outbox.lock().unwrap_or_else(|p| p.into_inner()));
        let mut failed: Option<(StoreError, Outbox)> = None;
        for (i, revocation) in pending.revocations.iter().enumerate() {
            if let Err(e) = self.store.revoke(revocation).await {
                let rest = Outbox { revocations: pending.revocations[i..].to_vec(), started: pending.started.clone() };
                failed = Some((e, rest));
                break;
            }
        }
        if failed.is_none() {
            for (i, session) in pending.started.iter().enumerate() {
                if let Err(e) = self.store.session_started(session).await {
                    failed = Some((e, Outbox { revocations: Vec::new(), started: pending.started[i..].to_vec() }));
                    break;
                }
            }
        }
        match failed {
            None => Ok(()),
            Some((e, rest)) => {
                // Back in front of what arrived meanwhile, in order.
                let mut outbox = self.outbox.lock().unwrap_or_else(|p| p.into_inner());
                let later = std::mem::take(&mut *outbox);
                outbox.revocations = rest.revocations.into_iter().chain(later.revocations).collect();
                outbox.started = rest.started.into_iter().chain(later.started).collect();
                Err(e)
            }
        }
    }

    async fn write_seen(&self) -> Result<(), StoreError> {
        let batch: Vec<(SessionId, i64, i64)> = {
            let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            seen.drain().map(|(id, (last, until))| (id, last, until)).collect()
        };
        if batch.is_empty() {
            return Ok(());
        }
        if let Err(e) = self.store.sessions_seen(&batch).await {
            let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            for (id, last, until) in batch {
                let entry = seen.entry(id).or_insert((last, until));
                *entry = (entry.0.max(last), entry.1.max(until));
            }
            return Err(e);
        }
        Ok(())
    }

    /// Logs an outage once, and its end.
    fn note(&self, result: &Result<(), StoreError>, what: &str) {
        match result {
            Err(e) => {
                if !self.store_down.swap(true, Ordering::Relaxed) {
                    let held = self.outbox.lock().map(|o| o.revocations.len()).unwrap_or(0);
                    log::error!(
                        "revocation store unreachable ({what}: {e}): {held} revocation(s) enforced on this \
                         instance only until it is back; retrying, nothing is lost"
                    );
                }
            }
            Ok(()) => {
                if self.store_down.swap(false, Ordering::Relaxed) {
                    log::info!("revocation store reachable again: pending revocations written");
                }
            }
        }
    }
}

async fn write_loop(this: Arc<Revocations>) {
    let mut pause = Duration::from_secs(1);
    let mut last_seen_batch = tokio::time::Instant::now();
    loop {
        let _ = tokio::time::timeout(pause, this.wake.notified()).await;
        let one_writer = this.writing.lock().await;
        let mut result = this.write_pending().await;
        if result.is_ok() && last_seen_batch.elapsed() >= SEEN_BATCH_EVERY {
            result = this.write_seen().await;
            last_seen_batch = tokio::time::Instant::now();
        }
        drop(one_writer);
        this.note(&result, "writing");
        pause = match result {
            Ok(()) => Duration::from_secs(1),
            Err(_) => (pause * 2).min(Duration::from_secs(30)),
        };
    }
}

async fn follow_loop(this: Arc<Revocations>, mut cursor: Cursor) {
    let mut pause = Duration::from_millis(250);
    let mut lost = false;
    loop {
        match this.store.follow(&cursor).await {
            Ok((found, next)) => {
                if lost {
                    // Back after an outage: everything still in force, in case the change log was trimmed.
                    if let Ok((all, _)) = this.store.load(this.now()).await {
                        this.apply_all(&all);
                    }
                    lost = false;
                }
                this.apply_all(&found);
                cursor = next;
                pause = Duration::from_millis(250);
            }
            Err(e) => {
                if !lost {
                    log::warn!("revocation store: following changes failed ({e}); retrying");
                }
                lost = true;
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(10));
            }
        }
    }
}

async fn prune_loop(this: Arc<Revocations>) {
    let mut round = 0u32;
    loop {
        tokio::time::sleep(Duration::from_secs(30)).await;
        this.set.prune(this.now());
        round += 1;
        if round.is_multiple_of(20) {
            if let Err(e) = this.store.prune(this.now()).await {
                log::warn!("revocation store: pruning failed ({e}); trying again later");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_setting_names_a_store() {
        assert_eq!(StoreChoice::parse(None), Ok(StoreChoice::Embedded(DEFAULT_PATH.into())));
        assert_eq!(StoreChoice::parse(Some("memory")), Ok(StoreChoice::Memory));
        assert_eq!(
            StoreChoice::parse(Some("/var/lib/app/s.db")),
            Ok(StoreChoice::Embedded("/var/lib/app/s.db".into()))
        );
        assert!(StoreChoice::parse(Some("")).is_err());
        assert!(StoreChoice::parse(Some("postgres://db/x")).unwrap_err().contains("only redis://"));
        assert!(StoreChoice::parse(Some("rediss://host:6380")).unwrap_err().contains("not supported"));
        let redis = StoreChoice::parse(Some("redis://127.0.0.1:6380/2"));
        if cfg!(feature = "redis") {
            assert_eq!(redis, Ok(StoreChoice::Redis("redis://127.0.0.1:6380/2".into())));
        } else {
            assert!(redis.unwrap_err().contains("`redis` feature"));
        }
        assert_eq!(redact("redis://user:secret@host:6379"), "redis://***@host:6379");
        assert_eq!(redact("redis://host:6379"), "redis://host:6379");
    }

    #[test]
    fn a_revocation_is_enforced_at_once_and_written_when_the_store_is_back() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let store = MemoryStore::new();
            let clock = crate::ManualClock::new(1_000);
            let timing = RevocationTiming::new(600, 43_200);
            let shared: Arc<dyn RevocationStore> = Arc::new(store.clone());
            let revocations =
                Revocations::start(shared, timing, Arc::new(clock.clone()), Duration::from_secs(1)).await.unwrap();
            let (id, person) = (SessionId::from_u64(5), PersonKey([3; 8]));
            store.set_down(true);
            let timeouts = Timeouts { warn_after: 540, expire_after: 600, absolute_timeout: 43_200 };
            let revoked = revocations.end_session(id, person, 900, &timeouts);
            assert_eq!(revoked, Revocation::Session { id, person, at: 1_000, until: 1_630 });

            assert!(revocations.is_revoked(id, person, 900), "enforced here while the store is down");
            assert!(revocations.flush().await.is_err());
            store.set_down(false);
            revocations.flush().await.unwrap();
            let (kept, _) = store.load(1_000).await.unwrap();
            assert_eq!(kept, [revoked], "written once the store is back: nothing lost");
            // Kept no longer than the session could last: its own absolute limit, from its sign-in.
            let short = Timeouts { absolute_timeout: 650, ..timeouts };
            let until = |r: Revocation| match r {
                Revocation::Session { until, .. } => until,
                _ => unreachable!(),
            };
            assert_eq!(until(revocations.end_session(SessionId::from_u64(6), person, 900, &short)), 1_580);
        });
    }

    /// A store whose writes wait to be let through, to hold one in flight.
    struct GatedStore {
        inner: MemoryStore,
        entered: Arc<tokio::sync::Notify>,
        let_through: Arc<tokio::sync::Notify>,
    }

    #[rocket::async_trait]
    impl RevocationStore for GatedStore {
        async fn load(&self, now: i64) -> Result<(Vec<Revocation>, Cursor), StoreError> {
            self.inner.load(now).await
        }
        async fn revoke(&self, revocation: &Revocation) -> Result<(), StoreError> {
            self.entered.notify_one();
            self.let_through.notified().await;
            self.inner.revoke(revocation).await
        }
        async fn follow(&self, cursor: &Cursor) -> Result<(Vec<Revocation>, Cursor), StoreError> {
            self.inner.follow(cursor).await
        }
        async fn session_started(&self, session: &SessionRecord) -> Result<(), StoreError> {
            self.inner.session_started(session).await
        }
        async fn sessions_seen(&self, seen: &[(SessionId, i64, i64)]) -> Result<(), StoreError> {
            self.inner.sessions_seen(seen).await
        }
        async fn sessions(&self, person: PersonKey, now: i64) -> Result<Vec<SessionRecord>, StoreError> {
            self.inner.sessions(person, now).await
        }
        async fn prune(&self, now: i64) -> Result<(), StoreError> {
            self.inner.prune(now).await
        }
    }

    #[test]
    fn a_flush_waits_for_the_background_write_in_flight() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let inner = MemoryStore::new();
            let (entered, let_through) = (Arc::new(tokio::sync::Notify::new()), Arc::new(tokio::sync::Notify::new()));
            let store = GatedStore { inner: inner.clone(), entered: entered.clone(), let_through: let_through.clone() };
            let clock = Arc::new(crate::ManualClock::new(1_000));
            let revocations =
                Revocations::start(Arc::new(store), RevocationTiming::new(600, 43_200), clock, Duration::from_secs(1))
                    .await
                    .unwrap();
            let timeouts = Timeouts { warn_after: 540, expire_after: 600, absolute_timeout: 43_200 };
            let revoked = revocations.end_session(SessionId::from_u64(5), PersonKey([3; 8]), 900, &timeouts);
            // The background task has taken the outbox and is writing it.
            entered.notified().await;
            let flushing = tokio::spawn({
                let revocations = revocations.clone();
                async move { revocations.flush().await }
            });
            for _ in 0..10 {
                tokio::task::yield_now().await;
            }
            assert!(!flushing.is_finished(), "a flush at shutdown returned while the write was still in flight");
            let_through.notify_one();
            flushing.await.unwrap().unwrap();
            assert_eq!(inner.load(1_000).await.unwrap().0, [revoked], "written before the flush returned");
        });
    }
}
