//! PostgreSQL as a shared engine behind [`portalnet_store::Db`], so several
//! directory nodes serve one Network from one database.
//!
//! Design (see ARCHITECTURE.md, "The directory on PostgreSQL"): the store's
//! façade stays the one seam. PostgreSQL implements its key-value primitives
//! ([`portalnet_store::Engine`]) on one table `kv(tree, key, value)` whose primary
//! key `(tree, key)` orders keys bytewise like sled; a [`Db::write`] is one
//! PostgreSQL transaction that first takes a transaction-scoped advisory lock
//! ([`WRITE_LOCK`]), so writes are serialised across every process sharing the
//! database exactly as sled's write lock serialises them in one process, and the
//! directory's code runs unchanged on either engine. The price is one global
//! writer: fine for the directory, whose writes are publishes and registrations,
//! not searches.
//!
//! The façade is synchronous and the directory calls it from async handlers, so
//! the engine owns a small tokio runtime of its own; a call sends its future there
//! and waits on a channel (inside `block_in_place` when the caller is a worker of
//! a multi-threaded runtime, so that runtime keeps serving). The sync `postgres`
//! crate is not used: it panics when called on a tokio worker thread.
//!
//! Also here: [`PgEngine`] is a [`SharedNonces`] (table `nonces`), so replay
//! protection holds across directory nodes; and versioned schema migrations
//! ([`MIGRATIONS`], table `schema_version`) run when the engine connects.
//!
//! [`Db::write`]: portalnet_store::Db::write

pub mod testing;

use portalnet_core::Timestamp;
use portalnet_federation::SharedNonces;
use portalnet_store::engine::{Change, Engine, EngineTx, Entry, prefix_end};
use portalnet_store::{Db, StoreError};
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio_postgres::{Client, NoTls, Statement};

/// The advisory lock every write takes (an arbitrary constant: "portalnet").
pub const WRITE_LOCK: i64 = 0x706f_7274_616c;
/// The advisory lock migrations take, so two nodes starting at once migrate once.
pub const MIGRATE_LOCK: i64 = 0x706f_7274_616d;
/// Connections kept open while idle.
const MAX_IDLE: usize = 32;
/// Nonce claims between two prunings of expired nonces.
const PRUNE_EVERY: u64 = 1024;

/// Schema migrations: `MIGRATIONS[n]` takes the schema from version `n` to `n + 1`.
/// Append only; never edit a released one.
pub const MIGRATIONS: &[&str] = &[
    // 1: the store façade's trees, and the shared replay nonces.
    "CREATE TABLE kv (tree text NOT NULL, key bytea NOT NULL, value bytea NOT NULL, PRIMARY KEY (tree, key));
     CREATE TABLE nonces (key bytea PRIMARY KEY, expires_at bigint NOT NULL);
     CREATE INDEX nonces_expires_at ON nonces (expires_at);",
];

#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    #[error("cannot start the PostgreSQL client's runtime: {0}")]
    Runtime(#[from] std::io::Error),
    #[error(
        "the PostgreSQL database has schema version {found}, newer than this build knows ({known}); upgrade portalnet"
    )]
    SchemaTooNew { found: i64, known: i64 },
    #[error("PostgreSQL client runtime stopped")]
    Stopped,
}

impl From<PgError> for StoreError {
    fn from(e: PgError) -> Self {
        StoreError::Remote { engine: "postgres", reason: e.to_string() }
    }
}

/// A connection and its prepared statements.
struct Conn {
    client: Client,
    statements: Mutex<HashMap<&'static str, Statement>>,
}

impl Conn {
    async fn stmt(&self, sql: &'static str) -> Result<Statement, tokio_postgres::Error> {
        if let Some(s) = self.statements.lock().unwrap_or_else(|p| p.into_inner()).get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql).await?;
        self.statements.lock().unwrap_or_else(|p| p.into_inner()).insert(sql, s.clone());
        Ok(s)
    }
}

