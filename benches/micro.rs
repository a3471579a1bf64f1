//! Micro-benchmarks of the per-request pieces, without a benchmark framework
//! (it would cost more to build than the crate):
//!
//! ```sh
//! cargo bench --features __internals --bench micro
//! cargo bench --features __internals --bench micro -- open   # only names containing "open"
//! ```
//!
//! Each benchmark is calibrated to about 20 ms per sample, warmed up, then
//! timed over 15 samples; the line printed is the median, `<name>: <ns> ns/call`.
//! Compare runs on the same machine only, and only differences well above the
//! spread between runs.

use std::hint::black_box;
use std::time::{Duration, Instant};

use rocket_session_security::__internals::{
    classify, parse_idle_for, Binder, Login, LoginValues, Stamp, StampCodec, StampCookie, StampError, MAX_LOGIN_COOKIES,
};
use rocket_session_security::{safe_next, Timeouts};

const SAMPLES: usize = 15;
const SAMPLE_TIME: Duration = Duration::from_millis(20);
const WARM_UP: Duration = Duration::from_millis(200);

/// Runs `f` in batches of `iters` calls; returns the wall time of one batch.
fn time_batch<R>(f: &mut impl FnMut() -> R, iters: u64) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        black_box(f());
    }
    start.elapsed()
}

