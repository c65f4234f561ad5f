//! `cloudops ask` end to end, as an operator runs it: moto holding the design's RDS instance,
//! `estate sync`, then `ask` planning in-process or through the real planning server (and
//! through a planning server gone bad), the real AWS CLI executing, `find` seeing the new
//! state, and `history` holding the chained record.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, OnceLock};

use serde_json::Value;

use crate::moto::{Helper, Moto, venv};

/// Base credentials for moto, distinctive so a test can look for them where they must not be.
const ACCESS_KEY_ID: &str = "AKIACLOUDOPSTEST0001";
pub(crate) const SECRET_ACCESS_KEY: &str = "cloudops-test-secret-4f1d9a7c2b";

/// The real planning server (the `cloudops-server` library), in this test process.
fn planning_server() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().expect("runtime");
            runtime.block_on(async move {
                use cloudops_server::{App, EmbeddedStore, ServerConfig, serve};
                let planner = cloudops_playbooks::Planner::new(
                    cloudops_playbooks::Library::builtin(),
                    Arc::new(cloudops_core::HashEmbedder),
                )
                .expect("planner");
                let config = ServerConfig::default();
                let app = App::new(planner, Arc::new(EmbeddedStore::new()), "hash", config.clone())
                    .await
                    .expect("app");
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
                sender.send(listener.local_addr().expect("address").port()).expect("send");
                serve(listener, app.router(), &config, std::future::pending())
                    .await
                    .expect("serve");
            });
        });
        format!("http://127.0.0.1:{}", receiver.recv().expect("port"))
    })
}

/// moto with the design's instance (and a neighbour), a data directory configured for it,
/// and a first sync.
pub(crate) struct Stack {
    pub(crate) moto: Moto,
    /// What the client talks to: moto, or a fault-injecting proxy in front of it.
    endpoint: String,
    _proxy: Option<Helper>,
    work: tempfile::TempDir,
}

impl Stack {
    pub(crate) fn new(proxy_args: Option<&[&str]>) -> Stack {
        let moto = Moto::start();
        let work = tempfile::tempdir().expect("tempdir");
        let mut stack = Stack { endpoint: moto.endpoint.clone(), moto, _proxy: None, work };
        for (name, env, class) in [
            ("pg-instance-main1", "production", "db.t3.medium"),
            ("pg-instance-other", "staging", "db.t3.small"),
        ] {
            let env = format!("Key=env,Value={env}");
            stack.create_db(name, class, &["--tags", &env, "Key=app,Value=main"]);
        }
        let image =
            stack.aws(&["ec2", "describe-images", "--owners", "amazon"])["Images"][0]["ImageId"]
                .as_str()
                .expect("an image")
                .to_owned();
        stack.aws(&[
            "ec2",
            "run-instances",
            "--image-id",
            &image,
            "--instance-type",
            "t3.micro",
            "--count",
            "1",
            "--tag-specifications",
            "ResourceType=instance,Tags=[{Key=Name,Value=web-1},{Key=env,Value=staging}]",
        ]);
        if let Some(args) = proxy_args {
            let script = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../cloudops-sync/tests/sync/aws_proxy.py");
            let mut all = vec!["--target", stack.moto.endpoint.as_str()];
            all.extend_from_slice(args);
            let proxy = Helper::start(&script, &all);
            stack.endpoint = proxy.endpoint.clone();
            stack._proxy = Some(proxy);
        }
        std::fs::create_dir_all(stack.home()).expect("home");
        std::fs::write(
            stack.home().join("config.toml"),
            format!(
                r#"[[accounts]]
name = "production"
regions = ["us-west-2"]

[estate]
semantic = false

[sync]
endpoint_url = "{endpoint}"
cloudtrail = false

[ask]
aws_cli = "{aws}"
expect_interval_secs = 1
expect_timeout_secs = 30
"#,
                endpoint = stack.endpoint,
                aws = venv().join("bin/aws").display()
            ),
        )
        .expect("config");
        let synced = stack.cloudops(&["estate", "sync", "--json"]);
        assert!(synced.status.success(), "sync: {}", String::from_utf8_lossy(&synced.stderr));
        stack
    }

    /// The tampering planning proxy (`planner_proxy.py`) in front of the planning server, and
    /// the file it logs each request to.
    fn planner_proxy(&self) -> (Helper, PathBuf) {
        let log = self.work.path().join("requests.jsonl");
        let proxy = Helper::start(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli/planner_proxy.py"),
            &["--upstream", planning_server(), "--log", log.to_str().expect("path")],
        );
        (proxy, log)
    }

    /// Creates a PostgreSQL database `name` of `class` (20 GiB), with `extra` arguments
    /// (`--tags …`, `--backup-retention-period 0`).
    pub(crate) fn create_db(&self, name: &str, class: &str, extra: &[&str]) {
        let mut args = vec![
            "rds",
            "create-db-instance",
            "--db-instance-identifier",
            name,
            "--db-instance-class",
            class,
            "--engine",
            "postgres",
            "--master-username",
            "postgres",
            "--master-user-password",
            "not-a-real-password",
            "--allocated-storage",
            "20",
        ];
        args.extend_from_slice(extra);
        self.aws(&args);
    }

    /// Launches one t3.small instance named `name` with the tags `key=value` (moto's first
    /// Amazon image); its id.
    pub(crate) fn run_instance(&self, name: &str, tags: &[(&str, &str)]) -> String {
        let image =
            self.aws(&["ec2", "describe-images", "--owners", "amazon"])["Images"][0]["ImageId"]
                .as_str()
                .expect("an image")
                .to_owned();
        let tags: String =
            tags.iter().map(|(key, value)| format!(",{{Key={key},Value={value}}}")).collect();
        let run = self.aws(&[
            "ec2",
            "run-instances",
            "--image-id",
            &image,
            "--instance-type",
            "t3.small",
            "--count",
            "1",
            "--tag-specifications",
            &format!("ResourceType=instance,Tags=[{{Key=Name,Value={name}}}{tags}]"),
        ]);
        run["Instances"][0]["InstanceId"].as_str().expect("instance id").to_owned()
    }