struct Shared {
    config: tokio_postgres::Config,
    /// None only while dropping.
    runtime: Option<tokio::runtime::Runtime>,
    handle: tokio::runtime::Handle,
    idle: Mutex<Vec<Arc<Conn>>>,
    claims: AtomicU64,
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Dropping a runtime inside another one's async context panics.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl Shared {
    async fn checkout(self: &Arc<Self>) -> Result<Arc<Conn>, tokio_postgres::Error> {
        loop {
            let conn = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
            match conn {
                Some(c) if !c.client.is_closed() => return Ok(c),
                Some(_) => continue,
                None => break,
            }
        }
        let (client, connection) = self.config.connect(NoTls).await?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!(error = %e, "PostgreSQL connection ended");
            }
        });
        Ok(Arc::new(Conn { client, statements: Mutex::default() }))
    }

    fn checkin(&self, conn: Arc<Conn>) {
        if conn.client.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
    }
}

/// A PostgreSQL database as a shared [`Engine`] and [`SharedNonces`]. Cheap to clone.
#[derive(Clone)]
pub struct PgEngine {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for PgEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgEngine").field("hosts", &self.shared.config.get_hosts()).finish_non_exhaustive()
    }
}

impl PgEngine {
    /// Connects to `url` (`postgres://user:password@host:port/db`, or key=value
    /// form) and migrates its schema to this build's version. Blocking.
    pub fn connect(url: &str) -> Result<PgEngine, PgError> {
        let mut config: tokio_postgres::Config = url.parse()?;
        if config.get_application_name().is_none() {
            config.application_name("portald");
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("portalnet-postgres")
            .enable_all()
            .build()?;
        let handle = runtime.handle().clone();
        let engine = PgEngine {
            shared: Arc::new(Shared {
                config,
                runtime: Some(runtime),
                handle,
                idle: Mutex::default(),
                claims: AtomicU64::new(0),
            }),
        };
        engine.migrate()?;
        Ok(engine)
    }

    /// A [`Db`] on this engine.
    pub fn db(&self) -> Db {
        Db::with_engine(Arc::new(self.clone()))
    }

    /// The schema version of the database (after [`PgEngine::connect`]: this build's).
    pub fn schema_version(&self) -> Result<i64, PgError> {
        self.with_conn(|c| async move {
            let row = c.client.query_one("SELECT version FROM schema_version", &[]).await?;
            Ok(i64::from(row.get::<_, i32>(0)))
        })
    }

    /// Runs `fut` on the engine's runtime and waits for it.
    fn block<T: Send + 'static>(&self, fut: impl Future<Output = T> + Send + 'static) -> Result<T, PgError> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.shared.handle.spawn(async move {
            let _ = tx.send(fut.await);
        });
        let wait = move || rx.recv().map_err(|_| PgError::Stopped);
        match tokio::runtime::Handle::try_current() {
            Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(wait)
            }
            _ => wait(),
        }
    }

    /// Runs `f` with a pooled connection.
    fn with_conn<T, F, Fut>(&self, f: F) -> Result<T, PgError>
    where
        T: Send + 'static,
        F: FnOnce(Arc<Conn>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, tokio_postgres::Error>> + Send,
    {
        let shared = self.shared.clone();
        self.block(async move {
            let conn = shared.checkout().await?;
            let out = f(conn.clone()).await;
            // A failed statement outside a transaction leaves the connection usable.
            shared.checkin(conn);
            out
        })?
        .map_err(PgError::from)
    }

    fn migrate(&self) -> Result<(), PgError> {
        let known = MIGRATIONS.len() as i64;
        let found = self.with_conn(move |c| async move {
            let client = &c.client;
            client.batch_execute("BEGIN").await?;
            let out = async {
                client.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATE_LOCK]).await?;
                client
                    .batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)")
                    .await?;
                let found = match client.query_opt("SELECT version FROM schema_version", &[]).await? {
                    Some(row) => i64::from(row.get::<_, i32>(0)),
                    None => {
                        client.execute("INSERT INTO schema_version (version) VALUES (0)", &[]).await?;
                        0
                    }
                };
                for (n, sql) in
                    MIGRATIONS.iter().enumerate().skip(usize::try_from(found).unwrap_or(usize::MAX))
                {
                    client.batch_execute(sql).await?;
                    let v = i32::try_from(n + 1).unwrap_or(i32::MAX);
                    client.execute("UPDATE schema_version SET version = $1", &[&v]).await?;
                    tracing::info!(version = v, "PostgreSQL schema migrated");
                }
                Ok::<i64, tokio_postgres::Error>(found)
            }
            .await;
            match out {
                Ok(found) if found <= known => {
                    client.batch_execute("COMMIT").await?;
                    Ok(found)
                }
                other => {
                    client.batch_execute("ROLLBACK").await?;
                    other
                }
            }
        })?;
        if found > known {
            return Err(PgError::SchemaTooNew { found, known });
        }
        Ok(())
    }

    /// Deletes expired nonces. Done every [`PRUNE_EVERY`] claims, in the background.
    fn prune_nonces(&self, now: Timestamp) {
        let shared = self.shared.clone();
        self.shared.handle.spawn(async move {
            let r = async {
                let conn = shared.checkout().await?;
                let n =
                    conn.client.execute("DELETE FROM nonces WHERE expires_at < $1", &[&now.millis()]).await?;
                shared.checkin(conn);
                Ok::<u64, tokio_postgres::Error>(n)
            }
            .await;
            if let Err(e) = r {
                tracing::warn!(error = %e, "cannot prune expired nonces");
            }
        });
    }
}

