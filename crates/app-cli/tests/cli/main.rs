//! End-to-end tests of the `cloudops` binary, run as a user would run it.

mod ask;
mod fleets;
mod mcp;
mod moto;
mod questions;
mod sync;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn cloudops(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cloudops"))
        .args(args)
        .env("CLOUDOPS_HOME", home)
        .stdin(Stdio::null())
        .output()
        .expect("run cloudops")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A home with a small demo estate imported through the CLI, lexical only so the test does
/// not depend on the model.
fn home_with_estate() -> tempfile::TempDir {
    let home = tempfile::tempdir().expect("temporary directory");
    std::fs::write(home.path().join("config.toml"), "[estate]\nsemantic = false\n")
        .expect("config");
    let demo = cloudops(home.path(), &["estate", "demo"]);
    assert!(demo.status.success());
    let lines: Vec<&str> = std::str::from_utf8(&demo.stdout).expect("utf-8").lines().collect();
    assert_eq!(lines.len(), 3_187);
    let file = home.path().join("estate.jsonl");
    std::fs::write(&file, lines.join("\n")).expect("write estate");
    let import = cloudops(home.path(), &["estate", "import", file.to_str().expect("path")]);
    assert!(import.status.success(), "{}", String::from_utf8_lossy(&import.stderr));
    assert!(String::from_utf8_lossy(&import.stderr).contains("3187 added"));
    home
}

#[test]
fn import_find_export_round_trip() {
    let home = home_with_estate();

    let found = cloudops(home.path(), &["find", "Stop pg-instance-main1", "--json"]);
    assert!(found.status.success());
    let response: Value = serde_json::from_str(&stdout(&found)).expect("one JSON object");
    for key in ["query", "took_us", "ambiguous", "results"] {
        assert!(response.get(key).is_some(), "missing {key}");
    }
    assert_eq!(response["ambiguous"], false);
    let top = &response["results"][0];
    assert_eq!(top["name"], "pg-instance-main1");
    assert_eq!(top["matched_by"], "exact_name");
    assert_eq!(top["account_name"], "production");
    for key in ["arn", "resource_type", "id", "account_id", "region", "state", "tags", "score"] {
        assert!(top.get(key).is_some(), "missing {key}");
    }

    let table = cloudops(home.path(), &["find", "pg-main"]);
    assert!(stdout(&table).lines().nth(1).expect("a row").contains("pg-instance-main1"));

    let batch = home.path().join("queries.txt");
    std::fs::write(&batch, "pg-main1\nproduction database\n\nenv=prod app=main\n").expect("write");
    let answers =
        cloudops(home.path(), &["find", "--batch", batch.to_str().expect("path"), "--json"]);
    assert!(answers.status.success());
    let lines: Vec<Value> =
        stdout(&answers).lines().map(|l| serde_json::from_str(l).expect("JSON line")).collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["results"][0]["name"], "pg-instance-main1");
    assert!(
        lines[1]["results"]
            .as_array()
            .expect("array")
            .iter()
            .all(|r| r["resource_type"] == "rds_instance")
    );

    let export = cloudops(home.path(), &["estate", "export"]);
    assert!(export.status.success());
    assert_eq!(stdout(&export).lines().count(), 3_187);

    let scoped = cloudops(
        home.path(),
        &["find", "web", "--type", "ec2_instance", "--account", "staging", "--json"],
    );
    let scoped: Value = serde_json::from_str(&stdout(&scoped)).expect("JSON");
    for result in scoped["results"].as_array().expect("array") {
        assert_eq!(result["account_name"], "staging");
        assert_eq!(result["resource_type"], "ec2_instance");
    }
}

