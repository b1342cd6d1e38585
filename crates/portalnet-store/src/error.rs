//! The store's one error type.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage engine: {0}")]
    Engine(#[from] sled::Error),
    #[error("cannot read stored {what}: {reason}")]
    Corrupt { what: String, reason: String },
    #[error(
        "stored {what} has format version {found}, newer than this build reads ({supported}); upgrade portalnet"
    )]
    TooNew { what: String, found: u16, supported: u16 },
    #[error("cannot {what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// A networked engine (PostgreSQL) failed or could not be reached.
    #[error("{engine}: {reason}")]
    Remote { engine: &'static str, reason: String },
    #[error("cannot encode {what}: {reason}")]
    Encode { what: String, reason: String },
}