fn store_err(e: PgError) -> StoreError {
    e.into()
}

/// The SQL of a scan: lower bound inclusive or not, upper bound or none.
fn scan_sql(inclusive: bool, bounded: bool) -> &'static str {
    match (inclusive, bounded) {
        (true, true) => {
            "SELECT key, value FROM kv WHERE tree = $1 AND key >= $2 AND key < $3 ORDER BY key LIMIT $4"
        }
        (false, true) => {
            "SELECT key, value FROM kv WHERE tree = $1 AND key > $2 AND key < $3 ORDER BY key LIMIT $4"
        }
        (true, false) => {
            "SELECT key, value FROM kv WHERE tree = $1 AND key >= $2 AND $3::bytea IS NULL ORDER BY key LIMIT $4"
        }
        (false, false) => {
            "SELECT key, value FROM kv WHERE tree = $1 AND key > $2 AND $3::bytea IS NULL ORDER BY key LIMIT $4"
        }
    }
}

async fn scan(
    conn: &Conn,
    tree: String,
    prefix: Vec<u8>,
    start: Option<(Vec<u8>, bool)>,
    limit: usize,
) -> Result<Vec<Entry>, tokio_postgres::Error> {
    let end = prefix_end(&prefix);
    let (lower, inclusive) = match start {
        Some((k, inc)) if k > prefix => (k, inc),
        _ => (prefix, true),
    };
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let stmt = conn.stmt(scan_sql(inclusive, end.is_some())).await?;
    let rows = conn.client.query(&stmt, &[&tree, &lower, &end, &limit]).await?;
    Ok(rows.into_iter().map(|r| (r.get::<_, Vec<u8>>(0), r.get::<_, Vec<u8>>(1))).collect())
}

async fn get(conn: &Conn, tree: String, key: Vec<u8>) -> Result<Option<Vec<u8>>, tokio_postgres::Error> {
    let stmt = conn.stmt("SELECT value FROM kv WHERE tree = $1 AND key = $2").await?;
    Ok(conn.client.query_opt(&stmt, &[&tree, &key]).await?.map(|r| r.get::<_, Vec<u8>>(0)))
}

