//! The headless-Chromium driver (support/browser.rs) against a tiny hand-written
//! HTTP/1.1 server on 127.0.0.1:0: a form posted like a person would, the echo of
//! a `<script>` shown as text (never run), and the status of a 403 page.

use anyhow::Result;
use portalnet_tests::DEADLINE;
use portalnet_tests::browser::Browser;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const FORM: &str = "<!doctype html><title>form</title><form method=post action=/echo>\
    <textarea name=text></textarea><button type=submit>Send</button></form>";

fn url_decode(s: &str) -> String {
    let (b, mut out, mut i) = (s.as_bytes(), Vec::new(), 0);
    while i < b.len() {
        let hex = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b[i], hex) {
            (b'%', Some(h)) => (out.push(h), i += 3),
            (b'+', _) => (out.push(b' '), i += 1),
            (c, _) => (out.push(c), i += 1),
        };
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

async fn answer(mut conn: TcpStream) -> Result<()> {
    let mut req = Vec::new();
    let head_end = loop {
        if let Some(p) = req.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        let mut buf = [0; 4096];
        let n = conn.read(&mut buf).await?;
        anyhow::ensure!(n > 0 && req.len() < 65536, "bad request");
        req.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&req[..head_end]).into_owned();
    let length = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("content-length").then(|| v.trim().parse::<usize>().ok())?
    });
    while req.len() < head_end + length.unwrap_or(0) {
        let mut buf = [0; 4096];
        let n = conn.read(&mut buf).await?;
        anyhow::ensure!(n > 0, "short body");
        req.extend_from_slice(&buf[..n]);
    }
    let body = String::from_utf8_lossy(&req[head_end..]).into_owned();
    let (status, page) = match head.split(' ').take(2).collect::<Vec<_>>()[..] {
        ["GET", "/"] => ("200 OK", FORM.to_string()),
        ["POST", "/echo"] => {
            let text = body.split('&').find_map(|kv| kv.strip_prefix("text=")).unwrap_or("");
            let text = html_escape(&url_decode(text));
            ("200 OK", format!("<!doctype html><title>echo</title><p id=out>{text}</p>"))
        }
        ["GET", "/forbidden"] => ("403 Forbidden", "<!doctype html><h1>Forbidden</h1>".into()),
        _ => ("404 Not Found", "<!doctype html><h1>Not found</h1>".into()),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{page}",
        page.len()
    );
    conn.write_all(response.as_bytes()).await?;
    Ok(conn.shutdown().await?)
}

/// Serves until the test ends; returns the base URL.
async fn serve() -> Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            tokio::spawn(tokio::time::timeout(DEADLINE, answer(conn)));
        }
    });
    Ok(base)
}

#[tokio::test]
async fn drives_forms_escapes_scripts_and_sees_statuses() -> Result<()> {
    let base = serve().await?;
    let browser = Browser::launch().await?;
    let page = browser.new_page().await?;

    page.goto(&format!("{base}/")).await?;
    assert_eq!(page.status_of_last_navigation().await, Some(200));
    let said = "Hello & good-bye, 100% ünïcode + more";
    page.fill("textarea[name=text]", said).await?;
    page.click_and_wait_navigation("button[type=submit]").await?;
    assert_eq!(page.url().await?, format!("{base}/echo"));
    assert!(page.text().await?.contains(said), "{}", page.html().await?);

    // A posted script comes back as visible text and never runs.
    let script = "<script>window.__xss = 1; alert(1)</script>";
    page.goto(&format!("{base}/")).await?;
    page.fill("textarea", script).await?;
    page.click_and_wait_navigation("button").await?;
    assert!(page.text().await?.contains(script));
    assert!(page.html().await?.contains("&lt;script&gt;window.__xss"));
    assert_eq!(page.eval("typeof window.__xss").await?, json!("undefined"));
    assert!(page.dialogs().is_empty());

    // eval: values, awaited promises, exceptions; wait_for polls.
    assert_eq!(page.eval("Promise.resolve(6 * 7)").await?, json!(42));
    let err = page.eval("throw new Error('boom')").await.unwrap_err();
    assert!(err.to_string().contains("boom"), "{err:#}");
    page.eval("setTimeout(() => document.title = 'later', 50)").await?;
    page.wait_for("document.title === 'later'", DEADLINE).await?;
    assert!(page.fill("#missing", "x").await.is_err());

    page.goto(&format!("{base}/forbidden")).await?;
    assert_eq!(page.status_of_last_navigation().await, Some(403));
    assert!(page.text().await?.contains("Forbidden"));
    page.goto(&format!("{base}/nowhere")).await?;
    assert_eq!(page.status_of_last_navigation().await, Some(404));
    Ok(())
}
