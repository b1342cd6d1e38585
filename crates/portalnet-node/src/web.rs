//! The portal's web pages: the invitation page an invitee opens from the e-mail
//! (R4) and the task page of e-mail participants (R22, `web_task`).
//! Server-rendered; every value from people is HTML-escaped. Every response gets
//! the same security headers ([`security_headers`]): both kinds of page carry a
//! secret token in their address.

use crate::error::NodeError;
use crate::grpc::State;
use axum::Router;
use axum::extract::{Form, Path, State as Ax};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use portalnet_mail::escape_html as esc;
use serde::Deserialize;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/invite/{token}", get(show_invitation).post(accept_invitation))
        .route("/t/{token}", get(crate::web_task::show).post(crate::web_task::comment))
        .route("/t/{token}/files/{file}", get(crate::web_task::file))
        .route("/healthz", get(|| async { "ok" }))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

/// `r` with the security headers on every response, its fallback (404) included:
/// for routes merged after [`router`] built its own (`/metrics`).
pub fn secured(r: Router) -> Router {
    r.layer(axum::middleware::map_response(security_headers))
}

/// Pages run no script (the policy forbids any) and post only to themselves.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The headers every response of the web port carries, whatever the route or
/// outcome: no script, no framing, the token in the address not sent on to other
/// sites (`no-referrer`), nothing kept in caches, no content sniffing.
async fn security_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    r
}

pub async fn serve(
    listener: TcpListener,
    state: Arc<State>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    axum::serve(listener, router(state)).with_graceful_shutdown(shutdown.cancelled_owned()).await
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{t}</title>\
         <style>body{{font-family:sans-serif;max-width:40em;margin:2em auto}}label{{display:block;margin:.5em 0}}\
         code{{background:#eee;padding:.1em .3em}}</style></head><body><h1>{t}</h1>{body}</body></html>",
        t = esc(title)
    );
    (status, Html(html)).into_response()
}

/// The HTTP status and the words a page shows for an error; internal details go to
/// the log only. Shared by every page.
pub(crate) fn status_and_message(e: NodeError) -> (StatusCode, String) {
    use portalnet_core::Error as D;
    let status = match &e {
        NodeError::Domain(D::NotFound(_)) => StatusCode::NOT_FOUND,
        NodeError::Domain(D::PermissionDenied(_)) => StatusCode::FORBIDDEN,
        NodeError::Domain(D::InvalidArgument(_)) => StatusCode::BAD_REQUEST,
        NodeError::Domain(_) => StatusCode::CONFLICT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let msg = match e {
        NodeError::Domain(d) => d.to_string(),
        other => {
            tracing::error!(error = %other, "web page");
            "internal error; the portal operator can find it in the node's log".into()
        }
    };
    (status, msg)
}

fn error_page(e: NodeError) -> Response {
    let (status, msg) = status_and_message(e);
    page(status, "Invitation", &format!("<p class=\"error\">{}</p>", esc(&msg)))
}

async fn show_invitation(Ax(state): Ax<Arc<State>>, Path(token): Path<String>) -> Response {
    let portal = &state.portal;
    match portal.invitation_by_token(&token) {
        Ok((inv, group)) => {
            let into = match (&group, inv.admits_to_group) {
                (Some(g), true) => format!("the group <b>{}</b> on ", esc(&g.name)),
                _ => String::new(),
            };
            let body = format!(
                "<p>You are invited to {into}<b>{portal_name}</b> as an external (extranet) user, as {email}. \
                 The invitation is valid until {expires}.</p>\
                 <form method=\"post\"><label>Your name <input name=\"name\" required maxlength=\"200\"></label>\
                 <label>Login (optional) <input name=\"login\" maxlength=\"32\" pattern=\"[a-z][a-z0-9._-]{{1,31}}\"></label>\
                 <button type=\"submit\">Accept the invitation</button></form>",
                portal_name = esc(&portal.settings.display_name),
                email = esc(&inv.email),
                expires = esc(&inv.expires_at.to_utc_string()),
            );
            page(StatusCode::OK, "Invitation", &body)
        }
        Err(e) => error_page(e),
    }
}

#[derive(Deserialize)]
struct AcceptForm {
    name: String,
    #[serde(default)]
    login: String,
}

async fn accept_invitation(
    Ax(state): Ax<Arc<State>>,
    Path(token): Path<String>,
    Form(form): Form<AcceptForm>,
) -> Response {
    let portal = &state.portal;
    let accepted = match portal.accept_invitation(&token, &form.name, &form.login) {
        Ok(a) => a,
        Err(e) => return error_page(e),
    };
    if let Err(e) = portal.durable().await {
        return error_page(e);
    }
    let endpoint = state.endpoints.first().cloned().unwrap_or_default();
    let body = format!(
        "<p>Welcome, {name}. You are now an extranet user of <b>{portal_name}</b> with the login <code>{login}</code>.</p>\
         <p>Your API token (shown once; keep it secret):</p><p><code id=\"token\">{token}</code></p>\
         <p>Use it with portalctl:</p><pre>export PORTALCTL_ENDPOINT={endpoint}\nexport PORTALCTL_TOKEN={token}\n\
         portalctl group list</pre>",
        name = esc(&accepted.user.display_name),
        portal_name = esc(&portal.settings.display_name),
        login = esc(&accepted.user.login),
        token = esc(&accepted.api_token),
        endpoint = esc(&endpoint),
    );
    page(StatusCode::OK, "Invitation accepted", &body)
}
