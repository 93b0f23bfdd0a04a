//! The command line as scripts and graders use it: the ready line, and one
//! clear line with a non-zero exit for every mistake.

use std::process::{Command, Output};

use crate::support::*;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_multithreaded-server"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs")
}

/// The error output is exactly one line, and says `what`.
fn assert_one_line_error(output: &Output, code: i32, what: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(code), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line, not: {stderr:?}");
    assert!(stderr.contains(what), "{what:?} not in {stderr:?}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// The ready line names the real port and the stage, by number and name.
#[test]
#[cfg(feature = "single-threaded")]
fn the_ready_line_gives_the_real_address() {
    let site = Site::new();
    let server = Server::start("1", &site.root, &[]);
    assert_ne!(server.addr.port(), 0);
    let first = server.log().lines().next().unwrap_or_default().to_owned();
    assert_eq!(
        first,
        format!(
            "Listening on http://{}/ (stage 1: single-threaded)",
            server.addr
        )
    );
}

/// Without `--stage`, the most complete stage compiled in is used.
#[test]
fn the_default_stage_is_the_highest_compiled() {
    let Some(highest) = multithreaded_server::stages::highest_compiled() else {
        return;
    };
    let site = Site::new();
    let mut child = Command::new(env!("CARGO_BIN_EXE_multithreaded-server"))
        .args(["--port", "0", "--root"])
        .arg(&site.root)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let expected = format!("(stage {}: {highest})", highest.number());
    assert!(line.trim_end().ends_with(&expected), "{line:?}");
}

#[test]
fn an_unknown_stage_is_a_one_line_error() {
    let output = run(&["--stage", "9"]);
    assert_one_line_error(&output, 2, "invalid value '9'");
}

#[test]
fn an_unknown_flag_is_a_one_line_error() {
    let output = run(&["--prot", "3000"]);
    assert_one_line_error(&output, 2, "unexpected argument '--prot'");
}

#[test]
fn a_bad_address_is_a_one_line_error() {
    let output = run(&["--bind", "nowhere", "--port", "0"]);
    assert_one_line_error(&output, 2, "invalid value 'nowhere'");
}

// A build without stages stops before it looks at the root or the port.
#[test]
#[cfg(feature = "single-threaded")]
fn a_missing_root_is_a_one_line_error() {
    let output = run(&["--port", "0", "--root", "/no/such/folder"]);
    assert_one_line_error(&output, 1, "root folder `/no/such/folder` does not exist");
}

#[test]
#[cfg(feature = "single-threaded")]
fn a_port_in_use_is_a_one_line_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let site = Site::new();
    let root = site.root.to_string_lossy().into_owned();
    let output = run(&["--port", &port, "--root", &root]);
    assert_one_line_error(&output, 1, &format!("cannot listen on 127.0.0.1:{port}"));
}

/// Help is printed in full, with every stage, and exits 0.
#[test]
fn help_lists_every_stage() {
    let output = run(&["--help"]);
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for stage in multithreaded_server::Stage::ALL {
        assert!(help.contains(stage.name()), "{stage} missing from --help");
    }
}

/// A stage left out of the build is named with the feature that adds it.
#[test]
#[cfg(not(feature = "daemon-join"))]
fn a_stage_not_compiled_in_says_which_feature_to_enable() {
    let output = run(&["--stage", "daemon-join", "--port", "0"]);
    assert_one_line_error(
        &output,
        2,
        "stage `daemon-join` is not compiled in; rebuild with `--features daemon-join`",
    );
}

/// A build with no stage at all is a usage error too, and says how to get one.
#[test]
#[cfg(not(feature = "single-threaded"))]
fn a_build_without_stages_says_which_feature_to_enable() {
    let output = run(&["--port", "0"]);
    assert_one_line_error(
        &output,
        2,
        "no stage is compiled in; rebuild with `--features single-threaded`",
    );
}
