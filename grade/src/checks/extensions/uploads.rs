//! The uploads extension: `PUT /uploads/NAME` writes a file into the folder
//! the command's `{uploads}` names, and nowhere else, whole or not at all.
//!
//! - `upload-creates`: a new name gets `201 Created` and the file holds the
//!   body byte for byte; the same name again gets `200` or `204` and the new
//!   body (RFC 9110 §9.3.4 says which codes, and says MUST). A server that
//!   takes uploads by `POST` instead (as CodeCrafters' course asks) and says
//!   so with `405` and `Allow: POST` is sent `POST`.
//! - `upload-whole`: a body cut short by the client leaves nothing in the
//!   folder: a server that writes the bytes as they come leaves half a file,
//!   which a reader would take for the whole.
//! - `upload-no-escape`: a name that climbs out of the folder (`..`, encoded,
//!   with backslashes, or an absolute path, which `Path::join` takes as a new
//!   root) writes nothing outside it.
//!
//! The grader looks for the files on disk, so these checks need a server it
//! started itself, with `{uploads}` in the command.

use std::fs;
use std::io::Write;
use std::net::Shutdown;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::request;
use crate::check::{Failure, Mode, Need};
use crate::checks::Check;
use crate::checks::common::{ANSWER_WITHIN, no_response};
use crate::checks::stage1_single_threaded::no_traversal::CLIMBS;
use crate::client::{self, End, Exchange};
use crate::fixture;
use crate::probe::Probe;
use crate::random::Rng;
use course::Stage;

pub static CREATES: Check = Check {
    id: "upload-creates",
    stage: Stage::SingleThreaded,
    title: "PUT /uploads/NAME writes the body byte for byte: 201 for a new file, 200 or 204 for a replaced one",
    limit: Duration::from_secs(20),
    mode: Mode::Shared,
    needs: &[Need::Uploads],
    hint: "Read the body by its Content-Length (it may come in many reads), write exactly those bytes to the uploads folder under NAME, and answer 201 Created for a new file, 204 No Content when it replaced one.",
    run: run_creates,
};

pub static WHOLE: Check = Check {
    id: "upload-whole",
    stage: Stage::SingleThreaded,
    title: "an upload cut short leaves nothing in the folder",
    limit: Duration::from_secs(20),
    mode: Mode::Shared,
    needs: &[Need::Uploads],
    hint: "Write the body to a temporary name in the same folder and rename it over NAME only once every byte has come; if the connection ends first, remove the temporary file.",
    run: run_whole,
};

pub static NO_ESCAPE: Check = Check {
    id: "upload-no-escape",
    stage: Stage::SingleThreaded,
    title: "no upload writes outside the uploads folder (.., encoded .., absolute paths)",
    limit: Duration::from_secs(60),
    mode: Mode::Shared,
    needs: &[Need::Uploads],
    hint: "Decode the name, refuse any `..` segment, any `/` or `\\` inside a name and any absolute path, exactly as when reading files; or resolve the path and check it is still under the uploads folder.",
    run: run_no_escape,
};

/// The method the server takes uploads by: `PUT`, or `POST` if it answers
/// `PUT` with `405` and an `Allow` that lists `POST`.
fn method_for(reply: &client::Exchange) -> Option<&'static str> {
    let reply = reply.reply()?;
    let allows_post = reply
        .header("Allow")
        .is_some_and(|allow| allow.split(',').any(|m| m.trim() == "POST"));
    (reply.status() == 405 && allows_post).then_some("POST")
}

/// Uploads `body` as `name` and returns the exchange, with the method used.
fn upload(probe: &Probe, method: &str, name: &str, body: &[u8]) -> Exchange {
    let target = format!("/uploads/{name}");
    let headers = [("Content-Type", "application/octet-stream")];
    probe.send(&request(probe, method, &target, &headers, Some(body)))
}

/// A body worth uploading: binary, with every byte value and CR LF pairs
/// that a server reading text would change, bigger than one read.
fn body(len: usize) -> Vec<u8> {
    let mut bytes = Rng::new().bytes(len);
    bytes.extend_from_slice(b"\r\n\r\nthe end\r\n");
    bytes
}

