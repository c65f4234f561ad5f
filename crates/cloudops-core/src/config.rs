//! The client configuration file, `config.toml` in the data directory (`CLOUDOPS_HOME`).
//!
//! Shared by the CLI and the desktop app so both read the same file the same way. Unknown
//! keys are ignored, so a newer file still loads.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::data_dir::DataDir;
use crate::error::{Error, Result};
use crate::estate::EstateConfig;
use crate::fusion::Fusion;

/// The name of the configuration file inside the data directory.
pub const CONFIG_FILE: &str = "config.toml";

/// The environment variable that names the data directory.
pub const HOME_ENV: &str = "CLOUDOPS_HOME";

/// The data directory when none is given: `CLOUDOPS_HOME`, else the platform's data directory
/// (`~/.local/share/cloudops` on Linux). The CLI and the desktop app open the same one.
pub fn default_home() -> Result<PathBuf> {
    if let Some(home) = std::env::var_os(HOME_ENV).filter(|home| !home.is_empty()) {
        return Ok(PathBuf::from(home));
    }
    directories::ProjectDirs::from("", "", "cloudops")
        .map(|dirs| dirs.data_dir().to_path_buf())
        .ok_or_else(|| Error::InvalidInput(format!("no home directory: set {HOME_ENV}")))
}

/// The whole configuration file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientConfig {
    /// The AWS accounts the client knows, by name.
    #[serde(default)]
    pub accounts: Vec<AccountConfig>,
    /// Estate index settings.
    #[serde(default)]
    pub estate: EstateSection,
    /// Estate sync settings.
    #[serde(default)]
    pub sync: SyncSection,
    /// Planning and execution settings (`cloudops ask`).
    #[serde(default)]
    pub ask: AskSection,
    /// What agents reach through `cloudops mcp`.
    #[serde(default)]
    pub mcp: McpSection,
    /// The saved checks (`cloudops check`).
    #[serde(default)]
    pub checks: ChecksSection,
}

/// `[checks]` settings: what the saved checks look for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChecksSection {
    /// Tag keys every resource must carry (`missing-tags` lists those without one of them).
    pub required_tags: Vec<String>,
    /// Days an instance may stay stopped before `stopped-instances` lists it.
    pub stopped_days: u32,
    /// Lambda runtimes counted as deprecated; empty: the built-in list
    /// ([`DEPRECATED_RUNTIMES`]).
    pub deprecated_runtimes: Vec<String>,
}

/// Lambda runtimes AWS has deprecated (no more security patches), as of this build.
pub const DEPRECATED_RUNTIMES: [&str; 21] = [
    "python2.7",
    "python3.6",
    "python3.7",
    "python3.8",
    "nodejs",
    "nodejs4.3",
    "nodejs6.10",
    "nodejs8.10",
    "nodejs10.x",
    "nodejs12.x",
    "nodejs14.x",
    "nodejs16.x",
    "java8",
    "dotnetcore1.0",
    "dotnetcore2.0",
    "dotnetcore2.1",
    "dotnetcore3.1",
    "dotnet6",
    "ruby2.5",
    "ruby2.7",
    "go1.x",
];

impl Default for ChecksSection {
    fn default() -> Self {
        ChecksSection {
            required_tags: vec!["owner".to_owned()],
            stopped_days: 7,
            deprecated_runtimes: Vec::new(),
        }
    }
}

/// One configured AWS account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountConfig {
    /// The name operators use for it (`production`, `staging`…).
    pub name: String,
    /// A role to assume from the base credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// A named AWS profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Regions to sync.
    #[serde(default)]
    pub regions: Vec<String>,
}

/// `[estate]` settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EstateSection {
    /// The MiniLM model directory; default: `$CLOUDOPS_MODEL_DIR`, then
    /// `~/.cache/cloudops/models/all-MiniLM-L6-v2`.
    #[serde(default)]
    pub model_dir: Option<PathBuf>,
    /// Use the semantic model when installed.
    #[serde(default = "default_true")]
    pub semantic: bool,
    /// `rrf` (default) or `weighted`.
    #[serde(default = "default_fusion")]
    pub fusion: Fusion,
}

