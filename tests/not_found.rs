//! Stage 3, `not-found`: every error gets an answer with the right status.

#![cfg(feature = "not-found")]

mod support;

use std::fs;

use support::*;

const STAGE: &str = "not-found";

/// Text and binary files come back byte-exact, with the right type and length.
#[test]
fn serves_files_byte_exact_with_their_headers() {
    let site = Site::new();
    let server = Server::start(STAGE, &site.root, &[]);
    assert_serves_site(server.addr, &site);
}

/// Fifty clients at once all get the whole file, byte-exact: answering errors
/// costs the clients that have none nothing.
#[test]
fn fifty_concurrent_clients_are_all_served() {
    let site = Site::new();
    let server = Server::start(STAGE, &site.root, &[]);
    assert_concurrent_clients(server.addr, &site, 50);
}

/// A missing file gets `404 Not Found` with the root's `error.html`, byte-exact.
#[test]
fn a_missing_file_gets_the_sites_404_page() {
    let site = Site::new();
    let server = Server::start(STAGE, &site.root, &[]);
    let reply = get(server.addr, "/no/such/page.html");
    assert_eq!(reply.status_line, "HTTP/1.1 404 Not Found");
    assert_eq!(
        reply.header("Content-Type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(reply.body, site.read("error.html"));
    assert_eq!(
        reply.header("Content-Length"),
        Some(reply.body.len().to_string().as_str())
    );
}

/// Without an `error.html` the server still answers 404, with a page of its own.
#[test]
fn without_error_html_a_built_in_page_is_used() {
    let site = Site::new();
    fs::remove_file(site.root.join("error.html")).unwrap();
    let server = Server::start(STAGE, &site.root, &[]);
    let reply = get(server.addr, "/missing");
    assert_eq!(reply.status, 404);
    assert!(
        reply.text().contains("<h1>404 Not Found</h1>"),
        "{}",
        reply.text()
    );
}

/// Malformed requests get `400 Bad Request`, and the server goes on.
#[test]
fn a_malformed_request_gets_400() {
    let site = Site::new();
    let server = Server::start(STAGE, &site.root, &[]);
    for request in [
        &b"this is not http\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: test\r\nNo colon here\r\n\r\n",
        b"GET /%zz HTTP/1.1\r\nHost: test\r\n\r\n",
    ] {
        let reply = parse_reply(&send_raw(server.addr, request)).expect("a response");
        assert_eq!(reply.status_line, "HTTP/1.1 400 Bad Request");
    }
    assert_eq!(get(server.addr, "/").status, 200);
}

/// Only GET and HEAD: anything else is `405` and says what is allowed.
#[test]
fn other_methods_get_405_with_allow() {
    let site = Site::new();
    let server = Server::start(STAGE, &site.root, &[]);
    for method in ["POST", "PUT", "DELETE", "BREW"] {
        let reply = request(server.addr, method, "/index.html", &["Content-Length: 0"]);
        assert_eq!(reply.status_line, "HTTP/1.1 405 Method Not Allowed");
        assert_eq!(reply.header("Allow"), Some("GET, HEAD"));
    }
}

/// HEAD gets exactly GET's headers, and no body.
#[test]
fn head_sends_the_headers_of_get_without_the_body() {
    let site = Site::new();
    let server = Server::start(STAGE, &site.root, &[]);
    let get_reply = get(server.addr, "/data.bin");
    let head_reply = request(server.addr, "HEAD", "/data.bin", &[]);
    assert!(head_reply.body.is_empty());
    let without_date = |reply: &Reply| {
        let mut headers = reply.headers.clone();
        headers.retain(|(name, _)| name != "Date");
        headers
    };
    assert_eq!(without_date(&head_reply), without_date(&get_reply));
}

/// A client that has not sent its whole request within the read timeout gets
/// `408 Request Timeout`, even one that keeps sending a byte at a time: the
/// timeout is a deadline for the whole head, not for each read.
#[test]
fn a_slow_request_gets_408() {
    use std::io::Write;
    let site = Site::new();
    let server = Server::start(STAGE, &site.root, &["--read-timeout", "1s"]);
    let mut stream = connect(server.addr);
    let mut writer = stream.try_clone().unwrap();
    // A byte every 100 ms, forever, until the server hangs up on us.
    let dribbler = std::thread::spawn(move || {
        for byte in b"GET /index.html HTTP/1.1\r\nHost: test\r\nX-Slow: "
            .iter()
            .cycle()
        {
            if writer.write_all(&[*byte]).is_err() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    });
    let bytes = wait_for_close(&mut stream).expect("the server closed the connection");
    let reply = parse_reply(&bytes).expect("a response");
    assert_eq!(reply.status_line, "HTTP/1.1 408 Request Timeout");
    drop(stream);
    dribbler.join().unwrap();
}

/// A folder without its slash is redirected, so its relative links work.
#[test]
fn a_folder_without_its_slash_is_redirected() {
    let site = Site::new();
    let server = Server::start(STAGE, &site.root, &[]);
    let reply = get(server.addr, "/sub?x=1");
    assert_eq!(reply.status_line, "HTTP/1.1 301 Moved Permanently");
    assert_eq!(reply.header("Location"), Some("/sub/"));
    assert_eq!(
        get(server.addr, "/empty-folder/").status,
        404,
        "no listings"
    );
}

/// Ctrl-C in this stage kills the process at once: a download under way is cut
/// short. (The next stage fixes this; its test shows the other side.)
#[test]
fn ctrl_c_cuts_a_download_short() {
    let site = Site::new();
    site.add_big_file("big.bin", 32 * 1024 * 1024);
    let mut server = Server::start(STAGE, &site.root, &[]);
    let (promised, body) = download_across_signal(&server, "/big.bin", "INT");
    assert!(
        body.len() < promised,
        "got all {promised} bytes despite Ctrl-C"
    );
    let status = server.wait_exit(PATIENCE).expect("the process ended");
    assert!(!status.success(), "killed by the signal, not a clean exit");
}

/// Nothing outside the root can be read, and the answer is 400 or 404.
#[test]
fn no_path_leaves_the_root() {
    let site = Site::new();
    let server = Server::start(STAGE, &site.root, &[]);
    assert_no_traversal(server.addr, &site);
    for target in ["/leak.txt", "/up/secret.txt"] {
        assert_eq!(get(server.addr, target).status, 404, "{target}");
    }
    assert_eq!(get(server.addr, "/../secret.txt").status, 400);
}
