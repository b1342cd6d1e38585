//! Portal users. Employees (intranet) for now; extranet users arrive with R1–R12.

use crate::error::Result;
use crate::time::Timestamp;
use crate::validate;
use portalnet_i18n::Lang;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserKind {
    Employee,
    Extranet,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserState {
    Active,
    Dismissed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub login: String,
    pub display_name: String,
    pub email: String,
    #[serde(default)]
    pub position: String,
    pub kind: UserKind,
    pub state: UserState,
    /// Portal administrator: manages users and tokens and may see every task.
    #[serde(default)]
    pub admin: bool,
    pub created_at: Timestamp,
    /// The language the person reads: refusals to them; none means the portal's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<Lang>,
}

impl User {
    pub fn is_active(&self) -> bool {
        self.state == UserState::Active
    }
}

/// A validated request to add an employee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub login: String,
    pub display_name: String,
    pub email: String,
    pub position: String,
    pub admin: bool,
    /// None: the portal's language.
    pub language: Option<Lang>,
}

impl NewUser {
    pub fn new(login: &str, display_name: &str, email: &str, position: &str, admin: bool) -> Result<Self> {
        Ok(Self {
            login: validate::login("login", login)?,
            display_name: validate::name("display name", display_name)?,
            email: validate::email("email", email)?,
            position: validate::optional_line("position", position, validate::MAX_NAME_CHARS)?,
            admin,
            language: None,
        })
    }

    /// The person reads `language` (None: the portal's).
    pub fn with_language(self, language: Option<Lang>) -> Self {
        Self { language, ..self }
    }

    pub fn into_user(self, now: Timestamp) -> User {
        User {
            login: self.login,
            display_name: self.display_name,
            email: self.email,
            position: self.position,
            kind: UserKind::Employee,
            state: UserState::Active,
            admin: self.admin,
            created_at: now,
            language: self.language,
        }
    }
}