#[test]
fn bad_input_is_reported_with_its_place_and_exit_code() {
    let home = tempfile::tempdir().expect("temporary directory");
    std::fs::write(home.path().join("config.toml"), "[estate]\nsemantic = false\n")
        .expect("config");
    let file = home.path().join("bad.jsonl");
    std::fs::write(&file, "{\"arn\":\"a\",\"resource_type\":\"ec2_instance\",\"id\":\"i\",\"account_id\":\"1\",\"region\":\"r\"}\n{not json}\n")
        .expect("write");
    let import = cloudops(home.path(), &["estate", "import", file.to_str().expect("path")]);
    assert_eq!(import.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&import.stderr).contains("line 2"),
        "{}",
        String::from_utf8_lossy(&import.stderr)
    );

    let unknown = cloudops(home.path(), &["find", "x", "--type", "spaceship"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown resource type"));

    let nothing = cloudops(home.path(), &["find", "anything"]);
    assert_eq!(nothing.status.code(), Some(1), "an empty estate finds nothing");

    std::fs::write(home.path().join("config.toml"), "[estate\n").expect("config");
    let broken = cloudops(home.path(), &["find", "x"]);
    assert_eq!(broken.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&broken.stderr).contains("config.toml"));
}

#[test]
fn the_estate_has_one_opener_at_a_time() {
    let home = tempfile::tempdir().expect("temporary directory");
    std::fs::write(home.path().join("config.toml"), "[estate]\nsemantic = false\n")
        .expect("config");
    // This process holds the estate open, as the desktop app or a sync would.
    let config = cloudops_core::EstateConfig::default();
    let open = cloudops_core::Estate::open(home.path().join("estate"), config).expect("open");
    let refused = cloudops(home.path(), &["find", "anything"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(4), "a conflict: {stderr}");
    assert!(stderr.contains("in use by another cloudops process"), "{stderr}");
    drop(open);
    let after = cloudops(home.path(), &["find", "anything"]);
    assert_eq!(after.status.code(), Some(1), "{}", String::from_utf8_lossy(&after.stderr));
}

#[test]
fn frontends_do_not_name_the_engines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for frontend in ["crates/app-cli", "crates/app-tauri", "crates/cloudops-server"] {
        let manifest = root.join(frontend).join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else { continue };
        for engine in ["tantivy", "qdrant-edge", "qdrant_edge"] {
            assert!(!text.contains(engine), "{} names {engine}", manifest.display());
        }
    }
}

/// The crate graph as `docs/ARCHITECTURE.md` draws it: every edge between the workspace's
/// crates (normal and build dependencies, any target) is one of these. Tests may use more.
#[test]
fn the_crate_graph_has_only_the_designed_edges() {
    let allowed: &[(&str, &[&str])] = &[
        ("cloudops-core", &[]),
        ("cloudops-embed", &["cloudops-core"]),
        ("cloudops-playbooks", &["cloudops-core"]),
        ("cloudops-sync", &["cloudops-core"]),
        ("cloudops-assist", &["cloudops-core", "cloudops-playbooks", "cloudops-sync"]),
        ("cloudops-server", &["cloudops-core", "cloudops-embed", "cloudops-playbooks"]),
        (
            "app-cli",
            &[
                "cloudops-core",
                "cloudops-embed",
                "cloudops-playbooks",
                "cloudops-sync",
                "cloudops-assist",
            ],
        ),
        (
            "app-tauri",
            &[
                "cloudops-core",
                "cloudops-embed",
                "cloudops-playbooks",
                "cloudops-sync",
                "cloudops-assist",
            ],
        ),
    ];
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let workspace: toml::Table = std::fs::read_to_string(root.join("Cargo.toml"))
        .expect("workspace manifest")
        .parse()
        .expect("workspace toml");
    let members = workspace["workspace"]["members"].as_array().expect("members");
    let mut seen = Vec::new();
    for member in members {
        let manifest: toml::Table =
            std::fs::read_to_string(root.join(member.as_str().expect("path")).join("Cargo.toml"))
                .expect("member manifest")
                .parse()
                .expect("member toml");
        let name = manifest["package"]["name"].as_str().expect("name").to_owned();
        let Some((_, edges)) = allowed.iter().find(|(crate_name, _)| *crate_name == name) else {
            panic!("{name} is not in the designed crate graph; add it here and to ARCHITECTURE.md");
        };
        let mut tables: Vec<&toml::Table> = Vec::new();
        for section in ["dependencies", "build-dependencies"] {
            tables.extend(manifest.get(section).and_then(toml::Value::as_table));
        }
        if let Some(targets) = manifest.get("target").and_then(toml::Value::as_table) {
            for target in targets.values().filter_map(toml::Value::as_table) {
                for section in ["dependencies", "build-dependencies"] {
                    tables.extend(target.get(section).and_then(toml::Value::as_table));
                }
            }
        }
        for dependency in tables.iter().flat_map(|table| table.keys()) {
            let internal = dependency.starts_with("cloudops-") || dependency.starts_with("app-");
            assert!(
                !internal || edges.contains(&dependency.as_str()),
                "{name} depends on {dependency}, an edge the design does not have"
            );
        }
        seen.push(name);
    }
    for (name, _) in allowed {
        assert!(
            seen.iter().any(|member| member == name) || *name == "cloudops-embed",
            "{name} is designed but not a workspace member"
        );
    }
}

