//! Many concurrent requests and pings for one session, through real HTTP,
//! against two server instances that share one `secret_key` (the stamp is
//! the only state, so either instance must serve the session).

use std::sync::{Arc, Mutex};

use crate::common::*;
use base64::Engine;
use rocket_session_security::SessionSecurity;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// 64 bytes, so the cookie key is these bytes as they are (no derivation).
fn secret() -> Vec<u8> {
    (0u8..64).map(|i| i.wrapping_mul(37).wrapping_add(11)).collect()
}

struct Answer {
    status: u16,
    set_cookies: Vec<String>,
}

async fn http(port: u16, method: &str, path: &str, cookies: &str, body: &str) -> Answer {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connects");
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    if !cookies.is_empty() {
        request.push_str(&format!("Cookie: {cookies}\r\n"));
    }
    if !body.is_empty() {
        request.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).await.expect("sends");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("reads");
    let text = String::from_utf8_lossy(&raw);
    let head = text.split("\r\n\r\n").next().unwrap_or("");
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let set_cookies = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
        .map(|(_, value)| value.trim().to_string())
        .collect();
    Answer { status, set_cookies }
}

/// The value of cookie `name` among `Set-Cookie` headers.
fn cookie_value(set_cookies: &[String], name: &str) -> Option<String> {
    set_cookies
        .iter()
        .find_map(|c| c.strip_prefix(&format!("{name}=")))
        .map(|rest| rest.split(';').next().unwrap_or("").to_string())
}

/// `(signed_in_at, last_activity)` of a stamp as sent in a header, opened
/// here by the documented format (not by the crate's own code):
/// base64url(nonce ‖ AES-256-GCM ciphertext ‖ tag), the key HKDF-SHA256 of
/// the master key with a fixed info, the cookie name as associated data,
/// plaintext version 5, the sign-in as a big-endian i64, the activity as a
/// big-endian u32 offset from it, the two 8-byte binding tags, the 8-byte
/// session id, the three u32 limits and a reserved 0.
fn open(key: &cookie::Key, sealed: &str) -> (i64, i64) {
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(sealed).expect("base64url, no padding");
    let (nonce, ciphertext) = bytes.split_at(12);
    let mut keys = [0u8; 80];
    hkdf::Hkdf::<sha2::Sha256>::new(None, key.master())
        .expand(b"rocket_session_security stamp v5 AES-256-GCM, SipHash-2-4, HMAC-SHA256", &mut keys)
        .unwrap();
    let cipher = aes_gcm::Aes256Gcm::new_from_slice(&keys[..32]).unwrap();
    let plain = cipher
        .decrypt(aes_gcm::Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: STAMP.as_bytes() })
        .expect("a genuine stamp");
    assert!(plain.len() == 50 && plain[0] == 5 && plain[49] == 0, "version 5: {plain:?}");
    let signed_in = i64::from_be_bytes(plain[1..9].try_into().unwrap());
    let offset = u32::from_be_bytes(plain[9..13].try_into().unwrap());
    (signed_in, signed_in + i64::from(offset))
}

#[derive(Clone)]
struct Session {
    stamp: String,
    user: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_serve_one_session_under_concurrent_load() {
    let secret = secret();
    let key = cookie::Key::from(&secret);
    let encoded = base64::engine::general_purpose::STANDARD.encode(&secret);
    let mut ports = Vec::new();
    let mut stops = Vec::new();
    for _ in 0..2 {
        let figment = settings(vec![]).merge(("secret_key", encoded.clone())).merge(("workers", 2));
        let (port, stop) = serve(app::rocket_with(SessionSecurity::fairing(), figment)).await;
        ports.push(port);
        stops.push(stop);
    }

    let login = http(ports[0], "POST", "/login", "", "username=alice&password=demo&next=/").await;
    assert_eq!(login.status, 303);
    let session = Arc::new(Mutex::new(Session {
        stamp: cookie_value(&login.set_cookies, STAMP).expect("a stamp"),
        user: cookie_value(&login.set_cookies, "user").expect("a user cookie"),
    }));
    let signed_in_at = open(&key, &session.lock().unwrap().stamp).0;

    let mut tasks = Vec::new();
    for task in 0..8usize {
        let (session, key, ports) = (session.clone(), key.clone(), ports.clone());
        tasks.push(tokio::spawn(async move {
            let mut checked = 0;
            for i in 0..40usize {
                // Spread over ~2.5 s so stamps cross whole seconds and get re-issued.
                tokio::time::sleep(std::time::Duration::from_millis(60)).await;
                let sent = session.lock().unwrap().clone();
                let cookies = format!("{STAMP}={}; user={}", sent.stamp, sent.user);
                let port = ports[(task + i) % 2];
                let (method, path) = match (task + i) % 4 {
                    0 => ("GET", "/".to_string()),
                    1 => ("GET", "/poll".to_string()),
                    2 => ("POST", format!("/session-security/ping?idle_for={}", i % 3)),
                    _ => ("GET", "/public".to_string()),
                };
                let answer = http(port, method, &path, &cookies, "").await;
                assert_eq!(answer.status, 200, "{method} {path} on {port}");
                let sent_stamp = open(&key, &sent.stamp);
                if let Some(value) = cookie_value(&answer.set_cookies, STAMP) {
                    let got = open(&key, &value);
                    assert_eq!(got.0, sent_stamp.0, "the sign-in time never changes");
                    assert!(got.1 >= sent_stamp.1, "{method} {path}: stamp went back from {sent_stamp:?} to {got:?}");
                    checked += 1;
                    let mut latest = session.lock().unwrap();
                    if got.1 > open(&key, &latest.stamp).1 {
                        latest.stamp = value;
                    }
                }
            }
            checked
        }));
    }
    let mut reissued = 0;
    for task in tasks {
        reissued += task.await.expect("no task panicked");
    }
    let final_stamp = open(&key, &session.lock().unwrap().stamp);
    assert_eq!(final_stamp.0, signed_in_at);
    assert!(final_stamp.1 > signed_in_at && reissued > 0, "the load crossed seconds: {final_stamp:?}, {reissued}");
    println!("320 concurrent requests on 2 instances; {reissued} re-issued stamps, none older than the request's");
    for stop in stops {
        stop.notify();
    }
}
