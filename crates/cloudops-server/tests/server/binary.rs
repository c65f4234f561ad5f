//! The `cloudops-server` binary: graceful shutdown, a library from a Git repository, and
//! clear failures at startup.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use crate::support::{Binary, DESIGN_REQUEST, git, git_library};

fn get(address: std::net::SocketAddr, path: &str) -> serde_json::Value {
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    runtime.block_on(async {
        let reply = crate::support::request(address, "GET", path, &[], "").await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.text());
        reply.json()
    })
}

#[test]
fn sigterm_finishes_the_request_in_flight_then_exits_zero() {
    let mut server = Binary::start(&["--embedder", "hashing"], &[]);
    let mut stream = TcpStream::connect(server.address).expect("connects");
    stream.set_read_timeout(Some(Duration::from_secs(20))).expect("a read timeout");
    let head = format!(
        "POST /v1/plan HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        DESIGN_REQUEST.len()
    );
    let (first, rest) = DESIGN_REQUEST.as_bytes().split_at(40);
    stream.write_all(head.as_bytes()).expect("writes");
    stream.write_all(first).expect("writes");
    // Let the server read the head and start the request, then ask it to stop.
    std::thread::sleep(Duration::from_millis(300));
    server.signal("TERM");
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        server.child.try_wait().expect("pollable").is_none(),
        "exited with a request in flight"
    );
    assert!(TcpStream::connect(server.address).is_err(), "still accepting after SIGTERM");
    stream.write_all(rest).expect("writes the rest");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("the response, then the connection closes");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("aws rds stop-db-instance"), "{response}");
    let status = server.wait(Duration::from_secs(20));
    assert!(status.success(), "exit status {status}\n{}", server.stderr());
    assert!(server.stderr().contains("SIGTERM"), "{}", server.stderr());
}

#[test]
fn ctrl_c_exits_zero() {
    let mut server = Binary::start(&["--embedder", "hashing"], &[]);
    get(server.address, "/healthz");
    server.signal("INT");
    let status = server.wait(Duration::from_secs(20));
    assert!(status.success(), "exit status {status}\n{}", server.stderr());
}

#[test]
fn a_library_in_git_reports_its_commit_and_its_problems() {
    let (directory, playbooks, _) =
        git_library(&["aws_rds_stop_instance.yaml", "aws_ec2_stop_instances.yaml"]);
    // A broken file, committed too: reported, left out, the rest served.
    std::fs::write(playbooks.join("aws_broken.yaml"), "id: aws_broken\nversion: [1\n")
        .expect("writes");
    git(directory.path(), &["add", "."]);
    git(
        directory.path(),
        &["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "broken"],
    );
    let commit = git(directory.path(), &["rev-parse", "HEAD"]);
    let playbooks_arg = playbooks.to_string_lossy().into_owned();
    let server = Binary::start(&["--embedder", "hashing", "--playbooks", &playbooks_arg], &[]);

    let list = get(server.address, "/v1/playbooks");
    assert_eq!(list["library"]["kind"], "directory");
    assert_eq!(list["library"]["commit"], commit.as_str());
    assert_eq!(list["library"]["dirty"], false);
    assert_eq!(list["library"]["playbooks"], 2);
    assert_eq!(list["library"]["problems"], 1);
    assert!(!list.to_string().contains(&playbooks_arg), "the server's paths are not shown");
    let ids: Vec<&str> = list["playbooks"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|p| p["id"].as_str())
        .collect();
    assert_eq!(ids, ["aws_ec2_stop_instances", "aws_rds_stop_instance"]);

    let health = get(server.address, "/healthz");
    assert_eq!(health["commit"], commit.as_str());
    assert_eq!(health["playbooks"], 2);

    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let plan = runtime.block_on(async {
        let reply = crate::support::request(
            server.address,
            "POST",
            "/v1/plan",
            &[("content-type", "application/json")],
            DESIGN_REQUEST,
        )
        .await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply.json()
    });
    assert_eq!(plan["playbook"]["commit"], commit.as_str());

    let logs = server.stderr();
    assert!(
        logs.lines().any(|line| line.contains("WARN") && line.contains("aws_broken.yaml:2")),
        "the broken file is warned about with its line:\n{logs}"
    );
}

#[test]
fn no_valid_playbook_is_a_clear_startup_failure() {
    let directory = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(directory.path().join("aws_broken.yaml"), "id: [\n").expect("writes");
    let path = directory.path().to_string_lossy().into_owned();
    match Binary::try_start(&["--embedder", "hashing", "--playbooks", &path], &[]) {
        Ok(_) => panic!("the server started without a playbook"),
        Err((status, stderr)) => {
            assert!(!status.success());
            assert!(stderr.contains("no valid playbook"), "{stderr}");
            assert!(stderr.contains("aws_broken.yaml"), "{stderr}");
        }
    }
    let missing = directory.path().join("missing").to_string_lossy().into_owned();
    match Binary::try_start(&["--embedder", "hashing", "--playbooks", &missing], &[]) {
        Ok(_) => panic!("the server started without a playbook directory"),
        Err((status, stderr)) => {
            assert!(!status.success());
            assert!(stderr.contains("cannot read the playbook directory"), "{stderr}");
        }
    }
}

#[test]
fn an_unreachable_redis_is_a_clear_startup_failure() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port");
    let url = format!("redis://:hunter2@127.0.0.1:{port}");
    match Binary::try_start(&["--embedder", "hashing", "--metadata-url", &url], &[]) {
        Ok(_) => panic!("the server started without its Redis"),
        Err((status, stderr)) => {
            assert!(!status.success());
            assert!(stderr.contains("cannot connect to Redis"), "{stderr}");
            assert!(!stderr.contains("hunter2"), "the password is not shown: {stderr}");
        }
    }
}
