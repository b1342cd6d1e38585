//! A small headless-Chromium driver for end-to-end tests, speaking the Chrome
//! DevTools Protocol over a websocket. Needs Debian's `chromium` at
//! `/usr/bin/chromium` (`.ci/run` installs it).
//!
//! One background task owns the websocket: it writes the commands queued by
//! [`Browser`] and [`Page`], answers each command's waiter by id, and routes the
//! events the driver cares about (main-document HTTP status, JS dialogs) to the
//! page they belong to. Every wait has a deadline.

use crate::DEADLINE;
use anyhow::{Context, Result, anyhow, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep, timeout, timeout_at};
use tokio_tungstenite::tungstenite::Message;

const CHROMIUM: &str = "/usr/bin/chromium";
const POLL: Duration = Duration::from_millis(20);
/// How long chromium may take to start listening. The first start on a fresh machine
/// builds its font and profile caches and prints nothing meanwhile (seen: 14 s here,
/// over 30 s on a loaded CI machine); later starts take about a second. The wait ends
/// as soon as DevTools listens, so a long limit costs nothing when all is well.
const START_DEADLINE: Duration = Duration::from_secs(180);
/// A global marking the current document, so a wait can tell a new one from it.
const OLD_DOCUMENT: &str = "window.__portalnetOldDocument";

/// A running headless Chromium. Dropping it kills the browser and removes its profile.
pub struct Browser {
    conn: Arc<Conn>,
    pump: JoinHandle<()>,
    // Field order is drop order: kill chromium before removing its profile.
    _process: Process,
    _dir: tempfile::TempDir,
}

/// One tab, attached with its own CDP session.
pub struct Page {
    conn: Arc<Conn>,
    session: String,
    target: String,
}

#[derive(Default)]
struct PageState {
    main_frame: String,
    status: Option<u16>,
    dialogs: Vec<String>,
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;
type Reply = std::result::Result<Value, String>;

struct Conn {
    out: mpsc::UnboundedSender<String>,
    next_id: AtomicU64,
    pending: Mutex<HashMap<u64, oneshot::Sender<Reply>>>,
    pages: Mutex<HashMap<String, PageState>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Conn {
    fn encode(id: u64, session: Option<&str>, method: &str, params: Value) -> String {
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            msg["sessionId"] = session.into();
        }
        msg.to_string()
    }

    /// Sends a command whose answer nobody waits for.
    fn send(&self, session: Option<&str>, method: &str, params: Value) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let _ = self.out.send(Self::encode(id, session, method, params));
    }

    async fn call(&self, session: Option<&str>, method: &str, params: Value) -> Result<Value> {
        let (tx, rx) = oneshot::channel();
        // Register the waiter before the command can possibly be answered.
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        lock(&self.pending).insert(id, tx);
        if self.out.send(Self::encode(id, session, method, params)).is_err() {
            lock(&self.pending).remove(&id);
            bail!("{method}: the browser connection is closed");
        }
        match timeout(DEADLINE, rx).await {
            Ok(Ok(Ok(v))) => Ok(v),
            Ok(Ok(Err(e))) => bail!("{method}: {e}"),
            Ok(Err(_)) => bail!("{method}: the browser connection closed"),
            Err(_) => {
                lock(&self.pending).remove(&id);
                bail!("{method}: no answer from chromium within {DEADLINE:?}")
            }
        }
    }

