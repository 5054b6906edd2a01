//! Back-links: after creates, each new id is written into its twin (cross-IDs, B5).

use super::*;

impl Engine {
    /// After creates, write each new id into its twin (cross-IDs, B5).
    pub(super) fn start_backlinks(&mut self) {
        let Some(run) = self.run.as_mut() else { return };
        run.phase = Phase::Backlinks;
        let module = run.module;
        let xref = run.xref_exists;
        let mut crm_updates = Vec::new();
        let mut notes_updates = Vec::new();
        // An event that cannot hold the Zoho id is linked by its link alone.
        let notes_holds_xref =
            module != Module::Events || self.notes.calendar().is_some_and(|c| c.event_holds_xref());
        let Some(run) = self.run.as_ref() else { return };
        for (i, (it, ex)) in run.plan.items.iter().zip(&run.exec).enumerate() {
            if ex.error.is_some() {
                continue;
            }
            if let (Some(Write::Create { .. }), Some(zid), Some(unid)) =
                (&it.crm, &ex.new_zid, &it.unid)
                && notes_holds_xref
            {
                notes_updates.push((i, unid.0.clone(), zid.0.clone()));
            }
            if let (Some(Write::Create { .. }), Some(unid), Some(zid)) =
                (&it.notes, &ex.new_unid, &it.zoho_id)
                && xref
                && self.may_write_xref(Some(zid))
            {
                let value = self.mail_file.crm_xref(&unid.0);
                crm_updates.push((i, json!({"id": zid.0, CRM_XREF_FIELD: value})));
            }
        }
        let items = run.plan.items.clone();
        for (i, unid, zid) in notes_updates {
            let Some(it) = items.get(i) else { continue };
            self.enqueue_notes_update(
                module,
                &unid,
                it,
                &Fields::default(),
                &[],
                Some(&zid),
                i,
                true,
            );
        }
        // A cross-ID write is not a pending write of its item: the item is committed already,
        // and a failure only leaves the cross-ID to the next run.
        let path = self.config.crm_path(module.crm_api_name());
        self.enqueue_crm_batches(
            "PUT",
            &path,
            crm_updates,
            false,
            CrmBatch::Records,
            |items| Purpose::CrmUpdate {
                items,
                backlink: true,
            },
        );
    }
}
