//! The data directory's layout, owned in one place: every frontend and library that reads
//! or writes a part of it asks [`DataDir`] where that part is.

use std::path::{Path, PathBuf};

use crate::config::{CONFIG_FILE, ClientConfig, default_home};
use crate::error::Result;

/// The data directory (`--home`, else `CLOUDOPS_HOME`, else the platform's data directory)
/// and where each part of it lives:
///
/// ```text
/// config.toml     the client configuration
/// estate/         the index (qdrant-edge + tantivy), one opener at a time
/// sync-state/     per scope the last syncs, counts and errors (sled)
/// audit/          the hash-chained audit trail
/// executions/     one record per execution, for resume
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// The data directory at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DataDir { root: root.into() }
    }

    /// `explicit` when given (a `--home` flag), else [`default_home`].
    pub fn locate(explicit: Option<PathBuf>) -> Result<Self> {
        match explicit {
            Some(root) => Ok(DataDir::new(root)),
            None => default_home().map(DataDir::new),
        }
    }

    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `config.toml`.
    pub fn config_file(&self) -> PathBuf {
        self.root.join(CONFIG_FILE)
    }

    /// The estate index.
    pub fn estate(&self) -> PathBuf {
        self.root.join("estate")
    }

    /// The sync state store.
    pub fn sync_state(&self) -> PathBuf {
        self.root.join("sync-state")
    }

    /// The audit trail's directory.
    pub fn audit(&self) -> PathBuf {
        self.root.join("audit")
    }

    /// The execution records' directory.
    pub fn executions(&self) -> PathBuf {
        self.root.join("executions")
    }

    /// The directory of executions agents requested and a person has yet to approve.
    pub fn pending(&self) -> PathBuf {
        self.root.join("pending")
    }

    /// The local log of MCP tool calls (`cloudops mcp`), without their results.
    pub fn mcp_log(&self) -> PathBuf {
        self.root.join("mcp-calls.jsonl")
    }

    /// Reads `config.toml`; a missing file is the default configuration.
    pub fn load_config(&self) -> Result<ClientConfig> {
        ClientConfig::load(&self.root)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_part_lives_under_the_root() {
        let dir = DataDir::new("/data/cloudops");
        let parts = [
            (dir.config_file(), "config.toml"),
            (dir.estate(), "estate"),
            (dir.sync_state(), "sync-state"),
            (dir.audit(), "audit"),
            (dir.executions(), "executions"),
        ];
        for (path, name) in parts {
            assert_eq!(path, Path::new("/data/cloudops").join(name));
        }
        let explicit = DataDir::locate(Some("/elsewhere".into())).expect("explicit");
        assert_eq!(explicit.root(), Path::new("/elsewhere"));
    }
}
