//! Access keys kept in the operating system's keychain, one entry per configured account.
//!
//! A key pair never goes to a file, a log, the index or the terminal: it is stored as one
//! JSON secret per account in the Secret Service (gnome-keyring, KWallet, KeePassXC) when a
//! D-Bus session offers one, else in the Linux kernel's keyring (kept until reboot). Secrets
//! are zeroed when dropped and redacted in `Debug`. Keychains cannot be enumerated reliably,
//! so [`Keychain::list`] checks the configured accounts one by one.
//!
//! Every call blocks (a D-Bus round trip or a system call): from async code, run it in
//! `tokio::task::spawn_blocking`.
//!
//! ```no_run
//! # fn run() -> cloudops_sync::Result<()> {
//! use cloudops_sync::{AccessKey, Keychain, KeychainConfig, Secret};
//!
//! let keychain = Keychain::open(&KeychainConfig::default())?;
//! let key = AccessKey::new("AKIAIOSFODNN7EXAMPLE", Secret::new("wJalrXUtnFEMI/K7MDENG"), None)?;
//! keychain.store("production", &key)?;
//! let credentials = keychain.credentials("production")?; // for `connect`
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::str::FromStr;

use std::collections::BTreeMap;

use aws_credential_types::Credentials;
use cloudops_core::AccountConfig;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// The keychain service name entries are stored under.
pub const SERVICE: &str = "cloudops";

/// The provider name of the [`Credentials`] made from a stored key (shows in SDK logs).
pub const PROVIDER_NAME: &str = "cloudops-keychain";

/// The version of the JSON stored per account; newer versions are refused, clearly.
const FORMAT_VERSION: u32 = 1;

/// Chooses the keychain: `secret-service`, `kernel` or `auto` (the default).
pub const KEYCHAIN_ENV: &str = "CLOUDOPS_KEYCHAIN";

/// Overrides the service name (tests use their own so they never touch real entries).
pub const SERVICE_ENV: &str = "CLOUDOPS_KEYCHAIN_SERVICE";

const MAX_ACCOUNT_NAME_CHARS: usize = 128;
const MAX_SECRET_ACCESS_KEY_CHARS: usize = 1024;
const MAX_SESSION_TOKEN_CHARS: usize = 8192;

/// A secret string: zeroed when dropped, `[redacted]` in `Debug`, never serialized.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps `value` (taking its buffer, not copying it).
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(Zeroizing::new(value.into()))
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret::new(value)
    }
}

/// An AWS access key pair, with a session token when it is temporary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKey {
    /// `AKIA…` (long-term) or `ASIA…` (temporary): 16 to 128 characters A-Z and 0-9.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: Secret,
    /// The session token of temporary credentials.
    pub session_token: Option<Secret>,
}

impl AccessKey {
    /// A validated key pair.
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: Secret,
        session_token: Option<Secret>,
    ) -> Result<AccessKey> {
        let key =
            AccessKey { access_key_id: access_key_id.into(), secret_access_key, session_token };
        key.validate()?;
        Ok(key)
    }

    /// Checks the shape of every part; the messages never contain a secret.
    pub fn validate(&self) -> Result<()> {
        validate_access_key_id(&self.access_key_id)?;
        validate_secret(
            "the secret access key",
            &self.secret_access_key,
            MAX_SECRET_ACCESS_KEY_CHARS,
        )?;
        if let Some(token) = &self.session_token {
            validate_secret("the session token", token, MAX_SESSION_TOKEN_CHARS)?;
        }
        Ok(())
    }

    /// The access key id with its middle hidden, e.g. `AKIA…MPLE`.
    pub fn masked_access_key_id(&self) -> String {
        mask_access_key_id(&self.access_key_id)
    }

    /// SDK credentials for [`connect`](crate::connect) (provider [`PROVIDER_NAME`]).
    pub fn credentials(&self) -> Credentials {
        Credentials::new(
            &self.access_key_id,
            self.secret_access_key.expose(),
            self.session_token.as_ref().map(|token| token.expose().to_owned()),
            None,
            PROVIDER_NAME,
        )
    }
}

impl From<&AccessKey> for Credentials {
    fn from(key: &AccessKey) -> Self {
        key.credentials()
    }
}

