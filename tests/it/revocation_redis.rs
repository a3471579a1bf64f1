//! The demo as several instances would run it: three of them on one real
//! redis-server (`revocations = "redis://…"`, as `ROCKET_SESSION_SECURITY`
//! sets it), behind nginx's round robin; Redis killed and restarted mid-test.
#![cfg(feature = "redis")]

use std::time::{Duration, Instant};

use crate::common::proxy::{self, post_with_cookies, send_raw, Answer, Jar, Nginx, Setup};
use crate::common::redis::RedisServer;
use crate::common::{app, serve, settings};
use rocket_session_security::SessionSecurity;

/// A demo instance whose store is Redis at `url`, named by the setting as an operator would.
async fn instance(url: &str) -> (u16, rocket::Shutdown) {
    serve(app::rocket_with(SessionSecurity::fairing(), settings(vec![("revocations", url.into())]))).await
}

async fn page(port: u16, cookie: &str) -> u16 {
    let request = format!(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nAccept: text/html\r\nCookie: {cookie}\r\n\r\n"
    );
    send_raw(port, &request).await.status
}

async fn sign_in(port: u16) -> String {
    let body = "username=alice&password=demo";
    let request = format!(
        "POST /login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let answer: Answer = send_raw(port, &request).await;
    assert_eq!(answer.status, 303);
    let mut jar = Jar::default();
    jar.take(&answer);
    jar.header()
}

/// How long until every port refuses `cookie` (303 to the login page).
async fn until_refused_everywhere(ports: &[u16], cookie: &str, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        let mut all = true;
        for &port in ports {
            all &= page(port, cookie).await == 303;
        }
        if all {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_on_one_redis_enforce_a_sign_out_within_a_second() {
    let Some(redis) = RedisServer::start() else { return };
    let url = redis.url();
    let (a, stop_a) = instance(&url).await;
    let (b, stop_b) = instance(&url).await;
    let (c, stop_c) = instance(&url).await;
    let cookie = sign_in(a).await;
    let other = sign_in(b).await;
    for port in [a, b, c] {
        assert_eq!(page(port, &cookie).await, 200, "one session, any instance");
    }
    assert_eq!(post_with_cookies(b, "/logout", &cookie).await.status, 303);
    let took = until_refused_everywhere(&[a, c], &cookie, Duration::from_secs(3)).await.expect("refused everywhere");
    println!("revocation on one instance refused by the two others through Redis after {} ms", took.as_millis());
    assert!(took < Duration::from_secs(1), "{took:?}");
    assert_eq!(page(c, &other).await, 200, "another session is untouched");

    // Behind the round robin as well.
    if proxy::available() {
        let nginx = Nginx::start(Setup::RoundRobin { upstreams: vec![a, b, c] });
        let fresh = sign_in(a).await;
        let headers = [("Cookie", fresh.as_str()), ("Accept", "text/html")];
        assert_eq!(nginx.send("GET", "/", &headers, "").await.status, 200);
        assert_eq!(nginx.send("POST", "/logout", &[("Cookie", fresh.as_str())], "").await.status, 303);
        // Within the second the issue allows, every instance knows.
        tokio::time::sleep(Duration::from_secs(1)).await;
        for _ in 0..3 {
            assert_eq!(nginx.send("GET", "/", &headers, "").await.status, 303, "every instance through nginx");
        }
    }
    for stop in [stop_a, stop_b, stop_c] {
        stop.notify();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_out_while_redis_is_down_is_kept_and_reaches_the_others_when_it_is_back() {
    let Some(mut redis) = RedisServer::start() else { return };
    let url = redis.url();
    let (a, stop_a) = instance(&url).await;
    let (b, stop_b) = instance(&url).await;
    let cookie = sign_in(a).await;
    assert_eq!(page(b, &cookie).await, 200);
    redis.kill();
    // Requests never wait for the store: both still answer at once.
    let start = Instant::now();
    assert_eq!(page(b, &cookie).await, 200);
    assert!(start.elapsed() < Duration::from_secs(1), "no I/O on the request path: {:?}", start.elapsed());
    assert_eq!(post_with_cookies(a, "/logout", &cookie).await.status, 303);
    assert_eq!(page(a, &cookie).await, 303, "enforced at once where it happened");
    redis.restart();
    let took = until_refused_everywhere(&[a, b], &cookie, Duration::from_secs(45))
        .await
        .expect("the revocation reaches the other instance once Redis is back: nothing lost");
    println!("after Redis came back, the kept revocation was enforced everywhere in {} ms", took.as_millis());
    stop_a.notify();
    stop_b.notify();

    // An instance started afterwards loads it from Redis.
    let (late, stop_late) = instance(&url).await;
    assert_eq!(page(late, &cookie).await, 303);
    stop_late.notify();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_that_cannot_reach_redis_at_launch_does_not_serve() {
    let Some(mut redis) = RedisServer::start() else { return };
    let url = redis.url();
    redis.kill();
    let rocket = app::rocket_with(
        SessionSecurity::fairing(),
        settings(vec![("revocations", url.into()), ("revocations_wait", 2.into())]),
    );
    let started = Instant::now();
    let error = rocket.ignite().await.err().map(|e| format!("{:?}", e.kind()));
    assert!(error.is_some_and(|e| e.contains("FailedFairings")), "the launch fails");
    assert!(started.elapsed() < Duration::from_secs(10), "within the bounded wait: {:?}", started.elapsed());
}
