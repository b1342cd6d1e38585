//! Cutting a reply down to what its author newly wrote.
//!
//! Works line by line on plain text: quoted lines (`>`) are dropped wherever they are, so
//! bottom-posted and inline replies keep exactly the author's lines; an attribution line
//! ("On … wrote:") is dropped, and when only quotes follow it everything from it on goes;
//! Outlook-style separators ("-----Original Message-----", a `From:`/`Sent:` header block) and
//! signatures ("-- ", "Sent from my iPhone") end the new text, because what follows them is
//! old text that carries no `>` marks. A forwarded message is kept whole: forwarding it was
//! the point.

/// Longest line taken for an attribution; longer ones are someone's prose.
const MAX_ATTRIBUTION: usize = 400;

/// The new text of `text`, an e-mail body in any line-end convention; `\n` line ends, no
/// leading or trailing blank lines. Empty if the author wrote nothing new.
pub fn strip_reply(text: &str) -> String {
    let normalized = text.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = normalized.split('\n').collect();
    let mut kept: Vec<&str> = Vec::new();
    let mut i = 0;
    while let Some(&line) = lines.get(i) {
        if is_forward_marker(line) {
            kept.extend_from_slice(lines.get(i..).unwrap_or_default());
            break;
        }
        if is_quoted(line) {
            // Answers given between quotes stay separate paragraphs.
            kept.push("");
            i += 1;
            continue;
        }
        if is_signature(line) || starts_original_message(&lines, i) {
            break;
        }
        if let Some(len) = attribution_len(&lines, i) {
            let rest = lines.get(i + len..).unwrap_or_default();
            if rest.iter().all(|l| is_quoted(l) || l.trim().is_empty())
                || (!next_is_quoted(rest) && is_strong_attribution(lines.get(i..i + len).unwrap_or_default()))
            {
                // Top-posting: all that follows is the quoted original (with `>` marks, or
                // without them when an HTML body was turned into text).
                break;
            }
            i += len;
            continue;
        }
        kept.push(line);
        i += 1;
    }
    tidy(&kept)
}

fn is_quoted(line: &str) -> bool {
    line.trim_start().starts_with('>')
}

fn next_is_quoted(lines: &[&str]) -> bool {
    lines.iter().find(|l| !l.trim().is_empty()).is_some_and(|l| is_quoted(l))
}

/// Lower case with Outlook's `*bold*` label marks and surrounding blanks removed.
fn plain(line: &str) -> String {
    line.trim().trim_start_matches('*').trim().to_lowercase()
}

const FORWARD_MARKERS: &[&str] = &[
    "forwarded message",
    "begin forwarded message",
    "wiadomość przekazana dalej",
    "przekazana wiadomość",
    "пересылаемое сообщение",
    "пересланное сообщение",
    "weitergeleitete nachricht",
];

fn is_forward_marker(line: &str) -> bool {
    let l = plain(line);
    let core = l.trim_matches(|c: char| c == '-' || c == ' ' || c == ':');
    FORWARD_MARKERS.contains(&core)
}

const SIGNATURE_PREFIXES: &[&str] = &[
    "sent from my ",
    "sent from mail for windows",
    "sent from outlook",
    "sent from yahoo mail",
    "get outlook for ",
    "wysłane z mojego ",
    "wysłano z mojego ",
    "wysłane z iphone",
    "wysłane z aplikacji ",
    "wysłano z aplikacji ",
    "pobierz outlook dla ",
    "отправлено с моего ",
    "отправлено с iphone",
    "отправлено из мобильной ",
    "отправлено из приложения ",
    "получите outlook для ",
    "скачайте outlook для ",
];

fn is_signature(line: &str) -> bool {
    // RFC 3676 §4.3 says "-- "; many clients drop the trailing space on the way.
    if line.trim_end() == "--" {
        return true;
    }
    let l = plain(line);
    l.chars().count() <= 80 && SIGNATURE_PREFIXES.iter().any(|p| l.starts_with(p))
}

const ORIGINAL_MESSAGE: &[&str] = &[
    "original message",
    "oryginalna wiadomość",
    "wiadomość oryginalna",
    "исходное сообщение",
    "ursprüngliche nachricht",
    "message d'origine",
    "mensaje original",
];
const FROM_LABELS: &[&str] = &["from:", "od:", "от:", "von:", "de:"];
const DATE_LABELS: &[&str] = &[
    "sent:",
    "date:",
    "wysłano:",
    "wysłane:",
    "data:",
    "отправлено:",
    "дата:",
    "gesendet:",
    "envoyé :",
    "envoyé:",
];

