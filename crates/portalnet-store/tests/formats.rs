//! Frozen disk formats: data folders written by earlier releases open, and every
//! record in them decodes, in this build. `tests/data/portal-data-<date>.tar.gz` is
//! the `db` folder of two portals (alpha, beta) written by the release of that date
//! (`portal-data-<date>.sh` is the script that wrote it through `portald devnet`,
//! `portalctl` and swaks). A change that makes an old record unreadable fails here:
//! bump that record's version and give it a migration (`Record::migrate`) instead.

use portalnet_store::Db;
use portalnet_store::schema::Tables;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// The portals' data folders of `fixture`, unpacked into a temporary folder.
fn unpack(fixture: &str) -> tempfile::TempDir {
    let archive = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(fixture);
    let tmp = tempfile::tempdir().expect("temp dir");
    let st =
        Command::new("tar").arg("-xzf").arg(&archive).arg("-C").arg(tmp.path()).status().expect("run tar");
    assert!(st.success(), "unpacking {}", archive.display());
    tmp
}

fn counts(dir: &Path) -> (Tables, BTreeMap<&'static str, usize>) {
    let db = Db::open(&dir.join("db")).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let tables = Tables::open(&db).expect("tables");
    let counts =
        tables.decode_all().unwrap_or_else(|e| panic!("{}: a record no longer decodes: {e}", dir.display()));
    // Golden bytes: what this build writes at a record's current format is what
    // that format was when the folder was written, byte for byte.
    let changed = tables.rewritten_differently().expect("re-encode");
    assert!(
        changed.is_empty(),
        "{}: records whose stored form this build would write differently — bump their \
         version and add a migration: {changed:#?}",
        dir.display()
    );
    (tables, counts)
}

#[test]
fn the_data_folder_of_2026_12_01_opens_and_every_record_decodes() {
    let tmp = unpack("portal-data-2026-12-01.tar.gz");
    // alpha: home of a task with a responsible person on beta and an e-mail observer,
    // a comment from beta (a proposal received), a file, an invitation, a task
    // address with one mailed task, a user who reads Russian.
    let (alpha, a) = counts(&tmp.path().join("alpha.test"));
    for (table, at_least) in [
        ("settings", 1),
        ("users", 5),
        ("tokens", 4),
        ("groups", 2),
        ("tasks", 5),
        ("history", 11),
        ("comments", 3),
        ("file_blobs", 1),
        ("invitations", 1),
        ("invitation_tokens", 1),
        ("events", 11),
        ("proposal_outcomes", 1),
        ("mail_addresses", 1),
        ("task_links", 1),
        ("task_link_tokens", 1),
        ("inbound_seen", 1),
        ("peers", 1),
    ] {
        assert!(a[table] >= at_least, "alpha.{table}: {} records, expected {at_least}", a[table]);
    }
    let olga = alpha.users.get(&"olga".to_string()).ok().flatten().expect("olga");
    assert_eq!(olga.language.map(|l| l.code()), Some("ru"));
    let inv = alpha.invitations.iter().next().and_then(Result::ok).expect("an invitation").1;
    assert_eq!(inv.language.map(|l| l.code()), Some("pl"));
    // beta: the replica of that task and the proposal it sent.
    let (beta, b) = counts(&tmp.path().join("beta.test"));
    for (table, at_least) in
        [("replicas", 1), ("proposals", 1), ("events", 10), ("file_blobs", 1), ("peers", 1)]
    {
        assert!(b[table] >= at_least, "beta.{table}: {} records, expected {at_least}", b[table]);
    }
    let replica = beta.tasks.iter().filter_map(Result::ok).find(|(_, t)| t.title == "Format fixture");
    assert!(replica.is_some_and(|(_, t)| t.home.is_some()), "beta holds the replica");
}

