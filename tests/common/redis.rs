//! A real redis-server for the store tests: started on a free port of
//! 127.0.0.1 in a directory of its own, without persistence, as one process
//! the test owns and stops by its process id. Also a raw client of a few
//! lines, so a test can look at the keys themselves.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A running redis-server; killed (by its process id) and its directory
/// removed on drop.
pub struct RedisServer {
    child: Option<Child>,
    pub port: u16,
    program: PathBuf,
    dir: PathBuf,
}

/// One answer of Redis, as the raw client reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Nil,
    Int(i64),
    Text(String),
    Error(String),
    Array(Vec<Reply>),
}

impl Reply {
    pub fn int(&self) -> i64 {
        match self {
            Reply::Int(n) => *n,
            other => panic!("an integer, got {other:?}"),
        }
    }

    /// The texts of an array answer.
    pub fn texts(&self) -> Vec<String> {
        match self {
            Reply::Array(items) => items
                .iter()
                .map(|item| match item {
                    Reply::Text(text) => text.clone(),
                    other => panic!("a text, got {other:?}"),
                })
                .collect(),
            other => panic!("an array, got {other:?}"),
        }
    }
}

impl RedisServer {
    /// Starts one and waits until it answers. Where redis-server is not
    /// installed: `None`, after a `SKIPPED:` line on stdout, except under
    /// `CI`, where that fails the test.
    pub fn start() -> Option<RedisServer> {
        let Some(program) = super::which("redis-server") else {
            super::skipped_without("the Redis store tests", "redis-server", "apt-get install redis-server");
            return None;
        };
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("rss-redis-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a directory for redis-server");
        // A port found free may be taken by the time redis binds it: try a few.
        for attempt in 1..=3 {
            let mut server = RedisServer {
                child: None,
                port: super::proxy::free_port(),
                program: program.clone(),
                dir: dir.clone(),
            };
            match server.spawn() {
                Ok(()) => return Some(server),
                Err(log) if attempt == 3 => panic!("redis-server did not start: {log}"),
                Err(_) => continue,
            }
        }
        unreachable!("the third attempt panics or returns")
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server (an outage); [`restart`](Self::restart) brings it back.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills the server if it runs and starts it again on the same port,
    /// empty (nothing is persisted), waiting until it answers.
    pub fn restart(&mut self) {
        self.kill();
        // The port was just released; give the kernel a few tries.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.spawn() {
                Ok(()) => return,
                Err(log) if Instant::now() > deadline => panic!("redis-server did not start again: {log}"),
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    fn spawn(&mut self) -> Result<(), String> {
        let log_path = self.dir.join("redis.log");
        let log = std::fs::File::create(&log_path).expect("a log file");
        let port = self.port.to_string();
        let dir = self.dir.to_string_lossy().into_owned();
        let mut child = Command::new(&self.program)
            .args(["--port", &port, "--bind", "127.0.0.1", "--dir", &dir, "--save", "", "--appendonly", "no"])
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server runs");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("exited ({status}): {}", std::fs::read_to_string(&log_path).unwrap_or_default()));
            }
            if ping(self.port) {
                self.child = Some(child);
                return Ok(());
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("no PONG on {port} within 10 s"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends one command and reads its answer.
    pub fn command(&self, args: &[&str]) -> Reply {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("redis-server accepts");
        stream.set_read_timeout(Some(Duration::from_secs(5))).expect("a read timeout");
        stream.write_all(&encode(args)).expect("the command is sent");
        read_reply(&mut BufReader::new(stream)).unwrap_or_else(|e| panic!("an answer to {args:?}: {e}"))
    }

    /// Every key, sorted.
    pub fn keys(&self) -> Vec<String> {
        let mut keys = self.command(&["KEYS", "*"]).texts();
        keys.sort();
        keys
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    if stream.write_all(&encode(&["PING"])).is_err() {
        return false;
    }
    matches!(read_reply(&mut BufReader::new(stream)), Ok(Reply::Text(pong)) if pong == "PONG")
}

fn encode(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn read_reply(reader: &mut impl BufRead) -> Result<Reply, String> {
    let mut line = String::new();
    reader.read_line(&mut line).map_err(|e| e.to_string())?;
    let line = line.strip_suffix("\r\n").ok_or_else(|| format!("a RESP line, got {line:?}"))?;
    let (kind, rest) = line.split_at_checked(1).ok_or("an empty line")?;
    let number = || rest.parse::<i64>().map_err(|e| format!("{rest:?}: {e}"));
    match kind {
        "+" => Ok(Reply::Text(rest.to_string())),
        "-" => Ok(Reply::Error(rest.to_string())),
        ":" => Ok(Reply::Int(number()?)),
        "$" => match number()? {
            -1 => Ok(Reply::Nil),
            len => {
                let mut bytes = vec![0; len as usize + 2];
                reader.read_exact(&mut bytes).map_err(|e| e.to_string())?;
                bytes.truncate(len as usize);
                Ok(Reply::Text(String::from_utf8_lossy(&bytes).into_owned()))
            }
        },
        "*" => match number()? {
            -1 => Ok(Reply::Nil),
            len => (0..len).map(|_| read_reply(reader)).collect::<Result<_, _>>().map(Reply::Array),
        },
        _ => Err(format!("an unknown answer {line:?}")),
    }
}
