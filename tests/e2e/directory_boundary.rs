//! The directory's own boundary over real gRPC/TLS (found by review in stop 24):
//! a caller without authority to register leaves no nonce behind; an origin is one
//! portal however it is spelled; a portal whose network is off reads nobody.

use ed25519_dalek::SigningKey;
use portalnet_core::Clock;
use portalnet_federation::Signer;
use portalnet_node::directory::client::method;
use portalnet_proto::v1 as pb;
use portalnet_tests::{ManualClock, TestDirectory, refusal};
use prost::Message;
use std::sync::Arc;
use tonic::Code;

const DIR: &str = "directory.test";

fn registration(s: &Signer, secret: &str) -> pb::RegisterPortal {
    pb::RegisterPortal {
        portal_id: s.portal_id().into(),
        endpoint: "https://127.0.0.1:1".into(),
        public_key: s.verifying_key().to_bytes().to_vec(),
        enrolment_secret: secret.into(),
        ..Default::default()
    }
}

/// A portal registered (with an enrolment) and its network switched on.
async fn registered(dir: &TestDirectory, clock: &ManualClock, id: &str, key: SigningKey) -> Signer {
    let s = Signer::new(id, key);
    let secret =
        portalnet_node::directory::enrolment::enrol_in_process(&dir.handle.directory, id, clock.now())
            .unwrap();
    let mut d = dir.client().await.unwrap();
    d.register(s.sign(method::REGISTER, DIR, clock.now(), &registration(&s, &secret))).await.unwrap();
    let on = pb::SetNetworkRequest { enabled: true };
    d.set_network(s.sign(method::SET_NETWORK, DIR, clock.now(), &on)).await.unwrap();
    s
}

/// Any caller can make a key that signs. A registration without authority — a
/// known id with another key and no rotation, an unknown id without enrolment —
/// is refused before its envelope is verified, so its nonce is not recorded in
/// the cache every portal's requests share (a flood of such calls would fill it
/// and turn every portal away). Shown by the real portal then using the same
/// nonce: it is not taken for a replay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registration_without_authority_leaves_no_nonce() {
    let clock = ManualClock::new();
    let dir = TestDirectory::start(Arc::new(clock.clone())).await.unwrap();
    let alpha = registered(&dir, &clock, "alpha.test", SigningKey::from_bytes(&[1; 32])).await;
    let mut d = dir.client().await.unwrap();
    let nonce = [9u8; 16];

    // A known id, another key, no rotation signature.
    let rogue = Signer::new("alpha.test", SigningKey::from_bytes(&[66; 32]));
    let body = registration(&rogue, "").encode_to_vec();
    let (code, m) =
        refusal(d.register(rogue.sign_with_nonce(method::REGISTER, DIR, clock.now(), nonce, body)).await);
    assert_eq!(code, Code::PermissionDenied, "{m}");
    let on = pb::SetNetworkRequest { enabled: true }.encode_to_vec();
    d.set_network(alpha.sign_with_nonce(method::SET_NETWORK, DIR, clock.now(), nonce, on))
        .await
        .expect("alpha's own request with that nonce is no replay");

    // An unknown id without an enrolment; then the operator enrols it.
    let newcomer = Signer::new("newcomer.test", SigningKey::from_bytes(&[2; 32]));
    let body = registration(&newcomer, "").encode_to_vec();
    let (code, m) =
        refusal(d.register(newcomer.sign_with_nonce(method::REGISTER, DIR, clock.now(), nonce, body)).await);
    assert_eq!(code, Code::PermissionDenied, "{m}");
    let secret = portalnet_node::directory::enrolment::enrol_in_process(
        &dir.handle.directory,
        "newcomer.test",
        clock.now(),
    )
    .unwrap();
    let body = registration(&newcomer, &secret).encode_to_vec();
    d.register(newcomer.sign_with_nonce(method::REGISTER, DIR, clock.now(), nonce, body))
        .await
        .expect("the enrolled registration with that nonce is no replay");
}

/// "alpha.test" with the letters of `i` upper-cased.
fn spelling(i: usize) -> String {
    "alpha.test"
        .chars()
        .enumerate()
        .map(
            |(n, c)| {
                if c != '.' && (i >> (n - usize::from(n > 5))) & 1 == 1 { c.to_ascii_uppercase() } else { c }
            },
        )
        .collect()
}

/// R16, the directory cannot be scraped: the search rate limit holds for one
/// portal however its origin is spelled (the key and the session accept any
/// spelling, so the limit must too).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_search_limit_holds_however_the_origin_is_spelled() {
    let clock = ManualClock::new();
    let dir = TestDirectory::start(Arc::new(clock.clone())).await.unwrap();
    let key = SigningKey::from_bytes(&[7; 32]);
    let alpha = registered(&dir, &clock, "alpha.test", key.clone()).await;
    let mut d = dir.client().await.unwrap();
    let q = pb::SearchRequest { query: "zz".into(), limit: 20, offset: 0 };
    // The burst, then ResourceExhausted (the manual clock stands still).
    let mut limited = false;
    for _ in 0..200 {
        if let Err(e) = d.search(alpha.sign(method::SEARCH, DIR, clock.now(), &q)).await {
            assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
            limited = true;
            break;
        }
    }
    assert!(limited, "the limit holds for one spelling");
    let session = d
        .open_session(alpha.sign(method::OPEN_SESSION, DIR, clock.now(), &pb::OpenSessionRequest {}))
        .await
        .unwrap()
        .into_inner();
    for i in 1..50 {
        let s = Signer::new(spelling(i), key.clone());
        let signed = d.search(s.sign(method::SEARCH, DIR, clock.now(), &q)).await;
        assert_eq!(signed.map_err(|e| e.code()).err(), Some(Code::ResourceExhausted), "{}", spelling(i));
        let with_session = d.search(s.with_session(method::SEARCH, DIR, &session.token, &q)).await;
        assert_eq!(with_session.map_err(|e| e.code()).err(), Some(Code::ResourceExhausted));
    }
}