/// Uploads a new file and checks it, as `upload-creates` does; the other
/// checks first make sure uploads work at all, or they would pass on a
/// server that writes nothing anywhere. Returns the method that worked.
fn first_upload(probe: &Probe, name: &str) -> Result<&'static str, Failure> {
    let folder = fixture::uploads_folder(&probe.site.root);
    let bytes = body(100 * 1024);
    let mut method = "PUT";
    let mut exchange = upload(probe, method, name, &bytes);
    if let Some(other) = method_for(&exchange) {
        method = other;
        probe
            .note("the server answered PUT with 405 and Allow: POST, so uploads were sent by POST");
        exchange = upload(probe, method, name, &bytes);
    }
    let what = format!("{method} /uploads/{name} with {} bytes", bytes.len());
    let Some(reply) = exchange.reply() else {
        return Err(no_response(probe, &what, &exchange));
    };
    let created = if method == "PUT" {
        reply.status() == 201
    } else {
        (200..300).contains(&reply.status())
    };
    if !created {
        return Err(Failure::of(
            format!(
                "{what} (a new name) got {} instead of {}",
                reply.status(),
                if method == "PUT" {
                    "201 Created"
                } else {
                    "a 2xx"
                }
            ),
            &exchange,
        ));
    }
    let path = folder.join(name);
    expect_file(&path, &bytes, &what, &exchange)?;
    Ok(method)
}

/// Fails unless the file at `path` holds exactly `bytes`.
fn expect_file(path: &Path, bytes: &[u8], what: &str, exchange: &Exchange) -> Result<(), Failure> {
    match fs::read(path) {
        Ok(on_disk) if on_disk == bytes => Ok(()),
        Ok(on_disk) => Err(Failure::of(
            format!(
                "{what} was answered, but {} does not hold the body: {}",
                path.display(),
                client::first_difference(bytes, &on_disk)
            ),
            exchange,
        )),
        Err(error) => Err(Failure::of(
            format!(
                "{what} was answered, but {} cannot be read: {error}",
                path.display()
            ),
            exchange,
        )),
    }
}

fn run_creates(probe: &Probe) -> Result<(), Failure> {
    let name = format!("grade-{}.bin", probe.site.token);
    let method = first_upload(probe, &name)?;
    let again = body(3 * 1024);
    let what = format!(
        "{method} /uploads/{name} again, with {} other bytes",
        again.len()
    );
    let exchange = upload(probe, method, &name, &again);
    let Some(reply) = exchange.reply() else {
        return Err(no_response(probe, &what, &exchange));
    };
    let replaced = if method == "PUT" {
        matches!(reply.status(), 200 | 204)
    } else {
        (200..300).contains(&reply.status())
    };
    if !replaced {
        return Err(Failure::of(
            format!(
                "{what} got {} instead of {}",
                reply.status(),
                if method == "PUT" {
                    "200 or 204 (the file was replaced)"
                } else {
                    "a 2xx"
                }
            ),
            &exchange,
        ));
    }
    let folder = fixture::uploads_folder(&probe.site.root);
    expect_file(&folder.join(&name), &again, &what, &exchange)
}

/// The files in `folder`, temporary ones too, that hold a part of `sent`
/// from its start: what a server that writes as the bytes come leaves.
fn holding(folder: &Path, sent: &[u8]) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(folder) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            fs::read(path).is_ok_and(|bytes| !bytes.is_empty() && sent.starts_with(&bytes))
        })
        .collect()
}

