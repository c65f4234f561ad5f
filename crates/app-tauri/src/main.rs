//! `cloudops-desktop`: the CloudOps desktop app. `--home DIR` (else `CLOUDOPS_HOME`, else
//! the platform data directory) selects the data directory, as for the CLI.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

fn home() -> Result<PathBuf> {
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        match arg.to_str() {
            Some("--home") => {
                return args.next().map(PathBuf::from).context("--home needs a directory");
            }
            Some("--help" | "-h") => {
                println!(
                    "cloudops-desktop [--home DIR]\n\nThe CloudOps desktop app. DIR defaults to $CLOUDOPS_HOME, else the platform data directory."
                );
                std::process::exit(0);
            }
            // Arguments the webview's driver or the desktop may add are not ours.
            _ => {}
        }
    }
    match cloudops_core::default_home() {
        Ok(home) => Ok(home),
        Err(error) => bail!(error),
    }
}

fn main() -> ExitCode {
    // First, while this is the only thread: the environment and the allocator's settings.
    cloudops_desktop::rendering::keep_gl_out_of_this_process();
    cloudops_desktop::memory::configure_allocator();
    let result = home().and_then(|home| {
        cloudops_desktop::run(home).context("the desktop app stopped with an error")
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
