//! The real `portalctl` binary against a real portal node over TLS (started
//! in-process on 127.0.0.1:0): the README walk-through, `--json`, CSV reports,
//! files, and errors as a user sees them (one line on stderr, non-zero exit).

use portalnet_node::clock::SystemClock;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

struct Portal {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    endpoint: String,
    admin: String,
    _node: portalnet_node::NodeHandle,
}

async fn portal() -> Portal {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("alpha");
    let init =
        portalnet_node::init::init(&dir, "alpha.test", "127.0.0.1:0".parse().unwrap(), &SystemClock).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let node = portalnet_node::start(&dir, Arc::new(SystemClock), Some(listener), CancellationToken::new())
        .await
        .unwrap();
    Portal { endpoint: node.endpoint.clone(), admin: init.admin_token, dir, _tmp: tmp, _node: node }
}

impl Portal {
    /// Runs portalctl as `token` in a blocking thread (the node runs on this runtime).
    async fn run(&self, token: &str, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_portalctl"));
        cmd.args(args)
            .env("PORTALCTL_ENDPOINT", &self.endpoint)
            .env("PORTALCTL_TOKEN", token)
            .env("PORTALCTL_CA", self.dir.join("tls/cert.pem"))
            .current_dir(&self.dir);
        tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap()
    }

    /// Runs portalctl with no API token at all (as an invitee does).
    async fn anonymous(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_portalctl"));
        cmd.args(args)
            .env_remove("PORTALCTL_TOKEN")
            .env("PORTALCTL_ENDPOINT", &self.endpoint)
            .env("PORTALCTL_CA", self.dir.join("tls/cert.pem"));
        tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap()
    }

    /// The token in the invitation e-mail written for `to`.
    async fn invitation_token(&self, to: &str) -> String {
        let dir = self.dir.join("mail/outbox");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let raw = std::fs::read(e.path()).unwrap_or_default();
                let Some(msg) = mail_parser::MessageParser::default().parse(&raw) else { continue };
                if msg.to().and_then(|a| a.first()).and_then(|a| a.address()) != Some(to) {
                    continue;
                }
                let body = msg.body_text(0).unwrap_or_default().into_owned();
                if let Some(rest) = body.split("portalctl invite accept ").nth(1) {
                    return rest.split_whitespace().next().unwrap().to_string();
                }
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no invitation e-mail to {to} in {}",
                dir.display()
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    async fn ok(&self, token: &str, args: &[&str]) -> String {
        let out = self.run(token, args).await;
        assert!(out.status.success(), "portalctl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    async fn json(&self, token: &str, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ok(token, &all).await).unwrap()
    }

    /// Runs a command that must fail; returns its one stderr line.
    async fn fails(&self, token: &str, args: &[&str]) -> String {
        let out = self.run(token, args).await;
        assert_eq!(out.status.code(), Some(1), "portalctl {args:?} should fail with 1");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.trim_end().lines().count(), 1, "one line expected: {err:?}");
        assert!(err.starts_with("error: "), "{err}");
        assert!(out.stdout.is_empty());
        err
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn walkthrough() {
    let p = portal().await;
    let admin = p.admin.as_str();
    p.ok(
        admin,
        &["user", "add", "anna", "--name", "Anna Nowak", "--email", "anna@alpha.test", "--position", "PM"],
    )
    .await;
    p.ok(admin, &["user", "add", "bob", "--name", "Bob Kowalski", "--email", "bob@alpha.test"]).await;
    let renamed = p
        .json(admin, &["user", "update", "bob", "--name", "Bob Kowalski-Nowak", "--position", "Roofer"])
        .await;
    assert_eq!(
        (renamed["display_name"].as_str(), renamed["position"].as_str()),
        (Some("Bob Kowalski-Nowak"), Some("Roofer")),
        "{renamed}"
    );
    let out = p.run(admin, &["user", "update", "bob"]).await;
    assert_eq!(out.status.code(), Some(2), "an update with nothing to change is a usage error");
    let users = p.json(admin, &["user", "list"]).await;
    assert_eq!(users.as_array().unwrap().len(), 3);
    let anna = p.ok(admin, &["token", "issue", "anna"]).await.trim().to_string();
    let bob = p.ok(admin, &["token", "issue", "bob"]).await.trim().to_string();
    assert!(anna.starts_with("pn_"));
    assert_eq!(p.json(&anna, &["user", "whoami"]).await["login"], "anna");

    let g = p.json(&anna, &["group", "create", "Roof", "--description", "Our roof"]).await;
    let gid = g["group"]["id"].as_u64().unwrap().to_string();
    p.ok(&anna, &["group", "add-member", &gid, "bob", "--role", "moderator"]).await;
    let g = p.json(&anna, &["group", "show", &gid]).await;
    assert!(g.to_string().contains("moderator"), "{g}");

    let t = p
        .json(
            &anna,
            &[
                "task",
                "create",
                "Fix the roof",
                "--responsible",
                "bob",
                "--deadline",
                "2030-01-31",
                "--group",
                &gid,
            ],
        )
        .await;
    let id = t["id"].as_u64().unwrap().to_string();
    assert_eq!(t["status"], "new");
    assert_eq!(t["deadline"], "2030-01-31T23:59:59Z");
    p.ok(&bob, &["task", "status", &id, "in-progress"]).await;
    p.ok(&bob, &["task", "comment", &id, "On it; tiles ordered."]).await;
    std::fs::write(p.dir.join("plan.txt"), "1. tiles\n2. nails\n").unwrap();
    let f = p.json(&bob, &["task", "attach", &id, p.dir.join("plan.txt").to_str().unwrap()]).await;
    assert_eq!(f["size"], 18);
    p.ok(&anna, &["task", "update", &id, "--title", "Fix the whole roof", "--observers", "bob"]).await;

    let shown = p.json(&anna, &["task", "show", &id]).await;
    assert_eq!(shown["title"], "Fix the whole roof");
    assert_eq!(shown["status"], "in_progress");
    assert_eq!(shown["comments"][0]["text"], "On it; tiles ordered.");
    let human = p.ok(&anna, &["task", "show", &id]).await;
    assert!(human.contains("Fix the whole roof") && human.contains("plan.txt"), "{human}");

    // Download to a file and compare.
    let fid = shown["files"][0]["id"].as_u64().unwrap().to_string();
    let out = p.dir.join("copy.txt");
    p.ok(&anna, &["task", "download", &id, &fid, "--out", out.to_str().unwrap()]).await;
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "1. tiles\n2. nails\n");

    let history = p.json(&anna, &["task", "history", &id]).await;
    let kinds: Vec<&str> = history.as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["created", "status", "comment", "file", "updated"]);

    let list = p.ok(&bob, &["task", "list", "--status", "in_progress"]).await;
    assert!(list.contains("Fix the whole roof"), "{list}");
    let csv = p.ok(admin, &["report", "tasks", "--by", "status", "--csv"]).await;
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("status,total"), "{csv}");
    assert!(lines.iter().any(|l| l.starts_with("in_progress,1")), "{csv}");
    assert!(lines.last().unwrap().starts_with("total,1"), "{csv}");

