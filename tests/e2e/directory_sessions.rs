//! Directory sessions over real gRPC/TLS: a portal proves its key once
//! (`OpenSession`) and its searches carry the token instead of a signature. A
//! token stands in for a signature on read-only calls only, for its own portal
//! only, until it expires; a portal's client opens one session for many searches
//! and a new one when it ends.

use portalnet_core::Clock;
use portalnet_federation::Signer;
use portalnet_node::directory::client::method;
use portalnet_proto::v1 as pb;
use portalnet_tests::scrape::{scrape, value};
use portalnet_tests::{InProcess, ManualClock, TestDirectory, fed, new_user, refusal, wait_for};
use std::sync::Arc;
use std::time::Duration;
use tonic::Code;

const DIR: &str = "directory.test";

async fn registered(dir: &TestDirectory, clock: &ManualClock, id: &str) -> Signer {
    let s = Signer::generate(id);
    let reg = pb::RegisterPortal {
        portal_id: id.into(),
        endpoint: "https://127.0.0.1:1".into(),
        public_key: s.verifying_key().to_bytes().to_vec(),
        enrolment_secret: portalnet_node::directory::enrolment::enrol_in_process(
            &dir.handle.directory,
            id,
            clock.now(),
        )
        .unwrap(),
        ..Default::default()
    };
    let mut d = dir.client().await.unwrap();
    d.register(s.sign(method::REGISTER, DIR, clock.now(), &reg)).await.unwrap();
    let on = pb::SetNetworkRequest { enabled: true };
    d.set_network(s.sign(method::SET_NETWORK, DIR, clock.now(), &on)).await.unwrap();
    s
}

fn query(q: &str) -> pb::SearchRequest {
    pb::SearchRequest { query: q.into(), limit: 20, offset: 0 }
}

/// A portal linked to `dir` with Jan Kowalski published, once a search of its
/// own finds him.
async fn alpha_with_jan(dir: &TestDirectory, clock: &ManualClock) -> (InProcess, portalnet_tests::Clients) {
    let alpha = InProcess::start_linked("alpha.test", &dir.handle, 0, Arc::new(clock.clone())).await.unwrap();
    let mut a = alpha.admin().await.unwrap();
    a.users.add_user(new_user("jan", "Jan Kowalski")).await.unwrap();
    fed::enable(&mut a).await.unwrap();
    let c = a.clone();
    wait_for("jan searchable", || {
        let mut c = c.clone();
        async move {
            let r = c.network.search(query("kowal")).await.ok()?.into_inner();
            (r.people.len() == 1).then_some(())
        }
    })
    .await
    .unwrap();
    (alpha, a)
}

