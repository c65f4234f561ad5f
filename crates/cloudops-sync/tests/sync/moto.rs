//! A moto server (the AWS stand-in) started per test, and SDK configuration that reaches it.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_credential_types::Credentials;
use cloudops_sync::ConnectConfig;

/// Where `moto_server` is: `CLOUDOPS_MOTO_SERVER`, else the project's venv.
fn moto_server_path() -> PathBuf {
    if let Some(path) = std::env::var_os("CLOUDOPS_MOTO_SERVER") {
        return path.into();
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| "/root".into());
    home.join(".cache/cloudops/venv/bin/moto_server")
}

/// The Python of the venv moto lives in (it runs the test proxies too).
pub fn venv_python() -> PathBuf {
    let server = moto_server_path();
    server.parent().map(|bin| bin.join("python")).unwrap_or_else(|| "python3".into())
}

/// A running moto server; stopped when dropped.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
}

impl Moto {
    /// Starts moto on a free port and waits until it accepts connections.
    pub fn start() -> Moto {
        let path = moto_server_path();
        assert!(
            path.exists(),
            "{} not found: python3 -m venv ~/.cache/cloudops/venv && ~/.cache/cloudops/venv/bin/pip install 'moto[server]' awscli (or set CLOUDOPS_MOTO_SERVER)",
            path.display()
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(&path)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let moto = Moto { child, endpoint: format!("http://127.0.0.1:{port}") };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto did not listen on {port} within 30 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    /// Connection settings that send every call to this moto, with short timeouts.
    pub fn connect_config(&self) -> ConnectConfig {
        ConnectConfig {
            endpoint_url: Some(self.endpoint.clone()),
            max_attempts: 2,
            operation_timeout: Duration::from_secs(30),
            attempt_timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(2),
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Dummy static credentials; moto puts them in its default account 123456789012.
pub fn credentials() -> Credentials {
    Credentials::new("testing", "testing", None, None, "cloudops-tests")
}

/// moto's default account.
pub const ACCOUNT: &str = "123456789012";

/// An AMI moto ships (a Windows image in its default list).
pub const AMI: &str = "ami-12c6146b";

/// The smallest valid zip file (an empty archive), enough for moto's CreateFunction.
pub const EMPTY_ZIP: &[u8] = b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