#[test]
fn playbooks_lint_reports_bad_files_and_passes_the_library() {
    let home = tempfile::tempdir().expect("temporary directory");
    let library = Path::new(env!("CARGO_MANIFEST_DIR")).join("../cloudops-playbooks/library");
    let good = cloudops(home.path(), &["playbooks", "lint", library.to_str().expect("path")]);
    assert!(good.status.success(), "{}", stdout(&good));
    assert!(stdout(&good).contains("0 files with problems"), "{}", stdout(&good));

    let directory = tempfile::tempdir().expect("temporary directory");
    let reference = std::fs::read_to_string(library.join("aws_rds_stop_instance.yaml"))
        .expect("reference playbook");
    std::fs::write(directory.path().join("aws_rds_stop_instance.yaml"), &reference).expect("write");
    std::fs::write(
        directory.path().join("aws_rds_reboot_instance.yaml"),
        reference
            .replace("aws_rds_stop_instance", "aws_rds_reboot_instance")
            .replace("command: rds stop-db-instance", "command: ec2 stop-instances"),
    )
    .expect("write");
    let bad =
        cloudops(home.path(), &["playbooks", "lint", directory.path().to_str().expect("path")]);
    assert_eq!(bad.status.code(), Some(2));
    let text = stdout(&bad);
    let line =
        reference.lines().position(|l| l.contains("command: rds stop-db-instance")).expect("line")
            + 1;
    assert!(
        text.contains(&format!(
            "aws_rds_reboot_instance.yaml:{line}: step stop: command group ec2"
        )),
        "{text}"
    );
    assert!(text.contains("1 playbooks valid, 1 files with problems"), "{text}");

    let listed = cloudops(home.path(), &["playbooks", "list"]);
    assert!(stdout(&listed).contains("aws_rds_stop_instance"));
    let schema = cloudops(home.path(), &["playbooks", "schema"]);
    let schema: Value = serde_json::from_slice(&schema.stdout).expect("schema is JSON");
    assert_eq!(schema["title"], "Playbook");
}

#[test]
fn the_demo_finds_and_plans_the_designs_example() {
    let home = tempfile::tempdir().expect("temporary directory");
    std::fs::write(home.path().join("config.toml"), "[estate]\nsemantic = false\n")
        .expect("config");
    let demo = cloudops(home.path(), &["demo"]);
    assert!(demo.status.success(), "{}", String::from_utf8_lossy(&demo.stderr));
    let text = stdout(&demo);
    assert!(text.contains("$ cloudops find \"pg-main\" --limit 3"), "{text}");
    assert!(text.contains("$ plan \"Stop pg-instance-main1\""), "{text}");
    assert!(
        text.contains("1. aws rds stop-db-instance --db-instance-identifier pg-instance-main1 --region us-west-2"),
        "{text}"
    );
    assert!(
        text.contains(
            "risk: medium (Production database; Multi-AZ enabled; No read replicas to affect)"
        ),
        "{text}"
    );
    assert!(text.contains("approval: required"), "{text}");
}
