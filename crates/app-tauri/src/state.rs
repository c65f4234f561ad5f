//! The app's state over one data directory: the estate, opened once in the background (and
//! again on the next use if opening failed: another cloudops process may have held it); the
//! ask flow built from the configuration (rebuilt when the planner or a stored key changes);
//! the plans waiting for the operator; the sync state; and the filter values of the index.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use cloudops_assist::{Assistant, Proposal};
use cloudops_core::{ClientConfig, DataDir, ErrorKind, Estate};
use cloudops_sync::SyncState;
use tokio::sync::OnceCell;

use crate::error::{CommandError, CommandResult};
use crate::views::Facets;

/// Everything the commands share.
pub struct AppState {
    home: PathBuf,
    estate: OnceCell<Arc<Estate>>,
    sync_state: OnceCell<SyncState>,
    assistant: tokio::sync::Mutex<Option<(Arc<Assistant>, Vec<String>)>>,
    proposals: Mutex<HashMap<String, Proposal>>,
    facets: Mutex<Option<Facets>>,
    /// Held for the whole of a sync: one at a time.
    pub syncing: tokio::sync::Mutex<()>,
}

impl AppState {
    /// The state for data directory `home`; nothing is opened yet.
    pub fn new(home: PathBuf) -> Self {
        AppState {
            home,
            estate: OnceCell::new(),
            sync_state: OnceCell::new(),
            assistant: tokio::sync::Mutex::new(None),
            proposals: Mutex::new(HashMap::new()),
            facets: Mutex::new(None),
            syncing: tokio::sync::Mutex::new(()),
        }
    }

    /// The data directory.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// `config.toml`, read afresh (the CLI may have changed it).
    pub fn config(&self) -> CommandResult<ClientConfig> {
        Ok(ClientConfig::load(&self.home)?)
    }

    /// The estate index, opened (model loaded) on first use, off the async threads. A failed
    /// open is not kept: the next call tries again (the CLI may have been syncing).
    pub async fn estate(&self) -> CommandResult<Arc<Estate>> {
        self.estate
            .get_or_try_init(|| async {
                let home = self.home.clone();
                blocking(move || {
                    let config = ClientConfig::load(&home)?;
                    let estate = cloudops_embed::open_estate(DataDir::new(&home).estate(), &config)
                        .map_err(|error| {
                            CommandError::new(
                                error.kind(),
                                format!("cannot open the estate in {}: {error}", home.display()),
                            )
                        })?;
                    crate::memory::release_freed_memory();
                    Ok(Arc::new(estate))
                })
                .await
            })
            .await
            .cloned()
    }

    /// The sync state store, opened on first use and kept open (sled allows one opener); as
    /// for the estate, a failed open is tried again on the next call.
    pub async fn sync_state(&self) -> CommandResult<SyncState> {
        self.sync_state
            .get_or_try_init(|| async {
                let path = DataDir::new(&self.home).sync_state();
                blocking(move || Ok(SyncState::open(path)?)).await
            })
            .await
            .cloned()
    }

    /// The ask flow and the notes from building it (built on first use and after
    /// [`Self::forget_assistant`]).
    pub async fn assistant(&self) -> CommandResult<(Arc<Assistant>, Vec<String>)> {
        let mut slot = self.assistant.lock().await;
        if let Some(built) = slot.as_ref() {
            return Ok(built.clone());
        }
        let estate = self.estate().await?;
        let config = self.config()?;
        let home = self.home.clone();
        let (assistant, notes) = blocking(move || {
            let built = Assistant::open(&home, config, estate, None).map_err(CommandError::from);
            crate::memory::release_freed_memory();
            built
        })
        .await?;
        let built = (Arc::new(assistant), notes);
        *slot = Some(built.clone());
        Ok(built)
    }

    /// Drops the ask flow so the next use rebuilds it from the configuration and the
    /// keychain. Plans waiting for approval are kept: they were verified already.
    pub async fn forget_assistant(&self) {
        *self.assistant.lock().await = None;
    }

    /// Keeps `proposal` until the operator approves or rejects it.
    pub fn keep_proposal(&self, proposal: Proposal) -> CommandResult<()> {
        self.proposals
            .lock()
            .map_err(|_| CommandError::internal("the plans lock is poisoned"))?
            .insert(proposal.execution_id.clone(), proposal);
        Ok(())
    }

    /// Takes the waiting plan `execution_id` (so it cannot be approved twice).
    pub fn take_proposal(&self, execution_id: &str) -> CommandResult<Proposal> {
        self.proposals
            .lock()
            .map_err(|_| CommandError::internal("the plans lock is poisoned"))?
            .remove(execution_id)
            .ok_or_else(|| {
                CommandError::not_found(format!(
                    "no plan {execution_id} is waiting for approval: it was approved or rejected already; ask again"
                ))
            })
    }

    /// The explorer's filter values, computed with one pass over the index and kept until
    /// the index changes ([`Self::forget_facets`]).
    pub async fn facets(&self) -> CommandResult<Facets> {
        if let Some(facets) = self.facets.lock().ok().and_then(|facets| facets.clone()) {
            return Ok(facets);
        }
        let estate = self.estate().await?;
        let facets = blocking(move || Ok(Facets::from(estate.facets()?))).await?;
        if let Ok(mut slot) = self.facets.lock() {
            *slot = Some(facets.clone());
        }
        Ok(facets)
    }

    /// After a sync or an execution changed the index.
    pub fn forget_facets(&self) {
        if let Ok(mut slot) = self.facets.lock() {
            *slot = None;
        }
    }
}

/// Runs `work` on the blocking pool: index reads and writes, the model, the keychain and
/// the disk never hold up the async threads that answer the UI.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> CommandResult<T> + Send + 'static,
) -> CommandResult<T> {
    tauri::async_runtime::spawn_blocking(work).await.map_err(|error| {
        CommandError::new(ErrorKind::Internal, format!("a background task failed: {error}"))
    })?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_estate_held_by_another_opener_is_opened_once_it_is_free() {
        let home = tempfile::tempdir().expect("temporary directory");
        std::fs::write(home.path().join("config.toml"), "[estate]\nsemantic = false\n")
            .expect("config");
        let state = AppState::new(home.path().to_path_buf());
        // Another opener (the CLI syncing, say) holds the estate when the app first needs it.
        let config = cloudops_core::EstateConfig::default();
        let other = Estate::open(home.path().join("estate"), config).expect("open");
        tauri::async_runtime::block_on(async {
            let error = state.estate().await.expect_err("the estate is in use");
            assert_eq!(error.kind, "conflict");
            assert!(error.message.contains("in use by another cloudops process"), "{error}");
            drop(other);
            let estate = state.estate().await.expect("opened once the other let go");
            let again = state.estate().await.expect("kept open");
            assert!(Arc::ptr_eq(&estate, &again), "opened once, then shared");
        });
    }
}
