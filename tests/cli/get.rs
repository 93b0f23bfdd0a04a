//! `multithreaded-server get`: the course's own HTTP client, against the stages
//! and against servers that misbehave on purpose.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Output};
use std::thread;

use crate::support::*;

fn get(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_multithreaded-server"))
        .arg("get")
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A server on 127.0.0.1 that answers one connection with `response` and closes.
fn one_shot(response: &'static [u8]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/file", listener.local_addr().unwrap());
    thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let mut request = [0; 4096];
            let _ = stream.read(&mut request);
            let _ = stream.write_all(response);
        }
    });
    url
}

/// The body goes to stdout byte for byte, the status line and headers to stderr.
#[test]
fn fetches_text_and_binary_files_byte_exact() {
    let site = Site::new();
    let Some(stage) = multithreaded_server::stages::highest_compiled() else {
        return;
    };
    let server = Server::start(stage.name(), &site.root, &[]);
    for path in ["index.html", "data.bin", "image.png"] {
        let output = get(&[&format!("http://{}/{path}", server.addr)]);
        assert!(output.status.success(), "{}", stderr(&output));
        assert!(output.stdout == site.read(path), "{path} byte-exact");
        assert!(
            stderr(&output).starts_with("HTTP/1.1 200 OK\n"),
            "{}",
            stderr(&output)
        );
        assert!(stderr(&output).contains("Content-Length: "));
    }
}

/// `-o FILE` saves the body; `--head` asks for headers only and gets no body.
#[test]
fn saves_to_a_file_and_sends_head() {
    let site = Site::new();
    let Some(stage) = multithreaded_server::stages::highest_compiled() else {
        return;
    };
    let server = Server::start(stage.name(), &site.root, &[]);
    let saved = site.dir.join("saved.bin");
    let url = format!("http://{}/data.bin", server.addr);
    let output = get(&[&url, "-o", saved.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(output.stdout.is_empty());
    assert!(std::fs::read(&saved).unwrap() == site.read("data.bin"));

    let output = get(&["--head", "-v", &url]);
    assert!(output.status.success());
    assert!(output.stdout.is_empty(), "HEAD has no body");
    assert!(stderr(&output).contains("> HEAD /data.bin HTTP/1.1"));
    let length = format!("< Content-Length: {}", site.read("data.bin").len());
    assert!(stderr(&output).contains(&length), "{}", stderr(&output));
}

/// A 404 is a response like any other (exit 0, as curl does), with its page.
#[test]
fn an_error_status_is_still_a_response() {
    let site = Site::new();
    let Some(stage) = multithreaded_server::stages::highest_compiled() else {
        return;
    };
    if stage < multithreaded_server::Stage::NotFound {
        return;
    }
    let server = Server::start(stage.name(), &site.root, &[]);
    let output = get(&[&format!("http://{}/missing", server.addr)]);
    assert!(output.status.success());
    assert!(stderr(&output).starts_with("HTTP/1.1 404 Not Found"));
    assert_eq!(output.stdout, site.read("error.html"));
}

/// A refused connection, a bad URL, a silent server and a body cut short each
/// end in one clear line and a non-zero exit.
#[test]
fn failures_are_clear_and_fail_the_command() {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let output = get(&[&format!("http://127.0.0.1:{port}/")]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("cannot connect to 127.0.0.1"),
        "{}",
        stderr(&output)
    );

    let output = get(&["ftp://127.0.0.1/"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("it must start with http://"));

    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", silent.local_addr().unwrap());
    let output = get(&["--timeout", "300ms", &url]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("timed out"), "{}", stderr(&output));
    drop(silent);

    let url = one_shot(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten..");
    let output = get(&[&url]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("cut short: 10 of 100 bytes"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        output.stdout, b"only ten..",
        "what did arrive is still written"
    );

    let url = one_shot(b"SSH-2.0-OpenSSH_9.2\r\n\r\n");
    let output = get(&[&url]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("not an HTTP response"));
}

/// Without `Content-Length`, the body is everything until the server closes.
#[test]
fn reads_to_the_close_without_a_length() {
    let url = one_shot(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nno length, just close");
    let output = get(&[&url]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(output.stdout, b"no length, just close");
}

/// A chunked body is decoded, its chunk extensions and trailers skipped;
/// chunks that break their framing end in one clear line and exit 1, after
/// what did arrive.
#[test]
fn decodes_chunked_bodies_and_refuses_broken_chunks() {
    let url = one_shot(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
          5;name=value\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n",
    );
    let output = get(&[&url]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(output.stdout, b"hello, world");

    let url = one_shot(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\nmore\r\n0\r\n\r\n",
    );
    let output = get(&[&url]);
    assert_eq!(output.status.code(), Some(1));
    let last = stderr(&output)
        .lines()
        .last()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        last,
        "error: the chunked body is malformed: chunk size line `zz` does not start with a size in hex"
    );
    assert_eq!(output.stdout, b"hello", "what did arrive is still written");
}
