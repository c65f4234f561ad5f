//! Loading a playbook library — the built-in one, or a directory in a Git repository — with
//! every file validated on its own: a malformed playbook is reported (file, line, what is
//! wrong) and left out, and the rest still load.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::schema::Playbook;
use crate::validate::validate;

/// Files larger than this are refused unread: a playbook is a page of YAML.
pub const MAX_PLAYBOOK_BYTES: u64 = 64 * 1024;

/// The built-in library, compiled into the binary from `library/`.
const BUILTIN: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/builtin.rs"));

/// Something wrong with a playbook file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// The file, relative to the library directory.
    pub file: String,
    /// The 1-based line, when known.
    pub line: Option<usize>,
    /// The 1-based column, when known.
    pub column: Option<usize>,
    /// What is wrong, and what to do about it.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

/// A playbook with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedPlaybook {
    /// The playbook.
    pub playbook: Playbook,
    /// Its file, relative to the library directory.
    pub file: String,
    /// BLAKE3 of the file's bytes, hex.
    pub checksum: String,
}

/// Where a library came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Origin {
    /// Compiled into this build.
    Builtin {
        /// The crate version of the build.
        version: String,
    },
    /// A directory on disk.
    Directory {
        /// The directory.
        path: PathBuf,
        /// The commit checked out in the Git repository holding it, when it is in one.
        commit: Option<String>,
        /// Whether files under the directory differ from that commit.
        dirty: bool,
    },
}

/// A set of valid playbooks, and the problems of the files left out.
#[derive(Debug, Clone)]
pub struct Library {
    playbooks: BTreeMap<String, LoadedPlaybook>,
    problems: Vec<Problem>,
    origin: Origin,
}

impl Library {
    /// The library compiled into this build.
    pub fn builtin() -> Self {
        let files =
            BUILTIN.iter().map(|(name, text)| ((*name).to_owned(), text.as_bytes().to_vec()));
        Self::from_files(
            files.collect(),
            Origin::Builtin { version: env!("CARGO_PKG_VERSION").to_owned() },
        )
    }

    /// Loads every `*.yaml`/`*.yml` file under `directory` (recursively). Fails only when
    /// the directory cannot be read; bad files become [`Self::problems`].
    pub fn load(directory: &Path) -> Result<Self> {
        let mut files = Vec::new();
        collect_files(directory, directory, &mut files)?;
        let mut contents = Vec::with_capacity(files.len());
        let mut problems = Vec::new();
        for (relative, path) in files {
            match read_limited(&path) {
                Ok(bytes) => contents.push((relative, bytes)),
                Err(message) => {
                    problems.push(Problem { file: relative, line: None, column: None, message })
                }
            }
        }
        let (commit, dirty) = crate::git::describe(directory, &contents)?;
        let mut library = Self::from_files(
            contents,
            Origin::Directory { path: directory.to_path_buf(), commit, dirty },
        );
        problems.append(&mut library.problems);
        problems.sort_by(|a, b| a.file.cmp(&b.file).then(a.line.cmp(&b.line)));
        library.problems = problems;
        Ok(library)
    }

    fn from_files(mut files: Vec<(String, Vec<u8>)>, origin: Origin) -> Self {
        files.sort();
        let mut playbooks: BTreeMap<String, LoadedPlaybook> = BTreeMap::new();
        let mut problems = Vec::new();
        for (file, bytes) in files {
            match parse(&file, &bytes) {
                Ok(playbook) => {
                    if let Some(first) = playbooks.get(&playbook.id) {
                        problems.push(Problem {
                            file: file.clone(),
                            line: find_line(&String::from_utf8_lossy(&bytes), &playbook.id),
                            column: None,
                            message: format!(
                                "duplicate id {}: already defined in {}; ids must be unique",
                                playbook.id, first.file
                            ),
                        });
                        continue;
                    }
                    let checksum = blake3::hash(&bytes).to_hex().to_string();
                    playbooks
                        .insert(playbook.id.clone(), LoadedPlaybook { playbook, file, checksum });
                }
                Err(mut found) => problems.append(&mut found),
            }
        }
        Library { playbooks, problems, origin }
    }

