//! One test per invariant. A failure names the file and what to do.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `.rs` file under `dir`, skipping build output. A folder that is not
/// there fails the test: a check must not pass because its folder moved.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    assert!(dir.is_dir(), "{} is not a folder: update the tidy check that names it", dir.display());
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = entry.path();
            let name = entry.file_name();
            if p.is_dir() && name != "target" && !name.to_string_lossy().starts_with('.') {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn rel(p: &Path) -> String {
    p.strip_prefix(root()).unwrap_or(p).display().to_string().replace("crates/../", "")
}

/// The normal (not dev, not build) dependencies of crate `name`.
fn dependencies(name: &str) -> Vec<String> {
    let manifest: toml::Table = read(&root().join("crates").join(name).join("Cargo.toml"))
        .parse()
        .unwrap_or_else(|e| panic!("{name}/Cargo.toml: {e}"));
    manifest
        .get("dependencies")
        .and_then(|d| d.as_table())
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn every_source_file_says_what_it_holds() {
    let mut missing = Vec::new();
    for dir in ["crates", "tests", "examples"] {
        for f in rust_files(&root().join(dir)) {
            if !read(&f).trim_start().starts_with("//!") {
                missing.push(rel(&f));
            }
        }
    }
    assert!(missing.is_empty(), "files without a `//!` header saying what they hold: {missing:#?}");
}

/// Each crate's normal dependencies that the architecture forbids.
#[test]
fn crates_depend_only_one_way() {
    let io = ["tokio", "tonic", "sled", "axum", "hyper", "reqwest", "lettre", "tokio-postgres"];
    let words = [&io[..], &["portalnet-core", "portalnet-store"][..]].concat();
    let rules: BTreeMap<&str, (&[&str], &str)> = BTreeMap::from([
        ("portalnet-core", (&io[..], "core does no IO")),
        ("portalnet-i18n", (&words[..], "i18n holds words, not rules or IO")),
        (
            "portalnet-store",
            (&["tonic", "tokio", "tokio-postgres", "portalnet-proto", "axum"][..], "store knows no network"),
        ),
        (
            "portalnet-postgres",
            (
                &["tonic", "sled", "portalnet-proto", "axum"][..],
                "an engine behind the store knows no transport",
            ),
        ),
        ("portalnet-federation", (&["tonic", "tokio", "sled"][..], "federation does no IO")),
        (
            "portalnet-directory",
            (&["tonic", "tokio", "portalnet-proto"][..], "the directory's rules know no transport"),
        ),
        (
            "portalnet-mail",
            (&["sled", "tonic", "portalnet-store"][..], "mail knows no storage; the node owns the outbox"),
        ),
        (
            "portalnet-inbound",
            (&["sled", "tonic", "portalnet-store", "portalnet-node"][..], "inbound knows no storage"),
        ),
        ("portalnet-proto", (&["portalnet-core", "portalnet-store"][..], "proto holds generated code only")),
        (
            "portalnet-portal",
            (
                &[
                    "tonic",
                    "tonic-health",
                    "axum",
                    "hyper",
                    "portalnet-proto",
                    "portalnet-node",
                    "tokio-stream",
                ][..],
                "the portal's logic knows no transport",
            ),
        ),
    ]);
    let mut broken = Vec::new();
    for (krate, (forbidden, why)) in &rules {
        for dep in dependencies(krate) {
            if forbidden.contains(&dep.as_str()) {
                broken.push(format!("{krate} depends on {dep}: {why}"));
            }
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
}

/// The portal's logic names no transport in its sources either (a dependency
/// could come in through another crate's re-export).
#[test]
fn the_portal_names_no_transport() {
    let mut broken = Vec::new();
    for f in rust_files(&root().join("crates/portalnet-portal/src")) {
        let src = read(&f);
        let code: String =
            src.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
        for word in ["tonic", "axum", "hyper", "portalnet_proto", "tokio::net", "std::net"] {
            if code.contains(word) {
                broken.push(format!("{}: names `{word}`; the node's adapters own transports", rel(&f)));
            }
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
}

/// Only the one mapping module (`node::grpc::error`) builds `tonic::Status`
/// values; everything else returns an error and converts it there.
#[test]
fn statuses_are_built_in_one_place() {
    let allowed: BTreeMap<&str, usize> = BTreeMap::from([("portalnet-node/src/grpc/error.rs", usize::MAX)]);
    let mut broken = Vec::new();
    for f in rust_files(&root().join("crates")) {
        let path = rel(&f).replace('\\', "/");
        let Some(in_crate) = path.strip_prefix("crates/") else { continue };
        // Clients (portalctl) and tests read statuses; they may build them in fakes.
        if !in_crate.contains("/src/") || in_crate.starts_with("portalnet-cli/") {
            continue;
        }
        let src = read(&f);
        let code = src.split("#[cfg(test)]").next().unwrap_or_default();
        let n = code.matches("Status::").count()
            - code.matches("TaskStatus::").count()
            - code.matches("ServingStatus::").count()
            - code.matches("InvitationStatus::").count();
        let limit = allowed.get(in_crate).copied().unwrap_or(0);
        if n > limit {
            broken.push(format!(
                "{path}: {n} uses of `Status::` (allowed {limit}); return a NodeError and let node::error map it"
            ));
        } else if n < limit && limit != usize::MAX {
            broken.push(format!(
                "{path}: {n} uses of `Status::`: lower its allowance here from {limit} to {n}"
            ));
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
}

/// The refusal texts of the portal are keyed messages, not English sentences: no
/// `Error::<kind>(format!(…))` in core or the portal's operations.
#[test]
fn refusals_are_said_through_message_ids() {
    let mut broken = Vec::new();
    for dir in ["crates/portalnet-core/src", "crates/portalnet-portal/src", "crates/portalnet-node/src/grpc"]
    {
        for f in rust_files(&root().join(dir)) {
            let src = read(&f);
            let code = src.split("#[cfg(test)]").next().unwrap_or_default();
            for kind in ["invalid", "not_found", "denied", "exists", "precondition"] {
                for pat in [format!("Error::{kind}(format!"), format!("Error::{kind}(\"")] {
                    if code.contains(&pat) {
                        broken.push(format!("{}: `{pat}…`: use text!(\"error-…\") and add the message to locales/*/errors.ftl", rel(&f)));
                    }
                }
            }
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
}

/// Tasks, users, invitations, groups, proposals and outbox entries are written only through `Tables::put_*`
/// (`portalnet-store/src/index.rs`), which keeps their indexes and counters in the
/// same write: a direct `tx_put` would leave an index stale.
#[test]
fn indexed_rows_are_written_in_one_place() {
    let mut broken = Vec::new();
    for f in rust_files(&root().join("crates")) {
        let path = rel(&f).replace('\\', "/");
        if path.ends_with("portalnet-store/src/index.rs") {
            continue;
        }
        let src = read(&f);
        for table in ["tasks", "users", "invitations", "groups", "proposals", "fed_outbox"] {
            for op in ["tx_put", "tx_remove"] {
                let call = format!("{table}.{op}(");
                if src.contains(&call) {
                    broken.push(format!(
                        "{path}: `{call}` writes around the indexes; use Tables::put_{} instead",
                        table.trim_end_matches('s').trim_start_matches("fed_")
                    ));
                }
            }
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
}

/// Every listener of the node accepts through `node::listen` (a place per
/// connection, deadlines for silent clients): no server of its own over a bare
/// listener. The mail listeners accept through `portalnet-inbound`, limited there.
#[test]
fn listeners_accept_only_with_a_place() {
    let mut broken = Vec::new();
    for f in rust_files(&root().join("crates/portalnet-node/src")) {
        let src = read(&f);
        let code = src.split("#[cfg(test)]").next().unwrap_or_default();
        for pat in ["axum::serve(", "TcpIncoming", ".serve_with_shutdown(", ".serve("] {
            if code.contains(pat) {
                broken.push(format!(
                    "{}: `{pat}`: serve through crate::listen (Incoming, serve_http)",
                    rel(&f)
                ));
            }
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
}
