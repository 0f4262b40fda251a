//! A real OCI registry on loopback for the tests: Debian's `docker-registry` (the CNCF
//! distribution server), started on a free port with its own storage, optionally behind
//! htpasswd auth; and a TCP proxy in front of it that cuts or corrupts what it relays.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running registry, stopped when dropped.
pub struct TestRegistry {
    child: Child,
    /// `127.0.0.1:<port>`.
    pub addr: String,
    dir: tempfile::TempDir,
}

/// The server binary: `$FLOWTRACE_TEST_REGISTRY`, else `docker-registry` (Debian), else
/// `registry` (upstream).
fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("FLOWTRACE_TEST_REGISTRY") {
        return PathBuf::from(path);
    }
    for name in ["docker-registry", "registry"] {
        for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
            let path = dir.join(name);
            if path.is_file() {
                return path;
            }
        }
    }
    panic!(
        "no OCI registry server for the registry tests: install Debian's `docker-registry` \
         (`apt-get install -y docker-registry`, as .ci/run does) or point \
         FLOWTRACE_TEST_REGISTRY at a CNCF distribution binary"
    );
}

impl TestRegistry {
    /// A registry with anonymous access.
    pub fn start() -> Self {
        Self::start_with(None)
    }

    /// A registry that wants HTTP basic auth with `user` and `password`.
    pub fn with_auth(user: &str, password: &str) -> Self {
        Self::start_with(Some((user, password)))
    }

    fn start_with(auth: Option<(&str, &str)>) -> Self {
        let mut last_error = String::new();
        for _ in 0..5 {
            let dir = tempfile::Builder::new()
                .prefix("flowtrace-registry-")
                .tempdir()
                .unwrap();
            let port = free_port();
            let addr = format!("127.0.0.1:{port}");
            let mut config = format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {addr}\n",
                dir.path().join("data").display()
            );
            if let Some((user, password)) = auth {
                let hash = bcrypt::hash(password, 4).unwrap();
                let htpasswd = dir.path().join("htpasswd");
                std::fs::write(&htpasswd, format!("{user}:{hash}\n")).unwrap();
                config.push_str(&format!(
                    "auth:\n  htpasswd:\n    realm: flowtrace-test\n    path: {}\n",
                    htpasswd.display()
                ));
            }
            let config_path = dir.path().join("config.yml");
            std::fs::write(&config_path, config).unwrap();
            let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
            let child = Command::new(binary())
                .arg("serve")
                .arg(&config_path)
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .expect("the registry server starts");
            let mut registry = TestRegistry { child, addr, dir };
            match registry.wait_ready() {
                Ok(()) => return registry,
                // Another process took the port first: again, on another.
                Err(e) => last_error = e,
            }
        }
        panic!("the registry did not start: {last_error}");
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if let Ok(Some(status)) = self.child.try_wait() {
                let log = std::fs::read_to_string(self.dir.path().join("registry.log"))
                    .unwrap_or_default();
                return Err(format!("exited with {status}: {log}"));
            }
            if let Ok(mut stream) = TcpStream::connect(&self.addr) {
                let _ = stream.write_all(b"GET /v2/ HTTP/1.0\r\n\r\n");
                let mut reply = String::new();
                let _ = stream.read_to_string(&mut reply);
                if reply.starts_with("HTTP/1.") {
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err("not answering after 20 s".into())
    }

    /// `oci://127.0.0.1:<port>/<path>`.
    pub fn url(&self, path: &str) -> String {
        format!("oci://{}/{path}", self.addr)
    }

    /// The raw manifest at `repo:tag`, through the registry API (for checks).
    pub fn raw_manifest(&self, repo_tag: &str) -> Option<Vec<u8>> {
        let (repo, tag) = repo_tag.rsplit_once(':').unwrap();
        let request = format!(
            "GET /v2/{repo}/manifests/{tag} HTTP/1.0\r\nAccept: application/vnd.oci.image.manifest.v1+json\r\n\r\n"
        );
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply).unwrap();
        let split = reply.windows(4).position(|w| w == b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&reply[..split]);
        let status = head.split_whitespace().nth(1);
        (status == Some("200")).then(|| reply[split + 4..].to_vec())
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// What the proxy does to the bytes coming back from the registry, counted per connection.
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// Close the connection after this many bytes.
    CutAfter(usize),
    /// Flip every bit of the byte at this offset.
    FlipAt(usize),
}

/// A TCP proxy to `upstream` that applies `fault` to every connection; runs until the test
/// process ends. Returns its `127.0.0.1:<port>`.
pub fn faulty_proxy(upstream: &str, fault: Fault) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let upstream = upstream.to_string();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { continue };
            let upstream = upstream.clone();
            std::thread::spawn(move || relay(client, &upstream, fault));
        }
    });
    addr
}

fn relay(mut client: TcpStream, upstream: &str, fault: Fault) {
    let Ok(mut server) = TcpStream::connect(upstream) else {
        return;
    };
    let (mut client_in, mut server_out) =
        (client.try_clone().unwrap(), server.try_clone().unwrap());
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut client_in, &mut server_out);
        let _ = server_out.shutdown(Shutdown::Write);
    });
    let mut seen = 0usize;
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match server.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let chunk = &mut buf[..n];
        match fault {
            Fault::CutAfter(limit) => {
                let keep = limit.saturating_sub(seen).min(n);
                let _ = client.write_all(&chunk[..keep]);
                if seen + n >= limit {
                    break;
                }
            }
            Fault::FlipAt(at) => {
                if (seen..seen + n).contains(&at) {
                    chunk[at - seen] ^= 0xff;
                }
                if client.write_all(chunk).is_err() {
                    break;
                }
            }
        }
        seen += n;
    }
    let _ = client.shutdown(Shutdown::Both);
    let _ = server.shutdown(Shutdown::Both);
}
