//! `cloudops accounts`: access keys of the configured accounts, kept in the OS keychain.
//!
//! The secret is read from the terminal without echo, or from standard input; never from an
//! argument, and it is never printed. `CLOUDOPS_KEYCHAIN` (`secret-service`, `kernel`,
//! `auto`) picks the keychain and `CLOUDOPS_KEYCHAIN_SERVICE` the service name entries are
//! kept under (tests use their own).

use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use cloudops_core::ClientConfig;
use cloudops_sync::{AccessKey, Keychain, KeychainConfig, Secret};
use zeroize::Zeroizing;

use crate::output::clean;

/// More than any key pair with a session token; bounds what is read from standard input.
const MAX_INPUT_BYTES: usize = 16 * 1024;

/// `cloudops accounts add NAME`: stores an access key pair for an account of `config.toml`.
/// Reads the access key id, the secret access key and an optional session token from the
/// terminal (the secrets without echo), or as lines of standard input with `--stdin` or when
/// standard input is not a terminal.
pub fn add(home: &Path, name: &str, from_stdin: bool) -> Result<()> {
    let config = ClientConfig::load(home)?;
    if !config.accounts.iter().any(|account| account.name == name) {
        bail!(cloudops_core::Error::NotFound(format!(
            "account {name:?} in {}; add it there first:\n\n[[accounts]]\nname = {name:?}\nregions = [\"us-east-1\"]",
            cloudops_core::DataDir::new(home).config_file().display()
        )));
    }
    // Open the keychain before asking for the secret, so a missing one fails early.
    let keychain = open_keychain()?;
    let stdin = std::io::stdin();
    let key = if from_stdin || !stdin.is_terminal() {
        read_key(stdin.lock())?
    } else {
        prompt_key(name)?
    };
    keychain.store(name, &key)?;
    eprintln!(
        "stored the access key {} of account {:?} in {}",
        key.masked_access_key_id(),
        clean(name),
        keychain.backend().description()
    );
    if !keychain.backend().is_persistent() {
        eprintln!(
            "note: the kernel keyring keeps it until reboot; start a Secret Service (gnome-keyring, KeePassXC) to keep keys longer"
        );
    }
    Ok(())
}

/// `cloudops accounts list`: each configured account and the access key id the keychain
/// holds for it, masked (`AKIA…WXYZ`); never a secret. `--json` prints one object.
pub fn list(home: &Path, json: bool) -> Result<()> {
    let config = ClientConfig::load(home)?;
    let keychain = open_keychain()?;
    let listing = keychain.list(&config.accounts)?;
    let mut out = std::io::stdout().lock();
    if json {
        let value = serde_json::json!({
            "keychain": keychain.backend(),
            "accounts": listing,
        });
        serde_json::to_writer(&mut out, &value)?;
        writeln!(out)?;
        return Ok(out.flush()?);
    }
    if listing.is_empty() {
        eprintln!(
            "no accounts in {}: add [[accounts]] entries first",
            cloudops_core::DataDir::new(home).config_file().display()
        );
        return Ok(());
    }
    let width = listing.iter().map(|stored| clean(&stored.account).chars().count()).max();
    let width = width.unwrap_or(0).max("ACCOUNT".len());
    writeln!(out, "{:<width$}  ACCESS KEY", "ACCOUNT")?;
    for stored in &listing {
        let key = match (&stored.problem, &stored.access_key_id) {
            (Some(problem), _) => format!("unusable: {}", clean(problem)),
            (None, Some(id)) if stored.session_token => format!("{id} (temporary)"),
            (None, Some(id)) => id.clone(),
            (None, None) => "- (profile or default credentials)".to_owned(),
        };
        writeln!(out, "{:<width$}  {key}", clean(&stored.account))?;
    }
    out.flush()?;
    let backend = keychain.backend();
    let lifetime = if backend.is_persistent() { "" } else { " (keys are kept until reboot)" };
    eprintln!("keychain: {}{lifetime}", backend.description());
    Ok(())
}

