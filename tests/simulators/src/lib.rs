//! Simulators of HCL Domino Access Services (DAS), the HCL Domino REST API (DRAPI) and Zoho CRM
//! REST (v2–v8), faithful to `reference/domino-api.md`, `reference/domino-rest-api.md` and
//! `reference/zoho-crm-api.md`, for tests, benchmarks and `nzsync demo`.
//!
//! [`start`] serves them on `127.0.0.1` (only) on tokio tasks, each on its own port: DAS
//! ([`Simulators::domino_url`]), DRAPI ([`Simulators::drapi_url`]: [`SimConfig::drapi_port`],
//! by default the DAS port + 2, 18083, or a free port) and Zoho. DAS and DRAPI are two faces of **one** Domino server: the
//! same users, mail files, documents (UNIDs, items, modified times) and calendar entries, so a
//! document written through one reads through the other. [`domino_router`], [`drapi_router`]
//! (both over the same [`DominoState`]) and [`zoho_router`] give the bare `axum::Router`s for
//! `tower::ServiceExt::oneshot` tests.
//!
//! Each port also answers control requests under `/_sim/` (no authentication, loopback tool).
//! The call log, faults, latency and spec report are the port's own; on the two Domino ports
//! dump, load, reset and the clock act on the one server they share:
//!
//! | route | does |
//! | --- | --- |
//! | `GET /_sim/dump` | all data as JSON (shapes in the `domino` and `zoho` module docs; the Domino dump, on either Domino port, carries DRAPI's settings, scopes and schemas under `"drapi"`) |
//! | `POST /_sim/load` | replace all data with a dump (204); a Domino dump without `"drapi"` gets the seeded scopes and schemas |
//! | `POST /_sim/reset[?seed=demo]` | back to users/org/config only (or to the demo data) (204); on Domino also DRAPI's seeded scopes and schemas |
//! | `POST /_sim/custom_views` (Zoho) | add a custom view a user made: the `custom_views` dump shape plus `"module"` → 201 `{"id"}` (see `zoho/views.rs`) |
//! | `GET`/`POST /_sim/config` (DRAPI port) | DRAPI's settings, scopes and schemas: `jwt_lifetime_secs`, `expire_tokens` (a restart: every JWT dies), `login_failure_status`, `pim`, `setup`, `revision_conflict_status`, `recurring` (`instances`/`series`), `scopes` (`null` removes, an object merges), `schemas` (by scope name: top-level keys, `remove_forms`, `remove_modes`, `remove_fields`, `add_fields`); see the [`drapi`] docs |
//! | `GET`/`POST /_sim/config` (DAS and Zoho ports) | Domino: enabled services, `$AllowRESTDbAPI` per database, view DAS flags, login-form mode. Zoho: token lifetime, expire all tokens, licences, users' profiles (`user_profiles`), search index lag (`search_index_delay_secs`), how far page tokens page (`page_token_records`), API limits (`credits`, `concurrency`, `sub_concurrency`, `edition`, `reset_credits`; GET adds `credits_used`, `credits_remaining`, `in_flight`) |
//! | `POST /_sim/latency` `{"ms":20}` | latency added before every non-`/_sim/` request |
//! | `GET`/`DELETE /_sim/calls` | the call log `{"calls":[{"method","path","query","status"}]}` in order (`query` only when present; status 0 = dropped by a fault) |
//! | `GET`/`POST`/`DELETE /_sim/faults` | fault rules `{"rules":[{"kind":"status","status":503,"method":"GET","path_prefix":"/crm/","every":2,"times":3}]}`; kinds `status`, `delay` (`ms`, `after`), `drop`, `truncate`, `expire_token` (Zoho's access token, DRAPI's JWT); `percent` fires a rule by chance, from a generator seeded by the body's `seed` (default 1) |
//! | `GET`/`POST /_sim/clock` `{"advance_secs":3600}` | move the simulator's clock (token and page-token expiry, JWT expiry, timestamps; both Domino ports move Domino's one clock); 400 when it would leave the years 1970–9999 |
//! | `GET`/`POST`/`DELETE /_sim/spec` `{"enabled":true}` | check every answer against the vendors' OpenAPI specs ([`spec`]; DRAPI against HCL's basis, PIM and setup specs); GET reports `checked`, `undescribed` and `violations`; DELETE empties the report |
//!
//! ## Choices
//!
//! Where a reference marks a fact as inferred (\[I\]) or leaves it open, the simulators do this:
//!
//! Domino (DAS):
//! - `GET /api` needs no authentication (it lets a client tell "not a Domino server" from "wrong
//!   password"); everything else does. The services list is in the order Core, Data, Calendar.
//! - `GET /api/data` lists only the databases the user may open (`names.nsf` and the user's own
//!   mail file); `@filepath` uses `/`.
//! - Basic credentials that match no user get the 401 challenge on every path. An anonymous
//!   request gets the challenge too, or (config `anonymous_login_form`) 200 with an HTML login
//!   form as a session-auth server does. A user opening another user's mail file gets 401 with
//!   the challenge header and the body "You are not authorized to perform this operation".
//!   Users log in with their short name, `name@example.com` or `CN=name/O=SimOrg`; a failed
//!   `?Login` answers 200 with the login form again.
//! - Check order for database requests: bad credentials (401), service enabled (403), database
//!   exists (404 "Unable to open database …"), authenticated (401), ACL (401), `$AllowRESTDbAPI`
//!   (403), then the resource's own checks (view exists 404, view flag 403, documents level 403).
//! - Unknown or malformed UNID: 404 exception JSON with message "Invalid universal id".
//! - A query parameter sent empty (`count=`, `since=`, `fields=`, `parentid=`, …) is treated
//!   as one not sent, on every DAS route, as DAS does (issue #13); `?Login`/`?Logout` are read
//!   from the raw query.
//! - `since` must parse as an ISO timestamp (or date); otherwise 400 "Invalid parameter since: …".
//!   `since` is strict (`modified > since`). Any `search` gives 400 "Database is not full text
//!   indexed." (simulated databases have no FT index).
//! - View names in the standard mail template: `($Contacts)` (alias `Contacts`, form Person,
//!   sorted by LastName then FirstName, case-insensitive), `($ToDo)` (alias `ToDo`, form Task,
//!   columns Subject, DueDateTime, Importance, sorted by DueDateTime), `($Inbox)` (folder, form
//!   Memo, newest first).
//!   `names.nsf` has `People`. Entries carry `@siblings` = number of entries in the view. Empty
//!   column values are `""`. Date-only values in columns are midnight UTC. `sortcolumn` works
//!   on resortable columns (`$17`, `MailAddress`, `CompanyName`, `DueDateTime`, `Subject`) and is
//!   ignored otherwise; `keys` matches the first sorted column, prefix and case-insensitive.
//! - Writes: `null` stores an empty text value; booleans are stored as text "true"/"false"; a
//!   value object of a `type` other than `datetime`, `richtext` and `multipart` (the §1.6
//!   write rules) is 400 with a message naming it, `names` included (`/_sim/dump` and
//!   `/_sim/load` alone use `{"type":"names"}`, to keep names items). `{"type":"richtext"}` is
//!   stored as the §1.6 example reads back: a multipart/alternative part, text/plain (the HTML
//!   with its tags dropped, or the text given) and text/html (the HTML given, or the text
//!   escaped). Plain strings become
//!   date/time items only for fields the standard forms declare as dates (Task: DueDateTime,
//!   DueDate, StartDateTime, StartDate, CompletedDateTime, CalendarDateTime; Person: Birthday,
//!   Anniversary; Memo: PostedDate, DeliveredDate). An existing item keeps its name casing when
//!   written with another casing, so PUT's case-sensitive delete pass can remove it (the quirk in
//!   domino-api.md §1.6). Each write adds the user to `@authors`.
//! - `computewithform` is accepted and ignored. `parentid` on a document create must be a UNID
//!   (32 hex digits; otherwise 400 "Invalid parameter parentid: X"); the UNID of no document →
//!   404 "Invalid universal id"; the new document's `@parentid` is it. Attachments, view-entry
//!   updates and creating through a view answer 501.
//! - Responses carry `Server: Lotus-Domino`. Note ids start at `8F6` and grow by 4.
//! - Where IBM's `data.yaml` disagrees with DAS as documented (it types every item value and
//!   view column as an object, and `@created`/`@modified` as strings even with `strongtype`),
//!   the simulator follows domino-api.md (strings, numbers, arrays; strongtype objects).
//! - `POST /_sim/config` (Domino) takes `{"enabled_services":["Data","Calendar"],
//!   "anonymous_login_form":false,"databases":{"mail/demo.nsf":{"allow_rest":2,
//!   "views":{"($Contacts)":{"das":true}}}}}`, any subset; Zoho takes
//!   `{"token_lifetime_secs":3600,"expire_tokens":true,"licences":5,
//!   "user_profiles":{"user2@example.com":"Administrator"}}`, any subset (`user_profiles` makes
//!   a user an administrator, or not, as an admin does under Setup → Users; see
//!   `zoho/profiles.rs`).
//!
//! Domino calendar service (domino-api.md §2):
//! - Events are stored as JSON (master VEVENT, per-instance overrides, deleted instances) with a
//!   backing document of form `Appointment` (items Subject, Location, StartDateTime,
//!   EndDateTime, AppointmentType, ApptUNID, Body, SequenceNum, OrgConfidential) that
//!   `documents?since=` lists; deleting that document through the data service deletes the
//!   event. UIDs are `<32 hex>-Lotus_Notes_Generated` unless the client gives `id`; a given
//!   `id` that exists → 409 cserror 1032.
//! - The list window includes an entry when `since ≤ start < before`; rows are sorted by start
//!   and carry `href`, `id`, `summary`, `location`, `start`, `end`, (`recurrenceId`), `class`,
//!   `transparency`, `status`, `sequence`, `categories`, `priority` and the `x-` properties.
//!   `sincenow`/`days` move the window however far (past the dates chrono holds, year
//!   262142, it stops at the end: 200 with no events, as DAS answers);
//!   `since`+`sincenow` or `before`+`days` → 400 "The "since" and
//!   "sincenow" parameters are mutually exclusive." (resp. before/days); `days` ≤ 0 → 400
//!   "Invalid days parameter: N.  It must be greater than 0."; `start` < 0 → 400 "Invalid start
//!   parameter: N.  It must be greater than or equal to 0."; a bad `since`/`before` → 400
//!   `Unparseable date: "…"` (the java ParseException text).
//! - Store errors are `{"code","text","cserror","message","type":"text","data":<trace>}`; an
//!   unknown UID, instance or notice → 404 cserror 1031 ("Error reading event"/"Error reading
//!   notice"); bad JSON, no `events`, bad times or RRULE → 400 cserror 1034; `strictsequence=true`
//!   with an older `sequence` → 409 cserror 1027. Parameter errors have no `cserror`.
//! - Times: `utc` and floating (neither `utc` nor `tzid`) times are UTC; `tzid` times use the
//!   `timezones` entry's standard/daylight offsets and yearly `BYMONTH`/`BYDAY` rules. A `tzid`
//!   must be defined in the same request (a stored event keeps the entries its times use). An
//!   end before the start → 400 "The end time is before the start time".
//! - RRULE: FREQ DAILY/WEEKLY/MONTHLY/YEARLY with INTERVAL, COUNT, UNTIL, BYDAY (ordinals in
//!   MONTHLY), BYMONTHDAY; expanded in local time, at most 1000 instances per series; a
//!   series ends where chrono's calendar ends, however large its INTERVAL.
//!   `recurrenceId` is the instance start in UTC `yyyyMMddTHHmmssZ` (`yyyyMMdd` all-day);
//!   `exceptDates` are rendered in UTC.
//! - Defaults on write: `class` public, `transparency` opaque, `x-lotus-appttype` 0/2/3
//!   (appointment/all-day/meeting). PUT without `literally=true` keeps an omitted description;
//!   `sequence` goes up by one when start, end, recurrenceRule or location change (instance
//!   deletes too). PUT on an instance without `recurrenceRange` changes that instance; with
//!   `recurrenceRange=all` it changes the series' other properties; with `future`/`previous`
//!   it changes the properties other than the times of that instance and every later (earlier)
//!   one, as per-instance overrides. DELETE of an instance supports `all`, `future` (series
//!   ends before it) and `previous`. Any other `recurrenceRange`, as none, means that instance
//!   alone (DAS reads only those three values).
//! - Notices: creating, updating or deleting an event with `workflow` not `false` gives every
//!   attendee who is another simulator user (`{name}@example.com`) a notice (`request`, or
//!   `cancel` for a delete) in their mail file, backed by a `Notice` document; a newer notice for
//!   the same event replaces an older one. Request notices show in that user's event list with
//!   `x-lotus-noticetype` `{"data":"I"}`, and in `invitations` (`since`/`receivedsince` exact
//!   format, `id` = UID) → `{"notices":[…]}` (empty list, not an empty body).
//! - `GET /{db}/api/calendar` answers `{"links":[{"rel":"events"},{"rel":"invitations"}]}`.
//!   iCalendar (`format=icalendar`, `Content-Type: text/calendar`) answers 501.
//! - Actions (`PUT …/action?type=`, 200 without body): the documented 400/415 checks; on a
//!   notice `accept`/`tentative` put the meeting on the user's calendar with the user's attendee
//!   status set, `decline` just processes the notice, and the organizer's copy (when the
//!   organizer is a simulator user) records the reply unless `workflow=false`; `delete` or
//!   `cancel` on a notice → 400 cserror 1028 "Action not supported". On an event or instance
//!   `delete` and `cancel` are DELETE (with its notices). `delegate`, `counter`,
//!   `requestInfo`, `processAll`, `removeCancelled` answer 501.
//!
//! Domino REST API (DRAPI; the full list, with the errata of HCL's specs, is in the [`drapi`]
//! module docs):
//! - Auth: `POST /api/v1/auth` with the DAS users' names and passwords answers a JWT living
//!   2 h (`jwt_lifetime_secs`), no refresh; missing, unknown, expired or logged-out tokens get
//!   401 in the basis error shape; a wrong password 401 (or the configured 500).
//! - Every user's mail file is seeded with the schema `nzsync` and the scope `mail{name}`
//!   (`maildemo`): forms `Person` and `Task` with DESIGN.md §4.4's items, `OrgConfidential`,
//!   `Categories` and `ZohoCRMId`, modes `default` and `dql`, DQL on, lists `($Contacts)` and
//!   `($ToDo)`, revision not required. Only the mode's fields are read or written; a user opens
//!   only their own mail file (403).
//! - Documents: 200 with `@meta` on writes; `etag` `W/" %08x"` of the seconds; `revision` 8 hex
//!   sequence + 16 hex time, new on every save by either API; a stale or missing `revision`
//!   (with `requireRevisionToUpdate`) → 409 (configurable); an unknown UNID 404, a malformed
//!   one 400; DELETE answers HCL's fixture shape.
//! - Lists page with `start`/`count` (1000, `-1` all), no total; `documents=true` gives
//!   flat-meta documents. DQL: terms, `and`/`or`/`not`, `@ModifiedInThisFile`/`@Created` with
//!   `@dt(…)` at any precision; bad DQL 400, no `dqlAccess` 403. Bulk: unid, create, delete,
//!   etag (`{"exists":false}` for deletions), update.
//! - PIM calendar: the DAS calendar store in JSCalendar form; recurring series as instances
//!   (default) or as one entry with rules (`recurring: series`); writes go through the DAS
//!   calendar service, `send=false` creating no notices and `send` defaulting to true; DELETE
//!   sends no cancellations. Errors `{"code","message"}`.
//! - Setup: schemas and scopes for one's own mail file with a `$SETUP` token.
//!
//! Zoho CRM:
//! - Versions v2, v2.1 and v3–v8 behave the same except that `fields` is optional in v2 and
//!   v2.1. Module names in URLs are case-insensitive. Modules: Contacts, Tasks, Accounts
//!   (Accounts so that `Account_Name` is a real lookup) and Events.
//! - Events: `Event_Title`, `Start_DateTime`, `End_DateTime` are mandatory; an end before the
//!   start → `INVALID_DATA` "End_DateTime should be greater than Start_DateTime" on
//!   `End_DateTime`. `Participants` (data type `multiselectlookup`): ≤50 else per-record
//!   `LIMIT_EXCEEDED` "Only 50 participants can be added to an event."; `type` must be lower case
//!   `contact` (an existing contact id), `user` (a user id), `lead` (any numeric id; Leads are
//!   not simulated) or `email` (with `Email`); rendered as `name`, `Email` (filled from the
//!   contact or user), `invited`, `type`, `participant`, `status`, `id`. `$send_notification:
//!   true` on the record marks participants invited (status `invited`, else `not_known`);
//!   participants kept across an update keep `id`, `invited`, `status`. `Remind_At` accepts the
//!   array form (`unit` 0–60, `period` minutes/mins/hours/hrs/days/weeks, stored as
//!   minutes/hours/…), the v2 datetime string and `{"ALARM"}`. Records carry `$event_cancelled`.
//!   `POST /Events/{id}/actions/cancel` → 200 `{"data":[{"code":"SUCCESS","details":{"id"},
//!   "message":"The event has been cancelled","status":"success"}]}`; 400 `NOT_ALLOWED` "The event
//!   is already cancelled", "The event has no invited participants" or "The event has already
//!   ended".
//! - Upsert: Tasks and Events → 400 `INVALID_MODULE` "the given module is not supported for this
//!   api". Contacts (system field Email) and Accounts (Account_Name) match case-insensitively in
//!   `duplicate_check_fields` order (default: system field, then unique/external fields); a name
//!   that is not allowed → 400 `INVALID_DATA` with `details.api_name` `duplicate_check_fields`.
//!   All-ok → 200, mixed 207, all failed 400. `If-Unmodified-Since` is honoured for matched
//!   records as on update (§1.6 "also on upsert"): all refused → 412. `duplicate_field` is
//!   left out on inserts (the OAS types it as a non-nullable string).
//! - Search: text fields' `equals` behaves like contains (case-insensitive); email/phone/number/
//!   date/datetime/boolean/lookup compare exactly; `phone=` compares digits only; `word=` looks
//!   in text, email, phone, picklist and website fields. Results sorted by id descending.
//!   Criteria errors → 400 `INVALID_QUERY` "Invalid query formed" with `details.reason`. The
//!   index lag (§2.2) is `POST /_sim/config {"search_index_delay_secs":N}` (default 0): a record
//!   created or changed less than N seconds ago (simulator clock) is not found.
//! - COQL: `select cols from Module [where …] [order by c [asc|desc], …] [limit n[, m] | limit
//!   n offset m]` (`limit a, b` = offset a, count b; default limit 200, at most 2000, offset +
//!   limit ≤ 100,000). `Lookup.Field` columns go one hop. The record `id` is a column like a
//!   `bigint` field (`where id > … order by id`, compared exactly): a query in id order walks the
//!   id index from its `id >` bound, so keyset paging past 100,000 records costs a page each. Syntax errors → `SYNTAX_ERROR` "error
//!   occured while parsing the query" with `details {line, column, near}`; unknown module →
//!   `INVALID_QUERY` "Invalid module given"; Participants/Remind_At/RRULE anywhere and textarea
//!   fields in WHERE → `INVALID_QUERY` "data type not supported".
//! - Tags: `add_tags`/`remove_tags` take the v8 body (`tags`, `ids`, `over_write`) or the v2
//!   query parameters (`ids`, `tag_names`, `over_write`); unknown tag names are created on add;
//!   tagging updates `Modified_Time`. Record `Tag` entries carry `color_code` (one of the
//!   allowed colours, fixed per tag), `created_time`/`modified_time` and `created_by`/
//!   `modified_by` (the tag's creation, or the org's creation and the first user when unknown).
//!   Errors take tags.json's shapes: no `tags` or `ids` → 400 with a `REQUIRED_PARAM_MISSING`
//!   result in `data` (`details.param`); a body that is not an object → 400 `INVALID_DATA` with
//!   `details` `api_name` body, `json_path` `$`, `expected_data_type` jsonobject.
//! - `GET /settings/modules[/{api_name|id}]` lists the four modules with every key modules.json
//!   requires (empty `fields`, `layouts`, `profiles`, `related_lists`; `custom_view` the
//!   module's default view, "All …";
//!   `parent_module` Activities for Tasks and Events); an unknown module → 204; a `status`
//!   other than `visible` → 204 (no hidden modules), one modules.json does not list → 400
//!   `INVALID_DATA` with `details` `api_name`, `json_path` and `param_name` status.
//! - Paths crm-oas describes that the simulator leaves out (see "Not yet") answer 501
//!   `NOT_SUPPORTED` for the methods crm-oas gives them and 400 `INVALID_REQUEST_METHOD` for
//!   the others, as a path the simulator has does for a method it does not have.
//! - Limits (§5): defaults 1,000,000 credits per rolling 24 h (simulator clock), concurrency 20,
//!   sub-concurrency 10. Costs: 1 per call, 2 for `/deleted`, 3 with `cvid`, 1 per 10 records
//!   written (POST/PUT on a module, a record or `upsert`), 1 per 50 records tagged. Calls
//!   answered 401 cost nothing; calls refused with 429 are not charged. Concurrency counts CRM
//!   requests in flight from arrival (simulated latency included); heavy calls (writes of more
//!   than 10 records, COQL, lists with `cvid` or `sort_by`) also count against the
//!   sub-concurrency. Both limits answer 429 `TOO_MANY_REQUESTS` with the status-code page's
//!   text. `X-API-CREDITS-REMAINING` is set once used ≥ 50 %. `edition` sets credits and
//!   concurrency from the §5 tables for `licences` users. Limits and usage survive reset/load.
//! - A missing or malformed `Authorization` header gets the same 401 `INVALID_TOKEN` as an
//!   unknown or expired token.
//! - `info` keys whose value would be `null` (`next_page_token`, `previous_page_token`,
//!   `page_token_expiry`) are left out: the v8 OAS types them as non-nullable strings, and a
//!   client reading them as optional works either way. `previous_page_token` is given from page 2
//!   on. Page tokens are cursors (they continue after the last record served), bound to the user
//!   and to `fields`, `per_page`, `sort_by`, `sort_order`, `ids` and `If-Modified-Since`. Errors:
//!   `page`+`page_token` → `AMBIGUITY_DURING_PROCESSING`; other user's or unknown token →
//!   `INVALID_DATA`; changed parameters → `TOKEN_BOUND_DATA_MISMATCH`; older than 24 h →
//!   `EXPIRED_VALUE`; beyond 100,000 records → `PAGINATION_LIMIT_EXCEEDED` (all 400). Tests
//!   lower that wall with `POST /_sim/config {"page_token_records":N}`, so that a listing that
//!   meets it needs no 100,000 records to load.
//! - `per_page` above 200 or below 1, `page` below 1, an unknown `sort_by` or `sort_order`, and an
//!   unparsable `If-Modified-Since` are 400 `INVALID_DATA` with `details.param_name`. Unknown names
//!   in `fields` are ignored. `fields` over 50 → 400 `LIMIT_EXCEEDED` "Fields limit exceeded"
//!   with `details.limit` 50.
//! - `GET /{module}/{id}` for an unknown or deleted id → 204. It returns every field.
//! - Writes: more than 100 records → 400 `LIMIT_EXCEEDED` "Record count exceeded" with
//!   `details.limit` 100. A body that is not a JSON object → 400 `INVALID_DATA` "body" with
//!   `details.expected_data_type` `jsonobject`; a missing or empty `data` array → 400
//!   `REQUIRED_PARAM_MISSING` with `details.param_name` `data`. Unknown fields, `$`-keys and
//!   read-only fields are ignored. Picklists accept new values. `Account_Name` accepts only
//!   `{"id"}` of an existing account (§3.2 "Lookup `{"id"}` in"); `{"name"}` alone or an
//!   unknown id → `INVALID_DATA` on `Account_Name`, and nothing is created.
//!   `Owner` defaults to the caller; given, it must be `{"id"}` of a user of the org, else the
//!   per-record `INVALID_DATA` on `Owner` (`expected_data_type` `jsonobject`). `Tag` accepts `[{"name"}|{"id"}]` and replaces the record's tags.
//!   Setting a Task's Status to "Completed" sets `Closed_Time`.
//! - Field lengths are the real standard lengths (First_Name 40, Last_Name 80, Email 100, Title
//!   100, Subject 255, Description 32000, phones 30); a custom text field defaults to 255.
//!   `maximum_length` in errors is a number.
//! - Unique values (fields marked unique, and external org fields) are compared
//!   case-insensitively; a batch sees the records inserted earlier in the same batch.
//! - Per-record errors keep the order of the input. Update of an unknown or deleted id →
//!   `INVALID_DATA` "the id given seems to be invalid" with `details.id`; delete of a deleted id →
//!   `INVALID_DATA` "record not deleted"; delete of a malformed (non-numeric) id without
//!   `X-EXTERNAL` → `UNABLE_TO_PARSE_DATA_TYPE` (§1.8) with `details.id` and the message Zoho
//!   gives that code, "either the request body or parameters is in wrong format"; update of a
//!   non-numeric id → `INVALID_DATA` "the id given seems to be invalid" (§1.6 "bad id"). All
//!   failed with `ALREADY_MODIFIED` (`If-Unmodified-Since`, update or upsert) → 412.
//! - Deleted records go to the recycle bin; `/deleted` shows them for 60 days.
//! - Every user sees and may change every record (org-wide public sharing); only field creation
//!   is restricted to the admin. Owners matter to custom views ("My …") and `cvid` listings.
//! - Custom views (custom_views.json; `zoho/views.rs` has the table): per module the system
//!   views "All {plural}" (`ALLVIEWS`, the default), "My {plural}" (`MYCONTACTS`, `MYTASKS`,
//!   `MYACCOUNTS`, `MYEVENTS`; Events are "Meetings"), "Recently Created/Modified {plural}"
//!   (`RECENTLYCREATED`/`RECENTLYMODIFIED`, last 7 days) and for Tasks "My Open Tasks"
//!   (`MYOPENTASKS`), plus views users made (dump/load, `POST /_sim/custom_views`), with criteria
//!   (`zoho/criteria.rs`: `equal`, `not_equal`, `starts_with`, `ends_with`, `contains`,
//!   `not_contains`, `in`, `not_in`, `greater_*`/`less_*`; groups `and`/`or`; `${CURRENTUSER}`,
//!   `${LASTnDAYS}`, `${TODAY}`, `${EMPTY}`). Text compares case-insensitively.
//! - `cvid` on a listing keeps the view's records (for "My …", the caller's), in the view's
//!   order (`sort_by` Created_Time or Modified_Time, `info.sort_by` says which; `sort_order`
//!   may reverse it), combined with `ids`, `If-Modified-Since` (304 when nothing in the view
//!   changed), `fields` and paging; page tokens are bound to the `cvid` too. `cvid` with
//!   `sort_by` → 400 `AMBIGUITY_DURING_PROCESSING` (`ambiguity_due_to` cvid, sort_by); a cvid
//!   that is malformed, unknown, of another module or of a view the caller may not see → 400
//!   `INVALID_DATA` "invalid data" with `details.param_name` `cvid`.
//! - `ids` on a listing: at most 100 (more → 400 `LIMIT_EXCEEDED` "ids limit exceeded" with
//!   `details.limit` 100 and `param_name` `ids`); ids of no record (unknown, deleted, malformed)
//!   are left out; none found → 204. With `fields=id,Owner` a row is just `{"Owner","id"}`.
//! - Change owner (change_owner.json; `zoho/owner.rs` has the details): `POST
//!   /{module}/actions/change_owner` (`ids` ≤ 500, `owner`, `related_modules`, `notify`) and
//!   `POST /{module}/{id}/actions/change_owner` → 202 with per-record `SUCCESS` "owner is
//!   successfully updated" or `INVALID_DATA` (400 when none changed); an owner who is no user →
//!   400 `INVALID_DATA` "the owner id given is invalid" (`param_name` owner). A new owner, by
//!   this or by an update of `Owner`, sets `Modified_Time` and `Modified_By`.
//! - `/settings/fields` without `module` → 400 `REQUIRED_PARAM_MISSING` (`param_name`); with an
//!   unknown one → 400 `INVALID_MODULE` with `details.api_name` module (fields.json).
//! - `POST /settings/fields` needs an admin (others get 403 `NO_PERMISSION`); api_name = label
//!   with runs of non-alphanumerics turned into `_`; at most two unique/external fields per
//!   module (`LIMIT_EXCEEDED` with `limit` and `limit_due_to`); a label or api_name that exists
//!   → `INVALID_DATA` "duplicate data" (fields.json lists no `DUPLICATE_DATA` for this
//!   operation); external is refused for email and textarea types (`INVALID_DATA`).
//! - Users: `type` defaults to AllUsers. `time_zone` is the IANA name as a string and the users'
//!   e-mails are `demo@example.com` / `user2@example.com`, as real responses and the brief have
//!   them, although users.json types `time_zone` as an object and gives `email` a pattern. The
//!   org has a third, active user in every seed: 山口 美穂 (`5725767000000411009`,
//!   `miho.yamaguchi@example.com`, Sales Manager, Standard profile, Asia/Tokyo), with no
//!   refresh token (she can sign in through the authorization-code flow).
//! - Token endpoint: an unknown `grant_type` → `{"error":"unsupported_grant_type"}`. The
//!   authorization-code flow (`GET`/`POST /oauth/v2/auth`, `grant_type=authorization_code`) is
//!   described in `zoho/oauth.rs`: codes are single-use, live 120 s and are bound to the client
//!   and `redirect_uri`. Access tokens look like `1000.<32 hex>.<32 hex>`. Only granted tokens
//!   count towards the 10-per-10-minutes limit.
//! - Scopes: a token carries the scopes of its grant (`demo-refresh` and `user2-refresh` have
//!   all of them). A records call outside them is 401 `OAUTH_SCOPE_MISMATCH` "Client does not
//!   have ZohoCRM.modules.{module}.{READ|CREATE|UPDATE|DELETE} scope"; `ZohoCRM.modules.ALL`,
//!   `…{module}.ALL` and, for changes, `…{module}.WRITE` cover an operation.
//! - `X-EXTERNAL: {Module}.{external field}` is honoured for `GET`/`PUT`/`DELETE
//!   /{module}/{value}` and for `ids=` (exact, case-sensitive value).
//! - Fault bodies: a `status` fault answers 429 with `TOO_MANY_REQUESTS`, 5xx with
//!   `INTERNAL_ERROR` (Zoho JSON) or a Domino HTML error page. A `drop` fault aborts the response
//!   stream, so the client sees a connection error (possibly after the status line).
//! - Seed data: the first Domino user gets the "demo" data set and the second the "user2" set.
//!   Contents are fixed; timestamps and due dates are relative to the start time. Demo: 200
//!   Notes contacts (5 private), 30 to-dos (a few private, most with a rich-text Body), 5 mails;
//!   170 Zoho contacts of which 40 of demo's and 8 of user2's share an e-mail with a Notes
//!   contact (some with another phone or title), about 8 tagged `Private`, accounts for their
//!   companies, and about 25 Zoho tasks of which exactly 10 (8 of demo's, 2 of user2's) match a
//!   Notes to-do by subject and due date. Calendars: about 40 entries per user within a month of
//!   the start (meetings inviting the other user, all-day, private/confidential, UTC and `tzid`
//!   times with `Eastern`/`Tokyo Standard Time` definitions, three weekly series); user2 gets
//!   demo's invitations and vice versa. About 20 Zoho Events for demo, 10 matching a Notes entry
//!   by title and start, some tagged Private, some with Participants. The sales manager owns,
//!   after all of those (their ids and counts unchanged), 20 contacts (6 sharing an e-mail with
//!   demo's Notes contacts, 2 of them also demo's CRM contacts; 2 with user2's, one also
//!   user2's; 3 carrying the names of other users' contacts), 6 to-dos (one with the subject
//!   and due date of a demo Notes to-do, a "Dentist appointment", one tagged Private) and 6
//!   meetings (a "Dentist appointment", a tagged private dinner, team meetings with demo and
//!   user2 as participants). Custom views made by users: demo's public "東京の顧客" (Contacts,
//!   Mailing_State equal 東京都), user2's only_to_me "My VIP contacts", and the manager's "Team
//!   open tasks" (Tasks, shared with demo).
//! - `POST /_sim/reset` without `?seed=` resets to `Seed::Empty`; issued Zoho access tokens and
//!   Domino sessions survive a reset or load.
//!
//! ## Scale
//!
//! The simulators hold a million records per database or module and answer a sync's requests
//! without scanning them (`cargo bench -p nzsync-sim --bench scale` measures it):
//! - Domino: documents are indexed by UNID and by modification time (`documents?since=` reads
//!   only what changed, in the order documents were added, as before); every view keeps its
//!   entries sorted as documents are written (`domino/view_index.rs`, `domino/order.rs`), so a
//!   page is a seek to `start` plus the page. `sortcolumn` and `keys` still sort or scan the
//!   view (people browsing use them, a sync does not). The calendar list sorts its window's
//!   rows and renders only the page.
//! - Zoho: records are indexed by id, created and modified time, and by the values of unique
//!   fields (duplicate checks, upserts, `X-EXTERNAL`); a `page_token` listing walks the order
//!   from its cursor, filtering as it goes (custom views, owner), and stops after the page;
//!   `If-Modified-Since` with few changes, and `ids`, sort only those records.
//! - Bulk load for benchmarks: [`bench_data`] makes the data sets the benches use from counts
//!   (per module 45 % only in Notes, 45 % only in the CRM, 10 % on both), and
//!   [`Simulators::load_bench_data`] loads them through the `/_sim/load` path: a million
//!   contacts in seconds.
//!
//! ## Not yet
//!
//! DRAPI: see the [`drapi`] module docs (OData, attachments, view keys and sorting, full-text
//! search, external field names, PIM mail and contacts, quick config).
//! Domino: iCalendar format, the calendar actions delegate/counter/requestInfo/processAll/
//! removeCancelled, `X-DAS-Token` CSRF and `/api/core/nonce`, attachments,
//! view-entry updates, creating through a view, agents and agent jobs, the forms list,
//! categories/`parentid`/`startkeys`/`expandlevel` on view entries, `$UpdatedBy`/`$Revisions`.
//! Zoho: scopes of the settings, users and org APIs, writes to `/settings/modules`, changing
//! and deleting fields, writes to users, user counts and groups, the org's and records'
//! photos, tag administration (`/settings/tags`), mass update, territories, record counts,
//! full data and clone, notifications (watch), `X-EXTERNAL` lookup-by-external
//! value in bodies, What_Id/`$se_module`, Recurring_Activity expansion, custom view writes
//! (`change_sort`, creating views through the API), `last_accessed_time` and favourites of
//! views, record-level sharing rules (every user sees every record).

