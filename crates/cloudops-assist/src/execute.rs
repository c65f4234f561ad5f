//! Running one plan step: the AWS CLI as the operator installed it, started as a process
//! with an argument vector (never a shell), with the step's account credentials placed in
//! that process's environment only, a time limit, and its output captured and redacted.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use cloudops_core::{AccountConfig, AskSection};
use cloudops_sync::{ConnectConfig, connect};
use regex::Regex;
use tokio::io::AsyncReadExt;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// The most output kept from one command; the rest is digested but not kept.
pub const MAX_OUTPUT_BYTES: usize = 4 * 1024 * 1024;

/// Environment variables of the operator passed on to the AWS CLI besides the system
/// ones; every other `AWS_*` variable is removed, so the CLI uses the step's account only.
const AWS_PASSTHROUGH: [&str; 4] =
    ["AWS_CONFIG_FILE", "AWS_CA_BUNDLE", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"];

/// Short-lived credentials for one account, kept only in memory and wiped when dropped.
pub struct SessionCredentials {
    access_key_id: String,
    secret_access_key: Zeroizing<String>,
    session_token: Option<Zeroizing<String>>,
}

impl std::fmt::Debug for SessionCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionCredentials").finish_non_exhaustive()
    }
}

impl SessionCredentials {
    /// The SDK's credentials as environment values for the CLI.
    pub fn from_sdk(credentials: &Credentials) -> Self {
        SessionCredentials {
            access_key_id: credentials.access_key_id().to_owned(),
            secret_access_key: Zeroizing::new(credentials.secret_access_key().to_owned()),
            session_token: credentials.session_token().map(|t| Zeroizing::new(t.to_owned())),
        }
    }

    /// The texts that must never be shown or stored.
    fn secrets(&self) -> Vec<&str> {
        let mut secrets = vec![self.access_key_id.as_str(), self.secret_access_key.as_str()];
        secrets.extend(self.session_token.as_deref().map(String::as_str));
        secrets
    }
}

/// Where one account's credentials come from during an execution: its profile, role,
/// stored key or the standard chain, exactly as the sync reaches it. Asked again before
/// every step, so a long execution never runs a step on credentials about to expire (an
/// assumed role's session lasts an hour).
#[derive(Debug, Clone)]
pub struct AccountCredentials {
    provider: SharedCredentialsProvider,
    account_name: String,
}

impl AccountCredentials {
    /// Fresh credentials for the next step.
    pub async fn session(&self) -> Result<SessionCredentials> {
        let credentials = self.provider.provide_credentials().await.map_err(|e| {
            Error::Config(format!("account {:?}: no credentials: {e}", self.account_name))
        })?;
        Ok(SessionCredentials::from_sdk(&credentials))
    }
}

/// The credentials of `account`, checked to act in `expected_account_id` (STS): a
/// configuration that points a name at another account is refused rather than run there.
pub async fn account_credentials(
    account: &AccountConfig,
    region: &str,
    stored: Option<Credentials>,
    config: &ConnectConfig,
    expected_account_id: &str,
) -> Result<AccountCredentials> {
    let connection = connect(account, region, stored, config).await?;
    if connection.scope.account_id != expected_account_id {
        return Err(Error::Config(format!(
            "account {:?}'s credentials act in account {}, but the plan is for account {}",
            account.name, connection.scope.account_id, expected_account_id
        )));
    }
    let provider = connection
        .sdk_config
        .credentials_provider()
        .ok_or_else(|| Error::Config(format!("account {:?} has no credentials", account.name)))?;
    Ok(AccountCredentials { provider, account_name: account.name.clone() })
}

/// Removes secrets from text shown or stored: the credentials in use, and anything that
/// looks like an access key id or a secret-bearing JSON field.
#[derive(Debug, Default)]
pub struct Redactor {
    secrets: Mutex<Vec<Zeroizing<String>>>,
}

impl Redactor {
    /// From now on, also remove every secret of `credentials`.
    pub fn add(&self, credentials: &SessionCredentials) {
        let mut secrets = self.secrets.lock().unwrap_or_else(|e| e.into_inner());
        for secret in credentials.secrets() {
            if !secret.is_empty() && !secrets.iter().any(|s| s.as_str() == secret) {
                secrets.push(Zeroizing::new(secret.to_owned()));
            }
        }
    }

