//! The simulators' answers checked against the vendors' own API descriptions: IBM's OpenAPI
//! 2.0 specs of the DAS data and calendar services, HCL's OpenAPI 3.0 specs of the Domino REST
//! API (basis, PIM, setup) and Zoho's OpenAPI 3.0 specs of CRM v8 (`tests/simulators/specs/`,
//! provenance in its README).
//!
//! With [`crate::SimConfig::spec_check`] on (or `POST /_sim/spec {"enabled":true}`), the
//! middleware of each simulator reads back every answer it sends outside `/_sim/` (except those
//! a `drop` or `truncate` fault cuts short), finds the operation the request hit, and checks the
//! body against the schema the spec gives for the status. `GET /_sim/spec` reports the
//! operations and statuses checked, the answers the specs do not describe, and every mismatch;
//! the test suites fail on any mismatch.
//!
//! How an answer finds its schema:
//! - The operation is the spec path whose segments match the request's, literal segments
//!   beating `{parameters}` (so `/crm/v8/Contacts/deleted` is the deleted-records operation, not
//!   a record id). Zoho paths of any version (`/crm/v2/…` to `/crm/v8/…`) are checked against
//!   v8: the simulator gives every version the v8 shapes (see the crate's choices). DAS paths
//!   of a database at the data directory's root (`/names.nsf/api/…`) match the spec's
//!   `/{folder}/{database}/…` as if in a folder. `X-HTTP-Method-Override` names the method.
//!   The Domino REST API's paths are the spec's templates under the spec's server URL
//!   (`/api/v1`, `/api/pim-v1`, `/api/setup-v1`).
//! - The status's own schema when the spec describes the status. crm-oas describes most
//!   operations with a 200 only (and folds a per-record error object into it), so a Zoho JSON
//!   answer with an undescribed status is checked against the operation's success schema (201,
//!   an all-ok 200 written as 201) or common.json's `API_Exception` (errors: `status`, `code`,
//!   `message`, `details`, all required). A batch answer with failures (207, or a 400 with
//!   `data`) checks each result in `data` alone against the operation's success or described
//!   error schema. DAS
//!   errors of every service share one body format (domino-api.md §1.7), which calendar.yaml
//!   names `errorResponse`: a DAS JSON error answer with an undescribed status is checked
//!   against it. A Domino REST API JSON error with an undescribed status is checked against
//!   its document's `ErrorMessage` (basis and setup `{status,message,details}`, PIM
//!   `{code,message}`).
//! - A DAS answer in HTML (the session login form of domino-api.md §4.3, an HTTP error page)
//!   is the server's page, not the service's: it is counted as undescribed.
//! - An answer the specs describe without a schema (a 201 with only a `Location`, a 204) is
//!   counted as checked when it has no JSON body to contradict them.
//!
//! Where a vendor spec contradicts the server as documented in the references, the reference
//! wins, and [`ERRATA`] lists each such change to the spec with its reason.

mod schema;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Serialize;
use serde_json::Value;

use schema::Checker;

/// Which simulator answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// Domino Access Services (data and calendar).
    Domino,
    /// Zoho CRM (REST v2–v8).
    Zoho,
    /// The HCL Domino REST API (basis, PIM and setup).
    Drapi,
}

/// The vendored specs, one entry per document: name (its path under `specs/`), service, text.
const DOCUMENTS: &[(&str, Service, &str)] = &[
    (
        "domino-das/data.json",
        Service::Domino,
        include_str!("../../specs/domino-das/data.json"),
    ),
    (
        "domino-das/calendar.json",
        Service::Domino,
        include_str!("../../specs/domino-das/calendar.json"),
    ),
    (
        "zoho-crm-v8/record.json",
        Service::Zoho,
        include_str!("../../specs/zoho-crm-v8/record.json"),
    ),
    (
        "zoho-crm-v8/users.json",
        Service::Zoho,
        include_str!("../../specs/zoho-crm-v8/users.json"),
    ),
    (
        "zoho-crm-v8/org.json",
        Service::Zoho,
        include_str!("../../specs/zoho-crm-v8/org.json"),
    ),
    (
        "zoho-crm-v8/tags.json",
        Service::Zoho,
        include_str!("../../specs/zoho-crm-v8/tags.json"),
    ),
    (
        "zoho-crm-v8/fields.json",
        Service::Zoho,
        include_str!("../../specs/zoho-crm-v8/fields.json"),
    ),
    (
        "zoho-crm-v8/modules.json",
        Service::Zoho,
        include_str!("../../specs/zoho-crm-v8/modules.json"),
    ),
    (
        "zoho-crm-v8/apis.json",
        Service::Zoho,
        include_str!("../../specs/zoho-crm-v8/apis.json"),
    ),
    (
        "zoho-crm-v8/custom_views.json",
        Service::Zoho,
        include_str!("../../specs/zoho-crm-v8/custom_views.json"),
    ),
    (
        "zoho-crm-v8/change_owner.json",
        Service::Zoho,
        include_str!("../../specs/zoho-crm-v8/change_owner.json"),
    ),
    (
        "zoho-crm-v8/profiles.json",
        Service::Zoho,
        include_str!("../../specs/zoho-crm-v8/profiles.json"),
    ),
    (
        "zoho-crm-v8/common.json",
        Service::Zoho,
        include_str!("../../specs/zoho-crm-v8/common.json"),
    ),
    (
        "domino-rest-api/openapi.basis.json",
        Service::Drapi,
        include_str!("../../specs/domino-rest-api/openapi.basis.json"),
    ),
    (
        "domino-rest-api/openapi.pim.json",
        Service::Drapi,
        include_str!("../../specs/domino-rest-api/openapi.pim.json"),
    ),
    (
        "domino-rest-api/openapi.setup.json",
        Service::Drapi,
        include_str!("../../specs/domino-rest-api/openapi.setup.json"),
    ),
];

