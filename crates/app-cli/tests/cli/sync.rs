//! `cloudops estate sync` against moto holding the seed-sized estate of issue 4: 2,500 EC2,
//! 150 RDS, 430 S3, 85 Lambda and 22 ELBv2 over 3 accounts reached by assume-role and 3
//! regions, created by `scripts/seed-moto.py`, which also writes the manifest checked here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::moto::{Moto, repository, venv};

/// Runs `cloudops` as an operator pointed at moto would: base credentials in the environment,
/// nothing from the user's own AWS files or keychain entries.
fn cloudops(home: &Path, moto: &Moto, args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_cloudops"))
        .args(args)
        .env("CLOUDOPS_HOME", home)
        .env("AWS_ENDPOINT_URL", &moto.endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", home.join("no-aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("no-aws-credentials"))
        .env("CLOUDOPS_KEYCHAIN_SERVICE", format!("cloudops-test-{}", std::process::id()))
        .stdin(Stdio::null())
        .output()
        .expect("run cloudops");
    assert!(
        output.status.success(),
        "cloudops {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

const TYPES: [(&str, &str); 5] = [
    ("ec2", "ec2_instance"),
    ("rds", "rds_instance"),
    ("s3", "s3_bucket"),
    ("lambda", "lambda_function"),
    ("elbv2", "elb_load_balancer"),
];

#[test]
fn a_seed_sized_estate_syncs_exactly_and_is_found() {
    let moto = Moto::start();
    let work = tempfile::tempdir().expect("tempdir");
    let home = work.path().join("home");
    let manifest_path = work.path().join("manifest.json");
    let seeded = Command::new(venv().join("bin/python"))
        .arg(repository().join("scripts/seed-moto.py"))
        .args(["--endpoint", &moto.endpoint, "--cloudops", env!("CARGO_BIN_EXE_cloudops")])
        .arg("--manifest")
        .arg(&manifest_path)
        .arg("--config")
        .arg(home.join("config.toml"))
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .output()
        .expect("run seed-moto.py");
    assert!(seeded.status.success(), "seeding failed: {}", String::from_utf8_lossy(&seeded.stderr));
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).expect("manifest")).expect("JSON");
    // Lexical lookup only: the model's behaviour is tested elsewhere; this is about the sync.
    let mut config = std::fs::read_to_string(home.join("config.toml")).expect("config");
    config.push_str("\n[estate]\nsemantic = false\n");
    std::fs::write(home.join("config.toml"), config).expect("config");

    let report = json(&cloudops(&home, &moto, &["estate", "sync", "--json"]));
    let scopes = report["scopes"].as_array().expect("scopes");
    assert_eq!(scopes.len(), 3 * (3 * 4 + 1), "3 accounts × (3 regions × 4 services + S3)");
    assert!(scopes.iter().all(|s| s["error"].is_null() && s["mode"] == "full"), "{report:#}");
    for (service, resource_type) in TYPES {
        assert_eq!(
            report["by_type"][resource_type], manifest["totals"][service],
            "{resource_type}"
        );
    }

    // The export holds exactly the manifest's resources per account, region and service.
    let exported = cloudops(&home, &moto, &["estate", "export"]);
    let resources: Vec<Value> = String::from_utf8_lossy(&exported.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("a resource per line"))
        .collect();
    assert_eq!(resources.len(), 3_187);
    let mut names: BTreeMap<(String, String, String), BTreeSet<String>> = BTreeMap::new();
    for resource in &resources {
        let key = (
            resource["account_id"].as_str().unwrap_or_default().to_owned(),
            resource["region"].as_str().unwrap_or_default().to_owned(),
            resource["resource_type"].as_str().unwrap_or_default().to_owned(),
        );
        names
            .entry(key)
            .or_default()
            .insert(resource["name"].as_str().unwrap_or_default().to_owned());
    }
    for account in manifest["accounts"].as_array().expect("accounts") {
        let id = account["id"].as_str().expect("id");
        for (region, expected) in account["regions"].as_object().expect("regions") {
            for (service, resource_type) in TYPES {
                let want: BTreeSet<String> = expected["names"][service]
                    .as_array()
                    .expect("names")
                    .iter()
                    .map(|name| name.as_str().expect("name").to_owned())
                    .collect();
                let got = names
                    .remove(&(id.to_owned(), region.clone(), resource_type.to_owned()))
                    .unwrap_or_default();
                assert_eq!(got, want, "{id} {region} {service}");
            }
        }
    }
    assert!(names.is_empty(), "resources outside the manifest: {names:?}");

    // Spot checks: exact state, tags and account.
    let by_arn: BTreeMap<&str, &Value> =
        resources.iter().map(|r| (r["arn"].as_str().unwrap_or_default(), r)).collect();
    for check in manifest["spot_checks"].as_array().expect("spot checks") {
        let arn = check["arn"].as_str().expect("arn");
        let resource = by_arn.get(arn).unwrap_or_else(|| panic!("{arn} not synced"));
        for field in ["state", "tags", "account_id", "account_name", "region", "name"] {
            assert_eq!(resource[field], check[field], "{arn} {field}");
        }
    }

    // `find` resolves the design's database, offline.
    let found = json(&cloudops(&home, &moto, &["find", "Stop pg-instance-main1", "--json"]));
    let top = &found["results"][0];
    assert_eq!(top["name"], "pg-instance-main1");
    assert_eq!(
        (top["account_id"].as_str(), top["region"].as_str()),
        (Some("111111111111"), Some("us-west-2"))
    );

    let status = json(&cloudops(&home, &moto, &["estate", "status", "--json"]));
    assert_eq!(status.as_array().map(Vec::len), Some(39));
    assert!(status.as_array().expect("rows").iter().all(|row| row["stale"] == false));

    // Nothing changed: the next sync is incremental and writes nothing.
    let again = json(&cloudops(&home, &moto, &["estate", "sync", "--json"]));
    assert!(again["scopes"].as_array().expect("scopes").iter().all(|s| s["mode"] == "incremental"));
    let totals = &again["totals"];
    assert_eq!(
        (totals["added"].as_u64(), totals["changed"].as_u64(), totals["removed"].as_u64()),
        (Some(0), Some(0), Some(0))
    );
    assert_eq!((totals["unchanged"].as_u64(), totals["embedded"].as_u64()), (Some(3_187), Some(0)));
}

