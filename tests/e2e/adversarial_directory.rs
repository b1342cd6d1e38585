//! Issue 11 (2, 3) end to end over real gRPC/TLS: a rogue portal holding its own
//! ed25519 key talks to the directory directly. It cannot register a portal id
//! without the operator's enrolment secret for exactly that id, and publishing
//! another person's e-mail neither links it into their Network account nor stops
//! them changing their account's e-mail through their own portal (R11).

use portalnet_core::Clock;
use portalnet_federation::Signer;
use portalnet_node::directory::client::method;
use portalnet_proto::v1 as pb;
use portalnet_tests::{Clients, InProcess, ManualClock, TestDirectory, fed, new_user, refusal, wait_for};
use std::sync::Arc;
use tonic::Code;

const ROGUE: &str = "rogue.test";
const ANNA: &str = "anna@mail.example";

fn register(s: &Signer, secret: &str, now: portalnet_core::Timestamp) -> pb::Signed {
    let reg = pb::RegisterPortal {
        portal_id: s.portal_id().into(),
        endpoint: "https://127.0.0.1:1".into(),
        public_key: s.verifying_key().to_bytes().to_vec(),
        enrolment_secret: secret.into(),
        ..Default::default()
    };
    s.sign(method::REGISTER, "directory.test", now, &reg)
}

async fn lookup(dir: &TestDirectory, id: &str) -> Result<pb::PortalRecord, tonic::Status> {
    let mut d = dir.client().await.unwrap();
    d.lookup_portal(pb::LookupPortalRequest { portal_id: id.into() }).await.map(|r| r.into_inner())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rogue_cannot_register_an_id_without_proof() {
    let clock = ManualClock::new();
    let dir = TestDirectory::start(Arc::new(clock.clone())).await.unwrap();
    let mut d = dir.client().await.unwrap();
    let rogue = Signer::generate(ROGUE);

    // No secret: refused, saying what to do; nothing stored.
    let (code, m) = refusal(d.register(register(&rogue, "", clock.now())).await);
    assert_eq!(code, Code::PermissionDenied, "{m}");
    assert!(m.contains("portald directory enrol") && m.contains(ROGUE), "{m}");
    assert_eq!(lookup(&dir, ROGUE).await.unwrap_err().code(), Code::NotFound);

    // A secret the operator enrolled for another id: refused, still nothing stored.
    let other = portalnet_node::directory::enrolment::enrol_in_process(
        &dir.handle.directory,
        "other.test",
        clock.now(),
    )
    .unwrap();
    let (code, m) = refusal(d.register(register(&rogue, &other, clock.now())).await);
    assert_eq!(code, Code::PermissionDenied, "{m}");
    assert!(m.contains("another portal id"), "{m}");
    assert_eq!(lookup(&dir, ROGUE).await.unwrap_err().code(), Code::NotFound);
    // A made-up secret: refused.
    let (code, _) =
        refusal(d.register(register(&rogue, "pne_guessedguessedguessedguessed", clock.now())).await);
    assert_eq!(code, Code::PermissionDenied);
    assert_eq!(lookup(&dir, ROGUE).await.unwrap_err().code(), Code::NotFound);
    // Unregistered, its signed calls are refused.
    let on = pb::SetNetworkRequest { enabled: true };
    let e =
        d.set_network(rogue.sign(method::SET_NETWORK, "directory.test", clock.now(), &on)).await.unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated, "{e:?}");

    // A registered id is not taken over with a secret for it either.
    let alpha = InProcess::start_linked("alpha.test", &dir.handle, 0, Arc::new(clock.clone())).await.unwrap();
    let rec = wait_for("alpha registered", || async { lookup(&dir, "alpha.test").await.ok() }).await.unwrap();
    let again = portalnet_node::directory::enrolment::enrol_in_process(
        &dir.handle.directory,
        "alpha.test",
        clock.now(),
    )
    .unwrap();
    let thief = Signer::generate("alpha.test");
    let (code, m) = refusal(d.register(register(&thief, &again, clock.now())).await);
    assert_eq!(code, Code::PermissionDenied, "{m}");
    assert_eq!(lookup(&dir, "alpha.test").await.unwrap().public_key, rec.public_key);
    // The enrolled portal spent its secret and removed it from its data folder.
    let spent = alpha.dir.join(portalnet_node::directory::enrolment::PORTAL_SECRET_FILE);
    wait_for("alpha's spent secret removed", || {
        let gone = !spent.exists();
        async move { gone.then_some(()) }
    })
    .await
    .unwrap();

    // With the secret enrolled for exactly its id, the same key registers.
    let mine =
        portalnet_node::directory::enrolment::enrol_in_process(&dir.handle.directory, ROGUE, clock.now())
            .unwrap();
    d.register(register(&rogue, &mine, clock.now())).await.unwrap();
    assert_eq!(lookup(&dir, ROGUE).await.unwrap().public_key, rogue.verifying_key().to_bytes().to_vec());
}