/// `AKIA…WXYZ`: the first and last four characters; `…` alone for anything too short to
/// hide a middle.
pub fn mask_access_key_id(access_key_id: &str) -> String {
    let chars: Vec<char> = access_key_id.chars().collect();
    if chars.len() < 12 {
        return "…".to_owned();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

/// SDK credentials for every account in `accounts` the keychain ([`KeychainConfig::from_env`])
/// holds a key for, and notes for the operator. Accounts without a key use their profile or
/// the default chain, so a keychain that is not there only matters when `CLOUDOPS_KEYCHAIN`
/// asks for one; an unreadable entry is a note, not a failure. Notes never hold a secret.
pub fn stored_credentials(
    accounts: &[AccountConfig],
) -> (BTreeMap<String, Credentials>, Vec<String>) {
    let mut credentials = BTreeMap::new();
    let mut notes = Vec::new();
    let config = match KeychainConfig::from_env() {
        Ok(config) => config,
        Err(error) => {
            notes.push(format!("stored access keys are not used: {error}"));
            return (credentials, notes);
        }
    };
    let keychain = match Keychain::open(&config) {
        Ok(keychain) => keychain,
        Err(error) => {
            if config.backend.is_some() {
                notes.push(format!("stored access keys are not used: {error}"));
            }
            return (credentials, notes);
        }
    };
    for account in accounts {
        match keychain.load(&account.name) {
            Ok(Some(key)) => {
                credentials.insert(account.name.clone(), key.credentials());
            }
            Ok(None) => {}
            Err(error) => notes.push(format!(
                "account {:?} uses its profile or the default credentials: {error}",
                account.name
            )),
        }
    }
    (credentials, notes)
}

/// What the keychain holds for one configured account; never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredKey {
    /// The account's name in `config.toml`.
    pub account: String,
    /// The stored access key id, masked (`AKIA…WXYZ`); `None` when nothing is stored.
    pub access_key_id: Option<String>,
    /// Whether the stored key is temporary (has a session token).
    pub session_token: bool,
    /// Why the stored entry cannot be used, when it cannot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// Which keychain holds the entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeychainBackend {
    /// The freedesktop Secret Service on the D-Bus session bus: persistent, encrypted at
    /// rest, unlocked with the login.
    SecretService,
    /// The Linux kernel's user keyring: in memory, readable by the user's processes,
    /// gone at reboot.
    Kernel,
}

impl KeychainBackend {
    /// Its name in [`KEYCHAIN_ENV`] and in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            KeychainBackend::SecretService => "secret-service",
            KeychainBackend::Kernel => "kernel",
        }
    }

    /// Whether entries survive a reboot.
    pub fn is_persistent(self) -> bool {
        matches!(self, KeychainBackend::SecretService)
    }

    /// A phrase for messages: "the Secret Service", "the kernel keyring".
    pub fn description(self) -> &'static str {
        match self {
            KeychainBackend::SecretService => "the Secret Service",
            KeychainBackend::Kernel => "the kernel keyring",
        }
    }
}

impl fmt::Display for KeychainBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KeychainBackend {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self> {
        match name {
            "secret-service" => Ok(KeychainBackend::SecretService),
            "kernel" | "keyutils" => Ok(KeychainBackend::Kernel),
            other => Err(Error::Config(format!(
                "{other:?} is not a keychain; use secret-service or kernel"
            ))),
        }
    }
}

/// Where and how to open the keychain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeychainConfig {
    /// The service name entries are stored under; [`SERVICE`] unless testing.
    pub service: String,
    /// The keychain to use; `None` picks the Secret Service when a D-Bus session offers
    /// one, else the kernel keyring.
    pub backend: Option<KeychainBackend>,
}

impl Default for KeychainConfig {
    fn default() -> Self {
        KeychainConfig { service: SERVICE.to_owned(), backend: None }
    }
}

impl KeychainConfig {
    /// The default, adjusted by [`KEYCHAIN_ENV`] and [`SERVICE_ENV`].
    pub fn from_env() -> Result<KeychainConfig> {
        let mut config = KeychainConfig::default();
        if let Some(value) = std::env::var_os(KEYCHAIN_ENV) {
            config.backend = match value.to_string_lossy().as_ref() {
                "" | "auto" => None,
                name => Some(name.parse().map_err(|_| {
                    Error::Config(format!(
                        "{KEYCHAIN_ENV}={name:?}: use secret-service, kernel or auto"
                    ))
                })?),
            };
        }
        if let Some(service) = std::env::var_os(SERVICE_ENV) {
            config.service = service.to_string_lossy().into_owned();
        }
        Ok(config)
    }
}