/// Records the data folder happens not to hold (queues emptied by delivery): their
/// stored form as written today, byte for byte, reads and writes back the same.
#[test]
fn queued_records_keep_their_stored_form() {
    use portalnet_store::replication::{DeliveryRefusal, OutboxEntry};
    use portalnet_store::schema::OutboxMail;
    fn same<R: portalnet_store::Record>(json: &str) {
        let mut bytes = vec![0xB1, 0, 1];
        bytes.extend_from_slice(json.as_bytes());
        let value: R = portalnet_store::decode(&bytes).unwrap_or_else(|e| panic!("{}: {e}", R::NAME));
        let again = portalnet_store::encode(&value).expect("encode");
        assert_eq!(String::from_utf8_lossy(&again), String::from_utf8_lossy(&bytes), "{}", R::NAME);
    }
    same::<OutboxMail>(
        r#"{"id":7,"from":"portal@alpha.test","to":"guest@ext.test","message_b64":"aGk=","created_at":1764547200000,"attempts":2,"next_attempt_at":1764547260000,"last_error":"relay refused","failed":false}"#,
    );
    same::<OutboxEntry>(
        r#"{"item":{"kind":"event","task":4,"version":2,"catch_up":true},"enqueued_at":1764547200000,"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}"#,
    );
    same::<OutboxEntry>(r#"{"item":{"kind":"proposal","id":3},"enqueued_at":1764547200000}"#);
    same::<DeliveryRefusal>(
        r#"{"portal":"beta.test","version":3,"reason":"jan is not an employee here","at":1764547200000}"#,
    );
}

/// Format 1 of proposals and their outcomes stored a gRPC code for a refusal;
/// format 2 stores the portal's own kind. Old values read as the kind they meant.
#[test]
fn refusal_codes_of_format_1_read_as_kinds() {
    use portalnet_store::replication::{ProposalOutcome, ProposalRecord, ProposalState, RefusalKind};
    fn v1<R: portalnet_store::Record>(json: &str) -> R {
        let mut bytes = vec![0xB1, 0, 1];
        bytes.extend_from_slice(json.as_bytes());
        portalnet_store::decode(&bytes).unwrap_or_else(|e| panic!("{}: {e}", R::NAME))
    }
    for (code, kind) in [
        (3, RefusalKind::Malformed),
        (7, RefusalKind::Forbidden),
        (9, RefusalKind::Precondition),
        (6, RefusalKind::Precondition),
        (5, RefusalKind::NotFound),
        (13, RefusalKind::Other),
    ] {
        let o: ProposalOutcome =
            v1(&format!(r#"{{"task":4,"version":0,"rejected":"no such person","code":{code}}}"#));
        assert_eq!((o.rejected.as_deref(), o.kind), (Some("no such person"), kind));
        let p: ProposalRecord = v1(&format!(
            r#"{{"id":1,"task":2,"home":{{"portal":"beta.test","task":9}},"actor":"jan","op":{{"op":"comment","text":"hi"}},"created_at":1764547200000,"state":{{"state":"rejected","reason":"closed","code":{code}}}}}"#
        ));
        assert_eq!(p.state, ProposalState::Rejected { reason: "closed".into(), kind });
        let again = portalnet_store::encode(&p).expect("encode");
        assert!(again.starts_with(&[0xB1, 0, 2]), "written back at format 2");
        assert!(!String::from_utf8_lossy(&again).contains("\"code\""));
    }
    let applied: ProposalOutcome = v1(r#"{"task":4,"version":3,"code":0}"#);
    assert_eq!((applied.version, applied.rejected), (3, None));
}

/// Files that earlier releases kept in the database move to the blob store at
/// start: each one once, readable under the SHA-256 its task records; a second run
/// moves nothing; a crash between a blob's write and its commit (an orphan blob, a
/// temporary file) is cleaned up by the garbage collection at start.
#[test]
fn file_bytes_of_2026_12_01_move_to_the_blob_store() {
    let tmp = unpack("portal-data-2026-12-01.tar.gz");
    for portal in ["alpha.test", "beta.test"] {
        let dir = tmp.path().join(portal);
        let (tables, before) = counts(&dir);
        assert!(before["file_blobs"] >= 1, "{portal}: the fixture holds a file");
        // A crash before the move's first commit: the blob was written, the row stays.
        let (_, first) =
            tables.file_blobs.scan_prefix(&[]).next().and_then(Result::ok).expect("a file_blobs row");
        let early = tables.blobs.put(&first).expect("blob");
        std::fs::write(tables.blobs.dir().join("tmp").join("1-1"), b"half").expect("temporary file");
        let moved = tables.migrate_file_blobs().expect("migration");
        assert_eq!(moved, before["file_blobs"], "{portal}");
        assert_eq!(tables.migrate_file_blobs().expect("second run"), 0, "{portal}: idempotent");
        let got = tables.collect_blob_garbage().expect("garbage");
        assert_eq!((got.orphans, got.temporary), (0, 1), "{portal}: the early blob is named now");
        assert!(tables.blobs.contains(&early.sha256));
        drop(tables);
        // Reopened (as a restart would): every file of every task reads back intact.
        let (tables, after) = counts(&dir);
        assert_eq!(after["file_blobs"], 0, "{portal}");
        assert_eq!(after["blob_refs"], before["file_blobs"], "{portal}");
        let mut files = 0;
        for kv in tables.tasks.iter() {
            let (id, task) = kv.expect("task");
            for f in &task.files {
                let bytes =
                    tables.blobs.read(&f.sha256).expect("read").unwrap_or_else(|| {
                        panic!("{portal}: task {id} file {} ({}) has no blob", f.id, f.name)
                    });
                assert_eq!(bytes.len() as u64, f.size);
                use sha2::Digest as _;
                assert_eq!(hex::encode(sha2::Sha256::digest(&bytes)), f.sha256);
                assert!(tables.blob_named(&f.sha256).expect("refs"));
                files += 1;
            }
        }
        assert!(files >= 1, "{portal}");
        // An orphan (a blob written, the process killed before its commit) goes at start.
        let orphan = tables.blobs.put(b"never committed").expect("blob");
        let got = tables.collect_blob_garbage().expect("garbage");
        assert_eq!((got.orphans, got.temporary), (1, 0), "{portal}");
        assert!(!tables.blobs.contains(&orphan.sha256));
        assert!(tables.blobs.contains(&early.sha256));
    }
}

/// A folder of the previous release has no indexes: the first open builds them
/// (schema version 0 → current), they equal a rebuild from the rows, they answer
/// the questions the portal asks of them, and opening again rebuilds nothing.
#[test]
fn the_data_folder_of_2026_12_01_gets_its_indexes_at_open() {
    use portalnet_store::index::{Indexes, SCHEMA_VERSION, str_prefix};
    let tmp = unpack("portal-data-2026-12-01.tar.gz");
    for portal in ["alpha.test", "beta.test"] {
        let path = tmp.path().join(portal).join("db");
        {
            let db = Db::open(&path).expect("open");
            let old = Tables::open_unmigrated(&db).expect("tables");
            assert_eq!(old.schema_version().unwrap(), 0, "{portal}: the old release wrote no schema version");
            assert!(old.idx.task_status.is_empty(), "{portal}: no index before the migration");
            assert!(old.migrate().expect("migrate"), "{portal}: the first open migrates");
            assert_eq!(old.schema_version().unwrap(), SCHEMA_VERSION);
            assert_eq!(old.index_mismatches().unwrap(), Vec::<String>::new(), "{portal}");
            let tasks = old.tasks.iter().count() as i64;
            assert!(tasks > 0);
            assert_eq!(
                old.idx.totals("all").unwrap().total,
                tasks,
                "{portal}: report totals count every task"
            );
            // Every participant's tasks are found through the index.
            for kv in old.tasks.iter() {
                let (id, t) = kv.unwrap();
                for p in t.participants() {
                    let ids: Vec<u64> = Indexes::ids_under(&old.idx.task_participant, &str_prefix(p), None)
                        .map(Result::unwrap)
                        .collect();
                    assert!(ids.contains(&id), "{portal}: task {id} under {p}");
                }
            }
            let users = old.users.iter().count() as u64;
            assert_eq!(old.idx.user_counts().unwrap().all, users, "{portal}");
            db.sync().unwrap();
        }
        let db = Db::open(&path).expect("reopen");
        let again = Tables::open(&db).expect("tables");
        assert!(!again.migrate().unwrap(), "{portal}: a migrated folder is not rebuilt");
        assert_eq!(again.index_mismatches().unwrap(), Vec::<String>::new());
    }
    // alpha: users and invitations are found by address, case-insensitively.
    let db = Db::open(&tmp.path().join("alpha.test/db")).unwrap();
    let alpha = Tables::open(&db).unwrap();
    let olga = alpha.users.get(&"olga".to_string()).unwrap().unwrap();
    let (inv_id, inv) = alpha.invitations.iter().next().unwrap().unwrap();
    alpha
        .db
        .write(|tx| {
            let found = alpha.tx_user_by_email(tx, &olga.email.to_uppercase())?;
            assert_eq!(found.as_deref(), Some("olga"));
            let invs = alpha.tx_invitations_to(tx, &inv.email)?;
            assert_eq!(invs.iter().map(|i| i.id).collect::<Vec<_>>(), [inv_id]);
            Ok::<(), portalnet_store::StoreError>(())
        })
        .unwrap();
}
