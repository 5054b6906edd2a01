//! English and Japanese texts. The Japanese wording is the seed help page's (the original
//! extension's UI strings); the English labels are the original's visible names.
//!
//! The language follows `navigator.language` until the user picks one, which is remembered in
//! `localStorage` (`nzsync.lang`).

/// A UI language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// English.
    En,
    /// Japanese.
    Ja,
}

const STORAGE_KEY: &str = "nzsync.lang";

thread_local! {
    /// The user's time zone (IANA name) when Zoho CRM told it; else the browser's is used.
    static TIME_ZONE: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Shows times in `zone` (the CRM user's time zone) from now on.
pub fn set_time_zone(zone: Option<String>) {
    TIME_ZONE.with(|z| *z.borrow_mut() = zone.filter(|z| !z.is_empty()));
}

/// The time zone times are shown in, when not the browser's.
#[must_use]
pub fn time_zone() -> Option<String> {
    TIME_ZONE.with(|z| z.borrow().clone())
}

impl Lang {
    /// The BCP 47 code.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Ja => "ja",
        }
    }

    /// The language for a code such as `ja-JP` or `en-US` (English unless Japanese).
    #[must_use]
    pub fn from_code(code: &str) -> Self {
        if code.to_ascii_lowercase().starts_with("ja") {
            Self::Ja
        } else {
            Self::En
        }
    }

    /// The remembered choice, else the browser's language.
    #[must_use]
    pub fn initial() -> Self {
        let Some(window) = web_sys::window() else {
            return Self::En;
        };
        let stored = window
            .local_storage()
            .ok()
            .flatten()
            .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten());
        match stored {
            Some(code) => Self::from_code(&code),
            None => Self::from_code(&window.navigator().language().unwrap_or_default()),
        }
    }

    /// Remembers the user's choice and tells the page (`<html lang>`).
    pub fn remember(self) {
        let Some(window) = web_sys::window() else {
            return;
        };
        if let Some(storage) = window.local_storage().ok().flatten() {
            let _ = storage.set_item(STORAGE_KEY, self.code());
        }
        if let Some(root) = window.document().and_then(|d| d.document_element()) {
            let _ = root.set_attribute("lang", self.code());
        }
    }

    /// A field of the canonical model by its Zoho CRM display label (as the CRM shows it in
    /// this language), e.g. `job_title` → "Title" / "役職"; `None` for a name it does not know.
    #[must_use]
    pub fn field_label(self, field: &str) -> Option<&'static str> {
        let (en, ja) = match field {
            "first_name" => ("First Name", "名"),
            "last_name" => ("Last Name", "姓"),
            "email" => ("Email", "メール"),
            "office_phone" => ("Phone", "電話"),
            "mobile" => ("Mobile", "携帯"),
            "home_phone" => ("Home Phone", "自宅電話"),
            "job_title" => ("Title", "役職"),
            "department" => ("Department", "部署"),
            "company" | "account_name" => ("Account Name", "取引先名"),
            "street" => ("Mailing Street", "郵送先住所(番地)"),
            "city" => ("Mailing City", "郵送先市区町村"),
            "state" => ("Mailing State", "郵送先都道府県"),
            "zip" => ("Mailing Zip", "郵送先郵便番号"),
            "country" => ("Mailing Country", "郵送先国"),
            "subject" => ("Subject", "件名"),
            "description" => ("Description", "詳細"),
            "due_date" => ("Due Date", "期日"),
            "priority" => ("Priority", "優先度"),
            "status" | "completed" => ("Status", "状況"),
            "title" | "summary" => ("Title", "タイトル"),
            "location" => ("Location", "場所"),
            "start" => ("From", "開始日時"),
            "end" => ("To", "終了日時"),
            "all_day" => ("All day", "終日"),
            "attendees" => ("Participants", "参加者"),
            "reminder" => ("Remind At", "リマインダー"),
            "cross-ID" | "xref" => ("link to the other side", "相手側へのリンク"),
            _ => return None,
        };
        Some(match self {
            Self::En => en,
            Self::Ja => ja,
        })
    }

    /// The text of `key` in this language.
    #[must_use]
    pub fn t(self, key: T) -> &'static str {
        match self {
            Self::En => key.en(),
            Self::Ja => key.ja(),
        }
    }

    /// The text of `key` with each `{name}` in it replaced by its value.
    #[must_use]
    pub fn tf(self, key: T, args: &[(&str, &str)]) -> String {
        let mut text = self.t(key).to_owned();
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }
}

macro_rules! texts {
    ($($key:ident => $en:expr, $ja:expr;)*) => {
        /// A UI text; [`Lang::t`] gives it in a language.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum T {
            $(
                #[doc = $en]
                $key,
            )*
        }

        impl T {
            /// English.
            #[must_use]
            pub fn en(self) -> &'static str {
                match self {
                    $(Self::$key => $en,)*
                }
            }

            /// Japanese.
            #[must_use]
            pub fn ja(self) -> &'static str {
                match self {
                    $(Self::$key => $ja,)*
                }
            }
        }
    };
}