    /// `text` without secrets.
    pub fn redact(&self, text: &str) -> String {
        let mut text = text.to_owned();
        let secrets = self.secrets.lock().unwrap_or_else(|e| e.into_inner());
        for secret in secrets.iter() {
            if text.contains(secret.as_str()) {
                text = text.replace(secret.as_str(), "[REDACTED]");
            }
        }
        static PATTERNS: OnceLock<[Regex; 2]> = OnceLock::new();
        let [key_id, field] = PATTERNS.get_or_init(|| {
            [
                Regex::new(r"\b(?:AKIA|ASIA|AIDA|AROA)[A-Z0-9]{16}\b").expect("valid pattern"),
                Regex::new(
                    r#"(?i)("[A-Za-z]*(?:Secret|Password|SessionToken|PrivateKey)[A-Za-z]*"\s*:\s*)"(?:[^"\\]|\\.)*""#,
                )
                .expect("valid pattern"),
            ]
        });
        let text = key_id.replace_all(&text, "[REDACTED]");
        field.replace_all(&text, "${1}\"[REDACTED]\"").into_owned()
    }
}

/// The AWS CLI and how to run it.
#[derive(Debug, Clone)]
pub struct AwsCli {
    /// The program: a path, or a name looked up on `PATH`.
    pub program: PathBuf,
    /// Passed as `--endpoint-url` to every command (an AWS stand-in such as moto).
    pub endpoint_url: Option<String>,
    /// Limit on one command.
    pub command_timeout: Duration,
    /// Limit on one waiter (`aws … wait …`).
    pub wait_timeout: Duration,
}

impl AwsCli {
    /// The CLI of the `[ask]` section, with the sync's endpoint (the same AWS either way).
    pub fn from_config(ask: &AskSection, endpoint_url: Option<String>) -> Self {
        AwsCli {
            program: PathBuf::from(&ask.aws_cli),
            endpoint_url,
            command_timeout: Duration::from_secs(ask.command_timeout_secs.max(1)),
            wait_timeout: Duration::from_secs(ask.wait_timeout_secs.max(1)),
        }
    }

    /// The argument vector for a step's `command` (`aws rds stop-db-instance`) and `args`:
    /// everything after the program name, with `--output json` unless the step chose an
    /// output, and the endpoint when one is configured.
    pub fn argv(&self, command: &str, args: &[String]) -> Result<Vec<String>> {
        let words: Vec<&str> = command.split(' ').collect();
        let valid = words.len() >= 3
            && words[0] == "aws"
            && words[1..].iter().all(|w| {
                !w.is_empty()
                    && w.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            })
            && !words[1].starts_with('-');
        if !valid {
            return Err(Error::Execution(format!("{command:?} is not an AWS CLI command")));
        }
        let mut argv: Vec<String> = words[1..].iter().map(|w| (*w).to_owned()).collect();
        argv.extend(args.iter().cloned());
        if !args.iter().any(|a| a == "--output") {
            argv.extend(["--output".to_owned(), "json".to_owned()]);
        }
        if let Some(endpoint) = &self.endpoint_url {
            argv.extend(["--endpoint-url".to_owned(), endpoint.clone()]);
        }
        Ok(argv)
    }

    /// Runs `argv` (from [`Self::argv`]) in `region` with `credentials`.
    pub async fn run(
        &self,
        argv: &[String],
        region: &str,
        credentials: &SessionCredentials,
    ) -> Result<CommandOutput> {
        let waiter = argv.get(1).is_some_and(|w| w == "wait");
        let limit = if waiter { self.wait_timeout } else { self.command_timeout };
        let mut command = tokio::process::Command::new(&self.program);
        command.args(argv).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        command.kill_on_drop(true);
        for (key, _) in std::env::vars_os() {
            let Some(key) = key.to_str() else { continue };
            if key.starts_with("AWS_") && !AWS_PASSTHROUGH.contains(&key) {
                command.env_remove(key);
            }
        }
        let mut environment: BTreeMap<&str, &str> = BTreeMap::from([
            ("AWS_ACCESS_KEY_ID", credentials.access_key_id.as_str()),
            ("AWS_SECRET_ACCESS_KEY", credentials.secret_access_key.as_str()),
            ("AWS_DEFAULT_REGION", region),
            ("AWS_REGION", region),
            ("AWS_PAGER", ""),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ]);
        if let Some(token) = &credentials.session_token {
            environment.insert("AWS_SESSION_TOKEN", token.as_str());
        }
        command.envs(environment);
        let started = Instant::now();
        let mut child = command.spawn().map_err(|e| {
            Error::Execution(format!(
                "cannot start the AWS CLI {:?}: {e}; install it or set aws_cli in the [ask] section of config.toml",
                self.program
            ))
        })?;
        let mut stdout = child.stdout.take().expect("piped stdout");
        let mut stderr = child.stderr.take().expect("piped stderr");
        let read = async {
            let (out, err) = tokio::join!(read_capped(&mut stdout), read_capped(&mut stderr));
            Ok::<_, std::io::Error>((out?, err?))
        };
        let outcome = tokio::time::timeout(limit, async {
            let (out, err) = read.await?;
            let status = child.wait().await?;
            Ok::<_, std::io::Error>((status, out, err))
        })
        .await;
        let duration = started.elapsed();
        match outcome {
            Ok(Ok((status, out, err))) => Ok(CommandOutput {
                exit_code: status.code(),
                stdout: String::from_utf8_lossy(&out).into_owned(),
                stderr: String::from_utf8_lossy(&err).into_owned(),
                duration,
                timed_out: false,
            }),
            Ok(Err(error)) => Err(Error::Execution(format!("the AWS CLI failed to run: {error}"))),
            Err(_) => {
                let _ = child.kill().await;
                Ok(CommandOutput {
                    exit_code: None,
                    stdout: String::new(),
                    stderr: format!("stopped after {} s (the time limit)", limit.as_secs()),
                    duration,
                    timed_out: true,
                })
            }
        }
    }
}

