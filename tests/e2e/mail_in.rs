//! Tasks by e-mail against a real `portald` process (R18–R20): the real `swaks`
//! client speaks LMTP and SMTP to the node's listeners, and what arrives is read
//! back over gRPC and with `portalctl`.

use portalnet_proto::v1 as pb;
use portalnet_tests::mailnode::{MailNode, Via};
use portalnet_tests::{Clients, Node, ctl};

async fn tasks_of(c: &Clients) -> Vec<pb::Task> {
    let mut c = c.clone();
    c.tasks.list_tasks(pb::ListTasksRequest::default()).await.unwrap().into_inner().tasks
}

async fn file_bytes(c: &Clients, task: u64, file: u64) -> Vec<u8> {
    let mut c = c.clone();
    c.tasks.get_file(pb::GetFileRequest { task_id: task, file_id: file }).await.unwrap().into_inner().content
}

/// A raw message with CRLF line ends.
fn raw(lines: &[&str]) -> Vec<u8> {
    let mut out = lines.join("\r\n").into_bytes();
    out.extend_from_slice(b"\r\n");
    out
}

fn write(dir: &std::path::Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    format!("@{}", p.display())
}

/// R18–R20: mail to an employee's secret address becomes their task, over LMTP
/// and SMTP, in any charset, with its attachments.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_to_a_secret_address_becomes_a_task() {
    let m = MailNode::start("alpha.test", None).await.unwrap();
    let token = m.employee("anna", "Anna Nowak").await.unwrap();
    let anna = m.node.clients(&token).await.unwrap();
    let addr = m.task_address(&token);
    assert!(addr.starts_with("task+") && addr.ends_with("@alpha.test"), "{addr}");
    let secret = addr.trim_start_matches("task+").split('@').next().unwrap();
    assert!(secret.len() >= 26, "≥ 128 bits of token: {addr}");
    assert_eq!(m.task_address(&token), addr, "show reveals the same address again");

    // Plain text over LMTP (R19, R20).
    let (code, t) = m
        .swaks(
            Via::Lmtp,
            &[
                "--from",
                "stranger@example.org",
                "--to",
                &addr,
                "--header",
                "Subject: Naprawić drukarkę",
                "--body",
                "Drukarka w pokoju 12 nie działa.",
            ],
        )
        .await;
    assert_eq!(code, 0, "{t}");
    let tasks = tasks_of(&anna).await;
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    let t1 = &tasks[0];
    assert_eq!(t1.title, "Naprawić drukarkę");
    assert_eq!(t1.description, "Drukarka w pokoju 12 nie działa.");
    assert_eq!((t1.creator.as_str(), t1.responsible.as_str()), ("anna", "anna"), "R20");

    // HTML-only over SMTP: the description is text.
    let (code, t) = m
        .swaks(
            Via::Smtp,
            &[
                "--from",
                "stranger@example.org",
                "--to",
                &addr,
                "--header",
                "Subject: Strona",
                "--add-header",
                "Content-Type: text/html; charset=utf-8",
                "--body",
                "<html><body><p>Hello <b>world</b></p><p>second &amp; last</p></body></html>",
            ],
        )
        .await;
    assert_eq!(code, 0, "{t}");
    let tasks = tasks_of(&anna).await;
    let html = tasks.iter().find(|t| t.title == "Strona").expect("HTML task");
    assert!(
        html.description.contains("Hello world") && html.description.contains("second & last"),
        "{html:?}"
    );
    assert!(!html.description.contains('<'), "{:?}", html.description);

    // Any charset, RFC 2047 and RFC 2231; an empty subject; several attachments.
    let dir = tempfile::tempdir().unwrap();
    let mut body = raw(&[
        "From: Jan <jan@example.org>",
        "To: <task@alpha.test>",
        "Subject: =?windows-1250?Q?Za=BF=F3=B3=E6_g=EA=9Cl=B9?= =?KOI8-R?B?8NLJ18XU?=",
        "Message-ID: <charsets-1@example.org>",
        "MIME-Version: 1.0",
        "Content-Type: multipart/mixed; boundary=\"b1\"",
        "",
        "--b1",
        "Content-Type: text/plain; charset=koi8-r",
        "Content-Transfer-Encoding: 8bit",
        "",
    ]);
    body.extend_from_slice(&[0xF0, 0xD2, 0xC9, 0xD7, 0xC5, 0xD4, b'!', b'\r', b'\n']);
    body.extend(raw(&[
        "--b1",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Disposition: attachment; filename*=UTF-8''%C5%BC%C3%B3%C5%82w.txt",
        "",
        "żółw",
        "--b1",
        "Content-Type: application/octet-stream; name=\"=?windows-1251?B?8O7x8ej/LmJpbg==?=\"",
        "Content-Disposition: attachment; filename=\"=?windows-1251?B?8O7x8ej/LmJpbg==?=\"",
        "Content-Transfer-Encoding: base64",
        "",
        "AAECAwQFBgcICQ==",
        "--b1",
        "Content-Type: text/plain; charset=ISO-2022-JP",
        "Content-Disposition: attachment; filename=\"=?ISO-2022-JP?B?GyRCRnxLXBsoQg==?=.txt\"",
        "",
        "x",
        "--b1--",
    ]));
    let data = write(dir.path(), "charsets.eml", &body);
    let (code, t) = m.swaks(Via::Lmtp, &["--from", "jan@example.org", "--to", &addr, "--data", &data]).await;
    assert_eq!(code, 0, "{t}");
    let (code, t) = m
        .swaks(
            Via::Smtp,
            &[
                "--from",
                "jan@example.org",
                "--to",
                &addr,
                "--header",
                "Subject: ",
                "--body",
                "no subject here",
            ],
        )
        .await;
    assert_eq!(code, 0, "{t}");
    let tasks = tasks_of(&anna).await;
    let cs = tasks.iter().find(|t| t.title.starts_with("Zażółć")).unwrap_or_else(|| panic!("{tasks:#?}"));
    assert_eq!(cs.title, "Zażółć gęśląПривет");
    assert_eq!(cs.description, "Привет!");
    let names: Vec<&str> = cs.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, vec!["żółw.txt", "россия.bin", "日本.txt"], "{cs:#?}");
    assert_eq!(file_bytes(&anna, cs.id, cs.files[1].id).await, (0u8..10).collect::<Vec<_>>());
    assert_eq!(file_bytes(&anna, cs.id, cs.files[0].id).await, "żółw".as_bytes());
    assert!(
        tasks.iter().any(|t| t.title == "(no subject)" && t.description == "no subject here"),
        "{tasks:#?}"
    );

    // swaks' own --attach, twice, over SMTP.
    let pdf = dir.path().join("Umowa źródłowa.pdf");
    std::fs::write(&pdf, b"%PDF-1.4 fake").unwrap();
    let png = dir.path().join("plan.png");
    std::fs::write(&png, [0x89, b'P', b'N', b'G', 0, 1, 2]).unwrap();
    let (code, t) = m
        .swaks(
            Via::Smtp,
            &[
                "--from",
                "jan@example.org",
                "--to",
                &addr,
                "--header",
                "Subject: Two files",
                "--body",
                "See attached.",
                "--attach",
                &format!("@{}", pdf.display()),
                "--attach",
                &format!("@{}", png.display()),
            ],
        )
        .await;
    assert_eq!(code, 0, "{t}");
    let tasks = tasks_of(&anna).await;
    let two = tasks.iter().find(|t| t.title == "Two files").unwrap();
    assert_eq!(two.description, "See attached.");
    assert_eq!(two.files.len(), 2, "{two:#?}");
    assert_eq!(file_bytes(&anna, two.id, two.files[1].id).await, [0x89, b'P', b'N', b'G', 0, 1, 2]);
    assert_eq!(two.files[0].uploaded_by, "anna");
    assert_eq!(tasks.len(), 5);
}

