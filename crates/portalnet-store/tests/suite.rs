//! The storage suite: what any engine behind the `Db`/`Tree`/`WriteTx` façade must do.
//! Every test opens real files in a temporary folder; `open` is the one place that
//! names how a database is opened, so another engine runs the same suite.

use portalnet_store::{Db, Key, Record, StoreError, Table, decode, encode};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;

/// Whether this build of the suite runs on PostgreSQL (`suite_pg.rs`).
fn on_postgres() -> bool {
    env!("CARGO_CRATE_NAME") == "suite_pg"
}

/// sled in `dir`; on PostgreSQL, the database whose URL is kept in `dir` (a
/// fresh one the first time), so opening `dir` again reopens the same data.
fn open(dir: &Path) -> Db {
    if !on_postgres() {
        return Db::open(dir).expect("open database");
    }
    let file = dir.join("postgres-url");
    let url = std::fs::read_to_string(&file).unwrap_or_else(|_| {
        let cluster = portalnet_postgres::testing::TempCluster::shared()
            .unwrap_or_else(|e| panic!("the store suite on PostgreSQL needs PostgreSQL: {e}"));
        let url = cluster.fresh_database().expect("create a database");
        std::fs::write(&file, &url).expect("remember the database URL");
        url
    });
    portalnet_postgres::PgEngine::connect(&url).expect("connect to PostgreSQL").db()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Note {
    text: String,
    #[serde(default)]
    stars: u32,
}

impl Record for Note {
    const NAME: &'static str = "note";
    const VERSION: u16 = 2;
    /// v1 stored `{ "body": … }`.
    fn migrate(from: u16, mut v: serde_json::Value) -> Result<serde_json::Value, String> {
        match from {
            1 => {
                let body = v.get_mut("body").map(serde_json::Value::take).ok_or("v1 note without body")?;
                Ok(serde_json::json!({ "text": body }))
            }
            _ => Err(format!("no migration from {from}")),
        }
    }
}

fn note(t: &str) -> Note {
    Note { text: t.into(), stars: 0 }
}

#[test]
fn values_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = open(dir.path());
        let notes: Table<u64, Note> = Table::open(&db, "notes").unwrap();
        db.write(|tx| {
            notes.tx_put(tx, &1, &note("one"))?;
            notes.tx_put(tx, &2, &note("two"))?;
            Ok::<_, StoreError>(())
        })
        .unwrap();
        db.sync().unwrap();
    }
    let db = open(dir.path());
    let notes: Table<u64, Note> = Table::open(&db, "notes").unwrap();
    assert_eq!(notes.get(&1).unwrap(), Some(note("one")));
    assert_eq!(notes.len(), 2);
}

#[derive(Debug)]
enum AppError {
    Store,
    Refused,
}
impl From<StoreError> for AppError {
    fn from(_: StoreError) -> Self {
        AppError::Store
    }
}

#[test]
fn failed_write_leaves_nothing_in_any_tree() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let a: Table<u64, Note> = Table::open(&db, "a").unwrap();
    let b: Table<u64, Note> = Table::open(&db, "b").unwrap();
    let r = db.write(|tx| {
        a.tx_put(tx, &1, &note("a"))?;
        b.tx_put(tx, &1, &note("b"))?;
        Err::<(), _>(AppError::Refused)
    });
    assert!(matches!(r, Err(AppError::Refused)));
    assert!(a.is_empty() && b.is_empty());
    assert!(db.write(|tx| tx.next_id("x")).is_ok());
}

#[test]
fn write_spanning_trees_commits_all() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let a: Table<u64, Note> = Table::open(&db, "a").unwrap();
    let b: Table<String, Note> = Table::open(&db, "b").unwrap();
    db.write(|tx| {
        a.tx_put(tx, &7, &note("a"))?;
        b.tx_put(tx, &"k".to_string(), &note("b"))?;
        a.tx_remove(tx, &8);
        Ok::<_, AppError>(())
    })
    .unwrap();
    assert_eq!(a.get(&7).unwrap(), Some(note("a")));
    assert_eq!(b.get(&"k".into()).unwrap(), Some(note("b")));
}

