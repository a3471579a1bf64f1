//! nginx in front of the demo, as people deploy it: started by the tests on
//! 127.0.0.1 from a generated configuration, in the foreground, as one
//! process the test owns and stops by its process id. Also a certificate
//! made at test time (openssl) and a raw HTTP/1.1 client (plain or TLS) that
//! shows exactly what crosses the proxy.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::which;

/// How nginx forwards to the app: the set-ups the issue names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setup {
    /// (a) `proxy_pass http://127.0.0.1:PORT;` and nothing else: the app sees
    /// `Host: 127.0.0.1:PORT`, never the public host.
    BareProxyPass { upstream: u16 },
    /// (b) `proxy_set_header Host $host;` on a non-default port: `Host`
    /// without the port.
    HostWithoutPort { upstream: u16 },
    /// (c) TLS terminated at nginx, which sends `X-Forwarded-Host`,
    /// `X-Forwarded-Proto` and `X-Forwarded-Port` (the app lists nginx in
    /// `trusted_proxies`).
    TlsTermination { upstream: u16 },
    /// (d) `upstream app { server …; server …; }`, round robin: `Host: app`.
    RoundRobin { upstreams: Vec<u16> },
    /// (a) with the browser's Fetch Metadata removed: what an older browser
    /// sends behind a bare `proxy_pass`, and an app with neither
    /// `trusted_proxies` nor `public_origins` refuses every ping.
    OlderBrowserBehindBareProxyPass { upstream: u16 },
}

impl Setup {
    pub fn tls(&self) -> bool {
        matches!(self, Setup::TlsTermination { .. })
    }

    /// The `http { … }` body for this set-up, listening on `port`.
    pub fn http_block(&self, port: u16, certs: Option<&Certificates>) -> String {
        let (upstream_block, pass, extra, listen) = match self {
            Setup::BareProxyPass { upstream } => (String::new(), format!("http://127.0.0.1:{upstream}"), "", ""),
            Setup::HostWithoutPort { upstream } => {
                (String::new(), format!("http://127.0.0.1:{upstream}"), "proxy_set_header Host $host;", "")
            }
            Setup::TlsTermination { upstream } => (
                String::new(),
                format!("http://127.0.0.1:{upstream}"),
                "proxy_set_header X-Forwarded-Host $host;\n      \
                 proxy_set_header X-Forwarded-Proto $scheme;\n      \
                 proxy_set_header X-Forwarded-Port $server_port;",
                " ssl",
            ),
            Setup::OlderBrowserBehindBareProxyPass { upstream } => (
                String::new(),
                format!("http://127.0.0.1:{upstream}"),
                "proxy_set_header Sec-Fetch-Site \"\";\n      proxy_set_header Sec-Fetch-Mode \"\";\n      \
                 proxy_set_header Sec-Fetch-Dest \"\";",
                "",
            ),
            Setup::RoundRobin { upstreams } => {
                let servers: String = upstreams.iter().map(|p| format!("    server 127.0.0.1:{p};\n")).collect();
                (format!("  upstream app {{\n{servers}  }}\n"), "http://app".to_string(), "", "")
            }
        };
        let tls = match certs {
            Some(c) => format!(
                "    ssl_certificate {};\n    ssl_certificate_key {};\n",
                c.leaf_cert.display(),
                c.leaf_key.display()
            ),
            None => String::new(),
        };
        format!(
            "{upstream_block}  server {{\n    listen 127.0.0.1:{port}{listen};\n{tls}    location / {{\n      \
             proxy_pass {pass};\n      {extra}\n    }}\n  }}\n"
        )
    }
}

/// A CA and a leaf certificate for 127.0.0.1 and localhost, made by openssl.
pub struct Certificates {
    pub ca_cert: PathBuf,
    pub leaf_cert: PathBuf,
    pub leaf_key: PathBuf,
}

impl Certificates {
    pub fn make(dir: &Path) -> Certificates {
        let path = |name: &str| dir.join(name);
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl runs");
            assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        };
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
        openssl(
            &[
                &["req", "-x509"][..],
                &ec,
                &["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=rss test CA"],
            ]
            .concat(),
        );
        openssl(&[&["req"][..], &ec, &["-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=127.0.0.1"]].concat());
        std::fs::write(
            path("leaf.ext"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
        )
        .expect("writable");
        openssl(&[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "leaf.pem",
            "-days",
            "2",
            "-extfile",
            "leaf.ext",
        ]);
        Certificates { ca_cert: path("ca.pem"), leaf_cert: path("leaf.pem"), leaf_key: path("leaf.key") }
    }
}

/// Whether nginx and openssl are installed. Without them the proxy tests
/// are skipped with a `SKIPPED:` line, except under `CI`, where they fail.
/// Whether nginx and openssl are there (no message either way).
pub fn installed() -> bool {
    missing().is_empty()
}

fn missing() -> Vec<&'static str> {
    ["nginx", "openssl"].into_iter().filter(|p| which(p).is_none()).collect()
}

pub fn available() -> bool {
    let missing = missing();
    if missing.is_empty() {
        return true;
    }
    super::skipped_without("the tests through nginx", &format!("{missing:?}"), "apt-get install nginx-light openssl");
    false
}

/// A running nginx; stopped (by its process id) and its directory removed on drop.
pub struct Nginx {
    child: Child,
    pub port: u16,
    pub setup: Setup,
    pub certs: Option<Certificates>,
    dir: PathBuf,
}