/// The values of `keys` in one query, in the order of `keys`.
async fn get_many(
    conn: &Conn,
    tree: String,
    keys: Vec<Vec<u8>>,
) -> Result<Vec<Option<Vec<u8>>>, tokio_postgres::Error> {
    let stmt = conn.stmt("SELECT key, value FROM kv WHERE tree = $1 AND key = ANY($2)").await?;
    let rows = conn.client.query(&stmt, &[&tree, &keys]).await?;
    let found: std::collections::HashMap<Vec<u8>, Vec<u8>> =
        rows.into_iter().map(|r| (r.get::<_, Vec<u8>>(0), r.get::<_, Vec<u8>>(1))).collect();
    Ok(keys.iter().map(|k| found.get(k).cloned()).collect())
}

impl Engine for PgEngine {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn get(&self, tree: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let (tree, key) = (tree.to_owned(), key.to_vec());
        self.with_conn(move |c| async move { get(&c, tree, key).await }).map_err(store_err)
    }

    fn get_many(&self, tree: &str, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let (tree, keys) = (tree.to_owned(), keys.to_vec());
        self.with_conn(move |c| async move { get_many(&c, tree, keys).await }).map_err(store_err)
    }

    fn scan(
        &self,
        tree: &str,
        prefix: &[u8],
        start: Option<(&[u8], bool)>,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        let (tree, prefix) = (tree.to_owned(), prefix.to_vec());
        let start = start.map(|(k, inc)| (k.to_vec(), inc));
        self.with_conn(move |c| async move { scan(&c, tree, prefix, start, limit).await }).map_err(store_err)
    }

    fn len(&self, tree: &str) -> Result<u64, StoreError> {
        let tree = tree.to_owned();
        self.with_conn(move |c| async move {
            let row = c.client.query_one("SELECT count(*) FROM kv WHERE tree = $1", &[&tree]).await?;
            Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
        })
        .map_err(store_err)
    }

    fn drop_tree(&self, tree: &str) -> Result<bool, StoreError> {
        let tree = tree.to_owned();
        self.with_conn(move |c| async move {
            Ok(c.client.execute("DELETE FROM kv WHERE tree = $1", &[&tree]).await? > 0)
        })
        .map_err(store_err)
    }

    fn begin(&self) -> Result<Box<dyn EngineTx>, StoreError> {
        let shared = self.shared.clone();
        let conn = self
            .block(async move {
                let conn = shared.checkout().await?;
                conn.client.batch_execute("BEGIN").await?;
                let lock = conn.stmt("SELECT pg_advisory_xact_lock($1)").await;
                let locked = match lock {
                    Ok(s) => conn.client.execute(&s, &[&WRITE_LOCK]).await.map(|_| ()),
                    Err(e) => Err(e),
                };
                match locked {
                    Ok(()) => Ok(conn),
                    Err(e) => {
                        let _ = conn.client.batch_execute("ROLLBACK").await;
                        shared.checkin(conn);
                        Err(e)
                    }
                }
            })
            .and_then(|r| r.map_err(PgError::from))
            .map_err(store_err)?;
        Ok(Box::new(PgTx { engine: self.clone(), conn: Some(conn) }))
    }

    fn size(&self) -> Result<u64, StoreError> {
        self.with_conn(|c| async move {
            let row = c
                .client
                .query_one("SELECT pg_total_relation_size('kv') + pg_total_relation_size('nonces')", &[])
                .await?;
            Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
        })
        .map_err(store_err)
    }
}

/// A write: a PostgreSQL transaction holding [`WRITE_LOCK`].
struct PgTx {
    engine: PgEngine,
    /// None once committed or rolled back.
    conn: Option<Arc<Conn>>,
}

impl PgTx {
    fn conn(&self) -> Result<Arc<Conn>, StoreError> {
        self.conn.clone().ok_or_else(|| store_err(PgError::Stopped))
    }
}

