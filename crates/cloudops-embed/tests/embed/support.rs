//! Shared fixtures: the demo estate indexed once per test binary, with and without the model.

use std::path::PathBuf;
use std::sync::OnceLock;

use cloudops_core::{Estate, EstateConfig, demo};
use cloudops_embed::{default_model_dir, model_present, open_estate_with_model};

/// The model directory, when installed. With `CLOUDOPS_REQUIRE_MODEL=1` (as in CI) a missing
/// model fails the run instead of quietly testing without semantic search.
pub fn model_dir() -> Option<PathBuf> {
    let dir = default_model_dir().filter(|dir| model_present(dir));
    if dir.is_none() && std::env::var("CLOUDOPS_REQUIRE_MODEL").as_deref() == Ok("1") {
        panic!("CLOUDOPS_REQUIRE_MODEL=1 but no model is installed: run scripts/fetch-model.sh");
    }
    dir
}

pub struct Fixture {
    pub estate: Estate,
    _directory: tempfile::TempDir,
}

fn indexed(open: impl FnOnce(&std::path::Path) -> Estate) -> Fixture {
    let directory = tempfile::tempdir().expect("temporary directory");
    let estate = open(directory.path());
    estate.upsert(&demo::generate(&demo::DemoConfig::default())).expect("index demo estate");
    Fixture { estate, _directory: directory }
}

/// The default demo estate (3,187 resources), with the semantic model when installed.
pub fn demo_estate() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        indexed(|path| {
            match model_dir() {
                Some(model) => open_estate_with_model(path, EstateConfig::default(), &model),
                None => Estate::open(path, EstateConfig::default()),
            }
            .expect("open estate")
        })
    })
}

/// The demo estate without the semantic model: lexical and hashing embedder only.
pub fn lexical_demo_estate() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        indexed(|path| Estate::open(path, EstateConfig::default()).expect("open estate"))
    })
}
