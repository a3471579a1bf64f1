//! Feature `redis`: revocations and the sessions list in a Redis server
//! that every instance of the app shares (see [`RedisStore`] for its keys).

use std::fmt;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Cmd, FromRedisValue, Script, ScriptInvocation};

use super::{Cursor, PersonKey, Revocation, RevocationStore, SessionId, SessionRecord, StoreError};

/// How long `follow` waits for a new revocation.
const FOLLOW_BLOCK_MS: u64 = 1000;
/// The stream's length, kept approximately (`MAXLEN ~`).
const STREAM_MAXLEN: usize = 10_000;
/// Revocations one `follow` answers at most.
const FOLLOW_BATCH: usize = 1000;
/// Sessions one script call drops or updates at most, so none holds Redis long.
const SESSION_BATCH: usize = 500;
/// An answer later than this is an error (the follower waits `FOLLOW_BLOCK_MS` more).
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(3);
/// Each connection attempt.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(1);
/// Reconnection attempts before a call fails (the caller retries later).
const RECONNECT_RETRIES: usize = 2;

/// Lua shared by the scripts. Every script gets the same keys and first
/// argument: KEYS = revocations, changes, session-person, session-until,
/// session-signed-in; ARGV[1] = the per-person key prefix (`N:person:`).
const LUA_COMMON: &str = r#"
local function drop_session(id)
  local person = redis.call('HGET', KEYS[3], id)
  if person then redis.call('HDEL', ARGV[1] .. person, id) end
  redis.call('HDEL', KEYS[3], id)
  redis.call('ZREM', KEYS[4], id)
  redis.call('ZREM', KEYS[5], id)
end
local function stream_info()
  if redis.call('EXISTS', KEYS[2]) == 0 then return nil end
  local raw = redis.call('XINFO', 'STREAM', KEYS[2])
  local info = {}
  for i = 1, #raw, 2 do info[raw[i]] = raw[i + 1] end
  return info
end
local function last_id(info)
  if info then return info['last-generated-id'] end
  return '0-0'
end
"#;

/// ARGV[2] = now. Answers {live revocations, cursor}.
const LUA_LOAD: &str = r#"
local live = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[2], '+inf')
return {live, last_id(stream_info())}
"#;

/// ARGV[2] = the revocation's text, [3] = its until, [4] = its kind (s, p,
/// e), [5] = the session id (s) or person (p), [6] = not_before (p, e), [7] =
/// the spared session (p, or ''), [8] = batch, [9] = stream length. Answers 1
/// when covered sessions may remain (call again), else 0.
///
/// Redis does not undo a script's writes when a later command fails, so the
/// stream's type is checked before anything is written: a revocation added to
/// the sorted set is always streamed too (a retry would not stream it, as
/// `ZADD NX` then adds nothing). Once a script has written, Redis no longer
/// refuses its writes for memory, so `XADD` cannot fail after `ZADD`.
const LUA_REVOKE: &str = r#"
local stream_type = redis.call('TYPE', KEYS[2])['ok']
if stream_type ~= 'stream' and stream_type ~= 'none' then
  return redis.error_reply('WRONGTYPE ' .. KEYS[2] .. ' is a ' .. stream_type .. ', not a stream')
end
if redis.call('ZADD', KEYS[1], 'NX', ARGV[3], ARGV[2]) == 1 then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[9], '*', 'r', ARGV[2])
end
local kind = ARGV[4]
if kind == 's' then
  drop_session(ARGV[5])
  return 0
elseif kind == 'p' then
  local not_before = tonumber(ARGV[6])
  local all = redis.call('HGETALL', ARGV[1] .. ARGV[5])
  for i = 1, #all, 2 do
    local signed_in = string.match(all[i + 1], '^(%-?%d+):')
    if all[i] ~= ARGV[7] and signed_in and tonumber(signed_in) < not_before then drop_session(all[i]) end
  end
  return 0
