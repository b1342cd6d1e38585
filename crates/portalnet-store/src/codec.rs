//! Value encoding: `[MAGIC][format version: u16 BE][JSON]`. JSON keeps added fields
//! readable with `#[serde(default)]`; the version says when a record needs a real
//! migration, which [`Record::migrate`] performs on read.

use crate::error::StoreError;
use serde::{Serialize, de::DeserializeOwned};

const MAGIC: u8 = 0xB1;

/// A value stored in a [`crate::Table`].
pub trait Record: Serialize + DeserializeOwned {
    /// Names the record in error messages.
    const NAME: &'static str;
    /// The format version this build writes.
    const VERSION: u16;

    /// Upgrades a value stored at format `from` (< [`Self::VERSION`]) by one step
    /// or more. The default knows no older format.
    fn migrate(from: u16, value: serde_json::Value) -> Result<serde_json::Value, String> {
        let _ = value;
        Err(format!("no migration from format version {from}"))
    }
}

pub fn encode<R: Record>(value: &R) -> Result<Vec<u8>, StoreError> {
    let mut out = Vec::with_capacity(64);
    out.push(MAGIC);
    out.extend_from_slice(&R::VERSION.to_be_bytes());
    serde_json::to_writer(&mut out, value)
        .map_err(|e| StoreError::Encode { what: R::NAME.into(), reason: e.to_string() })?;
    Ok(out)
}

pub fn decode<R: Record>(bytes: &[u8]) -> Result<R, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt { what: R::NAME.into(), reason };
    let [magic, v0, v1, body @ ..] = bytes else {
        return Err(corrupt(format!("value of {} bytes is too short", bytes.len())));
    };
    if *magic != MAGIC {
        return Err(corrupt(format!("unknown value header {magic:#x}")));
    }
    let version = u16::from_be_bytes([*v0, *v1]);
    if version == R::VERSION {
        return serde_json::from_slice(body).map_err(|e| corrupt(e.to_string()));
    }
    if version > R::VERSION {
        return Err(StoreError::TooNew { what: R::NAME.into(), found: version, supported: R::VERSION });
    }
    let old: serde_json::Value = serde_json::from_slice(body).map_err(|e| corrupt(e.to_string()))?;
    let new = R::migrate(version, old).map_err(corrupt)?;
    serde_json::from_value(new).map_err(|e| corrupt(e.to_string()))
}
