//! The invitation e-mail of an extranet user (R4), in the portal's language.

use crate::html::escape_html;
use crate::i18n::{Arg, Lang, tr};
use crate::message::{Mailbox, Outgoing};

/// What the invitation e-mail of an extranet user (R4) says. Named fields rather than eight
/// positional `&str` arguments, which are too easy to swap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invitation<'a> {
    pub portal_name: &'a str,
    /// The portal's outgoing address.
    pub from: &'a str,
    /// The invited person's address.
    pub to: &'a str,
    pub inviter_name: &'a str,
    /// `None` when the person joins the portal but not the group (R6).
    pub group_name: Option<&'a str>,
    pub accept_link: &'a str,
    pub token: &'a str,
    /// Shown as given, e.g. `2026-05-01 12:00 UTC` (see [`crate::i18n::datetime`]).
    pub expires: &'a str,
    /// The language of the e-mail.
    pub lang: Lang,
}

/// Compose the invitation e-mail; addresses are checked when it is rendered.
pub fn invitation(inv: &Invitation<'_>) -> Outgoing {
    let subject = match inv.group_name {
        Some(group) => tr(
            inv.lang,
            "invite-subject-group",
            &[("group", group.into()), ("portal", inv.portal_name.into())],
        ),
        None => tr(inv.lang, "invite-subject", &[("portal", inv.portal_name.into())]),
    };
    let your_name = tr(inv.lang, "invite-your-name", &[]);
    let command = format!("portalctl invite accept {} --name \"{your_name}\"", shell_word(inv.token));
    Outgoing {
        from: Mailbox { name: Some(inv.portal_name.to_owned()), address: inv.from.to_owned() },
        to: inv.to.to_owned(),
        text: text_body(inv, &command),
        html: html_body(inv, &subject, &command),
        subject,
        // Ask auto-responders (vacation replies) to stay quiet (RFC 3834).
        headers: vec![("Auto-Submitted".to_owned(), "auto-generated".to_owned())],
        ..Outgoing::default()
    }
}

/// The "who invites you where" sentence; `wrap` marks up the names (HTML) or not.
fn invited(inv: &Invitation<'_>, wrap: impl Fn(&str) -> String) -> String {
    let (inviter, portal) = (wrap(inv.inviter_name), wrap(inv.portal_name));
    match inv.group_name {
        Some(group) => {
            let group = wrap(group);
            tr(
                inv.lang,
                "invite-body-group",
                &[
                    ("inviter", Arg::Str(&inviter)),
                    ("group", Arg::Str(&group)),
                    ("portal", Arg::Str(&portal)),
                ],
            )
        }
        None => {
            tr(inv.lang, "invite-body", &[("inviter", Arg::Str(&inviter)), ("portal", Arg::Str(&portal))])
        }
    }
}

fn text_body(inv: &Invitation<'_>, command: &str) -> String {
    let l = inv.lang;
    format!(
        "{hello}\n\n\
         {invited}\n\n\
         {open}\n\n    {link}\n\n\
         {or_cli}\n\n    {command}\n\n\
         {valid}\n\
         {ignore}\n",
        hello = tr(l, "invite-hello", &[]),
        invited = invited(inv, str::to_owned),
        open = tr(l, "invite-open-link", &[]),
        link = inv.accept_link,
        or_cli = tr(l, "invite-or-cli", &[]),
        valid = tr(l, "invite-valid-until", &[("expires", inv.expires.into())]),
        ignore = tr(l, "invite-ignore", &[]),
    )
}

fn html_body(inv: &Invitation<'_>, subject: &str, command: &str) -> String {
    let e = escape_html;
    let l = inv.lang;
    // Messages are trusted text; every value put into them is escaped first.
    let invited = invited(inv, |s| format!("<strong>{}</strong>", e(s)));
    let link = e(inv.accept_link);
    // Only web links become clickable; anything else (say `javascript:`) is shown as text.
    let accept = if is_web_link(inv.accept_link) {
        format!("<a href=\"{link}\">{}</a><br>{link}", e(&tr(l, "invite-accept", &[])))
    } else {
        link
    };
    let expires = e(inv.expires);
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head><meta charset=\"utf-8\"><title>{title}</title></head>\n<body>\n\
         <p>{hello}</p>\n\
         <p>{invited}</p>\n\
         <p>{accept}</p>\n\
         <p>{or_cli}</p>\n\
         <pre><code>{command}</code></pre>\n\
         <p>{valid}<br>\
         {ignore}</p>\n\
         </body>\n</html>\n",
        lang = l.code(),
        title = e(subject),
        hello = e(&tr(l, "invite-hello", &[])),
        or_cli = e(&tr(l, "invite-or-cli", &[])),
        command = e(command),
        valid = tr(l, "invite-valid-until", &[("expires", Arg::Str(&expires))]),
        ignore = e(&tr(l, "invite-ignore", &[])),
    )
}

