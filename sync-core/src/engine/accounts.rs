//! Contacts' companies as Zoho Accounts: names looked up by COQL (or in the Account list) and
//! missing Accounts created, before the contacts naming them are written.

use super::*;

impl Engine {
    /// The company names CRM writes of the plan carry, not yet known as Accounts, are looked
    /// up: by COQL, 50 names per query (exact match client-side: COQL compares text without
    /// case); names COQL cannot quote, or a refused COQL call (e.g. a token without the
    /// `ZohoCRM.coql.READ` scope), fall back to listing every Account, 200 per page.
    pub(super) fn start_account_lookups(&mut self) {
        let Some(run) = self.run.as_mut() else { return };
        let mut wanted = BTreeSet::new();
        for it in &run.plan.items {
            let fields = match &it.crm {
                Some(Write::Create { fields }) => fields,
                Some(Write::Update { set, .. }) => set,
                Some(Write::Delete) | None => continue,
            };
            if let Some(name) = fields.get("company")
                && !run.accounts.contains_key(name)
            {
                wanted.insert(name.to_owned());
            }
        }
        let quotable: Vec<String> = wanted
            .iter()
            .filter(|n| !n.contains(['\'', '\\']))
            .cloned()
            .collect();
        let list_all = quotable.len() < wanted.len();
        run.accounts_wanted = wanted;
        if list_all {
            self.start_accounts_listing();
            return;
        }
        for chunk in quotable.chunks(COQL_IN_VALUES) {
            let values: Vec<String> = chunk.iter().map(|n| format!("'{n}'")).collect();
            let query = format!(
                "select {CRM_ACCOUNT_FIELD} from {CRM_ACCOUNTS_MODULE} where {CRM_ACCOUNT_FIELD} in ({}) limit 2000",
                values.join(", ")
            );
            let path = self.config.crm_path("coql");
            self.enqueue(
                Side::Crm,
                "POST",
                path,
                Some(json!({ "select_query": query })),
                Purpose::CrmAccountsQuery,
            );
        }
    }

    pub(super) fn start_accounts_listing(&mut self) {
        let Some(run) = self.run.as_mut() else { return };
        if run.accounts_listing {
            return;
        }
        run.accounts_listing = true;
        let path = self.config.crm_path(&format!(
            "{CRM_ACCOUNTS_MODULE}?fields={CRM_ACCOUNT_FIELD}&per_page={CRM_PAGE}"
        ));
        self.enqueue(Side::Crm, "GET", path, None, Purpose::CrmAccountsList);
    }

    /// Creates the Accounts still missing, 100 per call. A plain insert, not an upsert by
    /// `Account_Name`: Zoho's duplicate check may ignore case and would then rename an existing
    /// "Acme" to "ACME". A crash or a lost answer does not duplicate: such an insert is not
    /// retried, and the next run finds the Account by name.
    pub(super) fn start_account_creates(&mut self) {
        let Some(run) = self.run.as_mut() else { return };
        run.phase = Phase::AccountCreates;
        let missing: Vec<String> = run
            .accounts_wanted
            .iter()
            .filter(|n| !run.accounts.contains_key(*n) && !run.account_errors.contains_key(*n))
            .cloned()
            .collect();
        // The "items" of an Account batch are positions in `missing`.
        let writes = missing
            .iter()
            .enumerate()
            .map(|(i, n)| (i, json!({ CRM_ACCOUNT_FIELD: n })))
            .collect();
        let path = self.config.crm_path(CRM_ACCOUNTS_MODULE);
        self.enqueue_crm_batches("POST", &path, writes, false, CrmBatch::Records, |at| {
            Purpose::CrmAccountsInsert {
                names: at.iter().filter_map(|i| missing.get(*i).cloned()).collect(),
            }
        });
    }

    /// Swaps the `Account_Name` marker of a Zoho contact for the lookup of its Account.
    pub(super) fn resolve_account(
        &self,
        rec: &mut Map<String, Value>,
    ) -> Result<(), (String, bool)> {
        let Some(name) = crm_account_name(rec).map(str::to_owned) else {
            return Ok(());
        };
        let Some(run) = self.run.as_ref() else {
            return Ok(());
        };
        if let Some(id) = run.accounts.get(&name) {
            set_crm_account_id(rec, id);
            return Ok(());
        }
        Err(run.account_errors.get(&name).cloned().unwrap_or_else(|| {
            (
                format!("no Zoho account named {name:?} could be found or created"),
                false,
            )
        }))
    }