    pub(crate) fn home(&self) -> PathBuf {
        self.work.path().join("home")
    }

    /// The AWS CLI against moto directly (the operator's own view of AWS).
    pub(crate) fn aws(&self, args: &[&str]) -> Value {
        let output = Command::new(venv().join("bin/aws"))
            .args(args)
            .args([
                "--region",
                "us-west-2",
                "--endpoint-url",
                &self.moto.endpoint,
                "--output",
                "json",
            ])
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
            .env("AWS_CONFIG_FILE", "/nonexistent")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
            .output()
            .expect("run aws");
        assert!(
            output.status.success(),
            "aws {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap_or(Value::Null)
    }

    /// A GET to the fault-injecting proxy's own paths (`/__proxy_stats`,
    /// `/__proxy_fail?…`): its answer's body.
    pub(crate) fn proxy(&self, path: &str) -> String {
        use std::io::{Read, Write};
        assert!(self._proxy.is_some(), "this stack has no proxy");
        let address = self.endpoint.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(address).expect("connect to the proxy");
        write!(stream, "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n")
            .expect("ask the proxy");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read the proxy's answer");
        answer.split("\r\n\r\n").nth(1).expect("a body").to_owned()
    }

    /// How many calls of the EC2 operation `action` the proxy has seen.
    pub(crate) fn ec2_calls(&self, action: &str) -> u64 {
        let stats: Value = serde_json::from_str(&self.proxy("/__proxy_stats")).expect("stats");
        stats["ec2"]["actions"][action].as_u64().unwrap_or(0)
    }

    pub(crate) fn db_arn(&self, name: &str) -> String {
        let answer = self.aws(&["rds", "describe-db-instances", "--db-instance-identifier", name]);
        answer["DBInstances"][0]["DBInstanceArn"].as_str().expect("arn").to_owned()
    }

    pub(crate) fn db_status(&self, name: &str) -> String {
        let answer = self.aws(&["rds", "describe-db-instances", "--db-instance-identifier", name]);
        answer["DBInstances"][0]["DBInstanceStatus"].as_str().expect("status").to_owned()
    }

    pub(crate) fn cloudops(&self, args: &[&str]) -> Output {
        self.environment(&mut Command::new(env!("CARGO_BIN_EXE_cloudops")))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run cloudops")
    }

    /// `cloudops ask` on a terminal, each question answered as `TEXT=>REPLY` by
    /// `pty_drive.py`: the exit code and the transcript.
    fn ask_on_terminal(&self, args: &[&str], answers: &[&str]) -> (i32, String) {
        let mut command = Command::new(venv().join("bin/python"));
        command.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli/pty_drive.py"));
        for answer in answers {
            command.args(["--answer", answer]);
        }
        command.args(["--", env!("CARGO_BIN_EXE_cloudops"), "ask"]).args(args);
        let output = self.environment(&mut command).output().expect("run pty_drive.py");
        (
            output.status.code().expect("exit code"),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    }

    pub(crate) fn environment<'c>(&self, command: &'c mut Command) -> &'c mut Command {
        command.envs(self.variables())
    }

    /// The environment `cloudops` runs with: this stack's home, moto's credentials, no AWS
    /// configuration files, a keychain service of its own.
    pub(crate) fn variables(&self) -> Vec<(String, String)> {
        let path = |p: PathBuf| p.display().to_string();
        vec![
            ("CLOUDOPS_HOME".into(), path(self.home())),
            ("AWS_ACCESS_KEY_ID".into(), ACCESS_KEY_ID.into()),
            ("AWS_SECRET_ACCESS_KEY".into(), SECRET_ACCESS_KEY.into()),
            ("AWS_REGION".into(), "us-west-2".into()),
            ("AWS_CONFIG_FILE".into(), path(self.work.path().join("no-aws-config"))),
            (
                "AWS_SHARED_CREDENTIALS_FILE".into(),
                path(self.work.path().join("no-aws-credentials")),
            ),
            ("CLOUDOPS_KEYCHAIN_SERVICE".into(), format!("cloudops-test-{}", std::process::id())),
        ]
    }

    /// `cloudops ask … --json`, with its exit code and JSON answer.
    pub(crate) fn ask(&self, args: &[&str]) -> (i32, Value, String) {
        let mut all = vec!["ask"];
        all.extend_from_slice(args);
        all.push("--json");
        let output = self.cloudops(&all);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let answer = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("ask {args:?}: no JSON ({e}); stderr:\n{stderr}"));
        (output.status.code().expect("exit code"), answer, stderr)
    }

    pub(crate) fn history(&self) -> Value {
        let output = self.cloudops(&["history", "--json"]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice(&output.stdout).expect("history JSON")
    }

    /// The audit events of one execution, in order.
    pub(crate) fn events(&self, execution_id: &str) -> Vec<Value> {
        let history = self.history();
        let execution = history["executions"]
            .as_array()
            .expect("executions")
            .iter()
            .find(|e| e["id"] == execution_id)
            .unwrap_or_else(|| panic!("execution {execution_id} not in the history"))
            .clone();
        execution["records"].as_array().expect("records").clone()
    }
}

/// The resource named `name` in the output of `cloudops estate export` (every field).
pub(crate) fn exported(output: &Output, name: &str) -> Value {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).expect("a resource"))
        .find(|resource| resource["name"] == name)
        .unwrap_or_else(|| panic!("{name} is not in the estate"))
}

/// The strings of a JSON array (none when it is absent).
pub(crate) fn strings(value: &Value) -> Vec<String> {
    value.as_array().into_iter().flatten().filter_map(|a| a.as_str()).map(str::to_owned).collect()
}

pub(crate) fn event_kinds(records: &[Value]) -> Vec<String> {
    records.iter().map(|r| r["event"].as_str().unwrap_or_default().to_owned()).collect()
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files(&path));
        } else {
            found.push(path);
        }
    }
    found
}