end
local ids = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', '(' .. ARGV[6], 'LIMIT', 0, ARGV[8])
for _, id in ipairs(ids) do drop_session(id) end
if #ids == tonumber(ARGV[8]) then return 1 end
return 0
"#;

/// ARGV[2] = cursor, [3] = batch. Answers {revocations, cursor, 1 if the
/// cursor was gone and every revocation is answered, else 0}.
const LUA_FOLLOW: &str = r#"
local cursor = ARGV[2]
local info = stream_info()
local gone
if info == nil then
  gone = cursor ~= '0-0'
elseif cursor == '0-0' then
  local added = info['entries-added']
  gone = added == nil or tonumber(added) > tonumber(info['length'])
else
  gone = #redis.call('XRANGE', KEYS[2], cursor, cursor) == 0
end
if gone then
  return {redis.call('ZRANGE', KEYS[1], 0, -1), last_id(info), 1}
end
local batch = tonumber(ARGV[3])
local out = {}
local last = cursor
if info then
  for _, entry in ipairs(redis.call('XRANGE', KEYS[2], cursor, '+', 'COUNT', batch + 1)) do
    if entry[1] ~= cursor and #out < batch then
      local fields = entry[2]
      for i = 1, #fields, 2 do
        if fields[i] == 'r' then table.insert(out, fields[i + 1]) end
      end
      last = entry[1]
    end
  end
end
return {out, last, 0}
"#;

/// ARGV[2] = id, [3] = person, [4] = the record's text, [5] = until, [6] = signed_in.
const LUA_STARTED: &str = r#"
local before = redis.call('HGET', KEYS[3], ARGV[2])
if before then redis.call('HDEL', ARGV[1] .. before, ARGV[2]) end
redis.call('HSET', ARGV[1] .. ARGV[3], ARGV[2], ARGV[4])
redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[4], ARGV[5], ARGV[2])
redis.call('ZADD', KEYS[5], ARGV[6], ARGV[2])
return 0
"#;

/// ARGV[2..] = (id, last_seen, until) triples. Never moves either backwards.
const LUA_SEEN: &str = r#"
for i = 2, #ARGV - 2, 3 do
  local id = ARGV[i]
  local person = redis.call('HGET', KEYS[3], id)
  if person then
    local key = ARGV[1] .. person
    local record = redis.call('HGET', key, id)
    local signed_in, seen, untl, agent
    if record then signed_in, seen, untl, agent = string.match(record, '^(%-?%d+):(%-?%d+):(%-?%d+):(.*)$') end
    if signed_in then
      if tonumber(ARGV[i + 1]) > tonumber(seen) then seen = ARGV[i + 1] end
      if tonumber(ARGV[i + 2]) > tonumber(untl) then untl = ARGV[i + 2] end
      redis.call('HSET', key, id, signed_in .. ':' .. seen .. ':' .. untl .. ':' .. agent)
      redis.call('ZADD', KEYS[4], untl, id)
    end
  end
end
return 0
"#;

/// ARGV[2] = now, [3] = batch. Answers 1 when ended sessions may remain.
const LUA_PRUNE: &str = r#"
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
local ids = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', ARGV[2], 'LIMIT', 0, ARGV[3])
for _, id in ipairs(ids) do drop_session(id) end
if #ids == tonumber(ARGV[3]) then return 1 end
return 0
"#;

struct Keys {
    revocations: String,
    changes: String,
    session_person: String,
    session_until: String,
    session_signed_in: String,
    person_prefix: String,
}

impl Keys {
    fn new(namespace: &str) -> Keys {
        Keys {
            revocations: format!("{namespace}:revocations"),
            changes: format!("{namespace}:changes"),
            session_person: format!("{namespace}:session-person"),
            session_until: format!("{namespace}:session-until"),
            session_signed_in: format!("{namespace}:session-signed-in"),
            person_prefix: format!("{namespace}:person:"),
        }
    }
}

struct Scripts {
    load: Script,
    revoke: Script,
    follow: Script,
    started: Script,
    seen: Script,
    prune: Script,
}