/// R13: a portal whose network is off shows none of its people, and reads none
/// of anyone else's: search, e-mail and address lookups are refused
/// (FailedPrecondition), and allowed again once it is back on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_portal_whose_network_is_off_reads_nobody() {
    let clock = ManualClock::new();
    let dir = TestDirectory::start(Arc::new(clock.clone())).await.unwrap();
    let alpha = registered(&dir, &clock, "alpha.test", SigningKey::from_bytes(&[1; 32])).await;
    let off = registered(&dir, &clock, "off.test", SigningKey::from_bytes(&[2; 32])).await;
    let mut d = dir.client().await.unwrap();
    let people = pb::PublishRequest {
        upsert: vec![pb::DirectoryEntry {
            login: "jan".into(),
            display_name: "Jan Kowalski".into(),
            position: "Welder".into(),
            email: "jan@alpha.example".into(),
        }],
        ..Default::default()
    };
    d.publish(alpha.sign(method::PUBLISH, DIR, clock.now(), &people)).await.unwrap();
    let set =
        |on: bool| off.sign(method::SET_NETWORK, DIR, clock.now(), &pb::SetNetworkRequest { enabled: on });
    d.set_network(set(false)).await.unwrap();
    let q = pb::SearchRequest { query: "kowal".into(), limit: 20, offset: 0 };
    let by_email = pb::LookupEmailRequest { email: "jan@alpha.example".into() };
    let by_address = pb::LookupAddressesRequest { addresses: vec!["jan@alpha.test".into()] };
    let (c, m) = refusal(d.search(off.sign(method::SEARCH, DIR, clock.now(), &q)).await);
    assert_eq!(c, Code::FailedPrecondition, "{m}");
    assert!(m.contains("network communication is off"), "{m}");
    let (c, _) = refusal(d.lookup_email(off.sign(method::LOOKUP_EMAIL, DIR, clock.now(), &by_email)).await);
    assert_eq!(c, Code::FailedPrecondition);
    let signed = off.sign(method::LOOKUP_ADDRESSES, DIR, clock.now(), &by_address);
    assert_eq!(refusal(d.lookup_addresses(signed).await).0, Code::FailedPrecondition);
    d.set_network(set(true)).await.unwrap();
    let found = d.search(off.sign(method::SEARCH, DIR, clock.now(), &q)).await.unwrap().into_inner();
    assert_eq!(found.people.len(), 1);
}

/// A portal with more people than one publish holds (10,000) publishes them all,
/// a range of logins per call, and a later refresh removes the one dismissed in
/// a middle range (before, the one call was refused whole on every retry and
/// nobody of that portal was ever in the directory).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_portal_of_more_than_ten_thousand_people_publishes_them_all() {
    use portalnet_core::permissions::Actor;
    use portalnet_core::user::{NewUser, UserKind};
    let clock = ManualClock::new();
    let dir = TestDirectory::start(Arc::new(clock.clone())).await.unwrap();
    let alpha =
        portalnet_tests::InProcess::start_linked("alpha.test", &dir.handle, 0, Arc::new(clock.clone()))
            .await
            .unwrap();
    let portal = alpha.handle.as_ref().unwrap().state.portal.clone();
    let people = 20_500;
    let p = portal.clone();
    let now = clock.now();
    tokio::task::spawn_blocking(move || {
        // Written straight into storage (one write): adding 20,500 users one call
        // at a time would only make the test slow.
        p.tables
            .db
            .write(|tx| {
                for i in 0..people {
                    let login = format!("u{i:05}");
                    let u = NewUser::new(
                        &login,
                        &format!("Person {i}"),
                        &format!("{login}@alpha.example"),
                        "",
                        false,
                    )
                    .unwrap()
                    .into_user(now);
                    p.tables.put_user(tx, &u)?;
                }
                Ok::<_, portalnet_store::StoreError>(())
            })
            .unwrap();
    })
    .await
    .unwrap();
    let mut a = alpha.admin().await.unwrap();
    portalnet_tests::fed::enable(&mut a).await.unwrap();
    let entries = || dir.handle.directory.portal("alpha.test").unwrap().map_or(0, |p| p.entries);
    portalnet_tests::wait_for("all 20,500 people in the directory", || async {
        (entries() as usize == people).then_some(())
    })
    .await
    .unwrap();
    let admin = Actor { login: "admin".into(), admin: true, kind: UserKind::Employee };
    portal.dismiss_user(&admin, "u15000").unwrap();
    portalnet_tests::wait_for("the dismissed person out of the directory", || async {
        (entries() as usize == people - 1).then_some(())
    })
    .await
    .unwrap();
    assert!(dir.handle.directory.entry("alpha.test", "u15000").unwrap().is_none());
    assert!(dir.handle.directory.entry("alpha.test", "u14999").unwrap().is_some());
    assert!(dir.handle.directory.entry("alpha.test", "u20499").unwrap().is_some());
}