impl EngineTx for PgTx {
    fn get(&mut self, tree: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let (conn, tree, key) = (self.conn()?, tree.to_owned(), key.to_vec());
        self.engine.block(async move { get(&conn, tree, key).await })?.map_err(|e| store_err(e.into()))
    }

    fn get_many(&mut self, tree: &str, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let (conn, tree, keys) = (self.conn()?, tree.to_owned(), keys.to_vec());
        self.engine.block(async move { get_many(&conn, tree, keys).await })?.map_err(|e| store_err(e.into()))
    }

    fn scan_prefix(&mut self, tree: &str, prefix: &[u8]) -> Result<Vec<Entry>, StoreError> {
        let (conn, tree, prefix) = (self.conn()?, tree.to_owned(), prefix.to_vec());
        self.engine
            .block(async move { scan(&conn, tree, prefix, None, usize::MAX).await })?
            .map_err(|e| store_err(e.into()))
    }

    fn commit(mut self: Box<Self>, changes: Vec<Change>) -> Result<(), StoreError> {
        let conn = self.conn.take().ok_or_else(|| store_err(PgError::Stopped))?;
        let shared = self.engine.shared.clone();
        self.engine
            .block(async move {
                let r = async {
                    let (mut put_t, mut put_k, mut put_v, mut del_t, mut del_k) =
                        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
                    for c in changes {
                        match c.value {
                            Some(v) => {
                                put_t.push(c.tree);
                                put_k.push(c.key);
                                put_v.push(v);
                            }
                            None => {
                                del_t.push(c.tree);
                                del_k.push(c.key);
                            }
                        }
                    }
                    if !del_t.is_empty() {
                        let s = conn
                            .stmt(
                                "DELETE FROM kv USING unnest($1::text[], $2::bytea[]) AS d(tree, key) \
                                 WHERE kv.tree = d.tree AND kv.key = d.key",
                            )
                            .await?;
                        conn.client.execute(&s, &[&del_t, &del_k]).await?;
                    }
                    if !put_t.is_empty() {
                        let s = conn
                            .stmt(
                                "INSERT INTO kv (tree, key, value) \
                                 SELECT * FROM unnest($1::text[], $2::bytea[], $3::bytea[]) \
                                 ON CONFLICT (tree, key) DO UPDATE SET value = EXCLUDED.value",
                            )
                            .await?;
                        conn.client.execute(&s, &[&put_t, &put_k, &put_v]).await?;
                    }
                    conn.client.batch_execute("COMMIT").await
                }
                .await;
                if r.is_err() {
                    let _ = conn.client.batch_execute("ROLLBACK").await;
                }
                shared.checkin(conn);
                r
            })?
            .map_err(|e| store_err(e.into()))
    }
}

impl Drop for PgTx {
    fn drop(&mut self) {
        // Not committed (the write's closure failed): roll back, which also frees
        // the write lock, before the connection serves anyone else.
        if let Some(conn) = self.conn.take() {
            let shared = self.engine.shared.clone();
            self.engine.shared.handle.spawn(async move {
                if conn.client.batch_execute("ROLLBACK").await.is_ok() {
                    shared.checkin(conn);
                }
            });
        }
    }
}

impl SharedNonces for PgEngine {
    fn claim(&self, key: &[u8; 16], expires: Timestamp, now: Timestamp) -> Result<bool, String> {
        if self.shared.claims.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            self.prune_nonces(now);
        }
        let key = key.to_vec();
        self.with_conn(move |c| async move {
            // Inserted, or an expired record taken over: new. A live record: a replay.
            let s = c
                .stmt(
                    "INSERT INTO nonces (key, expires_at) VALUES ($1, $2) \
                     ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at \
                     WHERE nonces.expires_at < $3 RETURNING 1",
                )
                .await?;
            Ok(c.client.query_opt(&s, &[&key, &expires.millis(), &now.millis()]).await?.is_some())
        })
        .map_err(|e| e.to_string())
    }
}