    /// The valid playbooks, by id.
    pub fn playbooks(&self) -> impl Iterator<Item = &LoadedPlaybook> {
        self.playbooks.values()
    }

    /// The playbook with this id.
    pub fn get(&self, id: &str) -> Option<&LoadedPlaybook> {
        self.playbooks.get(id)
    }

    /// How many valid playbooks there are.
    pub fn len(&self) -> usize {
        self.playbooks.len()
    }

    /// Whether no playbook loaded.
    pub fn is_empty(&self) -> bool {
        self.playbooks.is_empty()
    }

    /// The files left out, and why.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// Where the library came from.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// A checksum over every loaded playbook: changes when any of them does.
    pub fn checksum(&self) -> String {
        let mut hasher = blake3::Hasher::new();
        for loaded in self.playbooks.values() {
            hasher.update(loaded.playbook.id.as_bytes());
            hasher.update(loaded.checksum.as_bytes());
        }
        hasher.finalize().to_hex().to_string()
    }
}

/// Parses and validates one playbook file.
pub fn parse(file: &str, bytes: &[u8]) -> std::result::Result<Playbook, Vec<Problem>> {
    let problem = |line: Option<usize>, column: Option<usize>, message: String| Problem {
        file: file.to_owned(),
        line,
        column,
        message,
    };
    if bytes.len() as u64 > MAX_PLAYBOOK_BYTES {
        return Err(vec![problem(
            None,
            None,
            format!(
                "file is {} bytes, more than the {MAX_PLAYBOOK_BYTES} a playbook may have",
                bytes.len()
            ),
        )]);
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|e| vec![problem(None, None, format!("not UTF-8 text: {e}"))])?;
    let playbook: Playbook = serde_yaml_ng::from_str(text).map_err(|error| {
        let location = error.location();
        vec![problem(
            location.as_ref().map(|l| l.line()),
            location.as_ref().map(|l| l.column()),
            error.to_string(),
        )]
    })?;
    let stem = Path::new(file).file_stem().and_then(|s| s.to_str()).unwrap_or_default();
    let mut found: Vec<Problem> = validate(&playbook)
        .into_iter()
        .map(|invalid| {
            problem(
                invalid.near.as_deref().and_then(|near| find_line(text, near)),
                None,
                invalid.message,
            )
        })
        .collect();
    if stem != playbook.id {
        found.push(problem(
            find_line(text, "id:"),
            None,
            format!(
                "id {} differs from the file name {stem}; name the file {}.yaml",
                playbook.id, playbook.id
            ),
        ));
    }
    if found.is_empty() { Ok(playbook) } else { Err(found) }
}

/// The first line containing `needle`, 1-based.
fn find_line(text: &str, needle: &str) -> Option<usize> {
    text.lines().position(|line| line.contains(needle)).map(|index| index + 1)
}

fn read_limited(path: &Path) -> std::result::Result<Vec<u8>, String> {
    let metadata = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if metadata.len() > MAX_PLAYBOOK_BYTES {
        return Err(format!(
            "file is {} bytes, more than the {MAX_PLAYBOOK_BYTES} a playbook may have",
            metadata.len()
        ));
    }
    std::fs::read(path).map_err(|e| format!("cannot read: {e}"))
}

fn collect_files(root: &Path, directory: &Path, files: &mut Vec<(String, PathBuf)>) -> Result<()> {
    let entries = std::fs::read_dir(directory).map_err(|e| Error::io(directory, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(directory, e))?;
        let path = entry.path();
        let name = entry.file_name();
        // Hidden entries (.git, editor swap files) are not playbooks.
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let kind = entry.file_type().map_err(|e| Error::io(&path, e))?;
        if kind.is_dir() {
            collect_files(root, &path, files)?;
        } else if kind.is_file()
            && matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
        {
            let relative = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().into_owned();
            files.push((relative, path));
        }
    }
    Ok(())
}