/// How many calls of `method` the directory answered with `code` (its metrics).
async fn calls(dir: &TestDirectory, method: &str, code: &str) -> f64 {
    let url = dir.handle.metrics_url.clone().expect("directory metrics");
    let s = scrape(&url).await.unwrap();
    value(&s, "portalnet_grpc_server_requests_total", &[("method", method), ("code", code)])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_stands_in_for_signatures_on_read_calls_only() {
    let clock = ManualClock::new();
    let dir = TestDirectory::start(Arc::new(clock.clone())).await.unwrap();
    let mut d = dir.client().await.unwrap();
    let s1 = registered(&dir, &clock, "s1.test").await;
    let s2 = registered(&dir, &clock, "s2.test").await;
    let people = pb::PublishRequest {
        upsert: vec![pb::DirectoryEntry {
            login: "jan".into(),
            display_name: "Jan Kowalski".into(),
            position: "Welder".into(),
            email: "jan@s1.example".into(),
        }],
        ..Default::default()
    };
    d.publish(s1.sign(method::PUBLISH, DIR, clock.now(), &people)).await.unwrap();

    let open = |s: &Signer| s.sign(method::OPEN_SESSION, DIR, clock.now(), &pb::OpenSessionRequest {});
    let session = d.open_session(open(&s1)).await.unwrap().into_inner();
    assert_eq!(session.token.len(), 41);
    assert_eq!(session.expires_at, clock.now().0 + portalnet_directory::SESSION_TTL_MS);
    // Searches and lookups with the token, as often as wanted (no nonce).
    for _ in 0..3 {
        let found = d.search(s1.with_session(method::SEARCH, DIR, &session.token, &query("kowal"))).await;
        let found = found.unwrap().into_inner().people;
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].address.as_str(), found[0].position.as_str()), ("jan@s1.test", "Welder"));
    }
    let lookup = pb::LookupAddressesRequest { addresses: vec!["jan@s1.test".into()] };
    let found = d
        .lookup_addresses(s1.with_session(method::LOOKUP_ADDRESSES, DIR, &session.token, &lookup))
        .await
        .unwrap();
    assert_eq!(found.into_inner().people.len(), 1);

    // Another portal presenting s1's token: refused.
    let (code, m) =
        refusal(d.search(s2.with_session(method::SEARCH, DIR, &session.token, &query("kowal"))).await);
    assert_eq!(code, Code::Unauthenticated, "{m}");
    assert!(m.contains("OpenSession"), "{m}");
    // A token for a search does not open a write: a publish with it is unsigned.
    let evil = pb::PublishRequest {
        upsert: vec![pb::DirectoryEntry {
            login: "eve".into(),
            display_name: "Eve Kowalska".into(),
            email: "eve@s1.example".into(),
            ..Default::default()
        }],
        ..Default::default()
    };
    let (code, m) = refusal(d.publish(s1.with_session(method::PUBLISH, DIR, &session.token, &evil)).await);
    assert_eq!(code, Code::InvalidArgument, "{m}");
    assert!(m.contains("nonce"), "{m}");
    // A request made out for another method is refused as a signed one would be.
    let (code, m) = refusal(
        d.search(s1.with_session(method::LOOKUP_ADDRESSES, DIR, &session.token, &query("kowal"))).await,
    );
    assert_eq!(code, Code::Unauthenticated, "{m}");
    assert!(m.contains("LookupAddresses"), "{m}");
    let found =
        d.search(s1.with_session(method::SEARCH, DIR, &session.token, &query("kowal"))).await.unwrap();
    assert_eq!(found.into_inner().people.len(), 1, "eve was not published");
    // An unregistered portal gets no session.
    let ghost = Signer::generate("ghost.test");
    assert_eq!(d.open_session(open(&ghost)).await.unwrap_err().code(), Code::Unauthenticated);

    // Expired: refused, saying so; a new session works.
    clock.advance(Duration::from_millis(portalnet_directory::SESSION_TTL_MS as u64));
    let (code, m) =
        refusal(d.search(s1.with_session(method::SEARCH, DIR, &session.token, &query("kowal"))).await);
    assert_eq!(code, Code::Unauthenticated, "{m}");
    assert!(m.contains("expired"), "{m}");
    let again = d.open_session(open(&s1)).await.unwrap().into_inner();
    d.search(s1.with_session(method::SEARCH, DIR, &again.token, &query("kowal"))).await.unwrap();
}

/// A portal's searches go through one session, renewed when it ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_portal_searches_through_one_session_and_renews_it() {
    let clock = ManualClock::new();
    let dir = TestDirectory::start(Arc::new(clock.clone())).await.unwrap();
    let (_alpha, mut a) = alpha_with_jan(&dir, &clock).await;
    let (opened, searched) = (calls(&dir, "OpenSession", "OK").await, calls(&dir, "Search", "OK").await);
    assert_eq!(opened, 1.0);
    for _ in 0..5 {
        a.network.search(query("kowal")).await.unwrap();
    }
    assert_eq!(calls(&dir, "OpenSession", "OK").await, 1.0, "five more searches, no new session");
    assert_eq!(calls(&dir, "Search", "OK").await, searched + 5.0);
    // Past its end the client opens a new one by itself.
    clock.advance(Duration::from_millis(portalnet_directory::SESSION_TTL_MS as u64));
    a.network.search(query("kowal")).await.unwrap();
    assert_eq!(calls(&dir, "OpenSession", "OK").await, 2.0);
    assert_eq!(calls(&dir, "Search", "OK").await, searched + 6.0);
}