/// A change to a vendor spec where it contradicts the server as documented in the references.
pub struct Erratum {
    /// Document name, as in `specs/`.
    pub document: &'static str,
    /// JSON pointer of the part changed (`""`: the whole document).
    pub pointer: &'static str,
    /// What changes there.
    pub change: Change,
    /// Why, with the reference that says so.
    pub why: &'static str,
}

/// How an [`Erratum`] changes its part of a spec.
pub enum Change {
    /// Put this schema (JSON) there.
    Replace(&'static str),
    /// Add these values to the `enum` there.
    AddToEnum(&'static [&'static str]),
    /// The response object there may also come with an empty body.
    EmptyBody,
    /// Every property named `message` below there takes any text.
    FreeMessages,
    /// Every `oneOf` below there becomes `anyOf`: at least one alternative, not exactly one.
    AnyOfForOneOf,
    /// The `pattern` there is dropped.
    NoPattern,
    /// The schema there, or this one (JSON): `{"anyOf":[<as written>, <this>]}`.
    OrElse(&'static str),
}

/// A DAS date: text, or with `strongtype` `{"data":"…","type":"datetime"}`.
const STRONGTYPE_DATE: &str = r#"{"anyOf":[{"type":"string"},{"type":"object",
    "required":["data","type"],"properties":{"type":{"type":"string","enum":["datetime"]}}}]}"#;

/// Marks a response object that may come with an empty body ([`Change::EmptyBody`]).
const EMPTY_BODY: &str = "x-nzsync-empty-body";

impl Erratum {
    fn apply(&self, root: &mut Value) -> Result<(), String> {
        let slot = root
            .pointer_mut(self.pointer)
            .ok_or_else(|| format!("erratum {} points nowhere", self.pointer))?;
        match &self.change {
            Change::Replace(schema) => {
                *slot = serde_json::from_str(schema)
                    .map_err(|e| format!("erratum {} is not JSON: {e}", self.pointer))?;
            }
            Change::AddToEnum(values) => {
                let list = slot
                    .get_mut("enum")
                    .and_then(Value::as_array_mut)
                    .ok_or_else(|| format!("erratum {} has no enum", self.pointer))?;
                list.extend(values.iter().map(|v| Value::String((*v).to_owned())));
            }
            Change::EmptyBody => {
                let object = slot
                    .as_object_mut()
                    .ok_or_else(|| format!("erratum {} is not a response", self.pointer))?;
                object.insert(EMPTY_BODY.into(), Value::Bool(true));
            }
            Change::FreeMessages => free_messages(slot),
            Change::AnyOfForOneOf => any_of_for_one_of(slot),
            Change::OrElse(schema) => {
                let other: Value = serde_json::from_str(schema)
                    .map_err(|e| format!("erratum {} is not JSON: {e}", self.pointer))?;
                let written = slot.take();
                *slot = serde_json::json!({ "anyOf": [written, other] });
            }
            Change::NoPattern => {
                let object = slot
                    .as_object_mut()
                    .ok_or_else(|| format!("erratum {} is not a schema", self.pointer))?;
                object
                    .remove("pattern")
                    .ok_or_else(|| format!("erratum {} has no pattern", self.pointer))?;
            }
        }
        Ok(())
    }
}

fn free_messages(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Object(properties)) = map.get_mut("properties")
                && let Some(Value::Object(message)) = properties.get_mut("message")
            {
                message.remove("enum");
            }
            map.values_mut().for_each(free_messages);
        }
        Value::Array(items) => items.iter_mut().for_each(free_messages),
        _ => {}
    }
}

fn any_of_for_one_of(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(branches) = map.remove("oneOf") {
                map.insert("anyOf".into(), branches);
            }
            map.values_mut().for_each(any_of_for_one_of);
        }
        Value::Array(items) => items.iter_mut().for_each(any_of_for_one_of),
        _ => {}
    }
}

/// Why crm-oas's `oneOf`s are read as `anyOf` ([`Change::AnyOfForOneOf`]).
const ONE_OF_OVERLAPS: &str = "crm-oas writes oneOf for alternatives that overlap: a success \
     wrapper and an error object whose properties are all optional, error details \
     (Expected_Data_Type, Error_Detail, …) that all accept {\"api_name\":…}. Under \
     \"exactly one\" every real answer, the documented examples included, would match two \
     alternatives and fail";

/// Why users.json's patterns are dropped ([`Change::NoPattern`]).
const SAMPLE_PATTERNS: &str = "users.json's patterns are shaped after one sample value (an \
     e-mail of nine letters at a five-letter domain, a web site of five letters, a name with an \
     ASCII letter or digit); a real org's users, like the simulator's (demo@example.com, \
     山口 美穂), have other addresses and names";

/// The status answers the Domino REST API's server sends for deletions and logouts: HCL's
/// own examples (`/bulk/delete`, `/auth/logout`, `DELETE /schema`) and fixtures.
const KEEP_STATUS: &str = r#"{"type":"object","required":["status","message"],
    "properties":{"statusText":{"type":"string"},"status":{"type":"integer"},
    "message":{"type":"string"},"unid":{"type":"string"}}}"#;

/// Why `StatusMessage` also takes [`KEEP_STATUS`].
const KEEP_STATUS_WHY: &str = "StatusMessage requires a text status and a statusCode, but the \
     spec's own examples of the logout, bulk-delete and schema-delete answers, and HCL's SDK \
     fixture of a document deletion (operation_status_response.json), carry statusText and a \
     numeric status (domino-rest-api.md §4.3)";