fn assert_no_credentials_in(home: &Path) {
    for file in files(home) {
        let bytes = std::fs::read(&file).expect("read");
        let text = String::from_utf8_lossy(&bytes);
        for secret in [ACCESS_KEY_ID, SECRET_ACCESS_KEY] {
            assert!(!text.contains(secret), "{secret} found in {}", file.display());
        }
    }
}

fn assert_stopped_and_recorded(stack: &Stack, code: i32, answer: &Value, stderr: &str) {
    assert_eq!(code, 0, "ask failed:\n{stderr}");
    assert_eq!(answer["verdict"]["verdict"], "verified", "{answer}");
    assert_eq!(answer["outcome"], "succeeded", "{stderr}");
    assert_eq!(answer["approval"], "yes_flag");
    assert_eq!(answer["plan"]["playbook"]["id"], "aws_rds_stop_instance");
    assert_eq!(stack.db_status("pg-instance-main1"), "stopped");
    assert_eq!(stack.db_status("pg-instance-other"), "available");

    // The index learnt the new state from the targeted refresh, without a sync.
    let found = stack.cloudops(&["find", "pg-instance-main1", "--json"]);
    let found: Value = serde_json::from_slice(&found.stdout).expect("find JSON");
    assert_eq!(found["results"][0]["name"], "pg-instance-main1");
    assert_eq!(found["results"][0]["state"], "stopped");

    // The chained record: planned, approved, each command, finished.
    let id = answer["execution_id"].as_str().expect("execution id");
    let records = stack.events(id);
    let kinds = event_kinds(&records);
    assert_eq!(kinds.first().map(String::as_str), Some("planned"), "{kinds:?}");
    assert_eq!(kinds.get(1).map(String::as_str), Some("approved"), "{kinds:?}");
    assert_eq!(kinds.last().map(String::as_str), Some("finished"), "{kinds:?}");
    let commands: Vec<&Value> = records.iter().filter(|r| r["event"] == "command").collect();
    assert!(commands.len() >= 2, "stop and its verification: {kinds:?}");
    assert_eq!(commands[0]["argv"][1], "rds");
    assert_eq!(commands[0]["argv"][2], "stop-db-instance");
    assert_eq!(commands[0]["exit_code"], 0);
    assert_eq!(records[0]["prompt"], "Stop pg-instance-main1");
    let history = stack.history();
    assert_eq!(history["chain"]["intact"], true, "{}", history["chain"]);
    let all: Vec<&Value> = history["executions"]
        .as_array()
        .expect("executions")
        .iter()
        .flat_map(|e| e["records"].as_array().expect("records"))
        .collect();
    let mut sorted = all.clone();
    sorted.sort_by_key(|r| r["seq"].as_u64());
    for pair in sorted.windows(2) {
        assert_eq!(pair[1]["prev_hash"], pair[0]["hash"], "the chain links each record");
    }
    let verify = stack.cloudops(&["history", "verify"]);
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));
    let show = stack.cloudops(&["history", "show", &id[..id.len().min(20)]]);
    assert!(show.status.success(), "{}", String::from_utf8_lossy(&show.stderr));
    assert!(String::from_utf8_lossy(&show.stdout).contains("stop-db-instance"));
}

