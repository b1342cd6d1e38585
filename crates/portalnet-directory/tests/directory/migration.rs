//! A directory written before enrolment and consent (format 1 entries and
//! accounts, portals registered first-come) keeps working: its portals stay
//! registered and need no secret, its accounts keep their links and get the first
//! address as owner.

use crate::*;
use portalnet_store::{StoreError, encode};

/// A value as the code before this change wrote it: `[0xB1][version 1][JSON]`.
fn v1(json: serde_json::Value) -> Vec<u8> {
    let mut v = vec![0xB1, 0, 1];
    v.extend_from_slice(json.to_string().as_bytes());
    v
}

/// Writes, as raw format-1 records, alpha and beta (registered, network off),
/// anna@alpha and an@beta linked to one account of `anna@mail.example`.
fn old_directory(db: &Db) -> u64 {
    let portal = |id: &str, k: u8, entries: u32| {
        serde_json::json!({
            "portal_id": id, "endpoint": format!("https://{id}:7443"), "public_key": hex(&[k; 32]),
            "network_enabled": false, "network_enabled_since": null, "registered_at": T0.0,
            "previous_keys": [], "key_rotated_at": null, "entries": entries, "tls_certificate": ""
        })
    };
    let (portals, entries, emails, accounts) = (
        db.tree("dir_portals").unwrap(),
        db.tree("dir_entries").unwrap(),
        db.tree("dir_emails").unwrap(),
        db.tree("dir_accounts").unwrap(),
    );
    db.write(|tx| {
        let id = tx.next_id("dir_accounts")?;
        tx.insert(&portals, b"alpha.test", v1(portal("alpha.test", 1, 1)));
        tx.insert(&portals, b"beta.test", v1(portal("beta.test", 2, 1)));
        for (key, login) in [(&b"alpha.test\0anna"[..], "anna"), (&b"beta.test\0an"[..], "an")] {
            let e = serde_json::json!({
                "display_name": "Anna Nowak", "position": format!("position of {login}"),
                "email": "anna@mail.example", "account": id
            });
            tx.insert(&entries, key, v1(e));
        }
        tx.insert(&emails, b"anna@mail.example", encode(&id)?);
        let a = serde_json::json!({
            "email": "anna@mail.example", "addresses": ["an@beta.test", "anna@alpha.test"]
        });
        tx.insert(&accounts, &id.to_be_bytes(), v1(a));
        Ok::<_, StoreError>(id)
    })
    .unwrap()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn an_old_directory_keeps_its_portals_and_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let db = open_db(dir.path());
    old_directory(&db);
    let d = Directory::open(&db).unwrap();

    // Registered portals stay registered and re-register without a secret.
    assert_eq!(d.portal("alpha.test").unwrap().unwrap().public_key, key(1));
    d.register("alpha.test", "https://alpha.test:7444", key(1), None, T0).unwrap();
    d.set_network("alpha.test", true, T0).unwrap();
    d.set_network("beta.test", true, T0).unwrap();
    assert_eq!(d.entry_count().unwrap(), 2);
    assert_eq!(found(&d, "nowak").len(), 2);

    // Links made before stay; the first address owns the account.
    let a = d.account_of("beta.test", "an").unwrap().unwrap();
    assert_eq!(a.addresses, ["an@beta.test", "anna@alpha.test"]);
    assert_eq!(a.owner, "an@beta.test");
    assert!(a.requests.is_empty());
    assert_eq!(d.lookup_email("ANNA@mail.example").unwrap().unwrap().address, "an@beta.test");
    // Republishing the same people changes nothing.
    publish(&d, "alpha.test", vec![entry_with_email("anna", "Anna Nowak", "anna@mail.example")]);
    assert_eq!(d.account_of("alpha.test", "anna").unwrap().unwrap(), a);

    // The owner's portal changes the e-mail; the other cannot.
    assert!(matches!(
        d.change_account_email("alpha.test", "anna", "x@y.example"),
        Err(Error::PermissionDenied(_))
    ));
    let a = d.change_account_email("beta.test", "an", "anna@new.example").unwrap();
    assert_eq!(a.addresses, ["an@beta.test", "anna@alpha.test"]);
    // alpha's entry keeps the e-mail alpha published; the link is to the account.
    assert_eq!(d.entry("alpha.test", "anna").unwrap().unwrap().email, "anna@mail.example");
    assert_eq!(d.entry("beta.test", "an").unwrap().unwrap().email, "anna@new.example");

    // Written back in the new format, it reads the same after reopening.
    drop(d);
    let d = Directory::open(&db).unwrap();
    assert_eq!(d.account_of("alpha.test", "anna").unwrap().unwrap(), a);
}
