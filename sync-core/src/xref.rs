//! Cross-IDs that name their mail file (`DESIGN.md` §4.3).
//!
//! A Zoho record's `Notes_UNID` names the Notes document that is its twin. In an org, many
//! users' mail files hold documents, so the value also names the **mail file**:
//! `{mail file}:{key}`, where the mail file is its replica ID (16 hex digits, the same on every
//! replica) or, where the server does not show it, its path (`mail/jdoe.nsf`), and the key is
//! the document's UNID (or an event's `uid[/recurrenceId]`). One user's sync can then never take
//! another mail file's document for its own:
//!
//! - a value naming this mail file is the user's own cross-ID;
//! - a value naming another mail file is **foreign**: it counts as no cross-ID, is reported, and
//!   is only replaced by the record's owner;
//! - a value without a mail file was written by an earlier version (**legacy**): it counts as
//!   no cross-ID, and the owner's next sync rewrites it in the new form.

use serde::{Deserialize, Serialize};

/// The identity of a user's mail file, as cross-IDs name it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailFile {
    /// The path the run was configured with, normalized (see [`MailFile::normalize_path`]).
    pub path: String,
    /// The replica ID, when the server lists the database (`GET /api/data`).
    pub replica_id: Option<String>,
}

/// What a Zoho record's cross-ID says, read against the syncing user's mail file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrmXref<'a> {
    /// Names this mail file's document with this key.
    Ours(&'a str),
    /// Names a document of another mail file.
    Foreign,
    /// Written by an earlier version, without a mail file: whose it is cannot be told.
    Legacy(&'a str),
}

impl MailFile {
    /// A mail file known by `path`, and by `replica_id` when the server showed it.
    #[must_use]
    pub fn new(path: &str, replica_id: Option<&str>) -> Self {
        Self {
            path: Self::normalize_path(path),
            replica_id: replica_id
                .map(|r| r.trim().to_ascii_uppercase())
                .filter(|r| is_replica_id(r)),
        }
    }

    /// The mail file at `path` as the Domino REST API's `GET /api/pim-v1/info` (`info`, a 200
    /// answer's body) names it: with its replica ID when the answer is for `path`.
    #[must_use]
    pub fn from_pim_info(path: &str, info: Option<&str>) -> Self {
        let info = info
            .and_then(|b| serde_json::from_str::<serde_json::Value>(b).ok())
            .filter(|b| {
                b.get("filepath")
                    .and_then(serde_json::Value::as_str)
                    .is_some_and(|p| Self::normalize_path(p) == Self::normalize_path(path))
            });
        let replica = info
            .as_ref()
            .and_then(|b| b.get("replicaid"))
            .and_then(serde_json::Value::as_str);
        Self::new(path, replica)
    }

    /// The mail file `path` as the server's database list (`GET /api/data`, a 200 answer's
    /// body) shows it: with its replica ID when listed, else by its path alone. DAS lists only
    /// the databases shown in the "Open database" dialog, so a hidden mail file is not an error.
    #[must_use]
    pub fn from_database_list(path: &str, list: Option<&str>) -> Self {
        let wanted = Self::normalize_path(path);
        let parsed: Option<serde_json::Value> = list.and_then(|b| serde_json::from_str(b).ok());
        let replica = parsed.as_ref().and_then(|b| {
            b.as_array()?
                .iter()
                .find(|d| {
                    d.get("@filepath")
                        .and_then(serde_json::Value::as_str)
                        .is_some_and(|p| Self::normalize_path(p) == wanted)
                })?
                .get("@replicaid")?
                .as_str()
        });
        Self::new(path, replica)
    }

    /// `mail\JDoe.nsf`, `/mail/jdoe.nsf` and `mail/jdoe.nsf` are one file: Domino paths are
    /// case-insensitive and relative to the data directory.
    #[must_use]
    pub fn normalize_path(path: &str) -> String {
        path.trim()
            .replace('\\', "/")
            .trim_matches('/')
            .to_ascii_lowercase()
    }

    /// Whether this identity was made for the mail file configured as `path`.
    #[must_use]
    pub fn is_for(&self, path: &str) -> bool {
        self.path == Self::normalize_path(path)
    }

    /// What cross-IDs written now name the mail file by: the replica ID when known.
    #[must_use]
    pub fn tag(&self) -> &str {
        self.replica_id.as_deref().unwrap_or(&self.path)
    }

    /// The `Notes_UNID` value for the document (or event) `key` of this mail file.
    #[must_use]
    pub fn crm_xref(&self, key: &str) -> String {
        format!("{}:{key}", self.tag())
    }

    /// Reads a `Notes_UNID` value. Both names of this mail file (replica ID and path) count as
    /// its own, so an identity learnt later (the replica ID) keeps earlier cross-IDs valid.
    #[must_use]
    pub fn read_crm_xref<'a>(&self, raw: &'a str) -> CrmXref<'a> {
        let raw = raw.trim();
        let Some((file, key)) = raw.split_once(':') else {
            return CrmXref::Legacy(raw);
        };
        let names_a_file = is_replica_id(file) || file.to_ascii_lowercase().ends_with(".nsf");
        if !names_a_file || key.is_empty() {
            return CrmXref::Legacy(raw);
        }
        let ours = self
            .replica_id
            .as_deref()
            .is_some_and(|r| r.eq_ignore_ascii_case(file))
            || Self::normalize_path(file) == self.path;
        if ours {
            CrmXref::Ours(key)
        } else {
            CrmXref::Foreign
        }
    }
}

