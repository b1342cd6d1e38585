//! The durable mail outbox with a real SMTP relay (aiosmtpd): an invitation queued
//! while the relay is down is kept across a restart and delivered once the relay is
//! up; then the invitee accepts with the token from the delivered message.

use portalnet_proto::v1 as pb;
use portalnet_tests::smtp::{CaptureSmtp, free_port};
use portalnet_tests::{InProcess, Node, wait_for};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitations_wait_for_the_relay_and_survive_restarts() {
    let mut node = InProcess::start("alpha.test").await.unwrap();
    let port = free_port();
    node.reconfigure(|c| c.mail.smtp_relay = Some(format!("127.0.0.1:{port}"))).await.unwrap();
    let mut admin = node.admin().await.unwrap();
    let g = portalnet_tests::invite_into_new_group(&mut admin, "Ext", "guest@ext.test").await;

    // Nobody listens on the relay port: the message stays queued, with the error.
    let tables = node.handle.as_ref().unwrap().state.portal.tables.clone();
    let queued = wait_for("a failed delivery attempt", || {
        let t = tables.clone();
        async move {
            let m = t.mail_outbox.iter().next()?.ok()?.1;
            (m.attempts > 0).then_some(m)
        }
    })
    .await
    .unwrap();
    assert!(queued.last_error.is_some() && !queued.failed, "{queued:?}");
    node.handle.take().unwrap().stop().await.unwrap();
    drop(tables);

    // The relay comes up; the restarted node delivers what was queued.
    let relay = CaptureSmtp::start(port);
    node.restart().await.unwrap();
    let msg = wait_for("the invitation at the relay", || {
        let m = relay.messages();
        async move { m.into_iter().next() }
    })
    .await
    .unwrap();
    let parsed = mail_parser::MessageParser::default().parse(&msg).unwrap();
    assert_eq!(parsed.subject(), Some("Invitation to Ext on alpha.test"));
    let body = parsed.body_text(0).unwrap().into_owned();
    let token =
        body.split("portalctl invite accept ").nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    let ch = portalnet_tests::channel(node.endpoint(), &node.ca()).await.unwrap();
    let accepted = pb::invitation_service_client::InvitationServiceClient::new(ch)
        .accept(pb::AcceptRequest { token, display_name: "Guest".into(), login: String::new() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(accepted.group_ids, vec![g.id]);
    // Delivered once, and the outbox is empty.
    let tables = node.handle.as_ref().unwrap().state.portal.tables.clone();
    wait_for("an empty outbox", || {
        let t = tables.clone();
        async move { t.mail_outbox.is_empty().then_some(()) }
    })
    .await
    .unwrap();
    assert_eq!(relay.messages().len(), 1);
}
