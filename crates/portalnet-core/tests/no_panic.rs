//! Every parser of input from clients, peers and mail, fed arbitrary Unicode:
//! none panics (issue 11, Found 4), each answers a value or InvalidArgument, and
//! a refusal quotes the input only in bounded form.

use portalnet_core::quote::MAX_QUOTED_CHARS;
use portalnet_core::{Error, address, invitation, validate};
use proptest::prelude::*;

/// Arbitrary text, printable text, and text built from the pieces that trip
/// byte-index parsing: `@`, `mailto:` in any case, multi-byte letters, emoji.
fn hostile() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("@".to_string()),
        Just("mailto:".to_string()),
        Just("MailTo:".to_string()),
        Just("mailto".to_string()),
        Just("ł".to_string()),
        Just("Ж".to_string()),
        Just("😀".to_string()),
        Just(".".to_string()),
        Just(" ".to_string()),
        Just("-".to_string()),
        "[a-z0-9]{1,4}",
    ];
    prop_oneof![
        ".*",
        "\\PC*",
        proptest::collection::vec(piece, 0..12).prop_map(|v| v.concat()),
        ("\\PC{1,3}", 1..3000usize).prop_map(|(s, n)| s.repeat(n)),
    ]
}

/// A refusal is InvalidArgument and repeats no more of the input than `quote` lets through.
fn clean_refusal(e: &Error, input: &str) -> Result<(), TestCaseError> {
    prop_assert!(matches!(e, Error::InvalidArgument(_)), "{e:?}");
    let msg = e.to_string();
    // Fixed wording is short; the quoted input is at most MAX_QUOTED_CHARS (+ `…`),
    // twice in the address message.
    prop_assert!(msg.chars().count() < 400 + 2 * (MAX_QUOTED_CHARS + 1), "{} chars", msg.chars().count());
    if input.chars().count() > 2 * MAX_QUOTED_CHARS + 400 {
        prop_assert!(!msg.contains(input));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn participants(v in hostile()) {
        match address::participant("responsible", &v) {
            Ok(p) => {
                // What is accepted is one of the three forms, and stable (lowercasing
                // may lengthen a near-limit address, so only for ordinary lengths).
                if p.len() < 200 {
                    prop_assert_eq!(address::participant("responsible", &p), Ok(p.clone()));
                }
                let (login, portal) = address::split(&p);
                if !address::is_email(&p) {
                    prop_assert!(validate::login("l", login).is_ok());
                    if let Some(portal) = portal {
                        prop_assert!(validate::portal_id(portal).is_ok());
                    }
                }
            }
            Err(e) => clean_refusal(&e, &v)?,
        }
        // The helpers that read stored participants take any string.
        let _ = address::qualify(&v, "alpha.test");
        let _ = address::localize(&v, "alpha.test");
        let _ = address::portal_of(&v, "alpha.test");
        let _ = address::email_of(&v);
    }

    #[test]
    fn logins(v in hostile()) {
        match validate::login("login", &v) {
            Ok(l) => prop_assert!(l.len() >= 2 && l.len() <= validate::MAX_LOGIN && l.is_ascii()),
            Err(e) => clean_refusal(&e, &v)?,
        }
    }

    #[test]
    fn portal_ids(v in hostile()) {
        match validate::portal_id(&v) {
            Ok(id) => prop_assert!(id.len() <= 253 && id.contains('.') && id.is_ascii()),
            Err(e) => clean_refusal(&e, &v)?,
        }
    }

    #[test]
    fn emails(v in hostile()) {
        match validate::email("email", &v) {
            Ok(e) => {
                prop_assert!(e.contains('@'));
                let _ = validate::email_key(&e);
                let _ = address::email_participant(&e);
            }
            Err(e) => clean_refusal(&e, &v)?,
        }
    }

    #[test]
    fn names_and_texts(v in hostile()) {
        for r in [
            validate::name("name", &v),
            validate::optional_line("position", &v, validate::MAX_NAME_CHARS),
            validate::text("description", &v, 1000),
        ] {
            if let Err(e) = r {
                clean_refusal(&e, &v)?;
            }
        }
    }

    /// A login made from any invited address is a valid login.
    #[test]
    fn logins_from_any_address(v in hostile()) {
        let l = invitation::login_from_email(&v, |_| false);
        prop_assert!(validate::login("login", &l).is_ok(), "{:?} gave {:?}", v, l);
    }
}

/// Found 4: these once panicked the handler (byte slicing inside `ł`).
#[test]
fn multi_byte_participants_are_refused_cleanly() {
    for v in ["łłłł", "mailtoł", "mailtoł@x.pl", "łłłłłłł", "mailt😀", "ЖЖЖЖ@beta.test"] {
        let e = address::participant("responsible", v).unwrap_err();
        assert!(matches!(e, Error::InvalidArgument(_)), "{v}: {e:?}");
        assert!(e.to_string().starts_with("responsible `"), "{v}: {e}");
    }
    assert_eq!(address::participant("observers", "MAILTO:łukasz@x.pl").unwrap(), "mailto:łukasz@x.pl");
}

/// Refusals quote at most a bounded part of a huge value.
#[test]
fn huge_values_are_not_echoed() {
    let huge = "ł".repeat(100_000);
    for e in [
        validate::login("login", &huge).unwrap_err(),
        validate::portal_id(&huge).unwrap_err(),
        validate::email("email", &huge).unwrap_err(),
        address::participant("responsible", &format!("jan@{huge}")).unwrap_err(),
    ] {
        assert!(e.to_string().len() < 1024, "{} bytes", e.to_string().len());
    }
}
