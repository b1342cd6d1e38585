//! Invitations of external people into a portal (R1–R6, R11): a single-use token
//! (only its hash is kept), an expiry, and a state.

use crate::error::{Error, Result, text};
use crate::group::GroupId;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationState {
    Pending,
    Accepted,
    /// Not stored: a pending invitation past its expiry reads as expired.
    Expired,
    Revoked,
}

impl InvitationState {
    pub fn name(self) -> &'static str {
        match self {
            InvitationState::Pending => "pending",
            InvitationState::Accepted => "accepted",
            InvitationState::Expired => "expired",
            InvitationState::Revoked => "revoked",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    pub id: u64,
    /// As the inviter typed it.
    pub email: String,
    pub group: GroupId,
    pub inviter: String,
    /// SHA-256 (hex) of the current token; a resend replaces it.
    pub token_hash: String,
    pub state: InvitationState,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// False under R6: the person joins the portal but not the group.
    pub admits_to_group: bool,
    #[serde(default)]
    pub accepted_login: Option<String>,
    /// The invitee's language, chosen by the inviter: the invitation's e-mail and
    /// page, and the user it makes. None: the portal's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<portalnet_i18n::Lang>,
}

impl Invitation {
    /// The state as of `now` (pending turns into expired).
    pub fn state_at(&self, now: Timestamp) -> InvitationState {
        match self.state {
            InvitationState::Pending if now >= self.expires_at => InvitationState::Expired,
            s => s,
        }
    }

    /// Whether the invitation can still be accepted; the error says why not.
    pub fn check_acceptable(&self, now: Timestamp) -> Result<()> {
        match self.state_at(now) {
            InvitationState::Pending => Ok(()),
            InvitationState::Accepted => Err(Error::precondition(text!("error-invitation-used"))),
            InvitationState::Expired => Err(Error::precondition(text!("error-invitation-expired"))),
            InvitationState::Revoked => Err(Error::precondition(text!("error-invitation-withdrawn"))),
        }
    }

    /// A new token and expiry (resend). Accepted and revoked invitations stay as
    /// they are.
    pub fn renew(&mut self, token_hash: String, now: Timestamp, ttl_ms: i64) -> Result<()> {
        match self.state {
            InvitationState::Accepted => {
                Err(Error::precondition(text!("error-invitation-accepted", id = self.id)))
            }
            InvitationState::Revoked => {
                Err(Error::precondition(text!("error-invitation-revoked", id = self.id)))
            }
            _ => {
                self.token_hash = token_hash;
                self.state = InvitationState::Pending;
                self.expires_at = now.plus_millis(ttl_ms);
                Ok(())
            }
        }
    }

    pub fn revoke(&mut self, now: Timestamp) -> Result<()> {
        match self.state_at(now) {
            InvitationState::Pending | InvitationState::Expired => {
                self.state = InvitationState::Revoked;
                Ok(())
            }
            s => Err(Error::precondition(text!(
                "error-invitation-not-pending",
                id = self.id,
                state = s.name()
            ))),
        }
    }
}

/// A login for a new user from their e-mail address: the local part, lower-cased,
/// reduced to `a-z 0-9 . _ -`, starting with a letter, at most 32 characters; `taken`
/// says which logins exist, and a number is appended until it is free.
pub fn login_from_email(email: &str, taken: impl Fn(&str) -> bool) -> String {
    let local = email.split('@').next().unwrap_or_default().to_lowercase();
    let mut base: String = local
        .chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' | '.' | '_' | '-' => c,
            _ => '.',
        })
        .collect();
    base = base.trim_matches(|c| c == '.' || c == '_' || c == '-').to_string();
    if !base.starts_with(|c: char| c.is_ascii_lowercase()) {
        base = format!("x{base}");
    }
    base.truncate(28);
    while base.len() < 2 {
        base.push('x');
    }
    if !taken(&base) {
        return base;
    }
    (2u32..).map(|n| format!("{base}{n}")).find(|l| !taken(l)).unwrap_or(base)
}

/// The plan's seat limit (R8): employees and extranet users together. 0 means no limit.
pub fn check_seat(seats: u32, used: usize) -> Result<()> {
    if seats > 0 && used >= seats as usize {
        return Err(Error::precondition(text!("error-seats-full", seats = seats, used = used)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inv() -> Invitation {
        Invitation {
            id: 1,
            email: "x@y.z".into(),
            group: 1,
            inviter: "a".into(),
            token_hash: "h".into(),
            state: InvitationState::Pending,
            created_at: Timestamp(0),
            expires_at: Timestamp(100),
            admits_to_group: true,
            accepted_login: None,
            language: None,
        }
    }

    #[test]
    fn expiry_and_states() {
        let mut i = inv();
        assert!(i.check_acceptable(Timestamp(99)).is_ok());
        assert_eq!(i.state_at(Timestamp(100)), InvitationState::Expired);
        assert!(i.check_acceptable(Timestamp(100)).unwrap_err().to_string().contains("expired"));
        i.renew("h2".into(), Timestamp(150), 100).unwrap();
        assert_eq!((i.token_hash.as_str(), i.expires_at), ("h2", Timestamp(250)));
        i.revoke(Timestamp(160)).unwrap();
        assert!(i.check_acceptable(Timestamp(160)).unwrap_err().to_string().contains("withdrawn"));
        assert!(i.renew("h3".into(), Timestamp(170), 100).is_err());
        let mut a = inv();
        a.state = InvitationState::Accepted;
        assert!(a.check_acceptable(Timestamp(1)).unwrap_err().to_string().contains("already been used"));
        assert!(a.revoke(Timestamp(1)).is_err());
    }

    #[test]
    fn logins_from_addresses() {
        let none = |_: &str| false;
        assert_eq!(login_from_email("Jan.Kowalski@Firma.PL", none), "jan.kowalski");
        assert_eq!(login_from_email("łukasz@x.pl", none), "ukasz");
        assert_eq!(login_from_email("антон@x.ru", none), "xx");
        assert_eq!(login_from_email("1st@x.io", none), "x1st");
        assert_eq!(login_from_email("a+b@x.io", none), "a.b");
        let taken = |l: &str| l == "anna" || l == "anna2";
        assert_eq!(login_from_email("anna@x.io", taken), "anna3");
        for e in ["", "@", "a@", "......@x", &format!("{}@x.io", "q".repeat(80))] {
            let l = login_from_email(e, none);
            assert!(crate::validate::login("login", &l).is_ok(), "{e:?} gave {l:?}");
        }
    }

    #[test]
    fn seats() {
        assert!(check_seat(0, 10_000).is_ok());
        assert!(check_seat(3, 2).is_ok());
        let e = check_seat(3, 3).unwrap_err().to_string();
        assert!(e.contains("allows 3") && e.contains("3 are active"), "{e}");
    }
}