/// Median ns per call of `f` over `SAMPLES` samples of about `SAMPLE_TIME`.
fn measure<R>(mut f: impl FnMut() -> R) -> f64 {
    // Warm up while finding a batch size that takes about SAMPLE_TIME.
    let mut iters = 1u64;
    let warm_until = Instant::now() + WARM_UP;
    loop {
        let took = time_batch(&mut f, iters);
        if took >= SAMPLE_TIME / 4 && Instant::now() >= warm_until {
            let per_call = took.as_secs_f64() / iters as f64;
            iters = ((SAMPLE_TIME.as_secs_f64() / per_call) as u64).max(1);
            break;
        }
        if took < SAMPLE_TIME / 4 {
            iters *= 2;
        }
    }
    let mut samples: Vec<f64> =
        (0..SAMPLES).map(|_| time_batch(&mut f, iters).as_secs_f64() * 1e9 / iters as f64).collect();
    samples.sort_by(f64::total_cmp);
    samples[SAMPLES / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument filters by name.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    let run = |name: &str, f: &mut dyn FnMut() -> f64| {
        if filter.as_deref().is_none_or(|want| name.contains(want)) {
            println!("{name}: {:.1} ns/call", f());
        }
    };

    let codec = StampCodec::new(&cookie::Key::from(&[7u8; 64]), "session_security");
    let now = 1_764_000_000_i64;
    let timeouts = Timeouts { warn_after: 540, expire_after: 600, absolute_timeout: 43_200 };
    let stamp = Stamp {
        signed_in_at: now - 3_600,
        last_activity: now - 42,
        login_tag: [3; 8],
        person_tag: [4; 8],
        session_id: 5,
        timeouts,
    };
    let sealed = codec.seal(stamp);
    assert_eq!(codec.open(&sealed), Ok(stamp));
    // Decodes to the right length but is not authentic: the cost of a forged cookie.
    let forged = {
        let mut bytes: Vec<u8> = sealed.bytes().collect();
        bytes[20] = if bytes[20] == b'A' { b'B' } else { b'A' };
        String::from_utf8(bytes).unwrap()
    };
    assert_eq!(codec.open(&forged), Err(StampError::Unauthentic));
    // Not base64 at all.
    let garbage = "not a stamp: %%% ;;; ~~~ 0123456789abcdefghijklmnopqrstuvwxyz";
    assert_eq!(codec.open(garbage), Err(StampError::Malformed));
    assert!(matches!(
        classify(StampCookie::Present(stamp), Login::Bound, now, &timeouts),
        rocket_session_security::__internals::Verdict::Active { idle: 42, .. }
    ));
    let next = "/reports/2026/q3?year=2026&customer=caf%C3%A9&sort=-date";
    assert_eq!(safe_next(next), Some(next));
    assert_eq!(parse_idle_for(Some("idle_for=42")), Ok(Some(42)));

    // The codec remembers its last stamps: "remembered" is the same stamp or value again (a
    // browser's next request), "fresh" one it has not seen lately (AES-GCM every time).
    run("seal_remembered", &mut || measure(|| codec.seal(black_box(stamp))));
    run("seal_encoded_remembered", &mut || measure(|| codec.seal_encoded(black_box(stamp))));
    let mut later = 0;
    run("seal_encoded_fresh", &mut || {
        measure(|| {
            later += 1;
            let mut fresh = stamp;
            fresh.last_activity += later % 1_000_000;
            codec.seal_encoded(black_box(fresh))
        })
    });
    run("open_valid_remembered", &mut || measure(|| codec.open(black_box(sealed.as_str()))));
    // 1,024 values round-robin over 64 slots: each slot holds another value when its turn comes.
    let values: Vec<String> = (0..1_024)
        .map(|n| {
            let mut other = stamp;
            other.last_activity = now + n;
            codec.seal(other)
        })
        .collect();
    let mut turn = 0;
    run("open_valid_fresh", &mut || {
        measure(|| {
            turn = (turn + 1) % values.len();
            codec.open(black_box(values[turn].as_str()))
        })
    });
    run("open_garbage", &mut || measure(|| codec.open(black_box(garbage))));
    run("open_forged", &mut || measure(|| codec.open(black_box(forged.as_str()))));
    run("classify", &mut || {
        measure(|| classify(black_box(StampCookie::Present(stamp)), black_box(Login::Bound), black_box(now), &timeouts))
    });
    // The per-request binding check: one SipHash of a private login cookie as sent (Rocket's
    // format, 12-byte nonce + "42" + 16-byte tag in standard base64).
    let binder = Binder::new(&[5; 16], &[6; 32], "session_security /session-security");
    let mut login: LoginValues<'_> = [None; MAX_LOGIN_COOKIES];
    login[0] = Some("R5pGbhvMQbSAXO3kfRTq2dT6m3JgJ6UzEeZ9Ymv5s+w4QkE=");
    run("login_tag", &mut || measure(|| binder.login_tag(black_box(&login))));
    run("parse_idle_for", &mut || measure(|| parse_idle_for(black_box(Some("idle_for=42")))));
    run("safe_next", &mut || measure(|| safe_next(black_box(next)).is_some()));
    revocation_check(&run);
}

/// Resident memory of this process, in bytes (Linux: /proc/self/statm).
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// The per-request revocation check with 1,000,000 revoked sessions (and
/// 10,000 persons' not-before) held, and what the set costs in memory.
fn revocation_check(run: &dyn Fn(&str, &mut dyn FnMut() -> f64)) {
    use rocket_session_security::{PersonKey, Revocation, RevocationSet, SessionId};
    const ENTRIES: u64 = 1_000_000;
    let before = resident_bytes();
    let set = RevocationSet::default();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut random = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let revoked: Vec<u64> = (0..ENTRIES).map(|_| random()).collect();
    let person = PersonKey::from_bytes([9; 8]);
    for &id in &revoked {
        set.apply(&Revocation::Session { id: SessionId::from_u64(id), person, at: 0, until: 1_000 });
    }
    for n in 0..10_000u64 {
        let person = PersonKey::from_bytes(n.to_be_bytes());
        set.apply(&Revocation::Person { person, not_before: 100, except: None, until: 1_000 });
    }
    let after = resident_bytes();
    if let (Some(before), Some(after)) = (before, after) {
        println!(
            "revocation_set_memory: {:.1} MB for {} entries (target <= 64 MB; the benchmark's own id list of 8 MB excluded)",
            after.saturating_sub(before).saturating_sub(ENTRIES * 8) as f64 / 1e6,
            set.len()
        );
    }
    let hit = SessionId::from_u64(revoked[ENTRIES as usize / 2]);
    let miss = SessionId::from_u64(random());
    let stranger = PersonKey::from_bytes([0xee; 8]);
    assert!(set.is_revoked(hit, stranger, 500) && !set.is_revoked(miss, stranger, 500));
    run("revocation_check_miss_1m", &mut || measure(|| set.is_revoked(black_box(miss), black_box(stranger), 500)));
    run("revocation_check_hit_1m", &mut || measure(|| set.is_revoked(black_box(hit), black_box(stranger), 500)));
    let empty = RevocationSet::default();
    run("revocation_check_empty", &mut || measure(|| empty.is_revoked(black_box(miss), black_box(stranger), 500)));
}
