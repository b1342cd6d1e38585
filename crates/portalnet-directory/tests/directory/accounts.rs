//! Network accounts (R11) and e-mail lookup.

use crate::*;
use portalnet_directory::MAX_LINK_REQUESTS_PER_PORTAL as PER_PORTAL;
use portalnet_directory::{Account, MAX_LINK_REQUESTS};

pub const ANNA: &str = "anna@mail.example";

/// Anna published by alpha (so she owns her account), alpha and `others` with
/// their networks on.
pub fn anna_on_alpha(others: &[&str]) -> Fixture {
    let f = fixture();
    for p in std::iter::once(&"alpha.test").chain(others) {
        portal(&f.directory, p, true);
    }
    publish(&f.directory, "alpha.test", vec![entry_with_email("anna", "Anna Nowak", ANNA)]);
    f
}

pub fn account(d: &Directory, portal: &str, login: &str) -> Account {
    d.account_of(portal, login).unwrap().expect("linked to an account")
}

/// An account with one address, its owner, and no requests.
pub fn own(email: &str, address: &str) -> Account {
    Account { email: email.into(), addresses: vec![address.into()], owner: address.into(), requests: vec![] }
}

#[test]
fn publishing_links_addresses_to_the_account_of_their_email() {
    let f = fixture();
    let d = &f.directory;
    portal(d, "alpha.test", true);
    portal(d, "beta.test", true);
    publish(d, "alpha.test", vec![entry_with_email("anna", "Anna Nowak", "Anna@Mail.example")]);
    publish(d, "beta.test", vec![entry_with_email("an", "Anna Nowak", "anna@mail.EXAMPLE")]);
    // Another portal's address joins only with the owner's consent (R11).
    assert_eq!(d.account_of("beta.test", "an").unwrap(), None);
    assert_eq!(account(d, "alpha.test", "anna").requests, ["an@beta.test"]);
    d.approve_link("alpha.test", "anna", "an@beta.test").unwrap();
    let a = account(d, "alpha.test", "anna");
    assert_eq!(a.email, "Anna@Mail.example", "kept as first typed");
    assert_eq!(a.addresses, ["an@beta.test", "anna@alpha.test"]);
    assert_eq!(a.owner, "anna@alpha.test");
    assert!(a.requests.is_empty());
    assert_eq!(account(d, "beta.test", "an"), a);
    // Exact, case-insensitive lookup; of two visible addresses, the owner's
    // (though `an@beta.test` sorts first).
    let p = d.lookup_email("ANNA@mail.example").unwrap().unwrap();
    assert_eq!(p.address, "anna@alpha.test");
    assert_eq!(p.display_name, "Anna Nowak");
    // The other portal hidden: still the owner.
    d.set_network("beta.test", false, T0).unwrap();
    assert_eq!(d.lookup_email("anna@mail.example").unwrap().unwrap().address, "anna@alpha.test");
    // The owner's portal hidden: the other linked address (joined by consent).
    d.set_network("beta.test", true, T0).unwrap();
    d.set_network("alpha.test", false, T0).unwrap();
    assert_eq!(d.lookup_email("anna@mail.example").unwrap().unwrap().address, "an@beta.test");
    // Both hidden: nobody.
    d.set_network("beta.test", false, T0).unwrap();
    assert_eq!(d.lookup_email("anna@mail.example").unwrap(), None);
    // Not a prefix or a near miss.
    assert_eq!(d.lookup_email("anna@mail.exampl").unwrap(), None);
    assert_eq!(d.lookup_email("nobody@mail.example").unwrap(), None);
    assert_invalid(d.lookup_email("not an address"));
}

