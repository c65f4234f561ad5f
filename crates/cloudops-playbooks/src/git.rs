//! Which commit a library directory is served from, read with `gix` (no `git` binary).

use std::path::Path;

use crate::error::{Error, Result};

/// The commit checked out in the repository holding `directory`, and whether any of
/// `files` (paths relative to `directory`, with their bytes) differs from that commit.
/// `(None, false)` when the directory is not in a Git repository.
pub(crate) fn describe(
    directory: &Path,
    files: &[(String, Vec<u8>)],
) -> Result<(Option<String>, bool)> {
    let repository = match gix::discover(directory) {
        Ok(repository) => repository,
        Err(_) => return Ok((None, false)),
    };
    let git_error =
        |error: &dyn std::fmt::Display| Error::Git(format!("{}: {error}", directory.display()));
    // A repository with no commit yet serves uncommitted files.
    let Ok(head) = repository.head_commit() else {
        return Ok((None, !files.is_empty()));
    };
    let commit = head.id.to_string();
    let tree = head.tree().map_err(|e| git_error(&e))?;
    let workdir = repository.workdir().ok_or_else(|| git_error(&"bare repository"))?;
    let root = std::fs::canonicalize(workdir).map_err(|e| Error::io(workdir, e))?;
    let directory = std::fs::canonicalize(directory).map_err(|e| Error::io(directory, e))?;
    let prefix = directory.strip_prefix(&root).unwrap_or(Path::new(""));
    let mut dirty = false;
    for (relative, bytes) in files {
        let path = prefix.join(relative);
        let entry = tree.lookup_entry_by_path(&path).map_err(|e| git_error(&e))?;
        let committed = entry.map(|entry| entry.object_id());
        let current =
            gix::objs::compute_hash(repository.object_hash(), gix::objs::Kind::Blob, bytes)
                .map_err(|e| git_error(&e))?;
        if committed != Some(current) {
            dirty = true;
            break;
        }
    }
    Ok((Some(commit), dirty))
}
