#![cfg(feature = "redis")]
//! `RedisStore` through a real redis-server (one per test, on a free port of
//! 127.0.0.1, nothing persisted): the trait's semantics, exactly as the
//! in-memory reference store has them, two instances following each other,
//! the keys it keeps and their bounds, namespaces, and an outage.

use std::collections::BTreeSet;
use std::future::Future;
use std::time::{Duration, Instant};

use crate::common::redis::{RedisServer, Reply};
use rocket_session_security::{
    Cursor, MemoryStore, PersonKey, RedisStore, Revocation, RevocationStore, SessionId, SessionRecord,
};

const NOW: i64 = 1_800_000_000;

fn person(n: u8) -> PersonKey {
    PersonKey::from_bytes([n; 8])
}

fn id(n: u64) -> SessionId {
    SessionId::from_u64(n)
}

fn session(n: u64, who: PersonKey, signed_in: i64, until: i64) -> SessionRecord {
    SessionRecord {
        id: id(n),
        person: who,
        signed_in,
        last_seen: signed_in,
        user_agent: format!("Firefox {n} on Linux"),
        until,
    }
}

fn ended(n: u64) -> Revocation {
    Revocation::Session { id: id(n), person: person(1), at: NOW, until: NOW + 600 }
}

async fn connect(server: &RedisServer, namespace: &str) -> RedisStore {
    RedisStore::connect(&server.url(), namespace).await.expect("connects to the test's redis-server")
}

/// Awaits `call`, failing the test if it takes longer than `secs`.
async fn within<T>(secs: u64, what: &str, call: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(secs), call)
        .await
        .unwrap_or_else(|_| panic!("{what} did not answer within {secs} s"))
}

/// Revokes each of `revocations`, from `tasks` tasks at once.
async fn revoke_all(store: &RedisStore, revocations: &[Revocation], tasks: usize) {
    let mut running = tokio::task::JoinSet::new();
    for chunk in revocations.chunks(revocations.len().div_ceil(tasks)) {
        let (store, chunk) = (store.clone(), chunk.to_vec());
        running.spawn(async move {
            for revocation in &chunk {
                store.revoke(revocation).await.expect("revoke");
            }
        });
    }
    while let Some(done) = running.join_next().await {
        done.expect("a revoking task");
    }
}

fn sorted(mut revocations: Vec<Revocation>) -> Vec<Revocation> {
    revocations.sort_by_key(|r| (r.until(), r.encode()));
    revocations
}

fn count(server: &RedisServer, command: &[&str]) -> i64 {
    server.command(command).int()
}

/// The Redis store and the reference in-memory store, given the same calls:
/// every answer must be the same.
struct Both {
    redis: RedisStore,
    memory: MemoryStore,
}

impl Both {
    async fn started(&self, record: &SessionRecord) {
        self.redis.session_started(record).await.expect("session_started");
        self.memory.session_started(record).await.expect("memory session_started");
    }

    async fn seen(&self, seen: &[(SessionId, i64, i64)]) {
        self.redis.sessions_seen(seen).await.expect("sessions_seen");
        self.memory.sessions_seen(seen).await.expect("memory sessions_seen");
    }

    async fn revoke(&self, revocation: &Revocation) {
        self.redis.revoke(revocation).await.expect("revoke");
        self.memory.revoke(revocation).await.expect("memory revoke");
    }

    async fn prune(&self, now: i64) {
        self.redis.prune(now).await.expect("prune");
        self.memory.prune(now).await.expect("memory prune");
    }

    async fn sessions(&self, who: PersonKey, now: i64) -> Vec<SessionRecord> {
        let listed = self.redis.sessions(who, now).await.expect("sessions");
        assert_eq!(listed, self.memory.sessions(who, now).await.expect("memory sessions"), "{who} at {now}");
        listed
    }