impl Scripts {
    fn new() -> Scripts {
        let script = |body: &str| Script::new(&format!("{LUA_COMMON}{body}"));
        Scripts {
            load: script(LUA_LOAD),
            revoke: script(LUA_REVOKE),
            follow: script(LUA_FOLLOW),
            started: script(LUA_STARTED),
            seen: script(LUA_SEEN),
            prune: script(LUA_PRUNE),
        }
    }
}

/// A [`RevocationStore`] in Redis (feature `redis`; Redis 5.0 or later, tested with 7.0):
/// every instance of the app that connects with the same URL and namespace
/// shares its revocations and sessions list.
///
/// Two connections, each a `redis` [`ConnectionManager`] that reconnects by
/// itself: one for `follow`'s blocking read, one for everything else. While
/// Redis is unreachable every call fails within a few seconds with a
/// [`StoreError`] (the crate retries), and the same store works again once
/// Redis is back. Clones share both connections, so follow from one clone at
/// a time. Only as durable as the server is configured to be: without RDB or
/// AOF persistence a Redis restart forgets every revocation.
///
/// # Keys
///
/// Every key starts with the namespace given to [`connect`](Self::connect)
/// and a colon, so apps sharing one Redis (or one database of it) never see
/// each other's entries. With namespace `N`:
///
/// | key | type | holds | bounded by |
/// | --- | --- | --- | --- |
/// | `N:revocations` | sorted set | each revocation in [`Revocation::encode`]'s form, scored by its `until` | `prune` (`ZREMRANGEBYSCORE`) |
/// | `N:changes` | stream | one entry per revocation kept, field `r`: the same text | `XADD … MAXLEN ~ 10000` |
/// | `N:person:<person>` | hash | the person's sessions: id → `signed_in:last_seen:until:user agent` | revocations, `prune` |
/// | `N:session-person` | hash | session id → person (for `sessions_seen` and session revocations) | the same |
/// | `N:session-until` | sorted set | session ids scored by `until` (for `prune`) | the same |
/// | `N:session-signed-in` | sorted set | session ids scored by sign-in time (for "everyone" revocations) | the same |
///
/// `<person>` and session ids are 16 hexadecimal digits. Every change is a
/// Lua script, which Redis applies whole: a revocation is in the stream only
/// if it is in the sorted set (it is streamed only when `ZADD NX` added it,
/// which also makes `revoke` idempotent), and the sessions list and its three
/// indexes always agree. The scripts name the per-person keys themselves: a
/// standalone Redis (or a Sentinel-managed primary), not Redis Cluster.
///
/// # Following
///
/// [`follow`](RevocationStore::follow)'s cursor is the id of the last stream
/// entry read (`0-0` before any). It waits in `XREAD BLOCK 1000` on its own
/// connection, so the other calls never queue behind it, then reads up to
/// 1000 entries after the cursor. When the stream no longer holds the
/// cursor's entry (trimmed while this instance lagged more than 10000
/// revocations behind, or Redis lost its data and began a new stream), it
/// answers every revocation in the sorted set instead, which a
/// [`RevocationSet`](crate::RevocationSet) takes again harmlessly, and logs a
/// warning: nothing written is ever skipped.
///
/// ```no_run
/// use rocket_session_security::{RedisStore, Revocation, RevocationStore, StoreError};
///
/// async fn example(now: i64) -> Result<(), StoreError> {
///     let store = RedisStore::connect("redis://127.0.0.1:6380/0", "myapp").await?;
///     let (revocations, cursor) = store.load(now).await?;
///     println!("{} revocations in force", revocations.len());
///     store.revoke(&Revocation::Everyone { not_before: now, until: now + 1200 }).await?;
///     let (new, _cursor) = store.follow(&cursor).await?;
///     assert!(new.contains(&Revocation::Everyone { not_before: now, until: now + 1200 }));
///     Ok(())
/// }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    main: ConnectionManager,
    follower: ConnectionManager,
    keys: std::sync::Arc<Keys>,
    scripts: std::sync::Arc<Scripts>,
    namespace: std::sync::Arc<str>,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the URL: it may hold a password.
        f.debug_struct("RedisStore").field("namespace", &self.namespace).finish_non_exhaustive()
    }
}

