//! Stage 3, `not-found`: every error gets an answer with the right status.
//!
//! The headers that come with every answer (`Date`, `Server`, `Last-Modified`
//! and the `304` it makes possible, HEAD's headers) are checked here for this
//! stage and every later one: from this stage on a missing page gets the
//! root's `error.html`, which is a file with a date of its own.

#![cfg(feature = "not-found")]

mod support;

use std::fs;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use multithreaded_server::Stage;
use support::hardening::compiled_stages;
use support::*;

const STAGE: &str = "not-found";

/// This stage and the later ones this build has.
fn stages_from_here() -> Vec<Stage> {
    compiled_stages()
        .into_iter()
        .filter(|stage| *stage >= Stage::NotFound)
        .collect()
}

/// A missing file gets `404 Not Found` with the root's `error.html`, byte-exact.
#[test]
fn a_missing_file_gets_the_sites_404_page() {
    let site = Site::new();
    let server = Server::start(STAGE, &site.root, &[]);
    let reply = get(server.addr, "/no/such/page.html");
    assert_eq!(reply.head.status_line, "HTTP/1.1 404 Not Found");
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
    assert_eq!(reply.head.status, 404);
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
        assert_eq!(reply.head.status_line, "HTTP/1.1 400 Bad Request");
    }
    assert_eq!(get(server.addr, "/").status(), 200);
}

/// Only GET and HEAD: anything else is `405` and says what is allowed.
#[test]
fn other_methods_get_405_with_allow() {
    let site = Site::new();
    let server = Server::start(STAGE, &site.root, &[]);
    for method in ["POST", "PUT", "DELETE", "BREW"] {
        let reply = request(server.addr, method, "/index.html", &["Content-Length: 0"]);
        assert_eq!(reply.head.status_line, "HTTP/1.1 405 Method Not Allowed");
        assert_eq!(reply.header("Allow"), Some("GET, HEAD"));
    }
}

/// HEAD gets exactly GET's headers, in the same order, and no body: for a
/// small file, a large (streamed) one, a redirect, a 304 and the 404 page.
/// Only `Date` may differ, by the seconds that passed between the two.
#[test]
fn head_sends_the_headers_of_get_without_the_body() {
    let site = Site::new();
    let since = format!(
        "If-Modified-Since: {}",
        http_date(file_time(&site, "style.css"))
    );
    let cases: [(&str, &[&str]); 5] = [
        ("/style.css", &[]),
        ("/data.bin", &[]),
        ("/sub", &[]),
        ("/style.css", &[&since]),
        ("/no/such/page.html", &[]),
    ];
    for stage in stages_from_here() {
        let server = Server::start(stage.name(), &site.root, &[]);
        for (target, headers) in cases {
            let started = Instant::now();
            let get_reply = request(server.addr, "GET", target, headers);
            let head_reply = request(server.addr, "HEAD", target, headers);
            let apart = started.elapsed().as_secs() + 1;
            assert!(
                head_reply.body.is_empty(),
                "{stage}: HEAD {target} has a body"
            );
            let without_date = |reply: &Reply| {
                let mut headers = reply.head.headers.clone();
                headers.retain(|(name, _)| name != "Date");
                headers
            };
            assert_eq!(
                without_date(&head_reply),
                without_date(&get_reply),
                "{stage}: {target} {headers:?}"
            );
            let date = |reply: &Reply| imf_fixdate(reply.header("Date").unwrap_or_default());
            let (Some(get_date), Some(head_date)) = (date(&get_reply), date(&head_reply)) else {
                let (get, head) = (&get_reply.head.headers, &head_reply.head.headers);
                panic!("{stage}: {target}: no IMF-fixdate Date in {get:?} or {head:?}");
            };
            assert!(
                get_date <= head_date && head_date - get_date <= apart,
                "{stage}: {target}: Date {get_date} then {head_date}"
            );
        }
    }
}