/// Everything `reader` gives, keeping the first [`MAX_OUTPUT_BYTES`]: the rest is read and
/// dropped, so a talkative command never blocks on a full pipe.
async fn read_capped(reader: &mut (impl tokio::io::AsyncRead + Unpin)) -> std::io::Result<Vec<u8>> {
    let mut kept = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    loop {
        let read = reader.read(&mut buffer).await?;
        if read == 0 {
            return Ok(kept);
        }
        let room = MAX_OUTPUT_BYTES.saturating_sub(kept.len());
        kept.extend_from_slice(&buffer[..read.min(room)]);
    }
}

/// What a command did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandOutput {
    /// The exit code; `None` when it was stopped (time limit, signal).
    pub exit_code: Option<i32>,
    /// Standard output (JSON unless the step chose text).
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// How long it ran.
    pub duration: Duration,
    /// Whether the time limit stopped it.
    pub timed_out: bool,
}

impl CommandOutput {
    /// Whether it succeeded.
    pub fn succeeded(&self) -> bool {
        self.exit_code == Some(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli() -> AwsCli {
        AwsCli::from_config(&AskSection::default(), Some("http://127.0.0.1:5000".into()))
    }

    #[test]
    fn argv_adds_output_and_endpoint() {
        let argv = cli()
            .argv("aws rds stop-db-instance", &["--db-instance-identifier".into(), "db1".into()])
            .expect("valid");
        assert_eq!(
            argv,
            [
                "rds",
                "stop-db-instance",
                "--db-instance-identifier",
                "db1",
                "--output",
                "json",
                "--endpoint-url",
                "http://127.0.0.1:5000"
            ]
        );
        let text = cli().argv("aws rds describe-db-instances", &["--output".into(), "text".into()]);
        assert_eq!(text.expect("valid").iter().filter(|a| *a == "--output").count(), 1);
    }

    #[test]
    fn argv_refuses_what_is_not_an_aws_command() {
        for bad in [
            "rm -rf /",
            "aws",
            "aws rds",
            "sh -c x",
            "aws --debug rds",
            "aws rds stop;x",
            "aws  rds x",
        ] {
            assert!(cli().argv(bad, &[]).is_err(), "{bad}");
        }
    }

    #[test]
    fn redacts_credentials_and_secret_fields() {
        let credentials = SessionCredentials::from_sdk(&Credentials::new(
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            Some("session-token-value".into()),
            None,
            "test",
        ));
        let redactor = Redactor::default();
        redactor.add(&credentials);
        let text = r#"{"key": "AKIAIOSFODNN7EXAMPLE", "s": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "MasterUserPassword": "hunter2", "t": "session-token-value", "other": "ASIAXXXXXXXXXXXXXXXX"}"#;
        let clean = redactor.redact(text);
        for secret in
            ["AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI", "hunter2", "session-token-value", "ASIAXXXX"]
        {
            assert!(!clean.contains(secret), "{secret} in {clean}");
        }
        assert!(clean.contains("\"MasterUserPassword\": \"[REDACTED]\""));
        assert!(!format!("{credentials:?}").contains("EXAMPLE"));
    }
}
