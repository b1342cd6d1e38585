//! Cross-portal tasks (R13–R17) between portals in this process, over real gRPC and
//! TLS on loopback, with an injected clock: the whole story, the checks of R14, a
//! portal without participants, joining and leaving, and a peer away for a day.

use portalnet_proto::v1 as pb;
use portalnet_tests::fed::{Fed, fed, replica_id, task_where, verify};
use portalnet_tests::new_task as create;
use portalnet_tests::{refusal, wait_for};
use std::time::Duration;
use tonic::Code;

const PORTALS: [&str; 3] = ["alpha.test", "beta.test", "gamma.test"];
const PEOPLE: [(&str, &str); 3] = [("anna", "Anna Nowak"), ("jan", "Jan Kowalski"), ("olga", "Olga Petrova")];

async fn three() -> Fed {
    fed(&PORTALS, &PEOPLE).await.unwrap()
}

/// R16–R17: created on alpha with the responsible person on beta and an observer
/// on gamma; beta changes the status, gamma comments; all three converge.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_story_converges() {
    let f = three().await;
    let (a, b, c) = (&f.members[0], &f.members[1], &f.members[2]);
    let task = a
        .user
        .tasks
        .clone()
        .create_task(create("Audit the Kraków office", "jan@beta.test", &["olga@gamma.test"]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(task.responsible, "jan@beta.test");
    assert_eq!(task.home, "", "homed here");

    let on_b = replica_id(&b.user, "alpha.test", task.id).await.unwrap();
    let t = b.user.tasks.clone().get_task(pb::GetTaskRequest { id: on_b }).await.unwrap().into_inner();
    assert_eq!((t.responsible.as_str(), t.creator.as_str()), ("jan", "anna@alpha.test"));
    assert_eq!(t.observers, vec!["olga@gamma.test"]);
    assert_eq!(t.home, "alpha.test");

    // The responsible person on beta starts the work (R17).
    let req = pb::SetStatusRequest { id: on_b, status: pb::TaskStatus::InProgress as i32 };
    let t = b.user.tasks.clone().set_status(req).await.unwrap().into_inner();
    assert_eq!(t.status, pb::TaskStatus::InProgress as i32, "applied by the home within the wait: {t:?}");
    assert!(t.pending.is_empty(), "{:?}", t.pending);

    // The observer on gamma comments.
    let on_c = replica_id(&c.user, "alpha.test", task.id).await.unwrap();
    let req = pb::AddCommentRequest { task_id: on_c, text: "Numbers attached tomorrow".into() };
    let comment = c.user.tasks.clone().add_comment(req).await.unwrap().into_inner();
    assert!(!comment.pending && comment.id > 0, "{comment:?}");
    assert_eq!(comment.author, "olga");

    // The responsible person attaches a file from beta: it reaches every portal.
    let req = pb::AttachFileRequest {
        task_id: on_b,
        name: "raport-kraków.csv".into(),
        content_type: "text/csv".into(),
        content: b"office;cost\nKrak\xc3\xb3w;1200\n".to_vec(),
    };
    let file = b.user.tasks.clone().attach_file(req).await.unwrap().into_inner();
    assert!(!file.pending && file.id > 0, "{file:?}");
    assert_eq!(file.uploaded_by, "jan");

    // Everyone converges on version 4 and the same head hash.
    let want = |t: &pb::Task| {
        t.version == 4
            && t.comment_count == 1
            && t.files.len() == 1
            && t.status == pb::TaskStatus::InProgress as i32
    };
    task_where(&a.user, task.id, "alpha at v4", want).await.unwrap();
    task_where(&b.user, on_b, "beta at v4", want).await.unwrap();
    task_where(&c.user, on_c, "gamma at v4", want).await.unwrap();
    let comments = a
        .user
        .tasks
        .clone()
        .list_comments(pb::ListCommentsRequest { task_id: task.id, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(comments.comments[0].author, "olga@gamma.test");
    let heads: Vec<pb::VerifyHistoryResponse> = vec![
        verify(&a.user, task.id).await.unwrap(),
        verify(&b.user, on_b).await.unwrap(),
        verify(&c.user, on_c).await.unwrap(),
    ];
    for h in &heads {
        assert!(h.ok, "{h:?}");
        assert_eq!((h.events, h.home.as_str()), (4, "alpha.test"));
        assert_eq!(h.head_hash, heads[0].head_hash);
    }
    let got = c
        .user
        .tasks
        .clone()
        .get_file(pb::GetFileRequest { task_id: on_c, file_id: file.id })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.content, b"office;cost\nKrak\xc3\xb3w;1200\n");
    assert_eq!(got.info.unwrap().uploaded_by, "jan@beta.test");
    // The observer may not change the status: refused by its own portal at once.
    let req = pb::SetStatusRequest { id: on_c, status: pb::TaskStatus::Completed as i32 };
    let (code, msg) = refusal(c.user.tasks.clone().set_status(req).await);
    assert_eq!(code, Code::PermissionDenied, "{msg}");
}

/// Waits until the directory has member `i` at the address it restarted on (a
/// restarted in-process node listens on a new port and registers it at start).
async fn reregistered(f: &Fed, i: usize) {
    let m = &f.members[i];
    let id = PORTALS[i];
    wait_for("re-registered", || {
        let rec = f.dir.handle.directory.portal(id).ok().flatten();
        let ok = rec.is_some_and(|r| r.endpoint == m.node.endpoint);
        async move { ok.then_some(()) }
    })
    .await
    .unwrap();
}

async fn outbox_row(admin: &portalnet_tests::Clients, portal: &str) -> Option<pb::OutboxRow> {
    let rows = admin.portal.clone().outbox(pb::OutboxRequest::default()).await.ok()?.into_inner().rows;
    rows.into_iter().find(|r| r.portal_id == portal)
}

async fn comments(c: &portalnet_tests::Clients, id: u64, from: usize, to: usize) {
    for i in from..to {
        let req = pb::AddCommentRequest { task_id: id, text: format!("c{i}") };
        c.tasks.clone().add_comment(req).await.unwrap();
    }
}

/// A replica away for a simulated day, then a week (the injected clock): its queue
/// keeps everything, retries keep coming at most the capped backoff apart, the
/// operator's retry delivers at once when it is back, and later a message from it
/// wakes delivery to it at once. Everything arrives, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peer_away_for_a_day_and_a_week_gets_everything_in_order() {
    let mut f = fed(&PORTALS[..2], &PEOPLE[..2]).await.unwrap();
    let (ua, admin) = (f.members[0].user.clone(), f.members[0].admin.clone());
    let t = ua
        .tasks
        .clone()
        .create_task(create("Long absence", "jan@beta.test", &[]))
        .await
        .unwrap()
        .into_inner();
    replica_id(&f.members[1].user, "alpha.test", t.id).await.unwrap();
    f.members[1].node.handle.take().unwrap().stop().await.unwrap();

    comments(&ua, t.id, 0, 10).await;
    let first = wait_for("a failed attempt", || async {
        outbox_row(&admin, "beta.test").await.filter(|r| r.failed_attempts >= 1 && r.depth == 10)
    })
    .await
    .unwrap();
    const DAY_MS: i64 = 24 * 3600 * 1000;
    // A day: the queue is a day old and retries go on (the clock made them due).
    f.clock.advance(Duration::from_secs(24 * 3600));
    let day = wait_for("retries after a day", || async {
        outbox_row(&admin, "beta.test").await.filter(|r| r.failed_attempts > first.failed_attempts)
    })
    .await
    .unwrap();
    assert!(day.oldest_age_ms >= DAY_MS, "{day:?}");
    comments(&ua, t.id, 10, 20).await;
    // A week.
    f.clock.advance(Duration::from_secs(6 * 24 * 3600));
    let week = wait_for("retries after a week", || async {
        outbox_row(&admin, "beta.test")
            .await
            .filter(|r| r.failed_attempts > day.failed_attempts && r.next_attempt_at > 0)
    })
    .await
    .unwrap();
    assert!(week.oldest_age_ms >= 7 * DAY_MS && week.depth == 20, "{week:?}");
    assert!(!week.last_error.is_empty(), "{week:?}");
    // Capped: the next attempt is never more than the cap (5 min, +20 % jitter) away.
    let now = week.last_attempt_at;
    assert!(week.next_attempt_at - now <= 360_000, "backoff is capped: {week:?}");

    // Back. The clock stands still, so only the operator's retry can deliver now.
    f.members[1].node.restart().await.unwrap();
    reregistered(&f, 1).await;
    let ub = f.members[1].node.clients(&f.members[1].token).await.unwrap();
    let on_b = replica_id(&ub, "alpha.test", t.id).await.unwrap();
    let mut adm = admin.clone();
    wait_for("retry accepted", || {
        let mut adm = adm.clone();
        async move { adm.portal.retry_outbox(pb::RetryOutboxRequest { portal_id: "beta.test".into() }).await.ok() }
    })
    .await
    .unwrap();
    task_where(&ub, on_b, "20 comments", |t| t.version == 21).await.unwrap();
    let got = ub
        .tasks
        .clone()
        .list_comments(pb::ListCommentsRequest { task_id: on_b, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    let texts: Vec<String> = got.comments.iter().map(|c| c.text.clone()).collect();
    assert_eq!(texts, (0..20).map(|i| format!("c{i}")).collect::<Vec<_>>(), "in order");

    // Away again; this time the peer's own message wakes delivery to it.
    f.members[1].node.handle.take().unwrap().stop().await.unwrap();
    comments(&ua, t.id, 20, 25).await;
    wait_for("a failed attempt", || async {
        outbox_row(&admin, "beta.test").await.filter(|r| r.depth == 5 && r.next_attempt_at > 0)
    })
    .await
    .unwrap();
    f.members[1].node.restart().await.unwrap();
    reregistered(&f, 1).await;
    let ub = f.members[1].node.clients(&f.members[1].token).await.unwrap();
    let req = pb::SetStatusRequest { id: on_b, status: pb::TaskStatus::InProgress as i32 };
    ub.tasks.clone().set_status(req).await.unwrap();
    task_where(&ub, on_b, "the 5 and the status change", |t| {
        t.version == 27 && t.status == pb::TaskStatus::InProgress as i32
    })
    .await
    .unwrap();
    let h = ub
        .tasks
        .clone()
        .history(pb::HistoryRequest { task_id: on_b, ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .entries;
    assert_eq!(h.iter().map(|e| e.version).collect::<Vec<_>>(), (1..=27).collect::<Vec<_>>());
    assert_eq!(verify(&ua, t.id).await.unwrap().head_hash, verify(&ub, on_b).await.unwrap().head_hash);
    let _ = &mut adm;
}

/// A portal that gains its first participant receives the task's whole history;
/// one whose last participant is removed receives that change and nothing after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joining_gets_the_history_leaving_gets_a_final_event() {
    let f = three().await;
    let (ua, ub, uc) = (f.members[0].user.clone(), f.members[1].user.clone(), f.members[2].user.clone());
    let t = ua.tasks.clone().create_task(create("Grows", "jan@beta.test", &[])).await.unwrap().into_inner();
    comments(&ua, t.id, 0, 3).await;
    // Gamma joins at version 5: it gets versions 1..=5.
    let upd = pb::UpdateTaskRequest {
        id: t.id,
        observers: Some(pb::LoginList { logins: vec!["olga@gamma.test".into()] }),
        ..Default::default()
    };
    ua.tasks.clone().update_task(upd).await.unwrap();
    let on_c = replica_id(&uc, "alpha.test", t.id).await.unwrap();
    task_where(&uc, on_c, "gamma at v5", |t| t.version == 5).await.unwrap();
    let h = uc
        .tasks
        .clone()
        .history(pb::HistoryRequest { task_id: on_c, ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .entries;
    assert_eq!(h.len(), 5);
    assert!(verify(&uc, on_c).await.unwrap().ok);
    let cs = uc
        .tasks
        .clone()
        .list_comments(pb::ListCommentsRequest { task_id: on_c, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(cs.comments.len(), 3, "earlier comments came with the history");

    // Gamma leaves at version 6: it gets that event, then nothing more.
    let upd = pb::UpdateTaskRequest {
        id: t.id,
        observers: Some(pb::LoginList { logins: vec![] }),
        ..Default::default()
    };
    ua.tasks.clone().update_task(upd).await.unwrap();
    let on_b = replica_id(&ub, "alpha.test", t.id).await.unwrap();
    task_where(&ub, on_b, "beta at v6", |t| t.version == 6).await.unwrap();
    // Olga no longer takes part: her portal holds the final state but she sees nothing.
    wait_for("gamma got the final event", || {
        let c = f.members[2].admin.clone();
        async move {
            let t = c.tasks.clone().get_task(pb::GetTaskRequest { id: on_c }).await.ok()?.into_inner();
            (t.version == 6 && t.observers.is_empty()).then_some(())
        }
    })
    .await
    .unwrap();
    let (code, _) = refusal(uc.tasks.clone().get_task(pb::GetTaskRequest { id: on_c }).await);
    assert_eq!(code, Code::NotFound);
    comments(&ua, t.id, 3, 5).await;
    task_where(&ub, on_b, "beta at v8", |t| t.version == 8).await.unwrap();
    let admin_c = f.members[2].admin.clone();
    let held = admin_c.tasks.clone().get_task(pb::GetTaskRequest { id: on_c }).await.unwrap().into_inner();
    assert_eq!(held.version, 6, "nothing after the final event");
    let rows = f.members[0]
        .admin
        .portal
        .clone()
        .outbox(pb::OutboxRequest::default())
        .await
        .unwrap()
        .into_inner()
        .rows;
    assert!(rows.iter().all(|r| r.portal_id != "gamma.test" || r.depth == 0), "{rows:?}");
}

/// Issue 11, Found 7 and 8 (DESIGN: a directory outage does not stop work between
/// portals that already know each other): with the directory stopped and both
/// portals restarted (nothing left in memory, only what they stored), a comment
/// made on beta is applied at alpha (never refused as "cannot be checked"), and a
/// status change on alpha reaches beta. What truly needs the directory (a portal
/// alpha never worked with) is refused as temporary: Unavailable, "try again later".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn known_peers_work_on_while_the_directory_is_down() {
    let Fed { clock: _clock, dir, mut members } = three().await;
    let t = members[0]
        .user
        .tasks
        .clone()
        .create_task(create("Through the outage", "jan@beta.test", &[]))
        .await
        .unwrap()
        .into_inner();
    let on_b = replica_id(&members[1].user, "alpha.test", t.id).await.unwrap();
    dir.handle.stop().await.unwrap();
    for m in &mut members[..2] {
        m.node.restart_in_place().await.unwrap();
    }
    let ua = members[0].node.clients(&members[0].token).await.unwrap();
    let ub = members[1].node.clients(&members[1].token).await.unwrap();

    let text = "Written while the directory is away".to_string();
    ub.tasks.clone().add_comment(pb::AddCommentRequest { task_id: on_b, text }).await.unwrap();
    task_where(&ua, t.id, "alpha applied beta's comment", |t| t.comment_count == 1).await.unwrap();
    task_where(&ub, on_b, "beta holds it applied", |t| t.comment_count == 1 && t.pending.is_empty())
        .await
        .unwrap();

    let req = pb::SetStatusRequest { id: t.id, status: pb::TaskStatus::InProgress as i32 };
    ua.tasks.clone().set_status(req).await.unwrap();
    task_where(&ub, on_b, "the status reached beta", |t| t.status == pb::TaskStatus::InProgress as i32)
        .await
        .unwrap();

    let r = ua.tasks.clone().create_task(create("Needs the directory", "olga@gamma.test", &[])).await;
    let (code, msg) = refusal(r);
    assert_eq!(code, Code::Unavailable, "{msg}");
    assert!(msg.contains("gamma.test") && msg.contains("try again later"), "{msg}");

    let (va, vb) = (verify(&ua, t.id).await.unwrap(), verify(&ub, on_b).await.unwrap());
    assert!(va.ok && vb.ok && va.events == 3, "{va:?} {vb:?}");
    assert_eq!(va.head_hash, vb.head_hash);
}

/// Issue 16, point 6: a task homed on alpha with an e-mail responsible and a person
/// on beta. Only the home mails the e-mail participant; their reply by e-mail (real
/// `swaks` to alpha's SMTP listener) and their comment on the task page (HTTP form
/// post to alpha's web server) reach beta's replica; beta's comment reaches them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e_mail_participant_of_a_cross_portal_task() {
    const JOE: &str = "joe@example.org";
    let mut f =
        fed(&["alpha.test", "beta.test"], &[("anna", "Anna Nowak"), ("bob", "Bob Beta")]).await.unwrap();
    // Mail in on alpha; restarted on the same address, so beta reaches it where it was.
    let mut cfg = portalnet_node::config::NodeConfig::load(&f.members[0].node.dir).unwrap();
    cfg.mail.smtp_listen = Some("127.0.0.1:0".parse().unwrap());
    cfg.save(&f.members[0].node.dir).unwrap();
    f.members[0].node.restart_in_place().await.unwrap();
    let (alpha, beta) = (&f.members[0], &f.members[1]);
    let handle = alpha.node.handle.as_ref().unwrap();
    let smtp = handle.smtp_addr.expect("SMTP listener").to_string();
    let web = handle.web_url.clone().expect("web pages");
    let outbox = alpha.node.dir.join("mail/outbox");
    let mail_to = |n: usize| mail_in(outbox.clone(), JOE, n);
    let t = alpha
        .user
        .tasks
        .clone()
        .create_task(create("Wspólne zadanie", &format!("mailto:{JOE}"), &[&beta.address]))
        .await
        .unwrap()
        .into_inner();
    let on_beta = replica_id(&beta.user, "alpha.test", t.id).await.unwrap();
    let first = mail_to(1).await.remove(0);
    assert!(first.reply_to.starts_with("reply+") && first.reply_to.ends_with("@alpha.test"), "{first:?}");
    let beta_outbox = beta.node.dir.join("mail/outbox");
    let beta_mail = std::fs::read_dir(&beta_outbox).map(|d| d.count()).unwrap_or(0);
    assert_eq!(beta_mail, 0, "only the home mails e-mail participants");

    // Joe replies by e-mail.
    let out = tokio::process::Command::new("swaks")
        .args(["--server", &smtp, "--helo", "client.test", "--from", JOE, "--to", &first.reply_to])
        .args(["--header", &format!("Subject: Re: {}", first.subject)])
        .args(["--header", &format!("In-Reply-To: <{}>", first.message_id)])
        .args(["--body", "Odpowiedź mailem."])
        .output()
        .await
        .expect("swaks runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    // And comments on the task page.
    let token = first.link().rsplit('/').next().unwrap().to_string();
    let host = web.trim_start_matches("http://").trim_end_matches('/').to_string();
    let body = "text=Komentarz+ze+strony";
    let req = format!(
        "POST /t/{token} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut s = tokio::net::TcpStream::connect(&host).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut s, req.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut s, &mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 303"), "{answer}");

    // Both reach beta, as Joe's.
    let seen = wait_for("Joe's two comments on beta", || {
        let mut c = beta.user.clone();
        async move {
            let list = c
                .tasks
                .list_comments(pb::ListCommentsRequest { task_id: on_beta, ..Default::default() })
                .await
                .ok()?
                .into_inner()
                .comments;
            let joes: Vec<String> =
                list.into_iter().filter(|c| c.author == format!("mailto:{JOE}")).map(|c| c.text).collect();
            (joes.len() >= 2).then_some(joes)
        }
    })
    .await
    .unwrap();
    assert!(seen.iter().any(|t| t.contains("Odpowiedź mailem.")), "{seen:?}");
    assert!(seen.iter().any(|t| t == "Komentarz ze strony"), "{seen:?}");

    // Bob comments on beta: the home mails Joe about it.
    let req = pb::AddCommentRequest { task_id: on_beta, text: "Dzięki, Joe.".into() };
    beta.user.tasks.clone().add_comment(req).await.unwrap();
    let got = mail_to(2).await;
    assert!(
        got[1].text.contains("Bob Beta commented") || got[1].text.contains("bob@beta.test commented"),
        "{}",
        got[1].text
    );
    assert!(got[1].text.contains("Dzięki, Joe."), "{}", got[1].text);
    assert_eq!(std::fs::read_dir(&beta_outbox).map(|d| d.count()).unwrap_or(0), 0, "beta mails no one");
}

/// Waits until `n` messages to `to` are in the `.eml` outbox folder; returns them in order.
async fn mail_in(outbox: std::path::PathBuf, to: &str, n: usize) -> Vec<portalnet_tests::mailnode::Sent> {
    wait_for(&format!("{n} message(s) to {to}"), || {
        let files: Vec<Vec<u8>> = std::fs::read_dir(&outbox)
            .map(|d| {
                // `.eml` only: a file being written is a temporary one beside them.
                let mut p: Vec<_> = d
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                    .collect();
                p.sort();
                p.iter().filter_map(|p| std::fs::read(p).ok()).collect()
            })
            .unwrap_or_default();
        let got = portalnet_tests::mailnode::messages_to(&files, to);
        async move { (got.len() >= n).then_some(got) }
    })
    .await
    .expect("mail written in time")
}
