//! The Network (R11, R13–R16) with a real directory and real portals over TLS:
//! registration, signed requests refused when forged, replayed, misdirected or
//! stale, key rotation, the network setting reflected in search, the activation
//! time with an injected clock, Unicode search, limits, and R11 end to end.

use ed25519_dalek::SigningKey;
use portalnet_federation::Signer;
use portalnet_proto::v1 as pb;
use portalnet_tests::{Clients, InProcess, ManualClock, TestDirectory, new_group, new_user, wait_for};
use std::sync::Arc;
use std::time::Duration;
use tonic::Code;

const DAY: u64 = 24 * 3600;

struct Net {
    clock: ManualClock,
    dir: TestDirectory,
    alpha: InProcess,
    beta: InProcess,
    a: Clients,
    b: Clients,
}

async fn net() -> Net {
    let clock = ManualClock::new();
    let dir = TestDirectory::start(Arc::new(clock.clone())).await.unwrap();
    let alpha =
        InProcess::start_linked("alpha.test", &dir.handle, DAY, Arc::new(clock.clone())).await.unwrap();
    let beta = InProcess::start_linked("beta.test", &dir.handle, DAY, Arc::new(clock.clone())).await.unwrap();
    let (a, b) = (alpha.admin().await.unwrap(), beta.admin().await.unwrap());
    Net { clock, dir, alpha, beta, a, b }
}

async fn add(c: &mut Clients, login: &str, name: &str, email: &str) {
    let mut u = new_user(login, name);
    u.email = email.into();
    c.users.add_user(u).await.unwrap();
}

async fn registered(dir: &TestDirectory, portal: &str) -> pb::PortalRecord {
    let d = dir.client().await.unwrap();
    let id = portal.to_string();
    wait_for(&format!("{portal} registered"), || {
        let (mut d, id) = (d.clone(), id.clone());
        async move {
            d.lookup_portal(pb::LookupPortalRequest { portal_id: id }).await.ok().map(|r| r.into_inner())
        }
    })
    .await
    .unwrap()
}

async fn search(c: &mut Clients, q: &str) -> Result<Vec<pb::Person>, tonic::Status> {
    c.network
        .search(pb::SearchRequest { query: q.into(), limit: 50, offset: 0 })
        .await
        .map(|r| r.into_inner().people)
}

