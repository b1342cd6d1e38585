//! Every request the directory handles, with arbitrary Unicode in each field
//! (issue 11, Found 4 and 6): no call panics, and a refusal quotes input only in
//! bounded form, whatever its size.

use super::{T0, entry, fixture, key, portal};
use portalnet_directory::{Directory, Entry, Error};
use proptest::prelude::*;
use std::sync::OnceLock;

/// Shared by the cases (opening sled per case would be slow): two portals with
/// people, one of them visible.
fn directory() -> &'static Directory {
    static D: OnceLock<super::Fixture> = OnceLock::new();
    &D.get_or_init(|| {
        let f = fixture();
        portal(&f.directory, "alpha.test", true);
        portal(&f.directory, "beta.test", false);
        super::publish(&f.directory, "alpha.test", vec![entry("anna", "Anna Łukasiewicz")]);
        super::publish(&f.directory, "beta.test", vec![entry("jan", "Jan Żmuda")]);
        f
    })
    .directory
}

fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("@".to_string()),
        Just("mailto:".to_string()),
        Just("ł".to_string()),
        Just("Ж".to_string()),
        Just("😀".to_string()),
        Just(".".to_string()),
        Just("alpha.test".to_string()),
        Just("anna".to_string()),
        "[a-z0-9]{1,6}",
    ];
    prop_oneof![
        ".*",
        "\\PC*",
        proptest::collection::vec(piece, 0..10).prop_map(|v| v.concat()),
        ("\\PC{1,2}", 1..2000usize).prop_map(|(s, n)| s.repeat(n)),
    ]
}

fn entries() -> impl Strategy<Value = Vec<Entry>> {
    proptest::collection::vec(
        (text(), text(), text(), text()).prop_map(|(login, display_name, position, email)| Entry {
            login,
            display_name,
            position,
            email,
        }),
        0..4,
    )
}

/// A refusal: never a storage error, and short.
fn bounded<T>(r: Result<T, Error>) -> Result<(), TestCaseError> {
    if let Err(e) = r {
        prop_assert!(!matches!(e, Error::Store(_)), "{e:?}");
        prop_assert!(e.to_string().len() < 1024, "{} bytes", e.to_string().len());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn lookups_and_searches(s in text(), t in text(), limit in 0u32..80, offset in 0u32..1200) {
        let d = directory();
        bounded(d.portal(&s))?;
        bounded(d.search(&s, limit, offset))?;
        bounded(d.lookup_email(&s))?;
        bounded(d.lookup_addresses(&[s.clone(), t.clone(), format!("{t}@alpha.test")]))?;
        bounded(d.entry(&s, &t))?;
        bounded(d.account_of(&s, &t))?;
        bounded(d.account_of("alpha.test", &t))?;
    }

    /// Registration and publishing with any values. Only unknown or invalid
    /// portal ids are used, so the shared fixture keeps its people.
    #[test]
    fn registrations_and_publishes(
        id in text(),
        endpoint in text(),
        pem in text(),
        upsert in entries(),
        remove in proptest::collection::vec(text(), 0..3),
        replace_all in any::<bool>(),
        new_email in text(),
    ) {
        let d = directory();
        let id = format!("x{id}");
        // An arbitrary secret first (refused), then one enrolled for the id when
        // the id is valid, so the calls after it reach a registered portal.
        bounded(d.register(&id, &endpoint, key(7), Some(&pem), T0))?;
        let secret = format!("no-panic-secret-{}", id.len());
        if d.enrol(&id, &secret, T0, portalnet_directory::ENROLMENT_TTL_MS).is_ok() {
            bounded(d.register(&id, &endpoint, key(7), Some(&secret), T0))?;
        }
        bounded(d.set_certificate(&id, &pem))?;
        bounded(d.set_network(&id, true, T0))?;
        bounded(d.rotate_key(&id, key(7), key(8), &endpoint, T0))?;
        bounded(d.publish(&id, upsert.clone(), remove.clone(), replace_all))?;
        bounded(d.change_account_email(&id, "anna", &new_email))?;
        // The real portal, with entries that are refused before anything is written.
        let bad: Vec<Entry> = upsert.into_iter().map(|e| Entry { login: format!("{}Ж", e.login), ..e }).collect();
        if !bad.is_empty() {
            let r = d.publish("alpha.test", bad, remove, replace_all);
            prop_assert!(r.is_err());
            bounded(r)?;
        }
        bounded(d.change_account_email("alpha.test", &format!("{new_email}Ж"), &new_email))?;
    }
}

/// A 200 KB portal id is refused with a short message.
#[test]
fn huge_ids_are_not_echoed() {
    let d = directory();
    let huge = "ł".repeat(100_000);
    for r in [
        d.register(&huge, "https://x.test", key(9), Some(&huge), T0).map(drop),
        d.enrol(&huge, &huge, T0, 1).map(drop),
        d.set_network(&huge, true, T0).map(drop),
        d.publish(&huge, vec![], vec![], false).map(drop),
        d.search(&huge, 0, 0).map(drop),
        d.change_account_email("alpha.test", &huge, "a@b.c").map(drop),
    ] {
        let e = r.unwrap_err();
        assert!(e.to_string().len() < 1024, "{} bytes", e.to_string().len());
    }
}