/// The keychain entries of one service name: store, load and remove an account's key.
pub struct Keychain {
    service: String,
    store: platform::Store,
}

impl fmt::Debug for Keychain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keychain")
            .field("service", &self.service)
            .field("backend", &self.backend())
            .finish()
    }
}

impl Keychain {
    /// Opens the keychain `config` names; fails when none is usable, saying how to get one.
    pub fn open(config: &KeychainConfig) -> Result<Keychain> {
        validate_service(&config.service)?;
        let store = platform::Store::open(config.backend)?;
        Ok(Keychain { service: config.service.clone(), store })
    }

    /// The default keychain with entries under `service` instead of [`SERVICE`].
    pub fn with_service(service: &str) -> Result<Keychain> {
        Keychain::open(&KeychainConfig { service: service.to_owned(), backend: None })
    }

    /// The service name entries are stored under.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// The keychain in use.
    pub fn backend(&self) -> KeychainBackend {
        self.store.backend()
    }

    /// Stores `key` for `account_name`, replacing what was stored.
    pub fn store(&self, account_name: &str, key: &AccessKey) -> Result<()> {
        validate_account_name(account_name)?;
        key.validate()?;
        let json = encode(key)?;
        self.store.set(&self.service, account_name, &json)
    }

    /// The key stored for `account_name`, if any.
    pub fn load(&self, account_name: &str) -> Result<Option<AccessKey>> {
        validate_account_name(account_name)?;
        match self.store.get(&self.service, account_name)? {
            Some(json) => decode(account_name, &json).map(Some),
            None => Ok(None),
        }
    }

    /// SDK credentials from the key stored for `account_name`, if any.
    pub fn credentials(&self, account_name: &str) -> Result<Option<Credentials>> {
        Ok(self.load(account_name)?.map(|key| key.credentials()))
    }

    /// Removes the key stored for `account_name`; whether there was one.
    pub fn remove(&self, account_name: &str) -> Result<bool> {
        validate_account_name(account_name)?;
        self.store.delete(&self.service, account_name)
    }

    /// What is stored for each of `accounts`, in their order. An entry that cannot be
    /// used is reported in [`StoredKey::problem`]; a keychain that cannot be read fails
    /// the whole listing.
    pub fn list(&self, accounts: &[AccountConfig]) -> Result<Vec<StoredKey>> {
        let mut listing = Vec::with_capacity(accounts.len());
        for account in accounts {
            let mut stored = StoredKey {
                account: account.name.clone(),
                access_key_id: None,
                session_token: false,
                problem: None,
            };
            let found = match validate_account_name(&account.name) {
                Ok(()) => self.store.get(&self.service, &account.name)?,
                Err(error) => {
                    stored.problem = Some(error.to_string());
                    None
                }
            };
            if let Some(json) = found {
                match decode(&account.name, &json) {
                    Ok(key) => {
                        stored.access_key_id = Some(key.masked_access_key_id());
                        stored.session_token = key.session_token.is_some();
                    }
                    Err(error) => stored.problem = Some(error.to_string()),
                }
            }
            listing.push(stored);
        }
        Ok(listing)
    }
}

/// The stored JSON, borrowed from the key so no extra copy of the secret is made.
#[derive(Serialize)]
struct EncodedKey<'a> {
    version: u32,
    access_key_id: &'a str,
    secret_access_key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_token: Option<&'a str>,
}

/// Version 1 (checked first, through `Version`).
#[derive(Deserialize)]
struct DecodedKey {
    access_key_id: String,
    secret_access_key: String,
    #[serde(default)]
    session_token: Option<String>,
}

fn encode(key: &AccessKey) -> Result<Zeroizing<String>> {
    let encoded = EncodedKey {
        version: FORMAT_VERSION,
        access_key_id: &key.access_key_id,
        secret_access_key: key.secret_access_key.expose(),
        session_token: key.session_token.as_ref().map(Secret::expose),
    };
    serde_json::to_string(&encoded)
        .map(Zeroizing::new)
        .map_err(|_| Error::Keychain("cannot encode the access key".to_owned()))
}

