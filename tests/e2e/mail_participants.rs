//! E-mail participants (R21–R24) against a real `portald` process: the notices it
//! writes (as `.eml` files by default, or over real SMTP to an aiosmtpd relay),
//! replies sent back with `swaks` over LMTP, threads, revocation and reports.

use portalnet_proto::v1 as pb;
use portalnet_tests::mailnode::{MailNode, Via, messages_to};
use portalnet_tests::smtp::{CaptureSmtp, free_port};
use portalnet_tests::{Clients, ctl_json, wait_for};

const JOE: &str = "joe@example.org";
const OLGA: &str = "olga@example.org";

async fn comments(c: &Clients, task: u64) -> Vec<pb::Comment> {
    let mut c = c.clone();
    c.tasks
        .list_comments(pb::ListCommentsRequest { task_id: task, ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .comments
}

async fn task(c: &Clients, id: u64) -> pb::Task {
    let mut c = c.clone();
    c.tasks.get_task(pb::GetTaskRequest { id }).await.unwrap().into_inner()
}

/// R21–R23: plain addresses as responsible and observer get a notice with a link
/// and a reply address; replies become their comments; changes are mailed in one
/// thread; a reply from someone else, or after revocation, is refused (R24 counts).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_participants_are_notified_and_reply_by_mail() {
    let m = MailNode::start("alpha.test", None).await.unwrap();
    let token = m.employee("anna", "Anna Nowak").await.unwrap();
    let mut anna = m.node.clients(&token).await.unwrap();
    let t = anna
        .tasks
        .create_task(pb::CreateTaskRequest {
            title: "Dach przecieka <b>pilne</b>".into(),
            description: "Nad salą 3.\n<script>alert(1)</script>".into(),
            responsible: "mailto:Joe@Example.org".into(),
            observers: vec![format!("mailto:{OLGA}")],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(t.responsible, format!("mailto:{JOE}"), "kept lowercased, with its prefix");
    // A plain `name@domain` is a person of portal `domain`: the prefix is required.
    let e = anna
        .tasks
        .create_task(pb::CreateTaskRequest {
            title: "x".into(),
            responsible: "joe@nodot".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(e.message().contains("mailto:joe@nodot"), "{e:?}");

    // R21: each gets one notice, text and HTML, link and a personal reply address.
    let joe_first = m.wait_mail(JOE, 1).await.remove(0);
    assert_eq!(joe_first.subject, "[alpha.test] Dach przecieka <b>pilne</b>");
    assert!(
        joe_first.text.contains("Anna Nowak added you to the task")
            && joe_first.text.contains("as responsible")
    );
    assert!(joe_first.text.contains("<script>alert(1)</script>"), "text part as written: {}", joe_first.text);
    assert!(
        joe_first.html.contains("&lt;script&gt;") && !joe_first.html.contains("<script>"),
        "{}",
        joe_first.html
    );
    let link = joe_first.link();
    assert!(joe_first.html.contains(&format!("href=\"{link}\"")), "{}", joe_first.html);
    assert!(joe_first.reply_to.starts_with("reply+") && joe_first.reply_to.ends_with("@alpha.test"));
    assert_eq!(joe_first.auto_submitted, "auto-generated", "vacation responders stay quiet");
    assert!(joe_first.in_reply_to.is_empty());
    let olga_first = m.wait_mail(OLGA, 1).await.remove(0);
    assert!(olga_first.text.contains("as observer"));
    assert_ne!(olga_first.reply_to, joe_first.reply_to, "bound to the recipient");
    assert_ne!(olga_first.link(), link);

    // R22: Joe replies from a common client: top reply, quote and signature cut,
    // his attachment kept (a responsible person may attach).
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("zdjęcie dachu.jpg");
    std::fs::write(&photo, [0xFF, 0xD8, 0xFF, 1, 2, 3]).unwrap();
    let body = format!(
        "Zrobię to jutro rano.\n\n--\nJoe Smith\nRoofing Ltd.\n\nOn Tue, 24 Nov 2026 at 10:00, Alpha <portal@alpha.test> wrote:\n> {}\n> Reply to this message",
        joe_first.text.lines().next().unwrap()
    );
    let (code, out) = m
        .swaks(
            Via::Lmtp,
            &[
                "--from",
                JOE,
                "--to",
                &joe_first.reply_to,
                "--header",
                &format!("Subject: Re: {}", joe_first.subject),
                "--header",
                &format!("In-Reply-To: <{}>", joe_first.message_id),
                "--body",
                &body,
                "--attach",
                &format!("@{}", photo.display()),
            ],
        )
        .await;
    assert_eq!(code, 0, "{out}");
    let c = comments(&anna, t.id).await;
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(c[0].author, format!("mailto:{JOE}"));
    assert_eq!(c[0].text, "Zrobię to jutro rano.");
    let after = task(&anna, t.id).await;
    assert_eq!(after.files.len(), 1, "{after:#?}");
    assert_eq!(after.files[0].name, "zdjęcie dachu.jpg");
    assert_eq!(after.files[0].uploaded_by, format!("mailto:{JOE}"));
    // Olga hears of Joe's comment; Joe is not told of his own.
    let olga = m.wait_mail(OLGA, 2).await;
    assert!(
        olga[1].text.contains("joe@example.org commented") && olga[1].text.contains("Zrobię to jutro rano.")
    );
    // Joe's own notice would have been queued before Olga's, in the same write.
    assert_eq!(messages_to(&m.sent(), JOE).len(), 1, "no notice of his own comment");

    // The same reply delivered again (identical bytes: a retried delivery) does
    // nothing twice.
    let again = dir.path().join("again.eml");
    std::fs::write(
        &again,
        format!(
            "From: {JOE}\r\nTo: {}\r\nSubject: Re\r\nMessage-ID: <again@example.org>\r\n\r\nOnce only\r\n",
            joe_first.reply_to
        ),
    )
    .unwrap();
    for _ in 0..2 {
        let (code, out) = m
            .swaks(
                Via::Lmtp,
                &["--from", JOE, "--to", &joe_first.reply_to, "--data", &format!("@{}", again.display())],
            )
            .await;
        assert_eq!(code, 0, "{out}");
    }
    assert_eq!(comments(&anna, t.id).await.iter().filter(|c| c.text == "Once only").count(), 1);

    // Bottom-posted (Thunderbird style) and Outlook-style replies: only Joe's words stay.
    for (body, want) in [
        (
            "On 24.11.2026 10:00, Alpha wrote:\n> Nad salą 3.\n> Reply to this message\n\nPo kolei: najpierw rynny.",
            "Po kolei: najpierw rynny.",
        ),
        (
            "Dach gotowy w piątek.\n\n-----Original Message-----\nFrom: Alpha <portal@alpha.test>\nSent: Tuesday\nSubject: Dach\n\nNad salą 3.",
            "Dach gotowy w piątek.",
        ),
    ] {
        let (code, out) = m
            .swaks(
                Via::Smtp,
                &["--from", JOE, "--to", &joe_first.reply_to, "--header", "Subject: Re", "--body", body],
            )
            .await;
        assert_eq!(code, 0, "{out}");
        let c = comments(&anna, t.id).await;
        assert_eq!(c.last().unwrap().text, want, "{c:#?}");
    }

    // A reply from someone else to Joe's address is refused, not posted as Joe.
    let (code, out) = m
        .swaks(
            Via::Lmtp,
            &["--from", "mallory@example.org", "--to", &joe_first.reply_to, "--body", "I am Joe"],
        )
        .await;
    assert_ne!(code, 0);
    assert!(out.contains("550 5.7.1") && out.contains("belongs to another recipient"), "{out}");
    // The header From counts, not only the envelope.
    let forged = format!(
        "From: Mallory <mallory@example.org>\r\nTo: {}\r\nSubject: Re\r\n\r\nI am Joe\r\n",
        joe_first.reply_to
    );
    let data = dir.path().join("forged.eml");
    std::fs::write(&data, forged).unwrap();
    let (code, out) = m
        .swaks(
            Via::Lmtp,
            &["--from", JOE, "--to", &joe_first.reply_to, "--data", &format!("@{}", data.display())],
        )
        .await;
    assert_ne!(code, 0, "{out}");
    assert!(comments(&anna, t.id).await.iter().all(|c| c.text != "I am Joe"));

    // An observer's reply: the comment is kept, the attachment is named, not added.
    let (code, out) = m
        .swaks(
            Via::Lmtp,
            &[
                "--from",
                OLGA,
                "--to",
                &olga_first.reply_to,
                "--body",
                "Widziałam to.",
                "--attach",
                &format!("@{}", photo.display()),
            ],
        )
        .await;
    assert_eq!(code, 0, "{out}");
    let c = comments(&anna, t.id).await;
    let last = c.last().unwrap();
    assert_eq!(last.author, format!("mailto:{OLGA}"));
    assert!(
        last.text.starts_with("Widziałam to.") && last.text.contains("observers do not add files"),
        "{last:?}"
    );
    assert_eq!(task(&anna, t.id).await.files.len(), 1);

    // Olga's comment is mailed to Joe too: let that notice arrive before counting.
    wait_for("Joe told of Olga's comment", || {
        let told = messages_to(&m.sent(), JOE).iter().any(|x| x.text.contains("Widziałam to."));
        async move { told.then_some(()) }
    })
    .await
    .unwrap();
    // R21: status, deadline and comments from the portal reach Joe, in one thread.
    let before = messages_to(&m.sent(), JOE).len();
    anna.tasks
        .set_status(pb::SetStatusRequest { id: t.id, status: pb::TaskStatus::InProgress as i32 })
        .await
        .unwrap();
    let deadline = 4_102_444_800_000; // 2100-01-01
    anna.tasks.update_task(pb::UpdateTaskRequest { id: t.id, deadline, ..Default::default() }).await.unwrap();
    anna.tasks.add_comment(pb::AddCommentRequest { task_id: t.id, text: "Dziękuję!".into() }).await.unwrap();
    let joe = m.wait_mail(JOE, before + 3).await;
    let news = &joe[before..];
    assert!(news[0].text.contains("changed the status from new to in progress"), "{}", news[0].text);
    assert!(news[1].text.contains("changed the deadline from none to 2100-01-01"), "{}", news[1].text);
    assert!(news[2].text.contains("Anna Nowak commented") && news[2].text.contains("Dziękuję!"));
    for n in news {
        assert_eq!(n.in_reply_to, joe_first.message_id, "one thread");
        assert!(n.references.contains(&joe_first.message_id));
        assert!(n.subject.starts_with("Re: [alpha.test] Dach przecieka"));
        assert_eq!(n.reply_to, joe_first.reply_to);
    }
    // An edit of another field is not mailed.
    anna.tasks
        .update_task(pb::UpdateTaskRequest {
            id: t.id,
            title: Some("Dach przecieka".into()),
            ..Default::default()
        })
        .await
        .unwrap();

    // R24: counted in reports, as e-mail people.
    let r = anna
        .reports
        .task_report(pb::TaskReportRequest { by: pb::ReportBy::Responsible as i32 })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.with_email_participants, 1);
    let row = r.rows.iter().find(|r| r.key == format!("mailto:{JOE}")).expect("Joe's row");
    assert_eq!((row.kind.as_str(), row.total, row.in_progress), ("e-mail", 1, 1));

    // Revocation: Joe's link stops working for replies, and no more mail goes to him.
    let links = ctl_json(&m.node, &token, &["mail", "link", "list", &t.id.to_string()]);
    assert_eq!(links.as_array().map(Vec::len), Some(2), "{links}");
    let revoked = ctl_json(&m.node, &token, &["mail", "link", "revoke", &t.id.to_string(), JOE]);
    assert_eq!(revoked[0]["revoked"], true, "{revoked}");
    let (code, out) =
        m.swaks(Via::Lmtp, &["--from", JOE, "--to", &joe_first.reply_to, "--body", "still me"]).await;
    assert_ne!(code, 0);
    assert!(out.contains("550 5.7.1") && out.contains("revoked"), "{out}");
    let joe_count = messages_to(&m.sent(), JOE).len();
    let olga_count = messages_to(&m.sent(), OLGA).len();
    anna.tasks
        .add_comment(pb::AddCommentRequest { task_id: t.id, text: "Ostatnia uwaga".into() })
        .await
        .unwrap();
    m.wait_mail(OLGA, olga_count + 1).await;
    assert_eq!(messages_to(&m.sent(), JOE).len(), joe_count, "revoked: nothing more to Joe");

    // Removing Olga from the task revokes her link too.
    anna.tasks
        .update_task(pb::UpdateTaskRequest {
            id: t.id,
            observers: Some(pb::LoginList { logins: vec![] }),
            ..Default::default()
        })
        .await
        .unwrap();
    let (code, out) =
        m.swaks(Via::Lmtp, &["--from", OLGA, "--to", &olga_first.reply_to, "--body", "hello?"]).await;
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("550"), "{out}");
}

/// Outbound over real SMTP: with `mail.smtp_relay` set, notices go to the relay
/// (aiosmtpd), not to files.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_go_out_over_a_real_smtp_relay() {
    let port = free_port();
    let relay = CaptureSmtp::start(port);
    let m = MailNode::start("alpha.test", Some(port)).await.unwrap();
    let token = m.employee("anna", "Anna Nowak").await.unwrap();
    let mut anna = m.node.clients(&token).await.unwrap();
    anna.tasks
        .create_task(pb::CreateTaskRequest {
            title: "Przegląd".into(),
            accomplices: vec![format!("mailto:{JOE}")],
            ..Default::default()
        })
        .await
        .unwrap();
    let got = wait_for("the notice at the relay", || {
        let all = relay.messages();
        async move {
            let to_joe = messages_to(&all, JOE);
            (!to_joe.is_empty()).then_some(to_joe)
        }
    })
    .await
    .unwrap();
    assert_eq!(got.len(), 1);
    assert!(got[0].text.contains("as co-executor") && got[0].reply_to.starts_with("reply+"), "{:?}", got[0]);
    assert!(m.sent().is_empty(), "no .eml files when a relay is configured");
}
