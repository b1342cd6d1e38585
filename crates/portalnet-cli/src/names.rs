//! Lowercase names of the proto enums, used in tables, JSON and arguments.
//!
//! Proto enums arrive as raw `i32`; a value this client does not know (a newer
//! server) is shown as "unknown" rather than rejected.

use portalnet_proto::v1::{
    GroupRole, InvitationState, InvitePolicy, ReportBy, TaskStatus, UserKind, UserState,
};

pub fn status_name(v: i32) -> &'static str {
    match TaskStatus::try_from(v) {
        Ok(TaskStatus::New) => "new",
        Ok(TaskStatus::InProgress) => "in_progress",
        Ok(TaskStatus::AwaitingControl) => "awaiting_control",
        Ok(TaskStatus::Completed) => "completed",
        Ok(TaskStatus::Deferred) => "deferred",
        Ok(TaskStatus::Unspecified) => "unspecified",
        Err(_) => "unknown",
    }
}

pub fn kind_name(v: i32) -> &'static str {
    match UserKind::try_from(v) {
        Ok(UserKind::Employee) => "employee",
        Ok(UserKind::Extranet) => "extranet",
        Ok(UserKind::Unspecified) => "unspecified",
        Err(_) => "unknown",
    }
}

pub fn state_name(v: i32) -> &'static str {
    match UserState::try_from(v) {
        Ok(UserState::Active) => "active",
        Ok(UserState::Dismissed) => "dismissed",
        Ok(UserState::Unspecified) => "unspecified",
        Err(_) => "unknown",
    }
}

pub fn role_name(v: i32) -> &'static str {
    match GroupRole::try_from(v) {
        Ok(GroupRole::Owner) => "owner",
        Ok(GroupRole::Moderator) => "moderator",
        Ok(GroupRole::Member) => "member",
        Ok(GroupRole::Unspecified) => "unspecified",
        Err(_) => "unknown",
    }
}

pub fn invite_policy_name(v: i32) -> &'static str {
    match InvitePolicy::try_from(v) {
        Ok(InvitePolicy::Owner) => "owner",
        Ok(InvitePolicy::Moderators) => "moderators",
        Ok(InvitePolicy::Members) => "members",
        Ok(InvitePolicy::Unspecified) => "unspecified",
        Err(_) => "unknown",
    }
}

pub fn invitation_state_name(v: i32) -> &'static str {
    match InvitationState::try_from(v) {
        Ok(InvitationState::Pending) => "pending",
        Ok(InvitationState::Accepted) => "accepted",
        Ok(InvitationState::Expired) => "expired",
        Ok(InvitationState::Revoked) => "revoked",
        Ok(InvitationState::Unspecified) => "unspecified",
        Err(_) => "unknown",
    }
}

pub fn report_by_name(v: i32) -> &'static str {
    match ReportBy::try_from(v) {
        Ok(ReportBy::Responsible) => "responsible",
        Ok(ReportBy::Status) => "status",
        Ok(ReportBy::Group) => "group",
        Ok(ReportBy::Unspecified) => "unspecified",
        Err(_) => "unknown",
    }
}

/// Parses a task status as typed by a person: `in_progress`, `in-progress`,
/// `IN_PROGRESS` and `in progress` all mean the same.
pub fn parse_status(s: &str) -> Result<TaskStatus, String> {
    let norm: String =
        s.trim().chars().map(|c| if c == '-' || c == ' ' { '_' } else { c.to_ascii_lowercase() }).collect();
    match norm.as_str() {
        "new" => Ok(TaskStatus::New),
        "in_progress" => Ok(TaskStatus::InProgress),
        "awaiting_control" => Ok(TaskStatus::AwaitingControl),
        "completed" => Ok(TaskStatus::Completed),
        "deferred" => Ok(TaskStatus::Deferred),
        _ => Err(format!(
            "unknown status '{s}'; expected one of: new, in_progress, awaiting_control, completed, deferred"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_parse_in_several_spellings() {
        assert_eq!(parse_status("new"), Ok(TaskStatus::New));
        assert_eq!(parse_status("in_progress"), Ok(TaskStatus::InProgress));
        assert_eq!(parse_status("in-progress"), Ok(TaskStatus::InProgress));
        assert_eq!(parse_status("IN_PROGRESS"), Ok(TaskStatus::InProgress));
        assert_eq!(parse_status("awaiting-control"), Ok(TaskStatus::AwaitingControl));
        assert_eq!(parse_status("Completed"), Ok(TaskStatus::Completed));
        assert_eq!(parse_status("deferred"), Ok(TaskStatus::Deferred));
    }

    #[test]
    fn bad_statuses_are_rejected() {
        for bad in ["", "done", "unspecified", "in__progress", "inprogress"] {
            assert!(parse_status(bad).is_err(), "{bad:?}");
        }
        assert!(parse_status("done").unwrap_err().contains("in_progress"));
    }

    #[test]
    fn names_round_trip_through_the_parser() {
        for s in [
            TaskStatus::New,
            TaskStatus::InProgress,
            TaskStatus::AwaitingControl,
            TaskStatus::Completed,
            TaskStatus::Deferred,
        ] {
            assert_eq!(parse_status(status_name(s as i32)), Ok(s));
        }
        assert_eq!(status_name(99), "unknown");
        assert_eq!(role_name(GroupRole::Moderator as i32), "moderator");
        assert_eq!(kind_name(UserKind::Employee as i32), "employee");
        assert_eq!(state_name(UserState::Active as i32), "active");
    }

    #[test]
    fn extranet_enum_names() {
        assert_eq!(invite_policy_name(InvitePolicy::Owner as i32), "owner");
        assert_eq!(invite_policy_name(InvitePolicy::Moderators as i32), "moderators");
        assert_eq!(invite_policy_name(InvitePolicy::Members as i32), "members");
        assert_eq!(invite_policy_name(0), "unspecified");
        assert_eq!(invite_policy_name(42), "unknown");
        assert_eq!(invitation_state_name(InvitationState::Pending as i32), "pending");
        assert_eq!(invitation_state_name(InvitationState::Accepted as i32), "accepted");
        assert_eq!(invitation_state_name(InvitationState::Expired as i32), "expired");
        assert_eq!(invitation_state_name(InvitationState::Revoked as i32), "revoked");
        assert_eq!(invitation_state_name(9), "unknown");
        assert_eq!(kind_name(UserKind::Extranet as i32), "extranet");
    }
}
