//! The Domino REST API checks (F1, F2 for DRAPI; `reference/domino-rest-api.md` §2.5): the
//! service answers at the configured URL, its login takes the credentials, the mail file has a
//! scope the user may use, the scope's schema exposes `Person` and `Task` with every item the
//! sync maps (and the views), DQL is allowed, and the PIM calendar answers. Each failure names
//! the admin action that fixes it, in English and Japanese.

use serde_json::{Value, json};
use sync_core::http::encode;
use sync_core::{HttpRequest, HttpResponse, Module, Side, Timestamp};

use super::{Check, CheckId, CheckStatus, Needs, Problem, req};
use crate::config::Config;
use crate::drapi::session::{LoginError, answered_as_drapi};
use crate::upstream::Upstreams;

/// An error answer's message (basis `{status, message}` or PIM `{code, message}`) with its
/// status.
fn said(r: &HttpResponse) -> String {
    let msg = serde_json::from_str::<Value>(&r.body)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_default();
    if msg.is_empty() {
        format!("HTTP {}", r.status)
    } else {
        format!("{msg} (HTTP {})", r.status)
    }
}

fn step_start(url: &str) -> [String; 2] {
    [
        format!(
            "set [domino] url to the Domino REST API's base URL (port 8880 by default, e.g. \
             https://domino.example.com:8880), and ask the Domino admin to start it (`load \
             restapi` on the server console) and open its port; currently {url}"
        ),
        format!(
            "[domino] url に Domino REST API のベース URL (既定ではポート 8880、例: \
             https://domino.example.com:8880) を設定し、Domino 管理者にサーバーコンソールで \
             `load restapi` を実行してポートを開けるよう依頼してください (現在の値: {url})"
        ),
    ]
}

fn step_login() -> [String; 2] {
    [
        "check the user name and password; ask the Domino admin to set the user's Internet \
         password in their Person document, and to keep Domino logins on in the Domino REST \
         API (\"disableDominoLogin\": false)"
            .to_owned(),
        "ユーザー名とパスワードを確認してください。Domino 管理者に、ユーザーの個人文書で \
         インターネットパスワードを設定し、Domino REST API で Domino ログインを有効のまま \
         (\"disableDominoLogin\": false) にするよう依頼してください"
            .to_owned(),
    ]
}

fn step_scope(scope: &str, db: &str) -> [String; 2] {
    [
        format!(
            "ask the Domino admin to add the scope {scope} for the mail file {db} (Domino REST \
             API Admin UI → Scope Management → Add Scope, with a schema that exposes the mail \
             file); `nzsync drapi-schema --mail-db {db}` prints the schema and the scope to \
             import"
        ),
        format!(
            "Domino 管理者に、メールファイル {db} のスコープ {scope} を追加するよう依頼して \
             ください (Domino REST API の Admin UI → Scope Management → Add Scope)。\
             取り込むスキーマとスコープは `nzsync drapi-schema --mail-db {db}` で出力できます"
        ),
    ]
}

fn step_access(scope: &str, db: &str) -> [String; 2] {
    [
        format!(
            "ask the Domino admin to give the user Editor access to {db} (the mail file's ACL, \
             and the Maximum Access Level of the scope {scope}), and to let logins use the \
             scope (\"In $DATA Scope\" in its schema)"
        ),
        format!(
            "Domino 管理者に、{db} への編集者アクセス (メールファイルの ACL とスコープ {scope} \
             の Maximum Access Level) をユーザーに与え、ログインでスコープを使えるように \
             (スキーマの \"In $DATA Scope\") するよう依頼してください"
        ),
    ]
}

fn step_schema(scope: &str, db: &str) -> [String; 2] {
    [
        format!(
            "ask the Domino admin to update the schema of the scope {scope} (Domino REST API \
             Admin UI → Schema Management → Database Forms: activate the form with the modes \
             default and dql and every field listed; Database Views: add the view); `nzsync \
             drapi-schema --mail-db {db}` prints a schema that works"
        ),
        format!(
            "Domino 管理者に、スコープ {scope} のスキーマを更新するよう依頼してください \
             (Domino REST API の Admin UI → Schema Management → Database Forms で、フォームを \
             モード default と dql、挙げたフィールドすべてとともに有効にし、Database Views で \
             ビューを追加します)。動作するスキーマは `nzsync drapi-schema --mail-db {db}` で \
             出力できます"
        ),
    ]
}

fn step_dql(scope: &str) -> [String; 2] {
    [
        format!(
            "ask the Domino admin to turn on DQL Access in the schema of the scope {scope} \
             (Domino REST API Admin UI → Schema Management → Edit Schema), with a mode dql on \
             the forms Person and Task"
        ),
        format!(
            "Domino 管理者に、スコープ {scope} のスキーマで DQL Access を有効にするよう依頼して \
             ください (Domino REST API の Admin UI → Schema Management → Edit Schema)。\
             フォーム Person と Task にはモード dql が必要です"
        ),
    ]
}