fn is_replica_id(s: &str) -> bool {
    s.len() == 16 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNID: &str = "0D4F8D6B3C1E2A5F9E8D7C6B5A493827";

    #[test]
    fn a_cross_id_names_the_replica_and_reads_back_as_ours() {
        let mf = MailFile::new("mail/demo.nsf", Some("852578ae0067d8a1"));
        let x = mf.crm_xref(UNID);
        assert_eq!(x, format!("852578AE0067D8A1:{UNID}"));
        assert_eq!(mf.read_crm_xref(&x), CrmXref::Ours(UNID));
    }

    #[test]
    fn the_path_names_the_file_when_the_replica_id_is_unknown_and_both_stay_ours() {
        let by_path = MailFile::new("/Mail\\Demo.nsf", None);
        assert_eq!(by_path.crm_xref(UNID), format!("mail/demo.nsf:{UNID}"));
        let by_replica = MailFile::new("mail/demo.nsf", Some("852578AE0067D8A1"));
        assert_eq!(
            by_replica.read_crm_xref(&format!("MAIL/DEMO.NSF:{UNID}")),
            CrmXref::Ours(UNID)
        );
    }

    #[test]
    fn another_mail_file_is_foreign_and_a_bare_unid_is_legacy() {
        let mf = MailFile::new("mail/demo.nsf", Some("852578AE0067D8A1"));
        assert_eq!(
            mf.read_crm_xref(&format!("852578AE0067D8A2:{UNID}")),
            CrmXref::Foreign
        );
        assert_eq!(
            mf.read_crm_xref(&format!("mail/user2.nsf:{UNID}")),
            CrmXref::Foreign
        );
        assert_eq!(mf.read_crm_xref(UNID), CrmXref::Legacy(UNID));
        // An event key of an earlier version that happens to hold a colon is still legacy.
        assert_eq!(
            mf.read_crm_xref("urn:uuid:1234"),
            CrmXref::Legacy("urn:uuid:1234")
        );
    }

    #[test]
    fn the_replica_id_comes_from_the_database_list_and_a_hidden_file_goes_by_its_path() {
        let list = r#"[{"@filepath":"mail/other.nsf","@replicaid":"1111222233334444"},
                       {"@filepath":"Mail\\Demo.nsf","@replicaid":"852578ae0067d8a1"}]"#;
        let mf = MailFile::from_database_list("mail/demo.nsf", Some(list));
        assert_eq!(mf.replica_id.as_deref(), Some("852578AE0067D8A1"));
        let hidden = MailFile::from_database_list("mail/hidden.nsf", Some(list));
        assert_eq!(hidden.tag(), "mail/hidden.nsf");
        assert_eq!(
            MailFile::from_database_list("mail/x.nsf", Some("<html>")).replica_id,
            None
        );
        assert_eq!(
            MailFile::from_database_list("mail/x.nsf", None).replica_id,
            None
        );
    }

    #[test]
    fn event_keys_with_a_recurrence_id_keep_their_slash() {
        let mf = MailFile::new("mail/demo.nsf", Some("852578AE0067D8A1"));
        let key = "ABC-Lotus_Notes_Generated/20261204T010000Z";
        assert_eq!(mf.read_crm_xref(&mf.crm_xref(key)), CrmXref::Ours(key));
    }
}