/// Every place where the checks depart from the vendor specs.
pub const ERRATA: &[Erratum] = &[
    Erratum {
        document: "domino-rest-api/openapi.basis.json",
        pointer: "/components/schemas/DocumentMeta/required",
        change: Change::Replace("[]"),
        why: "DocumentMeta requires Form, but no @meta the spec or HCL's fixtures show has it \
              (getDocument's and createDocument's examples, the query fixture): Form is an item \
              of the document beside @meta (domino-rest-api.md §3.3, §4.1)",
    },
    Erratum {
        document: "domino-rest-api/openapi.basis.json",
        pointer: "/components/schemas/StatusMessage",
        change: Change::OrElse(KEEP_STATUS),
        why: KEEP_STATUS_WHY,
    },
    Erratum {
        document: "domino-rest-api/openapi.setup.json",
        pointer: "/components/schemas/StatusMessage",
        change: Change::OrElse(KEEP_STATUS),
        why: KEEP_STATUS_WHY,
    },
    Erratum {
        document: "domino-das/data.json",
        pointer: "/definitions/document/additionalProperties",
        change: Change::Replace("{}"),
        why: "data.yaml types every item as an object; DAS sends text, numbers, arrays and, \
              with strongtype, typed objects (domino-api.md §1.6)",
    },
    Erratum {
        document: "domino-das/data.json",
        pointer: "/definitions/document/properties/@created",
        change: Change::Replace(STRONGTYPE_DATE),
        why: "with strongtype=true, @created and @modified are datetime objects like every \
              date item (domino-api.md §1.6, from the service's code)",
    },
    Erratum {
        document: "domino-das/data.json",
        pointer: "/definitions/document/properties/@modified",
        change: Change::Replace(STRONGTYPE_DATE),
        why: "as for @created",
    },
    Erratum {
        document: "domino-das/data.json",
        pointer: "/definitions/viewEntry/additionalProperties",
        change: Change::Replace("{}"),
        why: "data.yaml types every view column as an object; DAS sends column values as \
              text, numbers or arrays (domino-api.md §1.4)",
    },
    Erratum {
        document: "domino-das/calendar.json",
        pointer: "/paths/~1{folder}~1{database}~1api~1calendar~1events/get/responses/200",
        change: Change::EmptyBody,
        why: "an event list with no events in the window is 200 with no body and no \
              Content-Type (domino-api.md §2.2, from the service's code)",
    },
    Erratum {
        document: "zoho-crm-v8/record.json",
        pointer: "",
        change: Change::FreeMessages,
        why: "crm-oas lists sample messages as enums; Zoho's messages are free text and the \
              references document many it does not list (zoho-crm-api.md §1.4, §2.2, §3.4, §5)",
    },
    Erratum {
        document: "zoho-crm-v8/record.json",
        pointer: "/components/schemas/API_Exception/properties/code",
        change: Change::AddToEnum(&["ALREADY_MODIFIED", "UNABLE_TO_PARSE_DATA_TYPE"]),
        why: "per-record codes the references document that crm-oas does not list: \
              If-Unmodified-Since → ALREADY_MODIFIED (zoho-crm-api.md §1.6) and a malformed \
              id on delete → UNABLE_TO_PARSE_DATA_TYPE (§1.8)",
    },
    Erratum {
        document: "zoho-crm-v8/record.json",
        pointer: "/components/schemas/API_Exception/properties/details/properties/maximum_length",
        change: Change::Replace(r#"{"type":"integer"}"#),
        why: "record.json types it as text, but crm-oas's own error examples give the length \
              as a number (e.g. scoring_rules' INVALID_DATA: \"maximum_length\": 25)",
    },
    Erratum {
        document: "zoho-crm-v8/users.json",
        pointer: "/components/schemas/users/properties/time_zone",
        change: Change::Replace(r#"{"type":"string","nullable":true}"#),
        why: "users.json types time_zone as an object; Zoho's Get Users samples give the \
              IANA name as text (\"Asia/Kolkata\"), and datetimes are in that zone \
              (zoho-crm-api.md §3.2)",
    },
    Erratum {
        document: "zoho-crm-v8/tags.json",
        pointer: "",
        change: Change::FreeMessages,
        why: "as for record.json: the messages of tag results are free text",
    },
    Erratum {
        document: "zoho-crm-v8/fields.json",
        pointer: "/components/responses/ErrorResponse/content/application~1json/schema",
        change: Change::OrElse(r##"{"$ref":"common.json#/components/schemas/API_Exception"}"##),
        why: "fields.json's 400 for creating and changing fields lists only the per-field \
              results ({\"fields\":[…]}); a request refused as a whole (no or an unknown \
              `module`, which GET /settings/fields answers with a top-level INVALID_MODULE or \
              REQUIRED_PARAM_MISSING; a body that is not JSON) has no per-field results and \
              gets a top-level error, common.json's API_Exception",
    },
    Erratum {
        document: "zoho-crm-v8/fields.json",
        pointer: "/components/responses/ErrorResponse/content/application~1json/schema",
        change: Change::OrElse(
            r##"{"type":"object","required":["fields"],"properties":{"fields":{"type":"array",
            "items":{"anyOf":[{"$ref":"#/components/schemas/InvalidTypeError"},
            {"$ref":"#/components/schemas/MandatoryError"},
            {"$ref":"#/components/schemas/DependeeError"},
            {"$ref":"#/components/schemas/InvalidValueError"},
            {"$ref":"#/components/schemas/LimitError"},
            {"$ref":"common.json#/components/schemas/MaxLengthError"}]}}}}"##,
        ),
        why: "each field of a batch gets its own result, in the order given (zoho-crm-api.md \
              §1.1: one entry per input record); fields.json's wrappers each allow one kind of \
              error in the whole `fields` array, so a batch with a missing label and a bad \
              data type would match none of them",
    },
    Erratum {
        document: "zoho-crm-v8/change_owner.json",
        pointer: "/components/responses/ErrorResponse/content/application~1json/schema",
        change: Change::OrElse(r##"{"$ref":"common.json#/components/schemas/API_Exception"}"##),
        why: "change_owner.json lists the errors of changing owners; a request for a module \
              that does not exist is refused before that with the INVALID_MODULE every \
              module-scoped API answers (record.json's errors for `{module_api_name}`), \
              common.json's API_Exception",
    },
    Erratum {
        document: "zoho-crm-v8/users.json",
        pointer: "/components/schemas/users/properties/email",
        change: Change::NoPattern,
        why: SAMPLE_PATTERNS,
    },
    Erratum {
        document: "zoho-crm-v8/users.json",
        pointer: "/components/schemas/users/properties/first_name",
        change: Change::NoPattern,
        why: SAMPLE_PATTERNS,
    },
    Erratum {
        document: "zoho-crm-v8/users.json",
        pointer: "/components/schemas/users/properties/last_name",
        change: Change::NoPattern,
        why: SAMPLE_PATTERNS,
    },
    Erratum {
        document: "zoho-crm-v8/users.json",
        pointer: "/components/schemas/users/properties/website",
        change: Change::NoPattern,
        why: SAMPLE_PATTERNS,
    },
    Erratum {
        document: "zoho-crm-v8/custom_views.json",
        pointer: "/components/schemas/Criteria/properties/value",
        change: Change::Replace(r#"{"nullable":true}"#),
        why: "custom_views.json types a criterion's value as an object; criteria compare a \
              field with text, a number or a list (zoho-crm-api.md §2.2: \
              `(Field:op:value)` with text, dates and `in` lists), as the comparators crm-oas \
              names (record.json's Criteria: `equal`, `starts_with`, `in`) need",
    },
    Erratum {
        document: "zoho-crm-v8/record.json",
        pointer: "",
        change: Change::AnyOfForOneOf,
        why: ONE_OF_OVERLAPS,
    },
    Erratum {
        document: "zoho-crm-v8/users.json",
        pointer: "",
        change: Change::AnyOfForOneOf,
        why: ONE_OF_OVERLAPS,
    },
    Erratum {
        document: "zoho-crm-v8/org.json",
        pointer: "",
        change: Change::AnyOfForOneOf,
        why: ONE_OF_OVERLAPS,
    },
    Erratum {
        document: "zoho-crm-v8/tags.json",
        pointer: "",
        change: Change::AnyOfForOneOf,
        why: ONE_OF_OVERLAPS,
    },
    Erratum {
        document: "zoho-crm-v8/fields.json",
        pointer: "",
        change: Change::AnyOfForOneOf,
        why: ONE_OF_OVERLAPS,
    },
    Erratum {
        document: "zoho-crm-v8/modules.json",
        pointer: "",
        change: Change::AnyOfForOneOf,
        why: ONE_OF_OVERLAPS,
    },
    Erratum {
        document: "zoho-crm-v8/apis.json",
        pointer: "",
        change: Change::AnyOfForOneOf,
        why: ONE_OF_OVERLAPS,
    },
    Erratum {
        document: "zoho-crm-v8/custom_views.json",
        pointer: "",
        change: Change::AnyOfForOneOf,
        why: ONE_OF_OVERLAPS,
    },
    Erratum {
        document: "zoho-crm-v8/change_owner.json",
        pointer: "",
        change: Change::AnyOfForOneOf,
        why: ONE_OF_OVERLAPS,
    },
    Erratum {
        document: "zoho-crm-v8/common.json",
        pointer: "",
        change: Change::AnyOfForOneOf,
        why: ONE_OF_OVERLAPS,
    },
    Erratum {
        document: "zoho-crm-v8/profiles.json",
        pointer: "",
        change: Change::AnyOfForOneOf,
        why: ONE_OF_OVERLAPS,
    },
    Erratum {
        document: "zoho-crm-v8/profiles.json",
        pointer: "/components/schemas/Profile/required",
        change: Change::Replace(r#"["name","description","id","display_label"]"#),
        why: "Zoho's Get Profiles docs: permissions_details (and sections) are \"rendered in \
              the response only when you fetch a specific profile\", and the samples of the \
              system profiles give no category and null creation and modification details",
    },
    Erratum {
        document: "zoho-crm-v8/profiles.json",
        pointer: "/components/schemas/Profile/properties/created_time",
        change: Change::Replace(r#"{"type":"string","nullable":true}"#),
        why: "the samples of Get Profiles give null for the system profiles \
              (Administrator, Standard), which nobody created",
    },
    Erratum {
        document: "zoho-crm-v8/profiles.json",
        pointer: "/components/schemas/Profile/properties/modified_time",
        change: Change::Replace(r#"{"type":"string","nullable":true}"#),
        why: "as for created_time",
    },
    Erratum {
        document: "zoho-crm-v8/profiles.json",
        pointer: "/components/schemas/Profile/properties/created_by",
        change: Change::Replace(r#"{"nullable":true}"#),
        why: "as for created_time: null for the system profiles",
    },
    Erratum {
        document: "zoho-crm-v8/profiles.json",
        pointer: "/components/schemas/Profile/properties/modified_by",
        change: Change::Replace(r#"{"nullable":true}"#),
        why: "as for created_time",
    },
];

/// One operation of a spec: method, path template and the responses it describes.
struct Operation {
    document: usize,
    method: String,
    /// The template as written, e.g. `/crm/v8/{module_api_name}/{id}`.
    template: String,
    /// `None` for a `{parameter}` segment.
    segments: Vec<Option<String>>,
    /// Status (`"200"`, `"default"`) → the response's JSON schema, if it gives one.
    responses: BTreeMap<String, Option<Value>>,
    /// Statuses whose answer may have an empty body ([`Change::EmptyBody`]).
    empty_ok: Vec<String>,
}

/// The parsed specs with their errata applied.
pub struct Specs {
    names: Vec<&'static str>,
    services: Vec<Service>,
    roots: Vec<Value>,
    operations: Vec<Operation>,
}

/// The vendored specs, parsed once.
///
/// # Panics
/// If a vendored document is not JSON or an erratum points nowhere: both are fixed files of
/// this crate, checked by its tests.
pub fn specs() -> &'static Specs {
    static SPECS: OnceLock<Specs> = OnceLock::new();
    SPECS.get_or_init(|| {
        let documents = DOCUMENTS
            .iter()
            .map(|(name, service, text)| {
                let mut root: Value = serde_json::from_str(text)
                    .unwrap_or_else(|e| panic!("specs/{name} is not JSON: {e}"));
                for erratum in ERRATA.iter().filter(|e| e.document == *name) {
                    if let Err(e) = erratum.apply(&mut root) {
                        panic!("{name}: {e}");
                    }
                }
                (*name, *service, root)
            })
            .collect();
        Specs::from_documents(documents)
    })
}

/// Point every `$ref` into another document at the file of that name beside this one, or
/// make it `{}` when `vendored(file name)` says there is no such file.
fn localise_refs(value: &mut Value, vendored: impl Fn(&str) -> bool + Copy) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("$ref") {
                let (file, pointer) = reference.split_once('#').unwrap_or((reference, ""));
                if !file.is_empty() {
                    let file_name = file.rsplit('/').next().unwrap_or(file).to_owned();
                    *value = if vendored(&file_name) {
                        serde_json::json!({ "$ref": format!("{file_name}#{pointer}") })
                    } else {
                        Value::Object(serde_json::Map::new())
                    };
                    return;
                }
            }
            map.values_mut().for_each(|v| localise_refs(v, vendored));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| localise_refs(v, vendored)),
        _ => {}
    }
}

/// What one answer's check found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The answer matches the schema of `operation` (`"GET /crm/v8/{module_api_name} 200"`).
    Valid { operation: String },
    /// No operation or status of the specs describes the answer.
    Undescribed { what: String },
    /// The answer breaks its schema.
    Invalid {
        operation: String,
        mismatches: Vec<String>,
    },
}

impl Specs {
    /// Each vendored document with the errata applied, written so that a tool outside this
    /// crate (schemathesis, see `tests/schemathesis/`) can read it from a folder holding all of
    /// them: its name (path under `specs/`), its service and its JSON. A `$ref` into another
    /// vendored document names that file beside it (`common.json#/components/…` instead of
    /// crm-oas's GitHub URL), and a `$ref` into a document that is not vendored becomes `{}`,
    /// any value, as the check here takes it. [`Change::EmptyBody`] stays the
    /// `x-nzsync-empty-body` mark on the response object, which OpenAPI tools ignore.
    #[must_use]
    pub fn standalone_documents(&self) -> Vec<(&'static str, Service, Value)> {
        self.names
            .iter()
            .zip(&self.services)
            .zip(&self.roots)
            .map(|((name, service), root)| {
                let folder = name.split('/').next().unwrap_or("");
                let mut root = root.clone();
                localise_refs(&mut root, |file| {
                    self.names.contains(&format!("{folder}/{file}").as_str())
                });
                (*name, *service, root)
            })
            .collect()
    }

    fn from_documents(documents: Vec<(&'static str, Service, Value)>) -> Specs {
        let mut specs = Specs {
            names: Vec::new(),
            services: Vec::new(),
            roots: Vec::new(),
            operations: Vec::new(),
        };
        for (document, (name, service, root)) in documents.into_iter().enumerate() {
            // The Domino REST API's templates are relative to the server URL (`/api/v1`).
            let base = match service {
                Service::Drapi => root
                    .pointer("/servers/0/url")
                    .and_then(Value::as_str)
                    .filter(|u| u.starts_with('/'))
                    .unwrap_or("")
                    .trim_end_matches('/')
                    .to_owned(),
                _ => String::new(),
            };
            for (template, item) in root
                .get("paths")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                for (method, op) in item.as_object().into_iter().flatten() {
                    if method == "parameters" {
                        continue;
                    }
                    let described = op.get("responses").and_then(Value::as_object);
                    let responses = described
                        .into_iter()
                        .flatten()
                        .map(|(status, resp)| (status.clone(), response_schema(&root, resp)))
                        .collect();
                    let empty_ok = described
                        .into_iter()
                        .flatten()
                        .filter(|(_, resp)| resp.get(EMPTY_BODY) == Some(&Value::Bool(true)))
                        .map(|(status, _)| status.clone())
                        .collect();
                    let template = format!("{base}{template}");
                    specs.operations.push(Operation {
                        document,
                        method: method.to_ascii_uppercase(),
                        template: template.clone(),
                        segments: template
                            .split('/')
                            .filter(|s| !s.is_empty())
                            .map(|s| (!s.starts_with('{')).then(|| s.to_owned()))
                            .collect(),
                        responses,
                        empty_ok,
                    });
                }
            }
            specs.names.push(name);
            specs.services.push(service);
            specs.roots.push(root);
        }
        specs
    }

    /// The schema a `$ref` of document `doc` points at, and its document. `None` for a
    /// document that is not vendored.
    fn resolve<'s>(&'s self, doc: usize, reference: &str) -> Option<(usize, &'s Value)> {
        let (file, pointer) = reference.split_once('#').unwrap_or((reference, ""));
        let target = if file.is_empty() {
            doc
        } else {
            // Zoho refers to its other documents by URL: `…/v8.0/users.json#/components/…`.
            let file_name = file.rsplit('/').next().unwrap_or(file);
            let prefix = self.names[doc].split('/').next().unwrap_or("");
            self.names
                .iter()
                .position(|n| *n == format!("{prefix}/{file_name}"))?
        };
        self.roots[target].pointer(pointer).map(|v| (target, v))
    }

    /// The operation of `service` that a request with this method and (undecoded) path hits.
    fn operation(&self, service: Service, method: &str, path: &str) -> Option<&Operation> {
        let mut segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        match service {
            // COQL is described in crm-oas's coql.json, which is not vendored; without this it
            // would pass for an insert into a module named "coql".
            Service::Zoho if segments.get(2) == Some(&"coql") => return None,
            Service::Zoho => {
                // Every version is checked against v8.
                if segments.first() == Some(&"crm")
                    && segments.get(1).is_some_and(|v| v.starts_with('v'))
                {
                    segments[1] = "v8";
                }
            }
            Service::Drapi => {}
            Service::Domino => {
                // `/names.nsf/api/…` as if the database sat in a folder.
                if segments.get(1) == Some(&"api")
                    && segments
                        .first()
                        .is_some_and(|s| s.to_ascii_lowercase().ends_with(".nsf"))
                {
                    segments.insert(0, "_root");
                }
            }
        }
        self.operations
            .iter()
            .filter(|op| self.services[op.document] == service && op.method == method)
            .filter(|op| {
                op.segments.len() == segments.len()
                    && op
                        .segments
                        .iter()
                        .zip(&segments)
                        .all(|(t, s)| t.as_deref().is_none_or(|t| t == *s))
            })
            // The most literal segments win; among equals, the first the spec declares
            // (`{id}` before `{external_field_value}`, which share their answers).
            .min_by_key(|op| std::cmp::Reverse(op.segments.iter().filter(|s| s.is_some()).count()))
    }

    /// Check one answer. `content_type` and `body` as sent; `method` after any override.
    #[must_use]
    pub fn check(
        &self,
        service: Service,
        method: &str,
        path: &str,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Outcome {
        let Some(op) = self.operation(service, method, path) else {
            return Outcome::Undescribed {
                what: format!("{method} {path} (no operation in the specs)"),
            };
        };
        let status_key = status.to_string();
        let is_json = content_type.is_some_and(|t| t.contains("json"));
        if service == Service::Domino && content_type.is_some_and(|t| t.starts_with("text/html")) {
            // The server's own pages (the session login form, domino-api.md §4.3; HTTP error
            // pages) answer for any path and are outside the DAS specs.
            return Outcome::Undescribed {
                what: format!(
                    "{} {} {status} (the server's HTML page)",
                    op.method, op.template
                ),
            };
        }
        let (label, schema) = if let Some(schema) = op.responses.get(&status_key) {
            (status_key, schema.clone())
        } else if let Some(schema) = op.responses.get("default") {
            ("default".to_owned(), schema.clone())
        } else if !is_json {
            return Outcome::Undescribed {
                what: format!("{} {} {status}", op.method, op.template),
            };
        } else {
            match self.fallback(service, op, status) {
                Some((label, schema)) => (label, Some(schema)),
                None => {
                    return Outcome::Undescribed {
                        what: format!("{} {} {status}", op.method, op.template),
                    };
                }
            }
        };
        let operation = format!("{} {} {label}", op.method, op.template);
        let Some(schema) = schema else {
            // Described without a body schema (a DAS write's 201 or 200): nothing to contradict.
            return Outcome::Valid { operation };
        };
        if body.is_empty() {
            return if status == 204 || status == 304 || op.empty_ok.contains(&label) {
                Outcome::Valid { operation }
            } else {
                Outcome::Invalid {
                    operation,
                    mismatches: vec!["empty body where the spec gives a schema".into()],
                }
            };
        }
        let value: Value = match serde_json::from_slice(body) {
            Ok(v) if is_json => v,
            Ok(_) | Err(_) => {
                return Outcome::Invalid {
                    operation,
                    mismatches: vec![format!(
                        "not a JSON body ({})",
                        content_type.unwrap_or("no Content-Type")
                    )],
                };
            }
        };
        let mut checker = Checker::new(self);
        let mismatches: Vec<String> = match (service, value.get("data")) {
            // A batch answer with failures (207 some, 400 all): each result is a success or
            // an error, so each is checked alone against the operation's success and error
            // answers.
            (Service::Zoho, Some(Value::Array(items))) if status == 207 || status >= 400 => {
                let success_schema = op
                    .responses
                    .iter()
                    .find(|(s, schema)| s.starts_with('2') && schema.is_some())
                    .and_then(|(_, schema)| schema.clone())
                    .unwrap_or_else(|| schema.clone());
                let error_schema = op
                    .responses
                    .iter()
                    .find(|(s, schema)| s.starts_with('4') && schema.is_some())
                    .and_then(|(_, schema)| schema.clone());
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let alone = serde_json::json!({ "data": [item] });
                    let as_success = checker.check(op.document, &success_schema, &alone);
                    if as_success.is_empty() {
                        continue;
                    }
                    let as_error = error_schema
                        .as_ref()
                        .map(|s| checker.check(op.document, s, &alone));
                    if as_error.as_ref().is_some_and(Vec::is_empty) {
                        continue;
                    }
                    out.extend(as_success.into_iter().map(|m| {
                        format!(
                            "/data/{i}{}: {}",
                            m.at.trim_start_matches("/data/0"),
                            m.message
                        )
                    }));
                }
                out
            }
            _ => checker
                .check(op.document, &schema, &value)
                .into_iter()
                .map(|m| format!("{}: {}", m.at, m.message))
                .collect(),
        };
        if mismatches.is_empty() {
            Outcome::Valid { operation }
        } else {
            Outcome::Invalid {
                operation,
                mismatches,
            }
        }
    }

    /// The schema an undescribed status of `op` is checked against (see the module doc).
    fn fallback(&self, service: Service, op: &Operation, status: u16) -> Option<(String, Value)> {
        let described = |prefix: char| {
            op.responses
                .iter()
                .find(|(s, schema)| s.starts_with(prefix) && schema.is_some())
                .and_then(|(s, schema)| Some((format!("{status} as {s}"), schema.clone()?)))
        };
        match service {
            Service::Zoho if status < 400 => described('2'),
            Service::Zoho => {
                let common = self
                    .names
                    .iter()
                    .position(|n| *n == "zoho-crm-v8/common.json")?;
                let schema = self.roots[common].pointer("/components/schemas/API_Exception")?;
                Some((format!("{status} as API_Exception"), schema.clone()))
            }
            Service::Domino if status >= 400 => {
                let calendar = self
                    .names
                    .iter()
                    .position(|n| *n == "domino-das/calendar.json")?;
                let schema = self.roots[calendar].pointer("/definitions/errorResponse")?;
                // The schema is used from `op`'s document: inline it.
                Some((format!("{status} as errorResponse"), schema.clone()))
            }
            Service::Domino => None,
            Service::Drapi if status >= 400 => {
                let schema = self.roots[op.document].pointer("/components/schemas/ErrorMessage")?;
                Some((format!("{status} as ErrorMessage"), schema.clone()))
            }
            Service::Drapi => None,
        }
    }
}

/// The JSON schema of a response object: OpenAPI 3 `content` (any JSON media type), Swagger
/// `schema`, or a `$ref` to `components/responses`.
fn response_schema(root: &Value, response: &Value) -> Option<Value> {
    let response = match response.get("$ref").and_then(Value::as_str) {
        Some(r) => root.pointer(r.trim_start_matches('#'))?,
        None => response,
    };
    if let Some(schema) = response.get("schema") {
        return Some(schema.clone());
    }
    response
        .get("content")
        .and_then(Value::as_object)?
        .iter()
        .find(|(media, _)| media.contains("json"))
        .and_then(|(_, c)| c.get("schema").cloned())
}

/// What the middleware found since checking was turned on.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SpecReport {
    /// `"METHOD template status"` → answers that matched.
    pub checked: BTreeMap<String, u64>,
    /// Answers no operation or status describes → how many.
    pub undescribed: BTreeMap<String, u64>,
    /// Answers that broke their schema (the first 100).
    pub violations: Vec<SpecViolation>,
}