    /// Records why company names could not be resolved (`None`: every name still wanted).
    pub(super) fn accounts_failed(
        &mut self,
        names: Option<&[String]>,
        message: &str,
        transient: bool,
    ) {
        let Some(run) = self.run.as_mut() else { return };
        run.transient_errors |= transient;
        let names: Vec<String> = match names {
            Some(n) => n.to_vec(),
            None => run
                .accounts_wanted
                .iter()
                .filter(|n| !run.accounts.contains_key(*n))
                .cloned()
                .collect(),
        };
        for n in names {
            run.account_errors.entry(n).or_insert_with(|| {
                (
                    format!("could not find or create the Zoho account: {message}"),
                    transient,
                )
            });
        }
    }

    /// Accounts found by COQL or in a page of the Account list: keep those whose name is
    /// exactly a wanted company (the lowest id when several share it).
    pub(super) fn on_accounts_found(&mut self, q: &Queued, resp: &HttpResponse, listing: bool) {
        if resp.status == 204 {
            return; // None of the names exists.
        }
        let Some(body) = parse_json(resp).filter(|_| resp.status == 200) else {
            if listing {
                let msg = crm_error_text(resp);
                self.accounts_failed(None, &msg, is_transient(resp.status));
            } else {
                // COQL refused the query (e.g. a quoting it does not accept): list instead.
                self.start_accounts_listing();
            }
            return;
        };
        let Some(run) = self.run.as_mut() else { return };
        for row in body
            .get("data")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let (Some(name), Some(id)) = (
                row.get(CRM_ACCOUNT_FIELD).and_then(Value::as_str),
                row.get("id").and_then(Value::as_str),
            ) else {
                continue;
            };
            if run.accounts_wanted.contains(name) {
                remember_account(&mut run.accounts, name, id);
            }
        }
        if listing {
            self.follow_page_token(q, &body, Purpose::CrmAccountsList);
        }
    }

    pub(super) fn on_accounts_created(&mut self, names: &[String], resp: &HttpResponse) {
        let results = parse_json(resp)
            .and_then(|b| b.get("data").and_then(Value::as_array).cloned())
            .filter(|d| d.len() == names.len() && matches!(resp.status, 200 | 201 | 207 | 400));
        let Some(results) = results else {
            let msg = crm_error_text(resp);
            self.accounts_failed(Some(names), &msg, is_transient(resp.status));
            return;
        };
        for (name, r) in names.iter().zip(&results) {
            let details = r.get("details");
            let id = if r.get("status").and_then(Value::as_str) == Some("success") {
                details.and_then(|d| d.get("id"))
            } else {
                // An org that made Account_Name unique names the Account that already has it.
                details
                    .and_then(|d| d.get("duplicate_record"))
                    .and_then(|d| d.get("id"))
            };
            match (id.and_then(Value::as_str), self.run.as_mut()) {
                (Some(id), Some(run)) => remember_account(&mut run.accounts, name, id),
                _ => {
                    let code = r.get("code").and_then(Value::as_str).unwrap_or("ERROR");
                    let message = r.get("message").and_then(Value::as_str).unwrap_or("");
                    let msg = format!("Zoho CRM: {code} ({message}) on {CRM_ACCOUNT_FIELD}");
                    self.accounts_failed(Some(std::slice::from_ref(name)), &msg, false);
                }
            }
        }
    }
}

/// Keeps `id` for the Account `name` unless a lower id is already known (deterministic when
/// several Accounts share a name).
pub(super) fn remember_account(accounts: &mut BTreeMap<String, String>, name: &str, id: &str) {
    let lower = |a: &str, b: &str| (a.len(), a) < (b.len(), b);
    match accounts.get(name) {
        Some(known) if !lower(id, known) => {}
        _ => {
            accounts.insert(name.to_owned(), id.to_owned());
        }
    }
}