#![recursion_limit = "512"]
// Request helpers return the early HTTP answer as their `Err`; boxing it would only add noise.
#![allow(clippy::result_large_err)]

pub mod bench_data;
mod common;
pub mod domino;
pub mod drapi;
mod sample;
mod sample_cal;
pub mod spec;
pub mod zoho;

use std::net::{Ipv4Addr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use common::{CallRecord, FaultKind, FaultRule};
pub use domino::{DominoState, domino_router};
pub use drapi::drapi_router;
pub use zoho::{ZohoState, zoho_router};

/// Which data the simulators start with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Seed {
    /// Sample contacts, to-dos and mails on both sides, with realistic overlap.
    Demo,
    /// Users, org and configuration only.
    #[default]
    Empty,
}

impl FromStr for Seed {
    type Err = String;

    fn from_str(s: &str) -> Result<Seed, String> {
        match s.to_ascii_lowercase().as_str() {
            "demo" => Ok(Seed::Demo),
            "empty" => Ok(Seed::Empty),
            other => Err(format!("unknown seed {other:?} (expected demo or empty)")),
        }
    }
}

/// How to start the simulators.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimConfig {
    /// Domino port (Domino Access Services); 0 picks a free one.
    pub domino_port: u16,
    /// The Domino REST API's port: `None` for the DAS port + 2 (18083 beside the default
    /// 18081; a free port when the DAS port is 0 or that one is taken), `Some(0)` for a free
    /// port.
    pub drapi_port: Option<u16>,
    /// Zoho port; 0 picks a free one.
    pub zoho_port: u16,
    /// Added to every non-`/_sim/` request.
    pub latency_ms: u64,
    pub seed: Seed,
    /// `(name, password)`; empty means `[("demo", "demo")]`. Each user gets `mail/{name}.nsf`.
    pub domino_users: Vec<(String, String)>,
    /// Check every answer against the vendors' OpenAPI specs ([`spec`]); read the findings
    /// with [`Simulators::spec_reports`] or `GET /_sim/spec`.
    pub spec_check: bool,
}