/// R19 limits and what the listener refuses; automatic mail dropped; a message
/// delivered twice makes one task; reset and dismissed addresses refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_refusals_loops_and_duplicates() {
    let m = MailNode::start("alpha.test", None).await.unwrap();
    let token = m.employee("anna", "Anna Nowak").await.unwrap();
    let anna = m.node.clients(&token).await.unwrap();
    let addr = m.task_address(&token);
    let dir = tempfile::tempdir().unwrap();

    // Unknown addresses are refused at RCPT, with a code that bounces.
    let (code, t) = m
        .swaks(
            Via::Lmtp,
            &["--from", "x@example.org", "--to", "task+aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@alpha.test"],
        )
        .await;
    assert_ne!(code, 0);
    assert!(t.contains("<** 550 5.1.1"), "{t}");
    let (_, t) = m.swaks(Via::Smtp, &["--from", "x@example.org", "--to", "anna@other.test"]).await;
    assert!(t.contains("<** 550 5.1.1"), "{t}");

    // The same message twice (a retried delivery) makes one task.
    let data = write(
        dir.path(),
        "dup.eml",
        &raw(&["From: a@example.org", "Subject: Once", "Message-ID: <dup-1@example.org>", "", "only once"]),
    );
    for via in [Via::Lmtp, Via::Smtp] {
        let (code, t) = m.swaks(via, &["--from", "a@example.org", "--to", &addr, "--data", &data]).await;
        assert_eq!(code, 0, "{t}");
    }
    assert_eq!(tasks_of(&anna).await.iter().filter(|t| t.title == "Once").count(), 1);
    // Same Message-ID, other content: a different message.
    let other = write(
        dir.path(),
        "dup2.eml",
        &raw(&["From: a@example.org", "Subject: Once", "Message-ID: <dup-1@example.org>", "", "changed"]),
    );
    let (code, _) = m.swaks(Via::Lmtp, &["--from", "a@example.org", "--to", &addr, "--data", &other]).await;
    assert_eq!(code, 0);
    assert_eq!(tasks_of(&anna).await.iter().filter(|t| t.title == "Once").count(), 2);

    // Auto-replies and bounces are accepted (250) and dropped: no loop.
    let before = tasks_of(&anna).await.len();
    for (from, header) in [
        ("boss@example.org", "Auto-Submitted: auto-replied"),
        ("boss@example.org", "X-Autoreply: yes"),
        ("list@example.org", "Precedence: bulk"),
        ("list@example.org", "Precedence: junk"),
        ("<>", "X-Note: null return path"),
        ("portal@alpha.test", "X-Note: our own outgoing address"),
    ] {
        let (code, t) = m
            .swaks(
                Via::Lmtp,
                &["--from", from, "--to", &addr, "--header", header, "--header", "Subject: Out of office"],
            )
            .await;
        assert_eq!(code, 0, "{header}: accepted, {t}");
        assert_eq!(tasks_of(&anna).await.len(), before, "{from:?} {header}: dropped, {t}");
    }
    let report = write(
        dir.path(),
        "dsn.eml",
        &raw(&[
            "From: MAILER-DAEMON@example.org",
            "Subject: Undelivered Mail",
            "MIME-Version: 1.0",
            "Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"",
            "",
            "--r",
            "Content-Type: text/plain",
            "",
            "could not deliver",
            "--r",
            "Content-Type: message/delivery-status",
            "",
            "Final-Recipient: rfc822; x@example.org",
            "Action: failed",
            "--r--",
        ]),
    );
    let (code, t) =
        m.swaks(Via::Smtp, &["--from", "daemon@example.org", "--to", &addr, "--data", &report]).await;
    assert_eq!(code, 0, "{t}");
    assert_eq!(tasks_of(&anna).await.len(), before, "automatic mail made no task");

    // 24 MB is accepted with its attachment; 26 MB is refused (552) and leaves nothing.
    let big = dir.path().join("big.bin");
    std::fs::write(&big, vec![7u8; 17 * 1024 * 1024]).unwrap(); // ≈ 23.3 MB as base64
    let (code, t) = m
        .swaks(
            Via::Smtp,
            &[
                "--from",
                "a@example.org",
                "--to",
                &addr,
                "--header",
                "Subject: Big one",
                "--body",
                "big",
                "--attach",
                &format!("@{}", big.display()),
                "--suppress-data",
            ],
        )
        .await;
    assert_eq!(code, 0, "{t}");
    assert!(t.contains("SIZE 26214400"), "SIZE announced: {t}");
    let tasks = tasks_of(&anna).await;
    let bigt = tasks.iter().find(|t| t.title == "Big one").expect("24 MB task");
    assert_eq!(bigt.files[0].size, 17 * 1024 * 1024);
    std::fs::write(&big, vec![7u8; 19 * 1024 * 1024]).unwrap(); // ≈ 26 MB as base64
    let (code, t) = m
        .swaks(
            Via::Lmtp,
            &[
                "--from",
                "a@example.org",
                "--to",
                &addr,
                "--header",
                "Subject: Too big",
                "--body",
                "big",
                "--attach",
                &format!("@{}", big.display()),
                "--suppress-data",
            ],
        )
        .await;
    assert_ne!(code, 0);
    assert!(t.contains("552 5.3.4"), "{t}");
    // Announced with SIZE: refused at MAIL, before any data.
    let said = m.raw(Via::Smtp, b"EHLO c.test\r\nMAIL FROM:<a@example.org> SIZE=27262976\r\nQUIT\r\n").await;
    assert!(said.contains("552"), "{said}");
    assert!(tasks_of(&anna).await.iter().all(|t| t.title != "Too big"));

    // Smuggling: a bare-LF end of data must not end the message (and is refused).
    let before = tasks_of(&anna).await.len();
    let rcpt = format!("RCPT TO:<{addr}>\r\n");
    for trick in [&b"\n.\r\n"[..], b"\r\n.\n", b"\n.\n"] {
        let mut s = b"EHLO c.test\r\nMAIL FROM:<a@example.org>\r\n".to_vec();
        s.extend_from_slice(rcpt.as_bytes());
        s.extend_from_slice(b"DATA\r\nSubject: Outer\r\n\r\nbody");
        s.extend_from_slice(trick);
        s.extend_from_slice(b"MAIL FROM:<evil@example.org>\r\n");
        s.extend_from_slice(rcpt.as_bytes());
        s.extend_from_slice(b"DATA\r\nSubject: Smuggled\r\n\r\nx\r\n.\r\nQUIT\r\n");
        let said = m.raw(Via::Smtp, &s).await;
        assert!(said.contains("550 5.6.0"), "{said}");
    }
    let now = tasks_of(&anna).await;
    assert!(now.iter().all(|t| t.title != "Smuggled"), "{now:#?}");
    assert_eq!(now.len(), before, "a message with a bare line end is refused whole");
    // An endless line is refused without buffering it.
    let mut s = b"EHLO c.test\r\n".to_vec();
    s.extend(std::iter::repeat_n(b'a', 200_000));
    s.extend_from_slice(b"\r\nQUIT\r\n");
    let said = m.raw(Via::Smtp, &s).await;
    assert!(said.contains("500 5.5.2"), "{said}");
    // Too many recipients.
    let mut s = b"LHLO c.test\r\nMAIL FROM:<a@example.org>\r\n".to_vec();
    for _ in 0..60 {
        s.extend_from_slice(rcpt.as_bytes());
    }
    s.extend_from_slice(b"QUIT\r\n");
    let said = m.raw(Via::Lmtp, &s).await;
    assert!(said.contains("452 4.5.3"), "{said}");

    // Reset: the old address is refused at once, the new one works (R18).
    let out = ctl(&m.node, &token, &["--json", "mail", "address", "reset"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let new_addr = m.task_address(&token);
    assert_ne!(new_addr, addr);
    let (code, t) = m.swaks(Via::Lmtp, &["--from", "a@example.org", "--to", &addr]).await;
    assert_ne!(code, 0);
    assert!(t.contains("<** 550 5.1.1"), "{t}");
    let (code, t) = m
        .swaks(Via::Lmtp, &["--from", "a@example.org", "--to", &new_addr, "--header", "Subject: After reset"])
        .await;
    assert_eq!(code, 0, "{t}");

    // A dismissed owner's address is refused.
    let mut admin = m.admin().await.unwrap();
    admin.users.dismiss_user(pb::DismissUserRequest { login: "anna".into() }).await.unwrap();
    let (code, t) = m.swaks(Via::Lmtp, &["--from", "a@example.org", "--to", &new_addr]).await;
    assert_ne!(code, 0);
    assert!(t.contains("<** 550 5.2.1") && t.contains("no longer works here"), "{t}");

    // Resetting the address of someone who does not exist says so.
    let out = ctl(&m.node, &m.node.admin_token(), &["mail", "address", "reset", "--login", "nobody"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not found"), "{out:?}");
}

/// Issue 16 against a real `portald`: a retry through other relays makes no second
/// task (Found 1), HTML-only mail keeps its blocks apart (Found 2), a subject split
/// inside a character survives (Found 3), and a sender past the limit gets a 4xx
/// until the window has passed (Found 4).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relays_html_subjects_and_senders_limits() {
    let m = MailNode::start_with("alpha.test", None, |cfg| {
        cfg.mail.tasks_per_sender = Some(3);
        cfg.mail.rate_window_secs = Some(4);
    })
    .await
    .unwrap();
    let token = m.employee("anna", "Anna Nowak").await.unwrap();
    let anna = m.node.clients(&token).await.unwrap();
    let addr = m.task_address(&token);
    let dir = tempfile::tempdir().unwrap();
    let count = |tasks: &[pb::Task], title: &str| tasks.iter().filter(|t| t.title == title).count();

    // The same message through two relay chains, over SMTP twice, then LMTP then SMTP.
    let body = ["From: a@example.org", "Subject: Relayed", "Message-ID: <relay-1@example.org>", "", "once"];
    let chain = |hops: &[&str]| {
        let mut lines: Vec<&str> = hops.to_vec();
        lines.extend(body);
        raw(&lines)
    };
    let first = write(
        dir.path(),
        "r1.eml",
        &chain(&["Received: from mx1.example.org by mx.alpha.test; Tue, 1 Dec 2026 10:00:00 +0000"]),
    );
    let second = write(
        dir.path(),
        "r2.eml",
        &chain(&[
            "Return-Path: <a@example.org>",
            "Received: from mx2.example.net by mx.alpha.test; Tue, 1 Dec 2026 10:05:00 +0000",
            "Received: from mx1.example.org by mx2.example.net; Tue, 1 Dec 2026 10:04:00 +0000",
            "Authentication-Results: mx.alpha.test; spf=pass",
            "DKIM-Signature: v=1; d=example.net; b=abc",
            "ARC-Seal: i=1; cv=none",
        ]),
    );
    for (via, data) in [(Via::Smtp, &first), (Via::Smtp, &second), (Via::Lmtp, &second)] {
        let (code, t) = m.swaks(via, &["--from", "a@example.org", "--to", &addr, "--data", data]).await;
        assert_eq!(code, 0, "{t}");
    }
    assert_eq!(count(&tasks_of(&anna).await, "Relayed"), 1, "one task for one message");
    let other = write(
        dir.path(),
        "r3.eml",
        &raw(&[
            "From: a@example.org",
            "Subject: Relayed",
            "Message-ID: <relay-1@example.org>",
            "",
            "changed",
        ]),
    );
    let (code, t) = m.swaks(Via::Smtp, &["--from", "b@example.org", "--to", &addr, "--data", &other]).await;
    assert_eq!(code, 0, "{t}");
    assert_eq!(count(&tasks_of(&anna).await, "Relayed"), 2, "same Message-ID, other body: its own task");

    // HTML only: paragraphs, list items and table cells stay apart; links keep their targets.
    let (code, t) = m
        .swaks(
            Via::Smtp,
            &[
                "--from",
                "c@example.org",
                "--to",
                &addr,
                "--header",
                "Subject: =?UTF-8?B?WmHFvMOzxYLEhyDF?= =?UTF-8?B?vMOzxYLEhw==?=",
                "--add-header",
                "Content-Type: text/html; charset=utf-8",
                "--body",
                "<html><head><style>p{color:red}</style><script>alert(1)</script></head><body>\
                 <p>Pierwszy akapit</p><p>Drugi akapit</p><ul><li>jabłka</li><li>gruszki</li></ul>\
                 <table><tr><td>Komórka A</td><td>Komórka B</td></tr></table>\
                 <p><a href=\"https://example.org/plan\">plan</a></p></body></html>",
            ],
        )
        .await;
    assert_eq!(code, 0, "{t}");
    let tasks = tasks_of(&anna).await;
    let html = tasks.iter().find(|t| t.title == "Zażółć żółć").expect("split subject decoded whole");
    let d = &html.description;
    for glued in ["akapitDrugi", "jabłkagruszki", "Komórka AKomórka B"] {
        assert!(!d.contains(glued), "{glued:?} in {d:?}");
    }
    assert!(d.contains("Pierwszy akapit\n\nDrugi akapit"), "{d:?}");
    assert!(d.contains("* jabłka\n* gruszki"), "{d:?}");
    assert!(d.contains("https://example.org/plan"), "{d:?}");
    assert!(!d.contains("color:red") && !d.contains("alert"), "{d:?}");

    // Senders' limit: 3 tasks per 4 s from one sender; the 4th is refused for now.
    for n in 1..=3 {
        let (code, t) = m
            .swaks(
                Via::Smtp,
                &["--from", "d@example.org", "--to", &addr, "--header", &format!("Subject: L{n}")],
            )
            .await;
        assert_eq!(code, 0, "{t}");
    }
    let (code, t) =
        m.swaks(Via::Smtp, &["--from", "d@example.org", "--to", &addr, "--header", "Subject: L4"]).await;
    assert_ne!(code, 0);
    assert!(t.contains("451 4.7.1") && t.contains("try again later"), "{t}");
    let (code, t) =
        m.swaks(Via::Lmtp, &["--from", "e@example.org", "--to", &addr, "--header", "Subject: Other"]).await;
    assert_eq!(code, 0, "another sender is not held back: {t}");
    tokio::time::sleep(std::time::Duration::from_millis(4200)).await;
    let (code, t) =
        m.swaks(Via::Smtp, &["--from", "d@example.org", "--to", &addr, "--header", "Subject: L4"]).await;
    assert_eq!(code, 0, "after the window: {t}");
    assert!(t.contains("250"), "{t}");
    assert_eq!(count(&tasks_of(&anna).await, "L4"), 1);
}
