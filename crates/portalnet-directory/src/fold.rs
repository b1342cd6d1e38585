//! Folding names for search: case- and diacritics-insensitive in any script.
//!
//! A text is decomposed (NFKD), its combining marks are dropped, it is lowercased,
//! and the letters that NFKD does not decompose are mapped by hand (ł→l, đ→d, ø→o,
//! æ→ae, œ→oe, ß→ss, ı→i, ð→d, þ→th, ħ→h, ŧ→t). Cyrillic ё needs no mapping: it
//! decomposes to е + combining diaeresis. Words are the runs of letters and digits
//! of the folded text: whitespace and punctuation (hyphens, apostrophes, dots)
//! separate them, so "Nowak-Jeziorańska" has the words `nowak` and `jezioranska`.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The folded form of `text` (same length class; separators kept as they are).
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.nfkd() {
        if is_combining_mark(c) {
            continue;
        }
        for l in c.to_lowercase() {
            if is_combining_mark(l) {
                continue;
            }
            match l {
                'ł' => out.push('l'),
                'đ' | 'ð' => out.push('d'),
                'ø' => out.push('o'),
                'æ' => out.push_str("ae"),
                'œ' => out.push_str("oe"),
                'ß' => out.push_str("ss"),
                'ı' => out.push('i'),
                'þ' => out.push_str("th"),
                'ħ' => out.push('h'),
                'ŧ' => out.push('t'),
                // NFKD already turns ё into е + U+0308; kept for precomposed input
                // that reaches here by another path.
                'ё' => out.push('е'),
                other => out.push(other),
            }
        }
    }
    out
}

/// The folded words of `text`, in order (duplicates kept).
pub fn words(text: &str) -> Vec<String> {
    fold(text).split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_string).collect()
}

/// The folded words of `text`, in order, each once, at most `max`.
pub fn distinct_words(text: &str, max: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in words(text) {
        if out.len() >= max {
            break;
        }
        if !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_and_diacritics() {
        for (raw, folded) in [
            ("Łukasz", "lukasz"),
            ("Ślązak", "slazak"),
            ("Антон", "антон"),
            ("Ёлкин", "елкин"),
            ("ёж", "еж"),
            ("ÉMILE", "emile"),
            ("Müller", "muller"),
            ("Đorđević", "dordevic"),
            ("Søren", "soren"),
            ("Æsir", "aesir"),
            ("Œuvre", "oeuvre"),
            ("Straße", "strasse"),
            ("STRAẞE", "strasse"),
            ("Işık", "isik"),
            ("İstanbul", "istanbul"),
            ("Ångström", "angstrom"),
            ("Zażółć gęślą jaźń", "zazolc gesla jazn"),
            ("Ｆｕｌｌ", "full"),
            ("Ǆemal", "dzemal"),
        ] {
            assert_eq!(fold(raw), folded, "{raw}");
        }
    }

    #[test]
    fn cyrillic_yo_decomposes_under_nfkd() {
        // The claim the module relies on: ё is е + U+0308 after NFKD.
        let d: Vec<char> = "ё".nfkd().collect();
        assert_eq!(d, vec!['е', '\u{308}']);
        let d: Vec<char> = "Ё".nfkd().collect();
        assert_eq!(d, vec!['Е', '\u{308}']);
        // While ł has no decomposition and needs the explicit mapping.
        assert_eq!("ł".nfkd().collect::<String>(), "ł");
    }

    #[test]
    fn splits_on_whitespace_and_punctuation() {
        assert_eq!(words("Nowak-Jeziorańska"), ["nowak", "jezioranska"]);
        assert_eq!(words("  Jan   Kowalski "), ["jan", "kowalski"]);
        assert_eq!(words("O'Brien, Dr. J.R."), ["o", "brien", "dr", "j", "r"]);
        assert_eq!(words("Анна\tМария—Петрова"), ["анна", "мария", "петрова"]);
        assert_eq!(words("山田 太郎"), ["山田", "太郎"]);
        assert!(words(" - . , ").is_empty());
        assert!(words("").is_empty());
    }

    #[test]
    fn distinct_words_dedupe_and_bound() {
        assert_eq!(distinct_words("Anna ANNA Anna-Maria", 16), ["anna", "maria"]);
        assert_eq!(distinct_words("a b c d e", 3), ["a", "b", "c"]);
    }
}