fn step_pim() -> [String; 2] {
    [
        "ask the Domino admin to turn on the Domino REST API's PIM part (\"verticles\": \
         {\"PIM\": {\"active\": true}} in keepconfig.d, then restart it), and to let logins use \
         the MAIL scope"
            .to_owned(),
        "Domino 管理者に、Domino REST API の PIM を有効にし (keepconfig.d で \"verticles\": \
         {\"PIM\": {\"active\": true}} を設定して再起動)、ログインで MAIL スコープを使えるように \
         するよう依頼してください"
            .to_owned(),
    ]
}

fn not_checked(id: CheckId, why: &str) -> Check {
    Check::skipped(id, CheckStatus::NotChecked, &format!("not checked: {why}"))
}

fn not_needed(id: CheckId, what: &str) -> Check {
    Check::skipped(
        id,
        CheckStatus::NotNeeded,
        &format!("not needed: {what} are off in the sync settings"),
    )
}

/// The Domino REST API checks `needs` asks for; a check whose prerequisite failed is not
/// checked.
pub(super) async fn checks(config: &Config, up: &Upstreams, needs: Needs) -> Vec<Check> {
    let mut out = Vec::new();
    let url = up.domino_base().to_owned();
    let db = config.mail_db();
    let scope = config.drapi_scope();
    let rest = [
        CheckId::DrapiScope,
        CheckId::DrapiContacts,
        CheckId::DrapiTasks,
        CheckId::DrapiDql,
        CheckId::DrapiCalendar,
    ];

    // The service, and the login.
    let login = up.domino_login().await;
    let logged_in = match login {
        None | Some(Ok(())) => {
            out.push(Check::ok(
                CheckId::DrapiService,
                None,
                format!("{url} answers as a Domino REST API"),
            ));
            out.push(Check::ok(
                CheckId::DrapiLogin,
                None,
                "the login takes the user name and password".into(),
            ));
            true
        }
        Some(Err(LoginError::Transport(e))) => {
            out.push(
                Check::failed(
                    CheckId::DrapiService,
                    Problem::Unreachable,
                    None,
                    format!("cannot reach {url}: {}", e.message),
                    None,
                )
                .with_steps(step_start(&url)),
            );
            out.push(not_checked(
                CheckId::DrapiLogin,
                "the Domino REST API does not answer",
            ));
            false
        }
        Some(Err(LoginError::Refused(r))) if !answered_as_drapi(&r) => {
            out.push(
                Check::failed(
                    CheckId::DrapiService,
                    Problem::NotDrapi,
                    None,
                    format!(
                        "{url} answered HTTP {} but not as a Domino REST API (POST /api/v1/auth)",
                        r.status
                    ),
                    None,
                )
                .with_steps(step_start(&url)),
            );
            out.push(not_checked(
                CheckId::DrapiLogin,
                "the Domino REST API does not answer",
            ));
            false
        }
        Some(Err(LoginError::Refused(r))) => {
            out.push(Check::ok(
                CheckId::DrapiService,
                None,
                format!("{url} answers as a Domino REST API"),
            ));
            out.push(
                Check::failed(
                    CheckId::DrapiLogin,
                    Problem::WrongPassword,
                    None,
                    format!("the login was refused: {}", said(&r)),
                    None,
                )
                .with_steps(step_login()),
            );
            false
        }
    };
    if !logged_in {
        for id in rest {
            out.push(not_checked(id, "no Domino REST API login"));
        }
        return out;
    }

    // The scope, and its schema.
    let get = |path: String| async move { up.perform(&req(Side::Notes, path)).await };
    let scope_q = format!("dataSource={}", encode(&scope.0));
    let scope_failed = |problem, detail: String, steps: Option<[String; 2]>| {
        let check = Check::failed(
            CheckId::DrapiScope,
            problem,
            Some(scope.0.clone()),
            detail,
            None,
        );
        match steps {
            Some(steps) => check.with_steps(steps),
            None => check,
        }
    };
    let scope_answer = get(format!("/api/v1/scope?{scope_q}")).await;
    let schema = match scope_answer {
        Ok(r) if r.status == 200 => match serde_json::from_str::<Value>(&r.body) {
            Ok(schema) => {
                out.push(Check::ok(
                    CheckId::DrapiScope,
                    Some(scope.0.clone()),
                    format!("the scope {scope} opens {db}"),
                ));
                Some(schema)
            }
            Err(_) => {
                out.push(scope_failed(
                    Problem::Other,
                    format!("the scope {scope} answered HTTP 200 without a schema"),
                    None,
                ));
                None
            }
        },
        Ok(r) => {
            out.push(match r.status {
                404 => scope_failed(
                    Problem::DrapiNoScope,
                    format!("there is no scope {scope}: {}", said(&r)),
                    Some(step_scope(&scope.0, &db)),
                ),
                401 | 403 => scope_failed(
                    Problem::DrapiNoAccess,
                    format!("the scope {scope} is refused to the user: {}", said(&r)),
                    Some(step_access(&scope.0, &db)),
                ),
                _ => scope_failed(Problem::Other, said(&r), None),
            });
            None
        }
        Err(e) => {
            out.push(scope_failed(Problem::Unreachable, e.message, None));
            None
        }
    };
    let engine = config.engine_config(false, false);
    for (id, needed, module, what) in [
        (
            CheckId::DrapiContacts,
            needs.contacts,
            Module::Contacts,
            "contacts",
        ),
        (CheckId::DrapiTasks, needs.tasks, Module::Tasks, "to-dos"),
    ] {
        let check = match &schema {
            _ if !needed => not_needed(id, what),
            None => not_checked(id, "the scope check failed"),
            Some(s) => match sync_core::drapi_schema_problem(s, module, &scope, &engine) {
                None => Check::ok(
                    id,
                    Some(sync_core::mapping::notes_form(module).to_owned()),
                    format!(
                        "the schema exposes {} with every item the sync maps",
                        sync_core::mapping::notes_form(module)
                    ),
                ),
                Some(problem) => Check::failed(
                    id,
                    Problem::DrapiSchema,
                    Some(sync_core::mapping::notes_form(module).to_owned()),
                    problem,
                    None,
                )
                .with_steps(step_schema(&scope.0, &db)),
            },
        };
        out.push(check);
    }

    // DQL: a query for what changed after now finds nothing, and is allowed.
    if !(needs.contacts || needs.tasks) {
        out.push(not_needed(CheckId::DrapiDql, "contacts and to-dos"));
    } else if schema.is_none() {
        out.push(not_checked(CheckId::DrapiDql, "the scope check failed"));
    } else {
        let form = if needs.contacts { "Person" } else { "Task" };
        let query = HttpRequest {
            method: "POST".into(),
            body: Some(
                json!({
                    "query": format!("@ModifiedInThisFile > @dt('{}')", now().to_das()),
                    "forms": [form],
                })
                .to_string(),
            ),
            headers: vec![sync_core::Header {
                name: "Content-Type".into(),
                value: "application/json".into(),
            }],
            ..req(
                Side::Notes,
                format!("/api/v1/query?{scope_q}&action=execute&count=1"),
            )
        };
        out.push(match up.perform(&query).await {
            Ok(r) if r.status == 200 => Check::ok(
                CheckId::DrapiDql,
                None,
                format!("the schema of the scope {scope} allows DQL"),
            ),
            Ok(r) if r.status == 403 => Check::failed(
                CheckId::DrapiDql,
                Problem::DrapiDqlOff,
                None,
                format!("DQL is refused: {}", said(&r)),
                None,
            )
            .with_steps(step_dql(&scope.0)),
            Ok(r) => Check::failed(CheckId::DrapiDql, Problem::Other, None, said(&r), None),
            Err(e) => Check::failed(
                CheckId::DrapiDql,
                Problem::Unreachable,
                None,
                e.message,
                None,
            ),
        });
    }

    // The calendar, through PIM (the user's own mailbox: no scope or schema).
    if !needs.events {
        out.push(not_needed(CheckId::DrapiCalendar, "events"));
    } else {
        let day = &now().to_das()[..10];
        let path = format!("/api/pim-v1/calendar/default?startdate={day}&enddate={day}");
        out.push(match get(path).await {
            Ok(r) if r.status == 200 => Check::ok(
                CheckId::DrapiCalendar,
                None,
                "the calendar answers through the PIM API".into(),
            ),
            Ok(r) if r.status == 404 || r.status == 501 || r.status == 403 => Check::failed(
                CheckId::DrapiCalendar,
                Problem::DrapiPimOff,
                None,
                format!("the PIM API does not give the calendar: {}", said(&r)),
                None,
            )
            .with_steps(step_pim()),
            Ok(r) => Check::failed(CheckId::DrapiCalendar, Problem::Other, None, said(&r), None),
            Err(e) => Check::failed(
                CheckId::DrapiCalendar,
                Problem::Unreachable,
                None,
                e.message,
                None,
            ),
        });
    }
    out
}

/// The host's clock, for the probes' dates.
fn now() -> Timestamp {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    Timestamp(ms)
}