    let info = p.json(admin, &["portal", "info"]).await;
    assert_eq!(info["portal_id"], "alpha.test");
    assert_eq!(info["endpoints"][0], p.endpoint.as_str());
    assert!(info["key_fingerprint"].as_str().unwrap().len() >= 32);

    p.ok(admin, &["user", "dismiss", "bob"]).await;
    let err = p.fails(&bob, &["task", "list"]).await;
    assert!(err.contains("dismissed") && err.contains("Unauthenticated"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_one_clear_line() {
    let p = portal().await;
    let admin = p.admin.as_str();
    let err = p.fails(admin, &["task", "show", "41"]).await;
    assert!(err.contains("task 41 not found") && err.contains("NotFound"), "{err}");
    let err = p.fails("pn_wrong", &["user", "list"]).await;
    assert!(err.contains("Unauthenticated"), "{err}");
    let err = p.fails(admin, &["task", "create", "x", "--responsible", "ghost"]).await;
    assert!(err.contains("ghost"), "{err}");
    let err = p.fails(admin, &["user", "add", "Bad Login", "--name", "x", "--email", "x@y.z"]).await;
    assert!(err.contains("InvalidArgument"), "{err}");

    // A file over the portal's limit is refused before it is read or sent.
    let big = p.dir.join("big.bin");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(64 * 1024 * 1024).unwrap();
    let t = p.json(admin, &["task", "create", "Big"]).await;
    let err = p.fails(admin, &["task", "attach", &t["id"].to_string(), big.to_str().unwrap()]).await;
    assert!(err.contains("accepts files up to 26214400 bytes"), "{err}");
    assert_eq!(
        p.json(admin, &["task", "show", &t["id"].to_string()]).await["files"].as_array().unwrap().len(),
        0
    );

    // Usage errors exit with 2.
    let out = p.run(admin, &["task", "status", "1", "finished"]).await;
    assert_eq!(out.status.code(), Some(2));

    // The wrong CA: a TLS failure, said plainly.
    let other = tempfile::tempdir().unwrap();
    portalnet_node::init::init(
        &other.path().join("b"),
        "beta.test",
        "127.0.0.1:0".parse().unwrap(),
        &SystemClock,
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_portalctl"))
        .args(["user", "list"])
        .env("PORTALCTL_ENDPOINT", &p.endpoint)
        .env("PORTALCTL_TOKEN", admin)
        .env("PORTALCTL_CA", other.path().join("b/tls/cert.pem"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--ca"), "{err}");
    // Nobody listening.
    let out = Command::new(env!("CARGO_BIN_EXE_portalctl"))
        .args([
            "--endpoint",
            "https://127.0.0.1:1",
            "--ca",
            p.dir.join("tls/cert.pem").to_str().unwrap(),
            "user",
            "list",
        ])
        .env("PORTALCTL_TOKEN", admin)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("could not reach"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The extranet story (R1–R4, R6–R10, R24) through portalctl, with the token read
/// from the `.eml` the portal wrote.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extranet_story() {
    let p = portal().await;
    let admin = p.admin.as_str();
    p.ok(admin, &["user", "add", "olga", "--name", "Olga Owner", "--email", "olga@alpha.test"]).await;
    p.ok(admin, &["user", "add", "mem", "--name", "Mem Member", "--email", "mem@alpha.test"]).await;
    let olga = p.ok(admin, &["token", "issue", "olga"]).await.trim().to_string();
    let mem = p.ok(admin, &["token", "issue", "mem"]).await.trim().to_string();

    let created = p
        .json(
            &olga,
            &[
                "group",
                "create",
                "Contractors",
                "--extranet",
                "--invite-policy",
                "moderators",
                "--invite",
                "jan@firma.pl",
            ],
        )
        .await;
    assert_eq!(created["group"]["extranet"], true);
    assert_eq!(created["group"]["invite_policy"], "moderators");
    assert_eq!(created["invitations"][0]["state"], "pending");
    let gid = created["group"]["id"].as_u64().unwrap().to_string();
    p.ok(&olga, &["group", "add-member", &gid, "mem"]).await;

    // R6 up front: a plain member's invitation says the person will not join the group.
    let out = p.ok(&mem, &["group", "invite", &gid, "--email", "piotr@firma.pl"]).await;
    assert!(out.contains("note:") && out.contains("not the group"), "{out}");
    // R2: a group without the flag refuses.
    let plain = p.json(&olga, &["group", "create", "Internal"]).await;
    let err = p
        .fails(
            &olga,
            &["invite", "send", "--email", "x@firma.pl", "--group", &plain["group"]["id"].to_string()],
        )
        .await;
    assert!(err.contains("not available in extranet") && err.contains("FailedPrecondition"), "{err}");

    // R4: accept with the token from the e-mail, with no API token.
    let token = p.invitation_token("jan@firma.pl").await;
    let out = p.anonymous(&["--json", "invite", "accept", &token, "--name", "Jan Kowalski"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let acc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(acc["user"]["kind"], "extranet");
    let jan = acc["api_token"].as_str().unwrap().to_string();
    let again = p.anonymous(&["invite", "accept", &token, "--name", "Jan"]).await;
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already been used"));

    // Work inside the group; nothing outside (R7, R12).
    let t =
        p.json(&olga, &["task", "create", "Deliver bricks", "--responsible", "jan", "--group", &gid]).await;
    let id = t["id"].to_string();
    p.ok(&jan, &["task", "status", &id, "in_progress"]).await;
    let groups = p.json(&jan, &["group", "list"]).await;
    assert_eq!(groups.as_array().unwrap().len(), 1, "{groups}");
    let err = p.fails(&jan, &["user", "list"]).await;
    assert!(err.contains("PermissionDenied"), "{err}");
    let csv = p.ok(admin, &["report", "tasks", "--by", "responsible", "--csv"]).await;
    assert!(csv.lines().any(|l| l.starts_with("jan,extranet,1")), "{csv}");

    // Invitations: list, resend, revoke.
    let pending = p.json(&olga, &["invite", "list"]).await;
    let piotr = pending.as_array().unwrap().iter().find(|i| i["email"] == "piotr@firma.pl").unwrap()["id"]
        .to_string();
    assert_eq!(p.json(&olga, &["invite", "resend", &piotr]).await["state"], "pending");
    assert_eq!(p.json(&olga, &["invite", "revoke", &piotr]).await["state"], "revoked");

    // Seats (R8) and the moves (R9, R10).
    p.ok(admin, &["portal", "plan", "set", "--seats", "4"]).await;
    let plan = p.json(admin, &["portal", "plan", "show"]).await;
    assert_eq!(
        (plan["seats"].as_u64(), plan["used"].as_u64(), plan["extranet"].as_u64()),
        (Some(4), Some(4), Some(1))
    );
    let err = p.fails(&olga, &["group", "invite", &gid, "--email", "full@firma.pl"]).await;
    assert!(err.contains("allows 4 business users"), "{err}");
    let err = p.fails(admin, &["user", "move-to-extranet", "olga"]).await;
    assert!(err.contains("dismiss") && err.contains("another"), "{err}");
    let moved = p.json(admin, &["user", "move-to-intranet", "jan"]).await;
    assert_eq!(moved["kind"], "employee");
    assert_eq!(p.json(&jan, &["task", "show", &id]).await["responsible"], "jan");
}
