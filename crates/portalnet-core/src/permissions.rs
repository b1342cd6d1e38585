//! Who may do what with a task. One function, [`authorize`], decides every case; the
//! table in the tests below is the specification:
//!
//! * **see** a task: its creator, responsible person, co-executors (accomplices),
//!   observers, members of the task's group, and portal admins. Anyone else sees
//!   nothing — the node answers `NotFound`, so task ids do not leak.
//! * **edit** (title, description, deadline, participants, group): creator and admins.
//! * **change status**: the creator and admins freely; the responsible person along
//!   the working path (start, hand over for control, defer, resume) but not to
//!   `completed` nor out of it — accepting and reopening is the creator's call.
//! * **comment**: every participant (creator, responsible, accomplice, observer) and
//!   admins; group members who take no part may read but not comment.
//! * **attach files**: creator, responsible, accomplices and admins.

use crate::error::{Error, Result, Text, text};
use crate::task::{Task, TaskStatus};
use crate::user::UserKind;

/// The user a request acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub login: String,
    pub admin: bool,
    pub kind: UserKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    View,
    Edit,
    SetStatus(TaskStatus),
    Comment,
    Attach,
}

/// How the actor relates to one task.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Relation {
    pub creator: bool,
    pub responsible: bool,
    pub accomplice: bool,
    pub observer: bool,
    pub group_member: bool,
    pub admin: bool,
}

impl Relation {
    /// `in_group` says whether the actor belongs to the task's group (the caller
    /// looks the group up; this module does no IO).
    pub fn of(actor: &Actor, task: &Task, in_group: bool) -> Self {
        let l = actor.login.as_str();
        Self {
            creator: task.creator == l,
            responsible: task.responsible == l,
            accomplice: task.accomplices.iter().any(|a| a == l),
            observer: task.observers.iter().any(|o| o == l),
            group_member: in_group,
            admin: actor.admin,
        }
    }

    fn participant(&self) -> bool {
        self.creator || self.responsible || self.accomplice || self.observer
    }
}

/// Decides whether an actor in `rel` may do `action` on a task in status `current`.
pub fn authorize(rel: Relation, action: Action, task_id: u64, current: TaskStatus) -> Result<()> {
    if !(rel.participant() || rel.group_member || rel.admin) {
        // Not even visible: say "not found" rather than "denied".
        return Err(Error::not_found(text!("error-task-not-found", task = task_id)));
    }
    let ok = match action {
        Action::View => true,
        Action::Edit => rel.creator || rel.admin,
        Action::Comment => rel.participant() || rel.admin,
        Action::Attach => rel.creator || rel.responsible || rel.accomplice || rel.admin,
        Action::SetStatus(to) => {
            if to == current {
                return Err(Error::precondition(text!(
                    "error-task-already",
                    task = task_id,
                    status = current.name()
                )));
            }
            rel.creator || rel.admin || (rel.responsible && responsible_may(current, to))
        }
    };
    if ok {
        return Ok(());
    }
    Err(Error::denied(match action {
        Action::View => Text::plain(""), // always allowed above
        Action::Edit => text!("error-edit-denied", task = task_id),
        Action::Comment => text!("error-comment-denied", task = task_id),
        Action::Attach => text!("error-attach-denied", task = task_id),
        Action::SetStatus(to) if rel.responsible => {
            text!("error-status-path", task = task_id, from = current.name(), to = to.name())
        }
        Action::SetStatus(_) => text!("error-status-denied", task = task_id),
    }))
}

