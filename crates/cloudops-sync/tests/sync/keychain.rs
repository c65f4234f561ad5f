//! Access keys in real keychains: this machine's kernel keyring, and a Secret Service
//! (gnome-keyring) started for the test on a private D-Bus bus with its files in a temporary
//! directory, so no test touches a real entry.
//!
//! The Secret Service is found through `DBUS_SESSION_BUS_ADDRESS`, which a test cannot set
//! in its own process (`set_var` is unsafe and the workspace denies unsafe code), so the
//! tests that need a prepared environment re-run this binary with it: the `in_*` tests are
//! ignored and only do their work when their parent test runs them.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cloudops_core::{AccountConfig, ErrorKind};
use cloudops_sync::{AccessKey, Keychain, KeychainBackend, KeychainConfig, Secret, StoredKey};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY";
const OTHER_SECRET: &str = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY";
const TOKEN: &str = "FwoGZXIvYXdzEBYaDLuiEXAMPLEtokenBASE64+/==";

/// Set in the environment of a child run by its parent test.
const CHILD_ENV: &str = "CLOUDOPS_TEST_KEYCHAIN_CHILD";
/// The service name the parent chose, so it can check the child cleaned up.
const SERVICE_ENV: &str = "CLOUDOPS_TEST_KEYCHAIN_SERVICE";

/// A service name no other test (or real use) shares.
fn unique_service() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!(
        "cloudops-test-{}-{nanos}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

fn config(service: &str, backend: Option<KeychainBackend>) -> KeychainConfig {
    KeychainConfig { service: service.to_owned(), backend }
}

fn account(name: &str) -> AccountConfig {
    AccountConfig { name: name.to_owned(), ..AccountConfig::default() }
}

/// Removes the test's entries even when an assertion fails.
struct Cleanup<'a>(&'a Keychain, &'a [&'a str]);

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        for account in self.1 {
            let _ = self.0.remove(account);
        }
    }
}

/// Store, load, overwrite, list, reopen, remove: everything an operator does, on one keychain.
fn exercise(keychain: &Keychain) {
    let _cleanup = Cleanup(keychain, &["production", "staging"]);

    assert_eq!(keychain.load("production").expect("load"), None);
    assert!(!keychain.remove("production").expect("remove of nothing"));

    let long_term =
        AccessKey::new("AKIAIOSFODNN7EXAMPLE", Secret::new(SECRET), None).expect("a valid key");
    keychain.store("production", &long_term).expect("store");
    let loaded = keychain.load("production").expect("load").expect("the stored key");
    assert_eq!(loaded, long_term);
    assert!(!format!("{loaded:?} {loaded:#?}").contains(SECRET), "Debug shows the secret");

    let temporary =
        AccessKey::new("ASIAIOSFODNN7EXAMPLF", Secret::new(OTHER_SECRET), Some(Secret::new(TOKEN)))
            .expect("a valid key");
    keychain.store("production", &temporary).expect("overwrite");
    assert_eq!(keychain.load("production").expect("load"), Some(temporary.clone()));
    assert_eq!(keychain.load("staging").expect("load"), None, "another account sees nothing");

    let credentials =
        keychain.credentials("production").expect("credentials").expect("the stored key");
    assert_eq!(credentials.access_key_id(), "ASIAIOSFODNN7EXAMPLF");
    assert_eq!(credentials.secret_access_key(), OTHER_SECRET);
    assert_eq!(credentials.session_token(), Some(TOKEN));

    let listing = keychain.list(&[account("production"), account("staging")]).expect("list");
    assert_eq!(
        listing,
        [
            StoredKey {
                account: "production".into(),
                access_key_id: Some("ASIA…MPLF".into()),
                session_token: true,
                problem: None,
            },
            StoredKey {
                account: "staging".into(),
                access_key_id: None,
                session_token: false,
                problem: None,
            },
        ]
    );
    let rendered = format!("{listing:?} {}", serde_json::to_string(&listing).expect("json"));
    for secret in [SECRET, OTHER_SECRET, TOKEN, "ASIAIOSFODNN7EXAMPLF"] {
        assert!(!rendered.contains(secret), "the listing shows {secret}: {rendered}");
    }

    let invalid = keychain.store("", &long_term).expect_err("an empty account name");
    assert_eq!(invalid.kind(), ErrorKind::InvalidInput);

    // A second handle (a new connection, as another process would open) sees the entry;
    // a different service name does not.
    let reopened = Keychain::open(&config(keychain.service(), Some(keychain.backend())))
        .expect("the keychain opens again");
    assert_eq!(reopened.load("production").expect("load"), Some(temporary));
    let elsewhere = Keychain::open(&config(&unique_service(), Some(keychain.backend())))
        .expect("the keychain opens with another service name");
    assert_eq!(elsewhere.load("production").expect("load"), None);

    assert!(keychain.remove("production").expect("remove"));
    assert!(!keychain.remove("production").expect("remove again"));
    assert_eq!(keychain.load("production").expect("load"), None);
    assert_eq!(reopened.load("production").expect("load"), None);
}