/// Outlook and webmail separators, after which the whole original follows unquoted.
fn starts_original_message(lines: &[&str], i: usize) -> bool {
    let Some(line) = lines.get(i) else { return false };
    let l = plain(line);
    if l.starts_with("---") {
        let core = l.trim_matches(|c: char| c == '-' || c == ' ');
        if ORIGINAL_MESSAGE.contains(&core) {
            return true;
        }
    }
    // Outlook draws a line of underscores above the header block.
    if l.len() >= 8 && l.chars().all(|c| c == '_') {
        let next = lines.iter().skip(i + 1).position(|l| !l.trim().is_empty());
        return next.is_some_and(|n| starts_header_block(lines, i + 1 + n));
    }
    starts_header_block(lines, i)
}

/// `From: …` followed within four lines by `Sent: …`/`Date: …`: a quoted header block.
fn starts_header_block(lines: &[&str], i: usize) -> bool {
    let Some(line) = lines.get(i) else { return false };
    let l = plain(line);
    if !FROM_LABELS.iter().any(|label| l.starts_with(label)) {
        return false;
    }
    lines.iter().skip(i + 1).take(4).any(|next| {
        let n = plain(next);
        DATE_LABELS.iter().any(|label| n.starts_with(label))
    })
}

const ATTRIBUTION_ENDINGS: &[&str] = &[
    "wrote:",
    "writes:",
    "napisał(a):",
    "napisał:",
    "napisała:",
    "pisze:",
    "пишет:",
    "написал(а):",
    "написал:",
    "написала:",
    "schrieb:",
    "a écrit :",
    "a écrit:",
    "escribió:",
    "ha scritto:",
];
/// How attributions of Gmail, Apple Mail and Thunderbird begin in the languages we expect.
const ATTRIBUTION_OPENERS: &[&str] = &["on ", "w dniu ", "dnia ", "am ", "le ", "el ", "il ", "в "];

fn ends_attribution(line: &str) -> bool {
    let l = plain(line);
    // Gmail in Russian writes no verb: "пт, 12 апр. 2024 г. в 15:30, Иван <ivan@mail.ru>:".
    ATTRIBUTION_ENDINGS.iter().any(|e| l.ends_with(e)) || (l.ends_with(">:") && l.contains('@'))
}

fn opens_attribution(line: &str) -> bool {
    let l = plain(line);
    ATTRIBUTION_OPENERS.iter().any(|o| l.starts_with(o)) || l.starts_with(|c: char| c.is_ascii_digit())
}

/// Lines taken by an attribution starting at `i` (one, or two when the client wrapped it).
///
/// An attribution must be followed by a quote, or must look like one of the clients' own
/// formats, so that "Here is what Anna wrote:" in someone's prose survives.
fn attribution_len(lines: &[&str], i: usize) -> Option<usize> {
    let first = lines.get(i)?;
    if first.trim().is_empty() || first.len() > MAX_ATTRIBUTION {
        return None;
    }
    let len = if ends_attribution(first) {
        1
    } else {
        let second = lines.get(i + 1)?;
        let wrapped = opens_attribution(first) || first.trim_end().ends_with('<');
        if !wrapped
            || is_quoted(second)
            || !ends_attribution(second)
            || first.len() + second.len() > MAX_ATTRIBUTION
        {
            return None;
        }
        2
    };
    let block = lines.get(i..i + len).unwrap_or_default();
    let rest = lines.get(i + len..).unwrap_or_default();
    (next_is_quoted(rest) || is_strong_attribution(block)).then_some(len)
}

fn is_strong_attribution(block: &[&str]) -> bool {
    block.first().is_some_and(|l| opens_attribution(l)) && block.last().is_some_and(|l| ends_attribution(l))
}

/// Joins lines with `\n`, trims line ends, folds runs of blank lines (left where quotes were)
/// into one, and drops blank lines at both ends.
fn tidy(lines: &[&str]) -> String {
    let mut out: Vec<&str> = Vec::with_capacity(lines.len());
    for line in lines.iter().map(|l| l.trim_end()) {
        if line.is_empty() && out.last().is_none_or(|l| l.is_empty()) {
            continue;
        }
        out.push(line);
    }
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    out.join("\n")
}

#[cfg(test)]
mod tests;