/// Waits until a search from `c` for `q` returns exactly `want` (addresses).
async fn search_settles(c: &Clients, q: &str, want: &[&str]) {
    let want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
    wait_for(&format!("search {q:?} → {want:?}"), || {
        let (mut c, q, want) = (c.clone(), q.to_string(), want.clone());
        async move {
            let got: Vec<String> = search(&mut c, &q).await.ok()?.into_iter().map(|p| p.address).collect();
            (got == want).then_some(())
        }
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_network_setting_and_search() {
    let mut n = net().await;
    let rec = registered(&n.dir, "alpha.test").await;
    let info = n.a.portal.info(pb::InfoRequest {}).await.unwrap().into_inner();
    assert_eq!(hex(&rec.public_key), info.public_key, "the directory holds alpha's own key");
    assert!(!rec.network_enabled);
    registered(&n.dir, "beta.test").await;

    add(&mut n.a, "lukasz", "Łukasz Ślązak", "lukasz@alpha.test").await;
    add(&mut n.a, "jan", "Jan Kowalski", "jan@firma.pl").await;
    add(&mut n.b, "anton", "Антон Ёлкин", "anton@beta.test").await;
    n.b.users.add_user(new_user("emile", "ÉMILE Müller-Nowak")).await.unwrap();

    // Off: searching is refused with what to do.
    let e = search(&mut n.b, "lukasz").await.unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);
    assert!(e.message().contains("network enable"), "{}", e.message());
    // Only admins switch it.
    let (_, tok) = token(&mut n.b, "anton").await;
    let mut anton = n.beta.clients(&tok).await.unwrap();
    assert_eq!(anton.network.enable(pb::NetworkRequest {}).await.unwrap_err().code(), Code::PermissionDenied);

    // On, on both: each finds the other's people (R16), never the e-mail.
    let st = n.a.network.enable(pb::NetworkRequest {}).await.unwrap().into_inner();
    assert!(st.enabled && !st.cross_portal_available_now);
    // R15: available one day after switching on, by the injected clock.
    assert_eq!(st.cross_portal_available_from, st.enabled_since + (DAY as i64) * 1000);
    n.b.network.enable(pb::NetworkRequest {}).await.unwrap();
    search_settles(&n.b, "lukasz", &["lukasz@alpha.test"]).await;
    let people = search(&mut anton, "ślązak").await.unwrap();
    assert_eq!(
        (people[0].display_name.as_str(), people[0].portal_id.as_str()),
        ("Łukasz Ślązak", "alpha.test")
    );
    // Unicode folding, as a table, across real nodes.
    for (q, who) in [
        ("lukasz", "lukasz@alpha.test"),
        ("ŁUKASZ", "lukasz@alpha.test"),
        ("slazak", "lukasz@alpha.test"),
        ("антон", "anton@beta.test"),
        ("Антон", "anton@beta.test"),
        ("елкин", "anton@beta.test"),
        ("Ёлкин", "anton@beta.test"),
        ("emile", "emile@beta.test"),
        ("muller", "emile@beta.test"),
        ("nowak", "emile@beta.test"),
        ("jan kow", "jan@alpha.test"),
        ("kowalski jan", "jan@alpha.test"),
    ] {
        let got: Vec<String> = search(&mut n.a, q).await.unwrap().into_iter().map(|p| p.address).collect();
        assert_eq!(got, [who], "query {q:?}");
    }
    // Extranet users are never published; admins neither (not a person).
    assert!(search(&mut n.a, "portal administrator").await.unwrap().is_empty());

    // Activation: not yet; a day later, yes.
    n.clock.advance(Duration::from_secs(DAY));
    assert!(n.a.network.status(pb::NetworkRequest {}).await.unwrap().into_inner().cross_portal_available_now);

    // Exact lookup by e-mail (case-insensitive) finds one person; the address
    // itself never comes back (the reply has no field for it).
    let key = portalnet_node::identity::Identity::load(&n.beta.dir).unwrap().signing;
    let beta = Signer::new("beta.test", key);
    let mut d = n.dir.client().await.unwrap();
    let req = beta.sign(
        "/portalnet.v1.Directory/LookupEmail",
        "directory.test",
        portalnet_core::Clock::now(&n.clock),
        &pb::LookupEmailRequest { email: "LUKASZ@Alpha.Test".into() },
    );
    let found = d.lookup_email(req).await.unwrap().into_inner().people;
    assert_eq!(found.iter().map(|p| p.address.as_str()).collect::<Vec<_>>(), ["lukasz@alpha.test"]);

    // Renames and dismissals reach the directory.
    n.a.users
        .update_user(pb::UpdateUserRequest {
            login: "lukasz".into(),
            display_name: Some("Łukasz Nowicki".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    search_settles(&n.b, "nowicki", &["lukasz@alpha.test"]).await;
    search_settles(&n.b, "slazak", &[]).await;
    n.a.users.dismiss_user(pb::DismissUserRequest { login: "jan".into() }).await.unwrap();
    search_settles(&n.b, "kowalski", &[]).await;

    // Off again: alpha's people leave search within a bounded time.
    let st = n.a.network.disable(pb::NetworkRequest {}).await.unwrap().into_inner();
    assert!(!st.enabled && st.cross_portal_available_from == 0);
    search_settles(&n.b, "nowicki", &[]).await;
    // On again: back, with a new activation time.
    let st = n.a.network.enable(pb::NetworkRequest {}).await.unwrap().into_inner();
    assert!(!st.cross_portal_available_now);
    search_settles(&n.b, "nowicki", &["lukasz@alpha.test"]).await;

    // Limits: short queries and big pages are refused.
    assert_eq!(search(&mut n.a, "l").await.unwrap_err().code(), Code::InvalidArgument);
    let e =
        n.a.network.search(pb::SearchRequest { query: "lu".into(), limit: 51, offset: 0 }).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    // Extranet users may not search (R7).
    drop(n.alpha);
    drop(n.beta);
}

async fn token(c: &mut Clients, login: &str) -> (String, String) {
    let t =
        c.users.issue_token(pb::IssueTokenRequest { login: login.into() }).await.unwrap().into_inner().token;
    (login.to_string(), t)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Signed requests sent straight to the directory: each kind of forgery gets its
/// own refusal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_replayed_misdirected_and_stale_requests_are_refused() {
    let n = net().await;
    registered(&n.dir, "alpha.test").await;
    let mut d = n.dir.client().await.unwrap();
    let key = portalnet_node::identity::Identity::load(&n.alpha.dir).unwrap().signing;
    let alpha = Signer::new("alpha.test", key.clone());
    let now = portalnet_core::Clock::now(&n.clock);
    let m = "/portalnet.v1.Directory/SetNetwork";
    let body = pb::SetNetworkRequest { enabled: false };

    // Genuine, then replayed.
    let ok = alpha.sign(m, "directory.test", now, &body);
    d.set_network(ok.clone()).await.unwrap();
    let e = d.set_network(ok).await.unwrap_err();
    assert!(e.code() == Code::Unauthenticated && e.message().contains("already"), "{e:?}");

    let mallory = Signer::new("alpha.test", SigningKey::from_bytes(&[7; 32]));
    let ghost = Signer::new("ghost.test", SigningKey::from_bytes(&[9; 32]));
    let mut tampered = alpha.sign(m, "directory.test", now, &body);
    tampered.payload = prost::Message::encode_to_vec(&pb::SetNetworkRequest { enabled: true });
    let cases: Vec<(&str, pb::Signed, &str)> = vec![
        ("wrong key", mallory.sign(m, "directory.test", now, &body), "signature"),
        ("unknown portal", ghost.sign(m, "directory.test", now, &body), "not registered"),
        ("wrong destination", alpha.sign(m, "gamma.test", now, &body), "gamma.test"),
        (
            "other method",
            alpha.sign("/portalnet.v1.Directory/Publish", "directory.test", now, &body),
            "method",
        ),
        ("6 minutes old", alpha.sign(m, "directory.test", now.plus_millis(-6 * 60_000), &body), "clock"),
        ("6 minutes ahead", alpha.sign(m, "directory.test", now.plus_millis(6 * 60_000), &body), "clock"),
        ("tampered payload", tampered, "signature"),
    ];
    let mut messages = Vec::new();
    for (what, req, want) in cases {
        let e = d.set_network(req).await.unwrap_err();
        assert!(matches!(e.code(), Code::Unauthenticated | Code::InvalidArgument), "{what}: {e:?}");
        assert!(
            e.message().to_lowercase().contains(want),
            "{what}: {:?} should mention {want:?}",
            e.message()
        );
        messages.push(e.message().to_string());
    }
    messages.dedup();
    assert!(messages.len() >= 6, "refusals must be distinct: {messages:?}");

    // Registration needs possession of the key: a registration for alpha signed by
    // mallory's key (claiming alpha's key) fails; a new key without a rotation
    // signature by the old one is refused.
    let reg = |s: &Signer, key: &[u8]| {
        s.sign(
            "/portalnet.v1.Directory/Register",
            "directory.test",
            now,
            &pb::RegisterPortal {
                portal_id: "alpha.test".into(),
                endpoint: "https://127.0.0.1:1".into(),
                public_key: key.to_vec(),
                rotation_signature: vec![],
                tls_certificate: String::new(),
                enrolment_secret: String::new(),
            },
        )
    };
    let e = d.register(reg(&mallory, key.verifying_key().as_bytes())).await.unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated, "{e:?}");
    let e = d.register(reg(&mallory, mallory.verifying_key().as_bytes())).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied, "{e:?}");
    assert!(e.message().contains("rotation"), "{}", e.message());
    // With the old key's signature, the new key is taken; the old one is kept.
    let new = SigningKey::from_bytes(&[3; 32]);
    let new_signer = Signer::new("alpha.test", new.clone());
    let mut rotate = pb::RegisterPortal {
        portal_id: "alpha.test".into(),
        endpoint: "https://127.0.0.1:1".into(),
        public_key: new.verifying_key().to_bytes().to_vec(),
        rotation_signature: vec![],
        tls_certificate: String::new(),
        enrolment_secret: String::new(),
    };
    rotate.rotation_signature =
        portalnet_federation::sign_rotation(&key, "alpha.test", &new.verifying_key().to_bytes()).to_vec();
    let rec = d
        .register(new_signer.sign("/portalnet.v1.Directory/Register", "directory.test", now, &rotate))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rec.public_key, new.verifying_key().to_bytes().to_vec());
    assert_eq!(rec.previous_keys, vec![key.verifying_key().to_bytes().to_vec()]);
    // The old key no longer speaks for alpha.
    assert_eq!(
        d.set_network(alpha.sign(m, "directory.test", now, &body)).await.unwrap_err().code(),
        Code::Unauthenticated
    );
}

/// R11 end to end: an address in use cannot be invited; the person changes the
/// e-mail of their Network account; the old address is free and the invitation
/// goes through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r11_changing_the_account_email_frees_the_address() {
    let mut n = net().await;
    add(&mut n.a, "jan", "Jan Kowalski", "jan@firma.pl").await;
    n.a.network.enable(pb::NetworkRequest {}).await.unwrap();
    n.b.network.enable(pb::NetworkRequest {}).await.unwrap();
    search_settles(&n.b, "kowalski", &["jan@alpha.test"]).await;
    let g = new_group(
        &mut n.a.groups,
        pb::CreateGroupRequest { name: "Ext".into(), extranet: true, ..Default::default() },
    )
    .await;
    let e =
        n.a.invites
            .invite(pb::InviteRequest { email: "JAN@firma.pl".into(), group_id: g.id, ..Default::default() })
            .await
            .unwrap_err();
    assert_eq!(e.code(), Code::AlreadyExists);
    assert!(e.message().contains("Network account"), "{}", e.message());

    let (_, t) = token(&mut n.a, "jan").await;
    let mut jan = n.alpha.clients(&t).await.unwrap();
    let acc = jan
        .network
        .set_account_email(pb::SetAccountEmailRequest { email: "jan.k@private.pl".into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(acc.addresses, ["jan@alpha.test"]);
    assert_eq!(
        jan.users.who_am_i(pb::WhoAmIRequest {}).await.unwrap().into_inner().email,
        "jan.k@private.pl"
    );
    n.a.invites
        .invite(pb::InviteRequest { email: "JAN@firma.pl".into(), group_id: g.id, ..Default::default() })
        .await
        .unwrap();
    // Another account cannot take an address in use.
    add(&mut n.b, "anna", "Anna", "anna@beta.test").await;
    search_settles(&n.a, "anna", &["anna@beta.test"]).await;
    let (_, t) = token(&mut n.b, "anna").await;
    let mut anna = n.beta.clients(&t).await.unwrap();
    let e = anna
        .network
        .set_account_email(pb::SetAccountEmailRequest { email: "Jan.K@private.pl".into() })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::AlreadyExists, "{e:?}");
}

/// The directory limits each portal's search rate (R16: no wholesale scraping).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_rate_is_limited_per_portal() {
    let mut n = net().await;
    n.a.network.enable(pb::NetworkRequest {}).await.unwrap();
    let mut limited = 0;
    for _ in 0..200 {
        match search(&mut n.a, "zz").await {
            Ok(_) => {}
            Err(e) if e.code() == Code::ResourceExhausted => {
                limited += 1;
                break;
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(limited, 1, "200 searches in a row must hit the limit");
    // Another portal is not affected.
    n.b.network.enable(pb::NetworkRequest {}).await.unwrap();
    search(&mut n.b, "zz").await.unwrap();
    // Time heals (the directory reads the same injected clock).
    n.clock.advance(Duration::from_secs(60));
    search(&mut n.a, "zz").await.unwrap();
}
