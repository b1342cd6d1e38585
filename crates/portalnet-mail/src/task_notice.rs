//! The mail an e-mail participant of a task gets (R21–R23): one when they are
//! added, then one per new comment, status change or deadline change, all in one
//! thread per task and person (`In-Reply-To`/`References` point at the first).

use crate::html::escape_html as e;
use crate::i18n::{Arg, Lang, tr};
use crate::message::{Mailbox, Outgoing};

/// What happened, as the notice tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoticeKind {
    /// The person was named on the task; `role` is "responsible", "co-executor" or
    /// "observer" (translated here); `status` and `deadline` come already in the
    /// notice's language; `files` is how many files the task has.
    Added {
        role: String,
        by: String,
        description: String,
        status: String,
        deadline: Option<String>,
        files: usize,
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
    /// The language of the notice.
    pub lang: Lang,
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

fn bodies(n: &TaskNotice<'_>) -> (String, String) {
    let l = n.lang;
    let strong = |s: &str| format!("<strong>{}</strong>", e(s));
    let (lead_text, lead_html) = match &n.kind {
        NoticeKind::Added { role, by, description, status, deadline, files } => {
            let added = |by: &str, title: &str| {
                tr(
                    l,
                    "notice-added",
                    &[("by", Arg::Str(by)), ("title", Arg::Str(title)), ("role", Arg::Str(role))],
                )
            };
            let status_t = tr(l, "notice-status-line", &[("status", Arg::Str(status))]);
            let status_h = tr(l, "notice-status-line", &[("status", Arg::Str(&e(status)))]);
            let deadline_t =
                deadline.as_deref().map(|d| tr(l, "notice-deadline-line", &[("deadline", d.into())]));
            let deadline_h =
                deadline.as_deref().map(|d| tr(l, "notice-deadline-line", &[("deadline", Arg::Str(&e(d)))]));
            let count = i64::try_from(*files).unwrap_or(i64::MAX);
            let files_line = (*files > 0).then(|| tr(l, "notice-files", &[("count", Arg::Num(count))]));
            (
                format!(
                    "{}\n\n{status_t}\n{}{}\n{description}\n",
                    added(by, n.task_title),
                    deadline_t.map(|d| format!("{d}\n")).unwrap_or_default(),
                    files_line.as_deref().map(|f| format!("{f}\n")).unwrap_or_default(),
                ),
                format!(
                    "<p>{}</p><p>{status_h}{}{}</p><div style=\"white-space:pre-wrap\">{}</div>",
                    added(&strong(by), &strong(n.task_title)),
                    deadline_h.map(|d| format!("<br>{d}")).unwrap_or_default(),
                    files_line.as_deref().map(|f| format!("<br>{}", e(f))).unwrap_or_default(),
                    e(description)
                ),
            )
        }
        NoticeKind::Comment { author, text } => (
            format!("{}\n\n{text}\n", tr(l, "notice-comment", &[("author", author.into())])),
            format!(
                "<p>{}</p><blockquote style=\"white-space:pre-wrap\">{}</blockquote>",
                tr(l, "notice-comment", &[("author", Arg::Str(&strong(author)))]),
                e(text)
            ),
        ),
        NoticeKind::Status { from, to, by } => (
            format!(
                "{}\n",
                tr(
                    l,
                    "notice-status-changed",
                    &[("by", by.into()), ("from", from.into()), ("to", to.into())]
                )
            ),
            format!(
                "<p>{}</p>",
                tr(
                    l,
                    "notice-status-changed",
                    &[
                        ("by", Arg::Str(&strong(by))),
                        ("from", Arg::Str(&e(from))),
                        ("to", Arg::Str(&strong(to)))
                    ]
                )
            ),
        ),
        NoticeKind::Deadline { from, to, by } => {
            let none = tr(l, "notice-no-deadline", &[]);
            let show = |d: &Option<String>| d.clone().unwrap_or_else(|| none.clone());
            let (from, to) = (show(from), show(to));
            (
                format!(
                    "{}\n",
                    tr(
                        l,
                        "notice-deadline-changed",
                        &[("by", by.into()), ("from", (&from).into()), ("to", (&to).into())]
                    )
                ),
                format!(
                    "<p>{}</p>",
                    tr(
                        l,
                        "notice-deadline-changed",
                        &[
                            ("by", Arg::Str(&strong(by))),
                            ("from", Arg::Str(&e(&from))),
                            ("to", Arg::Str(&strong(&to)))
                        ]
                    )
                ),
            )
        }
    };
    let link_t = if n.page_url.is_empty() {
        String::new()
    } else {
        format!("\n{}\n", tr(l, "notice-task-link", &[("url", n.page_url.into())]))
    };
    let link_h = if n.page_url.is_empty() {
        String::new()
    } else {
        format!(
            "<p><a href=\"{u}\">{open}</a><br>{u}</p>",
            u = e(n.page_url),
            open = e(&tr(l, "notice-open-task", &[]))
        )
    };
    let hint = tr(l, "notice-reply-hint", &[]);
    let text = format!("{lead_text}{link_t}\n-- \n{hint}\n{}\n", n.portal_name);
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{title}</title></head><body>\n\
         {lead_html}\n{link_h}\n<p style=\"color:#666\">{hint}<br>{portal}</p>\n</body></html>\n",
        lang = l.code(),
        title = e(n.task_title),
        hint = e(&hint),
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
            lang: Lang::En,
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
            files: 0,
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

#[cfg(test)]
mod lang_tests {
    use super::*;
    use crate::render;
    use mail_parser::MessageParser;

    fn added(lang: Lang, files: usize) -> (String, String) {
        let n = TaskNotice {
            portal_name: "Acme",
            from: "portal@acme.test",
            to: "joe@example.org",
            reply_to: "reply+abc@acme.test",
            page_url: "http://127.0.0.1:1/t/abc",
            task_title: "Dach",
            kind: NoticeKind::Added {
                role: "co-executor".into(),
                by: "Anna".into(),
                description: "opis".into(),
                status: "nowe".into(),
                deadline: None,
                files,
            },
            message_id: "t1.l1.0@acme.test".into(),
            thread_root: "t1.l1.0@acme.test".into(),
            lang,
        };
        let raw = render(&task_notice(&n)).unwrap();
        let m = MessageParser::default().parse(&raw).unwrap();
        (m.body_text(0).unwrap().into_owned(), m.body_html(0).unwrap().into_owned())
    }

    /// The `.eml` of a notice in each language, with the plural forms of 1, 2 and 5 files.
    #[test]
    fn notices_in_three_languages_with_plural_forms() {
        for (lang, lead, files) in [
            (
                Lang::En,
                "Anna added you to the task \"Dach\" as co-executor.",
                ["1 file.", "2 files.", "5 files."],
            ),
            (
                Lang::Pl,
                "Użytkownik Anna dodał Cię do zadania „Dach” jako współwykonawcę.",
                ["Zadanie ma 1 plik.", "Zadanie ma 2 pliki.", "Zadanie ma 5 plików."],
            ),
            (
                Lang::Ru,
                "Пользователь Anna добавил вас в задачу «Dach» в роли соисполнителя.",
                ["В задаче 1 файл.", "В задаче 2 файла.", "В задаче 5 файлов."],
            ),
        ] {
            for (count, want) in [1, 2, 5].into_iter().zip(files) {
                let (text, html) = added(lang, count);
                assert!(text.contains(lead) && text.contains(want), "{lang} {count}: {text}");
                assert!(html.contains(want) && html.contains(&format!("lang=\"{lang}\"")), "{lang}: {html}");
            }
        }
        let (text, _) = added(Lang::Ru, 0);
        assert!(text.contains("Ответьте на это письмо") && !text.contains("файл"), "{text}");
    }
}