/// Reads an entry. serde's messages can quote the input, so they are never passed on.
fn decode(account_name: &str, json: &str) -> Result<AccessKey> {
    let unusable = |why: &str| {
        Error::Keychain(format!(
            "the keychain entry of account {account_name:?} {why}: run `cloudops accounts remove {account_name}` and add the key again"
        ))
    };
    #[derive(Deserialize)]
    struct Version {
        version: u32,
    }
    let version: Version =
        serde_json::from_str(json).map_err(|_| unusable("is not a CloudOps access key"))?;
    if version.version > FORMAT_VERSION {
        return Err(Error::Keychain(format!(
            "the keychain entry of account {account_name:?} has format version {}, newer than this CloudOps reads ({FORMAT_VERSION}): upgrade CloudOps",
            version.version
        )));
    }
    let decoded: DecodedKey =
        serde_json::from_str(json).map_err(|_| unusable("is not a CloudOps access key"))?;
    let key = AccessKey {
        access_key_id: decoded.access_key_id,
        secret_access_key: Secret::new(decoded.secret_access_key),
        session_token: decoded.session_token.map(Secret::new),
    };
    key.validate().map_err(|_| unusable("holds a malformed key"))?;
    Ok(key)
}

fn validate_access_key_id(access_key_id: &str) -> Result<()> {
    let length = access_key_id.chars().count();
    let well_formed = (16..=128).contains(&length)
        && access_key_id.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if well_formed {
        Ok(())
    } else {
        Err(Error::InvalidCredentials(format!(
            "an access key id is 16 to 128 capital letters and digits, like AKIAIOSFODNN7EXAMPLE (got {length} characters{})",
            if access_key_id.chars().any(char::is_whitespace) { ", with spaces" } else { "" }
        )))
    }
}

fn validate_secret(what: &str, secret: &Secret, max_chars: usize) -> Result<()> {
    let value = secret.expose();
    if value.is_empty() {
        return Err(Error::InvalidCredentials(format!("{what} is empty")));
    }
    if value.len() > max_chars {
        return Err(Error::InvalidCredentials(format!(
            "{what} is longer than {max_chars} characters"
        )));
    }
    if !value.chars().all(|c| c.is_ascii_graphic()) {
        return Err(Error::InvalidCredentials(format!(
            "{what} contains spaces, line breaks or characters outside ASCII; paste it without them"
        )));
    }
    Ok(())
}

fn validate_account_name(name: &str) -> Result<()> {
    let problem = if name.trim().is_empty() {
        Some("is empty")
    } else if name.chars().count() > MAX_ACCOUNT_NAME_CHARS {
        Some("is longer than 128 characters")
    } else if name.chars().any(char::is_control) {
        Some("contains control characters")
    } else if name.trim() != name {
        Some("starts or ends with spaces")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(Error::InvalidCredentials(format!("the account name {problem}"))),
        None => Ok(()),
    }
}

fn validate_service(service: &str) -> Result<()> {
    let well_formed = !service.is_empty()
        && service.len() <= 128
        && service.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if well_formed {
        Ok(())
    } else {
        Err(Error::Config(format!(
            "keychain service {service:?}: use 1 to 128 letters, digits, '-', '_' or '.'"
        )))
    }
}

#[cfg(target_os = "linux")]
mod platform {
    //! The Secret Service through `keyring-core`, and the kernel's user keyring directly:
    //! the keyutils store of `keyring` keeps entries in the session keyring and links them
    //! to the persistent keyring, which fails (as "no entry") for processes without a
    //! session keyring of their own (ssh on Debian, CI, containers) and loses them at
    //! logout. The user keyring is there for every process of the user until reboot.

    use std::collections::HashMap;
    use std::sync::Arc;

    use keyring_core::{CredentialStore, Entry};
    use linux_keyutils::{KeyError, KeyPermissionsBuilder, KeyRing, KeyRingIdentifier, Permission};
    use zeroize::Zeroizing;

    use super::KeychainBackend;
    use crate::error::{Error, Result};

