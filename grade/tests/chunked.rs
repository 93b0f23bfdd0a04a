//! The checks read a body the way its framing says: a server that sends its
//! files in chunks, with no `Content-Length`, gets them checked byte for byte
//! after decoding, and passes `content-length`, which takes correct chunks as
//! a correct framing; chunks whose sizes are wrong fail it, with the reason.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

use grade::{Grader, Stage, Verdict};

/// A server that answers `GET /path` with the file under `root`, in chunks of
/// 1000 bytes (the first with an extension, the last followed by a trailer),
/// and closes; anything else gets a 404. One thread a connection. With
/// `miscount`, each chunk's size line says one byte less than it sends.
fn serve_in_chunks(root: PathBuf, miscount: bool) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let root = root.clone();
            thread::spawn(move || answer(stream, &root, miscount));
        }
    });
    addr
}

fn answer(mut stream: TcpStream, root: &Path, miscount: bool) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut byte = [0; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 64 * 1024 {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let line = String::from_utf8_lossy(&head)
        .lines()
        .next()
        .unwrap_or("")
        .to_owned();
    let path = match line.split(' ').collect::<Vec<_>>()[..] {
        ["GET", path, _] if !path.contains("..") && !path.contains('%') && !path.contains('\\') => {
            path.trim_start_matches('/').to_owned()
        }
        _ => String::new(),
    };
    let Ok(body) = std::fs::read(root.join(&path))
        .map_err(drop)
        .and_then(|body| if path.is_empty() { Err(()) } else { Ok(body) })
    else {
        let _ = stream
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    };
    let mut out =
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_vec();
    for (n, chunk) in body.chunks(1000).enumerate() {
        let extension = if n == 0 { ";first" } else { "" };
        let size = chunk.len() - usize::from(miscount);
        out.extend(format!("{size:x}{extension}\r\n").as_bytes());
        out.extend(chunk);
        out.extend(b"\r\n");
    }
    out.extend(b"0\r\nX-Trailer: done\r\n\r\n");
    let _ = stream.write_all(&out);
}

/// Grades a chunked server at stage 1, on a site of its own.
fn grade_chunked(miscount: bool) -> grade::Report {
    let dir = std::env::temp_dir().join(format!("grade-chunked-{}-{miscount}", std::process::id()));
    let root = dir.join("site");
    std::fs::create_dir_all(&root).unwrap();
    let addr = serve_in_chunks(root.clone(), miscount);
    let report = Grader::running(addr, &root)
        .stage(Stage::SingleThreaded)
        .run()
        .expect("grading starts");
    let _ = std::fs::remove_dir_all(&dir);
    report
}

#[test]
fn chunked_files_are_decoded_before_they_are_compared() {
    let report = grade_chunked(false);
    for id in [
        "connects",
        "text-files",
        "binary-files",
        "content-length",
        "sub-folder",
        "no-traversal",
    ] {
        assert!(
            matches!(report.verdict(id), Some(Verdict::Pass)),
            "{id} should pass:\n{report}"
        );
    }
    let framing = report
        .results
        .iter()
        .find(|result| result.check.id == "content-length")
        .unwrap();
    assert_eq!(framing.notes, ["framing seen: chunked"], "\n{report}");
}

#[test]
fn chunks_of_the_wrong_size_fail_content_length() {
    let report = grade_chunked(true);
    let Some(Verdict::Fail(failure)) = report.verdict("content-length") else {
        panic!("content-length should fail:\n{report}");
    };
    assert!(
        failure.problem.contains("the chunked body is malformed"),
        "{}",
        failure.problem
    );
}