/// Every answer says when it was made and by what: `Date` is an IMF-fixdate
/// (the one format a server may send) of the moment it was sent, and `Server`
/// is the crate's name and version. A file's answer says when the file last
/// changed in `Last-Modified`, and so does the 404 page, which is the root's
/// `error.html`. A page of the server's own (a 400) has none.
#[test]
fn answers_carry_date_server_and_last_modified() {
    let site = Site::new();
    set_file_time(&site, "style.css", 1_000_000_000);
    set_file_time(&site, "error.html", 1_000_086_400);
    let server_header = concat!("multithreaded-server/", env!("CARGO_PKG_VERSION"));
    for stage in stages_from_here() {
        let server = Server::start(stage.name(), &site.root, &[]);
        let answers = [
            ("/style.css", 200, Some("Sun, 09 Sep 2001 01:46:40 GMT")),
            (
                "/no/such/page.html",
                404,
                Some("Mon, 10 Sep 2001 01:46:40 GMT"),
            ),
            ("/%zz", 400, None),
        ];
        for (target, status, last_modified) in answers {
            let before = unix_seconds(SystemTime::now());
            let reply = get(server.addr, target);
            let after = unix_seconds(SystemTime::now());
            assert_eq!(reply.head.status, status, "{stage}: {target}");
            let date = reply.header("Date").unwrap_or_default();
            let sent = imf_fixdate(date)
                .unwrap_or_else(|| panic!("{stage}: {target}: Date {date:?} is no IMF-fixdate"));
            assert!(
                (before..=after).contains(&sent),
                "{stage}: {target}: Date {date} is not now"
            );
            assert_eq!(reply.header("Server"), Some(server_header), "{stage}");
            assert_eq!(
                reply.header("Last-Modified"),
                last_modified,
                "{stage}: {target}"
            );
        }
    }
}

/// The cache round trip: a file's own `Last-Modified`, sent back as
/// `If-Modified-Since`, gets `304 Not Modified` with no body and no
/// `Content-Type`; an older date gets the file. When the file changes, the old
/// date gets the new file. The 404 page is never a 304, whatever the date: the
/// page a client has is not the one it asked for.
#[test]
fn a_files_own_last_modified_gets_304_without_a_body() {
    let site = Site::new();
    for stage in stages_from_here() {
        set_file_time(&site, "style.css", 1_000_000_000);
        let server = Server::start(stage.name(), &site.root, &[]);
        let file = get(server.addr, "/style.css");
        let modified = file
            .header("Last-Modified")
            .expect("Last-Modified")
            .to_owned();
        let since = format!("If-Modified-Since: {modified}");

        let cached = request(server.addr, "GET", "/style.css", &[&since]);
        assert_eq!(
            cached.head.status_line, "HTTP/1.1 304 Not Modified",
            "{stage}"
        );
        assert!(cached.body.is_empty(), "{stage}: a 304 with a body");
        assert_eq!(cached.header("Content-Type"), None, "{stage}");
        assert_eq!(cached.header("Last-Modified"), Some(modified.as_str()));
        assert!(cached.header("Date").and_then(imf_fixdate).is_some());

        let older = format!("If-Modified-Since: {}", http_date(999_999_999));
        let reply = request(server.addr, "GET", "/style.css", &[&older]);
        assert_file(&reply, &site.read("style.css"), "text/css; charset=utf-8");

        set_file_time(&site, "style.css", 1_000_000_001);
        let changed = request(server.addr, "GET", "/style.css", &[&since]);
        assert_file(&changed, &site.read("style.css"), "text/css; charset=utf-8");
        assert_eq!(
            changed.header("Last-Modified"),
            Some(http_date(1_000_000_001).as_str())
        );

        let missing = request(
            server.addr,
            "GET",
            "/no/such/page.html",
            &["If-Modified-Since: Fri, 31 Dec 9999 23:59:59 GMT"],
        );
        assert_eq!(missing.status(), 404, "{stage}");
        assert_eq!(missing.body, site.read("error.html"), "{stage}");
    }
}