    /// `ENOSYS` on Linux (no `libc` dependency for one number): kernels built without keys.
    const ENOSYS: i32 = 38;

    const NO_KEYCHAIN_HELP: &str = "start a Secret Service in the D-Bus session (gnome-keyring, KeePassXC), or allow the keyctl system calls (containers often block them)";

    pub(super) enum Store {
        SecretService(Arc<CredentialStore>),
        /// The user keyring (`@u`).
        Kernel(KeyRing),
    }

    impl Store {
        pub(super) fn open(backend: Option<KeychainBackend>) -> Result<Store> {
            match backend {
                Some(KeychainBackend::SecretService) => secret_service().map_err(|why| {
                    Error::Keychain(format!(
                        "the Secret Service is not available: {why}; start one in the D-Bus session (gnome-keyring, KeePassXC) or use the kernel keyring ({}=kernel)",
                        super::KEYCHAIN_ENV
                    ))
                }),
                Some(KeychainBackend::Kernel) => kernel().map_err(|why| {
                    Error::Keychain(format!(
                        "the kernel keyring is not available: {why}; allow the keyctl system calls or use the Secret Service"
                    ))
                }),
                None => secret_service().or_else(|secret_service_problem| {
                    kernel().map_err(|kernel_problem| {
                        Error::Keychain(format!(
                            "no keychain is available (Secret Service: {secret_service_problem}; kernel keyring: {kernel_problem}): {NO_KEYCHAIN_HELP}"
                        ))
                    })
                }),
            }
        }

        pub(super) fn backend(&self) -> KeychainBackend {
            match self {
                Store::SecretService(_) => KeychainBackend::SecretService,
                Store::Kernel(_) => KeychainBackend::Kernel,
            }
        }

        pub(super) fn set(&self, service: &str, account: &str, secret: &str) -> Result<()> {
            match self {
                Store::SecretService(store) => entry(store, service, account)?
                    .set_password(secret)
                    .map_err(|error| secret_service_error(error, service, account)),
                Store::Kernel(user_keyring) => {
                    // Other processes of the user must read the key (as they can ask the
                    // Secret Service), and they need not share this one's session keyring,
                    // so the key grants its user read access. Changing a key's permissions
                    // takes possessing it, which a key reached only through the user keyring
                    // is not (in a session keyring without a link to it): the key is made in
                    // this process's own keyring, opened up, then moved to the user keyring,
                    // where it displaces the previous key of the same name.
                    let process_keyring =
                        KeyRing::from_special_id(KeyRingIdentifier::Process, true)
                            .map_err(kernel_error)?;
                    let key = process_keyring
                        .add_key(&description(service, account), secret.as_bytes())
                        .map_err(kernel_error)?;
                    let permissions = KeyPermissionsBuilder::builder()
                        .posessor(Permission::ALL)
                        .user(
                            Permission::VIEW
                                | Permission::READ
                                | Permission::WRITE
                                | Permission::SEARCH
                                | Permission::LINK,
                        )
                        .build();
                    let moved = key
                        .set_perms(permissions)
                        .and_then(|()| user_keyring.link_key(key))
                        .map_err(kernel_error);
                    let _ = process_keyring.unlink_key(key);
                    if moved.is_err() {
                        let _ = key.invalidate();
                    }
                    moved
                }
            }
        }

        pub(super) fn get(
            &self,
            service: &str,
            account: &str,
        ) -> Result<Option<Zeroizing<String>>> {
            match self {
                Store::SecretService(store) => {
                    match entry(store, service, account)?.get_password() {
                        Ok(secret) => Ok(Some(Zeroizing::new(secret))),
                        Err(keyring_core::Error::NoEntry) => Ok(None),
                        Err(error) => Err(secret_service_error(error, service, account)),
                    }
                }
                Store::Kernel(keyring) => {
                    let key = match keyring.search(&description(service, account)) {
                        Ok(key) => key,
                        Err(error) if is_missing(error) => return Ok(None),
                        Err(error) => return Err(kernel_error(error)),
                    };
                    let bytes = Zeroizing::new(key.read_to_vec().map_err(kernel_error)?);
                    match std::str::from_utf8(&bytes) {
                        Ok(text) => Ok(Some(Zeroizing::new(text.to_owned()))),
                        Err(_) => Err(Error::Keychain(format!(
                            "the keychain entry of account {account:?} is not text: run `cloudops accounts remove {account}` and add the key again"
                        ))),
                    }
                }
            }
        }

