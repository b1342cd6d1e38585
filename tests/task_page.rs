//! The e-mail participant's task page (R22) in headless Debian Chromium, against a
//! real `portald` process: open the link from the notification, read the task,
//! post a comment through the form, see it in the portal; user text is shown as
//! text (no script runs); a link grants one task only; a revoked link is refused.

use portalnet_proto::v1 as pb;
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
        .list_comments(pb::ListCommentsRequest { task_id: t.id })
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
        .list_comments(pb::ListCommentsRequest { task_id: t.id })
        .await
        .unwrap()
        .into_inner()
        .comments;
    assert!(comments.iter().all(|c| c.text != "too late"));
    page.wait_for("document.body.innerText.includes('revoked')", Duration::from_secs(5)).await.unwrap();
}
