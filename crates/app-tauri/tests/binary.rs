//! The `cloudops-desktop` binary's command line, before any window opens. Having an
//! integration test also makes `cargo test` build the binary itself with the tests' features,
//! so the end-to-end run (`scripts/test.sh`) tests that very build.

use std::process::Command;

fn desktop() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cloudops-desktop"))
}

#[test]
fn help_describes_the_data_directory_and_opens_no_window() {
    let output = desktop()
        .arg("--help")
        // No display: the test fails if the binary tries to open a window for --help.
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("cloudops-desktop runs");
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("cloudops-desktop [--home DIR]"), "{stdout}");
    assert!(stdout.contains("$CLOUDOPS_HOME"), "{stdout}");
}

#[test]
fn home_without_a_directory_is_refused_with_a_clear_error() {
    let output = desktop()
        .arg("--home")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("cloudops-desktop runs");
    assert!(!output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--home needs a directory"), "{stderr}");
}
