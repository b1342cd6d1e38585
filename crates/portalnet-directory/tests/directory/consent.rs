//! Network accounts by consent (R11, issue 11, 3): publishing someone else's
//! e-mail neither links, moves nor freezes their account; the owner's portal
//! approves links and changes the e-mail.

use crate::accounts::{ANNA, account, anna_on_alpha, own};
use crate::*;

/// alpha publishes Anna; evil publishes `xx` with Anna's e-mail.
fn squatted() -> Fixture {
    let f = anna_on_alpha(&["evil.test", "beta.test"]);
    publish(&f.directory, "evil.test", vec![entry_with_email("xx", "Anna Nowak", "Anna@Mail.Example")]);
    f
}

#[test]
fn publishing_someone_elses_email_does_not_link() {
    let f = squatted();
    let d = &f.directory;
    assert_eq!(d.account_of("evil.test", "xx").unwrap(), None);
    let a = account(d, "alpha.test", "anna");
    assert_eq!(a.addresses, ["anna@alpha.test"]);
    assert_eq!(a.owner, "anna@alpha.test");
    assert_eq!(a.requests, ["xx@evil.test"]);
    // The e-mail still finds Anna, not the stranger.
    d.set_network("alpha.test", false, T0).unwrap();
    assert_eq!(d.lookup_email(ANNA).unwrap(), None);
    d.set_network("alpha.test", true, T0).unwrap();
    assert_eq!(d.lookup_email(ANNA).unwrap().unwrap().address, "anna@alpha.test");
    // Republishing, unchanged or renamed, does not link either.
    publish(d, "evil.test", vec![entry_with_email("xx", "Anna N.", ANNA)]);
    d.publish("evil.test", vec![entry_with_email("xx", "Anna N.", ANNA)], vec![], true).unwrap();
    assert_eq!(d.account_of("evil.test", "xx").unwrap(), None);
    assert_eq!(account(d, "alpha.test", "anna").addresses, ["anna@alpha.test"]);
}

#[test]
fn the_owner_still_changes_the_email() {
    let f = squatted();
    let d = &f.directory;
    let a = d.change_account_email("alpha.test", "anna", "anna@new.example").unwrap();
    assert_eq!(a, own("anna@new.example", "anna@alpha.test"), "requests under the old e-mail are dropped");
    assert_eq!(d.entry("alpha.test", "anna").unwrap().unwrap().email, "anna@new.example");
    // The stranger's entry was never linked: it keeps its own e-mail, unlinked.
    assert_eq!(d.entry("evil.test", "xx").unwrap().unwrap().email, "Anna@Mail.Example");
    assert_eq!(d.account_of("evil.test", "xx").unwrap(), None);
}

#[test]
fn approval_links_and_only_the_owners_portal_approves() {
    let f = squatted();
    let d = &f.directory;
    publish(d, "beta.test", vec![entry_with_email("an", "Anna Nowak", ANNA)]);
    assert_eq!(account(d, "alpha.test", "anna").requests, ["an@beta.test", "xx@evil.test"]);
    assert_eq!(d.link_requests("alpha.test", "anna").unwrap().requests, ["an@beta.test", "xx@evil.test"]);

    // The stranger cannot approve itself: its address has no account.
    let e = d.approve_link("evil.test", "xx", "xx@evil.test").unwrap_err();
    assert!(matches!(e, Error::FailedPrecondition(_)), "{e:?}");
    assert!(matches!(d.link_requests("evil.test", "xx"), Err(Error::FailedPrecondition(_))));
    // An address that did not ask: NotFound.
    assert!(matches!(d.approve_link("alpha.test", "anna", "bob@beta.test"), Err(Error::NotFound(_))));
    assert_invalid(d.approve_link("alpha.test", "anna", "no-at-sign"));

    let a = d.approve_link("alpha.test", "anna", "an@beta.test").unwrap();
    assert_eq!(a.addresses, ["an@beta.test", "anna@alpha.test"]);
    assert_eq!(a.requests, ["xx@evil.test"]);
    assert_eq!(account(d, "beta.test", "an"), a);

    // A linked address of another portal is not the owner: it neither approves
    // nor moves the account.
    assert!(matches!(d.approve_link("beta.test", "an", "xx@evil.test"), Err(Error::PermissionDenied(_))));
    assert!(matches!(d.link_requests("beta.test", "an"), Err(Error::PermissionDenied(_))));
    assert!(matches!(
        d.change_account_email("beta.test", "an", "x@y.example"),
        Err(Error::PermissionDenied(_))
    ));
    // A linked entry of beta keeps the e-mail beta published when the owner moves
    // the account (its link is to the account; `accounts::an_email_change_holds_…`).
    let moved = d.change_account_email("alpha.test", "anna", "anna@new.example").unwrap();
    assert_eq!(d.entry("beta.test", "an").unwrap().unwrap().email, ANNA);
    assert_eq!(moved.addresses, ["an@beta.test", "anna@alpha.test"]);
}

#[test]
fn a_withdrawn_request_cannot_be_approved() {
    let f = squatted();
    let d = &f.directory;
    // The stranger republishes under another e-mail: its request goes.
    publish(d, "evil.test", vec![entry_with_email("xx", "X", "xx@evil.example")]);
    assert!(account(d, "alpha.test", "anna").requests.is_empty());
    assert!(matches!(d.approve_link("alpha.test", "anna", "xx@evil.test"), Err(Error::NotFound(_))));
    // Removing a pending entry withdraws its request too.
    publish(d, "beta.test", vec![entry_with_email("an", "Anna Nowak", ANNA)]);
    d.publish("beta.test", vec![], vec!["an".into()], false).unwrap();
    assert!(account(d, "alpha.test", "anna").requests.is_empty());
}

#[test]
fn link_requests_are_bounded() {
    let f = squatted();
    let d = &f.directory;
    let many: Vec<Entry> =
        (0..150).map(|i| entry_with_email(&format!("s{i:03}"), "Anna Nowak", ANNA)).collect();
    d.publish("evil.test", many, vec![], true).unwrap();
    // One portal holds at most its share; many portals are bounded in all
    // (`accounts::link_requests_from_many_portals_are_bounded`).
    let requests = account(d, "alpha.test", "anna").requests;
    assert_eq!(requests.len(), portalnet_directory::MAX_LINK_REQUESTS_PER_PORTAL, "{requests:?}");
    assert_eq!(account(d, "alpha.test", "anna").addresses, ["anna@alpha.test"]);
}

#[test]
fn when_the_owner_leaves_an_approved_address_takes_over() {
    let f = squatted();
    let d = &f.directory;
    publish(d, "beta.test", vec![entry_with_email("an", "Anna Nowak", ANNA)]);
    d.approve_link("alpha.test", "anna", "an@beta.test").unwrap();
    d.publish("alpha.test", vec![], vec!["anna".into()], false).unwrap();
    let a = account(d, "beta.test", "an");
    assert_eq!(
        (a.owner.as_str(), a.addresses.as_slice()),
        ("an@beta.test", &["an@beta.test".to_string()][..])
    );
    d.change_account_email("beta.test", "an", "anna@beta.example").unwrap();
}
