//! What the directory stores, the keys it stores them under, and what it answers.

use portalnet_core::time::Timestamp;
use portalnet_store::{Key, Record};
use serde::{Deserialize, Serialize};

/// A registered portal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalRecord {
    pub portal_id: String,
    pub endpoint: String,
    /// The Ed25519 public key its requests are signed with (hex in storage).
    #[serde(with = "hex_key")]
    pub public_key: [u8; 32],
    /// Network communication for all users of the portal (R13).
    pub network_enabled: bool,
    /// When it was last switched on (R15); `None` while off.
    pub network_enabled_since: Option<Timestamp>,
    pub registered_at: Timestamp,
    /// Keys used before the current one, oldest first.
    #[serde(with = "hex_keys", default)]
    pub previous_keys: Vec<[u8; 32]>,
    /// When the key was last rotated.
    #[serde(default)]
    pub key_rotated_at: Option<Timestamp>,
    /// Entries the portal has published and not removed.
    #[serde(default)]
    pub entries: u32,
    /// PEM of the portal's TLS certificate; other portals pin it.
    #[serde(default)]
    pub tls_certificate: String,
}

/// One person as their portal publishes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub login: String,
    pub display_name: String,
    pub position: String,
    /// Used for exact lookup and the Network account only; never returned.
    pub email: String,
}

/// A search result. Never carries the e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub display_name: String,
    pub position: String,
    pub portal_id: String,
    /// `login@portal_id`.
    pub address: String,
}

/// A Network account: a person's global identity (R11), owning one e-mail address
/// that is unique across the directory, and the addresses (`login@portal`) linked
/// to it, sorted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub email: String,
    pub addresses: Vec<String>,
    /// The address whose portal speaks for the account: it changes the e-mail and
    /// approves link requests.
    pub owner: String,
    /// Addresses of other portals published with the account's e-mail, waiting
    /// for the owner's approval (sorted).
    pub requests: Vec<String>,
}

/// A one-time enrolment secret for one portal id, stored under the SHA-256 of the
/// secret (hex); the secret itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolment {
    pub portal_id: String,
    pub secret_sha256: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// When a registration used it; a used secret is refused.
    pub used_at: Option<Timestamp>,
}

/// A stored entry, under [`EntryKey`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct EntryRecord {
    pub display_name: String,
    pub position: String,
    pub email: String,
    /// The Network account the entry is linked to; `None` while its e-mail belongs
    /// to an account that has not approved it (format 2; format 1 always linked).
    pub account: Option<u64>,
}

/// A stored account, under its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AccountRecord {
    pub email: String,
    pub addresses: Vec<String>,
    /// Format 2: the address whose portal speaks for the account (format 1: the
    /// first address, see `migrate`).
    pub owner: String,
    /// Format 2: addresses of other portals asking to be linked, sorted.
    #[serde(default)]
    pub requests: Vec<String>,
}

impl AccountRecord {
    /// A new account of `email`, founded by `addr`: its one address and owner.
    pub fn founded(email: &str, addr: &str) -> Self {
        Self {
            email: email.to_string(),
            addresses: vec![addr.to_string()],
            owner: addr.to_string(),
            requests: Vec::new(),
        }
    }

    pub fn view(&self) -> Account {
        self.view_where(|_| true)
    }

    /// The account with only the addresses and requests `shown` keeps (the owner
    /// is always named: only its own portal is answered with this view).
    pub fn view_where(&self, mut shown: impl FnMut(&str) -> bool) -> Account {
        let mut keep = |list: &[String]| list.iter().filter(|a| shown(a)).cloned().collect();
        Account {
            email: self.email.clone(),
            addresses: keep(&self.addresses),
            owner: self.owner.clone(),
            requests: keep(&self.requests),
        }
    }
}

/// What the name index holds of a stored entry, read without the rest
/// (building the index at start, or when a portal's network is switched on).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct EntryShown {
    pub display_name: String,
    #[serde(default)]
    pub position: String,
}

impl Record for PortalRecord {
    const NAME: &'static str = "directory portal";
    const VERSION: u16 = 1;
}
impl Record for EntryRecord {
    const NAME: &'static str = "directory entry";
    /// 2: `account` may be null (an unapproved entry).
    const VERSION: u16 = 2;

    /// Format 1 always had an account id, which reads as `Some` unchanged.
    fn migrate(from: u16, value: serde_json::Value) -> Result<serde_json::Value, String> {
        match from {
            1 => Ok(value),
            _ => Err(format!("no migration from format version {from}")),
        }
    }
}
impl Record for AccountRecord {
    const NAME: &'static str = "network account";
    /// 2: `owner` and `requests` (consent to link, R11).
    const VERSION: u16 = 2;