fn run_whole(probe: &Probe) -> Result<(), Failure> {
    let folder = fixture::uploads_folder(&probe.site.root);
    let method = first_upload(probe, &format!("grade-{}-first.bin", probe.site.token))
        .map_err(|failure| failure.unless("uploads that work", &["upload-creates"]))?;
    let name = format!("grade-{}-cut.bin", probe.site.token);
    let bytes = body(200 * 1024);
    let half = bytes.len() / 2;
    let target = format!("/uploads/{name}");
    let head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        probe.addr(),
        bytes.len()
    );
    let what = format!(
        "{method} {target} with Content-Length: {}, of which the client sent {half} bytes and then hung up",
        bytes.len()
    );
    probe.step(format!("sending {method} {target}, cut off half-way"));
    let mut stream = probe.connect()?;
    let sent = stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(&bytes[..half]));
    if let Err(error) = sent {
        return Err(Failure::new(format!("{what}: sending failed: {error}")).sent(head));
    }
    // Half a close: the server reads the end of the body it was promised,
    // and its answer (or its close) says it is done with the upload.
    let _ = stream.shutdown(Shutdown::Write);
    let (received, end) = client::read_to_close(&mut stream, probe.within(ANSWER_WITHIN));
    if end == End::TimedOut {
        probe.note("the server neither answered nor closed the cut upload within 5 s; the folder was looked at then");
    }
    let left = holding(&folder, &bytes[..half]);
    if !left.is_empty() {
        let names: Vec<String> = left.iter().map(|path| path.display().to_string()).collect();
        for path in &left {
            let _ = fs::remove_file(path);
        }
        return Err(Failure::new(format!(
            "{what}: the folder now holds part of it: {}",
            names.join(", ")
        ))
        .sent(client::escape(head.as_bytes(), 400))
        .received(client::describe_bytes(&received)));
    }
    Ok(())
}

/// The files called `name` in `folder` and every folder under it, but not
/// in `except`.
fn find_named(folder: &Path, name: &str, except: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(folder) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path == except {
            continue;
        }
        if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
            find_named(&path, name, except, found);
        } else if entry.file_name().to_string_lossy().contains(name) {
            found.push(path);
        }
    }
}

fn run_no_escape(probe: &Probe) -> Result<(), Failure> {
    let folder = fixture::uploads_folder(&probe.site.root);
    let method = first_upload(probe, &format!("grade-{}-inside.bin", probe.site.token))
        .map_err(|failure| failure.unless("uploads that work", &["upload-creates"]))?;
    let name = format!("grade-escape-{}.txt", probe.site.token);
    let beside = folder.parent().unwrap_or(&folder).to_path_buf();
    let absolute = beside.join(&name).to_string_lossy().into_owned();
    let mut targets: Vec<String> = CLIMBS
        .iter()
        .filter(|climb| climb.starts_with('/'))
        .map(|climb| format!("/uploads{climb}{name}"))
        .collect();
    for tail in [".", "%20", "::$DATA"] {
        targets.push(format!("/uploads/..%5c{name}{tail}"));
    }
    targets.push(format!("/uploads/{absolute}"));
    targets.push(format!(
        "/uploads/{}",
        absolute.replace('/', "%2F").replace('\\', "%5C")
    ));
    let mut unanswered = Vec::new();
    for target in &targets {
        let text = format!("escaped {}\n", probe.site.token);
        let exchange = probe.send_within(
            &request(probe, method, target, &[], Some(text.as_bytes())),
            ANSWER_WITHIN,
        );
        // Outside the folder: anywhere under the run's own folder (the
        // site is there), and each folder above it.
        let mut found = Vec::new();
        find_named(&beside, &name, &folder, &mut found);
        for above in beside.ancestors().skip(1) {
            if let Ok(entries) = fs::read_dir(above) {
                found.extend(
                    entries
                        .filter_map(Result::ok)
                        .filter(|entry| entry.file_name().to_string_lossy().contains(&name))
                        .map(|entry| entry.path()),
                );
            }
        }
        if !found.is_empty() {
            for path in &found {
                let _ = fs::remove_file(path);
            }
            return Err(Failure::of(
                format!(
                    "{method} {target} wrote {}, outside the uploads folder {}",
                    found[0].display(),
                    folder.display()
                ),
                &exchange,
            ));
        }
        let closed = matches!(exchange.end, End::Closed | End::Reset);
        if exchange.reply().is_none() && !closed && exchange.received.is_empty() {
            unanswered.push(format!("{method} {target}"));
        }
    }
    if !unanswered.is_empty() {
        return Err(Failure::new(format!(
            "{} of {} uploads that climb out of the folder got no answer, so what the server did with them is unknown: {}",
            unanswered.len(),
            targets.len(),
            unanswered.join(", ")
        )));
    }
    Ok(())
}