/// `cloudops accounts remove NAME`: deletes the account's key from the keychain. Works for
/// accounts no longer in `config.toml` too; fails (not found) when nothing was stored.
pub fn remove(_home: &Path, name: &str) -> Result<()> {
    let keychain = open_keychain()?;
    if !keychain.remove(name)? {
        bail!(cloudops_core::Error::NotFound(format!(
            "no access key of account {:?} in {}",
            clean(name),
            keychain.backend().description()
        )));
    }
    eprintln!(
        "removed the access key of account {:?} from {}",
        clean(name),
        keychain.backend().description()
    );
    Ok(())
}

fn open_keychain() -> Result<Keychain> {
    let config = KeychainConfig::from_env()?;
    Ok(Keychain::open(&config)?)
}

/// Lines of `input`: the access key id, the secret access key, and optionally a session
/// token; surrounding blanks and empty lines are ignored.
fn read_key(input: impl BufRead) -> Result<AccessKey> {
    // Reserved up front so the buffer holding the secret is never reallocated (and an old
    // copy left behind unzeroed).
    let mut text = Zeroizing::new(String::with_capacity(MAX_INPUT_BYTES + 1));
    input
        .take(MAX_INPUT_BYTES as u64 + 1)
        .read_to_string(&mut text)
        .context("cannot read the access key from standard input")?;
    if text.len() > MAX_INPUT_BYTES {
        bail!(cloudops_core::Error::InvalidInput(format!(
            "standard input is longer than {MAX_INPUT_BYTES} bytes: give the access key id, the secret access key and optionally a session token, one per line"
        )));
    }
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|line| !line.is_empty()).collect();
    let (id, secret, token) = match lines.as_slice() {
        [id, secret] => (*id, *secret, None),
        [id, secret, token] => (*id, *secret, Some(*token)),
        _ => bail!(cloudops_core::Error::InvalidInput(format!(
            "expected 2 or 3 lines on standard input (the access key id, the secret access key, optionally a session token), got {}",
            lines.len()
        ))),
    };
    Ok(AccessKey::new(id, Secret::new(secret), token.map(Secret::new))?)
}

/// Asks on the terminal: the id with echo (it is not secret), the secrets without.
fn prompt_key(name: &str) -> Result<AccessKey> {
    eprint!("access key id for {:?}: ", clean(name));
    std::io::stderr().flush()?;
    let mut id = String::new();
    std::io::stdin().lock().read_line(&mut id).context("cannot read the access key id")?;
    let secret = Secret::new(
        rpassword::prompt_password("secret access key (not shown): ")
            .context("cannot read the secret access key from the terminal")?,
    );
    let token = Secret::new(
        rpassword::prompt_password(
            "session token, for temporary keys (not shown; Enter if none): ",
        )
        .context("cannot read the session token from the terminal")?,
    );
    let token = if token.expose().trim().is_empty() { None } else { Some(token) };
    Ok(AccessKey::new(id.trim(), secret, token)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    #[test]
    fn keys_are_read_as_lines() {
        let key = read_key(format!("AKIAIOSFODNN7EXAMPLE\r\n{SECRET}\n\n").as_bytes())
            .expect("two lines");
        assert_eq!(key.access_key_id, "AKIAIOSFODNN7EXAMPLE");
        assert_eq!(key.secret_access_key.expose(), SECRET);
        assert_eq!(key.session_token, None);

        let key =
            read_key(format!("  ASIAIOSFODNN7EXAMPLE\n{SECRET}\nFwoGZXIvtoken==\n").as_bytes())
                .expect("three lines");
        assert_eq!(key.session_token.as_ref().map(Secret::expose), Some("FwoGZXIvtoken=="));
    }

    #[test]
    fn bad_input_is_refused_without_echoing_it() {
        for input in ["", "AKIAIOSFODNN7EXAMPLE\n", "a\nb\nc\nd\n"] {
            let message = read_key(input.as_bytes()).expect_err(input).to_string();
            assert!(message.contains("expected 2 or 3 lines"), "{message}");
        }
        let message = read_key(format!("AKIAIOSFODNN7EXAMPLE\n{SECRET} more\n").as_bytes())
            .expect_err("a secret with a space")
            .to_string();
        assert!(!message.contains(SECRET), "{message}");
        let long = "x".repeat(MAX_INPUT_BYTES + 1);
        assert!(read_key(long.as_bytes()).is_err());
    }
}
