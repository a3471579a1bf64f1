//! The embedded default store: one SQLite database file (WAL mode), so
//! revocations and the sessions list survive a restart, and processes on
//! one host may share the file. SQLite calls block, so each runs on Tokio's
//! blocking pool, never on a request's task.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};

use super::{Cursor, PersonKey, Revocation, RevocationStore, SessionId, SessionRecord, StoreError};

/// Where the embedded store is kept when `revocations` is unset: in the
/// working directory of the app.
pub const DEFAULT_PATH: &str = "session_security.sqlite3";

const SCHEMA: &str = "
    PRAGMA journal_mode = WAL;
    PRAGMA synchronous = NORMAL;
    CREATE TABLE IF NOT EXISTS revocations (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        revocation TEXT    NOT NULL UNIQUE,
        until      INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS revocations_until ON revocations (until);
    CREATE TABLE IF NOT EXISTS sessions (
        id         INTEGER PRIMARY KEY,
        person     BLOB    NOT NULL,
        signed_in  INTEGER NOT NULL,
        last_seen  INTEGER NOT NULL,
        user_agent TEXT    NOT NULL,
        until      INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS sessions_person ON sessions (person, signed_in);
    CREATE INDEX IF NOT EXISTS sessions_until ON sessions (until);
";

/// The embedded [`RevocationStore`]: a SQLite database file.
///
/// ```
/// use rocket_session_security::{EmbeddedStore, Revocation, RevocationStore};
/// # rocket::async_test(async {
/// let path = std::env::temp_dir().join(format!("doc-{}.sqlite3", std::process::id()));
/// let store = EmbeddedStore::open(&path).unwrap();
/// store.revoke(&Revocation::Everyone { not_before: 10, until: 100 }).await.unwrap();
/// drop(store);
/// // Kept across a restart.
/// let (kept, _) = EmbeddedStore::open(&path).unwrap().load(50).await.unwrap();
/// assert_eq!(kept, [Revocation::Everyone { not_before: 10, until: 100 }]);
/// # let _ = std::fs::remove_file(&path);
/// # });
/// ```
#[derive(Clone)]
pub struct EmbeddedStore {
    connection: Arc<Mutex<Connection>>,
    path: PathBuf,
}

fn failed(path: &Path) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |e| StoreError::new(format!("the embedded store {}: {e}", path.display()))
}

impl EmbeddedStore {
    /// Opens (or creates) the database at `path`; the error says why it cannot.
    pub fn open(path: impl AsRef<Path>) -> Result<EmbeddedStore, StoreError> {
        let path = path.as_ref().to_path_buf();
        let connection = Connection::open(&path).map_err(failed(&path))?;
        connection.busy_timeout(Duration::from_secs(5)).map_err(failed(&path))?;
        connection.execute_batch(SCHEMA).map_err(failed(&path))?;
        Ok(EmbeddedStore { connection: Arc::new(Mutex::new(connection)), path })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on the connection on Tokio's blocking pool.
    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let connection = self.connection.clone();
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let mut connection = connection.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            f(&mut connection).map_err(failed(&path))
        })
        .await
        .map_err(|e| StoreError::new(format!("the embedded store's task failed: {e}")))?
    }

    async fn since(&self, from: i64) -> Result<(Vec<Revocation>, Cursor), StoreError> {
        self.with(move |c| {
            let mut statement =
                c.prepare_cached("SELECT seq, revocation FROM revocations WHERE seq > ?1 ORDER BY seq")?;
            let mut last = from;
            let mut found = Vec::new();
            for row in statement.query_map([from], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?)))? {
                let (seq, text) = row?;
                last = last.max(seq);
                found.extend(Revocation::decode(&text));
            }
            Ok((found, last.to_string()))
        })
        .await
    }
}

fn id_of(id: SessionId) -> i64 {
    id.as_u64() as i64
}

fn session_of(row: &rusqlite::Row<'_>) -> rusqlite::Result<SessionRecord> {
    let person: Vec<u8> = row.get(1)?;
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(person.get(..8).unwrap_or(&[0; 8]));
    Ok(SessionRecord {
        id: SessionId::from_u64(row.get::<_, i64>(0)? as u64),
        person: PersonKey(bytes),
        signed_in: row.get(2)?,
        last_seen: row.get(3)?,
        user_agent: row.get(4)?,
        until: row.get(5)?,
    })
}