#[test]
fn write_reads_its_own_changes_and_scans_merge() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let t: Table<(u64, u64), Note> = Table::open(&db, "t").unwrap();
    db.write(|tx| {
        for i in 1..=3 {
            t.tx_put(tx, &(1, i), &note(&format!("c{i}")))?;
        }
        t.tx_put(tx, &(2, 1), &note("other"))?;
        Ok::<_, StoreError>(())
    })
    .unwrap();
    db.write(|tx| {
        t.tx_remove(tx, &(1, 2));
        t.tx_put(tx, &(1, 4), &note("c4"))?;
        assert_eq!(t.tx_get(tx, &(1, 2))?, None);
        assert_eq!(t.tx_get(tx, &(1, 4))?, Some(note("c4")));
        let seen: Vec<Vec<u8>> =
            tx.scan_prefix(t.tree(), &1u64.to_bytes())?.into_iter().map(|(k, _)| k).collect();
        assert_eq!(seen, vec![(1u64, 1u64).to_bytes(), (1, 3).to_bytes(), (1, 4).to_bytes()]);
        // Others see nothing yet.
        assert_eq!(t.get(&(1, 4))?, None);
        Ok::<_, StoreError>(())
    })
    .unwrap();
    let keys: Vec<(u64, u64)> = t.scan_raw(&1u64.to_bytes()).map(|r| r.unwrap().0).collect();
    assert_eq!(keys, vec![(1, 1), (1, 3), (1, 4)]);
}

#[test]
fn many_keys_read_at_once_in_their_order_and_prefetch_keeps_own_writes() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let t: Table<u64, Note> = Table::open(&db, "t").unwrap();
    db.write(|tx| {
        for i in [1u64, 3, 5] {
            t.tx_put(tx, &i, &note(&format!("n{i}")))?;
        }
        Ok::<_, StoreError>(())
    })
    .unwrap();
    // In the order asked, missing keys as None, a key asked twice answered twice.
    let got = t.get_many(&[5, 2, 1, 5]).unwrap();
    assert_eq!(got, vec![Some(note("n5")), None, Some(note("n1")), Some(note("n5"))]);
    assert_eq!(t.get_many(&[]).unwrap(), vec![]);
    db.write(|tx| {
        t.tx_put(tx, &3, &note("changed"))?;
        t.tx_remove(tx, &5);
        // Prefetching after a write must not hide it behind the committed value.
        t.tx_prefetch(tx, &[1, 2, 3, 5])?;
        assert_eq!(t.tx_get(tx, &1)?, Some(note("n1")));
        assert_eq!(t.tx_get(tx, &2)?, None);
        assert_eq!(t.tx_get(tx, &3)?, Some(note("changed")));
        assert_eq!(t.tx_get(tx, &5)?, None);
        // And a write after the prefetch wins over what was fetched.
        t.tx_put(tx, &1, &note("later"))?;
        assert_eq!(t.tx_get(tx, &1)?, Some(note("later")));
        Ok::<_, StoreError>(())
    })
    .unwrap();
    assert_eq!(t.get_many(&[1, 3, 5]).unwrap(), vec![Some(note("later")), Some(note("changed")), None]);
}

#[test]
fn a_prefix_read_answers_its_keys_and_keeps_own_writes() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let t: Table<(u64, u64), Note> = Table::open(&db, "t").unwrap();
    db.write(|tx| {
        for k in [(1u64, 1u64), (1, 3), (1, 5), (2, 1)] {
            t.tx_put(tx, &k, &note(&format!("n{}-{}", k.0, k.1)))?;
        }
        Ok::<_, StoreError>(())
    })
    .unwrap();
    db.write(|tx| {
        t.tx_put(tx, &(1, 3), &note("changed"))?;
        t.tx_remove(tx, &(1, 5));
        // A key outside the prefix is not answered from it (read as usual).
        t.tx_prefetch_prefix(tx, &1u64.to_bytes(), &[(1, 1), (1, 2), (1, 3), (1, 5), (2, 1)])?;
        assert_eq!(t.tx_get(tx, &(1, 1))?, Some(note("n1-1")));
        assert_eq!(t.tx_get(tx, &(1, 2))?, None);
        assert_eq!(t.tx_get(tx, &(1, 3))?, Some(note("changed")));
        assert_eq!(t.tx_get(tx, &(1, 5))?, None);
        assert_eq!(t.tx_get(tx, &(2, 1))?, Some(note("n2-1")));
        t.tx_put(tx, &(1, 2), &note("new"))?;
        assert_eq!(t.tx_get(tx, &(1, 2))?, Some(note("new")));
        Ok::<_, StoreError>(())
    })
    .unwrap();
    let got = t.get_many(&[(1, 1), (1, 2), (1, 3), (1, 5), (2, 1)]).unwrap();
    assert_eq!(
        got,
        vec![Some(note("n1-1")), Some(note("new")), Some(note("changed")), None, Some(note("n2-1"))]
    );
}