    /// Handles one message from chromium. Anything unexpected is ignored.
    fn route(&self, text: &str) {
        let Ok(msg) = serde_json::from_str::<Value>(text) else { return };
        if let Some(id) = msg.get("id").and_then(Value::as_u64) {
            if let Some(waiter) = lock(&self.pending).remove(&id) {
                let reply = match msg.get("error") {
                    Some(e) => Err(match (e["message"].as_str(), e["data"].as_str()) {
                        (Some(m), Some(d)) => format!("{m} ({d})"),
                        (Some(m), None) => m.to_string(),
                        _ => e.to_string(),
                    }),
                    None => Ok(msg.get("result").cloned().unwrap_or(Value::Null)),
                };
                let _ = waiter.send(reply);
            }
            return;
        }
        let Some(session) = msg["sessionId"].as_str() else { return };
        let params = &msg["params"];
        match msg["method"].as_str() {
            Some("Network.responseReceived") if params["type"] == "Document" => {
                if let Some(page) = lock(&self.pages).get_mut(session)
                    && params["frameId"].as_str() == Some(page.main_frame.as_str())
                {
                    page.status = params["response"]["status"].as_u64().and_then(|s| u16::try_from(s).ok());
                }
            }
            Some("Page.javascriptDialogOpening") => {
                // An unanswered alert() blocks the page: dismiss it, and remember it.
                if let Some(page) = lock(&self.pages).get_mut(session) {
                    let kind = params["type"].as_str().unwrap_or("dialog");
                    let text = params["message"].as_str().unwrap_or("");
                    page.dialogs.push(format!("{kind}: {text}"));
                }
                self.send(Some(session), "Page.handleJavaScriptDialog", json!({ "accept": false }));
            }
            _ => {}
        }
    }
}

/// Writes queued commands and reads chromium's messages until either side closes.
async fn pump(ws: Ws, mut out: mpsc::UnboundedReceiver<String>, conn: Arc<Conn>) {
    let (mut sink, mut stream) = ws.split();
    loop {
        tokio::select! {
            cmd = out.recv() => match cmd {
                Some(text) => if sink.send(Message::text(text)).await.is_err() { break },
                None => break,
            },
            msg = stream.next() => match msg {
                Some(Ok(Message::Text(text))) => conn.route(text.as_str()),
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
        }
    }
    // Waiters learn at once that no answer will come.
    lock(&conn.pending).clear();
}

/// The chromium process group: killed (all of it) on drop.
struct Process {
    child: tokio::process::Child,
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-s", "KILL", "--", &format!("-{pid}")])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.child.start_kill();
        // Let it exit before its profile directory is removed.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while matches!(self.child.try_wait(), Ok(None)) && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Browser {
    /// Starts headless chromium with a fresh profile and connects to it.
    pub async fn launch() -> Result<Browser> {
        if !Path::new(CHROMIUM).exists() {
            bail!("{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)");
        }
        let dir = tempfile::tempdir().context("creating chromium's temp dir")?;
        let log = dir.path().join("chromium.stderr");
        let stderr = std::fs::File::create(&log).context("creating chromium's stderr log")?;
        let child = tokio::process::Command::new(CHROMIUM)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", dir.path().join("profile").display()))
            .arg("about:blank")
            // No D-Bus here: addresses that fail at once instead of a bus that may
            // exist but never answer (libdbus waits 25 s per call for one).
            .env("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/portalnet-test-system-bus")
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/portalnet-test-session-bus")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {CHROMIUM}"))?;
        let mut process = Process { child };

        let deadline = Instant::now() + START_DEADLINE;
        let ws_url = loop {
            let stderr = std::fs::read_to_string(&log).unwrap_or_default();
            if let Some(url) = stderr.lines().find_map(|l| l.split_once("DevTools listening on ")) {
                break url.1.trim().to_string();
            }
            if let Some(status) = process.child.try_wait()? {
                bail!("chromium exited ({status}) before DevTools was listening; stderr:\n{stderr}");
            }
            if Instant::now() >= deadline {
                bail!(
                    "chromium did not print 'DevTools listening on ws://...' within {START_DEADLINE:?}; stderr:\n{stderr}"
                );
            }
            sleep(POLL).await;
        };

        let (ws, _) = timeout_at(deadline, tokio_tungstenite::connect_async(ws_url.as_str()))
            .await
            .map_err(|_| anyhow!("connecting to {ws_url}: timed out"))?
            .with_context(|| format!("connecting to {ws_url}"))?;
        let (out, out_rx) = mpsc::unbounded_channel();
        let conn = Arc::new(Conn {
            out,
            next_id: AtomicU64::new(1),
            pending: Mutex::default(),
            pages: Mutex::default(),
        });
        let pump = tokio::spawn(pump(ws, out_rx, conn.clone()));
        Ok(Browser { conn, pump, _process: process, _dir: dir })
    }

    /// Opens a new tab at `about:blank`.
    pub async fn new_page(&self) -> Result<Page> {
        let created = self.conn.call(None, "Target.createTarget", json!({ "url": "about:blank" })).await?;
        let target = created["targetId"].as_str().context("createTarget: no targetId")?;
        let attached = self
            .conn
            .call(None, "Target.attachToTarget", json!({ "targetId": target, "flatten": true }))
            .await?;
        let session = attached["sessionId"].as_str().context("attachToTarget: no sessionId")?;
        lock(&self.conn.pages).insert(session.to_string(), PageState::default());
        let page = Page { conn: self.conn.clone(), session: session.to_string(), target: target.to_string() };
        page.call("Page.enable", json!({})).await?;
        page.call("Network.enable", json!({})).await?;
        let tree = page.call("Page.getFrameTree", json!({})).await?;
        let frame = tree["frameTree"]["frame"]["id"].as_str().context("getFrameTree: no frame id")?;
        page.with_state(|s| s.main_frame = frame.to_string());
        Ok(page)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.pump.abort();
        lock(&self.conn.pending).clear();
    }
}