impl SimConfig {
    /// Both simulators on free loopback ports, without latency, holding `seed`, with the
    /// default Domino user (what tests and benchmarks start with).
    #[must_use]
    pub fn loopback(seed: Seed) -> Self {
        SimConfig {
            domino_port: 0,
            zoho_port: 0,
            seed,
            ..SimConfig::default()
        }
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            domino_port: 18081,
            drapi_port: None,
            zoho_port: 18082,
            latency_ms: 0,
            seed: Seed::Empty,
            domino_users: Vec::new(),
            spec_check: false,
        }
    }
}

struct Server {
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

/// Both simulators, running: Domino on two ports (DAS, and the Domino REST API), Zoho on one.
pub struct Simulators {
    /// e.g. `http://127.0.0.1:18081` (no trailing slash).
    pub domino_url: String,
    /// The Domino REST API of the same Domino server, e.g. `http://127.0.0.1:18083` (no
    /// trailing slash): `/api/v1`, `/api/pim-v1`, `/api/setup-v1`.
    pub drapi_url: String,
    /// e.g. `http://127.0.0.1:18082` (no trailing slash).
    pub zoho_url: String,
    domino: DominoState,
    zoho: ZohoState,
    servers: Vec<Server>,
}

impl std::fmt::Debug for Simulators {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulators")
            .field("domino_url", &self.domino_url)
            .field("drapi_url", &self.drapi_url)
            .field("zoho_url", &self.zoho_url)
            .finish_non_exhaustive()
    }
}