/// A home whose one account syncs moto's default account in us-east-1, lexical only.
fn small_home(moto: &Moto) -> tempfile::TempDir {
    let home = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        home.path().join("config.toml"),
        "[[accounts]]\nname = \"production\"\nregions = [\"us-east-1\"]\n\n[estate]\nsemantic = false\n",
    )
    .expect("config");
    let created = Command::new(venv().join("bin/aws"))
        .args([
            "s3api",
            "create-bucket",
            "--bucket",
            "acme-pg-dumps",
            "--endpoint-url",
            &moto.endpoint,
        ])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .output()
        .expect("aws s3api create-bucket");
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    home
}

/// `cloudops` with no AWS credentials in its environment at all, and the kernel keyring as
/// the keychain (under a service name of its own).
fn without_credentials(
    home: &Path,
    moto: &Moto,
    service: &str,
    args: &[&str],
    stdin: &str,
) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_cloudops"))
        .args(args)
        .env("CLOUDOPS_HOME", home)
        .env("AWS_ENDPOINT_URL", &moto.endpoint)
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", home.join("no-aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("no-aws-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("CLOUDOPS_KEYCHAIN", "kernel")
        .env("CLOUDOPS_KEYCHAIN_SERVICE", service)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run cloudops");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
    child.wait_with_output().expect("wait")
}

#[test]
fn a_key_in_the_keychain_is_what_sync_uses_and_never_leaks() {
    let moto = Moto::start();
    let home = small_home(&moto);
    let service = format!("cloudops-cli-test-{}", std::process::id());
    let secret = "wJalrXUtnFEMIK7MDENGbPxRfiCYzzKEYSECRET";
    let run =
        |args: &[&str], stdin: &str| without_credentials(home.path(), &moto, &service, args, stdin);

    // No credentials anywhere: nothing can be synced, exit code 5.
    let refused = run(&["estate", "sync"], "");
    assert_eq!(refused.status.code(), Some(5), "{}", String::from_utf8_lossy(&refused.stderr));

    let added = run(
        &["accounts", "add", "production", "--stdin"],
        &format!("AKIAIOSFODNN7EXAMPLE\n{secret}\n"),
    );
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let listed = run(&["accounts", "list", "--json"], "");
    assert!(listed.status.success());
    let listing = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(
        listing.contains("AKIA") && !listing.contains("AKIAIOSFODNN7EXAMPLE"),
        "masked: {listing}"
    );

    let synced = run(&["estate", "sync", "--json"], "");
    assert!(synced.status.success(), "{}", String::from_utf8_lossy(&synced.stderr));
    let report: Value = serde_json::from_slice(&synced.stdout).expect("report");
    assert_eq!(report["by_type"]["s3_bucket"], 1, "{report:#}");

    // The secret is in no output and no file of the data directory.
    for output in [&added, &listed, &synced] {
        for stream in [&output.stdout, &output.stderr] {
            assert!(!String::from_utf8_lossy(stream).contains(secret), "secret printed");
        }
    }
    let mut files = vec![home.path().to_path_buf()];
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).expect("dir").map(|e| e.expect("entry").path()));
        } else {
            let bytes = std::fs::read(&path).expect("file");
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "secret in {}",
                path.display()
            );
        }
    }

    let removed = run(&["accounts", "remove", "production"], "");
    assert!(removed.status.success(), "{}", String::from_utf8_lossy(&removed.stderr));
    assert_eq!(run(&["estate", "sync"], "").status.code(), Some(5), "the key is gone");
}

#[test]
fn watch_runs_a_full_sync_then_incremental_ones() {
    let moto = Moto::start();
    let home = small_home(&moto);
    let output = Command::new(env!("CARGO_BIN_EXE_cloudops"))
        .args(["estate", "watch", "--incremental-every", "0.02", "--max-syncs", "2"])
        .env("CLOUDOPS_HOME", home.path())
        .env("AWS_ENDPOINT_URL", &moto.endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("CLOUDOPS_KEYCHAIN_SERVICE", format!("cloudops-watch-{}", std::process::id()))
        .stdin(Stdio::null())
        .output()
        .expect("run cloudops estate watch");
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{log}");
    assert!(log.contains("(5 full)"), "first sync is full: {log}");
    assert!(log.contains("(5 incremental)"), "second is incremental: {log}");
}
