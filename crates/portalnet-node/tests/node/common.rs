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
