//! The e-mail participant's task page (R22) in headless Debian Chromium, against a
//! real `portald` process: open the link from the notification, read the task,
//! post a comment through the form, see it in the portal; user text is shown as
//! text (no script runs); a link grants one task only; a revoked link is refused.

use portalnet_proto::v1 as pb;
use portalnet_tests::Node;
use portalnet_tests::browser::Browser;
use portalnet_tests::ctl_json;
use portalnet_tests::mailnode::MailNode;
use serde_json::json;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const JOE: &str = "joe@example.org";

/// A plain HTTP GET; returns the status line and body.
async fn http_get(url: &str) -> (String, Vec<u8>) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut s = tokio::net::TcpStream::connect(host).await.unwrap();
    s.write_all(format!("GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let end = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let status = String::from_utf8_lossy(&out[..end]).lines().next().unwrap().to_string();
    (status, out[end + 4..].to_vec())
}

async fn attach(c: &portalnet_tests::Clients, task: u64, name: &str, content: &[u8]) -> pb::FileInfo {
    let req = pb::AttachFileRequest {
        task_id: task,
        name: name.into(),
        content_type: "text/plain".into(),
        content: content.to_vec(),
    };
    c.clone().tasks.attach_file(req).await.unwrap().into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_page_in_chromium() {
    let m = MailNode::start("alpha.test", None).await.unwrap();
    let token = m.employee("anna", "Anna Nowak").await.unwrap();
    let mut anna = m.node.clients(&token).await.unwrap();
    let t = anna
        .tasks
        .create_task(pb::CreateTaskRequest {
            title: "Remont <i>biura</i>".into(),
            description: "Plan: <img src=x onerror=\"window.__xss=2\"> ściany & sufit".into(),
            responsible: format!("mailto:{JOE}"),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let file = attach(&anna, t.id, "kosztorys.txt", b"100 PLN").await;
    anna.tasks
        .add_comment(pb::AddCommentRequest { task_id: t.id, text: "Start w poniedziałek".into() })
        .await
        .unwrap();
    // Another task Joe has nothing to do with, with a file of its own.
    let other = anna
        .tasks
        .create_task(pb::CreateTaskRequest { title: "Tajne".into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    let secret = attach(&anna, other.id, "tajne.txt", b"secret").await;

    let notice = m.wait_mail(JOE, 1).await.remove(0);
    let link = notice.link();

    let browser = Browser::launch().await.unwrap();
    let page = browser.new_page().await.unwrap();
    page.goto(&link).await.unwrap();
    assert_eq!(page.status_of_last_navigation().await, Some(200));
    let text = page.text().await.unwrap();
    for want in [
        "Remont <i>biura</i>",
        "Plan: <img src=x onerror=\"window.__xss=2\"> ściany & sufit",
        "Status: new",
        "Creator: Anna Nowak",
        "Responsible: joe@example.org",
        "kosztorys.txt",
        "Start w poniedziałek",
        "You comment as joe@example.org",
    ] {
        assert!(text.contains(want), "page shows {want:?}:\n{text}");
    }
    assert_eq!(page.eval("document.querySelectorAll('#description img').length").await.unwrap(), json!(0));

    // Post a comment with markup, as a person would.
    let typed = "Zrobione <script>window.__xss=1</script> & <b>gotowe</b>";
    page.fill("#text", typed).await.unwrap();
    page.click_and_wait_navigation("#send").await.unwrap();
    assert_eq!(page.status_of_last_navigation().await, Some(200));
    let text = page.text().await.unwrap();
    assert!(text.contains(typed), "shown as text:\n{text}");
    assert_eq!(page.eval("typeof window.__xss").await.unwrap(), json!("undefined"), "no script ran");
    assert!(page.dialogs().is_empty());
    assert_eq!(
        page.eval("document.querySelectorAll('.comment script, .comment b').length").await.unwrap(),
        json!(0)
    );
    // …and it is in the portal, by Joe.
    let comments = anna
        .tasks
        .list_comments(pb::ListCommentsRequest { task_id: t.id, ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .comments;
    let last = comments.last().unwrap();
    assert_eq!((last.author.as_str(), last.text.as_str()), ("mailto:joe@example.org", typed));

    // A comment made in the portal shows on the page.
    anna.tasks
        .add_comment(pb::AddCommentRequest { task_id: t.id, text: "Dzięki, Joe".into() })
        .await
        .unwrap();
    page.goto(&link).await.unwrap();
    assert!(page.text().await.unwrap().contains("Dzięki, Joe"));

    // The file downloads through the link; another task's file does not.
    let (status, body) = http_get(&format!("{link}/files/{}", file.id)).await;
    assert!(status.contains("200"), "{status}");
    assert_eq!(body, b"100 PLN");
    let (status, _) = http_get(&format!("{link}/files/{}", secret.id)).await;
    assert!(status.contains("404"), "a link grants its own task only: {status}");
    let base = link.rsplit_once("/t/").unwrap().0;
    page.goto(&format!("{base}/t/{}", "a".repeat(32))).await.unwrap();
    assert_eq!(page.status_of_last_navigation().await, Some(404));

    // Revoked: the open form no longer posts, and the link is refused.
    page.goto(&link).await.unwrap();
    let revoked = ctl_json(&m.node, &token, &["mail", "link", "revoke", &t.id.to_string(), JOE]);
    assert_eq!(revoked[0]["revoked"], true);
    page.fill("#text", "too late").await.unwrap();
    page.click_and_wait_navigation("#send").await.unwrap();
    assert_eq!(page.status_of_last_navigation().await, Some(403));
    assert!(page.text().await.unwrap().contains("revoked"));
    page.goto(&link).await.unwrap();
    assert_eq!(page.status_of_last_navigation().await, Some(403));
    let comments = anna
        .tasks
        .list_comments(pb::ListCommentsRequest { task_id: t.id, ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .comments;
    assert!(comments.iter().all(|c| c.text != "too late"));
    page.wait_for("document.body.innerText.includes('revoked')", Duration::from_secs(5)).await.unwrap();
}

/// Issue 16, languages: a portal speaking Russian mails its notice and invitation in
/// Russian (subject, text and HTML parts, plural forms of the file count); its pages
/// follow the browser's `Accept-Language` (pl, ru) and fall back to the portal's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn languages_of_mail_and_pages() {
    let m = MailNode::start_with("alpha.test", None, |c| c.language = "ru".into()).await.unwrap();
    let token = m.employee("anna", "Anna Nowak").await.unwrap();
    let mut anna = m.node.clients(&token).await.unwrap();
    let t = anna
        .tasks
        .create_task(pb::CreateTaskRequest { title: "Ремонт".into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    for name in ["a.txt", "b.txt"] {
        attach(&anna, t.id, name, b"12345").await;
    }
    // Named after two files were attached: the notice counts them.
    anna.tasks
        .update_task(pb::UpdateTaskRequest {
            id: t.id,
            observers: Some(pb::LoginList { logins: vec![format!("mailto:{JOE}")] }),
            ..Default::default()
        })
        .await
        .unwrap();
    let notice = m.wait_mail(JOE, 1).await.remove(0);
    assert_eq!(notice.subject, "[alpha.test] Ремонт");
    for want in [
        "Пользователь Anna Nowak добавил вас в задачу «Ремонт» в роли наблюдателя.",
        "Статус: новая",
        "В задаче 2 файла.",
        "Ответьте на это письмо",
    ] {
        assert!(notice.text.contains(want), "text has {want:?}:\n{}", notice.text);
    }
    assert!(
        notice.html.contains("lang=\"ru\"") && notice.html.contains("В задаче 2 файла."),
        "{}",
        notice.html
    );
    assert!(notice.html.contains("Открыть задачу"), "{}", notice.html);

    // The invitation e-mail, in Russian too.
    let mut admin = m.admin().await.unwrap();
    portalnet_tests::invite_into_new_group(&mut admin, "Снабжение", "guest@ext.test").await;
    let inv = m.wait_mail("guest@ext.test", 1).await.remove(0);
    assert_eq!(inv.subject, "Приглашение в группу Снабжение на портале alpha.test");
    assert!(
        inv.text.contains("Пользователь admin") || inv.text.contains("приглашает вас в группу «Снабжение»"),
        "{}",
        inv.text
    );
    assert!(inv.text.contains("Приглашение действует до ") && inv.text.contains(" г., "), "{}", inv.text);
    assert!(inv.html.contains("Принять приглашение"), "{}", inv.html);
    let invite_link =
        inv.text.split_whitespace().find(|w| w.contains("/invite/")).expect("an invitation link").to_string();

    let browser = Browser::launch().await.unwrap();
    for (lang, task_words, invite_words) in [
        (
            "pl-PL,pl;q=0.9",
            &[
                "Status: nowe",
                "Obserwator: joe@example.org",
                "5 bajtów",
                "Komentujesz jako joe@example.org",
                "Wyślij komentarz",
            ][..],
            &["Zapraszamy Cię do grupy Snabżenie", "Przyjmij zaproszenie", "Imię i nazwisko"][..],
        ),
        (
            "ru",
            &[
                "Статус: новая",
                "Наблюдатель: joe@example.org",
                "5 байт",
                "Вы комментируете как joe@example.org",
            ][..],
            &["Вас приглашают в группу Снабжение", "Принять приглашение", "Ваше имя"][..],
        ),
    ] {
        let page = browser.new_page().await.unwrap();
        page.set_accept_language(lang).await.unwrap();
        page.goto(&notice.link()).await.unwrap();
        let text = page.text().await.unwrap();
        for want in task_words {
            assert!(text.contains(want), "{lang}: task page shows {want:?}:\n{text}");
        }
        page.goto(&invite_link).await.unwrap();
        let text = page.text().await.unwrap();
        for want in invite_words {
            let want = want.replace("Snabżenie", "Снабжение");
            assert!(text.contains(&want), "{lang}: invitation page shows {want:?}:\n{text}");
        }
    }
    // A language the portal does not speak: the portal's own (ru).
    let page = browser.new_page().await.unwrap();
    page.set_accept_language("de-DE,de").await.unwrap();
    page.goto(&notice.link()).await.unwrap();
    assert!(page.text().await.unwrap().contains("Статус: новая"));

    // portalctl asks for refusals in its language (--language, else the locale).
    let out = portalnet_tests::ctl(&m.node, "pn_not_a_token", &["--language", "pl", "group", "list"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("ten portal nie zna tego tokenu API"), "{err}");
    let out = portalnet_tests::ctl(&m.node, "", &["--language", "ru", "group", "list"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("нет API-токена"), "{err}");
}

/// Issue 16, each reader's language: a user who reads Russian gets the portal's rule
/// refusals in Russian when their client asks for no language; `portalctl --language`
/// wins over it; field names and plural forms are said in the language; an invitee
/// chosen to read Polish gets the invitation in Polish and becomes a Polish-reading
/// user; a language the portal does not speak is refused up front.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_and_invitations_in_each_readers_language() {
    let m = MailNode::start_with("alpha.test", None, |_| {}).await.unwrap();
    let mut admin = m.admin().await.unwrap();

    let bad = admin
        .users
        .add_user(pb::AddUserRequest {
            language: "de".into(),
            ..portalnet_tests::new_user("olga", "Olga Petrova")
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code(), tonic::Code::InvalidArgument, "{bad:?}");
    assert!(bad.message().contains("use en, pl or ru"), "{}", bad.message());
    assert!(
        admin.users.get_user(pb::GetUserRequest { login: "olga".into() }).await.is_err(),
        "nothing written"
    );

    let olga = admin
        .users
        .add_user(pb::AddUserRequest {
            language: "ru".into(),
            ..portalnet_tests::new_user("olga", "Olga Petrova")
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(olga.language, "ru");
    let token = admin
        .users
        .issue_token(pb::IssueTokenRequest { login: "olga".into() })
        .await
        .unwrap()
        .into_inner()
        .token;
    let mut as_olga = m.node.clients(&token).await.unwrap();

    // No language asked: hers.
    let e = as_olga.users.add_user(portalnet_tests::new_user("ivan", "Ivan")).await.unwrap_err();
    assert_eq!(e.code(), tonic::Code::PermissionDenied);
    assert_eq!(e.message(), "только администраторы портала могут добавлять пользователей");
    let e = as_olga
        .groups
        .create_group(pb::CreateGroupRequest { name: " ".into(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!((e.code(), e.message()), (tonic::Code::InvalidArgument, "поле «название группы» обязательно"));
    let e = as_olga
        .tasks
        .create_task(pb::CreateTaskRequest { title: "x".repeat(1001), ..Default::default() })
        .await
        .unwrap_err();
    // Plural forms of the language: 1001 → "символ", 255 in the limit is a bare number.
    assert_eq!(e.message(), "в поле «название» 1001 символ; предел — 255");

    // portalctl's language wins over hers; without a token the portal's (en) is said.
    let out = portalnet_tests::ctl(
        &m.node,
        &token,
        &["--language", "pl", "user", "add", "ivan", "--name", "Ivan", "--email", "ivan@x.test"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("tylko administratorzy portalu mogą dodawać użytkowników"),
        "{err}"
    );
    let out = portalnet_tests::ctl(&m.node, &token, &["--language", "en", "task", "show", "999"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("task 999 not found"), "{err}");

    // Back to the portal's language (""), then Polish.
    for (lang, said) in [
        ("", "only portal administrators may add users"),
        ("pl", "tylko administratorzy portalu mogą dodawać użytkowników"),
    ] {
        let args = ["user", "update", "olga", "--user-language", lang];
        let u = portalnet_tests::ctl_json(&m.node, &m.node.admin_token(), &args);
        assert_eq!(u["language"], lang);
        let e = as_olga.users.add_user(portalnet_tests::new_user("ivan", "Ivan")).await.unwrap_err();
        assert_eq!(e.message(), said);
    }

    // An invitee chosen to read Polish, on an English portal.
    let g = portalnet_tests::new_group(
        &mut admin.groups,
        pb::CreateGroupRequest { name: "Dostawcy".into(), extranet: true, ..Default::default() },
    )
    .await;
    let inv = portalnet_tests::ctl_json(
        &m.node,
        &m.node.admin_token(),
        &["group", "invite", &g.id.to_string(), "--email", "guest@ext.test", "--invitee-language", "pl"],
    );
    assert_eq!(inv["language"], "pl", "{inv}");
    let mail = m.wait_mail("guest@ext.test", 1).await.remove(0);
    assert_eq!(mail.subject, "Zaproszenie do grupy Dostawcy w portalu alpha.test");
    let link = mail.text.split_whitespace().find(|w| w.contains("/invite/")).expect("an invitation link");
    let token = link.rsplit('/').next().unwrap_or_default().to_string();
    let accepted = admin
        .invites
        .accept(pb::AcceptRequest { token, display_name: "Gość".into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(accepted.user.map(|u| u.language).as_deref(), Some("pl"));
}