async fn serve(listener: TcpListener, router: axum::Router) -> Server {
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    Server { stop, task }
}

/// The Domino REST API's listener: on `drapi_port` when given, else on the DAS port + 2 (18083
/// beside the default 18081), or on a free port when the DAS port is 0 or that one is taken.
async fn bind_drapi(domino_port: u16, drapi_port: Option<u16>) -> std::io::Result<TcpListener> {
    if let Some(port) = drapi_port {
        return TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await;
    }
    if domino_port != 0
        && let Some(port) = domino_port.checked_add(2)
        && let Ok(listener) = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await
    {
        return Ok(listener);
    }
    TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await
}

/// Start both simulators on `127.0.0.1`: DAS, the Domino REST API (same Domino server) and
/// Zoho, each on its own port.
pub async fn start(cfg: SimConfig) -> std::io::Result<Simulators> {
    // One "now" for both seeds, so relative due dates agree even across midnight.
    let now = chrono::Utc::now();
    let domino = DominoState::new_at(cfg.domino_users.clone(), cfg.seed, now);
    let zoho = ZohoState::new_at(cfg.seed, now);
    domino.set_latency_ms(cfg.latency_ms);
    domino.set_drapi_latency_ms(cfg.latency_ms);
    zoho.set_latency_ms(cfg.latency_ms);
    domino.set_spec_check(cfg.spec_check);
    domino.set_drapi_spec_check(cfg.spec_check);
    zoho.set_spec_check(cfg.spec_check);
    let domino_listener =
        TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, cfg.domino_port))).await?;
    let zoho_listener =
        TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, cfg.zoho_port))).await?;
    let drapi_listener = bind_drapi(cfg.domino_port, cfg.drapi_port).await?;
    let domino_url = format!("http://{}", domino_listener.local_addr()?);
    let drapi_url = format!("http://{}", drapi_listener.local_addr()?);
    let zoho_url = format!("http://{}", zoho_listener.local_addr()?);
    domino.set_base_url(&domino_url);
    domino.set_drapi_base_url(&drapi_url);
    zoho.set_base_url(&zoho_url);
    let servers = vec![
        serve(domino_listener, domino_router(domino.clone())).await,
        serve(drapi_listener, drapi_router(domino.clone())).await,
        serve(zoho_listener, zoho_router(zoho.clone())).await,
    ];
    tracing::info!(%domino_url, %drapi_url, %zoho_url, "simulators started");
    Ok(Simulators {
        domino_url,
        drapi_url,
        zoho_url,
        domino,
        zoho,
        servers,
    })
}