texts! {
    AppTitle => "IBM Notes Sync", "IBM Notesとの同期";
    Language => "Language", "言語";
    Loading => "Loading…", "読み込み中…";
    SignInIntro => "Sync contacts, tasks and events between IBM Notes and Zoho CRM. Sign in with your Zoho CRM account to start.",
        "IBM NotesとZoho CRMの間で連絡先、タスク、予定を同期できます。開始するにはZoho CRMアカウントでサインインしてください。";
    SignIn => "Sign in with Zoho", "Zohoでサインインする";
    SignInPopup => "Finish signing in in the window that opened. This page updates when you are done.",
        "開いたウィンドウでサインインを完了してください。完了するとこのページが更新されます。";
    SignOut => "Sign out", "サインアウト";
    NotEnabled => "You are signed in, but the integration's admin has not added you yet. Ask them to add you under Manage Users, then sign in again.",
        "サインインしましたが、拡張機能の管理者がまだあなたを追加していません。「ユーザーの管理」で追加してもらってから、再度サインインしてください。";
    AuthTitle => "Authenticate with IBM Notes", "IBM Notes認証";
    AuthIntro => "Enter the address of your Domino server and your IBM Notes credentials. They are checked with the server before they are saved; the password is stored encrypted.",
        "Dominoサーバーのアドレスと、IBM Notesの認証情報を入力してください。保存する前にサーバーで確認され、パスワードは暗号化して保存されます。";
    ServerName => "Server Name", "サーバー名";
    ServerNameHint => "e.g. https://mail.example.com", "例: https://mail.example.com";
    DominoApi => "Domino API", "Domino API";
    DominoApiDas => "Domino Access Services (every Domino version)",
        "Dominoアクセスサービス(すべてのDominoバージョン)";
    DominoApiRest => "Domino REST API (Domino 12.0.2 and later; faster)",
        "Domino REST API(Domino 12.0.2以降、高速)";
    DominoApiAuto => "Find out: the REST API where it answers, else Domino Access Services",
        "自動判別:REST APIが応答すればREST API、それ以外はDominoアクセスサービス";
    DominoApiHint => "With the Domino REST API, the Server Name is its address (port 8880 by default, e.g. https://mail.example.com:8880).",
        "Domino REST APIを使う場合、「サーバー名」はREST APIのアドレスです(既定ではポート8880、例: https://mail.example.com:8880)。";
    UserName => "User Name", "ユーザー名";
    Password => "Password", "パスワード";
    Submit => "Submit", "送信する";
    Checking => "Checking with the Domino server…", "Dominoサーバーで確認しています…";
    ErrWrongPassword => "The user name or password is wrong: Domino refused them.",
        "ユーザー名またはパスワードが正しくありません。Dominoサーバーに拒否されました。";
    ErrUnreachable => "The server could not be reached. Check the Server Name (including http:// or https://) and that the server is running.",
        "サーバーに接続できませんでした。「サーバー名」(http:// または https:// を含む)と、サーバーが稼働していることを確認してください。";
    ErrNotDomino => "The server answered, but it is not a Domino server with Domino Access Services. Check the Server Name.",
        "サーバーは応答しましたが、Dominoアクセスサービスを備えたDominoサーバーではありません。「サーバー名」を確認してください。";
    ErrCannotUseServer => "This server cannot be used. Check the Server Name (including http:// or https://): it must be a running Domino server with Domino Access Services (or, with the Domino REST API chosen, the REST API's address), and one your administrator allows.",
        "このサーバーは使用できません。「サーバー名」(http:// または https:// を含む)を確認してください。Dominoアクセスサービスを備えた稼働中のDominoサーバー(Domino REST APIを選んだ場合はREST APIのアドレス)で、管理者が許可したサーバーである必要があります。";
    ErrNoMailFile => "Your mail file was not found on the server.", "サーバー上にメールファイルが見つかりませんでした。";
    ErrDasServer => "Domino Access Services is not enabled on the server. Ask the Domino admin to enable DAS on the server:",
        "サーバーでDominoアクセスサービスが有効になっていません。Domino管理者に、サーバーでDASを有効にするよう依頼してください:";
    StepDasServer => "In the IBM Notes server's Configuration, open the Current Server Document → Internet Protocols tab → Domino Web Engine → Domino Access Services: select Data and Calendar as enabled services, then save.",
        "IBM Notesサーバーの「設定」で、「既存のサーバーのドキュメント」→「インターネットプロトコル」タブ→「Domino Web Engine」→「Dominoアクセスサービス」で、有効なサービスのデータとカレンダーを選択し、保存します。";
    ErrDasDatabase => "Domino Access Services is not enabled for your mail database. Ask the Domino admin to enable DAS on the database:",
        "メールデータベースでDominoアクセスサービスが有効になっていません。Domino管理者に、データベースでDASを有効にするよう依頼してください:";
    StepDasDatabase => "In Domino Designer, open the database properties → Advanced tab → set \"Allow Domino Data Service\" to \"Views and documents\".",
        "Domino Designerで、データベースのプロパティ→「詳細設定」タブ→「表示と編集」を選択します。";
    ErrDasView => "Domino Access Services is not enabled for a view of your mail database. Ask the Domino admin to enable DAS on the views:",
        "メールデータベースのビューでDominoアクセスサービスが有効になっていません。Domino管理者に、ビューでDASを有効にするよう依頼してください:";
    StepDasView => "In Domino Designer, select the view (Contacts, Calendar, To Do) → view properties → Advanced tab → enable \"Allow Domino Data Service operations\".",
        "Domino Designerで、ビュー(連絡先、カレンダー、To Do)を選択し、ビューのプロパティ→「詳細設定」タブ→「Dominoデータサービスの操作を許可する」を有効にします。";
    ErrDasViewsOnly => "Your mail database allows Domino Access Services for views only, but the sync also reads and writes documents. Ask the Domino admin to allow views and documents:",
        "メールデータベースではDominoアクセスサービスが「表示のみ」に制限されていますが、同期ではドキュメントの読み書きも行います。Domino管理者に「表示と編集」を許可するよう依頼してください:";
    ErrDasViewNamed => "Domino Access Services is not enabled for the view {view} of your mail database. Ask the Domino admin to enable DAS on the view:",
        "メールデータベースのビュー{view}でDominoアクセスサービスが有効になっていません。Domino管理者に、ビューでDASを有効にするよう依頼してください:";
    StepDasViewNamed => "In Domino Designer, select the view {view} → view properties → Advanced tab → enable \"Allow Domino Data Service operations\".",
        "Domino Designerで、ビュー{view}を選択し、ビューのプロパティ→「詳細設定」タブ→「Dominoデータサービスの操作を許可する」を有効にします。";
    ErrNoView => "Your mail database has no view {view}.", "メールデータベースにビュー{view}がありません。";
    ErrCalendarOff => "The Calendar service of Domino Access Services is not enabled on the server, and Sync Events is on. Ask the Domino admin to enable it:",
        "サーバーでDominoアクセスサービスのカレンダーサービスが有効になっていませんが、「予定の同期」がオンになっています。Domino管理者に有効にするよう依頼してください:";
    StepCalendarService => "In the IBM Notes server's Configuration, open the Current Server Document → Internet Protocols tab → Domino Web Engine → Domino Access Services: select Calendar as an enabled service, then save.",
        "IBM Notesサーバーの「設定」で、「既存のサーバーのドキュメント」→「インターネットプロトコル」タブ→「Domino Web Engine」→「Dominoアクセスサービス」で、有効なサービスのカレンダーを選択し、保存します。";
    ErrNotDrapi => "The address answered, but not as the Domino REST API. Check the address: it is the Domino REST API's (port 8880 by default), and the REST API must be running on the server.",
        "アドレスは応答しましたが、Domino REST APIとしてではありません。アドレス(既定ではポート8880のDomino REST API)と、サーバーでREST APIが稼働していることを確認してください。";
    ErrDrapiNoScope => "The Domino REST API has no scope for your mail file. Ask the Domino admin to add it:",
        "Domino REST APIにあなたのメールファイルのスコープがありません。Domino管理者に追加するよう依頼してください:";
    StepDrapiScope => "In the Domino REST API Admin UI, open Scope Management → Add Scope for your mail file, with a schema that exposes it (`nzsync drapi-schema --mail-db …` prints one to import).",
        "Domino REST APIのAdmin UIで、Scope Management → Add Scopeからメールファイルのスコープを追加します(公開するスキーマは `nzsync drapi-schema --mail-db …` で出力できます)。";
    ErrDrapiNoAccess => "The Domino REST API refuses you your mail file or its scope. Ask the Domino admin to give you access:",
        "Domino REST APIがメールファイルまたはスコープへのアクセスを拒否しました。Domino管理者にアクセス権を与えるよう依頼してください:";
    StepDrapiAccess => "Give the user Editor access in the mail file's ACL and in the scope's Maximum Access Level, and let logins use the scope (\"In $DATA Scope\" in its schema).",
        "メールファイルのACLとスコープのMaximum Access Levelで、ユーザーに編集者アクセスを与え、ログインでスコープを使えるようにします(スキーマの「In $DATA Scope」)。";
    ErrDrapiSchema => "The Domino REST API schema of your mail file does not expose what the sync needs. Ask the Domino admin to update it:",
        "メールファイルのDomino REST APIスキーマが、同期に必要なものを公開していません。Domino管理者に更新するよう依頼してください:";
    StepDrapiSchema => "In the Domino REST API Admin UI, open Schema Management → Database Forms: activate Person and Task with the modes default and dql and every field the sync maps, and add the views ($Contacts) and ($ToDo).",
        "Domino REST APIのAdmin UIで、Schema Management → Database Formsを開き、PersonとTaskをモードdefaultとdql、同期するすべてのフィールドとともに有効にし、ビュー($Contacts)と($ToDo)を追加します。";
    ErrDrapiDqlOff => "The Domino REST API schema of your mail file does not allow DQL, which the sync uses to find changes. Ask the Domino admin to allow it:",
        "メールファイルのDomino REST APIスキーマでDQLが許可されていません(同期は変更の検出にDQLを使います)。Domino管理者に許可するよう依頼してください:";
    StepDrapiDql => "In the Domino REST API Admin UI, open Schema Management → Edit Schema → turn on DQL Access.",
        "Domino REST APIのAdmin UIで、Schema Management → Edit SchemaからDQL Accessを有効にします。";
    ErrDrapiPimOff => "The Domino REST API does not give your calendar, and Sync Events is on. Ask the Domino admin to enable it:",
        "Domino REST APIがカレンダーを提供していません(予定の同期がオンです)。Domino管理者に有効にするよう依頼してください:";
    StepDrapiPim => "Turn on the Domino REST API's PIM part (\"verticles\": {\"PIM\": {\"active\": true}} in keepconfig.d), restart it, and let logins use the MAIL scope.",
        "Domino REST APIのPIMを有効にし(keepconfig.dで \"verticles\": {\"PIM\": {\"active\": true}})、再起動して、ログインでMAILスコープを使えるようにします。";
    ErrZohoRefused => "Zoho CRM refused the integration's access. Sign out, then sign in with Zoho again.",
        "Zoho CRMが連携のアクセスを拒否しました。サインアウトしてから、Zohoで再度サインインしてください。";
    ErrCheckOther => "The check failed.", "確認に失敗しました。";
    ReadinessTitle => "Ready to sync?", "同期の準備状況";
    ReadinessReady => "Every check passed: you can start the sync.", "すべての確認に合格しました。同期を開始できます。";
    ReadinessNotReady => "Start Sync is held back until these checks pass.", "以下の確認に合格するまで、「同期を開始する」は実行できません。";
    ReadinessChecking => "Checking the servers your settings need…", "設定に必要なサーバーを確認しています…";
    Recheck => "Check again", "再確認する";
    StartSyncBlocked => "Start Sync is held back:", "同期を開始できません:";
    CheckOk => "ok", "合格";
    CheckFailed => "failed", "失敗";
    CheckNotChecked => "not checked", "未確認";
    CheckNotNeeded => "not needed", "不要";
    CheckDominoServer => "Domino server", "Dominoサーバー";
    CheckDataService => "Domino Access Services on the server (Data)", "サーバーのDominoアクセスサービス(データ)";
    CheckMailFile => "Domino Access Services on your mail database", "メールデータベースのDominoアクセスサービス";
    CheckContactsView => "Contacts view", "連絡先ビュー";
    CheckTodoView => "To Do view", "To Doビュー";
    CheckCalendar => "Calendar service", "カレンダーサービス";
    CheckDrapiService => "Domino REST API", "Domino REST API";
    CheckDrapiLogin => "Sign-in to the Domino REST API", "Domino REST APIへのログイン";
    CheckDrapiScope => "Domino REST API scope of your mail database",
        "メールデータベースのDomino REST APIスコープ";
    CheckDrapiContacts => "Domino REST API schema: contacts", "Domino REST APIスキーマ:連絡先";
    CheckDrapiTasks => "Domino REST API schema: to-dos", "Domino REST APIスキーマ:To Do";
    CheckDrapiDql => "DQL access (how changes are found)", "DQLアクセス(変更の検出)";
    CheckDrapiCalendar => "Domino REST API calendar (PIM)", "Domino REST APIのカレンダー(PIM)";
    CheckZohoOauth => "Zoho CRM access", "Zoho CRMへのアクセス";
    CheckZohoApi => "Zoho CRM API", "Zoho CRM API";
    ErrRequired => "This field is required.", "この項目は必須です。";
    ServerDetails => "Details from the server:", "サーバーからの詳細:";
    Dashboard => "Dashboard", "ダッシュボード";
    ScheduleMeetings => "Schedule Meetings", "予定の登録";
    StartSync => "Start Sync", "同期を開始する";
    SettingsMenu => "Settings", "設定";
    SyncSettings => "Sync Settings", "同期の設定";
    ChangePassword => "Change Password", "パスワードの変更";
    ManageUsers => "Manage Users", "ユーザーの管理";
    Uninstall => "Uninstall", "アンインストールする";
    SyncContacts => "Sync Contacts", "連絡先の同期";
    SyncTasks => "Sync Tasks", "タスクの同期";
    WhichRecords => "Which CRM records", "同期するCRMのデータ";
    WhichRecordsHint => "Your sync covers the records you own in Zoho CRM. You can pick a custom view instead; a record that leaves it (for example, reassigned to someone else) is removed from your Notes if you did not change it there.",
        "同期の対象は、Zoho CRMであなたが所有者のデータです。代わりにカスタムビューを選ぶこともできます。対象から外れたデータ(他のユーザーに所有者が変更された場合など)は、Notes側で変更していなければNotesから削除されます。";
    ScopeContacts => "Contacts", "連絡先";
    ScopeTasks => "Tasks", "タスク";
    ScopeEvents => "Events", "予定";
    ScopeMine => "My records (records I own)", "自分のデータ(自分が所有者のデータ)";
    ScopeView => "Custom view", "カスタムビュー";
    ScopeViewGone => "no longer listed in Zoho CRM", "Zoho CRMに見つかりません";
    ScopeViewsUnavailable => "The custom views could not be listed from Zoho CRM:", "Zoho CRMからカスタムビューを取得できませんでした:";
    SyncEvents => "Sync Events", "予定の同期";
    Yes => "Yes", "はい";
    No => "No", "いいえ";
    WhichEvents => "Events to sync", "同期する予定";
    AllEvents => "All events", "すべての予定";
    TodaysEvents => "Today's events", "今日の予定";
    PastMonth => "Past one month", "過去1か月の予定";
    SyncType => "Sync Type", "同期の種類";
    OneWay => "One Way", "一方向";
    TwoWay => "Two Way", "双方向";
    Direction => "Direction", "同期の方向";
    NotesToCrm => "IBM Notes → Zoho CRM", "IBM NotesからZoho CRM";
    CrmToNotes => "Zoho CRM → IBM Notes", "Zoho CRMからIBM Notes";
    ConflictBehavior => "Conflict Behavior", "データの競合が発生した場合の処理";
    CrmWins => "CRM always wins", "Zoho CRMのデータを優先する";
    NotesWins => "IBM Notes always wins", "IBM Notesのデータを優先する";
    Save => "Save", "保存する";
    Cancel => "Cancel", "キャンセル";
    Saved => "Settings saved.", "設定を保存しました。";
    Preview => "Preview", "プレビュー";
    PreviewIntro => "This is what the sync will do. Nothing has been changed yet.",
        "同期で行われる内容です。まだ何も変更されていません。";
    Previewing => "Reading both sides to preview the sync…", "両方のデータを読み込んでプレビューを作成しています…";
    SyncNow => "Sync now", "今すぐ同期する";
    Syncing => "Syncing…", "同期しています…";
    SyncCompleted => "The sync completed.", "同期が完了しました。";
    SyncIncomplete => "The sync finished, but not everything was synced: see the modules below.",
        "同期は終了しましたが、一部は同期されませんでした。以下のモジュールを確認してください。";
    SyncFailedAll => "The sync failed: nothing could be synced.", "同期に失敗しました。何も同期できませんでした。";
    PreviewFailed => "The preview could not read everything, so the sync cannot start yet. Fix what is shown below, then start the sync again.",
        "プレビューですべてを読み込めなかったため、まだ同期を開始できません。以下の問題を解決してから、再度同期を開始してください。";
    ModuleEnded => "ended", "終了";
    SyncCancelled => "The sync was cancelled. Changes already made are kept; the next sync continues from there.",
        "同期をキャンセルしました。すでに行われた変更は保持され、次回の同期はそこから続行します。";
    SyncFailed => "The sync could not run:", "同期を実行できませんでした:";
    Module => "Module", "モジュール";
    Contacts => "Contacts", "連絡先";
    Tasks => "Tasks", "タスク";
    Events => "Events", "予定";
    Waiting => "waiting", "待機中";
    PhaseSetup => "setting up", "準備中";
    PhaseListing => "listing", "一覧を取得中";
    PhaseReading => "reading", "読み込み中";
    PhaseWriting => "writing", "書き込み中";
    PhaseLinking => "linking", "関連付け中";
    Done => "done", "完了";
    RecordsRead => "records read", "件読み込み";
    Requests => "requests", "リクエスト";
    Created => "Created", "作成";
    Updated => "Updated", "更新";
    Deleted => "Deleted", "削除";
    Skipped => "Skipped", "スキップ";
    Conflicts => "Conflicts", "競合";
    Errors => "Errors", "エラー";
    Linked => "Linked", "関連付け";
    Unlinked => "Unlinked", "関連付け解除";
    Status => "Status", "状態";
    LastRun => "Last sync", "前回の同期";
    NoRuns => "No sync has run yet. Click Start Sync to set up and run the first sync.",
        "まだ同期が実行されていません。「同期を開始する」をクリックして最初の同期を設定・実行してください。";
    ShowRecords => "Show records", "レコードを表示";
    HideRecords => "Hide records", "レコードを隠す";
    NoRecords => "No records changed.", "変更されたレコードはありません。";
    EntriesOmitted => "{count} more records are counted above but not listed here.", "このほか {count} 件のレコードは、件数には含まれていますがここには表示していません。";
    Record => "Record", "レコード";
    Action => "Action", "操作";
    Reason => "Reason", "理由";
    InNotes => "IBM Notes", "IBM Notes";
    InCrm => "Zoho CRM", "Zoho CRM";
    RunHistory => "Run history", "同期の履歴";
    Started => "Started", "開始";
    Kind => "Kind", "種類";
    Outcome => "Outcome", "結果";
    RecordsSynced => "Records synced", "同期したレコード";
    ChartTitle => "Records synced per run", "同期ごとのレコード数";
    Details => "Details", "詳細";
    SyncRun => "Sync", "同期";
    PreviewRun => "Preview", "プレビュー";
    Completed => "completed", "完了";
    Partial => "incomplete", "一部未完了";
    NotRun => "did not run", "未実行";
    Previews => "Previews", "プレビューの履歴";
    FailedModules => "failed", "失敗";
    WhyNotesLogin => "IBM Notes refused the user name or password. Update the password under Settings → Change Password.",
        "IBM Notesがユーザー名またはパスワードを拒否しました。設定→「パスワードの変更」でパスワードを更新してください。";
    WhyUnreachable => "A server did not answer. The next sync tries again.", "サーバーが応答しませんでした。次回の同期で再試行します。";
    WhyRunStopped => "Did not run: the sync stopped when {module} failed.", "実行されませんでした: {module}の同期に失敗したため、同期が停止しました。";
    WhyOther => "The server answered with an error. The next sync tries again.", "サーバーがエラーを返しました。次回の同期で再試行します。";
    WhyCrmViewTooLarge => "Zoho CRM lists at most 100,000 records of a custom view, and this view has more. The sync cannot read the rest, so it synced none of this module.",
        "Zoho CRMのカスタムビューから取得できるレコードは100,000件までで、このビューにはそれより多くのレコードがあります。残りを読み取れないため、このモジュールは同期されませんでした。";
    StepCrmViewTooLarge => "Under Sync Settings → Which CRM records, choose \"My records\" for this module (the sync reads any number of them), or a custom view with fewer than 100,000 records.",
        "「同期の設定」の「同期するCRMのデータ」で、このモジュールを「自分のデータ(自分が所有者のデータ)」にする(件数の上限はありません)か、100,000件未満のカスタムビューを選んでください。";
    WhyCrmEventsTooLarge => "Zoho CRM lists at most 100,000 events, and there are more within your reach. Past that point the participants of events cannot be read, so the sync synced no events.",
        "Zoho CRMから取得できる予定は100,000件までで、対象の予定はそれより多くあります。それ以降の予定は参加者を読み取れないため、予定は同期されませんでした。";
    StepCrmEventsTooLarge => "Delete old events in Zoho CRM until fewer than 100,000 remain, or turn off Sync Events under Sync Settings.",
        "Zoho CRMで古い予定を削除して100,000件未満にするか、「同期の設定」で「予定の同期」をオフにしてください。";
    Failed => "failed", "失敗";
    Guarded => "held back", "保留";
    Off => "off", "オフ";
    Subject => "Subject", "件名";
    Attendees => "Attendees", "参加者";
    AttendeesHint => "Type a name or e-mail to search CRM contacts and users; press Enter to add an e-mail address.",
        "名前またはメールアドレスを入力してCRMの連絡先とユーザーを検索します。Enterキーでメールアドレスを追加します。";
    Location => "Location", "場所";
    Start => "Start", "開始時刻";
    End => "End", "終了時刻";
    Reminder => "Reminder", "リマインダー通知";
    NoReminder => "None", "なし";
    Schedule => "Schedule", "登録する";
    Remove => "Remove", "削除";
    Add => "Add", "追加";
    Contact => "contact", "連絡先";
    CrmUser => "user", "ユーザー";
    MeetingScheduled => "The meeting was scheduled in IBM Notes (invitations sent) and in Zoho CRM.",
        "IBM Notesに予定を登録し(招待を送信しました)、Zoho CRMにも登録しました。";
    ErrSubject => "Enter a subject.", "件名を入力してください。";
    ErrAttendees => "Add at least one attendee.", "参加者を1人以上追加してください。";
    ErrEmail => "This is not a valid e-mail address.", "有効なメールアドレスではありません。";
    ErrStart => "Enter the start.", "開始時刻を入力してください。";
    ErrEnd => "Enter the end.", "終了時刻を入力してください。";
    ErrEndBeforeStart => "The end must be after the start.", "終了時刻は開始時刻より後にしてください。";
    PasswordIntro => "If you changed your IBM Notes password, enter the new one here. It is checked with the Domino server before it is saved.",
        "IBM Notesのパスワードを変更した場合は、ここに新しいパスワードを入力してください。保存する前にDominoサーバーで確認されます。";
    NewPassword => "New Password", "新しいパスワード";
    PasswordChanged => "The password was checked with Domino and saved.", "パスワードをDominoで確認し、保存しました。";
    LicencesUsed => "Licences used", "使用中のライセンス";
    Users => "Users", "ユーザー";
    Name => "Name", "名前";
    Email => "E-mail", "メールアドレス";
    Role => "Role", "役割";
    Admin => "admin", "管理者";
    Member => "user", "ユーザー";
    SyncingNow => "syncing", "同期中";
    CannotRemoveSyncing => "Syncing: cannot be removed now", "同期中のため削除できません";
    CannotRemoveSetUp => "Set up to sync: stop syncing before removing", "同期が設定されているため削除できません。先に同期を停止してください";
    Connected => "Connected", "接続";
    ScheduleColumn => "Schedule", "スケジュール";
    EveryMinutes => "every {n} min", "{n}分ごと";
    NoSchedule => "none", "なし";
    Never => "never", "未実行";
    StopSyncing => "Stop syncing", "同期を停止";
    StopSyncingTitle => "Stop syncing for {email}?", "{email}の同期を停止しますか?";
    StopSyncingDeletes => "Deleted: their IBM Notes server, user name and encrypted password, and their sync schedule. No sync runs for them any more, by hand or on schedule.",
        "削除されるもの: IBM Notesのサーバー、ユーザー名、暗号化されたパスワード、同期のスケジュール。手動でもスケジュールでも、このユーザーの同期は実行されなくなります。";
    StopSyncingKeeps => "Kept: their records in IBM Notes and Zoho CRM, their sync settings, the links between their Notes and CRM records and their run history, so they can connect again and continue without duplicates. Once their syncing is stopped, you can remove them from the list.",
        "保持されるもの: IBM NotesとZoho CRMのレコード、同期の設定、NotesとCRMのレコードの関連付け、同期の履歴。再度接続すれば、重複なしで同期を続けられます。同期を停止した後は、ユーザーの一覧から削除できます。";
    SyncStopped => "Syncing stopped.", "同期を停止しました。";
    RemoveUserTitle => "Remove {email} from the integration?", "{email}を連携から削除しますか?";
    RemoveUserDeletes => "Deleted: their sign-in sessions, their Zoho CRM access, their sync settings, the links between their Notes and CRM records, their run history and the list of CRM records their syncs created. Their licence becomes free.",
        "削除されるもの: サインインセッション、Zoho CRMへのアクセス、同期の設定、NotesとCRMのレコードの関連付け、同期の履歴、同期で作成したCRMレコードの一覧。ライセンスが1つ空きます。";
    RemoveUserKeeps => "Kept: their records in IBM Notes and Zoho CRM.", "保持されるもの: IBM NotesとZoho CRMのレコード。";
    AddUser => "Add a CRM user", "CRMユーザーを追加";
    NoMoreLicences => "All licences are in use: remove a user first.", "すべてのライセンスが使用中です。先にユーザーを削除してください。";
    NotAdmin => "Only the integration's admin can manage users.", "ユーザーを管理できるのは拡張機能の管理者だけです。";
    UserAdded => "User added.", "ユーザーを追加しました。";
    UserRemoved => "User removed.", "ユーザーを削除しました。";
    UninstallIntro => "Uninstalling deletes the data below. It cannot be restored.",
        "アンインストールすると、以下のデータが削除されます。復元することはできません。";
    UninstallOrg => "For your whole organisation (you are the admin): every user of the integration, their sign-in sessions, their IBM Notes server, user name and encrypted password, their Zoho CRM access, their sync settings and schedules, the links between Notes and CRM records, the run history, and the list of CRM records the sync created.",
        "組織全体(あなたは管理者です):拡張機能のすべてのユーザー、そのサインインセッション、IBM Notesのサーバー・ユーザー名・暗号化されたパスワード、Zoho CRMへのアクセス、同期の設定とスケジュール、NotesとCRMのレコードの関連付け、同期の履歴、同期で作成したCRMレコードの一覧。";
    UninstallUser => "For you: your sign-in sessions, your IBM Notes server, user name and encrypted password, your Zoho CRM access, your sync settings and schedule, the links between your Notes and CRM records, your run history, and the list of CRM records your syncs created.",
        "あなたの分:サインインセッション、IBM Notesのサーバー・ユーザー名・暗号化されたパスワード、Zoho CRMへのアクセス、同期の設定とスケジュール、NotesとCRMのレコードの関連付け、同期の履歴、同期で作成したCRMレコードの一覧。";
    UninstallKeeps => "Your records in IBM Notes and Zoho CRM stay as they are, unless you tick the box below.",
        "下のチェックボックスをオンにしない限り、IBM NotesとZoho CRMのレコードはそのまま残ります。";
    DeleteCrmRecords => "Also delete the records the sync created in Zoho CRM", "同期でZoho CRMに作成したレコードも削除する";
    Ok => "OK", "OK";
    Uninstalled => "The integration was uninstalled and its data deleted.", "拡張機能をアンインストールし、データを削除しました。";
    Close => "Close", "閉じる";
    Retry => "Try again", "再試行";
    NotInstalled => "The integration is not set up for your Zoho CRM organisation yet. A Zoho CRM administrator must sign in first to set it up, then add you under Manage Users.",
        "お使いのZoho CRM組織では、拡張機能がまだ設定されていません。Zoho CRMの管理者が最初にサインインして設定し、「ユーザーの管理」であなたを追加する必要があります。";
    MakeAdmin => "Make admin", "管理者にする";
    MakeAdminTitle => "Hand the admin role to {email}?", "管理者の役割を{email}に引き継ぎますか?";
    MakeAdminWhat => "{email} becomes the integration's admin: they manage users, the CRM set-up and uninstall. Only a Zoho CRM administrator can take the role; Zoho is asked again before it changes.",
        "{email}が拡張機能の管理者になり、ユーザーの管理、CRMの設定、アンインストールを行います。この役割を引き継げるのはZoho CRMの管理者だけです。変更の前にZohoに再度確認します。";
    MakeAdminKeeps => "You become an ordinary user: your sync, settings and history stay, but you can no longer manage users.",
        "あなたは一般ユーザーになります。同期、設定、履歴はそのまま残りますが、ユーザーを管理できなくなります。";
    AdminHandedOver => "The admin role was handed over. You are now an ordinary user.",
        "管理者の役割を引き継ぎました。あなたは一般ユーザーになりました。";
    ErrNotCrmAdmin => "Only a Zoho CRM administrator (the Administrator profile in Zoho CRM) can be the integration's admin.",
        "拡張機能の管理者になれるのは、Zoho CRMの管理者(Zoho CRMの「管理者」プロファイル)だけです。";
    CrmSetup => "CRM set-up", "CRMの設定";
    CrmSetupIntro => "The integration needs the field Notes_UNID on Contacts, Tasks and Meetings in Zoho CRM. Only a Zoho CRM administrator may create fields, so the admin creates them here for every user.",
        "拡張機能には、Zoho CRMの連絡先、タスク、予定にNotes_UNID項目が必要です。項目を作成できるのはZoho CRMの管理者だけなので、管理者がここで全ユーザーのために作成します。";
    CrmSetupReady => "Done: the fields exist.", "完了: 項目は作成済みです。";
    CrmSetupMissing => "Missing:", "未作成:";
    CrmSetupCreate => "Create the fields", "項目を作成";
    CrmSetupDone => "The fields were created.", "項目を作成しました。";
    ErrSetupNeeded => "Zoho CRM is not set up for this yet: the field Notes_UNID is missing.",
        "Zoho CRMの設定がまだ完了していません: Notes_UNID項目がありません。";
    StepSetupNeeded => "Ask the integration's admin to open Settings → Manage Users → CRM set-up and choose Create the fields, then try again.",
        "拡張機能の管理者に、「設定」→「ユーザーの管理」→「CRMの設定」で「項目を作成」を選んでもらってから、もう一度お試しください。";
    ErrZohoRateLimited => "Zoho has given this sign-in all the access tokens it allows for now (10 in 10 minutes). Try again in a few minutes.",
        "Zohoがこのサインインに発行できるアクセストークンの上限(10分間に10回)に達しました。数分後にもう一度お試しください。";
    SignInTitle => "Sign in", "サインイン";
    SignInTitleCrm => "One-time consent", "初回の同意";
    ConsentWhy => "The integration syncs for you on its server, also on a schedule while this tab is closed, so Zoho CRM asks you once to allow it.",
        "この拡張機能はサーバー上で同期を行い、このタブを閉じている間もスケジュールで同期するため、最初に一度だけZoho CRMで許可が必要です。";
    GiveConsent => "Allow access in Zoho", "Zohoでアクセスを許可する";
    ContinueAs => "Continue as {name}", "{name}として続ける";
    ContinueWhy => "Zoho CRM is open as {name}, and the integration already holds your consent: Zoho only confirms it is you.",
        "Zoho CRMに{name}としてサインインしており、この拡張機能はすでに同意を得ています。Zohoが本人であることを確認するだけです。";
    CrmLoading => "Connecting to Zoho CRM…", "Zoho CRMに接続しています…";
    CrmUnavailable => "Zoho CRM did not answer this tab. Reload the page; if it persists, open the integration outside Zoho CRM.",
        "Zoho CRMがこのタブに応答しませんでした。ページを再読み込みしてください。解決しない場合は、Zoho CRMの外で拡張機能を開いてください。";
    AccountMismatch => "This page is signed in as {signed}, but Zoho CRM is open as {crm}. The integration only shows the account Zoho CRM is open with: sign out, then continue as {crm}.",
        "このページは{signed}としてサインインしていますが、Zoho CRMは{crm}として開かれています。この拡張機能はZoho CRMと同じアカウントだけを表示します。サインアウトしてから、{crm}として続けてください。";
    AccountMismatchPopup => "You signed in to Zoho with another account than the one Zoho CRM is open with. Sign in as {crm}.",
        "Zoho CRMとは別のアカウントでZohoにサインインしました。{crm}としてサインインしてください。";
    ErrServerScheme => "Start the Server Name with https:// (or http://), for example https://mail.example.com.",
        "サーバー名は https:// (または http://) から入力してください。例: https://mail.example.com";
    ErrBadRequest => "The server could not accept what was sent. Check the entries and try again.", "サーバーが送信内容を受け付けませんでした。入力内容を確認して、もう一度お試しください。";
    ErrForbidden => "You are not allowed to do this.", "この操作は許可されていません。";
    ErrNotFound => "This was not found on the server. It may have been removed.", "サーバー上に見つかりませんでした。削除された可能性があります。";
    ErrInternal => "The integration's server met an error. Try again later; if it persists, tell your administrator.",
        "拡張機能のサーバーでエラーが発生しました。しばらくしてからもう一度お試しください。解決しない場合は管理者に連絡してください。";
    ErrUpstream => "IBM Notes or Zoho CRM did not answer as expected. Try again later.", "IBM NotesまたはZoho CRMから想定どおりの応答がありませんでした。しばらくしてからもう一度お試しください。";
    ErrNetwork => "The integration's server could not be reached. Check your connection and try again.", "拡張機能のサーバーに接続できませんでした。接続を確認して、もう一度お試しください。";
    ErrSignedOut => "Your sign-in has expired. Sign in again.", "サインインの有効期限が切れました。再度サインインしてください。";
    ErrCsrf => "This page is out of date. Reload it and try again.", "このページは古くなっています。再読み込みしてから、もう一度お試しください。";
    ErrSyncRunning => "A sync is already running for you. Wait until it ends, then try again.", "すでに同期が実行中です。終了してから、もう一度お試しください。";
    ErrTooMany => "Too many requests at once. Wait a moment and try again.", "同時に送信されたリクエストが多すぎます。少し待ってから、もう一度お試しください。";
    ErrInvalidMeeting => "The meeting was not accepted. Check the subject, attendees, start and end.", "予定を受け付けられませんでした。件名、参加者、開始時刻、終了時刻を確認してください。";
    ErrLicenceLimit => "All licences are in use: remove a user first.", "すべてのライセンスが使用中です。先にユーザーを削除してください。";
    ErrAlreadyAdded => "This user has already been added.", "このユーザーはすでに追加されています。";
    ErrNotConnected => "Connect to IBM Notes first.", "先にIBM Notesに接続してください。";
    ErrSetUpToSync => "This user is set up to sync: stop their syncing first.", "このユーザーは同期が設定されています。先に同期を停止してください。";
    ErrSignInFailed => "Zoho did not complete the sign-in. Try again.", "Zohoでのサインインが完了しませんでした。もう一度お試しください。";
    ErrCrmEventNotCreated => "The meeting was made in IBM Notes, but Zoho CRM did not take the event.", "IBM Notesに予定を登録しましたが、Zoho CRMに予定を登録できませんでした。";
    ErrNoLease => "The sync lost its turn (it took too long or another sync took over). Start it again.", "同期の実行権が失われました(時間がかかりすぎたか、別の同期が開始されました)。もう一度開始してください。";
    ErrTooLarge => "What was sent is too large for the server.", "送信内容がサーバーの上限を超えています。";
    ErrGeneric => "The server refused the request.", "サーバーがリクエストを拒否しました。";
    TechnicalDetails => "Technical details", "技術的な詳細";
    SyncSchedule => "Sync schedule", "同期のスケジュール";
    ScheduleHint => "Scheduled syncs run on the integration's server, also while this tab is closed.",
        "スケジュールによる同期は拡張機能のサーバーで実行され、このタブを閉じている間も行われます。";
    ScheduleOff => "Off (only when I click Start Sync)", "オフ(「同期を開始する」をクリックしたときのみ)";
    Every15 => "Every 15 minutes", "15分ごと";
    Every30 => "Every 30 minutes", "30分ごと";
    Every60 => "Every hour", "1時間ごと";
    Daily => "Once a day", "1日1回";
    EveryHours => "every {n} h", "{n}時間ごと";
    ReminderMinutes => "{n} minutes before", "{n}分前";
    ReminderHour => "1 hour before", "1時間前";
    ReminderHours => "{n} hours before", "{n}時間前";
    ReminderDay => "1 day before", "1日前";
    ReminderDays => "{n} days before", "{n}日前";
    ReminderWeek => "1 week before", "1週間前";
    ErrStartPast => "The start is in the past. Choose a later start, or confirm below that the meeting took place already.",
        "開始時刻が過去です。後の時刻を選ぶか、過去の予定として登録することを下で確認してください。";
    ConfirmPast => "Yes, schedule this meeting in the past", "はい、過去の予定として登録します";
    Disconnect => "Disconnect", "連携を解除する";
    DisconnectIntro => "Disconnecting deletes your own data from the integration (below). It cannot be restored. The integration stays for the other users of your organisation.",
        "連携を解除すると、拡張機能に保存されたあなたのデータ(以下)が削除されます。復元することはできません。組織の他のユーザーは引き続き拡張機能を利用できます。";
    Disconnected => "You were disconnected from the integration and your data was deleted.", "連携を解除し、あなたのデータを削除しました。";
    SettingsRestored => "The preview was cancelled: your previous settings are back.", "プレビューをキャンセルしました。以前の設定に戻しました。";
    PreviewReading => "Reading both sides; nothing is written.", "両方のデータを読み込んでいます。何も書き込みません。";
    SyncWriting => "Reading and writing both sides…", "両方のデータを読み書きしています…";
    SyncBusy => "A sync is running.", "同期を実行中です。";
    ActCreate => "create", "作成";
    ActDelete => "delete", "削除";
    ActUpdate => "update", "更新";
    FieldXref => "link to the other side", "相手側へのリンク";
    Scheduled => "scheduled", "スケジュール";
    CancelledTitle => "Sync cancelled", "同期のキャンセル";
    EntryFailed => "The write failed.", "書き込みに失敗しました。";
    RNewIn => "new in {side}", "{side}で新規作成されました";
    RNotCopiedOneWay => "only in {side}; one way {other} → {side} does not copy it", "{side}にのみあります。一方向({other}→{side})の同期ではコピーしません";
    RPrivateIn => "private in {side}", "{side}で非公開です";
    RKeptOutOfScope => "its CRM record is no longer one you sync (reassigned to another owner or out of your view); kept in IBM Notes only",
        "CRMのレコードが同期の対象外になりました(他のユーザーに所有者が変更された、またはビューから外れた)。IBM Notesにのみ残します";
    RMatched => "{by}; {outcome}", "{by}。{outcome}";
    RByCrossId => "matched by their links to each other", "相互のリンクで照合しました";
    RByEmail => "matched by e-mail", "メールアドレスで照合しました";
    RBySubjectDue => "matched by subject and due date", "件名と期日で照合しました";
    RByTitleStart => "matched by title and start", "タイトルと開始日時で照合しました";
    ROutSame => "same content on both sides", "両方の内容は同じです";
    ROutMerged => "fields merged: {fields}", "項目を統合しました: {fields}";
    ROutOneWay => "one way: the values of {source} kept", "一方向の同期のため、{source}の値を保持しました";
    ROutWins => "set differently on both sides, {winner} always wins for: {fields}", "両方で異なる値のため、{winner}を優先しました: {fields}";
    RRelinked => "linked again to the copy a previous sync created", "前回の同期で作成したコピーに再び関連付けました";
    RLeftScopeGone => "no longer one of your CRM records to sync; its IBM Notes copy was already deleted", "CRMで同期の対象外になりました。IBM Notesのコピーはすでに削除されています";
    RLeftScopeRemoved => "no longer one of your CRM records to sync (reassigned to another owner or out of your view): its IBM Notes copy was removed",
        "CRMで同期の対象外になりました(他のユーザーに所有者が変更された、またはビューから外れた)。IBM Notesのコピーを削除しました";
    RLeftScopeKept => "no longer one of your CRM records to sync (reassigned to another owner or out of your view); its IBM Notes copy was {because}, so it was kept and unlinked",
        "CRMで同期の対象外になりました(他のユーザーに所有者が変更された、またはビューから外れた)。IBM Notesのコピーは{because}ため、関連付けを解除して残しました";
    RBecauseChanged => "changed since the last sync", "前回の同期以降に変更された";
    RBecauseOneWay => "the one-way source", "一方向の同期元である";
    RPrivateGone => "became private in {side}; its copy was already deleted", "{side}で非公開になりました。コピーはすでに削除されています";
    RPrivateRemoved => "became private in {side}: its copy in {other} was removed", "{side}で非公開になったため、{other}のコピーを削除しました";
    RPrivateKept => "became private in {side}; its copy in {other} was {because}, so it was kept and unlinked", "{side}で非公開になりました。{other}のコピーは{because}ため、関連付けを解除して残しました";
    RDeletedBoth => "deleted on both sides", "両方で削除されました";
    RDeletedIn => "deleted in {side}", "{side}で削除されました";
    RRestoredChange => "deleted in {side} but changed in {other} since the last sync: restored (a change beats a delete)",
        "{side}で削除されましたが、前回の同期以降に{other}で変更されたため復元しました(変更は削除より優先されます)";
    RSourceDeletedKept => "deleted in {source} but changed in {target} since the last sync: kept and unlinked",
        "{source}で削除されましたが、前回の同期以降に{target}で変更されたため、関連付けを解除して残しました";
    RRestoredFromSource => "deleted in {target}: restored from {source} (one way {source} → {target})", "{target}で削除されたため、{source}から復元しました(一方向: {source}→{target})";
    RTargetEditsReplaced => "one way {source} → {target}: edits made in {target} were replaced by the values of {source}", "一方向({source}→{target})の同期のため、{target}での編集を{source}の値で置き換えました";
    RChangedIn => "changed in {side}: {fields}", "{side}で変更されました: {fields}";
    RChangedBothWins => "changed on both sides; {winner} always wins for: {fields}", "両方で変更されたため、{winner}を優先しました: {fields}";
    RChangedBothMerged => "changed on both sides in different fields: merged", "両方で別々の項目が変更されたため、統合しました";
    RCrossIdsWritten => "the links between the two copies were written", "2つのコピーの相互のリンクを書き込みました";
    RHeldBack => "held back by the mass-delete guard (it would be: {would_be})", "大量削除の防止機能により保留しました(本来の処理: {would_be})";
    RNotADocument => "IBM Notes answered with something that is not a document; it is read again at the next sync", "IBM Notesがドキュメントではない応答を返しました。次回の同期で再度読み込みます";
    RForeignReplaced => "{reason}; its link named another mail file and was replaced, since the record is yours", "{reason}。リンクが別のメールファイルを指していましたが、あなたのレコードなので置き換えました";
    RForeignLeft => "{reason}; its link names another mail file and was left as it is", "{reason}。リンクが別のメールファイルを指しているため、そのままにしました";
    ErrZohoUnavailable => "Zoho's sign-in server is not answering. Try again later.",
        "Zohoの認証サーバーが応答していません。しばらくしてからもう一度お試しください。";
}