fn failed(what: &'static str) -> impl Fn(redis::RedisError) -> StoreError {
    move |e| StoreError::new(format!("redis {what}: {e}"))
}

impl RedisStore {
    /// Connects to the Redis at `url` (`redis://host:port[/db]`, with
    /// `redis://:password@host:port` or `redis://user:password@…` for a
    /// server that asks; `rediss://` is not built in), every key under
    /// `namespace` (non-empty, no spaces or control characters). Fails when
    /// the URL does not parse or Redis does not answer within a few seconds.
    ///
    /// ```
    /// use rocket_session_security::RedisStore;
    /// # rocket::async_test(async {
    /// // Refused before any connection is tried:
    /// assert!(RedisStore::connect("redis://127.0.0.1:6380", "").await.is_err());
    /// assert!(RedisStore::connect("http://127.0.0.1:6380", "myapp").await.is_err());
    /// # });
    /// ```
    pub async fn connect(url: &str, namespace: &str) -> Result<RedisStore, StoreError> {
        if namespace.is_empty() || namespace.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(StoreError::new(format!(
                "redis: the namespace {namespace:?} must be non-empty, without spaces or control characters"
            )));
        }
        // The error says what is wrong with the URL without repeating it (it may hold a password).
        let client = redis::Client::open(url).map_err(failed("URL"))?;
        let config = |response: Duration| {
            ConnectionManagerConfig::new()
                .set_connection_timeout(Some(CONNECTION_TIMEOUT))
                .set_response_timeout(Some(response))
                .set_number_of_retries(RECONNECT_RETRIES)
                .set_max_delay(Duration::from_millis(500))
        };
        let main = ConnectionManager::new_with_config(client.clone(), config(RESPONSE_TIMEOUT))
            .await
            .map_err(failed("connect"))?;
        let follower = ConnectionManager::new_with_config(
            client,
            config(RESPONSE_TIMEOUT + Duration::from_millis(FOLLOW_BLOCK_MS)),
        )
        .await
        .map_err(failed("connect"))?;
        Ok(RedisStore {
            main,
            follower,
            keys: std::sync::Arc::new(Keys::new(namespace)),
            scripts: std::sync::Arc::new(Scripts::new()),
            namespace: namespace.into(),
        })
    }

    /// A script call with the keys and first argument every script takes.
    fn invocation<'s>(&self, script: &'s Script) -> ScriptInvocation<'s> {
        let keys = &self.keys;
        let mut call = script.prepare_invoke();
        call.key(&keys.revocations)
            .key(&keys.changes)
            .key(&keys.session_person)
            .key(&keys.session_until)
            .key(&keys.session_signed_in)
            .arg(&keys.person_prefix);
        call
    }

    fn decode_all(&self, texts: Vec<String>) -> Result<Vec<Revocation>, StoreError> {
        texts
            .into_iter()
            .map(|text| {
                Revocation::decode(&text).ok_or_else(|| {
                    StoreError::new(format!(
                        "redis: {text:?} under {:?} is not a revocation (another program's entry?)",
                        self.keys.revocations
                    ))
                })
            })
            .collect()
    }
}

/// A stream id (`<milliseconds>-<sequence>`), as every cursor is.
fn check_cursor(cursor: &str) -> Result<(), StoreError> {
    let digits = |s: &str| !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit());
    match cursor.split_once('-') {
        Some((ms, seq)) if digits(ms) && digits(seq) => Ok(()),
        _ => Err(StoreError::new(format!("not a Redis stream cursor: {cursor:?}"))),
    }
}