impl Page {
    async fn call(&self, method: &str, params: Value) -> Result<Value> {
        self.conn.call(Some(&self.session), method, params).await
    }

    fn with_state<T>(&self, f: impl FnOnce(&mut PageState) -> T) -> Option<T> {
        lock(&self.conn.pages).get_mut(&self.session).map(f)
    }

    /// Sends `Accept-Language: value` with every request of this page from now on.
    pub async fn set_accept_language(&self, value: &str) -> Result<()> {
        self.call("Network.enable", json!({})).await?;
        self.call("Network.setExtraHTTPHeaders", json!({ "headers": { "Accept-Language": value } })).await?;
        Ok(())
    }

    /// Navigates to `url` and waits until the new document has loaded completely.
    pub async fn goto(&self, url: &str) -> Result<()> {
        self.mark_document().await?;
        let nav = self.call("Page.navigate", json!({ "url": url })).await?;
        match nav["errorText"].as_str() {
            // An HTTP error status with an empty body: still a page, with a status.
            None | Some("") | Some("net::ERR_HTTP_RESPONSE_CODE_FAILURE") => {}
            Some(e) => bail!("navigating to {url}: {e}"),
        }
        // No loaderId: a same-document navigation (only the fragment changed).
        let new_document = nav.get("loaderId").is_some_and(|l| !l.is_null());
        self.wait_loaded(new_document, &format!("navigating to {url}")).await
    }

    /// Evaluates `js` (awaiting a promise) and returns its value as JSON
    /// (`undefined` is `null`). A JS exception is an error with its text.
    pub async fn eval(&self, js: &str) -> Result<Value> {
        let r = self
            .call(
                "Runtime.evaluate",
                json!({ "expression": js, "returnByValue": true, "awaitPromise": true }),
            )
            .await?;
        if let Some(ex) = r.get("exceptionDetails") {
            let text = ex["exception"]["description"]
                .as_str()
                .or(ex["exception"]["value"].as_str())
                .or(ex["text"].as_str())
                .unwrap_or("exception");
            bail!("JS exception: {text}");
        }
        let result = &r["result"];
        Ok(match result.get("unserializableValue") {
            Some(v) => v.clone(),
            None => result.get("value").cloned().unwrap_or(Value::Null),
        })
    }

    async fn eval_string(&self, js: &str) -> Result<String> {
        match self.eval(js).await? {
            Value::String(s) => Ok(s),
            other => bail!("{js}: expected a string, got {other}"),
        }
    }

    /// `document.body.innerText`: what a person sees.
    pub async fn text(&self) -> Result<String> {
        self.eval_string("document.body ? document.body.innerText : ''").await
    }

    /// `document.documentElement.outerHTML`.
    pub async fn html(&self) -> Result<String> {
        self.eval_string("document.documentElement.outerHTML").await
    }