impl Simulators {
    /// The Domino simulator's state (for direct dumps, loads and faults from Rust).
    pub fn domino(&self) -> &DominoState {
        &self.domino
    }

    /// The Zoho simulator's state.
    pub fn zoho(&self) -> &ZohoState {
        &self.zoho
    }

    /// Replace both simulators' data with a benchmark data set (Notes side in mail file `db`).
    ///
    /// # Errors
    /// A simulator refused the data (see `DominoState::load`, `ZohoState::load`).
    pub fn load_bench_data(&self, data: &bench_data::BenchData, db: &str) -> Result<(), String> {
        let (notes, crm) = data.dumps(db);
        self.domino.load(&notes)?;
        self.zoho.load(&crm)
    }

    /// What the spec check found on DAS and on Zoho (`None` while it is off); the Domino
    /// REST API's is [`Simulators::drapi_spec_report`].
    #[must_use]
    pub fn spec_reports(&self) -> [Option<spec::SpecReport>; 2] {
        [self.domino.spec_report(), self.zoho.spec_report()]
    }

    /// What the spec check found on the Domino REST API's port (`None` while it is off).
    #[must_use]
    pub fn drapi_spec_report(&self) -> Option<spec::SpecReport> {
        self.domino.drapi_spec_report()
    }

    /// Every answer that broke its vendor spec so far, one line each (empty while the check
    /// is off).
    #[must_use]
    pub fn spec_violations(&self) -> Vec<String> {
        self.spec_reports()
            .into_iter()
            .chain([self.drapi_spec_report()])
            .flatten()
            .flat_map(|r| r.violations)
            .map(|v| {
                format!(
                    "{} → {}: {}",
                    v.request,
                    v.operation,
                    v.mismatches.join("; ")
                )
            })
            .collect()
    }

    /// Panics, listing them, if any answer broke its vendor spec: what test suites call when a
    /// test ends (unless it is already failing).
    pub fn assert_spec_faithful(&self) {
        let violations = self.spec_violations();
        assert!(
            violations.is_empty(),
            "answers that break the vendor specs:\n{}",
            violations.join("\n")
        );
    }

    /// Stop every server (waits up to 5 s for open connections, then aborts them).
    pub async fn shutdown(self) {
        for server in self.servers {
            let _ = server.stop.send(());
            let mut task = server.task;
            if tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }
}