        pub(super) fn delete(&self, service: &str, account: &str) -> Result<bool> {
            match self {
                Store::SecretService(store) => {
                    match entry(store, service, account)?.delete_credential() {
                        Ok(()) => Ok(true),
                        Err(keyring_core::Error::NoEntry) => Ok(false),
                        Err(error) => Err(secret_service_error(error, service, account)),
                    }
                }
                Store::Kernel(keyring) => match keyring.search(&description(service, account)) {
                    Ok(key) => key.invalidate().map(|()| true).map_err(kernel_error),
                    Err(error) if is_missing(error) => Ok(false),
                    Err(error) => Err(kernel_error(error)),
                },
            }
        }
    }

    fn secret_service() -> std::result::Result<Store, String> {
        let store = zbus_secret_service_keyring_store::Store::new()
            .map_err(|error| secret_service_problem(&error))?;
        Ok(Store::SecretService(store))
    }

    fn kernel() -> std::result::Result<Store, String> {
        KeyRing::from_special_id(KeyRingIdentifier::User, true)
            .map(Store::Kernel)
            .map_err(|error| kernel_problem(error).to_owned())
    }

    /// The item carries a label for keychain UIs (seahorse, KWalletManager).
    fn entry(store: &Arc<CredentialStore>, service: &str, account: &str) -> Result<Entry> {
        let label = format!("CloudOps access key for account {account} ({service})");
        let modifiers = HashMap::from([("label", label.as_str())]);
        store
            .build(service, account, Some(&modifiers))
            .map_err(|error| secret_service_error(error, service, account))
    }

    /// The kernel key's description: the service has no ':' (validated), so this is unique.
    fn description(service: &str, account: &str) -> String {
        format!("{service}:{account}")
    }

    fn is_missing(error: KeyError) -> bool {
        matches!(error, KeyError::KeyDoesNotExist | KeyError::KeyExpired | KeyError::KeyRevoked)
    }

    /// Only the error's kind is kept: some variants carry the stored bytes.
    fn secret_service_problem(error: &keyring_core::Error) -> String {
        use keyring_core::Error as E;
        match error {
            E::PlatformFailure(inner) | E::NoStorageAccess(inner) => inner.to_string(),
            E::BadEncoding(_) | E::BadDataFormat(..) => "an entry is not text".to_owned(),
            E::BadStoreFormat(why) => format!("the store is malformed: {why}"),
            E::TooLong(name, limit) => format!("{name} is longer than {limit} characters"),
            E::Invalid(name, why) => format!("{name} is invalid: {why}"),
            E::Ambiguous(entries) => format!("{} items match", entries.len()),
            E::NotSupportedByStore(why) => format!("not supported: {why}"),
            E::NoEntry => "no such entry".to_owned(),
            _ => "unexpected failure".to_owned(),
        }
    }

    fn secret_service_error(error: keyring_core::Error, service: &str, account: &str) -> Error {
        let problem = secret_service_problem(&error);
        Error::Keychain(match error {
            keyring_core::Error::NoStorageAccess(_) => format!(
                "the Secret Service refused access ({problem}): unlock its default keyring (log in to the desktop, or `gnome-keyring-daemon --unlock`), or set {}=kernel",
                super::KEYCHAIN_ENV
            ),
            keyring_core::Error::Ambiguous(_) => format!(
                "several Secret Service items match service {service:?}, account {account:?} ({problem}): delete all but one (e.g. with seahorse)"
            ),
            keyring_core::Error::BadEncoding(_) | keyring_core::Error::BadDataFormat(..) => {
                format!(
                    "the keychain entry of account {account:?} is not text: run `cloudops accounts remove {account}` and add the key again"
                )
            }
            _ => format!("the Secret Service failed: {problem}"),
        })
    }