/// A sessions-list entry: `signed_in:last_seen:until:user agent`.
fn parse_record(person: PersonKey, id: &str, text: &str) -> Result<SessionRecord, StoreError> {
    let nonsense = || StoreError::new(format!("redis: the session entry {id:?} = {text:?} of {person} is not one"));
    let id: SessionId = id.parse().map_err(|_| nonsense())?;
    let mut parts = text.splitn(4, ':');
    let mut number = || parts.next().and_then(|p| p.parse::<i64>().ok()).ok_or_else(nonsense);
    let (signed_in, last_seen, until) = (number()?, number()?, number()?);
    let user_agent = parts.next().ok_or_else(nonsense)?.to_string();
    Ok(SessionRecord { id, person, signed_in, last_seen, user_agent, until })
}

/// Whether a call failed on its connection (not on a timeout, nor on an
/// answer): worth one more try, as the first call after an outage may meet the
/// connection manager's last failed reconnection, which starts a new one.
fn connection_failed(error: &redis::RedisError) -> bool {
    (error.is_connection_dropped() || error.is_connection_refusal()) && !error.is_timeout()
}

/// Runs a script, once more when the connection failed. Every call of this
/// store is idempotent, so one that ran before its connection broke may run
/// again.
async fn run<T: FromRedisValue>(
    con: &ConnectionManager,
    call: &ScriptInvocation<'_>,
    what: &'static str,
) -> Result<T, StoreError> {
    let mut con = con.clone();
    match call.invoke_async(&mut con).await {
        Err(error) if connection_failed(&error) => call.invoke_async(&mut con).await,
        other => other,
    }
    .map_err(failed(what))
}

/// The same for a command.
async fn query<T: FromRedisValue>(con: &ConnectionManager, cmd: &Cmd, what: &'static str) -> Result<T, StoreError> {
    let mut con = con.clone();
    match cmd.query_async(&mut con).await {
        Err(error) if connection_failed(&error) => cmd.query_async(&mut con).await,
        other => other,
    }
    .map_err(failed(what))
}

#[async_trait::async_trait]
impl RevocationStore for RedisStore {
    async fn load(&self, now: i64) -> Result<(Vec<Revocation>, Cursor), StoreError> {
        let mut call = self.invocation(&self.scripts.load);
        call.arg(now);
        let (texts, cursor): (Vec<String>, String) = run(&self.main, &call, "load").await?;
        Ok((self.decode_all(texts)?, cursor))
    }

    async fn revoke(&self, revocation: &Revocation) -> Result<(), StoreError> {
        let (kind, subject, not_before, except) = match *revocation {
            Revocation::Session { id, .. } => ("s", id.to_string(), 0, String::new()),
            Revocation::Person { person, not_before, except, .. } => {
                ("p", person.to_string(), not_before, except.map(|id| id.to_string()).unwrap_or_default())
            }
            Revocation::Everyone { not_before, .. } => ("e", String::new(), not_before, String::new()),
        };
        let mut call = self.invocation(&self.scripts.revoke);
        call.arg(revocation.encode())
            .arg(revocation.until())
            .arg(kind)
            .arg(subject)
            .arg(not_before)
            .arg(except)
            .arg(SESSION_BATCH)
            .arg(STREAM_MAXLEN);
        // Each call drops at most a batch of covered sessions; calling again is
        // harmless (the revocation is already kept, so it is not streamed twice).
        while run::<i64>(&self.main, &call, "revoke").await? == 1 {}
        Ok(())
    }

    async fn follow(&self, cursor: &Cursor) -> Result<(Vec<Revocation>, Cursor), StoreError> {
        check_cursor(cursor)?;
        // Only a wait: it returns at once when the stream has entries after
        // the cursor, and the script below reads them (and checks the cursor).
        let mut wait = redis::cmd("XREAD");
        wait.arg("COUNT").arg(1).arg("BLOCK").arg(FOLLOW_BLOCK_MS).arg("STREAMS").arg(&self.keys.changes).arg(cursor);
        let _: redis::Value = query(&self.follower, &wait, "follow").await?;
        let mut call = self.invocation(&self.scripts.follow);
        call.arg(cursor).arg(FOLLOW_BATCH);
        let (texts, next, everything): (Vec<String>, String, i64) = run(&self.follower, &call, "follow").await?;
        if everything == 1 {
            log::warn!(
                "redis: the stream {:?} no longer holds the cursor {cursor:?} (trimmed behind a slow follower, \
                 or Redis lost its data): all {} revocations kept are read again",
                self.keys.changes,
                texts.len()
            );
        }
        Ok((self.decode_all(texts)?, next))
    }

