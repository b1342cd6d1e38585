//! "A portal may speak only for its own users": the user addresses in a message from
//! a portal must belong to that portal.

use crate::SignError;

/// Checks that `address` (`login@portal`) belongs to the portal `origin`: its portal
/// part must equal `origin`, ignoring ASCII case. Refuses an address that is not
/// `login@portal` with exactly one `@` and a login's characters
/// ([`SignError::InvalidAddress`]) and a user of another portal ([`SignError::ForeignUser`]). An e-mail participant (`mailto:joe@acme.test`)
/// belongs to no portal, whatever its domain: a portal id is given out by the
/// directory, it does not prove the mail domain, so no portal speaks for one.
pub fn speaks_for(origin: &str, address: &str) -> Result<(), SignError> {
    let Some((login, portal)) = address.split_once('@') else {
        return Err(SignError::InvalidAddress { address: address.to_owned() });
    };
    // A login's characters (`validate::login`), any ASCII case: `mailto:` has none.
    let valid_login =
        !login.is_empty() && login.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !valid_login || portal.is_empty() || portal.contains('@') {
        return Err(SignError::InvalidAddress { address: address.to_owned() });
    }
    if !portal.eq_ignore_ascii_case(origin) {
        return Err(SignError::ForeignUser { origin: origin.to_owned(), address: address.to_owned() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    enum Want {
        Ok,
        Foreign,
        Invalid,
    }

    #[test]
    fn table() {
        let cases = [
            ("beta.test", "x@beta.test", Want::Ok),
            ("beta.test", "X@BETA.test", Want::Ok),
            ("Beta.Test", "x@beta.test", Want::Ok),
            ("beta.test", "x@gamma.test", Want::Foreign),
            ("beta.test", "x@beta.test.evil", Want::Foreign),
            ("beta.test", "x@eta.test", Want::Foreign),
            ("beta.test", "x@gamma.test@beta.test", Want::Invalid),
            ("beta.test", "x@beta.test@gamma.test", Want::Invalid),
            ("beta.test", "xbeta.test", Want::Invalid),
            ("beta.test", "", Want::Invalid),
            ("beta.test", "@beta.test", Want::Invalid),
            ("beta.test", "x@", Want::Invalid),
            ("acme.test", "mailto:joe@acme.test", Want::Invalid),
            ("acme.test", "MAILTO:joe@acme.test", Want::Invalid),
            ("beta.test", " xy@beta.test", Want::Invalid),
            ("beta.test", "x y@beta.test", Want::Invalid),
        ];
        for (origin, address, want) in cases {
            let got = match speaks_for(origin, address) {
                Ok(()) => Want::Ok,
                Err(SignError::ForeignUser { .. }) => Want::Foreign,
                Err(SignError::InvalidAddress { .. }) => Want::Invalid,
                Err(e) => panic!("{origin} {address}: unexpected {e}"),
            };
            assert_eq!(got, want, "{origin} speaking for {address:?}");
        }
    }

    #[test]
    fn foreign_user_message_names_both() {
        let e = speaks_for("beta.test", "x@gamma.test").unwrap_err();
        let s = e.to_string();
        assert!(s.contains("beta.test") && s.contains("x@gamma.test"), "{s}");
    }
}
