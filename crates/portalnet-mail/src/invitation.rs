use crate::html::escape_html;
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
    /// Shown as given, e.g. `2026-05-01 12:00 UTC`.
    pub expires: &'a str,
}

/// Compose the invitation e-mail; addresses are checked when it is rendered.
pub fn invitation(inv: &Invitation<'_>) -> Outgoing {
    let subject = match inv.group_name {
        Some(group) => format!("Invitation to {group} on {}", inv.portal_name),
        None => format!("Invitation to {}", inv.portal_name),
    };
    let command = format!("portalctl invite accept {} --name \"Your Name\"", shell_word(inv.token));
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

fn text_body(inv: &Invitation<'_>, command: &str) -> String {
    let Invitation { portal_name, inviter_name, accept_link, expires, .. } = *inv;
    let invited = match inv.group_name {
        Some(group) => {
            format!("{inviter_name} has invited you to join the group \"{group}\" on {portal_name}.")
        }
        None => format!("{inviter_name} has invited you to join {portal_name} as an external user."),
    };
    format!(
        "Hello,\n\n\
         {invited}\n\n\
         To accept, open this link:\n\n    {accept_link}\n\n\
         Or, with the portalctl command-line tool, run:\n\n    {command}\n\n\
         This invitation is valid until {expires}.\n\
         If you did not expect it, you can ignore this e-mail.\n"
    )
}

fn html_body(inv: &Invitation<'_>, subject: &str, command: &str) -> String {
    let e = escape_html;
    let inviter = format!("<strong>{}</strong>", e(inv.inviter_name));
    let portal = format!("<strong>{}</strong>", e(inv.portal_name));
    let invited = match inv.group_name {
        Some(group) => {
            format!("{inviter} has invited you to join the group <strong>{}</strong> on {portal}.", e(group))
        }
        None => format!("{inviter} has invited you to join {portal} as an external user."),
    };
    let link = e(inv.accept_link);
    // Only web links become clickable; anything else (say `javascript:`) is shown as text.
    let accept = if is_web_link(inv.accept_link) {
        format!("<a href=\"{link}\">Accept the invitation</a><br>{link}")
    } else {
        link
    };
    format!(
        "<!DOCTYPE html>\n<html>\n<head><meta charset=\"utf-8\"><title>{title}</title></head>\n<body>\n\
         <p>Hello,</p>\n\
         <p>{invited}</p>\n\
         <p>{accept}</p>\n\
         <p>Or, with the portalctl command-line tool, run:</p>\n\
         <pre><code>{command}</code></pre>\n\
         <p>This invitation is valid until {expires}.<br>\
         If you did not expect it, you can ignore this e-mail.</p>\n\
         </body>\n</html>\n",
        title = e(subject),
        command = e(command),
        expires = e(inv.expires),
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
