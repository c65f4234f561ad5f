//! Builds the web UI (`ui/` → `ui/dist`, embedded in the binary) when its sources changed
//! or it was never built, then lets Tauri generate the context and the access control list
//! for the app's own commands: the capability in `capabilities/main.json` grants exactly
//! these, so the webview can invoke nothing else.
use std::path::Path;
use std::process::Command;

/// Every command of the app; each gets an `allow-<name>` permission, which
/// `permissions/app.toml` grants (a test in `src/commands.rs` keeps the three lists equal).
const COMMANDS: &[&str] = &[
    "app_info",
    "search",
    "resource",
    "resource_operations",
    "facets",
    "answer",
    "fleet",
    "count",
    "resolve",
    "propose",
    "approve",
    "reject",
    "agent_requests",
    "agent_request_open",
    "sync_status",
    "sync_now",
    "accounts",
    "account_key_add",
    "account_key_remove",
    "settings",
    "set_planner",
    "history",
    "history_show",
];

fn main() {
    build_ui();
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri build step");
}

/// Runs `npm ci` (when `node_modules` is missing) and `npm run build` in `ui/` — as
/// processes with arguments, no shell. `CLOUDOPS_SKIP_UI_BUILD=1` uses `ui/dist` as it is.
fn build_ui() {
    let ui = Path::new("ui");
    for watched in ["src", "index.html", "package.json", "package-lock.json", "vite.config.ts"] {
        println!("cargo:rerun-if-changed=ui/{watched}");
    }
    println!("cargo:rerun-if-env-changed=CLOUDOPS_SKIP_UI_BUILD");
    if std::env::var_os("CLOUDOPS_SKIP_UI_BUILD").is_some_and(|v| v == "1") {
        return;
    }
    if !ui.join("package.json").exists() {
        return;
    }
    if !ui.join("node_modules").exists() {
        run(ui, &["ci", "--no-audit", "--no-fund"]);
    }
    run(ui, &["run", "build"]);
}

fn run(ui: &Path, args: &[&str]) {
    let status = Command::new("npm").args(args).current_dir(ui).status();
    match status {
        Ok(status) if status.success() => {}
        Ok(status) => panic!(
            "`npm {}` in crates/app-tauri/ui failed ({status}); install Node.js 20.19+ and npm (scripts/fetch-node.sh), or build the UI yourself and set CLOUDOPS_SKIP_UI_BUILD=1",
            args.join(" ")
        ),
        Err(error) => panic!(
            "cannot run npm ({error}): the desktop app embeds its web UI, built with Node.js 20.19+ and npm (scripts/fetch-node.sh)"
        ),
    }
}
