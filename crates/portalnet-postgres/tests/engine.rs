//! The PostgreSQL engine against a real throw-away cluster: the façade's
//! primitives, writes serialised across handles, migrations, shared nonces.

use portalnet_core::Timestamp;
use portalnet_federation::SharedNonces;
use portalnet_postgres::{MIGRATIONS, PgEngine, testing::TempCluster};
use portalnet_store::{Db, StoreError, Table};
use std::sync::Arc;

fn engine() -> PgEngine {
    let cluster = TempCluster::shared().expect("PostgreSQL test cluster");
    let url = cluster.fresh_database().expect("fresh database");
    PgEngine::connect(&url).expect("connect")
}

#[test]
fn reads_writes_scans_and_reads_own_writes() {
    let db = engine().db();
    let t: Table<String, u64> = Table::open(&db, "t").unwrap();
    db.write(|tx| {
        for (i, k) in ["a", "ab", "abc", "b", "b\u{ff}"].iter().enumerate() {
            t.tx_put(tx, &k.to_string(), &(i as u64))?;
        }
        assert_eq!(t.tx_get(tx, &"ab".to_string())?, Some(1), "reads its own write");
        Ok::<_, StoreError>(())
    })
    .unwrap();
    assert_eq!(t.get(&"abc".to_string()).unwrap(), Some(2));
    let under_a: Vec<String> = t.scan_raw(b"a").map(|r| r.unwrap().0).collect();
    assert_eq!(under_a, ["a", "ab", "abc"]);
    assert_eq!(t.len(), 5);
    let from: Vec<Vec<u8>> = t.tree().scan_from(b"ab").map(|r| r.unwrap().0).collect();
    assert_eq!(from.len(), 4);
    // A failed write leaves nothing behind.
    let r = db.write(|tx| {
        t.tx_put(tx, &"zz".to_string(), &9)?;
        Err::<(), _>(StoreError::Corrupt { what: "test".into(), reason: "abort".into() })
    });
    assert!(r.is_err());
    assert_eq!(t.get(&"zz".to_string()).unwrap(), None);
    db.write(|tx| {
        t.tx_remove(tx, &"a".to_string());
        Ok::<_, StoreError>(())
    })
    .unwrap();
    assert_eq!(t.len(), 4);
    assert!(db.drop_tree("t").unwrap());
    assert!(t.is_empty());
}

#[test]
fn writes_from_two_handles_are_serialised() {
    let e = engine();
    let url_dbs: Vec<Db> = (0..2).map(|_| e.db()).collect();
    let threads: Vec<_> = url_dbs
        .into_iter()
        .map(|db| {
            std::thread::spawn(move || {
                for _ in 0..50 {
                    db.write(|tx| tx.next_id("c").map(|_| ())).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let db = e.db();
    assert_eq!(db.write(|tx| tx.next_id("c")).unwrap(), 101, "no lost increment");
}

#[test]
fn migrations_run_once_and_a_second_connect_keeps_the_data() {
    let cluster = TempCluster::shared().unwrap();
    let url = cluster.fresh_database().unwrap();
    let a = PgEngine::connect(&url).unwrap();
    assert_eq!(a.schema_version().unwrap(), MIGRATIONS.len() as i64);
    let t: Table<u64, u64> = Table::open(&a.db(), "x").unwrap();
    a.db().write(|tx| t.tx_put(tx, &1, &7)).unwrap();
    let b = PgEngine::connect(&url).unwrap();
    let t: Table<u64, u64> = Table::open(&b.db(), "x").unwrap();
    assert_eq!(t.get(&1).unwrap(), Some(7));
}

#[test]
fn a_nonce_is_claimed_once_across_engines_until_it_expires() {
    let cluster = TempCluster::shared().unwrap();
    let url = cluster.fresh_database().unwrap();
    let (a, b) = (PgEngine::connect(&url).unwrap(), PgEngine::connect(&url).unwrap());
    let key = [7u8; 16];
    assert_eq!(a.claim(&key, Timestamp(100), Timestamp(0)), Ok(true));
    assert_eq!(b.claim(&key, Timestamp(100), Timestamp(50)), Ok(false), "replayed to the other node");
    assert_eq!(b.claim(&key, Timestamp(300), Timestamp(101)), Ok(true), "expired: new again");
    let engines = Arc::new(a);
    let wins: usize = (0..8)
        .map(|_| {
            let e = engines.clone();
            std::thread::spawn(move || e.claim(&[9; 16], Timestamp(100), Timestamp(0)) == Ok(true))
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| usize::from(h.join().unwrap()))
        .sum();
    assert_eq!(wins, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_when_called_on_a_tokio_worker_thread() {
    let db = engine().db();
    let t: Table<u64, u64> = Table::open(&db, "w").unwrap();
    db.write(|tx| t.tx_put(tx, &1, &1)).unwrap();
    assert_eq!(t.get(&1).unwrap(), Some(1));
}

#[tokio::test]
async fn works_when_called_on_a_current_thread_runtime() {
    let db = engine().db();
    let t: Table<u64, u64> = Table::open(&db, "w").unwrap();
    db.write(|tx| t.tx_put(tx, &1, &1)).unwrap();
    assert_eq!(t.get(&1).unwrap(), Some(1));
}