#[test]
fn kernel_keyring() {
    let keychain = Keychain::open(&config(&unique_service(), Some(KeychainBackend::Kernel)))
        .expect("the kernel keyring is usable (keyctl system calls allowed)");
    assert_eq!(keychain.backend(), KeychainBackend::Kernel);
    exercise(&keychain);
}

/// Other processes of the user read and replace the key though they do not share this one's
/// session keyring (a new login, ssh, a systemd service): `keyctl session -` runs the child
/// in a fresh session keyring without a link to the user keyring.
#[test]
fn kernel_keyring_entries_reach_other_sessions() {
    assert!(on_path("keyctl"), "keyctl not found: apt-get install keyutils");
    let service = unique_service();
    let keychain = Keychain::open(&config(&service, Some(KeychainBackend::Kernel)))
        .expect("the kernel keyring is usable (keyctl system calls allowed)");
    let _cleanup = Cleanup(&keychain, &["production"]);
    let key = AccessKey::new("AKIAIOSFODNN7EXAMPLE", Secret::new(SECRET), None).expect("valid");
    keychain.store("production", &key).expect("store");
    run_child_in(
        &["keyctl", "session", "-"],
        "keychain::in_another_session_keyring",
        &[(SERVICE_ENV, service.into())],
    );
    let replaced = keychain.load("production").expect("load").expect("the child's key");
    assert_eq!(replaced.secret_access_key.expose(), OTHER_SECRET);
}

#[test]
#[ignore = "run by `kernel_keyring_entries_reach_other_sessions` in a new session keyring"]
fn in_another_session_keyring() {
    let Some(service) = std::env::var_os(SERVICE_ENV).filter(|_| is_child()) else {
        return;
    };
    let keychain =
        Keychain::open(&config(&service.to_string_lossy(), Some(KeychainBackend::Kernel)))
            .expect("the kernel keyring");
    let key = keychain.load("production").expect("load").expect("the parent's key");
    assert_eq!(key.secret_access_key.expose(), SECRET);
    let replacement =
        AccessKey::new("AKIAIOSFODNN7EXAMPLE", Secret::new(OTHER_SECRET), None).expect("valid");
    keychain.store("production", &replacement).expect("replace");
}

#[test]
fn secret_service() {
    let session = SecretServiceSession::start();
    let service = unique_service();
    run_child(
        "keychain::in_secret_service_session",
        &[
            ("DBUS_SESSION_BUS_ADDRESS", session.address.clone().into()),
            (SERVICE_ENV, service.clone().into()),
        ],
    );
}

