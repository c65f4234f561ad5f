//! Which embedder `open_estate` chooses from the configuration, and what it says when the
//! model cannot be used.

use cloudops_core::{ClientConfig, ErrorKind, EstateSection};
use cloudops_embed::open_estate;

use crate::support;

fn config(semantic: bool, model_dir: Option<std::path::PathBuf>) -> ClientConfig {
    ClientConfig {
        estate: EstateSection { semantic, model_dir, ..EstateSection::default() },
        ..ClientConfig::default()
    }
}

#[test]
fn semantic_off_runs_on_the_hashing_embedder_without_a_warning() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let estate = open_estate(directory.path(), &config(false, None)).expect("open");
    assert!(!estate.is_semantic());
    assert!(estate.warnings().is_empty(), "{:?}", estate.warnings());
}

#[test]
fn a_missing_model_is_a_warning_that_says_how_to_install_it() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let nowhere = directory.path().join("no-model-here");
    let estate = open_estate(directory.path().join("estate"), &config(true, Some(nowhere.clone())))
        .expect("open");
    assert!(!estate.is_semantic());
    let warnings = estate.warnings().join("\n");
    assert!(warnings.contains("running without semantic search"), "{warnings}");
    assert!(warnings.contains(&nowhere.display().to_string()), "{warnings}");
    assert!(warnings.contains("scripts/fetch-model.sh"), "{warnings}");
}

#[test]
fn the_installed_model_is_used_when_semantic_is_on() {
    let Some(model) = support::model_dir() else {
        eprintln!("skipped: no model installed");
        return;
    };
    let directory = tempfile::tempdir().expect("temporary directory");
    let estate = open_estate(directory.path(), &config(true, Some(model))).expect("open");
    assert!(estate.is_semantic());
    assert!(estate.warnings().is_empty(), "{:?}", estate.warnings());
}

#[test]
fn the_lock_is_taken_before_the_model_loads() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let first = open_estate(directory.path(), &config(false, None)).expect("open");
    // The second opener would load the model; it learns first that the estate is in use.
    let second = open_estate(directory.path(), &config(true, support::model_dir()));
    let Err(error) = second else { panic!("the estate is in use, yet a second opener got it") };
    assert_eq!(error.kind(), ErrorKind::Conflict, "{error}");
    drop(first);
}