/// One answer that broke its schema.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SpecViolation {
    /// The request, e.g. `GET /crm/v8/Contacts?fields=…`.
    pub request: String,
    /// The operation and status whose schema it broke.
    pub operation: String,
    /// Where and how.
    pub mismatches: Vec<String>,
}

impl SpecReport {
    /// Count one outcome.
    pub fn record(&mut self, request: String, outcome: Outcome) {
        match outcome {
            Outcome::Valid { operation } => *self.checked.entry(operation).or_default() += 1,
            Outcome::Undescribed { what } => *self.undescribed.entry(what).or_default() += 1,
            Outcome::Invalid {
                operation,
                mismatches,
            } => {
                if self.violations.len() < 100 {
                    self.violations.push(SpecViolation {
                        request,
                        operation,
                        mismatches,
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_document_parses_and_every_erratum_applies() {
        let specs = specs();
        assert_eq!(specs.roots.len(), DOCUMENTS.len());
        assert!(specs.operations.len() > 50, "{}", specs.operations.len());
        for erratum in ERRATA {
            let doc = specs.names.iter().position(|n| *n == erratum.document);
            let doc = doc.expect("erratum names a vendored document");
            let part = specs.roots[doc].pointer(erratum.pointer);
            assert!(part.is_some(), "{} points nowhere", erratum.pointer);
            if let Change::Replace(schema) = erratum.change {
                let applied: Value = serde_json::from_str(schema).expect("JSON");
                assert_eq!(part, Some(&applied));
            }
        }
    }

    #[test]
    fn standalone_documents_refer_only_to_files_beside_them() {
        let documents = specs().standalone_documents();
        assert_eq!(documents.len(), DOCUMENTS.len());
        let files: Vec<&str> = documents
            .iter()
            .map(|(name, _, _)| name.rsplit('/').next().unwrap_or(name))
            .collect();
        fn refs<'v>(value: &'v Value, out: &mut Vec<&'v str>) {
            match value {
                Value::Object(map) => {
                    if let Some(Value::String(r)) = map.get("$ref") {
                        out.push(r);
                    }
                    map.values().for_each(|v| refs(v, out));
                }
                Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
                _ => {}
            }
        }
        let mut cross = 0;
        for (name, _, root) in &documents {
            let mut found = Vec::new();
            refs(root, &mut found);
            for r in found {
                let (file, pointer) = r.split_once('#').unwrap_or((r, ""));
                let target = if file.is_empty() {
                    root
                } else {
                    cross += 1;
                    assert!(files.contains(&file), "{name}: {r} names no vendored file");
                    let at = files.iter().position(|f| *f == file).unwrap_or(0);
                    &documents[at].2
                };
                assert!(
                    target.pointer(pointer).is_some(),
                    "{name}: {r} points nowhere"
                );
            }
        }
        assert!(
            cross > 50,
            "crm-oas's cross-document references are kept: {cross}"
        );
        // The errata travel with the documents.
        let (_, _, users) = &documents[files.iter().position(|f| *f == "users.json").unwrap_or(0)];
        assert_eq!(
            users.pointer("/components/schemas/users/properties/time_zone"),
            Some(&serde_json::json!({"type":"string","nullable":true}))
        );
    }

    #[test]
    fn literal_segments_beat_parameters_and_versions_map_to_v8() {
        let specs = specs();
        let op = |service, method, path| {
            specs
                .operation(service, method, path)
                .map(|o| o.template.as_str())
        };
        assert_eq!(
            op(Service::Zoho, "GET", "/crm/v2/Contacts/deleted"),
            Some("/crm/v8/{module_api_name}/deleted")
        );
        assert_eq!(
            op(Service::Zoho, "GET", "/crm/v8/Contacts/4150868000000224005"),
            Some("/crm/v8/{module_api_name}/{id}")
        );
        assert_eq!(
            op(Service::Domino, "GET", "/names.nsf/api/data/collections"),
            Some("/{folder}/{database}/api/data/collections")
        );
        assert_eq!(op(Service::Zoho, "POST", "/oauth/v2/token"), None);
        assert_eq!(
            op(
                Service::Zoho,
                "GET",
                "/crm/v8/settings/custom_views/5725767000000087501"
            ),
            Some("/crm/v8/settings/custom_views/{id}")
        );
        assert_eq!(
            op(
                Service::Zoho,
                "POST",
                "/crm/v8/Contacts/actions/change_owner"
            ),
            Some("/crm/v8/{module}/actions/change_owner")
        );
    }

    #[test]
    fn zoho_errors_without_a_schema_of_their_own_use_the_common_error_object() {
        let specs = specs();
        let body = br#"{"code":"INVALID_TOKEN","details":{},"message":"invalid oauth token","status":"error"}"#;
        let outcome = specs.check(
            Service::Zoho,
            "GET",
            "/crm/v8/Contacts",
            401,
            Some("application/json;charset=UTF-8"),
            body,
        );
        assert_eq!(
            outcome,
            Outcome::Valid {
                operation: "GET /crm/v8/{module_api_name} 401 as API_Exception".into()
            }
        );
        let wrong = br#"{"data":[{"id":4150868000000224005}],"info":{"more_records":"no"}}"#;
        let Outcome::Invalid { mismatches, .. } = specs.check(
            Service::Zoho,
            "GET",
            "/crm/v8/Contacts",
            200,
            Some("application/json"),
            wrong,
        ) else {
            panic!("a number id and a text more_records must not pass");
        };
        assert!(
            mismatches.iter().any(|m| m.contains("/info/more_records")),
            "{mismatches:?}"
        );
    }

    #[test]
    fn domino_errors_use_the_shared_error_body() {
        let specs = specs();
        let body = br#"{"code":404,"text":"Not Found","message":"Invalid universal id","type":"text","data":"x"}"#;
        let outcome = specs.check(
            Service::Domino,
            "GET",
            "/mail/demo.nsf/api/data/documents/unid/XYZ",
            404,
            Some("application/json"),
            body,
        );
        assert!(matches!(outcome, Outcome::Valid { .. }), "{outcome:?}");
        let bad = br#"{"code":"404","text":"Not Found"}"#;
        let outcome = specs.check(
            Service::Domino,
            "GET",
            "/mail/demo.nsf/api/data/collections/name/x",
            403,
            Some("application/json"),
            bad,
        );
        assert!(matches!(outcome, Outcome::Invalid { .. }), "{outcome:?}");
    }

    #[test]
    fn drapi_answers_are_checked_under_the_server_urls_with_the_errata() {
        let specs = specs();
        let check = |method, path, status, body: &[u8]| {
            specs.check(
                Service::Drapi,
                method,
                path,
                status,
                Some("application/json"),
                body,
            )
        };
        let doc = br#"{"@meta":{"noteid":2294,"unid":"1C62D55D75387684482588DA001F4428","lastmodified":"2022-10-13T13:41:30.68+08:00","revision":"00000001001F442C482588DA","etag":"W/\" 633eead8\""},"Form":"Person","LastName":"Doe","Categories":["A","B"]}"#;
        assert_eq!(
            check(
                "GET",
                "/api/v1/document/1C62D55D75387684482588DA001F4428",
                200,
                doc
            ),
            Outcome::Valid {
                operation: "GET /api/v1/document/{unid} 200".into()
            }
        );
        let string_noteid = br#"{"@meta":{"noteid":"2294"},"Form":"Person"}"#;
        assert!(matches!(
            check("GET", "/api/v1/document/X", 200, string_noteid),
            Outcome::Invalid { .. }
        ));
        let no_form = br#"{"@meta":{"noteid":1},"LastName":"Doe"}"#;
        assert!(matches!(
            check("GET", "/api/v1/document/X", 200, no_form),
            Outcome::Invalid { .. }
        ));
        let deleted =
            br#"{"statusText":"OK","status":200,"message":"Document X deleted","unid":"X"}"#;
        assert!(matches!(
            check("DELETE", "/api/v1/document/X", 200, deleted),
            Outcome::Valid { .. }
        ));
        let error = br#"{"status":"404","message":"gone"}"#;
        assert!(matches!(
            check("GET", "/api/v1/document/X", 404, error),
            Outcome::Invalid { .. }
        ));
        let pim_error = br#"{"code":400,"message":"bad date"}"#;
        assert_eq!(
            check("GET", "/api/pim-v1/calendar/default", 400, pim_error),
            Outcome::Valid {
                operation: "GET /api/pim-v1/calendar/{calid} 400".into()
            }
        );
        assert!(matches!(
            check("GET", "/api/v1/nothing/here", 200, b"[]"),
            Outcome::Undescribed { .. }
        ));
    }
}