#[test]
#[ignore = "run by `secret_service` inside the D-Bus session it starts"]
fn in_secret_service_session() {
    let Some(service) = std::env::var_os(SERVICE_ENV).filter(|_| is_child()) else {
        return;
    };
    let service = service.to_string_lossy().into_owned();
    // gnome-keyring takes a moment to claim its bus name after it starts.
    let deadline = Instant::now() + Duration::from_secs(20);
    let keychain = loop {
        match Keychain::open(&config(&service, Some(KeychainBackend::SecretService))) {
            Ok(keychain) => break keychain,
            Err(error) => {
                assert!(Instant::now() < deadline, "no Secret Service within 20 s: {error}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    };
    assert_eq!(keychain.backend(), KeychainBackend::SecretService);
    let automatic = Keychain::with_service(&service).expect("the default keychain opens");
    assert_eq!(automatic.backend(), KeychainBackend::SecretService, "auto prefers it");
    exercise(&keychain);

    // The entry went to the Secret Service, not the kernel keyring.
    let key = AccessKey::new("AKIAIOSFODNN7EXAMPLE", Secret::new(SECRET), None).expect("valid");
    let _cleanup = Cleanup(&keychain, &["only-there"]);
    keychain.store("only-there", &key).expect("store");
    let kernel = Keychain::open(&config(&service, Some(KeychainBackend::Kernel))).expect("kernel");
    assert_eq!(kernel.load("only-there").expect("load"), None);
}

#[test]
fn without_a_secret_service_the_kernel_keyring_is_used() {
    run_child(
        "keychain::in_a_session_without_secret_service",
        &[("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/cloudops-test-bus".into())],
    );
}

#[test]
#[ignore = "run by `without_a_secret_service_the_kernel_keyring_is_used`"]
fn in_a_session_without_secret_service() {
    if !is_child() {
        return;
    }
    let service = unique_service();
    let keychain = Keychain::with_service(&service).expect("the kernel keyring as a fallback");
    assert_eq!(keychain.backend(), KeychainBackend::Kernel);
    let error = Keychain::open(&config(&service, Some(KeychainBackend::SecretService)))
        .expect_err("no Secret Service on a bus that does not exist");
    assert_eq!(error.kind(), ErrorKind::Unavailable);
    assert!(error.to_string().contains("Secret Service is not available"), "{error}");
}

fn is_child() -> bool {
    std::env::var_os(CHILD_ENV).is_some()
}

/// Runs the ignored test `name` of this binary in a child process with `env` added.
fn run_child(name: &str, env: &[(&str, OsString)]) {
    run_child_in(&[], name, env);
}

/// [`run_child`] through `wrapper`, a command that runs the rest of its arguments.
fn run_child_in(wrapper: &[&str], name: &str, env: &[(&str, OsString)]) {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut command = match wrapper {
        [] => Command::new(&exe),
        [program, arguments @ ..] => {
            let mut command = Command::new(program);
            command.args(arguments).arg(&exe);
            command
        }
    };
    let output = command
        .args([name, "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .envs(env.iter().map(|(key, value)| (key, value)))
        .output()
        .expect("the test binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "{name} failed in the child:\n{stdout}\n{stderr}"
    );
}

/// A private D-Bus session bus with gnome-keyring's Secret Service, unlocked, its keyring
/// files in a temporary directory; both stopped when dropped.
struct SecretServiceSession {
    bus: Child,
    keyring: Child,
    /// `unix:path=…,guid=…`.
    address: String,
    _dir: tempfile::TempDir,
}

impl SecretServiceSession {
    fn start() -> SecretServiceSession {
        for tool in ["dbus-daemon", "gnome-keyring-daemon"] {
            assert!(
                on_path(tool),
                "{tool} not found: apt-get install dbus-daemon gnome-keyring (the Secret Service test starts its own)"
            );
        }
        let dir = tempfile::tempdir().expect("a temporary directory");
        let socket = dir.path().join("bus");
        // No <servicedir>: nothing is activated, so no daemon ever starts with the real HOME.
        let bus_config = format!(
            r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
            socket.display()
        );
        let config_path = dir.path().join("bus.conf");
        std::fs::write(&config_path, bus_config).expect("the bus configuration is written");
        let mut bus = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config_path.display()))
            .args(["--nofork", "--print-address=1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon starts");
        let mut address = String::new();
        BufReader::new(bus.stdout.take().expect("dbus-daemon's stdout"))
            .read_line(&mut address)
            .expect("dbus-daemon prints its address");
        let address = address.trim().to_owned();
        assert!(address.starts_with("unix:"), "dbus-daemon printed {address:?}");

        let home = dir.path().join("home");
        let runtime = dir.path().join("runtime");
        for directory in [&home, &runtime] {
            std::fs::create_dir(directory).expect("a directory in the temporary directory");
        }
        let mut keyring = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &home)
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env("XDG_RUNTIME_DIR", &runtime)
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon starts");
        // The login keyring's password, read until end of input; the keyring is created
        // unlocked with it.
        let mut stdin = keyring.stdin.take().expect("gnome-keyring-daemon's stdin");
        stdin.write_all(b"cloudops-test").expect("the password is written");
        drop(stdin);
        SecretServiceSession { bus, keyring, address, _dir: dir }
    }
}

impl Drop for SecretServiceSession {
    fn drop(&mut self) {
        for child in [&mut self.keyring, &mut self.bus] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn on_path(tool: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).any(|directory| is_executable(&directory.join(tool)))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