    async fn load(&self, now: i64) -> Vec<Revocation> {
        let (loaded, _) = self.redis.load(now).await.expect("load");
        let (reference, _) = self.memory.load(now).await.expect("memory load");
        assert_eq!(sorted(loaded.clone()), sorted(reference), "load({now})");
        loaded
    }
}

/// The keys left when person 1 is the only one with sessions: the stream,
/// their hash, the revocations and the three session indexes.
const ONE_PERSON_LEFT: [&str; 6] = [
    "app:changes",
    "app:person:0101010101010101",
    "app:revocations",
    "app:session-person",
    "app:session-signed-in",
    "app:session-until",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_revoke_and_follow_round_trip() {
    let Some(server) = RedisServer::start() else { return };
    let store = connect(&server, "app").await;
    let (loaded, start) = store.load(NOW).await.expect("load");
    assert_eq!((loaded, start.as_str()), (vec![], "0-0"), "an empty store, before any stream entry");

    let one = Revocation::Session { id: id(1), person: person(1), at: NOW, until: NOW + 100 };
    let alice = Revocation::Person { person: person(2), not_before: NOW, except: Some(id(2)), until: NOW + 200 };
    let everyone = Revocation::Everyone { not_before: NOW, until: NOW + 50 };
    for revocation in [one, alice, everyone] {
        store.revoke(&revocation).await.expect("revoke");
    }
    let (followed, cursor) = store.follow(&start).await.expect("follow");
    assert_eq!(followed, vec![one, alice, everyone], "in the order they were kept");
    assert_ne!(cursor, start);

    // load: the live ones (by `until`), and the cursor where follow now stands.
    assert_eq!(store.load(NOW).await.expect("load"), (vec![everyone, one, alice], cursor.clone()));
    assert_eq!(store.load(NOW + 50).await.expect("load").0, vec![one, alice], "until == now is over");
    assert_eq!(store.load(NOW + 199).await.expect("load").0, vec![alice]);
    assert_eq!(store.load(NOW + 200).await.expect("load").0, vec![]);

    // Nothing new: follow waits about a second, then answers nothing and the same cursor.
    let asked = Instant::now();
    assert_eq!(store.follow(&cursor).await.expect("follow"), (vec![], cursor.clone()));
    let waited = asked.elapsed();
    assert!(waited >= Duration::from_millis(900) && waited < Duration::from_millis(2500), "waited {waited:?}");

    // A cursor that is no stream id is an error, not a panic.
    assert!(store.follow(&"12".to_string()).await.is_err());
    assert!(store.follow(&"1-2; FLUSHALL".to_string()).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_by_one_instance_reaches_the_others_follow_within_a_second() {
    let Some(server) = RedisServer::start() else { return };
    let (a, b) = (connect(&server, "app").await, connect(&server, "app").await);
    let (_, mut cursor) = a.load(NOW).await.expect("load");
    let mut latencies = Vec::new();
    for n in 0..5 {
        let revocation = ended(100 + n);
        let (follower, from) = (a.clone(), cursor.clone());
        let following = tokio::spawn(async move {
            let mut from = from;
            loop {
                let (got, next) = follower.follow(&from).await.expect("follow");
                if !got.is_empty() {
                    return (got, next, Instant::now());
                }
                from = next;
            }
        });
        // Let A's follow get to its blocking read before B writes.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let sent = Instant::now();
        b.revoke(&revocation).await.expect("B revokes");
        let (got, next, arrived) = within(5, "A's follow", following).await.expect("the following task did not panic");
        let latency = arrived.saturating_duration_since(sent);
        assert_eq!(got, vec![revocation]);
        assert!(latency < Duration::from_secs(1), "latency {latency:?}");
        latencies.push(latency);
        cursor = next;
    }
    let max = latencies.iter().max().copied().unwrap_or_default();
    println!("follow latency, B's revoke to A's follow answering (5 runs): {latencies:?}, at most {max:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_is_idempotent() {
    let Some(server) = RedisServer::start() else { return };
    let store = connect(&server, "app").await;
    let (_, start) = store.load(NOW).await.expect("load");
    let alice = Revocation::Person { person: person(1), not_before: NOW, except: None, until: NOW + 600 };
    store.revoke(&alice).await.expect("revoke");
    store.revoke(&alice).await.expect("the same again");

    // A session of hers from before `not_before` that joins the list after the
    // revocation: a retried revoke drops it, and still streams nothing twice.
    store.session_started(&session(1, person(1), NOW - 10, NOW + 600)).await.expect("session_started");
    store.revoke(&alice).await.expect("the same a third time");
    assert_eq!(store.sessions(person(1), NOW).await.expect("sessions"), vec![]);

    assert_eq!(store.follow(&start).await.expect("follow").0, vec![alice], "followed once");
    assert_eq!(store.load(NOW).await.expect("load").0, vec![alice], "kept once");
    assert_eq!(count(&server, &["XLEN", "app:changes"]), 1);
    assert_eq!(count(&server, &["ZCARD", "app:revocations"]), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sessions_list_keeps_each_persons_sessions_oldest_first() {
    let Some(server) = RedisServer::start() else { return };
    let both = Both { redis: connect(&server, "app").await, memory: MemoryStore::new() };
    let (alice, bob, carol) = (person(1), person(2), person(3));
    let a1 = session(1, alice, NOW - 100, NOW + 600);
    let a2 = SessionRecord {
        user_agent: "Safari: on macOS 14 — \"quoted\"".into(),
        ..session(2, alice, NOW - 150, NOW + 600)
    };
    let a3 = session(3, alice, NOW - 50, NOW);
    let b1 = SessionRecord { user_agent: String::new(), ..session(4, bob, NOW - 120, NOW + 600) };
    for record in [&a1, &a2, &a3, &b1] {
        both.started(record).await;
    }
    assert_eq!(both.sessions(alice, NOW).await, vec![a2.clone(), a1.clone()], "oldest sign-in first; a3 ended at NOW");
    assert_eq!(both.sessions(alice, NOW - 1).await, vec![a2.clone(), a1.clone(), a3.clone()]);
    assert_eq!(both.sessions(bob, NOW).await, vec![b1.clone()]);
    assert_eq!(both.sessions(carol, NOW).await, vec![]);

    // Seen again: last_seen and until move forward, never back; unknown ids are ignored.
    both.seen(&[(a1.id, NOW + 10, NOW + 900), (id(999), NOW + 10, NOW + 900)]).await;
    let a1_seen = SessionRecord { last_seen: NOW + 10, until: NOW + 900, ..a1.clone() };
    assert_eq!(both.sessions(alice, NOW).await, vec![a2.clone(), a1_seen.clone()]);
    both.seen(&[(a1.id, NOW + 5, NOW + 700)]).await;
    assert_eq!(both.sessions(alice, NOW).await, vec![a2.clone(), a1_seen.clone()], "never backwards");
    both.seen(&[(a3.id, NOW + 1, NOW + 601)]).await;
    let a3_seen = SessionRecord { last_seen: NOW + 1, until: NOW + 601, ..a3.clone() };
    assert_eq!(both.sessions(alice, NOW).await, vec![a2.clone(), a1_seen.clone(), a3_seen.clone()]);
    assert_eq!(count(&server, &["HLEN", "app:session-person"]), 4, "no entry for the unknown id");

    // A batch larger than one script call takes.
    let mut many: Vec<(SessionId, i64, i64)> = (1000..2200).map(|n| (id(n), NOW, NOW + 900)).collect();
    many.push((a2.id, NOW + 20, NOW + 1000));
    both.seen(&many).await;
    let a2_seen = SessionRecord { last_seen: NOW + 20, until: NOW + 1000, ..a2.clone() };
    assert_eq!(both.sessions(alice, NOW).await, vec![a2_seen, a1_seen.clone(), a3_seen.clone()]);

    // Started again, as another person's: it leaves the first person's list.
    let moved = session(2, bob, NOW - 10, NOW + 600);
    both.started(&moved).await;
    assert_eq!(both.sessions(alice, NOW).await, vec![a1_seen, a3_seen]);
    assert_eq!(both.sessions(bob, NOW).await, vec![b1, moved]);
    assert_eq!(count(&server, &["HLEN", "app:session-person"]), 4);
    assert_eq!(count(&server, &["ZCARD", "app:session-until"]), 4);
    assert_eq!(count(&server, &["ZCARD", "app:session-signed-in"]), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_kind_of_revocation_drops_the_sessions_it_covers() {
    let Some(server) = RedisServer::start() else { return };
    let both = Both { redis: connect(&server, "app").await, memory: MemoryStore::new() };
    let (alice, bob) = (person(1), person(2));
    let a1 = session(1, alice, NOW - 200, NOW + 600);
    let a2 = session(2, alice, NOW - 150, NOW + 600);
    let a3 = session(3, alice, NOW - 100, NOW + 600);
    let a4 = session(4, alice, NOW - 50, NOW + 600);
    let b1 = session(5, bob, NOW - 200, NOW + 600);
    let b2 = session(6, bob, NOW - 100, NOW + 600);
    for record in [&a1, &a2, &a3, &a4, &b1, &b2] {
        both.started(record).await;
    }

    // One session, by its id.
    both.revoke(&Revocation::Session { id: a4.id, person: alice, at: NOW, until: NOW + 600 }).await;
    assert_eq!(both.sessions(alice, NOW).await, vec![a1.clone(), a2.clone(), a3.clone()]);
    // Seen after its revocation (a batch already under way): it does not come back.
    both.seen(&[(a4.id, NOW + 1, NOW + 900)]).await;
    assert_eq!(both.sessions(alice, NOW).await, vec![a1.clone(), a2.clone(), a3.clone()]);

    // A person's sessions signed in before not_before, but the one it spares.
    let before = a3.signed_in;
    both.revoke(&Revocation::Person { person: alice, not_before: before, except: Some(a1.id), until: NOW + 600 }).await;
    assert_eq!(both.sessions(alice, NOW).await, vec![a1.clone(), a3.clone()], "a1 spared, a3 not signed in before");
    assert_eq!(both.sessions(bob, NOW).await, vec![b1.clone(), b2.clone()], "another person's stay");

    // Everyone's signed in before not_before (none spared).
    both.revoke(&Revocation::Everyone { not_before: before, until: NOW + 600 }).await;
    assert_eq!(both.sessions(alice, NOW).await, vec![a3.clone()]);
    assert_eq!(both.sessions(bob, NOW).await, vec![b2.clone()]);

    // The indexes agree with the list; bob's hash and alice's still exist, nothing else.
    assert_eq!(count(&server, &["HLEN", "app:session-person"]), 2);
    assert_eq!(count(&server, &["ZCARD", "app:session-until"]), 2);
    assert_eq!(count(&server, &["ZCARD", "app:session-signed-in"]), 2);
    both.revoke(&Revocation::Session { id: b2.id, person: bob, at: NOW, until: NOW + 600 }).await;
    assert_eq!(server.keys(), ONE_PERSON_LEFT, "bob's emptied hash is gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everyone_covers_more_sessions_than_one_script_call_drops() {
    let Some(server) = RedisServer::start() else { return };
    let store = connect(&server, "app").await;
    for n in 0..1234u64 {
        let who = person(1 + (n % 3) as u8);
        store.session_started(&session(n + 1, who, NOW - 2000 + n as i64, NOW + 600)).await.expect("started");
    }
    store.revoke(&Revocation::Everyone { not_before: NOW - 1000, until: NOW + 600 }).await.expect("revoke");
    let mut left = 0;
    for who in 1..=3 {
        let listed = store.sessions(person(who), NOW).await.expect("sessions");
        assert!(listed.iter().all(|s| s.signed_in >= NOW - 1000), "{listed:?}");
        left += listed.len();
    }
    assert_eq!(left, 234, "signed in at NOW-1000 .. NOW-767 stay");
    assert_eq!(count(&server, &["HLEN", "app:session-person"]), 234);
    assert_eq!(count(&server, &["ZCARD", "app:session-signed-in"]), 234);
    assert_eq!(count(&server, &["XLEN", "app:changes"]), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_forgets_what_ended_and_leaves_no_key_behind() {
    let Some(server) = RedisServer::start() else { return };
    let store = connect(&server, "app").await;
    let gone_before = Revocation::Everyone { not_before: NOW - 900, until: NOW - 1 };
    let gone_now = Revocation::Person { person: person(2), not_before: NOW - 900, except: None, until: NOW };
    let kept = Revocation::Session { id: id(7), person: person(1), at: NOW - 900, until: NOW + 1 };
    for revocation in [gone_before, gone_now, kept] {
        store.revoke(&revocation).await.expect("revoke");
    }
    // More ended sessions than one script call drops, one that lasts a second longer.
    for n in 0..1100u64 {
        let who = person(1 + (n % 3) as u8);
        store.session_started(&session(100 + n, who, NOW - 600, NOW - (n % 2) as i64)).await.expect("started");
    }
    let last = session(1, person(1), NOW - 600, NOW + 1);
    store.session_started(&last).await.expect("started");

    store.prune(NOW).await.expect("prune");
    assert_eq!(store.load(NOW - 1000).await.expect("load").0, vec![kept], "even when asked about an earlier time");
    assert_eq!(store.sessions(person(1), NOW - 1000).await.expect("sessions"), vec![last]);
    for who in 2..=3 {
        assert_eq!(store.sessions(person(who), NOW - 1000).await.expect("sessions"), vec![]);
    }
    assert_eq!(server.keys(), ONE_PERSON_LEFT);
    for key in ["app:revocations", "app:session-until", "app:session-signed-in"] {
        assert_eq!(count(&server, &["ZCARD", key]), 1, "{key}");
    }
    assert_eq!(count(&server, &["HLEN", "app:session-person"]), 1);
    assert_eq!(count(&server, &["XLEN", "app:changes"]), 3, "the stream is bounded by its length, not by prune");

    store.prune(NOW + 1).await.expect("prune");
    assert_eq!(server.keys(), ["app:changes"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespaces_never_mix() {
    let Some(server) = RedisServer::start() else { return };
    // The third looks like the start of the first's per-person keys.
    let (one, two, nested) =
        (connect(&server, "app1").await, connect(&server, "app2").await, connect(&server, "app1:person").await);
    let alice = person(1);
    let mine = Revocation::Session { id: id(1), person: alice, at: NOW, until: NOW + 600 };
    one.revoke(&mine).await.expect("revoke");
    one.session_started(&session(2, alice, NOW - 10, NOW + 600)).await.expect("started");
    for other in [&two, &nested] {
        assert_eq!(other.load(NOW).await.expect("load"), (vec![], "0-0".to_string()));
        assert_eq!(other.sessions(alice, NOW).await.expect("sessions"), vec![]);
    }

    // Another app ending everyone's sessions and pruning everything ends none of app1's.
    let theirs = Revocation::Everyone { not_before: NOW + 1, until: NOW + 600 };
    two.revoke(&theirs).await.expect("revoke");
    nested.revoke(&theirs).await.expect("revoke");
    two.prune(NOW + 10_000).await.expect("prune");
    nested.prune(NOW + 10_000).await.expect("prune");
    assert_eq!(one.sessions(alice, NOW).await.expect("sessions"), vec![session(2, alice, NOW - 10, NOW + 600)]);
    assert_eq!(one.load(NOW).await.expect("load").0, vec![mine]);
    assert_eq!(one.follow(&"0-0".to_string()).await.expect("follow").0, vec![mine]);
    assert_eq!(two.follow(&"0-0".to_string()).await.expect("follow").0, vec![theirs]);

    assert_eq!(
        server.keys(),
        [
            "app1:changes",
            "app1:person:0101010101010101",
            "app1:person:changes",
            "app1:revocations",
            "app1:session-person",
            "app1:session-signed-in",
            "app1:session-until",
            "app2:changes",
        ]
    );

    // Namespaces that would be unreadable as key parts are refused.
    for bad in ["", "my app", "app\n"] {
        assert!(RedisStore::connect(&server.url(), bad).await.is_err(), "{bad:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_more_than_the_streams_length_behind_gets_every_revocation() {
    let Some(server) = RedisServer::start() else { return };
    let store = connect(&server, "app").await;
    store.revoke(&ended(0)).await.expect("revoke");
    let (_, behind) = store.load(NOW).await.expect("load");
    let revocations: Vec<Revocation> = (1..=10_320).map(ended).collect();
    revoke_all(&store, &revocations, 8).await;

    // MAXLEN ~ 10000 trims whole stream nodes (100 entries each by default):
    // never below 10000, never a node more.
    let length = count(&server, &["XLEN", "app:changes"]);
    assert!((10_000..=10_100).contains(&length), "XLEN {length}");

    let (got, cursor) = store.follow(&behind).await.expect("follow");
    let mut all = revocations.clone();
    all.push(ended(0));
    assert_eq!(sorted(got), sorted(all), "the cursor's entry was trimmed: every revocation kept, once");
    let Reply::Array(last) = server.command(&["XREVRANGE", "app:changes", "+", "-", "COUNT", "1"]) else {
        panic!("XREVRANGE answers an array")
    };
    let Some(Reply::Array(entry)) = last.first() else { panic!("the stream's last entry, got {last:?}") };
    assert_eq!(Some(&Reply::Text(cursor.clone())), entry.first(), "the cursor is the stream's last entry");

    // From there on, only what is new.
    store.revoke(&ended(20_000)).await.expect("revoke");
    assert_eq!(store.follow(&cursor).await.expect("follow").0, vec![ended(20_000)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_reads_a_backlog_a_thousand_at_a_time_without_waiting() {
    let Some(server) = RedisServer::start() else { return };
    let store = connect(&server, "app").await;
    let (_, mut cursor) = store.load(NOW).await.expect("load");
    let revocations: Vec<Revocation> = (1..=2500).map(ended).collect();
    revoke_all(&store, &revocations, 4).await;
    let mut got = Vec::new();
    for expected in [1000, 1000, 500] {
        let asked = Instant::now();
        let (page, next) = store.follow(&cursor).await.expect("follow");
        assert_eq!(page.len(), expected);
        assert!(asked.elapsed() < Duration::from_millis(500), "took {:?} with a backlog", asked.elapsed());
        got.extend(page);
        cursor = next;
    }
    assert_eq!(got.iter().map(Revocation::encode).collect::<BTreeSet<_>>().len(), 2500, "no repeats");
    assert_eq!(sorted(got), sorted(revocations));
    assert_eq!(store.follow(&cursor).await.expect("follow"), (vec![], cursor.clone()), "then nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_fails_every_call_and_the_same_stores_work_again_after_it() {
    let Some(mut server) = RedisServer::start() else { return };
    let (a, b) = (connect(&server, "app").await, connect(&server, "app").await);
    let (_, start) = a.load(NOW).await.expect("load");
    b.revoke(&ended(1)).await.expect("revoke");
    let (got, cursor) = a.follow(&start).await.expect("follow");
    assert_eq!(got, vec![ended(1)]);

    // A follow waiting in its blocking read when Redis goes away.
    let (follower, from) = (a.clone(), cursor.clone());
    let waiting = tokio::spawn(async move { follower.follow(&from).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let killed = Instant::now();
    server.kill();
    let answer = within(5, "the waiting follow", waiting).await.expect("the following task did not panic");
    assert!(answer.is_err(), "{answer:?}");
    println!("a waiting follow failed {:?} after the kill", killed.elapsed());

    // Every call fails with a StoreError, each within a few seconds.
    let record = session(1, person(1), NOW, NOW + 600);
    let mut slowest = Duration::ZERO;
    for store in [&a, &b] {
        let timed = |started: Instant, slowest: &mut Duration| *slowest = (*slowest).max(started.elapsed());
        let asked = Instant::now();
        assert!(within(3, "load", store.load(NOW)).await.is_err());
        timed(asked, &mut slowest);
        let asked = Instant::now();
        assert!(within(3, "revoke", store.revoke(&ended(2))).await.is_err());
        timed(asked, &mut slowest);
        let asked = Instant::now();
        assert!(within(3, "follow", store.follow(&cursor)).await.is_err());
        timed(asked, &mut slowest);
        let asked = Instant::now();
        assert!(within(3, "session_started", store.session_started(&record)).await.is_err());
        timed(asked, &mut slowest);
        let asked = Instant::now();
        assert!(within(3, "sessions_seen", store.sessions_seen(&[(record.id, NOW, NOW)])).await.is_err());
        timed(asked, &mut slowest);
        let asked = Instant::now();
        assert!(within(3, "sessions", store.sessions(person(1), NOW)).await.is_err());
        timed(asked, &mut slowest);
        let asked = Instant::now();
        assert!(within(3, "prune", store.prune(NOW)).await.is_err());
        timed(asked, &mut slowest);
    }
    println!("during the outage each of 14 calls failed with a StoreError, the slowest in {slowest:?}");

    // Redis back on the same port, empty (nothing was persisted): the same
    // stores reconnect; the caller's retries get through within seconds.
    server.restart();
    let back = Instant::now();
    let mut retries = 0;
    while let Err(error) = within(10, "revoke", b.revoke(&ended(2))).await {
        retries += 1;
        assert!(back.elapsed() < Duration::from_secs(15), "B still fails: {error}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!("B's revoke got through {:?} after the restart ({retries} failed tries)", back.elapsed());
    // A's cursor names an entry of the lost stream: A gets every revocation Redis now has.
    let (got, cursor) = loop {
        match within(10, "follow", a.follow(&cursor)).await {
            Ok(answer) => break answer,
            Err(error) => assert!(back.elapsed() < Duration::from_secs(15), "A still fails: {error}"),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(got, vec![ended(2)]);
    // And follows what is new, as before the outage.
    b.revoke(&ended(3)).await.expect("revoke");
    assert_eq!(a.follow(&cursor).await.expect("follow").0, vec![ended(3)]);
    assert_eq!(sorted(a.load(NOW).await.expect("load").0), sorted(vec![ended(2), ended(3)]));
    a.session_started(&record).await.expect("session_started");
    assert_eq!(b.sessions(person(1), NOW).await.expect("sessions"), vec![record]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_fails_cleanly() {
    let Some(server) = RedisServer::start() else { return };
    let nobody = format!("redis://127.0.0.1:{}", crate::common::proxy::free_port());
    let asked = Instant::now();
    assert!(within(10, "connect", RedisStore::connect(&nobody, "app")).await.is_err());
    assert!(asked.elapsed() < Duration::from_secs(5), "took {:?}", asked.elapsed());
    let error = RedisStore::connect("redis://:secret@127.0.0.1:notaport", "app").await.expect_err("a bad URL");
    assert!(!error.to_string().contains("secret"), "the URL's password is not repeated: {error}");
    assert!(RedisStore::connect("http://127.0.0.1:6380", "app").await.is_err());
    // A database number in the URL is a separate key space.
    let in_db_3 = RedisStore::connect(&format!("{}/3", server.url()), "app").await.expect("connects");
    in_db_3.revoke(&ended(1)).await.expect("revoke");
    assert_eq!(server.keys(), Vec::<String>::new(), "nothing in database 0");
    assert_eq!(connect(&server, "app").await.load(NOW).await.expect("load").0, vec![]);
    assert_eq!(in_db_3.load(NOW).await.expect("load").0, vec![ended(1)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_another_program_wrote_under_the_namespace_is_an_error_not_a_panic() {
    let Some(server) = RedisServer::start() else { return };
    let store = connect(&server, "app").await;
    assert_eq!(server.command(&["ZADD", "app:revocations", "9999999999", "junk"]), Reply::Int(1));
    let error = store.load(NOW).await.expect_err("junk is no revocation");
    assert!(error.to_string().contains("junk"), "{error}");
    assert_eq!(server.command(&["HSET", "app:person:0101010101010101", "0000000000000001", "x"]), Reply::Int(1));
    assert!(store.sessions(person(1), NOW).await.is_err());
    assert_eq!(server.command(&["SET", "app:changes", "a string"]), Reply::Text("OK".into()));
    assert!(within(5, "follow", store.follow(&"0-0".to_string())).await.is_err());
    assert!(store.revoke(&ended(1)).await.is_err());
    assert_eq!(count(&server, &["ZCARD", "app:revocations"]), 1, "the failed revoke kept nothing");
}

/// A small deterministic generator, so a failure can be run again as it was.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_redis_store_answers_as_the_memory_store_does() {
    let Some(server) = RedisServer::start() else { return };
    let both = Both { redis: connect(&server, "app").await, memory: MemoryStore::new() };
    let mut rng = Lcg(20_240_615);
    let mut now = NOW;
    let persons: Vec<PersonKey> = (1..=4).map(person).collect();
    for step in 0..400 {
        now += rng.below(30) as i64;
        let who = persons[rng.below(4) as usize];
        let sid = id(1 + rng.below(40));
        match rng.below(10) {
            0..=3 => {
                let signed_in = now - rng.below(600) as i64;
                let record = SessionRecord {
                    id: sid,
                    person: who,
                    signed_in,
                    last_seen: signed_in,
                    user_agent: format!("agent:{step}"),
                    until: now + rng.below(600) as i64,
                };
                both.started(&record).await;
            }
            4 | 5 => {
                let seen: Vec<(SessionId, i64, i64)> = (0..1 + rng.below(5))
                    .map(|_| (id(1 + rng.below(40)), now - rng.below(60) as i64, now + rng.below(900) as i64))
                    .collect();
                both.seen(&seen).await;
            }
            6 => both.revoke(&Revocation::Session { id: sid, person: who, at: now, until: now + 300 }).await,
            7 => {
                let except = (rng.below(2) == 0).then_some(sid);
                let not_before = now - rng.below(300) as i64;
                both.revoke(&Revocation::Person { person: who, not_before, except, until: now + 300 }).await
            }
            8 => {
                let not_before = now - 200 - rng.below(400) as i64;
                both.revoke(&Revocation::Everyone { not_before, until: now + rng.below(300) as i64 }).await
            }
            _ => both.prune(now).await,
        }
        for &who in &persons {
            both.sessions(who, now).await;
        }
        both.load(now).await;
    }
    assert!(count(&server, &["HLEN", "app:session-person"]) > 0, "the run ended with sessions to compare");
}

/// `Cursor` is a plain string: what follow answers is what it takes next.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cursors_are_stream_ids() {
    let Some(server) = RedisServer::start() else { return };
    let store = connect(&server, "app").await;
    store.revoke(&ended(1)).await.expect("revoke");
    let (_, cursor): (Vec<Revocation>, Cursor) = store.load(NOW).await.expect("load");
    let (ms, seq) = cursor.split_once('-').expect("<ms>-<seq>");
    assert!(ms.parse::<u64>().is_ok() && seq.parse::<u64>().is_ok(), "{cursor}");
}
