//! Task participants across portals (R16, R17): a participant is a local login
//! (`anna`) or a person of another portal, `login@portal-id` (`jan@beta.test`).
//!
//! A person without a portal takes part by e-mail (R21, R23): `mailto:joe@example.com`.
//! The prefix is required, because `joe@example.com` reads as a person of portal
//! `example.com`; e-mail participants belong to no portal and are the same string
//! everywhere. Their address is kept lowercased, so one person is one participant.
//!
//! Each portal stores participants in its own terms: its own people bare, everyone
//! else qualified. Events between portals carry every participant qualified, so
//! their bytes mean the same on every portal ([`qualify`], [`localize`]).

use crate::error::{Error, Result};
use crate::quote::quote;
use crate::task::{Change, Comment, Task};
use crate::validate;
use std::collections::BTreeSet;

/// The prefix of an e-mail participant.
pub const EMAIL_PREFIX: &str = "mailto:";

/// The address of an e-mail participant (`mailto:joe@x.org` → `joe@x.org`).
pub fn email_of(p: &str) -> Option<&str> {
    p.strip_prefix(EMAIL_PREFIX)
}

pub fn is_email(p: &str) -> bool {
    email_of(p).is_some()
}

/// The participant string for an e-mail address (lowercased).
pub fn email_participant(email: &str) -> String {
    format!("{EMAIL_PREFIX}{}", validate::email_key(email))
}

/// Splits `login@portal` into its parts; a bare login, and an e-mail participant,
/// have no portal.
pub fn split(p: &str) -> (&str, Option<&str>) {
    if is_email(p) {
        return (p, None);
    }
    match p.split_once('@') {
        Some((l, portal)) => (l, Some(portal)),
        None => (p, None),
    }
}

/// Validates a participant: a login, `login@portal` with a valid portal id, or
/// `mailto:` and an e-mail address.
pub fn participant(field: &str, value: &str) -> Result<String> {
    let v = value.trim();
    if let Some(email) = strip_email_prefix(v) {
        let email = validate::email(field, email)?;
        return Ok(email_participant(&email));
    }
    match v.split_once('@') {
        None => validate::login(field, v),
        Some((login, portal)) => {
            let login = validate::login(field, login)?;
            let portal = validate::portal_id(portal).map_err(|_| {
                let v = quote(v);
                Error::invalid(crate::error::text!("error-bad-address", field = field, value = v))
            })?;
            Ok(format!("{login}@{portal}"))
        }
    }
}

/// What follows a `mailto:` prefix in any letter case. Compared as bytes through
/// `get`, so a value whose 7th byte falls inside a letter (`łłłł`) is simply not
/// an e-mail participant.
fn strip_email_prefix(v: &str) -> Option<&str> {
    let n = EMAIL_PREFIX.len();
    v.get(..n).filter(|p| p.eq_ignore_ascii_case(EMAIL_PREFIX)).and_then(|_| v.get(n..))
}

/// The participant as every portal names it: `login@portal`.
pub fn qualify(p: &str, home: &str) -> String {
    if p.contains('@') { p.to_string() } else { format!("{p}@{home}") }
}

/// The participant as portal `me` stores it: its own people bare. Portal ids are
/// DNS-like names, so the letter case of either side does not matter.
pub fn localize(p: &str, me: &str) -> String {
    match split(p) {
        (login, Some(portal)) if portal.eq_ignore_ascii_case(me) => login.to_string(),
        _ => p.to_string(),
    }
}

/// The portal a stored participant belongs to, `me` for a bare login.
pub fn portal_of<'a>(p: &'a str, me: &'a str) -> &'a str {
    split(p).1.unwrap_or(me)
}

/// Portals other than `me` with a participant in `task`.
pub fn remote_portals(task: &Task, me: &str) -> BTreeSet<String> {
    task.participants()
        .into_iter()
        .filter_map(|p| split(p).1)
        .filter(|portal| *portal != me)
        .map(str::to_string)
        .collect()
}

/// Whether portal `portal` has a participant in a task stored by portal `me`
/// (e-mail participants belong to no portal).
pub fn has_participant_of(task: &Task, me: &str, portal: &str) -> bool {
    task.participants().into_iter().any(|p| !is_email(p) && portal_of(p, me) == portal)
}

/// The e-mail participants of a task, as participant strings, without repeats.
pub fn email_participants(task: &Task) -> Vec<&str> {
    task.participants().into_iter().filter(|p| is_email(p)).collect()
}

/// Rewrites every participant of a task, comment or change with `f`.
fn map_task(task: &Task, f: impl Fn(&str) -> String) -> Task {
    let mut t = task.clone();
    t.creator = f(&t.creator);
    t.responsible = f(&t.responsible);
    t.accomplices = t.accomplices.iter().map(|p| f(p)).collect();
    t.observers = t.observers.iter().map(|p| f(p)).collect();
    for file in &mut t.files {
        file.uploaded_by = f(&file.uploaded_by);
    }
    t
}