#[test]
fn republishing_with_another_email_moves_the_address() {
    let f = fixture();
    let d = &f.directory;
    portal(d, "alpha.test", true);
    publish(d, "alpha.test", vec![entry_with_email("anna", "Anna Nowak", "old@mail.example")]);
    publish(d, "alpha.test", vec![entry_with_email("anna", "Anna Nowak", "new@mail.example")]);
    let a = account(d, "alpha.test", "anna");
    assert_eq!(a, own("new@mail.example", "anna@alpha.test"));
    // The old account had no address left: deleted, its e-mail free.
    assert_eq!(d.lookup_email("old@mail.example").unwrap(), None);
    assert_eq!(d.lookup_email("new@mail.example").unwrap().unwrap().address, "anna@alpha.test");
    publish(d, "alpha.test", vec![entry_with_email("bob", "Bob Old", "old@mail.example")]);
    assert_eq!(account(d, "alpha.test", "bob").addresses, ["bob@alpha.test"]);

    // Moving to an e-mail that another account owns joins that account.
    publish(d, "alpha.test", vec![entry_with_email("anna", "Anna Nowak", "old@mail.example")]);
    assert_eq!(account(d, "alpha.test", "bob").addresses, ["anna@alpha.test", "bob@alpha.test"]);
    assert_eq!(d.lookup_email("new@mail.example").unwrap(), None);

    // Removing an entry unlinks it; the last removal deletes the account.
    d.publish("alpha.test", vec![], vec!["anna".into()], false).unwrap();
    assert_eq!(account(d, "alpha.test", "bob").addresses, ["bob@alpha.test"]);
    d.publish("alpha.test", vec![], vec!["bob".into()], false).unwrap();
    assert_eq!(d.lookup_email("old@mail.example").unwrap(), None);
    assert_eq!(d.account_of("alpha.test", "bob").unwrap(), None);
}