#[test]
fn integer_keys_iterate_in_numeric_order() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let t: Table<u64, Note> = Table::open(&db, "t").unwrap();
    db.write(|tx| {
        for i in [300u64, 2, 1_000_000, 10] {
            t.tx_put(tx, &i, &note("x"))?;
        }
        Ok::<_, StoreError>(())
    })
    .unwrap();
    let keys: Vec<u64> = t.iter().map(|r| r.unwrap().0).collect();
    assert_eq!(keys, vec![2, 10, 300, 1_000_000]);
}

#[test]
fn counters_are_gapless_and_persist() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = open(dir.path());
        for want in 1..=3 {
            assert_eq!(db.write(|tx| tx.next_id("task")).unwrap(), want);
        }
        // A failed write does not use up an id.
        let _ = db.write(|tx| {
            tx.next_id("task")?;
            Err::<(), _>(AppError::Refused)
        });
        assert_eq!(db.write(|tx| tx.next_id("group")).unwrap(), 1);
        db.sync().unwrap();
    }
    let db = open(dir.path());
    assert_eq!(db.write(|tx| tx.next_id("task")).unwrap(), 4);
}

#[test]
fn concurrent_writers_are_serialised() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let t: Arc<Table<String, Note>> = Arc::new(Table::open(&db, "t").unwrap());
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (db, t) = (db.clone(), t.clone());
            std::thread::spawn(move || {
                for _ in 0..250 {
                    db.write(|tx| {
                        let mut n = t.tx_get(tx, &"n".into())?.unwrap_or(note("counter"));
                        n.stars += 1;
                        t.tx_put(tx, &"n".into(), &n)
                    })
                    .unwrap();
                }
            })
        })
        .collect();
    for th in threads {
        th.join().unwrap();
    }
    assert_eq!(t.get(&"n".into()).unwrap().unwrap().stars, 1000);
}

/// A write's closure that reads tables directly (not through its `WriteTx`) sees
/// every write committed before it, and scans see each key once with its newest
/// value: what any change to how commits reach the engine (a group apply, a log)
/// must keep.
#[test]
fn writes_see_earlier_writes_through_direct_reads_and_scans() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let t: Arc<Table<String, Note>> = Arc::new(Table::open(&db, "t").unwrap());
    let rows: Arc<Table<u64, Note>> = Arc::new(Table::open(&db, "rows").unwrap());
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (db, t, rows) = (db.clone(), t.clone(), rows.clone());
            std::thread::spawn(move || {
                for _ in 0..100 {
                    db.write(|tx| {
                        // Direct reads: the committed state as other readers see it.
                        let mut n = t.get(&"n".into())?.unwrap_or(note("counter"));
                        let scanned = rows.iter().filter(|r| !matches!(r, Ok((0, _)))).count() as u32;
                        assert_eq!(scanned, n.stars, "a scan inside a write missed or repeated rows");
                        n.stars += 1;
                        rows.tx_put(tx, &u64::from(n.stars), &note("row"))?;
                        // Rewritten every time: a scan must show it once.
                        rows.tx_put(tx, &0, &note(&format!("latest {}", n.stars)))?;
                        t.tx_put(tx, &"n".into(), &n)
                    })
                    .unwrap();
                }
            })
        })
        .collect();
    for th in threads {
        th.join().unwrap();
    }
    assert_eq!(t.get(&"n".into()).unwrap().unwrap().stars, 800);
    assert_eq!(rows.iter().count(), 801);
    assert_eq!(rows.get(&0).unwrap(), Some(note("latest 800")));
}