fn is_web_link(link: &str) -> bool {
    let lower = link.trim_start().to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

/// Quote a word for a POSIX shell when it holds anything but safe characters.
fn shell_word(word: &str) -> String {
    if !word.is_empty() && word.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.=+/:,@".contains(&b)) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use mail_parser::MessageParser;

    use super::*;
    use crate::render;

    fn sample(group_name: Option<&str>) -> Invitation<'_> {
        Invitation {
            portal_name: "Acme Portal",
            from: "portal@acme.example",
            to: "guest@example.org",
            inviter_name: "Łukasz Ślązak",
            group_name,
            accept_link: "https://acme.example/invite/accept?token=T0K3N&lang=pl",
            token: "T0K3N-abc_123",
            expires: "2026-05-01 12:00 UTC",
            lang: Lang::En,
        }
    }

    #[test]
    fn group_invitation_says_who_where_how_and_until_when() {
        let mail = invitation(&sample(Some("Marketing — Q3")));
        assert_eq!(mail.subject, "Invitation to Marketing — Q3 on Acme Portal");
        assert_eq!(
            mail.from,
            Mailbox { name: Some("Acme Portal".into()), address: "portal@acme.example".into() }
        );
        assert_eq!(mail.to, "guest@example.org");
        for needle in [
            "Łukasz Ślązak has invited you to join the group \"Marketing — Q3\" on Acme Portal.",
            "https://acme.example/invite/accept?token=T0K3N&lang=pl",
            "portalctl invite accept T0K3N-abc_123 --name \"Your Name\"",
            "2026-05-01 12:00 UTC",
        ] {
            assert!(mail.text.contains(needle), "text lacks {needle:?}:\n{}", mail.text);
        }
        for needle in [
            "<a href=\"https://acme.example/invite/accept?token=T0K3N&amp;lang=pl\">",
            "<strong>Marketing — Q3</strong>",
            "portalctl invite accept T0K3N-abc_123 --name &quot;Your Name&quot;",
            "2026-05-01 12:00 UTC",
        ] {
            assert!(mail.html.contains(needle), "html lacks {needle:?}:\n{}", mail.html);
        }
    }

    #[test]
    fn portal_only_invitation_for_r6() {
        let mail = invitation(&sample(None));
        assert_eq!(mail.subject, "Invitation to Acme Portal");
        assert!(mail.text.contains("has invited you to join Acme Portal as an external user."));
        assert!(!mail.text.contains("group"));
        assert!(!mail.html.contains("group"));
    }

    #[test]
    fn every_interpolated_value_is_html_escaped() {
        let evil = "<script>alert(\"x\")</script>'";
        let mail = invitation(&Invitation {
            portal_name: evil,
            inviter_name: evil,
            group_name: Some(evil),
            accept_link: "https://x.example/\"><script>alert(1)</script>",
            token: evil,
            expires: evil,
            ..sample(None)
        });
        assert!(!mail.html.contains("<script>"), "{}", mail.html);
        assert!(
            mail.html.contains("href=\"https://x.example/&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\">")
        );
        assert!(mail.html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;"));
        // The token is shell-quoted in the command, then escaped.
        assert!(mail.text.contains(r#"portalctl invite accept '<script>alert("x")</script>'\''' --name"#));
    }

    #[test]
    fn non_web_links_are_not_clickable() {
        let mail = invitation(&Invitation { accept_link: "javascript:alert(1)", ..sample(None) });
        assert!(!mail.html.contains("href"), "{}", mail.html);
        assert!(mail.html.contains("javascript:alert(1)"));
    }

    #[test]
    fn renders_with_non_ascii_names() {
        let inv =
            Invitation {
                portal_name: "Портал Ромашка", group_name: Some("Отдел продаж"), ..sample(None)
            };
        let bytes = render(&invitation(&inv)).expect("render");
        let msg = MessageParser::default().parse(&bytes).expect("parseable");
        assert_eq!(msg.subject(), Some("Invitation to Отдел продаж on Портал Ромашка"));
        assert_eq!(msg.from().and_then(|a| a.first()).and_then(|a| a.name()), Some("Портал Ромашка"));
        assert!(msg.body_text(0).is_some_and(|t| t.contains("Łukasz Ślązak has invited you")));
        assert!(msg.body_html(0).is_some_and(|h| h.contains("<strong>Отдел продаж</strong>")));
        assert_eq!(msg.header_raw("Auto-Submitted").map(str::trim), Some("auto-generated"));
    }

    #[test]
    fn shell_word_quotes_only_when_needed() {
        assert_eq!(shell_word("abc-DEF_123"), "abc-DEF_123");
        assert_eq!(shell_word(""), "''");
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }
}

#[cfg(test)]
mod lang_tests {
    use super::*;
    use crate::render;
    use mail_parser::MessageParser;

    /// Rendered and parsed back: what the `.eml` holds, in Polish and Russian.
    #[test]
    fn invitation_in_polish_and_russian() {
        let base = Invitation {
            portal_name: "Acme",
            from: "portal@acme.example",
            to: "guest@example.org",
            inviter_name: "Anna",
            group_name: Some("Sprzedaż"),
            accept_link: "https://acme.example/invite/T",
            token: "T",
            expires: "1 maja 2026, 12:00 UTC",
            lang: Lang::Pl,
        };
        for (lang, subject, text, html) in [
            (
                Lang::Pl,
                "Zaproszenie do grupy Sprzedaż w portalu Acme",
                "Użytkownik Anna zaprasza Cię do grupy „Sprzedaż” w portalu Acme.",
                "Przyjmij zaproszenie",
            ),
            (
                Lang::Ru,
                "Приглашение в группу Sprzedaż на портале Acme",
                "Пользователь Anna приглашает вас в группу «Sprzedaż» на портале Acme.",
                "Принять приглашение",
            ),
        ] {
            let raw = render(&invitation(&Invitation { lang, ..base })).unwrap();
            let m = MessageParser::default().parse(&raw).unwrap();
            assert_eq!(m.subject(), Some(subject));
            let t = m.body_text(0).unwrap();
            assert!(t.contains(text), "{t}");
            let h = m.body_html(0).unwrap();
            assert!(h.contains(html) && h.contains(&format!("lang=\"{lang}\"")), "{h}");
            assert!(!t.contains('\u{2068}'), "no isolation marks: {t:?}");
        }
    }
}
