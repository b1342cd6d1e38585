//! What the node's storage-level tests share: a portal initialised and opened on
//! real storage in a temporary folder, without a server around it.

use ed25519_dalek::VerifyingKey;
use portalnet_core::Clock;
use portalnet_portal::{MailLimits, Portal, PortalOptions};
use portalnet_store::Db;
use portalnet_store::schema::Tables;
use std::sync::Arc;

/// Mail limits that never refuse (for tests about something else).
#[allow(dead_code)]
pub fn unlimited() -> MailLimits {
    MailLimits {
        tasks_per_sender: u32::MAX,
        tasks_per_address: u32::MAX,
        replies_per_link: u32::MAX,
        ..Default::default()
    }
}

/// Portal `id` (mail from `portal@<id>`, mail domain `id`) reading `clock`; the
/// folder lives as long as the returned guard.
pub fn open_portal(
    id: &str,
    clock: Arc<dyn Clock>,
    mail_limits: MailLimits,
) -> (Portal, VerifyingKey, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(id);
    portalnet_node::init::init(&dir, id, "127.0.0.1:0".parse().unwrap(), clock.as_ref()).unwrap();
    let identity = portalnet_node::identity::Identity::load(&dir).unwrap();
    let db = Db::open(&dir.join(portalnet_node::init::DB_DIR)).unwrap();
    let options = PortalOptions {
        invite_ttl_ms: 1000,
        web_url: String::new(),
        mail_from: format!("portal@{id}"),
        signing_key: identity.signing.clone(),
        activation_delay_ms: 0,
        mail_domain: id.into(),
        mail_limits,
        language: Default::default(),
    };
    let portal = Portal::open(Tables::open(&db).unwrap(), clock, options).unwrap();
    (portal, identity.signing.verifying_key(), tmp)
}

/// A task for jan of beta.test, created by whoever creates it.
#[allow(dead_code)]
pub fn task_for_jan_at_beta(title: &str) -> portalnet_core::task::NewTask {
    portalnet_core::task::NewTask {
        title: title.into(),
        description: String::new(),
        responsible: Some("jan@beta.test".into()),
        accomplices: vec![],
        observers: vec![],
        deadline: None,
        group: None,
    }
}

/// A TLS channel to a node served from `dir`, trusting its own certificate.
#[allow(dead_code)]
pub async fn tls_channel(dir: &std::path::Path, endpoint: &str) -> tonic::transport::Channel {
    use tonic::transport::{Certificate, ClientTlsConfig, Endpoint};
    let pem = std::fs::read_to_string(dir.join("tls/cert.pem")).unwrap();
    Endpoint::from_shared(endpoint.to_string())
        .unwrap()
        .tls_config(ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pem)))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

/// [`open_portal`] on the system clock with its network on since a moment ago,
/// as a replication test's portals are.
#[allow(dead_code)]
pub fn networked_portal(id: &str) -> (Portal, VerifyingKey, tempfile::TempDir) {
    let clock = Arc::new(portalnet_node::clock::SystemClock);
    let (portal, key, tmp) = open_portal(id, clock.clone(), unlimited());
    let since = clock.now().0 - 1;
    portal
        .record_network(portalnet_core::settings::NetworkSetting {
            enabled: true,
            enabled_since: Some(portalnet_core::Timestamp(since)),
        })
        .unwrap();
    (portal, key, tmp)
}