    pub async fn url(&self) -> Result<String> {
        self.eval_string("location.href").await
    }

    /// Focuses the element matching `selector`, clears it, and types `value` into it.
    pub async fn fill(&self, selector: &str, value: &str) -> Result<()> {
        let sel = serde_json::to_string(selector)?;
        let found = self
            .eval(&format!(
                "(() => {{ const el = document.querySelector({sel}); if (!el) return false; \
                 el.scrollIntoView({{block: 'center'}}); el.focus(); \
                 if ('value' in el) el.value = ''; return true; }})()"
            ))
            .await?;
        if found != Value::Bool(true) {
            bail!("fill: no element matches {selector:?}");
        }
        self.call("Input.insertText", json!({ "text": value })).await?;
        Ok(())
    }

    /// Clicks the element matching `selector` with the mouse and waits until the
    /// navigation it starts has loaded a new document completely.
    pub async fn click_and_wait_navigation(&self, selector: &str) -> Result<()> {
        self.mark_document().await?;
        let sel = serde_json::to_string(selector)?;
        let at = self
            .eval(&format!(
                "(() => {{ const el = document.querySelector({sel}); if (!el) return null; \
                 el.scrollIntoView({{block: 'center'}}); const r = el.getBoundingClientRect(); \
                 return [r.left + r.width / 2, r.top + r.height / 2]; }})()"
            ))
            .await?;
        let (Some(x), Some(y)) = (at[0].as_f64(), at[1].as_f64()) else {
            bail!("click: no element matches {selector:?}");
        };
        for kind in ["mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({ "type": kind, "x": x, "y": y, "button": "left", "clickCount": 1 }),
            )
            .await?;
        }
        self.wait_loaded(true, &format!("clicking {selector:?}")).await
    }

    /// Polls until the JS expression `js_condition` is truthy.
    pub async fn wait_for(&self, js_condition: &str, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        let js = format!("!!(\n{js_condition}\n)");
        loop {
            // One slow attempt (say, during a navigation) must not use up the deadline.
            let attempt = deadline.min(Instant::now() + Duration::from_secs(5));
            let last = match timeout_at(attempt, self.eval(&js)).await {
                Ok(Ok(Value::Bool(true))) => return Ok(()),
                Ok(Ok(_)) => "never true".to_string(),
                Ok(Err(e)) => format!("{e:#}"),
                Err(_) => "the expression did not answer".to_string(),
            };
            if Instant::now() >= deadline {
                bail!("waiting for {js_condition:?} ({timeout:?}): {last}");
            }
            sleep(POLL).await;
        }
    }

    /// HTTP status of the main document of the last navigation (None before one,
    /// or for a document that had no HTTP response).
    pub async fn status_of_last_navigation(&self) -> Option<u16> {
        self.with_state(|s| s.status).flatten()
    }

    /// The JS dialogs (`alert`, `confirm`, ...) the page opened so far, as
    /// "type: message"; each was dismissed at once.
    pub fn dialogs(&self) -> Vec<String> {
        self.with_state(|s| s.dialogs.clone()).unwrap_or_default()
    }

    /// Marks the current document, and forgets the last navigation's status.
    async fn mark_document(&self) -> Result<()> {
        self.with_state(|s| s.status = None);
        self.eval(&format!("{OLD_DOCUMENT} = true")).await?;
        Ok(())
    }

    /// Waits until the document is complete (and, if `new_document`, is not the
    /// marked one). Errors while the old document goes away are retried.
    async fn wait_loaded(&self, new_document: bool, what: &str) -> Result<()> {
        let js = if new_document {
            format!("{OLD_DOCUMENT} === undefined && document.readyState === 'complete'")
        } else {
            "document.readyState === 'complete'".to_string()
        };
        self.wait_for(&js, DEADLINE).await.with_context(|| format!("{what}: no new document loaded"))
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        lock(&self.conn.pages).remove(&self.session);
        self.conn.send(None, "Target.closeTarget", json!({ "targetId": self.target }));
    }
}
