//! A message to a person, not yet in a language: a Fluent id with its arguments (or,
//! for text that has no id, the text itself). Refusals are built as `Text` where the
//! rule is decided and said in the reader's language where the answer is sent.

use crate::{Arg, Lang, tr};

/// A message id of the `.ftl` files with its arguments, or plain text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text(Body);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Body {
    Key {
        id: &'static str,
        args: Vec<(&'static str, Value)>,
    },
    /// Text that has no message id (it comes from elsewhere, e.g. a parser's error);
    /// the same in every language.
    Plain(String),
}

/// An argument's value: numbers choose plural forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Str(String),
    Num(i64),
    /// A moment, written as the language writes dates.
    Time(crate::DateTime),
}

impl Text {
    /// The message `id` with `args`; see the [`text!`](crate::text) macro.
    pub fn new(id: &'static str, args: Vec<(&'static str, Value)>) -> Text {
        Text(Body::Key { id, args })
    }

    /// Text with no message id: shown as given in every language.
    pub fn plain(text: impl Into<String>) -> Text {
        Text(Body::Plain(text.into()))
    }

    /// The message id, if the text has one.
    pub fn id(&self) -> Option<&'static str> {
        match &self.0 {
            Body::Key { id, .. } => Some(id),
            Body::Plain(_) => None,
        }
    }

    /// The text in `lang` (English where `lang` lacks the message).
    pub fn in_lang(&self, lang: Lang) -> String {
        match &self.0 {
            Body::Plain(s) => s.clone(),
            Body::Key { id, args } => {
                // A field's name is a word of the language too: `field-<name>` when known.
                let said: Vec<Option<String>> = args
                    .iter()
                    .map(|(k, v)| match v {
                        Value::Str(s) if matches!(*k, "field" | "what") => phrase(lang, k, s),
                        Value::Time(t) => Some(crate::datetime(lang, *t)),
                        _ => None,
                    })
                    .collect();
                let args: Vec<(&str, Arg<'_>)> = args
                    .iter()
                    .zip(&said)
                    .map(|((k, v), said)| {
                        let v = match (v, said) {
                            (_, Some(f)) => Arg::Str(f),
                            (Value::Str(s), None) => Arg::Str(s),
                            (Value::Num(n), None) => Arg::Num(*n),
                            (Value::Time(_), None) => Arg::Str(""),
                        };
                        (*k, v)
                    })
                    .collect();
                tr(lang, id, &args)
            }
        }
    }
}

/// Arguments `field` (a field's name) and `what` (what a rule is about) are words of
/// the language too: `field = "display name"` is said as message `field-display-name`,
/// `what = "add users"` as `what-add-users`, when the files have them.
fn phrase(lang: Lang, arg: &str, value: &str) -> Option<String> {
    let slug: String =
        value.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    let id = format!("{arg}-{}", slug.split('-').filter(|w| !w.is_empty()).collect::<Vec<_>>().join("-"));
    let said = tr(lang, &id, &[]);
    (said != id).then_some(said)
}

/// English, the language of logs.
impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.in_lang(Lang::En))
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text::plain(s)
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text::plain(s)
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(s)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.to_string())
    }
}

impl From<&&str> for Value {
    fn from(s: &&str) -> Value {
        Value::Str((*s).to_string())
    }
}

impl From<&String> for Value {
    fn from(s: &String) -> Value {
        Value::Str(s.clone())
    }
}

macro_rules! numbers {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(n: $t) -> Value {
                Value::Num(i64::try_from(n).unwrap_or(i64::MAX))
            }
        }
    )*};
}
numbers!(i64, u64, i32, u32, usize, u16, u8);

/// `text!("error-task-not-found", task = 7)`: a [`Text`] with the message id of the `.ftl`
/// files; values are strings or numbers (numbers choose plural forms).
#[macro_export]
macro_rules! text {
    ($id:literal $(, $k:ident = $v:expr)* $(,)?) => {
        $crate::Text::new($id, vec![$((stringify!($k), $crate::Value::from($v))),*])
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_text_is_said_in_each_language_and_plain_text_as_given() {
        let t = crate::text!("error-user-dismissed", login = "jan");
        assert_eq!(t.to_string(), "user `jan` is dismissed; their tokens no longer work");
        assert!(t.in_lang(Lang::Pl).contains("`jan`"), "{}", t.in_lang(Lang::Pl));
        assert_ne!(t.in_lang(Lang::Pl), t.in_lang(Lang::En));
        assert_eq!(Text::from("as is").in_lang(Lang::Ru), "as is");
        assert_eq!(t.id(), Some("error-user-dismissed"));
    }

    #[test]
    fn refusals_use_the_plural_forms_field_names_and_dates_of_each_language() {
        let chars = |n: usize| crate::text!("error-too-many-chars", field = "title", n = n, max = 255);
        assert_eq!(chars(2).to_string(), "title is 2 characters long; the limit is 255");
        assert_eq!(chars(1).in_lang(Lang::Pl), "pole „tytuł” ma 1 znak; limit to 255");
        assert_eq!(chars(3).in_lang(Lang::Pl), "pole „tytuł” ma 3 znaki; limit to 255");
        assert_eq!(chars(5).in_lang(Lang::Pl), "pole „tytuł” ma 5 znaków; limit to 255");
        assert_eq!(chars(22).in_lang(Lang::Ru), "в поле «название» 22 символа; предел — 255");
        assert_eq!(chars(11).in_lang(Lang::Ru), "в поле «название» 11 символов; предел — 255");
        // A field the files do not name is shown as given.
        let odd = crate::text!("error-required", field = "frobnicator");
        assert_eq!(odd.in_lang(Lang::Ru), "поле «frobnicator» обязательно");
        let what = crate::text!("error-admins-only", what = "issue API tokens");
        assert_eq!(what.in_lang(Lang::Pl), "tylko administratorzy portalu mogą wydawać tokeny API");
        let at = crate::DateTime { year: 2026, month: 5, day: 1, hour: 9, minute: 5 };
        let t = Text::new(
            "error-network-not-yet",
            vec![("portal", "a.test".into()), ("since", Value::Time(at)), ("from", Value::Time(at))],
        );
        assert!(t.to_string().contains("switched on at 2026-05-01 09:05 UTC;"), "{t}");
        assert!(t.in_lang(Lang::Pl).contains("włączono 1 maja 2026, 09:05 UTC;"), "{}", t.in_lang(Lang::Pl));
        assert!(
            t.in_lang(Lang::Ru).contains("возможны с 1 мая 2026 г., 09:05 UTC"),
            "{}",
            t.in_lang(Lang::Ru)
        );
    }

    #[test]
    fn languages_are_stored_as_their_codes() {
        assert_eq!(serde_json::to_string(&Lang::Pl).ok().as_deref(), Some("\"pl\""));
        assert_eq!(serde_json::from_str::<Lang>("\"ru\"").ok(), Some(Lang::Ru));
        assert!(serde_json::from_str::<Lang>("\"de\"").is_err());
    }
}
