//! Store failures, in English and Japanese, and the URL shown in them (never its password).

/// Store failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite failed.
    #[error("sync state store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL failed after the store was open.
    #[error("PostgreSQL store: {0}")]
    Postgres(sqlx::Error),
    /// A text to store or look up holds a NUL character, which PostgreSQL's text cannot hold
    /// (bad input, not a store failure).
    #[error("a text with a NUL character (\\0) cannot be stored or looked up")]
    NulInText,
    /// Stored JSON could not be read back.
    #[error("sync state store holds unreadable data: {0}")]
    Corrupt(#[from] serde_json::Error),
    /// The `[store] url` (or `DATABASE_URL`) is not a usable PostgreSQL URL.
    #[error("the store URL {url} is not usable: {reason}")]
    Url {
        /// The URL, password elided.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// PostgreSQL could not be reached, or refused the connection.
    #[error("cannot connect to PostgreSQL at {url}: {source}")]
    Connect {
        /// The URL, password elided.
        url: String,
        /// The driver's words.
        source: sqlx::Error,
    },
    /// PostgreSQL did not answer in time.
    #[error("cannot connect to PostgreSQL at {url}: no answer within {seconds} s")]
    NoAnswer {
        /// The URL, password elided.
        url: String,
        /// How long it waited.
        seconds: u64,
    },
    /// The database was migrated by a newer `nzsync` than this one.
    #[error(
        "the database has schema version {found}, but this nzsync knows only up to {known}: run the newer nzsync, or a fresh database"
    )]
    SchemaTooNew {
        /// The database's version.
        found: i64,
        /// The newest version this binary knows.
        known: i64,
    },
}

impl StoreError {
    /// Whether the store could not be reached at all (not a problem of one request): a
    /// caller may answer "try again later" rather than "internal error".
    #[must_use]
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Connect { .. } | Self::NoAnswer { .. } => true,
            Self::Postgres(e) => matches!(
                e,
                sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed
            ),
            Self::Sqlite(_)
            | Self::Corrupt(_)
            | Self::NulInText
            | Self::Url { .. }
            | Self::SchemaTooNew { .. } => false,
        }
    }

    /// The message in Japanese (the English one is [`std::fmt::Display`]). The driver's own
    /// words stay as the driver wrote them.
    #[must_use]
    pub fn japanese(&self) -> String {
        match self {
            Self::Sqlite(e) => format!("同期状態の保存先(SQLite)でエラーが発生しました: {e}"),
            Self::Postgres(e) => format!("PostgreSQL の保存先でエラーが発生しました: {e}"),
            Self::Corrupt(e) => format!("保存先に読み取れないデータがあります: {e}"),
            Self::NulInText => "NUL 文字 (\\0) を含む文字列は保存も検索もできません".to_owned(),
            Self::Url { url, reason } => {
                format!("保存先の URL {url} は使用できません: {reason}")
            }
            Self::Connect { url, source } => {
                format!("PostgreSQL ({url}) に接続できません: {source}")
            }
            Self::NoAnswer { url, seconds } => {
                format!("PostgreSQL ({url}) に接続できません: {seconds} 秒以内に応答がありません")
            }
            Self::SchemaTooNew { found, known } => format!(
                "データベースのスキーマのバージョンは {found} ですが、この nzsync は {known} までしか扱えません。新しい nzsync を使うか、新しいデータベースを使ってください"
            ),
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        // SQLSTATE 22021, character_not_in_repertoire: PostgreSQL refuses a NUL in text.
        if e.as_database_error().and_then(|d| d.code()).as_deref() == Some("22021") {
            return Self::NulInText;
        }
        Self::Postgres(e)
    }
}

/// `url` with its password (in the authority or in a `password=` parameter) replaced by `***`,
/// for messages and logs. A URL that does not parse is not shown at all.
#[must_use]
pub fn redact_url(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return "(an unparsable URL)".to_owned();
    };
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some("***"));
    }
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| {
            let v = if k.eq_ignore_ascii_case("password") {
                "***".to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    if !pairs.is_empty() {
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_never_shows_its_password() {
        let shown = redact_url("postgres://nzsync:s3cr%40t@db.example.com:5432/nzsync");
        assert_eq!(shown, "postgres://nzsync:***@db.example.com:5432/nzsync");
        let shown =
            redact_url("postgres://db.example.com/nzsync?user=a&password=s3cret&sslmode=require");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("sslmode=require"), "{shown}");
        assert_eq!(redact_url("postgres://db/x"), "postgres://db/x");
        assert!(!redact_url("post gres://u:pw@@").contains("pw"));
    }
}
