//! Grades exercise 7 against the course's own server: `cargo test -p ex07-http-client`.
//!
//! Each test starts the course's most complete stage on a free port, serving a
//! fresh folder, and runs your client against it the way you would from a
//! terminal, then checks what it printed and how it exited.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::Arc;
use std::thread;

use multithreaded_server::shutdown::Shutdown;
use multithreaded_server::{Config, stages};

/// A folder to serve, with a text page and a binary file holding every byte value.
struct Site {
    root: PathBuf,
}

impl Site {
    fn new(name: &str) -> Site {
        let root = std::env::temp_dir().join(format!("ex07-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(
            root.join("index.html"),
            "<!doctype html><p>hello, client</p>\n",
        )
        .unwrap();
        let binary: Vec<u8> = (0..1024 * 1024).map(|i| (i * 31 % 256) as u8).collect();
        std::fs::write(root.join("data.bin"), binary).unwrap();
        std::fs::write(root.join("error.html"), "<p>not here</p>\n").unwrap();
        Site { root }
    }

    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.root.join(name)).unwrap()
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// The course's server on a free port, on a thread of this test (it ends with it).
fn serve(site: &Site) -> SocketAddr {
    let stage = stages::highest_compiled().expect("a stage is compiled in");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let config = Arc::new(Config::new(&site.root).unwrap());
    thread::spawn(move || stages::run(stage, listener, config, Shutdown::new()));
    address
}

fn client(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ex07-http-client"))
        .args(args)
        .output()
        .expect("the client runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The page comes to stdout byte for byte; the status line and headers to stderr.
#[test]
fn fetches_a_page() {
    let site = Site::new("page");
    let address = serve(&site);
    let output = client(&[&format!("http://{address}/index.html")]);
    assert!(
        output.status.success(),
        "exit status {:?}: {}",
        output.status,
        stderr(&output)
    );
    assert_eq!(
        output.stdout,
        site.read("index.html"),
        "the body, byte for byte"
    );
    assert!(
        stderr(&output).starts_with("HTTP/1.1 200 OK"),
        "{}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains("Content-Length: "),
        "{}",
        stderr(&output)
    );
}

/// A 1 MiB binary file arrives whole, in a file given with `-o`.
#[test]
fn saves_a_binary_file() {
    let site = Site::new("binary");
    let address = serve(&site);
    let saved = site.root.join("saved.bin");
    let output = client(&[
        &format!("http://{address}/data.bin"),
        "-o",
        saved.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let got = std::fs::read(&saved).unwrap_or_default();
    assert_eq!(got.len(), 1024 * 1024, "every byte, no more");
    assert!(got == site.read("data.bin"), "byte for byte");
}

/// `/` is a path too, and a URL without one means `/`.
#[test]
fn fetches_the_root_with_or_without_a_slash() {
    let site = Site::new("root");
    let address = serve(&site);
    for url in [format!("http://{address}/"), format!("http://{address}")] {
        let output = client(&[&url]);
        assert!(output.status.success(), "{url}: {}", stderr(&output));
        assert_eq!(output.stdout, site.read("index.html"), "{url}");
    }
}

/// A 404 is still a response: shown, and a success.
#[test]
fn a_404_is_a_response() {
    let site = Site::new("missing");
    let address = serve(&site);
    let output = client(&[&format!("http://{address}/no-such-page")]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).starts_with("HTTP/1.1 404 Not Found"),
        "{}",
        stderr(&output)
    );
    assert_eq!(output.stdout, site.read("error.html"));
}

/// No server, or a URL that is not http://, is an error with exit status 1.
#[test]
fn fails_clearly_without_a_server_or_with_a_bad_url() {
    let free = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", free.local_addr().unwrap());
    drop(free);
    let output = client(&[&url]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).starts_with("error: "),
        "{}",
        stderr(&output)
    );

    let output = client(&["ftp://127.0.0.1/"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
}

/// A server that promises 100 bytes and sends 10: an error that says so.
#[test]
fn a_body_cut_short_is_an_error() {
    let url = one_shot(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
    let output = client(&[&url]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("10 of 100"), "{}", stderr(&output));
}

/// Without Content-Length, the body is everything until the server closes.
#[test]
fn reads_to_the_close_without_a_length() {
    let url = one_shot(b"HTTP/1.0 200 OK\r\n\r\nall of this, then a close");
    let output = client(&[&url]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(output.stdout, b"all of this, then a close");
}

/// A server that answers one request with `response` and hangs up.
fn one_shot(response: &'static [u8]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let mut request = [0; 4096];
            let _ = stream.read(&mut request);
            let _ = stream.write_all(response);
        }
    });
    url
}