/// `[sync]` settings: how the estate sync reaches AWS and how often `estate watch` runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SyncSection {
    /// Send every AWS call here (an AWS stand-in such as moto, or a proxy). The standard
    /// `AWS_ENDPOINT_URL` works too.
    pub endpoint_url: Option<String>,
    /// Address S3 buckets by path. Default: on when an endpoint is set (stand-ins need it),
    /// off for AWS.
    pub s3_force_path_style: Option<bool>,
    /// Scopes (account × region × service) read at the same time.
    pub scopes_in_flight: usize,
    /// Attempts per AWS call, retries included (adaptive retry backs off when throttled).
    pub max_attempts: u32,
    /// Read EC2 termination protection (one call per instance).
    pub ec2_termination_protection: bool,
    /// Narrow incremental syncs with CloudTrail LookupEvents.
    pub cloudtrail: bool,
    /// `estate watch`: minutes between incremental syncs.
    pub incremental_every_minutes: u64,
    /// `estate watch`: minutes between full syncs.
    pub full_every_minutes: u64,
}

impl Default for SyncSection {
    fn default() -> Self {
        SyncSection {
            endpoint_url: None,
            s3_force_path_style: None,
            scopes_in_flight: 8,
            max_attempts: 8,
            ec2_termination_protection: true,
            cloudtrail: true,
            incremental_every_minutes: 15,
            full_every_minutes: 360,
        }
    }
}

/// `[ask]` settings: where plans come from, what the planner may see, how commands run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AskSection {
    /// The planning server (`https://…`; plain `http://` only on a loopback address). Unset:
    /// plan in-process, offline, with the built-in playbook library.
    pub server_url: Option<String>,
    /// Limit on one plan request to the server, seconds.
    pub server_timeout_secs: u64,
    /// PEM certificates trusted for the planning server besides the system's roots (a
    /// private certificate authority).
    pub server_ca_file: Option<PathBuf>,
    /// The playbook library plans are verified against (a checkout of the library the
    /// server serves); unset: the built-in library.
    pub playbooks_dir: Option<PathBuf>,
    /// Tag keys the planner may see (`*` matches any run of characters, case-insensitive);
    /// empty: every tag not denied.
    pub tags_allow: Vec<String>,
    /// Tag keys never sent to the planner, whatever `tags_allow` says.
    pub tags_deny: Vec<String>,
    /// The AWS CLI to run: a path, or a name looked up on `PATH`.
    pub aws_cli: String,
    /// Limit on one command, seconds.
    pub command_timeout_secs: u64,
    /// Limit on one waiter (`aws … wait …`), seconds.
    pub wait_timeout_secs: u64,
    /// How long a verification step may take to show its expected value, seconds (it is
    /// re-run until then: RDS, for one, has no "stopped" waiter).
    pub expect_timeout_secs: u64,
    /// Seconds between re-runs of a verification step.
    pub expect_interval_secs: u64,
    /// A plan acting on more targets than this is approved by typing their count.
    pub fleet_confirm_over: usize,
    /// How many targets of a fleet run at once.
    pub fleet_concurrency: usize,
}

/// Tag keys that look like they hold secrets or personal data; denied unless a
/// configuration says otherwise.
pub const DEFAULT_TAGS_DENY: [&str; 6] =
    ["*secret*", "*password*", "*token*", "*credential*", "*private*", "*email*"];

