//! Field validation shared by every entry point. Messages name the field and say
//! what a valid value looks like.

use crate::error::{Error, Result, text};
use crate::quote::quote;

pub const MAX_LOGIN: usize = 32;
pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_EMAIL: usize = 254;

/// A login: 2–32 characters of `a-z 0-9 . _ -`, starting with a letter.
pub fn login(field: &str, value: &str) -> Result<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(Error::invalid(text!("error-login-required", field = field)));
    }
    let ok_chars =
        v.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    let starts = v.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    if !ok_chars || !starts || v.len() < 2 || v.len() > MAX_LOGIN {
        return Err(Error::invalid(text!(
            "error-bad-login",
            field = field,
            value = quote(v),
            max = MAX_LOGIN
        )));
    }
    Ok(v.to_string())
}

/// A DNS-like portal id such as `alpha.test`: labels of a-z, 0-9 and `-`, at least two.
pub fn portal_id(value: &str) -> Result<String> {
    let v = value.trim().to_ascii_lowercase();
    let labels: Vec<&str> = v.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    };
    if v.len() > 253 || labels.len() < 2 || !labels.iter().all(label_ok) {
        return Err(Error::invalid(text!("error-bad-portal-id", value = quote(value))));
    }
    Ok(v)
}

/// A required single-line name (display name, group name): trimmed, non-empty, bounded.
pub fn name(field: &str, value: &str) -> Result<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(Error::invalid(text!("error-required", field = field)));
    }
    single_line(field, v, MAX_NAME_CHARS)?;
    Ok(v.to_string())
}

/// An optional single-line text, bounded in characters.
pub fn optional_line(field: &str, value: &str, max_chars: usize) -> Result<String> {
    let v = value.trim();
    single_line(field, v, max_chars)?;
    Ok(v.to_string())
}

fn single_line(field: &str, v: &str, max_chars: usize) -> Result<()> {
    let n = v.chars().count();
    if n > max_chars {
        return Err(Error::invalid(text!("error-too-many-chars", field = field, n = n, max = max_chars)));
    }
    if v.chars().any(char::is_control) {
        return Err(Error::invalid(text!("error-not-single-line", field = field)));
    }
    Ok(())
}

/// Multi-line text bounded in bytes (descriptions, comments). Keeps newlines and tabs.
pub fn text(field: &str, value: &str, max_bytes: usize) -> Result<String> {
    if value.len() > max_bytes {
        return Err(Error::invalid(text!(
            "error-too-many-bytes",
            field = field,
            n = value.len(),
            max = max_bytes
        )));
    }
    if value.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(Error::invalid(text!("error-control-chars", field = field)));
    }
    Ok(value.trim_end().to_string())
}

/// An e-mail address in its usual `local@domain` form. Kept as typed; compare with
/// [`email_key`].
pub fn email(field: &str, value: &str) -> Result<String> {
    let v = value.trim();
    let bad = || Error::invalid(text!("error-bad-email", field = field, value = quote(v)));
    if v.is_empty() {
        return Err(Error::invalid(text!("error-email-required", field = field)));
    }
    if v.len() > MAX_EMAIL
        || v.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';' | '"'))
    {
        return Err(bad());
    }
    let (local, domain) = v.rsplit_once('@').ok_or_else(bad)?;
    if local.is_empty()
        || local.len() > 64
        || domain.is_empty()
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || domain.contains('@')
    {
        return Err(bad());
    }
    Ok(v.to_string())
}

/// A language the portal speaks (`en`, `pl`, `ru`, or a locale such as `pl_PL.UTF-8`);
/// empty means none (the portal's).
pub fn language(value: &str) -> Result<Option<portalnet_i18n::Lang>> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(None);
    }
    portalnet_i18n::Lang::parse(v)
        .map(Some)
        .ok_or_else(|| Error::invalid(text!("error-bad-language", value = quote(v))))
}

/// The form under which addresses are compared: case-insensitive (Unicode lowercase).
pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins() {
        for ok in ["anna", "a1", "jan.kowalski", "x_y-z"] {
            assert_eq!(login("login", ok).as_deref(), Ok(ok));
        }
        for bad in ["", "a", "Anna", "1abc", "ab cd", "żaba", &"a".repeat(33)] {
            assert!(login("login", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn portal_ids() {
        assert_eq!(portal_id("Alpha.Test").as_deref(), Ok("alpha.test"));
        for bad in ["alpha", ".test", "a..b", "-a.test", "a_b.test", ""] {
            assert!(portal_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails() {
        assert!(email("email", "Łukasz@Example.PL").is_ok());
        assert_eq!(email_key("Łukasz@Example.PL"), "łukasz@example.pl");
        for bad in ["", "x", "x@", "@y.z", "x@y", "a b@c.d", "<a@b.c>", "a@b.c,d@e.f"] {
            assert!(email("email", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn texts() {
        assert!(name("name", "  ").is_err());
        assert!(name("name", "a\u{7}b").is_err());
        assert_eq!(text("t", "line1\nline2\n", 100).as_deref(), Ok("line1\nline2"));
        assert!(text("t", &"x".repeat(101), 100).is_err());
    }
}