    async fn session_started(&self, session: &SessionRecord) -> Result<(), StoreError> {
        let record = format!("{}:{}:{}:{}", session.signed_in, session.last_seen, session.until, session.user_agent);
        let mut call = self.invocation(&self.scripts.started);
        call.arg(session.id.to_string())
            .arg(session.person.to_string())
            .arg(record)
            .arg(session.until)
            .arg(session.signed_in);
        run::<i64>(&self.main, &call, "session_started").await?;
        Ok(())
    }

    async fn sessions_seen(&self, seen: &[(SessionId, i64, i64)]) -> Result<(), StoreError> {
        for batch in seen.chunks(SESSION_BATCH) {
            let mut call = self.invocation(&self.scripts.seen);
            for &(id, last_seen, until) in batch {
                call.arg(id.to_string()).arg(last_seen).arg(until);
            }
            run::<i64>(&self.main, &call, "sessions_seen").await?;
        }
        Ok(())
    }

    async fn sessions(&self, person: PersonKey, now: i64) -> Result<Vec<SessionRecord>, StoreError> {
        let mut read = redis::cmd("HGETALL");
        read.arg(format!("{}{person}", self.keys.person_prefix));
        let entries: Vec<(String, String)> = query(&self.main, &read, "sessions").await?;
        let mut list = Vec::with_capacity(entries.len());
        for (id, text) in &entries {
            let record = parse_record(person, id, text)?;
            if record.until > now {
                list.push(record);
            }
        }
        list.sort_by_key(|s| (s.signed_in, s.id));
        Ok(list)
    }

    async fn prune(&self, now: i64) -> Result<(), StoreError> {
        let mut call = self.invocation(&self.scripts.prune);
        call.arg(now).arg(SESSION_BATCH);
        while run::<i64>(&self.main, &call, "prune").await? == 1 {}
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_stream_ids() {
        for good in ["0-0", "1796306938254-0", "18446744073709551615-18446744073709551615"] {
            assert_eq!(check_cursor(good), Ok(()), "{good}");
        }
        for bad in ["", "0", "-0", "0-", "a-0", "1-2-3", " 1-0", "1-0\n", "123456789012345678901-0"] {
            assert!(check_cursor(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn records_read_back_with_any_user_agent() {
        let person = PersonKey::from_bytes([7; 8]);
        let record = parse_record(person, "00000000000004d2", "10:20:30:Firefox: on Linux").expect("a record");
        assert_eq!(
            record,
            SessionRecord {
                id: SessionId::from_u64(1234),
                person,
                signed_in: 10,
                last_seen: 20,
                until: 30,
                user_agent: "Firefox: on Linux".into()
            }
        );
        assert_eq!(parse_record(person, "00000000000004d2", "-5:-4:-3:").map(|r| r.signed_in), Ok(-5));
        for bad in ["10:20:30", "10:x:30:ua", ""] {
            assert!(parse_record(person, "00000000000004d2", bad).is_err(), "{bad:?}");
        }
        assert!(parse_record(person, "zz", "10:20:30:ua").is_err());
    }

    #[test]
    fn namespaces_prefix_every_key() {
        let keys = Keys::new("app");
        for key in
            [&keys.revocations, &keys.changes, &keys.session_person, &keys.session_until, &keys.session_signed_in]
        {
            assert!(key.starts_with("app:"), "{key}");
        }
        assert_eq!(keys.person_prefix, "app:person:");
    }
}
