//! The CloudOps desktop app's Rust side: a thin layer of Tauri commands over the shared
//! crates, so the app and the `cloudops` CLI do exactly the same things to the same data
//! directory (`CLOUDOPS_HOME`).
//!
//! - [`commands`]: what the web UI may invoke, and nothing else (the capability in
//!   `capabilities/main.json` grants exactly these).
//! - [`state`]: the estate opened once in the background, the ask flow, waiting plans.
//! - [`views`]: the few UI-shaped structs the shared types do not already provide.
//! - `bindings` (a test): the web UI's TypeScript types, generated from the Rust types the
//!   commands take and return (`ui/src/lib/generated/bindings.ts`), and the check that the
//!   committed file is up to date.
//! - [`memory`]: freed memory handed back to the system after the app's bursts of work.
//! - [`rendering`]: the GL stack kept out of the app's own process on X11.
//!
//! The web UI (`ui/`, Svelte + TypeScript) only presents: resolution, verification,
//! approval rules, execution and audit all happen in `cloudops-assist`, the sync in `cloudops-sync`.

#[cfg(test)]
mod bindings;
pub mod commands;
mod error;
pub mod memory;
pub mod rendering;
pub mod state;
pub mod views;

use std::path::PathBuf;

pub use crate::error::{CommandError, CommandResult};
use crate::state::AppState;
use tauri::Manager;

/// Stack of the async runtime's threads. The execution future (workflow, AWS CLI processes,
/// refresh) is deep; debug builds overflowed tokio's default 2 MiB on approve.
const RUNTIME_STACK_BYTES: usize = 16 * 1024 * 1024;

/// Runs the app over the data directory `home` until its window closes.
pub fn run(home: PathBuf) -> tauri::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("cloudops-runtime")
        .thread_stack_size(RUNTIME_STACK_BYTES)
        .build()?;
    tauri::async_runtime::set(runtime.handle().clone());
    tauri::Builder::default()
        .manage(AppState::new(home))
        .setup(|app| {
            // Open the estate (and load the model) and build the ask flow while the window
            // appears, so the first keystroke does not wait for them.
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                let state = handle.state::<AppState>();
                if let Err(error) = state.assistant().await {
                    eprintln!("cloudops-desktop: {error}");
                }
            });
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::search,
            commands::resource,
            commands::resource_operations,
            commands::facets,
            commands::answer,
            commands::fleet,
            commands::count,
            commands::resolve,
            commands::propose,
            commands::approve,
            commands::reject,
            commands::agent_requests,
            commands::agent_request_open,
            commands::sync_status,
            commands::sync_now,
            commands::accounts,
            commands::account_key_add,
            commands::account_key_remove,
            commands::settings,
            commands::set_planner,
            commands::history,
            commands::history_show,
        ])
        .run(tauri::generate_context!())
}
