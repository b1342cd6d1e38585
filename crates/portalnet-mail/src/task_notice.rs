//! The mail an e-mail participant of a task gets (R21–R23): one when they are
//! added, then one per new comment, status change or deadline change, all in one
//! thread per task and person (`In-Reply-To`/`References` point at the first).

use crate::html::escape_html as e;
use crate::message::{Mailbox, Outgoing};

/// What happened, as the notice tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoticeKind {
    /// The person was named on the task; `role` is "responsible", "co-executor" or
    /// "observer".
    Added {
        role: String,
        by: String,
        description: String,
        status: String,
        deadline: Option<String>,
    },
    Comment {
        author: String,
        text: String,
    },
    Status {
        from: String,
        to: String,
        by: String,
    },
    Deadline {
        from: Option<String>,
        to: Option<String>,
        by: String,
    },
}

/// One notice. Named fields, so the many strings cannot be swapped silently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskNotice<'a> {
    pub portal_name: &'a str,
    pub from: &'a str,
    pub to: &'a str,
    /// `reply+<token>@<domain>`: a reply becomes a comment by `to` (R22).
    pub reply_to: &'a str,
    /// The task page for this person; empty when the portal serves no web pages.
    pub page_url: &'a str,
    pub task_title: &'a str,
    pub kind: NoticeKind,
    /// This message's id, and the first message of the thread (equal for the first).
    pub message_id: String,
    pub thread_root: String,
}

pub fn task_notice(n: &TaskNotice<'_>) -> Outgoing {
    let (text, html) = bodies(n);
    let first = n.message_id == n.thread_root;
    let subject = if first {
        format!("[{}] {}", n.portal_name, n.task_title)
    } else {
        format!("Re: [{}] {}", n.portal_name, n.task_title)
    };
    Outgoing {
        from: Mailbox { name: Some(n.portal_name.to_owned()), address: n.from.to_owned() },
        to: n.to.to_owned(),
        subject,
        text,
        html,
        reply_to: Some(n.reply_to.to_owned()),
        message_id: Some(n.message_id.clone()),
        in_reply_to: (!first).then(|| n.thread_root.clone()),
        references: if first { Vec::new() } else { vec![n.thread_root.clone()] },
        headers: vec![("Auto-Submitted".to_owned(), "auto-generated".to_owned())],
    }
}

const REPLY_HINT: &str = "Reply to this message to comment on the task; write above the quoted text.";

fn bodies(n: &TaskNotice<'_>) -> (String, String) {
    let (lead_text, lead_html) = match &n.kind {
        NoticeKind::Added { role, by, description, status, deadline } => {
            let deadline_t = deadline.as_deref().map(|d| format!("Deadline: {d}\n")).unwrap_or_default();
            let deadline_h =
                deadline.as_deref().map(|d| format!("<br>Deadline: {}", e(d))).unwrap_or_default();
            (
                format!(
                    "{by} added you to the task \"{title}\" as {role}.\n\nStatus: {status}\n{deadline_t}\n{description}\n",
                    title = n.task_title
                ),
                format!(
                    "<p><strong>{}</strong> added you to the task <strong>{}</strong> as {}.</p>\
                     <p>Status: {}{deadline_h}</p><div style=\"white-space:pre-wrap\">{}</div>",
                    e(by),
                    e(n.task_title),
                    e(role),
                    e(status),
                    e(description)
                ),
            )
        }
        NoticeKind::Comment { author, text } => (
            format!("{author} commented:\n\n{text}\n"),
            format!(
                "<p><strong>{}</strong> commented:</p><blockquote style=\"white-space:pre-wrap\">{}</blockquote>",
                e(author),
                e(text)
            ),
        ),
        NoticeKind::Status { from, to, by } => (
            format!("{by} changed the status from {from} to {to}.\n"),
            format!(
                "<p><strong>{}</strong> changed the status from {} to <strong>{}</strong>.</p>",
                e(by),
                e(from),
                e(to)
            ),
        ),
        NoticeKind::Deadline { from, to, by } => {
            let show = |d: &Option<String>| d.clone().unwrap_or_else(|| "none".to_owned());
            (
                format!("{by} changed the deadline from {} to {}.\n", show(from), show(to)),
                format!(
                    "<p><strong>{}</strong> changed the deadline from {} to <strong>{}</strong>.</p>",
                    e(by),
                    e(&show(from)),
                    e(&show(to))
                ),
            )
        }
    };
    let link_t = if n.page_url.is_empty() { String::new() } else { format!("\nThe task: {}\n", n.page_url) };
    let link_h = if n.page_url.is_empty() {
        String::new()
    } else {
        format!("<p><a href=\"{u}\">Open the task</a><br>{u}</p>", u = e(n.page_url))
    };
    let text = format!("{lead_text}{link_t}\n-- \n{REPLY_HINT}\n{}\n", n.portal_name);
    let html = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head><body>\n\
         {lead_html}\n{link_h}\n<p style=\"color:#666\">{hint}<br>{portal}</p>\n</body></html>\n",
        title = e(n.task_title),
        hint = e(REPLY_HINT),
        portal = e(n.portal_name),
    );
    (text, html)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render;
    use mail_parser::MessageParser;

    fn notice(kind: NoticeKind, first: bool) -> TaskNotice<'static> {
        TaskNotice {
            portal_name: "Acme",
            from: "portal@acme.test",
            to: "joe@example.org",
            reply_to: "reply+abc@acme.test",
            page_url: "http://127.0.0.1:1/t/abc",
            task_title: "Fix <the> roof",
            kind,
            message_id: if first { "t1.l1.0@acme.test".into() } else { "t1.l1.3@acme.test".into() },
            thread_root: "t1.l1.0@acme.test".into(),
        }
    }

    #[test]
    fn first_notice_starts_the_thread_and_carries_link_and_reply_address() {
        let kind = NoticeKind::Added {
            role: "responsible".into(),
            by: "Anna".into(),
            description: "<script>x</script>".into(),
            status: "new".into(),
            deadline: Some("2026-12-01 12:00 UTC".into()),
        };
        let raw = render(&task_notice(&notice(kind, true))).unwrap();
        let m = MessageParser::default().parse(&raw).unwrap();
        assert_eq!(m.subject(), Some("[Acme] Fix <the> roof"));
        assert!(m.in_reply_to().is_empty());
        assert_eq!(
            m.reply_to().and_then(|a| a.first()).and_then(|a| a.address()),
            Some("reply+abc@acme.test")
        );
        let text = m.body_text(0).unwrap();
        assert!(text.contains("http://127.0.0.1:1/t/abc") && text.contains("as responsible"), "{text}");
        let html = m.body_html(0).unwrap();
        assert!(html.contains("&lt;script&gt;") && !html.contains("<script>"), "{html}");
        assert!(html.contains("href=\"http://127.0.0.1:1/t/abc\""));
    }

    #[test]
    fn later_notices_reply_to_the_first() {
        let kind = NoticeKind::Comment { author: "Anna".into(), text: "Done?".into() };
        let raw = render(&task_notice(&notice(kind, false))).unwrap();
        let m = MessageParser::default().parse(&raw).unwrap();
        assert_eq!(m.subject(), Some("Re: [Acme] Fix <the> roof"));
        assert_eq!(m.in_reply_to().as_text(), Some("t1.l1.0@acme.test"));
        assert_eq!(m.references().as_text(), Some("t1.l1.0@acme.test"));
        assert_eq!(m.message_id(), Some("t1.l1.3@acme.test"));
    }
}
