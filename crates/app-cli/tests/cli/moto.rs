//! AWS stand-ins for the CLI's end-to-end tests: a moto server, the AWS CLI from the same
//! virtual environment (`scripts/fetch-aws-tools.sh`), and the Python helpers that sit
//! between the client and moto or the planning server.

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The virtual environment with moto and the AWS CLI.
pub fn venv() -> PathBuf {
    match std::env::var_os("CLOUDOPS_VENV") {
        Some(path) => path.into(),
        None => PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/cloudops/venv"),
    }
}

/// The repository's root.
pub fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A moto server on a free port, killed on drop.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
}

impl Moto {
    pub fn start() -> Moto {
        let server = venv().join("bin/moto_server");
        assert!(server.exists(), "{} missing: run scripts/fetch-aws-tools.sh", server.display());
        let port =
            TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
        let child = Command::new(server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto");
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Moto { child, endpoint: format!("http://127.0.0.1:{port}") }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Python helper that prints `PORT <n>` once listening; killed on drop.
pub struct Helper {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
}

impl Helper {
    /// Starts `script` (a path) with `args`.
    pub fn start(script: &Path, args: &[&str]) -> Helper {
        let mut child = Command::new(venv().join("bin/python"))
            .arg(script)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start a helper");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("port line");
        let port = line.trim().strip_prefix("PORT ").expect("PORT line").to_owned();
        Helper { child, endpoint: format!("http://127.0.0.1:{port}") }
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