#[test]
fn ask_stops_the_instance_in_process_and_through_the_server() {
    let stack = Stack::new(None);
    assert_eq!(stack.db_status("pg-instance-main1"), "available");

    // A dry run shows the verified plan and runs nothing.
    let (code, answer, stderr) = stack.ask(&["Stop pg-instance-main1", "--dry-run"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(answer["outcome"], "dry_run");
    assert!(stderr.contains("aws rds stop-db-instance --db-instance-identifier pg-instance-main1"));
    assert_eq!(stack.db_status("pg-instance-main1"), "available");

    // No terminal and no --yes: refused, nothing runs.
    let (code, answer, _) = stack.ask(&["Stop pg-instance-main1"]);
    assert_eq!(code, 7);
    assert_eq!(answer["outcome"], "refused");
    assert_eq!(stack.db_status("pg-instance-main1"), "available");

    // In-process planner.
    let (code, answer, stderr) = stack.ask(&["Stop pg-instance-main1", "--yes"]);
    assert_eq!(answer["planner"], "in-process");
    assert_stopped_and_recorded(&stack, code, &answer, &stderr);

    // Start it again behind the client's back; a sync brings the index up to date.
    stack.aws(&["rds", "start-db-instance", "--db-instance-identifier", "pg-instance-main1"]);
    let synced = stack.cloudops(&["estate", "sync"]);
    assert!(synced.status.success());

    // Through the planning server (behind a recording proxy that leaves the plan alone).
    let (proxy, log) = stack.planner_proxy();
    let server = format!("{}/tamper/none", proxy.endpoint);
    let (code, answer, stderr) =
        stack.ask(&["Stop pg-instance-main1", "--yes", "--server", &server]);
    assert_eq!(answer["planner"], server.as_str());
    assert_stopped_and_recorded(&stack, code, &answer, &stderr);

    // The request carried the resource and none of the credentials.
    let sent = std::fs::read_to_string(&log).expect("request log");
    assert!(sent.contains("pg-instance-main1"));
    for secret in [ACCESS_KEY_ID, SECRET_ACCESS_KEY, "not-a-real-password"] {
        assert!(!sent.contains(secret), "{secret} was sent to the planner");
    }
    assert_no_credentials_in(&stack.home());
}

#[test]
fn a_plan_that_does_not_verify_is_refused_and_nothing_runs() {
    let stack = Stack::new(None);
    let (proxy, log) = stack.planner_proxy();
    for (mode, expected) in [
        ("other-resource", "pg-instance-other"),
        ("other-operation", "delete-db-instance"),
        ("other-region", "eu-west-1"),
        ("extra-command", "extra"),
        ("shell-metachar", "metacharacter"),
        ("account", "999999999999"),
    ] {
        let server = format!("{}/tamper/{mode}", proxy.endpoint);
        let (code, answer, stderr) =
            stack.ask(&["Stop pg-instance-main1", "--yes", "--force", "--server", &server]);
        assert_eq!(code, 7, "{mode}: {stderr}");
        assert_eq!(answer["verdict"]["verdict"], "refused", "{mode}: {answer}");
        let reasons = answer["verdict"]["reasons"].to_string();
        assert!(reasons.contains(expected), "{mode}: {reasons}");
        assert!(stderr.contains("REFUSED"), "{mode}: {stderr}");
        let id = answer["execution_id"].as_str().expect("id");
        let kinds = event_kinds(&stack.events(id));
        assert_eq!(kinds, ["planned", "refused", "finished"], "{mode}");
    }
    assert_eq!(stack.db_status("pg-instance-main1"), "available");
    assert_eq!(stack.db_status("pg-instance-other"), "available");

    // Planning has no side effects: an overloaded server is asked again; a failing one is not.
    let modes = |log: &Path| -> Vec<String> {
        std::fs::read_to_string(log)
            .expect("log")
            .lines()
            .map(|line| serde_json::from_str::<Value>(line).expect("JSON")["mode"].to_string())
            .collect()
    };
    let server = format!("{}/tamper/flaky", proxy.endpoint);
    let (code, answer, stderr) =
        stack.ask(&["Stop pg-instance-main1", "--dry-run", "--server", &server]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(answer["verdict"]["verdict"], "verified");
    assert_eq!(modes(&log).iter().filter(|m| *m == "\"flaky\"").count(), 2);
    let server = format!("{}/tamper/broken", proxy.endpoint);
    let broken = stack.cloudops(&["ask", "Stop pg-instance-main1", "--yes", "--server", &server]);
    assert_eq!(broken.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&broken.stderr).contains("500"));
    assert_eq!(modes(&log).iter().filter(|m| *m == "\"broken\"").count(), 1);
    assert_eq!(stack.db_status("pg-instance-main1"), "available");
}

/// A planning server that answers anything with an executable plan (here: the plan to stop
/// the instance, whatever was asked) never gets the chance: questions are answered from the
/// estate, negations and hypotheticals are classified by the client and never sent, and
/// nothing runs.
#[test]
fn a_server_that_plans_questions_is_never_asked_them() {
    let stack = Stack::new(None);
    let (proxy, log) = stack.planner_proxy();
    let server = format!("{}/tamper/as-action", proxy.endpoint);
    for prompt in ["is pg-instance-main1 stopped?", "how many databases have no backups?"] {
        let output =
            stack.cloudops(&["ask", prompt, "--yes", "--force", "--json", "--server", &server]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{prompt}: {stderr}");
        let answer: Value = serde_json::from_slice(&output.stdout).expect("JSON");
        assert!(answer["answer"]["total"].is_u64(), "{prompt}: {answer:#}");
        assert!(answer.get("plan").is_none(), "a question never creates a plan: {answer:#}");
    }
    for prompt in [
        "don't stop pg-instance-main1",
        "what would happen if I stopped pg-instance-main1?",
        "thanks, that's all",
    ] {
        let output = stack.cloudops(&["ask", prompt, "--yes", "--force", "--server", &server]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(7), "{prompt}: {stderr}");
        assert!(stderr.contains("nothing was planned"), "{prompt}: {stderr}");
    }
    assert!(!log.exists(), "a non-action reached the server");
    assert_eq!(stack.db_status("pg-instance-main1"), "available");

    // The server does answer with an executable plan when asked: the test can fail.
    let (code, answer, stderr) =
        stack.ask(&["Stop pg-instance-main1", "--dry-run", "--server", &server]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(answer["plan"]["executable"], true, "{answer}");
    assert_eq!(std::fs::read_to_string(&log).expect("log").lines().count(), 1);
}

#[test]
fn a_failing_step_skips_the_rest_and_rolls_back() {
    // The first ModifyInstanceAttribute fails: after stop and wait, before start.
    let stack = Stack::new(Some(&["--fail-action", "ModifyInstanceAttribute:1"]));
    let (code, answer, stderr) = stack.ask(&["resize web-1 to t3.large", "--yes"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(answer["plan"]["playbook"]["id"], "aws_ec2_resize_instance", "{answer}");
    assert_eq!(answer["outcome"], "rolled_back", "{stderr}");
    let id = answer["execution_id"].as_str().expect("id");
    let commands: Vec<(String, String, i64)> = stack
        .events(id)
        .iter()
        .filter(|r| r["event"] == "command")
        .map(|r| {
            (
                r["phase"].as_str().unwrap_or_default().to_owned(),
                {
                    let argv = &r["argv"];
                    let at = if argv[2] == "wait" { 3 } else { 2 };
                    argv[at].as_str().unwrap_or_default().to_owned()
                },
                r["exit_code"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    let script: Vec<&(String, String, i64)> = commands.iter().filter(|c| c.0 == "script").collect();
    assert_eq!(script.len(), 3, "stop, wait, modify (failed); start skipped: {commands:?}");
    assert_eq!(script[2].1, "modify-instance-attribute");
    assert_ne!(script[2].2, 0);
    assert!(commands.iter().all(|c| c.0 != "verification"), "{commands:?}");
    let rollback: Vec<&str> =
        commands.iter().filter(|c| c.0 == "rollback").map(|c| c.1.as_str()).collect();
    assert_eq!(
        rollback,
        ["stop-instances", "instance-stopped", "modify-instance-attribute", "start-instances"],
        "{commands:?}"
    );
    assert!(commands.iter().filter(|c| c.0 == "rollback").all(|c| c.2 == 0));
    let instances = stack.aws(&["ec2", "describe-instances"]);
    let instance = &instances["Reservations"][0]["Instances"][0];
    assert_eq!(instance["InstanceType"], "t3.micro", "the type was restored");
    assert_eq!(instance["State"]["Name"], "running");
}

#[test]
fn on_a_terminal_the_operator_confirms_or_types_the_name() {
    let stack = Stack::new(None);

    // Medium risk (a production database): y/N. "n" runs nothing.
    let (code, transcript) = stack.ask_on_terminal(&["Stop pg-instance-main1"], &["[y/N]=>n"]);
    assert_eq!(code, 7, "{transcript}");
    assert!(transcript.contains("aws rds stop-db-instance"), "{transcript}");
    assert_eq!(stack.db_status("pg-instance-main1"), "available");
    let (code, transcript) = stack.ask_on_terminal(&["Stop pg-instance-main1"], &["[y/N]=>y"]);
    assert_eq!(code, 0, "{transcript}");
    assert_eq!(stack.db_status("pg-instance-main1"), "stopped");

    // Terminating an instance is destructive and high risk: the name must be typed, and
    // --yes alone is not enough.
    let state = |stack: &Stack| {
        let answer = stack.aws(&["ec2", "describe-instances"]);
        answer["Reservations"][0]["Instances"][0]["State"]["Name"]
            .as_str()
            .expect("state")
            .to_owned()
    };
    let (code, transcript) =
        stack.ask_on_terminal(&["terminate web-1"], &["Type the resource name=>web-2"]);
    assert_eq!(code, 7, "{transcript}");
    assert!(transcript.contains("does not match"), "{transcript}");
    assert_eq!(state(&stack), "running");
    let (code, _, stderr) = stack.ask(&["terminate web-1", "--yes"]);
    assert_eq!(code, 7, "{stderr}");
    assert!(stderr.contains("--force"), "{stderr}");
    assert_eq!(state(&stack), "running");
    let (code, transcript) =
        stack.ask_on_terminal(&["terminate web-1"], &["Type the resource name=>web-1"]);
    assert_eq!(code, 0, "{transcript}");
    assert_eq!(state(&stack), "terminated");

    let history = stack.history();
    let methods: Vec<String> = history["executions"]
        .as_array()
        .expect("executions")
        .iter()
        .filter_map(|e| e["approval"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(methods, ["confirmed", "typed_name"], "{history}");
}

#[test]
fn an_interrupted_execution_resumes_where_it_stopped() {
    let stack = Stack::new(None);
    // An AWS CLI that takes the whole client down (as a crash or a lost laptop would) when
    // it is asked to change the instance type: after stop and wait succeeded.
    let crashing = stack.work.path().join("crashing-aws");
    std::fs::write(
        &crashing,
        format!(
            "#!/bin/sh\ncase \"$*\" in *modify-instance-attribute*) kill -9 $PPID; exit 1;; esac\nexec {} \"$@\"\n",
            venv().join("bin/aws").display()
        ),
    )
    .expect("wrapper");
    std::fs::set_permissions(&crashing, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let config_path = stack.home().join("config.toml");
    let config = std::fs::read_to_string(&config_path).expect("config");
    let real_aws = venv().join("bin/aws").display().to_string();
    std::fs::write(&config_path, config.replace(&real_aws, &crashing.display().to_string()))
        .expect("config");
    let crashed = stack.cloudops(&["ask", "resize web-1 to t3.large", "--yes"]);
    assert!(!crashed.status.success());

    let history = stack.history();
    let execution = &history["executions"][0];
    assert!(execution["outcome"].is_null(), "no outcome yet: {execution}");
    let id = execution["id"].as_str().expect("id").to_owned();
    let done: Vec<String> = execution["records"]
        .as_array()
        .expect("records")
        .iter()
        .filter(|r| r["event"] == "command")
        .map(|r| r["step_id"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(done, ["1", "2"], "stop and wait ran before the crash");

    std::fs::write(&config_path, config).expect("config");
    let resumed = stack.cloudops(&["resume", &id, "--yes"]);
    let stderr = String::from_utf8_lossy(&resumed.stderr);
    assert!(resumed.status.success(), "{stderr}");
    let records = stack.events(&id);
    let after: Vec<(String, String)> = records
        .iter()
        .skip_while(|r| r["event"] != "approved" || r["seq"] == records[1]["seq"])
        .filter(|r| r["event"] == "command")
        .map(|r| {
            (
                r["phase"].as_str().unwrap_or_default().to_owned(),
                r["step_id"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let script: Vec<&str> =
        after.iter().filter(|(p, _)| p == "script").map(|(_, s)| s.as_str()).collect();
    assert_eq!(script, ["3", "4"], "only what had not run: {after:?}");
    assert_eq!(records.last().expect("records")["outcome"], "succeeded");
    let instances = stack.aws(&["ec2", "describe-instances"]);
    let instance = &instances["Reservations"][0]["Instances"][0];
    assert_eq!(instance["InstanceType"], "t3.large");
    assert_eq!(instance["State"]["Name"], "running");

    // An execution that ended cannot be resumed.
    let again = stack.cloudops(&["resume", &id, "--yes"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already ended"));
}

#[test]
fn the_planning_server_is_reached_over_tls_and_only_with_a_trusted_certificate() {
    let stack = Stack::new(None);
    let tls = stack.work.path().join("tls");
    std::fs::create_dir_all(&tls).expect("tls dir");
    let log = stack.work.path().join("requests.jsonl");
    let proxy = Helper::start(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli/planner_proxy.py"),
        &[
            "--upstream",
            planning_server(),
            "--log",
            log.to_str().expect("path"),
            "--tls-dir",
            tls.to_str().expect("path"),
        ],
    );
    let server = format!("{}/tamper/none", proxy.endpoint.replace("http://", "https://"));

    // The certificate is signed by a CA this machine does not trust: refused, nothing sent.
    let refused = stack.cloudops(&["ask", "Stop pg-instance-main1", "--yes", "--server", &server]);
    assert_eq!(refused.status.code(), Some(5));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.to_lowercase().contains("certificate"), "{stderr}");
    assert!(!log.exists(), "no request got through");

    // Trusting the private CA, the same server plans over TLS.
    let config_path = stack.home().join("config.toml");
    let mut config = std::fs::read_to_string(&config_path).expect("config");
    config.push_str(&format!("server_ca_file = \"{}\"\n", tls.join("ca.pem").display()));
    std::fs::write(&config_path, config).expect("config");
    let (code, answer, stderr) =
        stack.ask(&["Stop pg-instance-main1", "--yes", "--server", &server]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(answer["planner"], server.as_str());
    assert_eq!(stack.db_status("pg-instance-main1"), "stopped");
}

#[test]
fn ambiguous_or_unknown_mentions_are_never_guessed() {
    let home = crate::home_with_estate();
    let ambiguous =
        crate::cloudops(home.path(), &["ask", "reboot the checkout server in staging", "--yes"]);
    assert_eq!(ambiguous.status.code(), Some(4));
    let stderr = String::from_utf8_lossy(&ambiguous.stderr);
    assert!(
        stderr.contains("could mean several") && stderr.contains("refusing to guess"),
        "{stderr}"
    );
    let unknown = crate::cloudops(home.path(), &["ask", "Stop qqqqzzzz", "--yes"]);
    assert_eq!(unknown.status.code(), Some(3));
    // Nothing was planned, so nothing was sent anywhere or recorded.
    let audit = home.path().join("audit/audit.jsonl");
    assert!(std::fs::read_to_string(&audit).unwrap_or_default().is_empty());

    // On a terminal the operator picks; the plan covers exactly the picked resources.
    let output = Command::new(venv().join("bin/python"))
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli/pty_drive.py"))
        .args(["--answer", "Which?=>2,4", "--", env!("CARGO_BIN_EXE_cloudops")])
        .args(["ask", "reboot the checkout server in staging", "--dry-run"])
        .env("CLOUDOPS_HOME", home.path())
        .output()
        .expect("run pty_drive.py");
    let transcript = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{transcript}");
    assert!(transcript.contains("verified: every command"), "{transcript}");
    assert_eq!(transcript.matches("aws ec2 reboot-instances").count(), 2, "{transcript}");

    // A plural mention is the whole matching set, not ten candidates: every checkout
    // instance in staging (as the structured query counts them), the stopped ones left out
    // of the reboot with the reason, the running ones each planned.
    let counted = crate::cloudops(
        home.path(),
        &["query", "type:ec2_instance env:staging name:checkout", "--count", "--json"],
    );
    let counted: Value = serde_json::from_slice(&counted.stdout).expect("query JSON");
    let total = counted["total"].as_u64().expect("total") as usize;
    assert!(total > CANDIDATES_SHOWN, "the demo has a large checkout fleet in staging: {total}");
    let fleet = crate::cloudops(
        home.path(),
        &["ask", "reboot the checkout servers in staging", "--dry-run", "--json"],
    );
    let stderr = String::from_utf8_lossy(&fleet.stderr);
    assert_eq!(fleet.status.code(), Some(0), "{stderr}");
    let answer: Value = serde_json::from_slice(&fleet.stdout).expect("ask JSON");
    assert_eq!(answer["fleet"]["total"], total, "{stderr}");
    let members = answer["fleet"]["members"].as_array().expect("members");
    assert_eq!(members.len(), total);
    let stopped = members.iter().filter(|m| m["state"] != "running").count();
    assert!(stopped > 0 && stopped < total, "{stopped} of {total}");
    assert_eq!(answer["request"]["identified_resources"].as_array().expect("ids").len(), total);
    assert_eq!(answer["plan"]["skipped"].as_array().expect("skipped").len(), stopped);
    let steps = answer["plan"]["script"]["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), total - stopped, "one reboot per running instance");
    assert_eq!(answer["verdict"]["verdict"], "verified", "{stderr}");

    // On a terminal the operator narrows the fleet to one of its groups.
    let region = members
        .iter()
        .filter_map(|m| m["region"].as_str())
        .find(|r| members.iter().filter(|m| m["region"] == *r).count() < total)
        .expect("the fleet spans regions")
        .to_owned();
    let in_region = members.iter().filter(|m| m["region"] == region.as_str()).count();
    let running_in_region = members
        .iter()
        .filter(|m| m["region"] == region.as_str() && m["state"] == "running")
        .count();
    let output = Command::new(venv().join("bin/python"))
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli/pty_drive.py"))
        .args(["--answer", &format!("Plan for all=>region={region}"), "--"])
        .arg(env!("CARGO_BIN_EXE_cloudops"))
        .args(["ask", "reboot the checkout servers in staging", "--dry-run"])
        .env("CLOUDOPS_HOME", home.path())
        .output()
        .expect("run pty_drive.py");
    let transcript = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{transcript}");
    assert!(transcript.contains(&format!("{total} resources match")), "{transcript}");
    assert_eq!(
        transcript.matches("aws ec2 reboot-instances").count(),
        running_in_region,
        "{in_region} in {region}, {running_in_region} running: {transcript}"
    );
}

/// How many candidates an ambiguous mention lists.
const CANDIDATES_SHOWN: usize = cloudops_assist::CANDIDATES;

/// `ask` plans on the truth: the target is read again from AWS before planning, and what
/// changed behind the index's back is in the proposal and in the plan.
#[test]
fn ask_reads_the_target_again_before_planning() {
    let stack = Stack::new(None);
    // Fresh facts: nothing changed since the sync.
    let (code, answer, stderr) = stack.ask(&["Stop pg-instance-main1", "--dry-run"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(answer["freshness"]["source"], "live", "{answer}");
    assert_eq!(answer["freshness"]["changes"], serde_json::json!([]));
    assert!(stderr.contains("facts: read from AWS just before planning"), "{stderr}");

    // Stopped and retagged behind the index's back: the proposal says so, and the plan is
    // made on the stopped instance (nothing to stop).
    stack.aws(&["rds", "stop-db-instance", "--db-instance-identifier", "pg-instance-main1"]);
    let arn = stack.db_arn("pg-instance-main1");
    stack.aws(&[
        "rds",
        "add-tags-to-resource",
        "--resource-name",
        &arn,
        "--tags",
        "Key=owner,Value=ana",
    ]);
    let (code, answer, stderr) = stack.ask(&["Stop pg-instance-main1", "--yes"]);
    let changes = answer["freshness"]["changes"].to_string();
    assert!(changes.contains("pg-instance-main1: state available → stopped"), "{changes}");
    assert!(changes.contains("pg-instance-main1: tag owner added (ana)"), "{changes}");
    assert!(stderr.contains("changed since the last sync:"), "{stderr}");
    assert_eq!(answer["request"]["identified_resources"][0]["current_state"], "stopped");
    assert_eq!(code, 7, "a stopped instance is not stopped again: {stderr}");
    assert_eq!(answer["plan"]["executable"], false, "{answer}");
    // The index learned it too.
    let found = stack.cloudops(&["find", "pg-instance-main1", "--json"]);
    assert!(String::from_utf8_lossy(&found.stdout).contains("\"stopped\""));

    // Deleted behind the index's back: said, and nothing planned or run.
    stack.aws(&[
        "rds",
        "delete-db-instance",
        "--db-instance-identifier",
        "pg-instance-main1",
        "--skip-final-snapshot",
    ]);
    let (code, answer, stderr) = stack.ask(&["Start pg-instance-main1", "--yes"]);
    assert_eq!(code, 7, "{stderr}");
    assert_eq!(answer["freshness"]["gone"], serde_json::json!(["pg-instance-main1"]));
    assert!(stderr.contains("pg-instance-main1 no longer exists in AWS"), "{stderr}");
    assert_eq!(answer["plan"]["script"]["steps"], serde_json::json!([]));

    // A fleet with one member deleted behind the index's back: that one is left out, said,
    // and the rest is planned.
    stack.create_db("pg-instance-third", "db.t3.small", &[]);
    let synced = stack.cloudops(&["estate", "sync"]);
    assert!(synced.status.success(), "{}", String::from_utf8_lossy(&synced.stderr));
    stack.aws(&[
        "rds",
        "delete-db-instance",
        "--db-instance-identifier",
        "pg-instance-other",
        "--skip-final-snapshot",
    ]);
    let (code, answer, stderr) = stack.ask(&["reboot all the databases", "--dry-run"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(answer["fleet"]["total"], 2, "{stderr}");
    assert_eq!(answer["freshness"]["gone"], serde_json::json!(["pg-instance-other"]));
    assert!(stderr.contains("left out: pg-instance-other"), "{stderr}");
    let steps = answer["plan"]["script"]["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 1, "{steps:?}");
    assert!(steps[0].to_string().contains("pg-instance-third"), "{steps:?}");
    assert_eq!(answer["verdict"]["verdict"], "verified", "{stderr}");
}

/// Offline, the plan is made on the index and says so.
#[test]
fn offline_ask_plans_on_the_index_and_says_so() {
    let stack = Stack::new(None);
    let config = stack.home().join("config.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    let offline = text
        .replace(&stack.endpoint, "http://127.0.0.1:9")
        .replace("cloudtrail = false", "cloudtrail = false\nmax_attempts = 1");
    std::fs::write(&config, offline).expect("config");
    let (code, answer, stderr) = stack.ask(&["Stop pg-instance-main1", "--dry-run"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(answer["freshness"]["source"], "index", "{answer}");
    assert!(answer["freshness"]["note"].as_str().is_some_and(|note| !note.is_empty()));
    assert!(stderr.contains("facts: from the index, as of 20"), "{stderr}");
    assert_eq!(answer["verdict"]["verdict"], "verified", "{answer}");
}

/// An account reached through a role, as in an organization: a sync records on each resource
/// what the role's policies let it do of the playbooks' actions, and a stop it may not do is
/// refused before anyone is asked.
#[test]
fn a_roles_permissions_are_recorded_at_sync_and_enforced_before_approval() {
    let stack = Stack::new(None);
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;
    let role = stack.aws(&[
        "iam",
        "create-role",
        "--role-name",
        "db-operator",
        "--assume-role-policy-document",
        trust,
    ]);
    let role_arn = role["Role"]["Arn"].as_str().expect("role arn").to_owned();
    let main = stack.db_arn("pg-instance-main1");
    stack.aws(&[
        "iam",
        "put-role-policy",
        "--role-name",
        "db-operator",
        "--policy-name",
        "stop-main-only",
        "--policy-document",
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"rds:Describe*","Resource":"*"}},{{"Effect":"Allow","Action":"rds:StopDBInstance","Resource":"{main}"}}]}}"#
        ),
    ]);
    let config = std::fs::read_to_string(stack.home().join("config.toml")).expect("config");
    std::fs::write(
        stack.home().join("config.toml"),
        config.replace(
            "name = \"production\"\n",
            &format!("name = \"production\"\nrole_arn = \"{role_arn}\"\n"),
        ),
    )
    .expect("config");
    let synced = stack.cloudops(&["estate", "sync", "--full", "--service", "rds"]);
    assert!(synced.status.success(), "{}", String::from_utf8_lossy(&synced.stderr));
    let permissions = |name: &str| -> (Vec<String>, Vec<String>) {
        let resource = exported(&stack.cloudops(&["estate", "export"]), name);
        (strings(&resource["permissions"]), strings(&resource["permissions_denied"]))
    };
    let (allowed, denied) = permissions("pg-instance-main1");
    assert!(allowed.contains(&"rds:StopDBInstance".to_owned()), "{allowed:?}");
    assert!(denied.contains(&"rds:StartDBInstance".to_owned()), "{denied:?}");
    let (allowed, denied) = permissions("pg-instance-other");
    assert!(!allowed.contains(&"rds:StopDBInstance".to_owned()), "{allowed:?}");
    assert!(denied.contains(&"rds:StopDBInstance".to_owned()), "{denied:?}");

    let (code, answer, stderr) = stack.ask(&["Stop pg-instance-other", "--yes"]);
    assert_eq!(code, 7, "refused: {stderr}");
    let reasons = answer["verdict"]["reasons"].to_string();
    assert!(reasons.contains("rds:StopDBInstance") && reasons.contains("db-operator"), "{reasons}");
    assert_eq!(stack.db_status("pg-instance-other"), "available");
    let (code, _, stderr) = stack.ask(&["Stop pg-instance-main1", "--yes"]);
    assert_eq!(code, 0, "allowed: {stderr}");
    assert_eq!(stack.db_status("pg-instance-main1"), "stopped");
}

/// An operator whose IAM user may only read RDS: a stop is refused before anyone is asked,
/// naming the action; allowed by a policy, it runs and says which; an explicit Deny wins.
#[test]
fn what_the_credentials_may_not_do_is_refused_before_anyone_is_asked() {
    let stack = Stack::new(None);
    let user = "rds-reader";
    stack.aws(&["iam", "create-user", "--user-name", user]);
    let policy = |name: &str, document: &str| {
        stack.aws(&[
            "iam",
            "put-user-policy",
            "--user-name",
            user,
            "--policy-name",
            name,
            "--policy-document",
            document,
        ]);
    };
    policy(
        "read-rds",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"rds:Describe*","Resource":"*"}]}"#,
    );
    let key = stack.aws(&["iam", "create-access-key", "--user-name", user]);
    let id = key["AccessKey"]["AccessKeyId"].as_str().expect("key id").to_owned();
    let secret = key["AccessKey"]["SecretAccessKey"].as_str().expect("secret").to_owned();
    let ask_as_the_user = |prompt: &str| -> (i32, Value, String) {
        let output = stack
            .environment(&mut Command::new(env!("CARGO_BIN_EXE_cloudops")))
            .env("AWS_ACCESS_KEY_ID", &id)
            .env("AWS_SECRET_ACCESS_KEY", &secret)
            .args(["ask", prompt, "--yes", "--json"])
            .stdin(Stdio::null())
            .output()
            .expect("run cloudops");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let answer = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("no JSON ({e}); stderr:\n{stderr}"));
        (output.status.code().expect("exit code"), answer, stderr)
    };

    let (code, answer, stderr) = ask_as_the_user("Stop pg-instance-main1");
    assert_eq!(code, 7, "refused: {stderr}");
    assert_eq!(answer["verdict"]["verdict"], "refused", "{answer:#}");
    let reasons = answer["verdict"]["reasons"].to_string();
    assert!(reasons.contains("rds:StopDBInstance") && reasons.contains(user), "{reasons}");
    let checks = answer["permissions"].as_array().expect("permissions");
    let stop = checks.iter().find(|c| c["action"] == "rds:StopDBInstance").expect("stop check");
    assert_eq!(stop["access"]["decision"], "denied", "{checks:#?}");
    let describe =
        checks.iter().find(|c| c["action"] == "rds:DescribeDBInstances").expect("describe check");
    assert_eq!(describe["access"]["decision"], "allowed", "{checks:#?}");
    assert!(stderr.contains("DENIED"), "{stderr}");
    assert!(!stderr.contains("Run these commands?"), "nobody was asked: {stderr}");
    assert_eq!(stack.db_status("pg-instance-main1"), "available");

    let arn = stack.db_arn("pg-instance-main1");
    policy(
        "stop-main",
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"rds:StopDBInstance","Resource":"{arn}"}}]}}"#
        ),
    );
    let (code, answer, stderr) = ask_as_the_user("Stop pg-instance-main1");
    assert_eq!(code, 0, "allowed now: {stderr}");
    let checks = answer["permissions"].as_array().expect("permissions");
    assert!(checks.iter().all(|c| c["access"]["decision"] == "allowed"), "{checks:#?}");
    let stop = checks.iter().find(|c| c["action"] == "rds:StopDBInstance").expect("stop check");
    assert!(stop["access"]["by"].as_str().expect("by").contains("stop-main"), "{stop:#}");
    assert_eq!(stack.db_status("pg-instance-main1"), "stopped");

    // A sync as the user records, on each resource, what the library's operations need
    // that these credentials may and may not do (moto has no policy simulation: judged
    // from the user's own policies).
    let as_the_user = |args: &[&str]| -> Output {
        stack
            .environment(&mut Command::new(env!("CARGO_BIN_EXE_cloudops")))
            .env("AWS_ACCESS_KEY_ID", &id)
            .env("AWS_SECRET_ACCESS_KEY", &secret)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run cloudops")
    };
    let synced = as_the_user(&["estate", "sync", "--full", "--service", "rds"]);
    assert!(synced.status.success(), "{}", String::from_utf8_lossy(&synced.stderr));
    let main = exported(&as_the_user(&["estate", "export"]), "pg-instance-main1");
    let listed = |field: &str| strings(&main[field]);
    assert!(listed("permissions").contains(&"rds:StopDBInstance".to_owned()), "{main:#}");
    assert!(listed("permissions").contains(&"rds:DescribeDBInstances".to_owned()), "{main:#}");
    assert!(listed("permissions_denied").contains(&"rds:StartDBInstance".to_owned()), "{main:#}");
    assert!(!listed("permissions").contains(&"rds:StartDBInstance".to_owned()), "{main:#}");

    policy(
        "never-start",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"rds:*","Resource":"*"},{"Effect":"Deny","Action":"rds:StartDBInstance","Resource":"*"}]}"#,
    );
    let (code, answer, _) = ask_as_the_user("Start pg-instance-main1");
    assert_eq!(code, 7);
    let reasons = answer["verdict"]["reasons"].to_string();
    assert!(
        reasons.contains("never-start") && reasons.contains("denies rds:StartDBInstance"),
        "{reasons}"
    );
    assert_eq!(stack.db_status("pg-instance-main1"), "stopped");
}