    fn kernel_problem(error: KeyError) -> &'static str {
        match error {
            // Container seccomp filters (Docker's default) answer keyctl with EPERM.
            KeyError::AccessDenied | KeyError::PermissionDenied => "permission denied",
            KeyError::QuotaExceeded => {
                "the user's key quota is used up (see /proc/sys/kernel/keys/maxbytes)"
            }
            KeyError::OperationNotSupported | KeyError::Unknown(ENOSYS) => {
                "the keyctl system calls are not available"
            }
            KeyError::OutOfMemory => "out of memory",
            KeyError::InvalidDescription | KeyError::InvalidArguments => "invalid entry name",
            _ => "unexpected failure",
        }
    }

    fn kernel_error(error: KeyError) -> Error {
        Error::Keychain(format!("the kernel keyring failed: {}", kernel_problem(error)))
    }
}

#[cfg(not(target_os = "linux"))]
mod platform {
    //! Other systems' keychains (macOS Keychain, Windows Credential Manager) are not wired
    //! in yet: opening fails clearly rather than falling back to a store that forgets.

    use zeroize::Zeroizing;

    use super::KeychainBackend;
    use crate::error::{Error, Result};

    pub(super) enum Store {}

    impl Store {
        pub(super) fn open(_backend: Option<KeychainBackend>) -> Result<Store> {
            Err(Error::Keychain(
                "no keychain is supported on this system yet: use a profile or the environment for credentials".to_owned(),
            ))
        }

        pub(super) fn backend(&self) -> KeychainBackend {
            match *self {}
        }

        pub(super) fn set(&self, _service: &str, _account: &str, _secret: &str) -> Result<()> {
            match *self {}
        }

        pub(super) fn get(
            &self,
            _service: &str,
            _account: &str,
        ) -> Result<Option<Zeroizing<String>>> {
            match *self {}
        }

