//! Shared by the tests: servers in process and as a child process, an HTTP client, a real
//! `redis-server`, and the design's example request.

use std::io::{BufRead as _, BufReader, Read as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cloudops_core::{Embedder, HashEmbedder};
use cloudops_playbooks::{Library, Planner};
use cloudops_server::{App, EmbeddedStore, MetadataStore, ServerConfig, serve};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// The design's example request (`seed-architecture.md`, PHASE 2), as written there except
/// for the literal `...` in `available_permissions`, which is not JSON.
pub const DESIGN_REQUEST: &str = include_str!("design_request.json");

/// A server running in this process.
pub struct TestServer {
    pub address: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    /// The built-in library, the hashing embedder, the embedded store.
    pub async fn start(config: ServerConfig) -> TestServer {
        Self::start_with(Arc::new(HashEmbedder), Arc::new(EmbeddedStore::new()), config).await
    }

    pub async fn start_with(
        embedder: Arc<dyn Embedder>,
        metadata: Arc<dyn MetadataStore>,
        config: ServerConfig,
    ) -> TestServer {
        let name = embedder.name().to_owned();
        let planner =
            tokio::task::spawn_blocking(move || Planner::new(Library::builtin(), embedder))
                .await
                .expect("indexing does not panic")
                .expect("the built-in library indexes");
        let app = App::new(planner, metadata, &name, config.clone()).await.expect("the app starts");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let address = listener.local_addr().expect("a bound address");
        let (shutdown, signal) = tokio::sync::oneshot::channel::<()>();
        let router = app.router();
        let task = tokio::spawn(async move {
            serve(listener, router, &config, async {
                let _ = signal.await;
            })
            .await
            .expect("the server runs");
        });
        TestServer { address, shutdown: Some(shutdown), task: Some(task) }
    }

    pub async fn get(&self, path: &str) -> Reply {
        request(self.address, "GET", path, &[], "").await
    }

    pub async fn plan(&self, body: &str) -> Reply {
        request(self.address, "POST", "/v1/plan", &[("content-type", "application/json")], body)
            .await
    }

    /// Stops accepting and waits for the server to finish.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("the server stops cleanly");
        }
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Asserts an error response: status, JSON content type, `code`, a non-empty message.
    pub fn assert_error(&self, status: u16, code: &str) -> String {
        assert_eq!(self.status, status, "body: {}", self.text());
        let content_type = self.headers.get("content-type").and_then(|v| v.to_str().ok());
        assert_eq!(content_type, Some("application/json"), "{self:?}");
        let body = self.json();
        assert_eq!(body["code"], code, "{body}");
        let message = body["message"].as_str().expect("a message").to_owned();
        assert!(!message.is_empty());
        assert_eq!(body.as_object().map(|o| o.len()), Some(2), "only code and message: {body}");
        message
    }
}

/// One request on a fresh connection.
pub async fn request(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: impl AsRef<[u8]>,
) -> Reply {
    let stream = tokio::net::TcpStream::connect(address).await.expect("the server accepts");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("an HTTP/1.1 handshake");
    tokio::spawn(connection);
    let mut builder =
        hyper::Request::builder().method(method).uri(path).header("host", "localhost");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let request =
        builder.body(Full::new(Bytes::copy_from_slice(body.as_ref()))).expect("a valid request");
    let response = sender.send_request(request).await.expect("a response");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("the whole body").to_bytes().to_vec();
    Reply { status: parts.status.as_u16(), headers: parts.headers, body }
}

/// Writes `bytes` as they are and reads until the server closes the connection.
pub async fn raw(address: SocketAddr, bytes: &[u8]) -> String {
    let mut stream = tokio::net::TcpStream::connect(address).await.expect("the server accepts");
    stream.write_all(bytes).await.expect("the request is sent");
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut response))
        .await
        .expect("the server closes the connection")
        .expect("the response is read");
    String::from_utf8_lossy(&response).into_owned()
}

/// The JSON body of a raw HTTP/1.1 response.
pub fn raw_body(response: &str) -> Value {
    let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {response}"))
}

/// The value of `name` with `labels` in Prometheus text, 0 when absent.
pub fn metric(text: &str, name: &str, labels: &str) -> f64 {
    let prefix =
        if labels.is_empty() { format!("{name} ") } else { format!("{name}{{{labels}}} ") };
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .map_or(0.0, |value| value.trim().parse().expect("a number"))
}

/// Whether the MiniLM model is installed; fails when the test run requires it.
#[cfg(feature = "model")]
pub fn model_dir() -> Option<PathBuf> {
    let directory = cloudops_embed::default_model_dir()?;
    if cloudops_embed::model_present(&directory) {
        return Some(directory);
    }
    assert!(
        std::env::var_os("CLOUDOPS_REQUIRE_MODEL").is_none(),
        "CLOUDOPS_REQUIRE_MODEL is set but the model is not in {}",
        directory.display()
    );
    None
}

/// A `redis-server` on a free port in a temporary directory, killed on drop.
pub struct Redis {
    pub port: u16,
    child: Child,
    _directory: tempfile::TempDir,
}

