//! The portal's web pages: the invitation page an invitee opens from the e-mail
//! (R4) and the task page of e-mail participants (R22, `task_page.rs`).
//! Server-rendered; every value from people is HTML-escaped. Pages speak the
//! browser's language (`Accept-Language`) when it is one of ours (en, pl, ru),
//! else the portal's. Every response gets the same security headers
//! ([`security_headers`]): both kinds of page carry a secret token in their address.

mod task_page;

use crate::grpc::error::NodeError;
use axum::Router;
use axum::extract::{Form, Path, State as Ax};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use portalnet_mail::escape_html as esc;
use portalnet_mail::{Arg, Lang, tr};
use serde::Deserialize;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// What the pages need of the node: the portal, and the API endpoint a new user
/// is told to point `portalctl` at.
pub struct Site {
    pub portal: Arc<portalnet_portal::Portal>,
    pub endpoint: String,
}

pub fn router(state: Arc<Site>) -> Router {
    Router::new()
        .route("/invite/{token}", get(show_invitation).post(accept_invitation))
        .route("/t/{token}", get(task_page::show).post(task_page::comment))
        .route("/t/{token}/files/{file}", get(task_page::file))
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

/// Serves the pages on `listener` under the limits of `conns` until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    state: Arc<Site>,
    conns: &crate::config::ConnectionsConfig,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let metrics = state.portal.metrics.clone();
    crate::listen::serve_http(listener, router(state), conns, "web", metrics, shutdown).await
}

/// The language of a page: the browser's choice among ours, else the portal's.
pub(crate) fn page_lang(state: &Site, headers: &HeaderMap) -> Lang {
    page_lang_or(state, headers, None)
}

/// As [`page_lang`], with the reader's own language (an invitee's) before the portal's.
fn page_lang_or(state: &Site, headers: &HeaderMap, reader: Option<Lang>) -> Lang {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Lang::from_accept_language)
        .or(reader)
        .unwrap_or(state.portal.options.language)
}

fn page(status: StatusCode, lang: Lang, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{t}</title>\
         <style>body{{font-family:sans-serif;max-width:40em;margin:2em auto}}label{{display:block;margin:.5em 0}}\
         code{{background:#eee;padding:.1em .3em}}</style></head><body><h1>{t}</h1>{body}</body></html>",
        t = esc(title)
    );
    (status, Html(html)).into_response()
}

/// The HTTP status and the words a page shows for an error; internal details go to
/// the log only. Shared by every page.
pub(crate) fn status_and_message(e: NodeError, lang: Lang) -> (StatusCode, String) {
    use portalnet_core::Error as D;
    let status = match &e {
        NodeError::Domain(D::NotFound(_)) => StatusCode::NOT_FOUND,
        NodeError::Domain(D::PermissionDenied(_)) => StatusCode::FORBIDDEN,
        NodeError::Domain(D::InvalidArgument(_)) => StatusCode::BAD_REQUEST,
        NodeError::Domain(_) => StatusCode::CONFLICT,
        NodeError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let msg = match e {
        NodeError::Domain(d) => d.text().in_lang(lang),
        // Says the limit and when to try again (English, as SMTP says it too).
        NodeError::RateLimited(m) => m,
        other => {
            tracing::error!(error = %other, "web page");
            tr(lang, "error-internal", &[])
        }
    };
    (status, msg)
}

fn error_page(lang: Lang, e: NodeError) -> Response {
    let (status, msg) = status_and_message(e, lang);
    page(status, lang, &tr(lang, "page-invitation", &[]), &format!("<p class=\"error\">{}</p>", esc(&msg)))
}

async fn show_invitation(
    Ax(state): Ax<Arc<Site>>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    let portal = &state.portal;
    match portal.invitation_by_token(&token) {
        Ok((inv, group)) => {
            let l = page_lang_or(&state, &headers, inv.language);
            // Messages are trusted text; every value put into them is escaped first.
            let t = |id: &str| esc(&tr(l, id, &[]));
            let portal_name = format!("<b>{}</b>", esc(&portal.settings.display_name));
            let email = esc(&inv.email);
            let invited = match (&group, inv.admits_to_group) {
                (Some(g), true) => {
                    let group = format!("<b>{}</b>", esc(&g.name));
                    tr(
                        l,
                        "page-invited-group",
                        &[
                            ("group", Arg::Str(&group)),
                            ("portal", Arg::Str(&portal_name)),
                            ("email", Arg::Str(&email)),
                        ],
                    )
                }
                _ => {
                    tr(l, "page-invited", &[("portal", Arg::Str(&portal_name)), ("email", Arg::Str(&email))])
                }
            };
            let expires = esc(&portal.datetime(l, inv.expires_at));
            let body = format!(
                "<p>{invited} {valid}</p>\
                 <form method=\"post\"><label>{your_name} <input name=\"name\" required maxlength=\"200\"></label>\
                 <label>{login} <input name=\"login\" maxlength=\"32\" pattern=\"[a-z][a-z0-9._-]{{1,31}}\"></label>\
                 <button type=\"submit\">{accept}</button></form>",
                valid = tr(l, "page-valid-until", &[("expires", Arg::Str(&expires))]),
                your_name = t("page-your-name"),
                login = t("page-login-optional"),
                accept = t("page-accept"),
            );
            page(StatusCode::OK, l, &tr(l, "page-invitation", &[]), &body)
        }
        Err(e) => error_page(page_lang(&state, &headers), e),
    }
}

#[derive(Deserialize)]
struct AcceptForm {
    name: String,
    #[serde(default)]
    login: String,
}

async fn accept_invitation(
    Ax(state): Ax<Arc<Site>>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(form): Form<AcceptForm>,
) -> Response {
    let portal = &state.portal;
    let l = page_lang(&state, &headers);
    let (t, name, login) = (token.clone(), form.name, form.login);
    let accepted = match portal.write_off_workers(move |p| p.accept_invitation(&t, &name, &login)).await {
        Ok(a) => a,
        Err(e) => return error_page(l, e),
    };
    let l = page_lang_or(&state, &headers, accepted.user.language);
    let endpoint = state.endpoint.clone();
    let (name, portal_name, login) = (
        esc(&accepted.user.display_name),
        format!("<b>{}</b>", esc(&portal.settings.display_name)),
        format!("<code>{}</code>", esc(&accepted.user.login)),
    );
    let body = format!(
        "<p>{welcome}</p>\
         <p>{once}</p><p><code id=\"token\">{token}</code></p>\
         <p>{use_it}</p><pre>export PORTALCTL_ENDPOINT={endpoint}\nexport PORTALCTL_TOKEN={token}\n\
         portalctl group list</pre>",
        welcome = tr(
            l,
            "page-welcome",
            &[("name", Arg::Str(&name)), ("portal", Arg::Str(&portal_name)), ("login", Arg::Str(&login))]
        ),
        once = esc(&tr(l, "page-token-once", &[])),
        use_it = esc(&tr(l, "page-use-token", &[])),
        token = esc(&accepted.api_token),
        endpoint = esc(&endpoint),
    );
    page(StatusCode::OK, l, &tr(l, "page-accepted", &[]), &body)
}
