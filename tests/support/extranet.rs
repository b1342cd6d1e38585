//! Extranet users made the way people become one (R1–R4): an extranet group, an
//! invitation by e-mail, the token read from the `.eml` the portal wrote, accepted
//! with the invitation token as the only credential.

use crate::{Clients, Node, channel, wait_for};
use anyhow::{Context, Result};
use portalnet_proto::v1 as pb;

/// Invites `email` into a new extranet group of the admin's portal and accepts the
/// invitation as `name`; returns the acceptance (the user and their API token).
pub async fn extranet_user(
    node: &dyn Node,
    admin: &Clients,
    email: &str,
    name: &str,
) -> Result<pb::AcceptResponse> {
    let mut a = admin.clone();
    let req = pb::CreateGroupRequest {
        name: format!("Contractors of {email}"),
        extranet: true,
        invite_emails: vec![email.to_string()],
        ..Default::default()
    };
    a.groups.create_group(req).await.context("create an extranet group")?;
    let token = invitation_token(node, email).await?;
    let mut c = pb::invitation_service_client::InvitationServiceClient::new(
        channel(node.endpoint(), &node.ca()).await?,
    );
    let req = pb::AcceptRequest { token, display_name: name.into(), login: String::new() };
    Ok(c.accept(req).await.context("accept the invitation")?.into_inner())
}

/// The token of the newest invitation e-mail to `to` in the portal's mail outbox.
async fn invitation_token(node: &dyn Node, to: &str) -> Result<String> {
    let dir = node.dir().join("mail/outbox");
    wait_for(&format!("an invitation e-mail to {to}"), || {
        let dir = dir.clone();
        async move {
            for e in std::fs::read_dir(&dir).ok()? {
                let raw = std::fs::read(e.ok()?.path()).ok()?;
                let msg = mail_parser::MessageParser::default().parse(&raw)?;
                if msg.to().and_then(|a| a.first()).and_then(|a| a.address()) != Some(to) {
                    continue;
                }
                let body = msg.body_text(0)?;
                let (_, rest) = body.split_once("/invite/")?;
                let token: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                    .collect();
                return Some(token);
            }
            None
        }
    })
    .await
}