/// The working path of the responsible person.
fn responsible_may(from: TaskStatus, to: TaskStatus) -> bool {
    use TaskStatus::*;
    match to {
        InProgress => matches!(from, New | Deferred | AwaitingControl),
        AwaitingControl | Deferred => matches!(from, New | InProgress),
        New | Completed => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TaskStatus::*;

    fn rel(who: &str) -> Relation {
        let mut r = Relation::default();
        match who {
            "creator" => r.creator = true,
            "responsible" => r.responsible = true,
            "accomplice" => r.accomplice = true,
            "observer" => r.observer = true,
            "group" => r.group_member = true,
            "admin" => r.admin = true,
            "outsider" => {}
            _ => panic!("unknown relation {who}"),
        }
        r
    }

    /// The permission table. `Y` allowed, `D` PermissionDenied, `N` NotFound,
    /// `P` FailedPrecondition.
    #[test]
    fn permission_table() {
        let table: &[(&str, Action, TaskStatus, char)] = &[
            // view
            ("creator", Action::View, New, 'Y'),
            ("responsible", Action::View, New, 'Y'),
            ("accomplice", Action::View, New, 'Y'),
            ("observer", Action::View, New, 'Y'),
            ("group", Action::View, New, 'Y'),
            ("admin", Action::View, New, 'Y'),
            ("outsider", Action::View, New, 'N'),
            // edit
            ("creator", Action::Edit, InProgress, 'Y'),
            ("admin", Action::Edit, InProgress, 'Y'),
            ("responsible", Action::Edit, InProgress, 'D'),
            ("accomplice", Action::Edit, InProgress, 'D'),
            ("observer", Action::Edit, InProgress, 'D'),
            ("group", Action::Edit, InProgress, 'D'),
            ("outsider", Action::Edit, InProgress, 'N'),
            // comment
            ("creator", Action::Comment, New, 'Y'),
            ("responsible", Action::Comment, New, 'Y'),
            ("accomplice", Action::Comment, New, 'Y'),
            ("observer", Action::Comment, New, 'Y'),
            ("admin", Action::Comment, New, 'Y'),
            ("group", Action::Comment, New, 'D'),
            ("outsider", Action::Comment, New, 'N'),
            // attach
            ("creator", Action::Attach, New, 'Y'),
            ("responsible", Action::Attach, New, 'Y'),
            ("accomplice", Action::Attach, New, 'Y'),
            ("admin", Action::Attach, New, 'Y'),
            ("observer", Action::Attach, New, 'D'),
            ("group", Action::Attach, New, 'D'),
            ("outsider", Action::Attach, New, 'N'),
            // status: responsible's working path
            ("responsible", Action::SetStatus(InProgress), New, 'Y'),
            ("responsible", Action::SetStatus(AwaitingControl), InProgress, 'Y'),
            ("responsible", Action::SetStatus(Deferred), InProgress, 'Y'),
            ("responsible", Action::SetStatus(InProgress), Deferred, 'Y'),
            ("responsible", Action::SetStatus(InProgress), AwaitingControl, 'Y'),
            ("responsible", Action::SetStatus(Completed), InProgress, 'D'),
            ("responsible", Action::SetStatus(New), InProgress, 'D'),
            ("responsible", Action::SetStatus(InProgress), Completed, 'D'),
            ("responsible", Action::SetStatus(InProgress), InProgress, 'P'),
            // status: the creator accepts, returns, reopens
            ("creator", Action::SetStatus(Completed), AwaitingControl, 'Y'),
            ("creator", Action::SetStatus(InProgress), AwaitingControl, 'Y'),
            ("creator", Action::SetStatus(New), Completed, 'Y'),
            ("creator", Action::SetStatus(Completed), Completed, 'P'),
            ("admin", Action::SetStatus(Completed), New, 'Y'),
            // status: nobody else
            ("accomplice", Action::SetStatus(InProgress), New, 'D'),
            ("observer", Action::SetStatus(InProgress), New, 'D'),
            ("group", Action::SetStatus(InProgress), New, 'D'),
            ("outsider", Action::SetStatus(InProgress), New, 'N'),
        ];
        for (who, action, current, want) in table {
            let got = match authorize(rel(who), *action, 7, *current) {
                Ok(()) => 'Y',
                Err(Error::PermissionDenied(_)) => 'D',
                Err(Error::NotFound(_)) => 'N',
                Err(Error::FailedPrecondition(_)) => 'P',
                Err(e) => panic!("unexpected {e:?}"),
            };
            assert_eq!(got, *want, "{who} {action:?} from {current:?}");
        }
    }

    #[test]
    fn messages_say_what_to_do() {
        let e = authorize(rel("responsible"), Action::SetStatus(Completed), 7, InProgress).unwrap_err();
        assert!(e.to_string().contains("ask the creator"), "{e}");
        let e = authorize(rel("outsider"), Action::View, 7, New).unwrap_err();
        assert_eq!(e.to_string(), "task 7 not found");
    }
}