#[test]
fn values_carry_a_version_and_old_ones_migrate() {
    let enc = encode(&note("hi")).unwrap();
    assert_eq!(&enc[..3], &[0xB1, 0, 2]);
    assert_eq!(decode::<Note>(&enc).unwrap(), note("hi"));
    let mut v1 = vec![0xB1, 0, 1];
    v1.extend_from_slice(br#"{"body":"old"}"#);
    assert_eq!(decode::<Note>(&v1).unwrap(), note("old"));
    let mut v9 = vec![0xB1, 0, 9];
    v9.extend_from_slice(b"{}");
    assert!(matches!(decode::<Note>(&v9), Err(StoreError::TooNew { found: 9, supported: 2, .. })));
}

#[test]
fn damaged_values_are_errors_not_panics() {
    for bad in [&b""[..], b"\xB1", b"\x00\x00\x02{}", b"\xB1\x00\x02{not json", b"\xB1\x00\x02\xff\xfe"] {
        assert!(matches!(decode::<Note>(bad), Err(StoreError::Corrupt { .. })), "{bad:?}");
    }
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let raw = db.tree("t").unwrap();
    db.write(|tx| {
        tx.insert(&raw, &5u64.to_bytes(), b"garbage".to_vec());
        tx.insert(&raw, b"short", encode(&note("x"))?);
        Ok::<_, StoreError>(())
    })
    .unwrap();
    let t: Table<u64, Note> = Table::open(&db, "t").unwrap();
    assert!(t.get(&5).is_err());
    assert!(t.iter().all(|r| r.is_err()));
}

#[test]
fn many_concurrent_syncs_share_flushes_and_finish() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let t: Arc<Table<u64, Note>> = Arc::new(Table::open(&db, "t").unwrap());
    let threads: Vec<_> = (0..64u64)
        .map(|i| {
            let (db, t) = (db.clone(), t.clone());
            std::thread::spawn(move || {
                for j in 0..20u64 {
                    db.write(|tx| t.tx_put(tx, &(i * 100 + j), &note("x"))).unwrap();
                    db.sync().unwrap();
                }
            })
        })
        .collect();
    for th in threads {
        th.join().unwrap();
    }
    // Group commit: 1,280 syncs, far fewer sled flushes (PostgreSQL commits are
    // durable when they return: no flushes at all).
    let made = db.flushes_made();
    if on_postgres() {
        assert_eq!(made, 0);
    } else {
        assert!(made > 0 && made * 2 <= 64 * 20, "{made} flushes for 1280 syncs");
    }
    drop(t);
    drop(db);
    let db = open(dir.path());
    let t: Table<u64, Note> = Table::open(&db, "t").unwrap();
    assert_eq!(t.len(), 64 * 20);
}

#[test]
fn a_ticket_is_covered_only_by_a_flush_that_started_after_it() {
    if on_postgres() {
        // Tickets and flushes are sled's group commit; on PostgreSQL a commit is durable.
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let t: Table<u64, Note> = Table::open(&db, "t").unwrap();
    db.write(|tx| t.tx_put(tx, &1, &note("a"))).unwrap();
    let first = db.ticket();
    db.sync_ticket(first).unwrap();
    assert_eq!(db.flushes_made(), 1);
    // Covered already: no flush.
    db.sync_ticket(first).unwrap();
    assert_eq!(db.flushes_made(), 1);
    // A write after that flush needs a flush of its own.
    db.write(|tx| t.tx_put(tx, &2, &note("b"))).unwrap();
    let second = db.ticket();
    assert!(second > first);
    db.sync_ticket(second).unwrap();
    assert_eq!(db.flushes_made(), 2);
    db.sync().unwrap();
    assert_eq!(
        db.flushes_made(),
        3,
        "sync() covers what was committed before it: it never trusts an older flush"
    );
}