    /// Format 1 accounts had no owner: the first address (sorted) becomes it, so
    /// accounts built before consent keep their links and one portal to speak for
    /// them.
    fn migrate(from: u16, mut value: serde_json::Value) -> Result<serde_json::Value, String> {
        if from != 1 {
            return Err(format!("no migration from format version {from}"));
        }
        let obj = value.as_object_mut().ok_or("a format 1 account is not a JSON object")?;
        let first = obj
            .get("addresses")
            .and_then(|a| a.as_array())
            .and_then(|a| a.first())
            .and_then(|a| a.as_str())
            .unwrap_or_default()
            .to_string();
        obj.insert("owner".into(), serde_json::Value::String(first));
        obj.insert("requests".into(), serde_json::Value::Array(Vec::new()));
        Ok(value)
    }
}
impl Record for Enrolment {
    const NAME: &'static str = "portal enrolment";
    const VERSION: u16 = 1;
}
impl Record for EntryShown {
    const NAME: &'static str = "directory entry";
    const VERSION: u16 = EntryRecord::VERSION;

    /// Every format has the display name.
    fn migrate(_from: u16, value: serde_json::Value) -> Result<serde_json::Value, String> {
        Ok(value)
    }
}

/// An entry's key: `portal ‖ 0x00 ‖ login`, so one portal's entries are one prefix.
/// Portal ids and logins are validated and never contain 0x00.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct EntryKey {
    pub portal: String,
    pub login: String,
}

impl EntryKey {
    pub fn new(portal: &str, login: &str) -> Self {
        Self { portal: portal.to_string(), login: login.to_string() }
    }

    /// The key prefix of every entry of `portal`.
    pub fn portal_prefix(portal: &str) -> Vec<u8> {
        let mut k = portal.as_bytes().to_vec();
        k.push(0);
        k
    }

    pub fn address(&self) -> String {
        address(&self.login, &self.portal)
    }
}

impl Key for EntryKey {
    fn to_bytes(&self) -> Vec<u8> {
        let mut k = Self::portal_prefix(&self.portal);
        k.extend_from_slice(self.login.as_bytes());
        k
    }
    fn from_bytes(b: &[u8]) -> Option<Self> {
        let (portal, login) = split_zero(b)?;
        Some(Self { portal: utf8(portal)?, login: utf8(login)? })
    }
}

pub(crate) fn address(login: &str, portal: &str) -> String {
    format!("{login}@{portal}")
}

fn split_zero(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let i = b.iter().position(|&x| x == 0)?;
    Some((&b[..i], &b[i + 1..]))
}

fn as_str(b: &[u8]) -> Option<&str> {
    std::str::from_utf8(b).ok()
}

fn utf8(b: &[u8]) -> Option<String> {
    as_str(b).map(str::to_string)
}

pub(crate) fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

pub(crate) fn key_from_hex(s: &str) -> Option<[u8; 32]> {
    let b = s.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let nibble = |c: u8| char::from(c).to_digit(16).and_then(|d| u8::try_from(d).ok());
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = (nibble(b[2 * i])? << 4) | nibble(b[2 * i + 1])?;
    }
    Some(out)
}

mod hex_key {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(key: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::to_hex(key))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let s = String::deserialize(d)?;
        super::key_from_hex(&s).ok_or_else(|| D::Error::custom("expected 64 hex digits"))
    }
}

mod hex_keys {
    use serde::{Deserialize, Deserializer, Serializer, de::Error, ser::SerializeSeq};

    pub fn serialize<S: Serializer>(keys: &[[u8; 32]], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(keys.len()))?;
        for k in keys {
            seq.serialize_element(&super::to_hex(k))?;
        }
        seq.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<[u8; 32]>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|s| super::key_from_hex(s).ok_or_else(|| D::Error::custom("expected 64 hex digits")))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        let k = EntryKey::new("alpha.test", "anna");
        assert_eq!(EntryKey::from_bytes(&k.to_bytes()), Some(k));
    }

    #[test]
    fn portal_record_keys_as_hex() {
        let mut key = [0u8; 32];
        key[0] = 0xab;
        key[31] = 0x01;
        let r = PortalRecord {
            portal_id: "alpha.test".into(),
            endpoint: "https://alpha.test:7443".into(),
            public_key: key,
            network_enabled: false,
            network_enabled_since: None,
            registered_at: Timestamp(5),
            previous_keys: vec![[7u8; 32]],
            key_rotated_at: None,
            entries: 0,
            tls_certificate: String::new(),
        };
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains(&format!("\"ab{}01\"", "00".repeat(30))), "{json}");
        let back: PortalRecord = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
        assert_eq!(key_from_hex("zz"), None);
        assert_eq!(key_from_hex(&"g".repeat(64)), None);
        assert_eq!(key_from_hex(&"é".repeat(32)), None);
    }
}