impl Default for AskSection {
    fn default() -> Self {
        AskSection {
            server_url: None,
            server_timeout_secs: 30,
            server_ca_file: None,
            playbooks_dir: None,
            tags_allow: Vec::new(),
            tags_deny: DEFAULT_TAGS_DENY.iter().map(|t| (*t).to_owned()).collect(),
            aws_cli: "aws".to_owned(),
            command_timeout_secs: 300,
            wait_timeout_secs: 3600,
            expect_timeout_secs: 900,
            expect_interval_secs: 10,
            fleet_confirm_over: 25,
            fleet_concurrency: 8,
        }
    }
}

/// `[mcp]` settings: what an agent connected to `cloudops mcp` may see and ask for. What it
/// returns usually ends up in a hosted model's context, so it passes the `[ask]` tag policy
/// and these limits too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct McpSection {
    /// The resource fields returned ([`MCP_FIELDS`] names them all); `arn`, `resource_type`,
    /// `account_id` and `region` are always returned, since nothing can be acted on without
    /// them.
    pub fields: Vec<String>,
    /// Tag keys returned, as patterns like `[ask] tags_allow`; empty: every tag `[ask]`
    /// lets the planner see.
    pub tags_allow: Vec<String>,
    /// Tag keys never returned, on top of `[ask] tags_deny`.
    pub tags_deny: Vec<String>,
    /// Accounts (names or ids) an agent may see and plan for; empty: every configured one.
    pub accounts: Vec<String>,
    /// How long a pending execution waits for a person's approval, minutes.
    pub pending_ttl_minutes: u64,
    /// Seconds without a tool call after which the server lets go of the estate, so the
    /// desktop app, a sync or another command can open it.
    pub idle_release_secs: u64,
}

/// The resource fields `[mcp] fields` may name.
pub const MCP_FIELDS: [&str; 10] = [
    "arn",
    "resource_type",
    "id",
    "name",
    "account_id",
    "account_name",
    "region",
    "state",
    "tags",
    "last_seen",
];

impl Default for McpSection {
    fn default() -> Self {
        McpSection {
            fields: MCP_FIELDS.iter().map(|f| (*f).to_owned()).collect(),
            tags_allow: Vec::new(),
            tags_deny: Vec::new(),
            accounts: Vec::new(),
            pending_ttl_minutes: 15,
            idle_release_secs: 10,
        }
    }
}

fn default_true() -> bool {
    true
}

fn default_fusion() -> Fusion {
    Fusion::Rrf
}

impl Default for EstateSection {
    fn default() -> Self {
        EstateSection { model_dir: None, semantic: true, fusion: Fusion::Rrf }
    }
}

impl ClientConfig {
    /// Reads `config.toml` from `home`; a missing file is the default configuration.
    pub fn load(home: &Path) -> Result<Self> {
        let path = DataDir::new(home).config_file();
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).map_err(|e| {
                Error::InvalidInput(format!("{}: {}", path.display(), e.to_string().trim_end()))
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(error) => Err(Error::io(path, error)),
        }
    }

