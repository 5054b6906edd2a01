//! What sync-core remembers between runs: links between records, their base snapshots, and
//! the incremental-listing cursors. The embedder stores it; sync-core only reads it at the
//! start of a run and emits [`StateChange`]s as the run makes progress, so a crash at any point
//! leaves a state that the next run re-converges from (pimsync's per-operation status writes).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::model::{Fields, Module, NotesUnid, ZohoId};
use crate::time::Timestamp;
use crate::xref::MailFile;

/// A Notes document and a Zoho record known to be the same item, with the content both held
/// when they were last in step (the base of the three-way merge).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// The Notes document.
    pub unid: NotesUnid,
    /// The Zoho record.
    pub zoho_id: ZohoId,
    /// The canonical content last synced.
    pub base: Fields,
}

/// Per-module memory.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModuleState {
    /// Every linked pair.
    pub links: Vec<Link>,
    /// `documents?since=` value for the next incremental Notes read; `None` forces a full read.
    pub notes_cursor: Option<Timestamp>,
    /// `If-Modified-Since` value for the next incremental CRM read; `None` forces a full read.
    pub crm_cursor: Option<Timestamp>,
    /// Settings fingerprint of the run that set the cursors; a change forces a full read.
    pub fingerprint: Option<String>,
    /// The Zoho cross-ID field is known to exist.
    pub crm_xref_ready: bool,
    /// Unlinked Notes documents that were private when last read. Privacy is an item of the
    /// document, so an incremental run need not read them again until they change.
    pub notes_private: BTreeSet<NotesUnid>,
    /// Zoho records that left the user's scope (reassigned to another owner, or out of the
    /// chosen view) while their Notes copy, changed since the last sync, was kept. The kept
    /// copy still names the record (`ZohoCRMId`); remembering it keeps that copy from being
    /// created in CRM again as a duplicate. Forgotten when the record comes back in scope.
    pub crm_left_scope: BTreeSet<ZohoId>,
}

/// Everything remembered, per module.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SyncState {
    /// Per-module memory.
    pub modules: BTreeMap<Module, ModuleState>,
    /// The mail file the links belong to, as cross-IDs name it.
    pub mail_file: Option<MailFile>,
}

/// One change to the stored state, emitted as soon as the effect it records has happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum StateChange {
    /// Store `link`, replacing any link of the module with the same UNID or the same Zoho id.
    LinkSet {
        /// The module.
        module: Module,
        /// The link.
        link: Link,
    },
    /// Forget the link with this UNID and/or Zoho id.
    LinkRemoved {
        /// The module.
        module: Module,
        /// The Notes side of the link.
        unid: Option<NotesUnid>,
        /// The CRM side of the link.
        zoho_id: Option<ZohoId>,
    },
    /// Store the cursors (and fingerprint) for the next incremental run.
    Cursors {
        /// The module.
        module: Module,
        /// Next `documents?since=`.
        notes: Option<Timestamp>,
        /// Next `If-Modified-Since`.
        crm: Option<Timestamp>,
        /// Settings fingerprint they belong to.
        fingerprint: Option<String>,
    },
    /// The Zoho cross-ID field exists for the module.
    XrefReady {
        /// The module.
        module: Module,
    },
    /// Remember (`private: true`) or forget an unlinked private Notes document.
    NotesPrivate {
        /// The module.
        module: Module,
        /// The document.
        unid: NotesUnid,
        /// Private when last read (`false`: no longer private, or gone).
        private: bool,
    },
    /// Remember (`left: true`) or forget a Zoho record that left the user's scope while its
    /// Notes copy was kept.
    CrmLeftScope {
        /// The module.
        module: Module,
        /// The Zoho record.
        zoho_id: ZohoId,
        /// Out of scope with a kept copy (`false`: back in scope, or forgotten).
        left: bool,
    },
    /// The sync created this record in Zoho CRM. A store remembers it, so that an uninstall
    /// deletes the records the sync created and only those (sent the moment the create
    /// succeeded, so a run stopped halfway remembers what it created too).
    CrmCreated {
        /// The module.
        module: Module,
        /// The record the sync created.
        zoho_id: ZohoId,
    },
    /// The identity of the user's mail file, learnt from the server.
    MailFile {
        /// The identity.
        mail_file: MailFile,
    },
}

impl SyncState {
    /// Applies `change` in memory exactly as a store must apply it.
    pub fn apply(&mut self, change: &StateChange) {
        match change {
            StateChange::LinkSet { module, link } => {
                let m = self.modules.entry(*module).or_default();
                m.links
                    .retain(|l| l.unid != link.unid && l.zoho_id != link.zoho_id);
                m.links.push(link.clone());
            }
            StateChange::LinkRemoved {
                module,
                unid,
                zoho_id,
            } => {
                let m = self.modules.entry(*module).or_default();
                m.links.retain(|l| {
                    unid.as_ref().is_none_or(|u| &l.unid != u)
                        && zoho_id.as_ref().is_none_or(|z| &l.zoho_id != z)
                });
            }
            StateChange::Cursors {
                module,
                notes,
                crm,
                fingerprint,
            } => {
                let m = self.modules.entry(*module).or_default();
                m.notes_cursor = *notes;
                m.crm_cursor = *crm;
                m.fingerprint.clone_from(fingerprint);
            }
            StateChange::XrefReady { module } => {
                self.modules.entry(*module).or_default().crm_xref_ready = true;
            }
            StateChange::NotesPrivate {
                module,
                unid,
                private,
            } => {
                let set = &mut self.modules.entry(*module).or_default().notes_private;
                if *private {
                    set.insert(unid.clone());
                } else {
                    set.remove(unid);
                }
            }
            StateChange::CrmLeftScope {
                module,
                zoho_id,
                left,
            } => {
                let set = &mut self.modules.entry(*module).or_default().crm_left_scope;
                if *left {
                    set.insert(zoho_id.clone());
                } else {
                    set.remove(zoho_id);
                }
            }
            StateChange::MailFile { mail_file } => self.mail_file = Some(mail_file.clone()),
            // Kept by the store for an uninstall; no run reads it.
            StateChange::CrmCreated { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(u: &str, z: &str) -> Link {
        Link {
            unid: NotesUnid(u.into()),
            zoho_id: ZohoId(z.into()),
            base: Fields::default(),
        }
    }

    #[test]
    fn link_set_replaces_links_sharing_either_id() {
        let mut s = SyncState::default();
        let m = Module::Contacts;
        s.apply(&StateChange::LinkSet {
            module: m,
            link: link("A", "1"),
        });
        s.apply(&StateChange::LinkSet {
            module: m,
            link: link("B", "2"),
        });
        s.apply(&StateChange::LinkSet {
            module: m,
            link: link("A", "3"),
        });
        let links = &s.modules[&m].links;
        assert_eq!(links.len(), 2);
        assert!(links.contains(&link("A", "3")));
        s.apply(&StateChange::LinkRemoved {
            module: m,
            unid: None,
            zoho_id: Some(ZohoId("2".into())),
        });
        assert_eq!(s.modules[&m].links, vec![link("A", "3")]);
    }
}