async fn account(c: &mut Clients) -> pb::Account {
    c.network.account_requests(pb::NetworkRequest {}).await.unwrap().into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rogue_publishing_someones_email_neither_links_nor_freezes_their_account() {
    let clock = ManualClock::new();
    let dir = TestDirectory::start(Arc::new(clock.clone())).await.unwrap();
    let alpha = InProcess::start_linked("alpha.test", &dir.handle, 0, Arc::new(clock.clone())).await.unwrap();
    let mut admin = alpha.admin().await.unwrap();
    let mut u = new_user("anna", "Anna Nowak");
    u.email = ANNA.into();
    admin.users.add_user(u).await.unwrap();
    let token = admin
        .users
        .issue_token(pb::IssueTokenRequest { login: "anna".into() })
        .await
        .unwrap()
        .into_inner()
        .token;
    let mut anna = alpha.clients(&token).await.unwrap();
    fed::enable(&mut admin).await.unwrap();
    let store = dir.handle.directory.clone();
    wait_for("anna published", || {
        let found = store.account_of("alpha.test", "anna").ok().flatten().is_some();
        async move { found.then_some(()) }
    })
    .await
    .unwrap();

    // A rogue portal (enrolled, then misbehaving) publishes Anna's e-mail.
    let rogue = Signer::generate(ROGUE);
    let mut d = dir.client().await.unwrap();
    let secret = portalnet_node::directory::enrolment::enrol_in_process(&store, ROGUE, clock.now()).unwrap();
    d.register(register(&rogue, &secret, clock.now())).await.unwrap();
    let on = pb::SetNetworkRequest { enabled: true };
    d.set_network(rogue.sign(method::SET_NETWORK, "directory.test", clock.now(), &on)).await.unwrap();
    let publish = |email: &str| pb::PublishRequest {
        upsert: vec![pb::DirectoryEntry {
            login: "mallory".into(),
            display_name: "Anna Nowak".into(),
            position: String::new(),
            email: email.into(),
        }],
        replace_all: true,
        ..Default::default()
    };
    d.publish(rogue.sign(method::PUBLISH, "directory.test", clock.now(), &publish("ANNA@Mail.Example")))
        .await
        .unwrap();

    // Not linked: Anna's account is hers alone, the rogue's address only asks.
    let a = account(&mut anna).await;
    assert_eq!(a.addresses, ["anna@alpha.test"]);
    assert_eq!(a.owner, "anna@alpha.test");
    assert_eq!(a.requests, ["mallory@rogue.test"]);
    assert_eq!(store.account_of(ROGUE, "mallory").unwrap(), None);
    let found = d
        .lookup_email(rogue.sign(
            method::LOOKUP_EMAIL,
            "directory.test",
            clock.now(),
            &pb::LookupEmailRequest { email: ANNA.into() },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(found.people.iter().map(|p| p.address.as_str()).collect::<Vec<_>>(), ["anna@alpha.test"]);

    // The rogue cannot approve itself, nor speak for Anna.
    let approve =
        |login: &str| pb::ApproveLinkRequest { login: login.into(), address: "mallory@rogue.test".into() };
    let e = d
        .approve_link(rogue.sign(method::APPROVE_LINK, "directory.test", clock.now(), &approve("mallory")))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");
    let e = d
        .approve_link(rogue.sign(method::APPROVE_LINK, "directory.test", clock.now(), &approve("anna")))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound, "{e:?}");

    // Not frozen: Anna changes her account's e-mail through her portal (R11).
    let acc = anna
        .network
        .set_account_email(pb::SetAccountEmailRequest { email: "anna@new.example".into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(acc.addresses, ["anna@alpha.test"]);
    assert_eq!(store.account_of("alpha.test", "anna").unwrap().unwrap().email, "anna@new.example");

    // Consent: the rogue asks again under the new e-mail; only Anna's approval,
    // through her portal, links it — and she still owns the account.
    d.publish(rogue.sign(method::PUBLISH, "directory.test", clock.now(), &publish("anna@new.example")))
        .await
        .unwrap();
    assert_eq!(account(&mut anna).await.requests, ["mallory@rogue.test"]);
    let acc = anna
        .network
        .approve_account_link(pb::ApproveAccountLinkRequest { address: "mallory@rogue.test".into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(acc.addresses, ["anna@alpha.test", "mallory@rogue.test"]);
    let change =
        pb::ChangeAccountEmailRequest { login: "mallory".into(), new_email: "x@evil.example".into() };
    let e = d
        .change_account_email(rogue.sign(
            method::CHANGE_ACCOUNT_EMAIL,
            "directory.test",
            clock.now(),
            &change,
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied, "{e:?}");
    anna.network
        .set_account_email(pb::SetAccountEmailRequest { email: "anna@third.example".into() })
        .await
        .unwrap();
}