impl Nginx {
    /// Starts nginx for `setup` on a free port of 127.0.0.1 and waits until it listens.
    pub fn start(setup: Setup) -> Nginx {
        Nginx::start_on(setup, free_port())
    }

    /// The same on `port` (for an app told its public origin beforehand).
    pub fn start_on(setup: Setup, port: u16) -> Nginx {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("rss-nginx-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a directory for nginx");
        let certs = setup.tls().then(|| Certificates::make(&dir));
        let d = dir.display();
        let config = format!(
            "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n  access_log {d}/access.log;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  \
             fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n{}}}\n",
            setup.http_block(port, certs.as_ref())
        );
        std::fs::write(dir.join("nginx.conf"), &config).expect("nginx.conf written");
        let nginx = which("nginx").expect("nginx is installed (check `available()` first)");
        let mut child = Command::new(nginx)
            .args(["-p", &format!("{d}/"), "-e", &format!("{d}/error.log"), "-c", &format!("{d}/nginx.conf")])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("nginx starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
                panic!("nginx exited ({status}) with\n{config}\n{log}");
            }
            assert!(Instant::now() < deadline, "nginx did not listen on {port} within 10 s");
            std::thread::sleep(Duration::from_millis(20));
        }
        Nginx { child, port, setup, certs, dir }
    }

    /// The public origin: what the browser's address bar shows.
    pub fn origin(&self) -> String {
        let scheme = if self.setup.tls() { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin())
    }

    /// What nginx logged (for a failing test's message).
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }

    /// Sends one request through nginx (`Connection: close`) and reads the whole answer.
    pub async fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n", self.port);
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if !body.is_empty() || method == "POST" {
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        let request = format!("{head}\r\n{body}");
        if self.certs.is_none() {
            return send_raw(self.port, &request).await;
        }
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.expect("nginx accepts");
        let raw = match &self.certs {
            None => exchange(tcp, &request).await,
            Some(certs) => {
                let connector = tls_connector(&certs.ca_cert);
                let name = rustls_pki_types::ServerName::try_from("127.0.0.1").expect("a server name");
                let tls = connector.connect(name, tcp).await.expect("a TLS handshake with nginx");
                exchange(tls, &request).await
            }
        };
        Answer::parse(&raw).unwrap_or_else(|| panic!("an HTTP answer, got {raw:?}; nginx: {}", self.error_log()))
    }
}

/// Sends one raw HTTP/1.1 request (with `Connection: close`) to `port` on 127.0.0.1 and reads the answer.
pub async fn send_raw(port: u16, request: &str) -> Answer {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("the server accepts");
    let raw = exchange(tcp, request).await;
    Answer::parse(&raw).unwrap_or_else(|| panic!("an HTTP answer, got {raw:?}"))
}

/// A `POST` of nothing to `path` on `port`, with a `Cookie` header.
pub async fn post_with_cookies(port: u16, path: &str, cookie: &str) -> Answer {
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: 0\r\nCookie: {cookie}\r\n\r\n"
    );
    send_raw(port, &request).await
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn exchange(mut stream: impl AsyncRead + AsyncWrite + Unpin, request: &str) -> String {
    stream.write_all(request.as_bytes()).await.expect("the request is sent");
    let mut raw = Vec::new();
    // nginx closes after the answer (Connection: close); a TLS close_notify may be missing.
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut raw)).await;
    String::from_utf8_lossy(&raw).into_owned()
}

fn tls_connector(ca: &Path) -> tokio_rustls::TlsConnector {
    use rustls_pki_types::pem::PemObject;
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    for cert in rustls_pki_types::CertificateDer::pem_file_iter(ca).expect("the CA file") {
        roots.add(cert.expect("a PEM certificate")).expect("a usable CA");
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// An HTTP answer as it crossed the proxy.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    fn parse(raw: &str) -> Option<Answer> {
        let (head, body) = raw.split_once("\r\n\r\n")?;
        let mut lines = head.split("\r\n");
        let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
            .collect();
        let chunked = headers.iter().any(|(n, v)| n.eq_ignore_ascii_case("Transfer-Encoding") && v.contains("chunked"));
        let body = if chunked { dechunk(body)? } else { body.to_string() };
        Some(Answer { status, headers, body })
    }

    /// Every value of header `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect()
    }

    /// The `Set-Cookie` for `name`, if any.
    pub fn set_cookie(&self, name: &str) -> Option<&str> {
        self.all("Set-Cookie").into_iter().find(|c| c.starts_with(&format!("{name}=")))
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("JSON from {:?}: {e}", self.body))
    }
}

fn dechunk(mut body: &str) -> Option<String> {
    let mut out = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n")?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        if size == 0 {
            return Some(out);
        }
        out.push_str(rest.get(..size)?);
        body = rest.get(size + 2..)?;
    }
}

/// A cookie jar of one: the `name=value` pairs a browser would send back.
#[derive(Debug, Default, Clone)]
pub struct Jar(Vec<(String, String)>);

impl Jar {
    /// Takes the answer's `Set-Cookie` headers (a removal deletes).
    pub fn take(&mut self, answer: &Answer) {
        for set in answer.all("Set-Cookie") {
            let pair = set.split(';').next().unwrap_or_default();
            let Some((name, value)) = pair.split_once('=') else { continue };
            self.0.retain(|(n, _)| n != name);
            if !set.contains("Max-Age=0") {
                self.0.push((name.to_string(), value.to_string()));
            }
        }
    }

    pub fn names(&self) -> Vec<&str> {
        self.0.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// The `Cookie` header.
    pub fn header(&self) -> String {
        self.0.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ")
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}
