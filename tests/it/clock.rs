//! Time: a clock that jumps back and forth never lets a session outlive its
//! limits, and an old stamp replayed later gets no more than its own
//! timestamps allow.

use crate::common::*;
use proptest::prelude::*;
use rocket::http::{Cookie, Status};
use rocket::local::blocking::Client;

#[derive(Debug, Clone)]
enum Step {
    Jump(i64),
    Page,
    Poll,
    Ping(u32),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![(-40i64..40).prop_map(Step::Jump), Just(Step::Page), Just(Step::Poll), (0u32..30).prop_map(Step::Ping),]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    /// A model of the rules, written apart from the crate: activity is the
    /// latest stamp the server wrote; a page counts, a ping may move it to
    /// `now - idle_for`, `/poll` is passive. Every 200 from a guarded route
    /// must be within E of that activity and within the absolute limit of
    /// the sign-in, on the clock as it stands.
    #[test]
    fn jumping_clocks_never_extend_a_session(steps in proptest::collection::vec(step(), 1..40)) {
        const E: i64 = 10;
        const ABSOLUTE: i64 = 60;
        let (client, clock) = signed_in(vec![("absolute_timeout", (ABSOLUTE as u32).into())]);
        let signed_in_at = START;
        let mut activity = START;
        let mut alive = true;
        for step in steps {
            let now = rocket_session_security::Clock::now_unix(&clock);
            let res = match step {
                Step::Jump(seconds) => { clock.advance(seconds); continue; }
                Step::Page => client.get("/").header(json_header()).dispatch(),
                Step::Poll => client.get("/poll").header(json_header()).dispatch(),
                Step::Ping(idle) => client.post(format!("/session-security/ping?idle_for={idle}")).dispatch(),
            };
            let within = now - activity < E && now - signed_in_at < ABSOLUTE;
            let ok = res.status() == Status::Ok;
            if ok {
                prop_assert!(alive, "a session came back after it ended ({step:?} at {now})");
                prop_assert!(within, "{step:?} at {now}: activity {activity}, signed in {signed_in_at}");
            } else {
                prop_assert_eq!(res.status(), Status::Unauthorized);
                prop_assert!(!within || !alive, "{:?} at {} refused while within limits", step, now);
                alive = false;
            }
            if let Some((_, last)) = stamp_of(&client, &res) {
                prop_assert!(last <= now, "a stamp in the future: {last} > {now}");
                prop_assert!(last > activity, "the stamp went back: {last} after {activity}");
                activity = last;
            }
        }
    }
}

#[test]
fn a_replayed_stamp_lives_no_longer_than_its_own_timestamps() {
    let (client, clock) = signed_in(vec![("absolute_timeout", 30.into())]);
    clock.advance(3);
    client.get("/").dispatch();
    // An attacker copies the cookies now (last activity = START + 3) ...
    let stolen: Vec<Cookie<'static>> = client.cookies().iter().cloned().collect();
    let replay = |client: &Client| {
        let mut req = client.get("/").header(json_header());
        for cookie in &stolen {
            req = req.cookie(cookie.clone());
        }
        req.dispatch().status()
    };
    // ... and the owner signs out.
    clock.advance(1);
    client.post("/logout").dispatch();
    let attacker = Client::untracked(app::rocket_with(
        rocket_session_security::SessionSecurity::fairing().clock(clock.clone()),
        settings(vec![("absolute_timeout", 30.into())]),
    ))
    .unwrap();
    // Stateless by design: without server-side storage, the copy works until
    // its own idle deadline (SECURITY.md says so) ...
    clock.advance(5);
    assert_eq!(replay(&attacker), Status::Ok, "within E of the copied activity");
    // ... and not a second past it: replaying never refreshes the copy itself.
    clock.set(START + 3 + 10);
    assert_eq!(replay(&attacker), Status::Unauthorized);

    // A copy kept alive by replays still dies at the absolute limit.
    let (client, clock) = signed_in(vec![("absolute_timeout", 30.into())]);
    let mut cookies: Vec<Cookie<'static>> = client.cookies().iter().cloned().collect();
    for _ in 0..3 {
        clock.advance(9);
        let mut req = client.get("/").header(json_header());
        for cookie in &cookies {
            req = req.cookie(cookie.clone());
        }
        let res = req.dispatch();
        assert_eq!(res.status(), Status::Ok);
        if let Some(fresh) = res.cookies().get(STAMP) {
            cookies.retain(|c| c.name() != STAMP);
            cookies.push(fresh.clone().into_owned());
        }
    }
    clock.advance(3);
    let mut req = client.get("/").header(json_header());
    for cookie in &cookies {
        req = req.cookie(cookie.clone());
    }
    assert_eq!(req.dispatch().status(), Status::Unauthorized, "30 s after sign-in, whatever the activity");
}

#[test]
fn a_clock_far_behind_or_ahead_never_panics() {
    let (client, clock) = signed_in(vec![]);
    for jump in [i64::MIN / 2, i64::MAX / 2, -START, START, 0] {
        clock.set(jump);
        let res = client.get("/").header(json_header()).dispatch();
        assert!(res.status().code < 500, "clock at {jump}");
        let res = client.post("/session-security/ping?idle_for=4294967295").dispatch();
        assert!(res.status().code < 500, "clock at {jump}");
    }
}
