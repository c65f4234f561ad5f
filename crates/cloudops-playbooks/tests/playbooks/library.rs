//! Loading libraries: the built-in one, directories with bad files, Git commits.

use std::path::Path;
use std::process::Command;

use cloudops_playbooks::{Library, Origin};

const REFERENCE: &str = include_str!("../../library/aws_rds_stop_instance.yaml");

#[test]
fn the_builtin_library_loads_without_problems() {
    let library = Library::builtin();
    assert!(library.problems().is_empty(), "{:#?}", library.problems());
    assert!(library.len() >= 40, "only {} playbooks", library.len());
    for service in ["ec2", "rds", "s3", "lambda", "elbv2"] {
        let count = library.playbooks().filter(|p| p.playbook.service.as_str() == service).count();
        assert!(count >= 5, "{service} has only {count} playbooks");
    }
}

#[test]
fn the_repository_library_is_the_builtin_one() {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("library");
    let from_disk = Library::load(&directory).expect("library directory reads");
    assert!(from_disk.problems().is_empty(), "{:#?}", from_disk.problems());
    assert_eq!(from_disk.checksum(), Library::builtin().checksum());
}

fn write(directory: &Path, name: &str, text: &str) {
    std::fs::write(directory.join(name), text).expect("temporary file writes");
}

#[test]
fn a_bad_playbook_is_reported_with_its_line_and_the_rest_load() {
    let directory = tempfile::tempdir().expect("temporary directory");
    write(directory.path(), "aws_rds_stop_instance.yaml", REFERENCE);
    // A YAML syntax error on line 3.
    write(directory.path(), "broken.yaml", "id: broken\nversion: 1.0.0\ntitle: [unclosed\n");
    // A field the format does not have.
    let unknown = REFERENCE
        .replace("aws_rds_stop_instance", "typo_field")
        .replace("operation: stop", "operation: stop\nopration: stop");
    write(directory.path(), "typo_field.yaml", &unknown);
    // A template naming an undeclared parameter, and a forbidden argument.
    let bad_reference = REFERENCE.replace("aws_rds_stop_instance", "bad_reference").replace(
        "args: [--db-instance-identifier, \"{{ db_instance_identifier }}\"]\n  - id: wait",
        "args: [--db-instance-identifier, \"{{ db_instance }}\", --profile, admin]\n  - id: wait",
    );
    write(directory.path(), "bad_reference.yaml", &bad_reference);
    write(directory.path(), "notes.txt", "not a playbook");

    let library = Library::load(directory.path()).expect("directory reads");
    assert_eq!(library.len(), 1, "{:#?}", library.problems());
    assert!(library.get("aws_rds_stop_instance").is_some());
    let shown: Vec<String> = library.problems().iter().map(ToString::to_string).collect();
    let joined = shown.join("\n");
    assert!(joined.contains("broken.yaml:3:"), "{joined}");
    assert!(joined.contains("typo_field.yaml:") && joined.contains("opration"), "{joined}");
    assert!(joined.contains("{{ db_instance }} refers to an undeclared parameter"), "{joined}");
    assert!(joined.contains("--profile may not be set by a playbook"), "{joined}");
    let line = library
        .problems()
        .iter()
        .find(|p| p.message.contains("undeclared parameter"))
        .and_then(|p| p.line)
        .expect("the problem has a line");
    let text_line = bad_reference.lines().nth(line - 1).unwrap_or_default();
    assert!(text_line.contains("db_instance }}"), "line {line} is {text_line:?}");
}

#[test]
fn duplicate_ids_and_oversized_files_are_refused() {
    let directory = tempfile::tempdir().expect("temporary directory");
    write(directory.path(), "aws_rds_stop_instance.yaml", REFERENCE);
    std::fs::create_dir(directory.path().join("copy")).expect("mkdir");
    write(&directory.path().join("copy"), "aws_rds_stop_instance.yaml", REFERENCE);
    write(directory.path(), "huge.yaml", &"# padding\n".repeat(10_000));
    let library = Library::load(directory.path()).expect("directory reads");
    assert_eq!(library.len(), 1);
    let joined: String = library.problems().iter().map(|p| format!("{p}\n")).collect();
    assert!(joined.contains("duplicate id aws_rds_stop_instance"), "{joined}");
    assert!(joined.contains("huge.yaml: file is"), "{joined}");
}

fn git(directory: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(["-c", "user.name=CloudOps Test", "-c", "user.email=test@example.invalid"])
        .args(args)
        .current_dir(directory)
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

#[test]
fn a_library_in_git_reports_its_commit_and_uncommitted_changes() {
    let repository = tempfile::tempdir().expect("temporary directory");
    let library_dir = repository.path().join("playbooks");
    std::fs::create_dir(&library_dir).expect("mkdir");
    write(&library_dir, "aws_rds_stop_instance.yaml", REFERENCE);
    git(repository.path(), &["init", "-q"]);
    git(repository.path(), &["add", "."]);
    git(repository.path(), &["commit", "-q", "-m", "playbooks"]);
    let head = git(repository.path(), &["rev-parse", "HEAD"]);

    let library = Library::load(&library_dir).expect("loads");
    match library.origin() {
        Origin::Directory { commit, dirty, .. } => {
            assert_eq!(commit.as_deref(), Some(head.as_str()));
            assert!(!dirty);
        }
        other => panic!("unexpected origin {other:?}"),
    }

    write(
        &library_dir,
        "aws_rds_stop_instance.yaml",
        &REFERENCE.replace("version: 1.0.0", "version: 1.0.1"),
    );
    let library = Library::load(&library_dir).expect("loads");
    assert!(matches!(library.origin(), Origin::Directory { dirty: true, .. }));

    let outside = tempfile::tempdir().expect("temporary directory");
    write(outside.path(), "aws_rds_stop_instance.yaml", REFERENCE);
    let library = Library::load(outside.path()).expect("loads");
    assert!(matches!(library.origin(), Origin::Directory { commit: None, dirty: false, .. }));
}

#[test]
fn the_json_schema_describes_the_format() {
    let schema = cloudops_playbooks::json_schema();
    let properties = schema["properties"].as_object().expect("properties");
    for field in ["id", "version", "steps", "risk", "approval", "permissions", "parameters"] {
        assert!(properties.contains_key(field), "schema lacks {field}");
    }
    let committed: serde_json::Value =
        serde_json::from_str(include_str!("../../../../docs/playbook.schema.json"))
            .expect("docs/playbook.schema.json is JSON");
    assert_eq!(
        committed, schema,
        "docs/playbook.schema.json is stale: run `cloudops playbooks schema > docs/playbook.schema.json`"
    );
}
