//! The portal's languages (English, Polish, Russian) with Fluent: messages live in
//! `locales/<lang>/*.ftl`, files a translator edits, compiled into the binary.
//! Plural forms follow CLDR (pl and ru: one / few / many / other). A message missing
//! in a language falls back to English; a test fails when any id is missing.
//!
//! [`Text`] is a message not yet said in a language: `core`'s refusals carry one, and
//! whoever answers the person (the node) picks the language. No IO here.

mod text;
pub use text::{Text, Value};

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use std::sync::LazyLock;
use unic_langid::LanguageIdentifier;

/// A language the portal speaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Lang {
    #[default]
    En,
    Pl,
    Ru,
}

/// Every `.ftl` file of a language, by name (the same names in every language).
pub const FTL_FILES: &[&str] = &["mail.ftl", "pages.ftl", "errors.ftl"];

const SOURCES: [(Lang, [&str; 3]); 3] = [
    (
        Lang::En,
        [
            include_str!("../locales/en/mail.ftl"),
            include_str!("../locales/en/pages.ftl"),
            include_str!("../locales/en/errors.ftl"),
        ],
    ),
    (
        Lang::Pl,
        [
            include_str!("../locales/pl/mail.ftl"),
            include_str!("../locales/pl/pages.ftl"),
            include_str!("../locales/pl/errors.ftl"),
        ],
    ),
    (
        Lang::Ru,
        [
            include_str!("../locales/ru/mail.ftl"),
            include_str!("../locales/ru/pages.ftl"),
            include_str!("../locales/ru/errors.ftl"),
        ],
    ),
];

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::En, Lang::Pl, Lang::Ru];

    /// `en`, `pl` or `ru`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Pl => "pl",
            Lang::Ru => "ru",
        }
    }

    /// A language tag or locale name: `pl`, `pl-PL`, `ru_RU.UTF-8`, `EN`. None for others.
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_', '.', '@']).next()?.to_ascii_lowercase();
        Lang::ALL.into_iter().find(|l| l.code() == primary)
    }

    /// The best of our languages for an `Accept-Language` header (RFC 9110 §12.5.4):
    /// the highest `q` wins, then the first listed; `q=0` means "not this one".
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(f32, Lang)> = None;
        for item in header.split(',').take(32) {
            let mut parts = item.split(';');
            let Some(lang) = parts.next().and_then(Lang::parse) else { continue };
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.trim().parse::<f32>().ok()))
                .unwrap_or(1.0);
            if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l)
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl serde::Serialize for Lang {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> serde::Deserialize<'de> for Lang {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Lang::parse(&code).ok_or_else(|| serde::de::Error::custom(format!("unknown language {code:?}")))
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

static BUNDLES: LazyLock<Vec<FluentBundle<FluentResource>>> = LazyLock::new(|| {
    SOURCES
        .iter()
        .map(|(lang, files)| {
            let id: LanguageIdentifier = lang.code().parse().unwrap_or_default();
            let mut bundle = FluentBundle::new_concurrent(vec![id]);
            // No Unicode isolation marks around values: mail and plain text show them as junk.
            bundle.set_use_isolating(false);
            for src in files {
                // A broken entry is skipped, the rest kept; the tests refuse broken files.
                let res = FluentResource::try_new((*src).to_string()).unwrap_or_else(|(res, _)| res);
                bundle.add_resource_overriding(res);
            }
            bundle
        })
        .collect()
});

/// A value for a message's variable.
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    Str(&'a str),
    /// Numbers choose plural forms.
    Num(i64),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(s: &'a str) -> Self {
        Arg::Str(s)
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(s: &'a String) -> Self {
        Arg::Str(s)
    }
}

/// The message `id` in `lang` with `args`; English when the language lacks it, the id
/// itself when no language has it.
pub fn tr(lang: Lang, id: &str, args: &[(&str, Arg<'_>)]) -> String {
    let mut fargs = FluentArgs::new();
    for (name, value) in args {
        match value {
            Arg::Str(s) => fargs.set(*name, FluentValue::from(*s)),
            Arg::Num(n) => fargs.set(*name, FluentValue::from(*n)),
        }
    }
    for l in [lang, Lang::En] {
        let bundle = &BUNDLES[l.index()];
        if let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) {
            let mut errors = Vec::new();
            return bundle.format_pattern(pattern, Some(&fargs), &mut errors).into_owned();
        }
    }
    id.to_string()
}

/// A moment as a language writes it; the node supplies the calendar fields (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
}

/// `2026-05-01 12:00 UTC`, `1 maja 2026, 12:00 UTC`, `1 мая 2026 г., 12:00 UTC`.
pub fn datetime(lang: Lang, dt: DateTime) -> String {
    let (mm, dd, time) =
        (format!("{:02}", dt.month), format!("{:02}", dt.day), format!("{:02}:{:02}", dt.hour, dt.minute));
    let year = format!("{:04}", dt.year);
    tr(
        lang,
        "datetime",
        &[
            ("year", Arg::Str(&year)),
            ("month", Arg::Num(i64::from(dt.month))),
            ("day", Arg::Num(i64::from(dt.day))),
            ("mm", Arg::Str(&mm)),
            ("dd", Arg::Str(&dd)),
            ("time", Arg::Str(&time)),
        ],
    )
}

/// The name of a task status (`new`, `in_progress` …) in `lang`.
pub fn status_name(lang: Lang, status: &str) -> String {
    let id = format!("status-{}", status.replace('_', "-"));
    let text = tr(lang, &id, &[]);
    if text == id { status.replace('_', " ") } else { text }
}

/// Message ids of one `.ftl` source, in order (lines `id = …` at the start).
pub fn message_ids(source: &str) -> Vec<String> {
    source
        .lines()
        .filter_map(|line| {
            let (id, _) = line.split_once('=')?;
            let id = id.trim_end();
            let ok = id.starts_with(|c: char| c.is_ascii_alphabetic())
                && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            ok.then(|| id.to_string())
        })
        .collect()
}

/// The sources of every language, for checks: (language, file name, text).
pub fn sources() -> impl Iterator<Item = (Lang, &'static str, &'static str)> {
    SOURCES
        .iter()
        .flat_map(|(lang, files)| FTL_FILES.iter().zip(files.iter()).map(move |(n, s)| (*lang, *n, *s)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_message_exists_in_every_language() {
        for file in FTL_FILES {
            let ids = |lang: Lang| -> BTreeSet<String> {
                sources()
                    .filter(|(l, f, _)| *l == lang && f == file)
                    .flat_map(|(_, _, s)| message_ids(s))
                    .collect()
            };
            let en = ids(Lang::En);
            assert!(!en.is_empty(), "{file} has messages");
            for lang in [Lang::Pl, Lang::Ru] {
                let other = ids(lang);
                let missing: Vec<_> = en.difference(&other).collect();
                let extra: Vec<_> = other.difference(&en).collect();
                assert!(
                    missing.is_empty() && extra.is_empty(),
                    "{lang}/{file}: missing {missing:?}, not in en {extra:?}"
                );
            }
        }
    }

    #[test]
    fn every_file_parses_and_every_message_formats() {
        for (lang, file, src) in sources() {
            if let Err((_, errors)) = FluentResource::try_new(src.to_string()) {
                panic!("{lang}/{file}: {errors:?}");
            }
            let bundle = &BUNDLES[lang.index()];
            for id in message_ids(src) {
                let msg = bundle.get_message(&id).and_then(|m| m.value());
                assert!(msg.is_some(), "{lang}/{file}: {id} has no value");
            }
        }
    }

    #[test]
    fn missing_ids_are_caught() {
        let a: BTreeSet<_> =
            message_ids("a = x\nb = { $n ->\n  [one] y\n *[other] z\n}\n# c = no\n").into_iter().collect();
        assert_eq!(a, ["a".to_string(), "b".to_string()].into_iter().collect());
    }

    #[test]
    fn plural_forms_for_one_few_many() {
        let files = |lang, n| tr(lang, "notice-files", &[("count", Arg::Num(n))]);
        assert_eq!(files(Lang::En, 1), "The task has 1 file.");
        assert_eq!(files(Lang::En, 2), "The task has 2 files.");
        assert_eq!(files(Lang::Pl, 1), "Zadanie ma 1 plik.");
        assert_eq!(files(Lang::Pl, 2), "Zadanie ma 2 pliki.");
        assert_eq!(files(Lang::Pl, 5), "Zadanie ma 5 plików.");
        assert_eq!(files(Lang::Pl, 22), "Zadanie ma 22 pliki.");
        assert_eq!(files(Lang::Pl, 12), "Zadanie ma 12 plików.");
        assert_eq!(files(Lang::Ru, 1), "В задаче 1 файл.");
        assert_eq!(files(Lang::Ru, 2), "В задаче 2 файла.");
        assert_eq!(files(Lang::Ru, 5), "В задаче 5 файлов.");
        assert_eq!(files(Lang::Ru, 21), "В задаче 21 файл.");
        assert_eq!(files(Lang::Ru, 11), "В задаче 11 файлов.");
    }

    #[test]
    fn dates_and_languages() {
        let dt = DateTime { year: 2026, month: 5, day: 1, hour: 9, minute: 5 };
        assert_eq!(datetime(Lang::En, dt), "2026-05-01 09:05 UTC");
        assert_eq!(datetime(Lang::Pl, dt), "1 maja 2026, 09:05 UTC");
        assert_eq!(datetime(Lang::Ru, dt), "1 мая 2026 г., 09:05 UTC");
        assert_eq!(Lang::parse("pl_PL.UTF-8"), Some(Lang::Pl));
        assert_eq!(Lang::parse("de"), None);
        assert_eq!(Lang::from_accept_language("de-DE,ru;q=0.8,pl;q=0.9"), Some(Lang::Pl));
        assert_eq!(Lang::from_accept_language("ru-RU,ru;q=0.9,en;q=0.5"), Some(Lang::Ru));
        assert_eq!(Lang::from_accept_language("pl;q=0,de"), None);
        assert_eq!(status_name(Lang::Ru, "in_progress"), "в работе");
        assert_eq!(status_name(Lang::En, "awaiting_control"), "awaiting control");
    }
}

#[cfg(test)]
mod ids_in_code {
    use super::*;
    use std::path::Path;

    fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                rust_files(&p, out);
            } else if p.extension().is_some_and(|e| e == "rs") {
                out.push(p);
            }
        }
    }

    /// Every refusal id the code names (`"error-…"` literals in any crate's sources)
    /// has an English message, so no reader ever sees a bare id.
    #[test]
    fn every_error_id_in_the_code_has_a_message() {
        let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = Vec::new();
        rust_files(&crates, &mut files);
        let en: std::collections::BTreeSet<String> =
            sources().filter(|(l, _, _)| *l == Lang::En).flat_map(|(_, _, s)| message_ids(s)).collect();
        let mut missing = Vec::new();
        let mut seen = 0;
        for f in files {
            let src = std::fs::read_to_string(&f).unwrap_or_default();
            for piece in src.split("\"error-").skip(1) {
                let id: String = piece
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
                    .collect();
                if !id.is_empty() && piece.get(id.len()..).is_some_and(|rest| rest.starts_with('"')) {
                    seen += 1;
                    if !en.contains(&format!("error-{id}")) {
                        missing.push(format!("{}: error-{id}", f.display()));
                    }
                }
            }
        }
        assert!(seen > 50, "found only {seen} ids: is the scan looking at the sources?");
        assert!(missing.is_empty(), "ids without an English message: {missing:#?}");
    }
}