/// A directory that opens no sessions (`sessions = false`, as one older than
/// sessions): `OpenSession` is UNIMPLEMENTED, a token is refused, and a portal
/// signs its searches instead, without asking for a session before each one
/// until [`NO_SESSIONS_RECHECK_MS`] has passed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_sessions_a_portal_signs_its_searches() {
    use portalnet_node::directory::client::NO_SESSIONS_RECHECK_MS;
    let clock = ManualClock::new();
    let dir = TestDirectory::start_with(Arc::new(clock.clone()), |cfg| cfg.sessions = false).await.unwrap();
    let mut d = dir.client().await.unwrap();
    let s1 = registered(&dir, &clock, "s1.test").await;
    let open = s1.sign(method::OPEN_SESSION, DIR, clock.now(), &pb::OpenSessionRequest {});
    let (code, msg) = refusal(d.open_session(open).await);
    assert_eq!(code, Code::Unimplemented, "{msg}");
    assert!(msg.contains("sessions = false"), "{msg}");
    // A token (even one this directory would have made) stands for nothing here.
    let forged = s1.with_session(method::SEARCH, DIR, &[1; 41], &query("kowal"));
    assert_eq!(refusal(d.search(forged).await).0, Code::Unauthenticated);
    d.search(s1.sign(method::SEARCH, DIR, clock.now(), &query("kowal"))).await.unwrap();

    let (_alpha, mut a) = alpha_with_jan(&dir, &clock).await;
    let asked = calls(&dir, "OpenSession", "UNIMPLEMENTED").await;
    assert_eq!(asked, 2.0, "the test's own call and the portal's first search");
    let searched = calls(&dir, "Search", "OK").await;
    for _ in 0..5 {
        let r = a.network.search(query("kowal")).await.unwrap().into_inner();
        assert_eq!(r.people.len(), 1);
    }
    assert_eq!(calls(&dir, "OpenSession", "UNIMPLEMENTED").await, asked, "remembered: not asked again");
    assert_eq!(calls(&dir, "Search", "OK").await, searched + 5.0);
    // Later the portal asks again (the directory may have been upgraded).
    clock.advance(Duration::from_millis(NO_SESSIONS_RECHECK_MS as u64));
    a.network.search(query("kowal")).await.unwrap();
    assert_eq!(calls(&dir, "OpenSession", "UNIMPLEMENTED").await, asked + 1.0);
    assert_eq!(calls(&dir, "Search", "OK").await, searched + 6.0);
}

/// A directory restarted with `sessions = false` refuses the token a portal
/// holds; the portal asks for a new session, is told there are none, and
/// signs the same search instead: the search is answered, not refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_portal_goes_on_searching_when_its_directory_stops_opening_sessions() {
    let clock = ManualClock::new();
    let dir = TestDirectory::start(Arc::new(clock.clone())).await.unwrap();
    let (_alpha, mut a) = alpha_with_jan(&dir, &clock).await;
    let dir = dir.restarted(Arc::new(clock.clone()), |cfg| cfg.sessions = false).await.unwrap();
    let r = a.network.search(query("kowal")).await.unwrap().into_inner();
    assert_eq!(r.people.len(), 1);
    assert_eq!(calls(&dir, "Search", "UNAUTHENTICATED").await, 1.0, "the held token, refused");
    assert_eq!(calls(&dir, "OpenSession", "UNIMPLEMENTED").await, 1.0);
    assert_eq!(calls(&dir, "Search", "OK").await, 1.0, "the same search, signed");
}
