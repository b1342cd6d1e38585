//! Quoting caller or peer input in an error message: bounded, so a 200 KB value
//! does not come back in a refusal (or fill a log line), and cut on a character
//! boundary, so no input can make the cut panic.

/// Most characters of an input value that an error message repeats.
pub const MAX_QUOTED_CHARS: usize = 64;

/// `value` as an error message may repeat it: at most [`MAX_QUOTED_CHARS`]
/// characters, then `…`; control characters (line breaks, escapes) become `�`,
/// so a quoted value cannot forge further lines of a message or a log.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len().min(MAX_QUOTED_CHARS * 4 + 3));
    for (n, c) in value.chars().enumerate() {
        if n == MAX_QUOTED_CHARS {
            out.push('…');
            break;
        }
        out.push(if c.is_control() { '\u{FFFD}' } else { c });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn short_values_are_kept() {
        assert_eq!(quote("jan@beta.test"), "jan@beta.test");
        assert_eq!(quote(""), "");
        assert_eq!(quote("a\nb"), "a\u{FFFD}b");
    }

    #[test]
    fn long_values_are_cut_on_a_character() {
        let q = quote(&"ł".repeat(100_000));
        assert_eq!(q.chars().count(), MAX_QUOTED_CHARS + 1);
        assert!(q.ends_with('…'));
        assert_eq!(quote(&"x".repeat(MAX_QUOTED_CHARS)), "x".repeat(MAX_QUOTED_CHARS));
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]
        #[test]
        fn any_value_is_bounded(v in "\\PC*|.*|[łЖ😀@a-z:\\n]{0,300}") {
            let q = quote(&v);
            prop_assert!(q.chars().count() <= MAX_QUOTED_CHARS + 1);
            prop_assert!(!q.chars().any(char::is_control));
            if v.chars().count() <= MAX_QUOTED_CHARS && !v.chars().any(char::is_control) {
                prop_assert_eq!(q, v);
            }
        }
    }
}
