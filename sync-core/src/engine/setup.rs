//! Setup: who the token belongs to (owner and time zone), the mail file's replica ID, and the
//! Zoho cross-ID field of each module (created when missing).

use super::*;

impl Engine {
    pub(super) fn on_current_user(&mut self, resp: &HttpResponse) {
        let user = parse_json(resp)
            .filter(|_| resp.status == 200)
            .and_then(|b| b.get("users")?.as_array()?.first().cloned());
        let Some(id) = user
            .as_ref()
            .and_then(|u| u.get("id"))
            .and_then(Value::as_str)
        else {
            self.fatal(format!(
                "could not read the Zoho user: {}",
                crm_error_text(resp)
            ));
            return;
        };
        self.crm_user = Some(id.to_owned());
        let needs_tz = Module::ALL
            .iter()
            .any(|m| self.config.settings.enabled(*m) && m.needs_time_zone());
        if self.config.time_zone.is_some() || !needs_tz {
            return;
        }
        let zone = user
            .as_ref()
            .and_then(|u| u.get("time_zone"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        match zone.as_deref().map(str::parse::<chrono_tz::Tz>) {
            Some(Ok(tz)) => self.ctx.tz = tz,
            Some(Err(_)) => {
                let z = zone.unwrap_or_default();
                self.fatal(format!(
                    "Zoho CRM reports the time zone {z:?}, which is unknown; set [sync] time_zone"
                ));
            }
            None => self.fatal(format!(
                "could not read the Zoho user's time zone: {}",
                crm_error_text(resp)
            )),
        }
    }

    /// The mail file's replica ID, if the server shows it to this user (`None`: no answer).
    pub(super) fn on_mail_file(&mut self, resp: Option<&HttpResponse>) {
        self.mail_file = self.notes.mail_file(&self.config.mail_db, resp);
        if !self.config.dry_run {
            self.outputs.push_back(Output::State(StateChange::MailFile {
                mail_file: self.mail_file.clone(),
            }));
        }
    }

    pub(super) fn on_crm_fields(&mut self, resp: &HttpResponse) {
        let Some(module) = self.run.as_ref().map(|r| r.module) else {
            return;
        };
        let Some(body) = parse_json(resp).filter(|_| resp.status == 200) else {
            self.fail_module(format!(
                "could not read Zoho field settings: {}",
                crm_error_text(resp)
            ));
            return;
        };
        let exists = body
            .get("fields")
            .and_then(Value::as_array)
            .is_some_and(|fs| {
                fs.iter()
                    .any(|f| f.get("api_name").and_then(Value::as_str) == Some(CRM_XREF_FIELD))
            });
        if exists {
            self.mark_xref_ready();
        } else if !self.config.dry_run {
            let path = self
                .config
                .crm_path(&format!("settings/fields?module={}", module.crm_api_name()));
            let body = json!({"fields": [{
                "field_label": CRM_XREF_LABEL, "data_type": "text", "length": 255,
                "external": {"type": "org", "show": true}
            }]});
            self.enqueue(Side::Crm, "POST", path, Some(body), Purpose::CrmFieldCreate);
        }
    }

    pub(super) fn mark_xref_ready(&mut self) {
        if let Some(run) = self.run.as_mut() {
            run.xref_exists = true;
            let module = run.module;
            self.outputs
                .push_back(Output::State(StateChange::XrefReady { module }));
        }
    }
}