    /// Sets `[ask] server_url` in `home`'s `config.toml` (`None` removes it: plan
    /// in-process), keeping the rest of the file — comments included — as it is. The file is
    /// replaced atomically, and a file that does not parse is refused rather than rewritten.
    pub fn set_server_url(home: &Path, url: Option<&str>) -> Result<()> {
        let path = DataDir::new(home).config_file();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(error) => return Err(Error::io(path, error)),
        };
        // The edit must leave a file `load` accepts.
        let mut document: toml_edit::DocumentMut =
            text.parse().map_err(|e: toml_edit::TomlError| {
                Error::InvalidInput(format!("{}: {}", path.display(), e.to_string().trim_end()))
            })?;
        let ask = document
            .entry("ask")
            .or_insert_with(|| toml_edit::Item::Table(toml_edit::Table::new()))
            .as_table_like_mut()
            .ok_or_else(|| {
                Error::InvalidInput(format!("{}: `ask` is not a table", path.display()))
            })?;
        match url {
            Some(url) => {
                ask.insert("server_url", toml_edit::value(url));
            }
            None => {
                ask.remove("server_url");
            }
        }
        let updated = document.to_string();
        toml::from_str::<ClientConfig>(&updated).map_err(|e| {
            Error::InvalidInput(format!("{}: {}", path.display(), e.to_string().trim_end()))
        })?;
        std::fs::create_dir_all(home).map_err(|e| Error::io(home, e))?;
        let temporary = home.join(format!(".{CONFIG_FILE}.{}.tmp", std::process::id()));
        std::fs::write(&temporary, updated).map_err(|e| Error::io(&temporary, e))?;
        std::fs::rename(&temporary, &path).map_err(|e| Error::io(&path, e))
    }

    /// The estate settings, with account names for query understanding.
    pub fn estate_config(&self) -> EstateConfig {
        EstateConfig {
            account_names: self.accounts.iter().map(|a| a.name.clone()).collect(),
            fusion: self.estate.fusion,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_server_url_keeps_the_rest_of_the_file() {
        let home = tempfile::tempdir().expect("temporary directory");
        let original = "# my accounts\n[[accounts]]\nname = \"production\" # the main one\nregions = [\"us-west-2\"]\n\n[ask]\naws_cli = \"/opt/aws\"\n";
        std::fs::write(home.path().join(CONFIG_FILE), original).expect("write");

        ClientConfig::set_server_url(home.path(), Some("https://planner.example.com"))
            .expect("set");
        let text = std::fs::read_to_string(home.path().join(CONFIG_FILE)).expect("read");
        assert!(text.contains("# my accounts") && text.contains("# the main one"), "{text}");
        let config = ClientConfig::load(home.path()).expect("load");
        assert_eq!(config.ask.server_url.as_deref(), Some("https://planner.example.com"));
        assert_eq!(config.ask.aws_cli, "/opt/aws");
        assert_eq!(config.accounts[0].name, "production");

        ClientConfig::set_server_url(home.path(), None).expect("unset");
        let config = ClientConfig::load(home.path()).expect("load");
        assert_eq!(config.ask.server_url, None);
        assert_eq!(config.ask.aws_cli, "/opt/aws");

        // A missing file becomes one with just the setting.
        let empty = tempfile::tempdir().expect("temporary directory");
        ClientConfig::set_server_url(empty.path(), Some("http://127.0.0.1:8080")).expect("set");
        let config = ClientConfig::load(empty.path()).expect("load");
        assert_eq!(config.ask.server_url.as_deref(), Some("http://127.0.0.1:8080"));

        // A file that does not parse is refused, not overwritten.
        std::fs::write(home.path().join(CONFIG_FILE), "[ask\n").expect("write");
        assert!(ClientConfig::set_server_url(home.path(), None).is_err());
        let text = std::fs::read_to_string(home.path().join(CONFIG_FILE)).expect("read");
        assert_eq!(text, "[ask\n");
    }

    #[test]
    fn parses_the_documented_file() {
        let config: ClientConfig = toml::from_str(
            r#"
            [[accounts]]
            name = "production"
            regions = ["us-west-2", "us-east-1"]

            [[accounts]]
            name = "staging"
            role_arn = "arn:aws:iam::987654321098:role/OrganizationAccountAccessRole"
            regions = ["us-west-2"]

            [estate]
            fusion = "weighted"
            future_setting = 1

            [sync]
            endpoint_url = "http://127.0.0.1:5000"
            full_every_minutes = 60
            "#,
        )
        .expect("valid config");
        assert_eq!(config.accounts.len(), 2);
        assert_eq!(config.estate.fusion, Fusion::Weighted);
        assert!(config.estate.semantic);
        assert_eq!(config.sync.endpoint_url.as_deref(), Some("http://127.0.0.1:5000"));
        assert_eq!(
            (config.sync.full_every_minutes, config.sync.incremental_every_minutes),
            (60, 15)
        );
        assert_eq!(config.estate_config().account_names, ["production", "staging"]);
    }
}