fn map_change(change: &Change, f: impl Fn(&str) -> String) -> Change {
    match change {
        Change::Created { title, responsible } => {
            Change::Created { title: title.clone(), responsible: f(responsible) }
        }
        Change::Updated { fields } => Change::Updated {
            fields: fields
                .iter()
                .map(|fc| {
                    let mut fc = fc.clone();
                    if matches!(fc.field.as_str(), "responsible" | "accomplices" | "observers") {
                        let list = |s: &str| {
                            s.split(',').filter(|x| !x.is_empty()).map(&f).collect::<Vec<_>>().join(",")
                        };
                        fc.from = list(&fc.from);
                        fc.to = list(&fc.to);
                    }
                    fc
                })
                .collect(),
        },
        other => other.clone(),
    }
}

pub fn qualify_task(task: &Task, home: &str) -> Task {
    map_task(task, |p| qualify(p, home))
}

pub fn localize_task(task: &Task, me: &str) -> Task {
    map_task(task, |p| localize(p, me))
}

pub fn qualify_change(change: &Change, home: &str) -> Change {
    map_change(change, |p| qualify(p, home))
}

pub fn localize_change(change: &Change, me: &str) -> Change {
    map_change(change, |p| localize(p, me))
}

pub fn qualify_comment(c: &Comment, home: &str) -> Comment {
    Comment { author: qualify(&c.author, home), ..c.clone() }
}

pub fn localize_comment(c: &Comment, me: &str) -> Comment {
    Comment { author: localize(&c.author, me), ..c.clone() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::{FieldChange, TaskStatus};
    use crate::time::Timestamp;

    fn task() -> Task {
        Task {
            id: 7,
            home: None,
            title: "t".into(),
            description: String::new(),
            creator: "anna".into(),
            responsible: "jan@beta.test".into(),
            accomplices: vec!["olga@gamma.test".into()],
            observers: vec!["piotr".into()],
            status: TaskStatus::New,
            deadline: None,
            group: None,
            created_at: Timestamp(1),
            updated_at: Timestamp(1),
            version: 1,
            files: vec![],
            comment_count: 0,
        }
    }

    #[test]
    fn participants_validate() {
        assert_eq!(participant("responsible", " jan@Beta.Test ").unwrap(), "jan@beta.test");
        assert_eq!(participant("responsible", "jan").unwrap(), "jan");
        let e = participant("responsible", "jan@nodot").unwrap_err().to_string();
        assert!(e.contains("login@portal"), "{e}");
        assert!(participant("responsible", "Jan@beta.test").is_err());
        assert!(participant("responsible", "@beta.test").is_err());
    }

    /// R21, R23: e-mail participants need the prefix, are lowercased, belong to no
    /// portal, and are the same string on every portal.
    #[test]
    fn email_participants_have_no_portal() {
        assert_eq!(participant("responsible", "MailTo:Joe@Example.COM").unwrap(), "mailto:joe@example.com");
        let e = participant("observers", "mailto:not an address").unwrap_err().to_string();
        assert!(e.contains("not an e-mail address"), "{e}");
        assert_eq!(
            participant("responsible", "joe@example.com").unwrap(),
            "joe@example.com",
            "a portal person"
        );
        let mut t = task();
        t.observers.push("mailto:joe@example.com".into());
        assert_eq!(split("mailto:joe@example.com"), ("mailto:joe@example.com", None));
        assert_eq!(qualify("mailto:joe@example.com", "alpha.test"), "mailto:joe@example.com");
        assert_eq!(localize("mailto:joe@example.com", "example.com"), "mailto:joe@example.com");
        assert!(!remote_portals(&t, "alpha.test").contains("example.com"));
        let mut only_mail = task();
        only_mail.responsible = "mailto:joe@example.com".into();
        only_mail.creator = "anna@alpha.test".into();
        only_mail.accomplices.clear();
        only_mail.observers.clear();
        assert!(!has_participant_of(&only_mail, "beta.test", "beta.test"));
        assert_eq!(super::email_participants(&t), vec!["mailto:joe@example.com"]);
    }

    #[test]
    fn qualify_and_localize_round_trip() {
        let t = task();
        let q = qualify_task(&t, "alpha.test");
        assert_eq!(q.creator, "anna@alpha.test");
        assert_eq!(q.observers, vec!["piotr@alpha.test"]);
        let on_beta = localize_task(&q, "beta.test");
        assert_eq!(on_beta.responsible, "jan");
        assert_eq!(on_beta.creator, "anna@alpha.test");
        assert_eq!(localize_task(&q, "alpha.test"), t);
        assert_eq!(localize("piotr@Alpha.Test", "alpha.test"), "piotr");
        assert_eq!(
            remote_portals(&t, "alpha.test").into_iter().collect::<Vec<_>>(),
            vec!["beta.test", "gamma.test"]
        );
        assert!(has_participant_of(&on_beta, "beta.test", "beta.test"));
        assert!(!has_participant_of(&t, "alpha.test", "delta.test"));
    }

    #[test]
    fn changes_are_rewritten_field_by_field() {
        let c = Change::Updated {
            fields: vec![
                FieldChange {
                    field: "observers".into(),
                    from: "piotr".into(),
                    to: "piotr,jan@beta.test".into(),
                },
                FieldChange { field: "title".into(), from: "a@b".into(), to: "c".into() },
            ],
        };
        let q = qualify_change(&c, "alpha.test");
        let Change::Updated { fields } = &q else { unreachable!() };
        assert_eq!(fields[0].to, "piotr@alpha.test,jan@beta.test");
        assert_eq!(fields[1].from, "a@b", "non-participant fields are left alone");
        assert_eq!(localize_change(&q, "alpha.test"), c);
    }
}
