//! The task page of an e-mail participant (R22): opened from the link in their
//! notification, `/t/<token>`. It shows the task and lets them comment, as that
//! person, on that task only. Every value from people is HTML-escaped, the page
//! runs no script (a Content-Security-Policy forbids any), and the token in its
//! address is not sent on to other sites (`Referrer-Policy: no-referrer`); those
//! headers are added to every page by `web::security_headers`.

use crate::app::LinkAccess;
use crate::error::NodeError;
use crate::grpc::State;
use axum::extract::{Form, Path, State as Ax};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use portalnet_mail::escape_html as esc;
use serde::Deserialize;
use std::sync::Arc;

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{t}</title>\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <style>body{{font-family:sans-serif;max-width:46em;margin:2em auto;padding:0 1em}}\
         .pre{{white-space:pre-wrap}}.meta{{color:#555}}.comment{{border-top:1px solid #ddd;padding:.5em 0}}\
         textarea{{width:100%;min-height:6em}}</style></head><body>{body}</body></html>",
        t = esc(title)
    );
    (status, axum::response::Html(html)).into_response()
}

fn error_page(e: NodeError) -> Response {
    let (status, msg) = crate::web::status_and_message(e);
    page(status, "Task", &format!("<h1>Task</h1><p class=\"error\" id=\"error\">{}</p>", esc(&msg)))
}

pub async fn show(Ax(state): Ax<Arc<State>>, Path(token): Path<String>) -> Response {
    match state.portal.link_access(&token).and_then(|a| render(&state, &a, &token, None)) {
        Ok(r) => r,
        Err(e) => error_page(e),
    }
}

#[derive(Deserialize)]
pub struct CommentForm {
    #[serde(default)]
    text: String,
}

pub async fn comment(
    Ax(state): Ax<Arc<State>>,
    Path(token): Path<String>,
    Form(form): Form<CommentForm>,
) -> Response {
    let portal = &state.portal;
    let access = match portal.link_access(&token) {
        Ok(a) => a,
        Err(e) => return error_page(e),
    };
    match portal.add_comment(&access.actor(), access.task.id, &form.text) {
        Ok(_) => {}
        // Shown on the page with what they wrote, so nothing typed is lost.
        Err(NodeError::Domain(e)) => {
            return render(&state, &access, &token, Some((&e.to_string(), &form.text)))
                .unwrap_or_else(error_page);
        }
        Err(e) => return error_page(e),
    }
    if let Err(e) = portal.durable().await {
        return error_page(e);
    }
    // Post/redirect/get (303): a reload does not post the comment again.
    Redirect::to(&format!("/t/{token}#comments")).into_response()
}

pub async fn file(Ax(state): Ax<Arc<State>>, Path((token, file_id)): Path<(String, u64)>) -> Response {
    let portal = &state.portal;
    let got = portal.link_access(&token).and_then(|a| portal.get_file(&a.actor(), a.task.id, file_id));
    match got {
        Ok((meta, bytes)) => {
            let disposition = format!(
                "attachment; filename=\"{}\"; filename*=UTF-8''{}",
                meta.name.replace(|c: char| !c.is_ascii_graphic() && c != ' ' || c == '"' || c == '\\', "_"),
                percent(&meta.name)
            );
            let mut r = bytes.into_response();
            let h = r.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
            if let Ok(v) = HeaderValue::from_str(&disposition) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            r
        }
        Err(e) => error_page(e),
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
    state: &State,
    a: &LinkAccess,
    token: &str,
    error: Option<(&str, &str)>,
) -> Result<Response, NodeError> {
    let portal = &state.portal;
    let actor = a.actor();
    let task = portal.get_task(&actor, a.task.id)?;
    let comments = portal.list_comments(&actor, task.id)?;
    let name = |p: &str| portal.display_name(p).unwrap_or_else(|_| p.to_string());
    let mut people = format!(
        "<li>Creator: {}</li><li>Responsible: {}</li>",
        esc(&name(&task.creator)),
        esc(&name(&task.responsible))
    );
    for (label, list) in [("Co-executor", &task.accomplices), ("Observer", &task.observers)] {
        for p in list {
            people.push_str(&format!("<li>{label}: {}</li>", esc(&name(p))));
        }
    }
    let files: String = task
        .files
        .iter()
        .map(|f| {
            format!(
                "<li><a href=\"/t/{token}/files/{id}\">{n}</a> <span class=\"meta\">({size} bytes)</span></li>",
                id = f.id,
                n = esc(&f.name),
                size = f.size
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
                at = esc(&c.created_at.to_utc_string()),
                text = esc(&c.text)
            )
        })
        .collect();
    let (err, typed) = match error {
        Some((e, typed)) => (format!("<p class=\"error\" id=\"error\">{}</p>", esc(e)), esc(typed)),
        None => (String::new(), String::new()),
    };
    let deadline =
        task.deadline.map(|d| format!(" · deadline {}", esc(&d.to_utc_string()))).unwrap_or_default();
    let you = portalnet_core::address::email_of(&a.link.participant).unwrap_or_default();
    let body = format!(
        "<p class=\"meta\">{portal_name} · task {id}</p><h1 id=\"title\">{title}</h1>\
         <p>Status: <b id=\"status\">{status}</b>{deadline}</p>\
         <div class=\"pre\" id=\"description\">{description}</div>\
         <h2>People</h2><ul id=\"people\">{people}</ul>\
         <h2>Files</h2><ul id=\"files\">{files}</ul>\
         <h2 id=\"comments\">Comments</h2><div id=\"comment-list\">{comments_html}</div>\
         <h2>Add a comment</h2>{err}\
         <form method=\"post\" action=\"/t/{token}\"><p class=\"meta\">You comment as {you}.</p>\
         <textarea name=\"text\" id=\"text\" required>{typed}</textarea>\
         <p><button type=\"submit\" id=\"send\">Post comment</button></p></form>",
        portal_name = esc(&portal.settings.display_name),
        id = task.id,
        title = esc(&task.title),
        status = esc(&task.status.name().replace('_', " ")),
        description = esc(&task.description),
        you = esc(you),
    );
    Ok(page(if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK }, &task.title, &body))
}
