//! The e-mail participant's task page served by the node's web router on a real
//! portal (found by review in stop 24): refusals in the page's language, the
//! page's comments under the same limit per link as replies, and downloads that
//! a client stops reading hold no blocking thread.

use portalnet_core::permissions::Actor;
use portalnet_core::task::NewTask;
use portalnet_core::user::UserKind;
use portalnet_node::clock::SystemClock;
use portalnet_portal::Portal;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::common;

fn admin() -> Actor {
    Actor { login: "admin".into(), admin: true, kind: UserKind::Employee }
}

struct Setup {
    portal: Arc<Portal>,
    task: u64,
    token: String,
    _tmp: tempfile::TempDir,
}

/// A task with two e-mail participants (joe responsible, ann observer) and
/// optionally one file of `file_bytes`; joe's link token.
fn setup(file_bytes: usize, limits: portalnet_portal::MailLimits) -> (Setup, Option<u64>) {
    let (portal, _, tmp) = common::open_portal("alpha.test", Arc::new(SystemClock), limits);
    let t = portal
        .create_task(
            &admin(),
            NewTask {
                title: "Dach".into(),
                description: String::new(),
                responsible: Some("mailto:joe@example.org".into()),
                accomplices: vec![],
                observers: vec!["mailto:ann@example.org".into()],
                deadline: None,
                group: None,
            },
        )
        .unwrap();
    let file = (file_bytes > 0).then(|| {
        match portal
            .attach_file(&admin(), t.id, "big.bin", "application/octet-stream", vec![7u8; file_bytes])
            .unwrap()
        {
            portalnet_portal::Attached::Done(m) => m.id,
            _ => panic!("pending"),
        }
    });
    let token = portal
        .task_links(&admin(), t.id)
        .unwrap()
        .into_iter()
        .find(|l| l.participant == "mailto:joe@example.org")
        .unwrap()
        .token;
    (Setup { portal: Arc::new(portal), task: t.id, token, _tmp: tmp }, file)
}

async fn serve(portal: Arc<Portal>) -> std::net::SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let site = Arc::new(portalnet_node::web::Site { portal, endpoint: String::new() });
    tokio::spawn(async move {
        let (conns, stop) = (Default::default(), tokio_util::sync::CancellationToken::new());
        portalnet_node::web::serve(l, site, &conns, stop).await.unwrap()
    });
    addr
}

/// One request; the whole response as text.
async fn send(addr: std::net::SocketAddr, raw: String) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(raw.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

fn post_comment(token: &str, lang: &str, text: &str) -> String {
    let body = format!("text={text}");
    format!(
        "POST /t/{token} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAccept-Language: {lang}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// A refused comment on a Polish page is said in Polish, with what was typed kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_comment_is_said_in_the_pages_language() {
    let (s, _) = setup(0, common::unlimited());
    let addr = serve(s.portal.clone()).await;
    let resp = send(addr, post_comment(&s.token, "pl", "%20")).await;
    assert!(resp.starts_with("HTTP/1.1 400"), "{resp}");
    assert!(resp.contains("lang=\"pl\""), "a Polish page");
    let error = resp.lines().find(|l| l.contains("id=\"error\"")).unwrap_or(&resp);
    assert!(resp.contains("treść komentarza jest wymagana"), "the refusal should be Polish, got: {error}");
}

/// A comment on the page is the same action as a reply (R22) and counts against
/// the same limit per link: past it the page says so (429), and nothing is posted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_comments_share_the_reply_limit_of_their_link() {
    let limits = portalnet_portal::MailLimits { replies_per_link: 3, ..common::unlimited() };
    let (s, _) = setup(0, limits);
    let addr = serve(s.portal.clone()).await;
    for i in 0..3 {
        let resp = send(addr, post_comment(&s.token, "en", &format!("note{i}"))).await;
        assert!(resp.starts_with("HTTP/1.1 303"), "{resp}");
    }
    let resp = send(addr, post_comment(&s.token, "en", "one+more")).await;
    assert!(resp.starts_with("HTTP/1.1 429"), "{resp}");
    assert!(resp.contains("too many replies"), "{resp}");
    assert_eq!(s.portal.list_comments(&admin(), s.task).unwrap().len(), 3);
}

/// Downloads whose clients stop reading must not hold the blocking threads every
/// write needs: with more stalled downloads than the pool has threads, a comment
/// through the page still goes through. (Before, each stalled download held a
/// thread in `blocking_send` for as long as its connection stayed open; the node
/// runs tokio's default 512, this runtime 4 so the test is quick.)
#[test]
fn stalled_downloads_leave_the_blocking_pool_free() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(4)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (s, file) = setup(16 * 1024 * 1024, common::unlimited());
        let file = file.unwrap();
        let addr = serve(s.portal.clone()).await;
        let mut held = Vec::new();
        for _ in 0..8 {
            let sock = tokio::net::TcpSocket::new_v4().unwrap();
            sock.set_recv_buffer_size(4096).unwrap();
            let mut c = sock.connect(addr).await.unwrap();
            c.write_all(format!("GET /t/{}/files/{file} HTTP/1.1\r\nHost: x\r\n\r\n", s.token).as_bytes())
                .await
                .unwrap();
            held.push(c); // never read
        }
        // Time for the downloads to fill their buffers and stall (a wrong
        // implementation blocks by then; a right one never does).
        tokio::time::sleep(Duration::from_secs(2)).await;
        let posted =
            tokio::time::timeout(Duration::from_secs(30), send(addr, post_comment(&s.token, "en", "hello")))
                .await;
        let resp = posted.expect("a comment POST hung behind stalled downloads");
        assert!(resp.starts_with("HTTP/1.1 303"), "{resp}");
        drop(held);
    });
}

/// A long thread is shown a page of comments at a time (100), with a link to the
/// next page: a page view costs what one page costs, not the whole thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_shows_a_long_thread_a_page_at_a_time() {
    let (s, _) = setup(0, common::unlimited());
    for i in 0..150 {
        s.portal.add_comment(&admin(), s.task, &format!("comment {i}")).unwrap();
    }
    let addr = serve(s.portal.clone()).await;
    let get =
        |path: String| send(addr, format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    let first = get(format!("/t/{}", s.token)).await;
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");
    assert_eq!(first.matches("class=\"comment\"").count(), 100);
    assert!(first.contains(">comment 0<") && !first.contains(">comment 100<"));
    let href = first.split("id=\"more-comments\" href=\"").nth(1).expect("a link to later comments");
    let href = href.split(['"', '#']).next().unwrap().to_string();
    let second = get(href).await;
    assert_eq!(second.matches("class=\"comment\"").count(), 50, "{second}");
    assert!(second.contains(">comment 149<") && second.contains("id=\"first-comments\""));
    assert!(!second.contains("id=\"more-comments\""));
    let bad = get(format!("/t/{}?comments=garbage", s.token)).await;
    assert!(bad.starts_with("HTTP/1.1 400"), "{bad}");
}
