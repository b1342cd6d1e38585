//! The task page of an e-mail participant (R22): opened from the link in their
//! notification, `/t/<token>`. It shows the task and lets them comment, as that
//! person, on that task only. Every value from people is HTML-escaped, the page
//! runs no script (a Content-Security-Policy forbids any), and the token in its
//! address is not sent on to other sites (`Referrer-Policy: no-referrer`); those
//! headers are added to every page by `web::security_headers`. It speaks the
//! browser's language when it is one of ours, else the portal's.

use crate::grpc::error::NodeError;
use crate::web::Site;
use axum::extract::{Form, Path, Query, State as Ax};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use portalnet_mail::escape_html as esc;
use portalnet_mail::{Arg, Lang, tr};
use portalnet_portal::LinkAccess;
use portalnet_portal::paging::PageReq;
use serde::Deserialize;
use std::sync::Arc;

fn page(status: StatusCode, lang: Lang, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{t}</title>\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <style>body{{font-family:sans-serif;max-width:46em;margin:2em auto;padding:0 1em}}\
         .pre{{white-space:pre-wrap}}.meta{{color:#555}}.comment{{border-top:1px solid #ddd;padding:.5em 0}}\
         textarea{{width:100%;min-height:6em}}</style></head><body>{body}</body></html>",
        t = esc(title)
    );
    (status, axum::response::Html(html)).into_response()
}

fn error_page(lang: Lang, e: NodeError) -> Response {
    let (status, msg) = crate::web::status_and_message(e, lang);
    let title = tr(lang, "page-task", &[]);
    page(
        status,
        lang,
        &title,
        &format!("<h1>{}</h1><p class=\"error\" id=\"error\">{}</p>", esc(&title), esc(&msg)),
    )
}

/// Which page of the comments the task page shows (AIP-158 token; none: the first).
#[derive(Deserialize, Default)]
pub struct CommentsQuery {
    #[serde(default)]
    comments: String,
}

/// Comments per page of the task page: a long thread costs what one page costs.
const COMMENTS_PER_PAGE: i32 = 100;

pub async fn show(
    Ax(state): Ax<Arc<Site>>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Query(q): Query<CommentsQuery>,
) -> Response {
    let l = crate::web::page_lang(&state, &headers);
    let shown =
        state.portal.link_access(&token).and_then(|a| render(&state, l, &a, &token, &q.comments, None));
    match shown {
        Ok(r) => r,
        Err(e) => error_page(l, e),
    }
}

#[derive(Deserialize)]
pub struct CommentForm {
    #[serde(default)]
    text: String,
}

pub async fn comment(
    Ax(state): Ax<Arc<Site>>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(form): Form<CommentForm>,
) -> Response {
    let portal = &state.portal;
    let l = crate::web::page_lang(&state, &headers);
    let access = match portal.link_access(&token) {
        Ok(a) => a,
        Err(e) => return error_page(l, e),
    };
    let (posting, text) = (access.clone(), form.text.clone());
    match portal.write_off_workers(move |p| p.comment_from_page(&posting, &text)).await {
        Ok(_) => {}
        // Shown on the page with what they wrote, so nothing typed is lost.
        Err(NodeError::Domain(e)) => {
            return render(&state, l, &access, &token, "", Some((&e.text().in_lang(l), &form.text)))
                .unwrap_or_else(|e| error_page(l, e));
        }
        Err(e) => return error_page(l, e),
    }
    // Post/redirect/get (303): a reload does not post the comment again.
    Redirect::to(&format!("/t/{token}#comments")).into_response()
}

pub async fn file(
    Ax(state): Ax<Arc<Site>>,
    headers: HeaderMap,
    Path((token, file_id)): Path<(String, u64)>,
) -> Response {
    // Opened off the async workers; the bytes stream from the blob file in chunks.
    let portal = state.portal.clone();
    let got = tokio::task::spawn_blocking(move || {
        portal.link_access(&token).and_then(|a| portal.open_file(&a.actor(), a.task.id, file_id))
    })
    .await
    .unwrap_or_else(|e| Err(NodeError::Internal(format!("storage task failed: {e}"))));
    match got {
        Ok((meta, reader)) => {
            let disposition = format!(
                "attachment; filename=\"{}\"; filename*=UTF-8''{}",
                meta.name.replace(|c: char| !c.is_ascii_graphic() && c != ' ' || c == '"' || c == '\\', "_"),
                percent(&meta.name)
            );
            let body = axum::body::Body::from_stream(crate::blob_stream::chunks(reader));
            let mut r = body.into_response();
            let h = r.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(meta.size));
            if let Ok(v) = HeaderValue::from_str(&disposition) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            r
        }
        Err(e) => error_page(crate::web::page_lang(&state, &headers), e),
    }
}

fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn render(
    state: &Site,
    l: Lang,
    a: &LinkAccess,
    token: &str,
    comments_token: &str,
    error: Option<(&str, &str)>,
) -> Result<Response, NodeError> {
    let portal = &state.portal;
    let actor = a.actor();
    let task = portal.get_task(&actor, a.task.id)?;
    let wanted = PageReq::parse(COMMENTS_PER_PAGE, comments_token, &format!("page-comments|{}", task.id))?;
    let comments = portal.comments_page(&actor, task.id, &wanted)?;
    let mut paging = String::new();
    if !comments_token.is_empty() {
        let first = esc(&tr(l, "page-first-comments", &[]));
        paging.push_str(&format!("<a id=\"first-comments\" href=\"/t/{token}#comments\">{first}</a> "));
    }
    if !comments.next_page_token.is_empty() {
        paging.push_str(&format!(
            "<a id=\"more-comments\" href=\"/t/{token}?comments={next}#comments\">{more}</a>",
            next = esc(&comments.next_page_token),
            more = esc(&tr(l, "page-more-comments", &[]))
        ));
    }
    let comments = comments.items;
    let name = |p: &str| portal.display_name(p).unwrap_or_else(|_| p.to_string());
    // Messages are trusted text; every value put into them is escaped first.
    let t = |id: &str| esc(&tr(l, id, &[]));
    let person = |id: &str, p: &str| format!("<li>{}</li>", tr(l, id, &[("name", Arg::Str(&esc(&name(p))))]));
    let mut people = person("page-creator", &task.creator) + &person("page-responsible", &task.responsible);
    for (label, list) in [("page-co-executor", &task.accomplices), ("page-observer", &task.observers)] {
        for p in list {
            people.push_str(&person(label, p));
        }
    }
    let files: String = task
        .files
        .iter()
        .map(|f| {
            format!(
                "<li><a href=\"/t/{token}/files/{id}\">{n}</a> <span class=\"meta\">({size})</span></li>",
                id = f.id,
                n = esc(&f.name),
                size =
                    tr(l, "page-file-size", &[("size", Arg::Num(i64::try_from(f.size).unwrap_or(i64::MAX)))])
            )
        })
        .collect();
    let comments_html: String = comments
        .iter()
        .map(|c| {
            format!(
                "<div class=\"comment\" id=\"c{id}\"><div class=\"meta\">{who}, {at}</div><div class=\"pre text\">{text}</div></div>",
                id = c.id,
                who = esc(&name(&c.author)),
                at = esc(&portal.datetime(l, c.created_at)),
                text = esc(&c.text)
            )
        })
        .collect();
    let (err, typed) = match error {
        Some((e, typed)) => (format!("<p class=\"error\" id=\"error\">{}</p>", esc(e)), esc(typed)),
        None => (String::new(), String::new()),
    };
    let deadline = task
        .deadline
        .map(|d| {
            format!(" · {}", tr(l, "page-deadline", &[("deadline", Arg::Str(&esc(&portal.datetime(l, d))))]))
        })
        .unwrap_or_default();
    let you = portalnet_core::address::email_of(&a.link.participant).unwrap_or_default();
    let body = format!(
        "<p class=\"meta\">{meta}</p><h1 id=\"title\">{title}</h1>\
         <p>{status_label} <b id=\"status\">{status}</b>{deadline}</p>\
         <div class=\"pre\" id=\"description\">{description}</div>\
         <h2>{people_h}</h2><ul id=\"people\">{people}</ul>\
         <h2>{files_h}</h2><ul id=\"files\">{files}</ul>\
         <h2 id=\"comments\">{comments_h}</h2><div id=\"comment-list\">{comments_html}</div>\
         <p class=\"meta\">{paging}</p>\
         <h2>{add_h}</h2>{err}\
         <form method=\"post\" action=\"/t/{token}\"><p class=\"meta\">{you}</p>\
         <textarea name=\"text\" id=\"text\" required>{typed}</textarea>\
         <p><button type=\"submit\" id=\"send\">{post}</button></p></form>",
        meta = tr(
            l,
            "page-task-meta",
            &[
                ("portal", Arg::Str(&esc(&portal.settings.display_name))),
                ("id", Arg::Str(&task.id.to_string()))
            ]
        ),
        title = esc(&task.title),
        status_label = t("page-status"),
        status = esc(&portalnet_mail::i18n::status_name(l, task.status.name())),
        description = esc(&task.description),
        people_h = t("page-people"),
        files_h = t("page-files"),
        comments_h = t("page-comments"),
        add_h = t("page-add-comment"),
        you = tr(l, "page-comment-as", &[("email", Arg::Str(&esc(you)))]),
        post = t("page-post-comment"),
    );
    Ok(page(if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK }, l, &task.title, &body))
}
