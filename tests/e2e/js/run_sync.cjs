// Runs one sync with the sync-core JS package in Node, against a Domino server and Zoho CRM.
// The embedder's job: perform the engine's requests (adding credentials), store its state.
//
// usage: node run_sync.cjs <package dir> <domino url> <zoho url> <state file>
// prints the run report as JSON on stdout.
"use strict";
const fs = require("fs");
const path = require("path");

const [pkgDir, domino, zoho, stateFile] = process.argv.slice(2);
const { SyncEngine } = require(path.resolve(pkgDir, "sync_core.js"));

async function zohoToken() {
  const q = "grant_type=refresh_token&client_id=demo-client&client_secret=demo-secret&refresh_token=demo-refresh";
  const r = await fetch(`${zoho}/oauth/v2/token?${q}`, { method: "POST" });
  const j = await r.json();
  if (!j.access_token) throw new Error(`no access token: ${JSON.stringify(j)}`);
  return j.access_token;
}

async function perform(req, token) {
  const base = req.side === "notes" ? domino : zoho;
  const headers = {};
  for (const h of req.headers) headers[h.name] = h.value;
  headers.Authorization = req.side === "notes"
    ? "Basic " + Buffer.from("demo:demo").toString("base64")
    : `Zoho-oauthtoken ${token}`;
  try {
    const r = await fetch(base + req.path, { method: req.method, headers, body: req.body ?? undefined, redirect: "manual" });
    const out = [];
    r.headers.forEach((value, name) => out.push({ name, value }));
    return { status: r.status, headers: out, body: await r.text() };
  } catch (e) {
    return { error: { kind: "connect", message: String(e) } };
  }
}

async function main() {
  const token = await zohoToken();
  const state = fs.existsSync(stateFile) ? JSON.parse(fs.readFileSync(stateFile, "utf8")) : null;
  const config = {
    mail_db: "mail/demo.nsf",
    settings: { contacts: true, tasks: true, events: "off", direction: "two_way", conflict: "crm_wins" },
    time_zone: "Asia/Tokyo",
  };
  const engine = new SyncEngine(config, state, Date.now());
  const answers = [];
  let wake = null;
  for (;;) {
    const out = engine.poll();
    if (out.kind === "request") {
      const id = out.value.id;
      perform(out.value, token).then((a) => {
        answers.push([id, a]);
        if (wake) { wake(); wake = null; }
      });
    } else if (out.kind === "state") {
      // Already applied inside the engine; a real embedder would persist it now.
    } else if (out.kind === "wait") {
      if (answers.length === 0) {
        await new Promise((resolve) => {
          wake = resolve;
          if (out.value != null) setTimeout(resolve, Math.max(0, out.value - Date.now()));
        });
      }
      if (answers.length === 0) engine.handleTimeout(Date.now());
      while (answers.length) {
        const [id, a] = answers.shift();
        engine.handleResponse(id, Date.now(), a);
      }
    } else {
      fs.writeFileSync(stateFile, JSON.stringify(engine.state()));
      process.stdout.write(JSON.stringify(out.value));
      return;
    }
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