impl Redis {
    pub fn start() -> Redis {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let port = free_port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .current_dir(directory.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed (apt-get install redis-server)");
        let redis = Redis { port, child, _directory: directory };
        let deadline = Instant::now() + Duration::from_secs(10);
        while redis.connection().is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start on port {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn connection(&self) -> redis::RedisResult<redis::Connection> {
        let client = redis::Client::open(self.url())?;
        let mut connection = client.get_connection()?;
        redis::cmd("PING").query::<String>(&mut connection)?;
        Ok(connection)
    }

    /// Every key with its value(s), as text.
    pub fn dump(&self) -> Vec<(String, String)> {
        let mut connection = self.connection().expect("redis answers");
        let keys: Vec<String> = {
            let mut keys = Vec::new();
            let mut cursor = 0u64;
            loop {
                let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("COUNT")
                    .arg(1000)
                    .query(&mut connection)
                    .expect("SCAN works");
                keys.extend(batch);
                if next == 0 {
                    break;
                }
                cursor = next;
            }
            keys
        };
        keys.into_iter()
            .map(|key| {
                let kind: String =
                    redis::cmd("TYPE").arg(&key).query(&mut connection).expect("TYPE works");
                let value = match kind.as_str() {
                    "string" => redis::cmd("GET").arg(&key).query::<String>(&mut connection),
                    "hash" => redis::cmd("HGETALL")
                        .arg(&key)
                        .query::<Vec<String>>(&mut connection)
                        .map(|v| v.join(" ")),
                    "list" => redis::cmd("LRANGE")
                        .arg(&key)
                        .arg(0)
                        .arg(-1)
                        .query::<Vec<String>>(&mut connection)
                        .map(|v| v.join(" ")),
                    "set" => redis::cmd("SMEMBERS")
                        .arg(&key)
                        .query::<Vec<String>>(&mut connection)
                        .map(|v| v.join(" ")),
                    "zset" => redis::cmd("ZRANGE")
                        .arg(&key)
                        .arg(0)
                        .arg(-1)
                        .query::<Vec<String>>(&mut connection)
                        .map(|v| v.join(" ")),
                    other => panic!("unexpected Redis type {other} for {key}"),
                }
                .expect("the value reads");
                (key, value)
            })
            .collect()
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// The `cloudops-server` binary running as a child process; killed on drop.
pub struct Binary {
    pub address: SocketAddr,
    pub child: Child,
    stderr: Arc<Mutex<String>>,
}

impl Binary {
    /// Starts the binary with `args` (plus `--listen 127.0.0.1:0`) and waits for its address.
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Binary {
        Self::try_start(args, env).unwrap_or_else(|(status, stderr)| {
            panic!("cloudops-server exited ({status}) before listening:\n{stderr}")
        })
    }

    /// Like [`Self::start`], but returns the exit status and stderr when the server exits
    /// before listening.
    pub fn try_start(
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Result<Binary, (std::process::ExitStatus, String)> {
        let mut command = Command::new(env!("CARGO_BIN_EXE_cloudops-server"));
        command.args(["--listen", "127.0.0.1:0"]).args(args);
        command.env_remove("RUST_LOG");
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().expect("piped stderr");
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(read) = pipe.read(&mut buffer) {
                if read == 0 {
                    break;
                }
                let text = String::from_utf8_lossy(&buffer[..read]).into_owned();
                sink.lock().expect("stderr lock").push_str(&text);
            }
        });
        let stdout = child.stdout.take().expect("piped stdout");
        let (lines, receive) = std::sync::mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                match line {
                    Ok(line) => {
                        if lines.send(line).is_err() {
                            break;
                        }
                    }
                    Err(_) => break,
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(line) = receive.recv_timeout(Duration::from_millis(100)) {
                let address = line
                    .strip_prefix("listening on http://")
                    .and_then(|address| address.parse().ok())
                    .unwrap_or_else(|| panic!("unexpected first line on stdout: {line:?}"));
                return Ok(Binary { address, child, stderr });
            }
            if let Some(status) = child.try_wait().expect("the child can be polled") {
                // Let the stderr thread drain the pipe.
                std::thread::sleep(Duration::from_millis(200));
                let text = stderr.lock().expect("stderr lock").clone();
                return Err((status, text));
            }
            assert!(Instant::now() < deadline, "cloudops-server did not listen within 60 s");
        }
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().expect("stderr lock").clone()
    }

    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits for the process to exit, at most `limit`.
    pub fn wait(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("the child can be polled") {
                std::thread::sleep(Duration::from_millis(100));
                return status;
            }
            assert!(Instant::now() < deadline, "cloudops-server did not exit within {limit:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Git repository holding `files` (copied from the built-in library) in `playbooks/`,
/// committed; returns the directory, the playbooks directory and the commit id.
pub fn git_library(files: &[&str]) -> (tempfile::TempDir, PathBuf, String) {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let playbooks = directory.path().join("playbooks");
    std::fs::create_dir(&playbooks).expect("playbooks/ is created");
    for file in files {
        std::fs::copy(builtin_library().join(file), playbooks.join(file)).expect("the file copies");
    }
    git(directory.path(), &["init", "-q"]);
    git(directory.path(), &["add", "."]);
    git(
        directory.path(),
        &["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "playbooks"],
    );
    let commit = git(directory.path(), &["rev-parse", "HEAD"]);
    (directory, playbooks, commit)
}

pub fn git(directory: &Path, args: &[&str]) -> String {
    let output = Command::new("git").args(args).current_dir(directory).output().expect("git runs");
    assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

pub fn builtin_library() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../cloudops-playbooks/library")
}