/// Sets a file's modification time to `seconds` after the epoch.
fn set_file_time(site: &Site, path: &str, seconds: u64) {
    fs::File::options()
        .write(true)
        .open(site.root.join(path))
        .unwrap()
        .set_modified(UNIX_EPOCH + Duration::from_secs(seconds))
        .unwrap();
}

/// A file's modification time, in whole seconds after the epoch.
fn file_time(site: &Site, path: &str) -> u64 {
    let modified = fs::metadata(site.root.join(path))
        .unwrap()
        .modified()
        .unwrap();
    unix_seconds(modified)
}

fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).unwrap().as_secs()
}

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Days from 1970-01-01 to a date (proleptic Gregorian), after Howard
/// Hinnant's `days_from_civil`. The tests keep their own calendar, so that
/// they do not check the server's dates with the server's code.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Parses an IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 9110 §5.6.7),
/// to seconds after the epoch; `None` for any other form, or a weekday that
/// is not the date's.
fn imf_fixdate(text: &str) -> Option<u64> {
    let (weekday, rest) = text.split_once(", ")?;
    let [day, month, year, time, "GMT"] = rest.split(' ').collect::<Vec<_>>()[..] else {
        return None;
    };
    let number = |digits: &str, len: usize| -> Option<i64> {
        let all_digits = digits.len() == len && digits.bytes().all(|b| b.is_ascii_digit());
        all_digits.then(|| digits.parse().ok())?
    };
    let (day, year) = (number(day, 2)?, number(year, 4)?);
    let month = MONTHS.iter().position(|name| *name == month)? as i64 + 1;
    let [hours, minutes, seconds] = time.split(':').collect::<Vec<_>>()[..] else {
        return None;
    };
    let (hours, minutes, seconds) = (number(hours, 2)?, number(minutes, 2)?, number(seconds, 2)?);
    if !(1..=31).contains(&day) || hours > 23 || minutes > 59 || seconds > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    if WEEKDAYS[(days + 4).rem_euclid(7) as usize] != weekday {
        return None;
    }
    u64::try_from(days * 86_400 + hours * 3600 + minutes * 60 + seconds).ok()
}

/// Formats seconds after the epoch as an IMF-fixdate.
fn http_date(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64;
    // The inverse of `days_from_civil`, by search: the tests' dates are few.
    let year = (1970..)
        .find(|year| days_from_civil(year + 1, 1, 1) > days)
        .unwrap();
    let month = (1..=12)
        .rev()
        .find(|month| days_from_civil(year, *month, 1) <= days)
        .unwrap();
    let day = days - days_from_civil(year, month, 1) + 1;
    let rest = seconds % 86_400;
    format!(
        "{}, {day:02} {} {year} {:02}:{:02}:{:02} GMT",
        WEEKDAYS[(days + 4).rem_euclid(7) as usize],
        MONTHS[month as usize - 1],
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
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
    assert_eq!(reply.head.status_line, "HTTP/1.1 408 Request Timeout");
    drop(stream);
    dribbler.join().unwrap();
}

/// A folder without its slash is redirected, so its relative links work.
#[test]
fn a_folder_without_its_slash_is_redirected() {
    let site = Site::new();
    let server = Server::start(STAGE, &site.root, &[]);
    let reply = get(server.addr, "/sub?x=1");
    assert_eq!(reply.head.status_line, "HTTP/1.1 301 Moved Permanently");
    assert_eq!(reply.header("Location"), Some("/sub/"));
    assert_eq!(
        get(server.addr, "/empty-folder/").status(),
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
    // Under Wine a program that Ctrl-C ends exits with status 0, where Windows
    // gives 0xC000013A (STATUS_CONTROL_C_EXIT): there only the cut-off
    // download shows that Ctrl-C ended it (see .ci/wine/README.md).
    if !cfg!(wine) {
        assert!(!status.success(), "killed by the signal, not a clean exit");
    }
}
