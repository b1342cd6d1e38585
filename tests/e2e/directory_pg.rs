//! Issue 13 end to end: two `portald directory` processes on one real
//! PostgreSQL (a throw-away cluster) and three `portald` portals linked to both.
//! A signed request accepted by one directory node is refused when replayed to
//! the other; one node is SIGKILLed while portals publish and search, and
//! nothing published is lost: search and cross-portal work go on through the
//! other node. Fails, does not skip, without PostgreSQL.

use portalnet_core::Clock;
use portalnet_federation::Signer;
use portalnet_node::directory::client::method;
use portalnet_postgres::testing::TempCluster;
use portalnet_proto::v1 as pb;
use portalnet_tests::procnet::{DirProcess, enrol, findable, start_portal};
use portalnet_tests::{Clients, channel, fed, new_task, refusal, wait_for};
use std::path::Path;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for f in std::fs::read_dir(from).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), to.join(f.file_name())).unwrap();
    }
}

async fn dir_client(d: &DirProcess) -> pb::directory_client::DirectoryClient<tonic::transport::Channel> {
    pb::directory_client::DirectoryClient::new(channel(&d.endpoint, &d.cert).await.unwrap())
}

/// Searches `query` from `c` (through whichever directory node answers).
async fn search(c: &Clients, query: &str) -> Option<Vec<String>> {
    let req = pb::SearchRequest { query: query.into(), limit: 50, offset: 0 };
    let r = c.network.clone().search(req).await.ok()?;
    Some(r.into_inner().people.into_iter().map(|p| p.address).collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_directory_nodes_on_postgres_serve_on_when_one_is_killed() {
    let cluster = TempCluster::start().unwrap_or_else(|e| panic!("this test needs PostgreSQL: {e}"));
    let url = cluster.fresh_database().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (a_dir, b_dir) = (tmp.path().join("directory-a"), tmp.path().join("directory-b"));
    let args = vec!["--database".to_string(), url.clone()];
    let mut da = DirProcess::start_with(&a_dir, args.clone()).await.unwrap();
    // Both nodes serve the one certificate portals pin.
    copy_dir(&a_dir.join("tls"), &b_dir.join("tls"));
    let db = DirProcess::start_with(&b_dir, args).await.unwrap();
    assert!(!a_dir.join("db").exists() && !b_dir.join("db").exists(), "no sled storage: PostgreSQL");
    da.peers = vec![db.endpoint.clone()];

    let a = start_portal(tmp.path(), &da, "alpha.test", ("anna", "Anna Nowak"), |_| {}).await.unwrap();
    let b = start_portal(tmp.path(), &da, "beta.test", ("jan", "Jan Kowalski"), |_| {}).await.unwrap();
    let c = start_portal(tmp.path(), &da, "gamma.test", ("olga", "Olga Petrova"), |_| {}).await.unwrap();
    let (ua, ub, uc) = (a.user().await.unwrap(), b.user().await.unwrap(), c.user().await.unwrap());
    findable(&ua, &b.address).await.unwrap();
    findable(&ub, &c.address).await.unwrap();

    // The nodes share the data: B answers for portals registered through A, and
    // its index learned A's publishes.
    let mut on_b = dir_client(&db).await;
    let rec = on_b.lookup_portal(pb::LookupPortalRequest { portal_id: "alpha.test".into() }).await.unwrap();
    assert!(rec.into_inner().network_enabled);

    // Replay across nodes: a portal of the test's own registers through A; its
    // signed search, accepted by A, is refused by B.
    let clock = portalnet_node::clock::SystemClock;
    let probe = Signer::generate("probe.test");
    let secret = enrol(&da, "probe.test").unwrap();
    let reg = pb::RegisterPortal {
        portal_id: "probe.test".into(),
        endpoint: "https://127.0.0.1:1".into(),
        public_key: probe.verifying_key().to_bytes().to_vec(),
        enrolment_secret: secret,
        ..Default::default()
    };
    let mut on_a = dir_client(&da).await;
    on_a.register(probe.sign(method::REGISTER, "directory.test", clock.now(), &reg)).await.unwrap();
    // A portal reads the Network only while its own network is on (R13).
    let on = pb::SetNetworkRequest { enabled: true };
    on_a.set_network(probe.sign(method::SET_NETWORK, "directory.test", clock.now(), &on)).await.unwrap();
    let q = pb::SearchRequest { query: "jan".into(), limit: 10, offset: 0 };
    let signed = probe.sign(method::SEARCH, "directory.test", clock.now(), &q);
    let found = on_a.search(signed.clone()).await.unwrap().into_inner();
    assert!(found.people.iter().any(|p| p.address == b.address), "{found:?}");
    let (code, m) = refusal(on_b.search(signed.clone()).await);
    assert_eq!(code, tonic::Code::Unauthenticated, "{m}");
    assert!(m.contains("already received"), "{m}");
    // A fresh request goes through B.
    let fresh = probe.sign(method::SEARCH, "directory.test", clock.now(), &q);
    assert!(on_b.search(fresh).await.is_ok());

    // Alpha publishes people while beta searches; A dies (SIGKILL) half way.
    let mut admin_a = a.admin().await.unwrap();
    let mut added = Vec::new();
    for i in 0..10 {
        if i == 5 {
            da.kill();
        }
        let login = format!("crowd{i}");
        fed::add_person(&mut admin_a, &login, &format!("Crowd Member{i}")).await.unwrap();
        added.push(format!("{login}@alpha.test"));
        // Searches from another portal keep answering (through B once A is gone).
        wait_for("beta's search answers", || async { search(&ub, "crowd").await }).await.unwrap();
    }
    // Nothing published is lost: every person is found, from two other portals.
    for from in [&ub, &uc] {
        wait_for("every crowd member findable", || async {
            let got = search(from, "crowd").await?;
            added.iter().all(|a| got.contains(a)).then_some(())
        })
        .await
        .unwrap();
    }
    findable(&uc, &a.address).await.unwrap();
    findable(&ua, &c.address).await.unwrap();

    // Cross-portal work goes on: a task on alpha with beta responsible and a
    // new alpha person (published after the kill) observing reaches beta.
    let mut ua2 = ua.clone();
    let t = ua2
        .tasks
        .create_task(new_task("After the failover", &b.address, &[&c.address]))
        .await
        .unwrap()
        .into_inner();
    let on_beta = fed::replica_id(&ub, "alpha.test", t.id).await.unwrap();
    let on_gamma = fed::replica_id(&uc, "alpha.test", t.id).await.unwrap();
    assert!(on_beta > 0 && on_gamma > 0);

    // The survivor holds what was published through the dead node.
    let rec = on_b.lookup_portal(pb::LookupPortalRequest { portal_id: "probe.test".into() }).await.unwrap();
    assert_eq!(rec.into_inner().public_key, probe.verifying_key().to_bytes().to_vec());
    drop(db);
    drop(cluster);
}