#[test]
fn changing_the_account_email_frees_the_old_one() {
    let f = fixture();
    let d = &f.directory;
    portal(d, "alpha.test", true);
    publish(d, "alpha.test", vec![entry_with_email("anna", "Anna Nowak", "anna@old.example")]);
    publish(d, "alpha.test", vec![entry_with_email("anna.b", "Anna Nowak", "anna@old.example")]);

    let a = d.change_account_email("alpha.test", "anna", "Anna@New.example").unwrap();
    assert_eq!(a.email, "Anna@New.example");
    assert_eq!(a.addresses, ["anna.b@alpha.test", "anna@alpha.test"]);
    // Both linked entries carry the new e-mail.
    assert_eq!(d.entry("alpha.test", "anna").unwrap().unwrap().email, "Anna@New.example");
    assert_eq!(d.entry("alpha.test", "anna.b").unwrap().unwrap().email, "Anna@New.example");
    assert_eq!(d.lookup_email("anna@old.example").unwrap(), None);
    // The owner (the founder), though `anna.b` sorts first.
    assert_eq!(d.lookup_email("anna@new.example").unwrap().unwrap().address, "anna@alpha.test");

    // The old e-mail is free: inviting (publishing) someone under it makes a new account.
    publish(d, "alpha.test", vec![entry_with_email("anna2", "Anna Druga", "anna@old.example")]);
    let b = account(d, "alpha.test", "anna2");
    assert_eq!(b, own("anna@old.example", "anna2@alpha.test"));
    assert_eq!(d.lookup_email("anna@old.example").unwrap().unwrap().address, "anna2@alpha.test");

    // Another account's e-mail: AlreadyExists, naming nobody.
    match d.change_account_email("alpha.test", "anna", "ANNA@old.example") {
        Err(Error::AlreadyExists(m)) => {
            assert!(!m.contains('@'), "{m}");
            assert!(!m.contains("anna"), "{m}");
        }
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    // Nothing changed by the refusal.
    assert_eq!(account(d, "alpha.test", "anna").email, "Anna@New.example");

    // Its own e-mail in another case: allowed.
    let a = d.change_account_email("alpha.test", "anna.b", "anna@new.example").unwrap();
    assert_eq!(a.email, "anna@new.example");
    assert_eq!(d.lookup_email("ANNA@NEW.EXAMPLE").unwrap().unwrap().address, "anna@alpha.test");
}

#[test]
fn change_account_email_refusals() {
    let f = fixture();
    let d = &f.directory;
    portal(d, "alpha.test", true);
    publish(d, "alpha.test", vec![entry("anna", "Anna Nowak")]);
    assert!(matches!(d.change_account_email("alpha.test", "nobody", "x@y.example"), Err(Error::NotFound(_))));
    assert!(matches!(d.change_account_email("gamma.test", "anna", "x@y.example"), Err(Error::NotFound(_))));
    assert_invalid(d.change_account_email("alpha.test", "anna", "not-an-email"));
    assert_invalid(d.change_account_email("alpha.test", "Not A Login", "x@y.example"));
    assert_invalid(d.change_account_email("not a portal", "anna", "x@y.example"));
}

/// A portal cannot take over the account of another portal's person by publishing
/// their e-mail and then changing it: its entry was never linked, so the change
/// gives its own address an account of its own and leaves theirs alone.
#[test]
fn a_stranger_changing_the_email_moves_only_its_own_entry() {
    let f = fixture();
    let d = &f.directory;
    portal(d, "alpha.test", true);
    portal(d, "evil.test", true);
    publish(d, "alpha.test", vec![entry_with_email("anna", "Anna Nowak", "anna@mail.example")]);
    publish(d, "evil.test", vec![entry_with_email("xx", "Anna Nowak", "anna@mail.example")]);
    let x = d.change_account_email("evil.test", "xx", "attacker@mail.example").unwrap();
    assert_eq!(x, own("attacker@mail.example", "xx@evil.test"));
    assert_eq!(account(d, "alpha.test", "anna"), own("anna@mail.example", "anna@alpha.test"));
    assert_eq!(d.lookup_email("anna@mail.example").unwrap().unwrap().address, "anna@alpha.test");
}

/// A portal renaming a login in one publish (a full refresh where `anna` became
/// `anna.nowak`, same e-mail) keeps the person's account: the old address leaves
/// it and the new one takes it over in the same write, instead of the emptied
/// account swallowing the new address as a link request and then being deleted.
#[test]
fn a_login_renamed_in_one_publish_keeps_its_account() {
    let f = fixture();
    let d = &f.directory;
    portal(d, "alpha.test", true);
    portal(d, "beta.test", true);
    publish(d, "alpha.test", vec![entry_with_email("anna", "Anna Nowak", "anna@mail.example")]);
    // A request of another portal, waiting when the rename comes.
    publish(d, "beta.test", vec![entry_with_email("an", "Anna Nowak", "anna@mail.example")]);
    d.publish(
        "alpha.test",
        vec![entry_with_email("anna.nowak", "Anna Nowak", "anna@mail.example")],
        vec![],
        true,
    )
    .unwrap();
    assert_eq!(d.entry("alpha.test", "anna").unwrap(), None);
    // Taken over as if made anew: the new address owns it; the request made to
    // the old owner is dropped, as it would be with the account deleted.
    assert_eq!(account(d, "alpha.test", "anna.nowak"), own("anna@mail.example", "anna.nowak@alpha.test"));
    assert_eq!(d.lookup_email("anna@mail.example").unwrap().unwrap().address, "anna.nowak@alpha.test");
    // The e-mail stays taken: another portal still has to ask.
    publish(d, "beta.test", vec![entry_with_email("an", "Anna N.", "anna@mail.example")]);
    assert_eq!(d.account_of("beta.test", "an").unwrap(), None);
    assert_eq!(account(d, "alpha.test", "anna.nowak").requests, ["an@beta.test"]);
    // And it reads the same after reopening.
    let db = f.db.clone();
    drop(f.directory);
    let d = Directory::open(&db).unwrap();
    assert_eq!(account(&d, "alpha.test", "anna.nowak").owner, "anna.nowak@alpha.test");
}

/// Two people of one portal swapping e-mails in one publish each end up owning
/// the account of their new e-mail (the second takes over the account the first
/// emptied earlier in the same write).
#[test]
fn two_people_swapping_emails_in_one_publish_each_keep_an_account() {
    let f = fixture();
    let d = &f.directory;
    portal(d, "alpha.test", true);
    publish(
        d,
        "alpha.test",
        vec![
            entry_with_email("anna", "Anna", "a@mail.example"),
            entry_with_email("bob", "Bob", "b@mail.example"),
        ],
    );
    publish(
        d,
        "alpha.test",
        vec![
            entry_with_email("anna", "Anna", "b@mail.example"),
            entry_with_email("bob", "Bob", "a@mail.example"),
        ],
    );
    assert_eq!(account(d, "alpha.test", "anna"), own("b@mail.example", "anna@alpha.test"));
    assert_eq!(account(d, "alpha.test", "bob"), own("a@mail.example", "bob@alpha.test"));
    assert_eq!(d.lookup_email("a@mail.example").unwrap().unwrap().address, "bob@alpha.test");
}

/// alpha publishes Anna (the owner); beta publishes `an` with her e-mail, which
/// she approves.
fn anna_on_alpha_and_beta() -> Fixture {
    let f = fixture();
    let d = &f.directory;
    portal(d, "alpha.test", true);
    portal(d, "beta.test", true);
    publish(d, "alpha.test", vec![entry_with_email("anna", "Anna Nowak", ANNA)]);
    publish(d, "beta.test", vec![entry_with_email("an", "Anna Nowak", ANNA)]);
    d.approve_link("alpha.test", "anna", "an@beta.test").unwrap();
    f
}

/// R11 by consent: an approved address of beta does not let beta link anyone
/// else with Anna's e-mail; such a login asks like any other. The e-mail finds
/// the owner, not whoever sorts first, and when the owner leaves the account
/// goes to the approved address, never to the unapproved one.
#[test]
fn an_approved_address_does_not_let_its_portal_link_others() {
    let f = anna_on_alpha_and_beta();
    let d = &f.directory;
    publish(d, "beta.test", vec![entry_with_email("aaa", "Mallory", ANNA)]);
    assert_eq!(d.account_of("beta.test", "aaa").unwrap(), None);
    let a = account(d, "alpha.test", "anna");
    assert_eq!(a.addresses, ["an@beta.test", "anna@alpha.test"]);
    assert_eq!(a.requests, ["aaa@beta.test"]);
    assert_eq!(d.lookup_email(ANNA).unwrap().unwrap().address, "anna@alpha.test");
    // Republished unchanged or changed: still only a request.
    publish(d, "beta.test", vec![entry_with_email("aaa", "Mallory M.", ANNA)]);
    assert_eq!(d.account_of("beta.test", "aaa").unwrap(), None);

    d.publish("alpha.test", vec![], vec!["anna".into()], false).unwrap();
    let a = account(d, "beta.test", "an");
    assert_eq!(a.owner, "an@beta.test");
    assert_eq!(a.addresses, ["an@beta.test"]);
    assert_eq!(d.account_of("beta.test", "aaa").unwrap(), None);
    assert_eq!(d.lookup_email(ANNA).unwrap().unwrap().address, "an@beta.test");
    // beta owns the account now: it speaks for it, and approves.
    let a = d.approve_link("beta.test", "an", "aaa@beta.test").unwrap();
    assert_eq!(a.addresses, ["aaa@beta.test", "an@beta.test"]);
}

/// A linked portal renaming a login in one publish cannot be told from one
/// replacing the person with someone else carrying the e-mail: the new login
/// asks again (the old one's link went with it), and the owner approves it.
#[test]
fn a_login_renamed_on_a_linked_portal_asks_again() {
    let f = anna_on_alpha_and_beta();
    let d = &f.directory;
    d.publish("beta.test", vec![entry_with_email("an.nowak", "Anna Nowak", ANNA)], vec![], true).unwrap();
    assert_eq!(d.entry("beta.test", "an").unwrap(), None);
    assert_eq!(d.account_of("beta.test", "an.nowak").unwrap(), None);
    let a = account(d, "alpha.test", "anna");
    assert_eq!(a.addresses, ["anna@alpha.test"]);
    assert_eq!(a.requests, ["an.nowak@beta.test"]);
    let a = d.approve_link("alpha.test", "anna", "an.nowak@beta.test").unwrap();
    assert_eq!(a.addresses, ["an.nowak@beta.test", "anna@alpha.test"]);
    assert_eq!(account(d, "beta.test", "an.nowak"), a);
}

/// The owner's portal renaming the owner's login in one publish keeps the
/// account with it: the new login owns it (the owner's portal speaks for the
/// account and would approve it anyway), and the approved address stays linked.
#[test]
fn the_owners_login_renamed_in_one_publish_stays_the_owner() {
    let f = anna_on_alpha_and_beta();
    let d = &f.directory;
    d.publish("alpha.test", vec![entry_with_email("anna.nowak", "Anna Nowak", ANNA)], vec![], true).unwrap();
    let a = account(d, "alpha.test", "anna.nowak");
    assert_eq!(a.owner, "anna.nowak@alpha.test");
    assert_eq!(a.addresses, ["an@beta.test", "anna.nowak@alpha.test"]);
    assert_eq!(account(d, "beta.test", "an"), a);
    assert_eq!(d.lookup_email(ANNA).unwrap().unwrap().address, "anna.nowak@alpha.test");
    d.change_account_email("alpha.test", "anna.nowak", "anna@new.example").unwrap();
    // Without a new address of alpha, the approved one takes over.
    d.publish("alpha.test", vec![entry("bob", "Bob")], vec![], true).unwrap();
    assert_eq!(account(d, "beta.test", "an").owner, "an@beta.test");
}

/// R11: one portal publishing many logins with Anna's e-mail keeps at most a few
/// requests, so it cannot crowd out the request of Anna's own other address.
#[test]
fn one_portal_cannot_crowd_out_link_requests() {
    let f = anna_on_alpha(&["evil.test", "beta.test"]);
    let d = &f.directory;
    let many: Vec<Entry> =
        (0..MAX_LINK_REQUESTS).map(|i| entry_with_email(&format!("s{i:03}"), "Anna Nowak", ANNA)).collect();
    d.publish("evil.test", many, vec![], true).unwrap();
    assert_eq!(account(d, "alpha.test", "anna").requests.len(), PER_PORTAL);
    publish(d, "beta.test", vec![entry_with_email("an", "Anna Nowak", ANNA)]);
    assert!(account(d, "alpha.test", "anna").requests.contains(&"an@beta.test".to_string()));
    let a = d.approve_link("alpha.test", "anna", "an@beta.test").unwrap();
    assert_eq!(a.addresses, ["an@beta.test", "anna@alpha.test"]);
    // A request of evil withdrawn frees a place for another of its logins, which
    // asks when republished.
    d.publish("evil.test", vec![], vec!["s000".into()], false).unwrap();
    assert_eq!(account(d, "alpha.test", "anna").requests.len(), PER_PORTAL - 1);
    publish(d, "evil.test", vec![entry_with_email("s050", "Anna Nowak", ANNA)]);
    let a = account(d, "alpha.test", "anna");
    assert_eq!(a.requests, ["s001@evil.test", "s002@evil.test", "s050@evil.test"]);
}

/// The overall bound stays: requests from many portals stop at
/// `MAX_LINK_REQUESTS`.
#[test]
fn link_requests_from_many_portals_are_bounded() {
    let f = anna_on_alpha(&[]);
    let d = &f.directory;
    for p in 0..MAX_LINK_REQUESTS.div_ceil(PER_PORTAL) + 1 {
        let id = format!("p{p:03}.test");
        portal(d, &id, true);
        let some: Vec<Entry> =
            (0..PER_PORTAL + 1).map(|i| entry_with_email(&format!("s{i}"), "Anna Nowak", ANNA)).collect();
        d.publish(&id, some, vec![], true).unwrap();
    }
    let a = account(d, "alpha.test", "anna");
    assert_eq!(a.requests.len(), MAX_LINK_REQUESTS);
    assert_eq!(a.addresses, ["anna@alpha.test"]);
}

/// ARCHITECTURE: the directory shows people of a portal whose network is off to
/// nobody, the owner's portal included: its account view leaves out their
/// requests and addresses, and their requests are not approved while hidden.
#[test]
fn account_views_leave_out_portals_whose_network_is_off() {
    let f = fixture();
    let d = &f.directory;
    portal(d, "alpha.test", true);
    portal(d, "beta.test", true);
    portal(d, "hidden.test", false);
    publish(d, "alpha.test", vec![entry_with_email("anna", "Anna Nowak", ANNA)]);
    publish(d, "beta.test", vec![entry_with_email("an", "Anna Nowak", ANNA)]);
    publish(d, "hidden.test", vec![entry_with_email("secret", "Secret Person", ANNA)]);
    assert_eq!(d.link_requests("alpha.test", "anna").unwrap().requests, ["an@beta.test"]);
    // Hidden: not approved, the same answer as for an address that did not ask.
    let e = d.approve_link("alpha.test", "anna", "secret@hidden.test").unwrap_err();
    assert!(matches!(e, Error::NotFound(_)), "{e:?}");
    assert_eq!(d.account_of("hidden.test", "secret").unwrap(), None);
    let a = d.approve_link("alpha.test", "anna", "an@beta.test").unwrap();
    assert_eq!(a.requests, Vec::<String>::new());
    assert_eq!(a.addresses, ["an@beta.test", "anna@alpha.test"]);

    // Switched on: shown, and approved.
    d.set_network("hidden.test", true, T0).unwrap();
    assert_eq!(d.link_requests("alpha.test", "anna").unwrap().requests, ["secret@hidden.test"]);
    let a = d.approve_link("alpha.test", "anna", "secret@hidden.test").unwrap();
    assert_eq!(a.addresses, ["an@beta.test", "anna@alpha.test", "secret@hidden.test"]);
    // Off again: its linked address is left out of every answer too.
    d.set_network("hidden.test", false, T0).unwrap();
    let shown = ["an@beta.test".to_string(), "anna@alpha.test".to_string()];
    assert_eq!(d.link_requests("alpha.test", "anna").unwrap().addresses, shown);
    assert_eq!(d.change_account_email("alpha.test", "anna", "anna@new.example").unwrap().addresses, shown);
    // The owner's own portal off: it is still told of its own people.
    d.set_network("alpha.test", false, T0).unwrap();
    assert_eq!(d.link_requests("alpha.test", "anna").unwrap().addresses, shown);
    // Stored all along: what a portal publishes is not lost.
    assert_eq!(account(d, "alpha.test", "anna").addresses.len(), 3);
}

/// R11: once the owner moves the account to a new e-mail, the old one is free —
/// also after a linked portal's next refresh, which still publishes the old
/// e-mail (the person's entry there keeps its link, to the account); and when that
/// portal takes up the new e-mail, the link stays too.
#[test]
fn an_email_change_holds_through_a_linked_portals_refresh() {
    let f = anna_on_alpha(&["beta.test"]);
    let d = &f.directory;
    publish(d, "beta.test", vec![entry_with_email("an", "Anna Nowak", ANNA)]);
    d.approve_link("alpha.test", "anna", "an@beta.test").unwrap();
    d.change_account_email("alpha.test", "anna", "anna@new.example").unwrap();
    // beta still holds the old e-mail; any change there republishes everyone.
    d.publish(
        "beta.test",
        vec![entry_with_email("an", "Anna Nowak", ANNA), entry("bob", "Bob")],
        vec![],
        true,
    )
    .unwrap();
    let a = account(d, "alpha.test", "anna");
    assert_eq!(a.addresses, ["an@beta.test", "anna@alpha.test"]);
    assert_eq!(d.lookup_email(ANNA).unwrap(), None, "the old e-mail is free");
    assert_eq!(d.lookup_email("anna@new.example").unwrap().unwrap().address, "anna@alpha.test");
    // beta takes up the new e-mail: still linked, no request.
    publish(d, "beta.test", vec![entry_with_email("an", "Anna Nowak", "Anna@New.Example")]);
    let a = account(d, "alpha.test", "anna");
    assert_eq!((a.addresses.len(), a.requests.len()), (2, 0), "{a:?}");
    // And the old e-mail can found a new account (a re-invitation, R11).
    publish(
        d,
        "beta.test",
        vec![
            entry_with_email("an", "Anna Nowak", "Anna@New.Example"),
            entry_with_email("ext", "Anna Ext", ANNA),
        ],
    );
    assert_eq!(d.lookup_email(ANNA).unwrap().unwrap().address, "ext@beta.test");
}