#[async_trait::async_trait]
impl RevocationStore for EmbeddedStore {
    async fn load(&self, now: i64) -> Result<(Vec<Revocation>, Cursor), StoreError> {
        self.with(move |c| {
            let mut statement = c.prepare_cached("SELECT revocation FROM revocations WHERE until > ?1 ORDER BY seq")?;
            let live = statement
                .query_map([now], |row| row.get::<_, String>(0))?
                .filter_map(|text| text.ok().and_then(|t| Revocation::decode(&t)))
                .collect();
            let last: Option<i64> =
                c.query_row("SELECT MAX(seq) FROM revocations", [], |row| row.get(0)).optional()?.flatten();
            Ok((live, last.unwrap_or(0).to_string()))
        })
        .await
    }

    async fn revoke(&self, revocation: &Revocation) -> Result<(), StoreError> {
        let revocation = *revocation;
        self.with(move |c| {
            let tx = c.transaction()?;
            tx.execute(
                "INSERT OR IGNORE INTO revocations (revocation, until) VALUES (?1, ?2)",
                params![revocation.encode(), revocation.until()],
            )?;
            match revocation {
                Revocation::Session { id, .. } => {
                    tx.execute("DELETE FROM sessions WHERE id = ?1", [id_of(id)])?;
                }
                Revocation::Person { person, not_before, except, .. } => {
                    tx.execute(
                        "DELETE FROM sessions WHERE person = ?1 AND signed_in < ?2 AND id IS NOT ?3",
                        params![person.0.to_vec(), not_before, except.map(id_of)],
                    )?;
                }
                Revocation::Everyone { not_before, .. } => {
                    tx.execute("DELETE FROM sessions WHERE signed_in < ?1", [not_before])?;
                }
            }
            tx.commit()
        })
        .await
    }

    async fn follow(&self, cursor: &Cursor) -> Result<(Vec<Revocation>, Cursor), StoreError> {
        let from: i64 =
            cursor.parse().map_err(|_| StoreError::new(format!("not an embedded-store cursor: {cursor:?}")))?;
        let (found, next) = self.since(from).await?;
        if !found.is_empty() {
            return Ok((found, next));
        }
        // Another process may write the file: look again shortly (one indexed query each time).
        tokio::time::sleep(Duration::from_millis(500)).await;
        self.since(from).await
    }

    async fn session_started(&self, session: &SessionRecord) -> Result<(), StoreError> {
        let s = session.clone();
        self.with(move |c| {
            c.execute(
                "INSERT OR REPLACE INTO sessions (id, person, signed_in, last_seen, user_agent, until)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![id_of(s.id), s.person.0.to_vec(), s.signed_in, s.last_seen, s.user_agent, s.until],
            )
            .map(drop)
        })
        .await
    }

    async fn sessions_seen(&self, seen: &[(SessionId, i64, i64)]) -> Result<(), StoreError> {
        let seen = seen.to_vec();
        self.with(move |c| {
            let tx = c.transaction()?;
            {
                let mut statement = tx.prepare_cached(
                    "UPDATE sessions SET last_seen = MAX(last_seen, ?2), until = MAX(until, ?3) WHERE id = ?1",
                )?;
                for (id, last_seen, until) in seen {
                    statement.execute(params![id_of(id), last_seen, until])?;
                }
            }
            tx.commit()
        })
        .await
    }

    async fn sessions(&self, person: PersonKey, now: i64) -> Result<Vec<SessionRecord>, StoreError> {
        self.with(move |c| {
            let mut statement = c.prepare_cached(
                "SELECT id, person, signed_in, last_seen, user_agent, until FROM sessions
                 WHERE person = ?1 AND until > ?2 ORDER BY signed_in, id",
            )?;
            let rows = statement.query_map(params![person.0.to_vec(), now], session_of)?;
            rows.collect()
        })
        .await
    }

    async fn prune(&self, now: i64) -> Result<(), StoreError> {
        self.with(move |c| {
            c.execute("DELETE FROM revocations WHERE until <= ?1", [now])?;
            c.execute("DELETE FROM sessions WHERE until <= ?1", [now])?;
            Ok(())
        })
        .await
    }
}