        pub(super) fn delete(&self, _service: &str, _account: &str) -> Result<bool> {
            match *self {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "AKIAIOSFODNN7EXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    fn key(id: &str, secret: &str, token: Option<&str>) -> Result<AccessKey> {
        AccessKey::new(id, Secret::new(secret), token.map(Secret::new))
    }

    /// `Ok(())` or the error message, which must never contain the secret.
    fn check(id: &str, secret: &str, token: Option<&str>, expected: std::result::Result<(), &str>) {
        let actual = key(id, secret, token).map(|_| ()).map_err(|error| error.to_string());
        if let Err(message) = &actual {
            for secret in [Some(secret), token].into_iter().flatten().filter(|s| !s.is_empty()) {
                assert!(!message.contains(secret), "a secret leaked into {message:?}");
            }
        }
        match (&actual, expected) {
            (Ok(()), Ok(())) => {}
            (Err(message), Err(expected)) => {
                assert!(message.contains(expected), "{message:?} does not mention {expected:?}")
            }
            _ => panic!("{id:?}: expected {expected:?}, got {actual:?}"),
        }
    }

    #[test]
    fn access_keys_are_validated() {
        check(ID, SECRET, None, Ok(()));
        check("ASIAIOSFODNN7EXAMPLE", SECRET, Some("FwoGZXIvYXdzEBYaDH+token/=="), Ok(()));
        check("AKIA0123456789AB", SECRET, None, Ok(()));
        check("AKIA0123456789A", SECRET, None, Err("16 to 128"));
        check(&"A".repeat(129), SECRET, None, Err("16 to 128"));
        check("akiaiosfodnn7example", SECRET, None, Err("capital letters"));
        check("AKIAIOSFODNN7EXAMPL ", SECRET, None, Err("with spaces"));
        check("AKIAIOSFODNN7EXAMPLÉ", SECRET, None, Err("16 to 128"));
        check(ID, "", None, Err("the secret access key is empty"));
        check(ID, "wJalrXUtnFEMI K7MDENG", None, Err("contains spaces"));
        check(ID, "wJalrXUtnFEMI/K7MDENG\n", None, Err("line breaks"));
        check(ID, "wJalrXUtnFEMI\tK7MDENG", None, Err("contains spaces"));
        check(ID, "wJalrXUtnFEMIé", None, Err("outside ASCII"));
        check(ID, &"x".repeat(1025), None, Err("longer than 1024"));
        check(ID, SECRET, Some(""), Err("the session token is empty"));
        check(ID, SECRET, Some("FwoGZXIv YXdz"), Err("the session token contains spaces"));
    }

    #[test]
    fn account_names_are_validated() {
        for name in ["production", "staging-eu", "Team A", "prod.eu_1", "ünïcode"] {
            assert!(validate_account_name(name).is_ok(), "{name:?}");
        }
        for (name, problem) in [
            ("", "is empty"),
            ("   ", "is empty"),
            (" production", "spaces"),
            ("production\n", "control characters"),
            ("prod\u{1b}[31m", "control characters"),
        ] {
            let message = validate_account_name(name).expect_err(name).to_string();
            assert!(message.contains(problem), "{name:?}: {message}");
        }
        assert!(validate_account_name(&"a".repeat(129)).is_err());
    }

    #[test]
    fn service_names_are_validated() {
        assert!(validate_service("cloudops").is_ok());
        assert!(validate_service("cloudops-test-1234_5.6").is_ok());
        for service in ["", "cloud ops", "cloud:ops", "cloud/ops"] {
            assert!(validate_service(service).is_err(), "{service:?}");
        }
    }

    #[test]
    fn access_key_ids_are_masked() {
        assert_eq!(mask_access_key_id("AKIAIOSFODNN7EXAMPLE"), "AKIA…MPLE");
        assert_eq!(mask_access_key_id("AKIA0123456789AB"), "AKIA…89AB");
        assert_eq!(mask_access_key_id("SHORTKEY"), "…");
        assert_eq!(mask_access_key_id(""), "…");
    }

    #[test]
    fn debug_output_redacts_secrets() {
        let key = key(ID, SECRET, Some("FwoGZXIvYXdzEBYaDHtoken")).expect("valid");
        let debug = format!("{key:?} {:#?}", key);
        assert!(!debug.contains(SECRET), "{debug}");
        assert!(!debug.contains("FwoGZXIvYXdzEBYaDHtoken"), "{debug}");
        assert!(debug.contains(ID) && debug.contains("[redacted]"), "{debug}");
    }

    #[test]
    fn the_stored_form_round_trips() {
        for token in [None, Some("FwoGZXIvYXdzEBYaDHtoken")] {
            let key = key(ID, SECRET, token).expect("valid");
            let json = encode(&key).expect("encodes");
            assert!(json.starts_with(r#"{"version":1,"#), "{}", json.as_str());
            assert_eq!(decode("production", &json).expect("decodes"), key);
        }
    }

    #[test]
    fn unusable_entries_are_refused_without_quoting_them() {
        let entries = [
            ("not json", "is not a CloudOps access key"),
            (r#"{"version":1,"access_key_id":"AKIAIOSFODNN7EXAMPLE"}"#, "not a CloudOps"),
            (
                r#"{"version":1,"access_key_id":"AKIAIOSFODNN7EXAMPLE","secret_access_key":7}"#,
                "not a CloudOps",
            ),
            (
                r#"{"version":1,"access_key_id":"AKIAIOSFODNN7EXAMPLE","secret_access_key":"has space"}"#,
                "malformed key",
            ),
            (r#"{"version":2,"access_key_id":"x","secret_access_key":"y"}"#, "upgrade CloudOps"),
        ];
        for (json, problem) in entries {
            let message = decode("production", json).expect_err(json).to_string();
            assert!(message.contains(problem), "{json}: {message}");
            assert!(!message.contains("has space"), "{message}");
            assert!(message.contains("production"), "{message}");
        }
    }

    #[test]
    fn credentials_carry_the_key_and_the_provider_name() {
        let key = key(ID, SECRET, Some("FwoGZXIvYXdzEBYaDHtoken")).expect("valid");
        let credentials = key.credentials();
        assert_eq!(credentials.access_key_id(), ID);
        assert_eq!(credentials.secret_access_key(), SECRET);
        assert_eq!(credentials.session_token(), Some("FwoGZXIvYXdzEBYaDHtoken"));
        assert!(format!("{credentials:?}").contains(PROVIDER_NAME));
    }

    #[test]
    fn backends_parse_and_print() {
        for backend in [KeychainBackend::SecretService, KeychainBackend::Kernel] {
            assert_eq!(backend.as_str().parse::<KeychainBackend>().expect("parses"), backend);
        }
        assert_eq!("keyutils".parse::<KeychainBackend>().expect("alias"), KeychainBackend::Kernel);
        assert!("file".parse::<KeychainBackend>().is_err());
    }
}
