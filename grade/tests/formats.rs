//! The report's formats as the tools that read them take them: JUnit XML
//! held to every rule of the Jenkins xunit plugin's `junit-10.xsd` (which no
//! package registry serves, so its rules are written out below), and the
//! JSON that GitHub Classroom's grading reporter adds up into "Points X/Y".

use std::collections::BTreeMap;
use std::time::Duration;

use grade::{CheckResult, Failure, Points, Report, Stage, Verdict};

/// A report of every kind of verdict, over two stages, with text that needs
/// escaping, a note on a pass, and a failure with and without an exchange.
fn report() -> Report {
    let mut report = Report::new(Stage::ThreadPerClient, "python3 server.py".into());
    report.results = grade::checks::up_to(Stage::ThreadPerClient)
        .enumerate()
        .map(|(n, check)| CheckResult {
            check,
            verdict: match n % 4 {
                0 => Verdict::Pass,
                1 => Verdict::Fail(
                    Failure::new("said <\"no\"> & left\n\u{1}")
                        .sent("GET / HTTP/1.1\r\n\r\n")
                        .received("HTTP/1.1 200 OK\r\n"),
                ),
                2 => Verdict::Fail(Failure::new("no exchange")),
                _ => Verdict::Skip("it needs {threads} & more".into()),
            },
            took: Duration::from_millis(1234 + n as u64),
            notes: if n == 4 {
                vec!["framed by chunks".into()]
            } else {
                Vec::new()
            },
        })
        .collect();
    report
}

// -- A small XML reader, enough for what the grader writes: elements,
// attributes in double quotes, text, the five entities and numeric
// references, and the declaration.

#[derive(Debug)]
struct Element {
    name: String,
    attributes: BTreeMap<String, String>,
    children: Vec<Element>,
    text: String,
}

fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let end = rest[at..].find(';').expect("an entity ends with ;") + at;
        let entity = &rest[at + 1..end];
        out.push(match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = entity.strip_prefix('#').expect("a known entity");
                char::from_u32(code.parse().expect("a decimal reference")).unwrap()
            }
        });
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    for c in out.chars() {
        assert!(
            (c as u32) >= 0x20 || matches!(c, '\n' | '\r' | '\t'),
            "XML 1.0 allows no {c:?}, even as a reference"
        );
    }
    out
}

fn parse(xml: &str) -> Element {
    let xml = xml
        .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        .expect("the XML declaration");
    let mut at = 0;
    let root = element(xml, &mut at);
    assert_eq!(xml[at..].trim(), "", "nothing after the root element");
    root
}

fn element(xml: &str, at: &mut usize) -> Element {
    let rest = &xml[*at..];
    let start = rest.find('<').expect("an element");
    assert_eq!(rest[..start].trim(), "", "text outside an element");
    let head_end = rest.find('>').expect("a tag ends");
    let head = &rest[start + 1..head_end];
    let empty = head.ends_with('/');
    let head = head.trim_end_matches('/');
    let (name, mut attrs) = head.split_once(' ').unwrap_or((head, ""));
    let mut attributes = BTreeMap::new();
    while !attrs.trim().is_empty() {
        let (key, value) = attrs.trim_start().split_once("=\"").expect("key=\"value\"");
        let end = value.find('"').expect("a closing quote");
        assert!(!value[..end].contains('<'), "no < in an attribute");
        let old = attributes.insert(key.to_owned(), unescape(&value[..end]));
        assert!(old.is_none(), "attribute {key} given twice");
        attrs = &value[end + 1..];
    }
    *at += head_end + 1;
    let mut node = Element {
        name: name.to_owned(),
        attributes,
        children: Vec::new(),
        text: String::new(),
    };
    if empty {
        return node;
    }
    let close = format!("</{name}>");
    loop {
        let rest = &xml[*at..];
        let next = rest.find('<').expect("a closing tag");
        node.text.push_str(&unescape(&rest[..next]));
        if rest[next..].starts_with(&close) {
            *at += next + close.len();
            return node;
        }
        *at += next;
        node.children.push(element(xml, at));
    }
}

// -- junit-10.xsd, rule by rule: for each element, the attributes it may
// carry, those it must, and the elements it may hold.

struct Rule {
    element: &'static str,
    required: &'static [&'static str],
    optional: &'static [&'static str],
    children: &'static [&'static str],
    /// Whether it may hold text (mixed or simple content).
    text: bool,
}

const RULES: &[Rule] = &[
    Rule {
        element: "testsuites",
        required: &[],
        optional: &["name", "time", "tests", "failures", "errors"],
        children: &["testsuite"],
        text: false,
    },
    Rule {
        element: "testsuite",
        required: &["name", "tests", "failures", "errors"],
        optional: &[
            "group",
            "time",
            "skipped",
            "timestamp",
            "hostname",
            "id",
            "package",
            "file",
            "log",
            "url",
        ],
        children: &[
            "testsuite",
            "properties",
            "testcase",
            "system-out",
            "system-err",
        ],
        text: false,
    },
    Rule {
        element: "testcase",
        required: &["name"],
        optional: &["time", "classname", "group"],
        children: &[
            "skipped",
            "error",
            "failure",
            "rerunFailure",
            "rerunError",
            "flakyFailure",
            "flakyError",
            "system-out",
            "system-err",
        ],
        text: false,
    },
    Rule {
        element: "failure",
        required: &[],
        optional: &["type", "message"],
        children: &[],
        text: true,
    },
    Rule {
        element: "error",
        required: &[],
        optional: &["type", "message"],
        children: &[],
        text: true,
    },
    Rule {
        element: "skipped",
        required: &[],
        optional: &["type", "message"],
        children: &[],
        text: true,
    },
    Rule {
        element: "system-out",
        required: &[],
        optional: &[],
        children: &[],
        text: true,
    },
    Rule {
        element: "system-err",
        required: &[],
        optional: &[],
        children: &[],
        text: true,
    },
];

/// The schema's SUREFIRE_TIME: digits (in groups of three, with commas, or
/// up to three), then an optional fraction.
fn surefire_time(text: &str) -> bool {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    fraction.chars().all(|c| c.is_ascii_digit())
        && whole
            .split(',')
            .all(|group| group.chars().all(|c| c.is_ascii_digit()))
        && (whole.split(',').count() == 1 || whole.split(',').skip(1).all(|g| g.len() == 3))
}

fn validate(node: &Element, path: &str) {
    let path = format!("{path}/{}", node.name);
    let rule = RULES
        .iter()
        .find(|rule| rule.element == node.name)
        .unwrap_or_else(|| panic!("{path}: no such element in junit-10.xsd"));
    for required in rule.required {
        assert!(
            node.attributes.contains_key(*required),
            "{path}: no `{required}`"
        );
    }
    for key in node.attributes.keys() {
        assert!(
            rule.required.contains(&key.as_str()) || rule.optional.contains(&key.as_str()),
            "{path}: the schema allows no `{key}` here"
        );
    }
    if let Some(time) = node.attributes.get("time")
        && matches!(node.name.as_str(), "testsuite" | "testsuites")
    {
        assert!(
            surefire_time(time),
            "{path}: time `{time}` is not SUREFIRE_TIME"
        );
    }
    if !rule.text {
        assert_eq!(node.text.trim(), "", "{path}: holds text");
    }
    for child in &node.children {
        assert!(
            rule.children.contains(&child.name.as_str()),
            "{path}: may not hold <{}>",
            child.name
        );
        validate(child, &path);
    }
}

fn all<'a>(node: &'a Element, name: &str, into: &mut Vec<&'a Element>) {
    if node.name == name {
        into.push(node);
    }
    for child in &node.children {
        all(child, name, into);
    }
}

/// Every element and attribute the grader writes is one junit-10.xsd allows,
/// every attribute it requires is there, and the counts add up.
#[test]
fn junit_follows_every_rule_of_the_jenkins_schema() {
    let report = report();
    let xml = report.to_junit();
    let root = parse(&xml);
    assert_eq!(root.name, "testsuites");
    validate(&root, "");
    let mut suites = Vec::new();
    all(&root, "testsuite", &mut suites);
    assert_eq!(suites.len(), 2, "a suite per stage");
    let mut cases = Vec::new();
    all(&root, "testcase", &mut cases);
    assert_eq!(cases.len(), report.results.len());
    assert_eq!(root.attributes["tests"], report.results.len().to_string());
    assert_eq!(
        root.attributes["failures"],
        report.failed_count().to_string()
    );
    let sum = |key: &str| -> usize {
        suites
            .iter()
            .map(|s| s.attributes[key].parse::<usize>().unwrap())
            .sum()
    };
    assert_eq!(sum("tests"), report.results.len());
    assert_eq!(sum("failures"), report.failed_count());
    assert_eq!(sum("skipped"), report.skipped_count());
    assert_eq!(sum("errors"), 0);
}

/// GitLab reads a skip's reason from the text of `<skipped>`; the failure's
/// text is the whole failure, unescaped back to what the grader saw.
#[test]
fn junit_skips_carry_their_reason_as_text() {
    let root = parse(&report().to_junit());
    let mut skipped = Vec::new();
    all(&root, "skipped", &mut skipped);
    assert!(!skipped.is_empty());
    for skip in skipped {
        assert_eq!(skip.text, "it needs {threads} & more");
    }
    let mut failures = Vec::new();
    all(&root, "failure", &mut failures);
    let first = failures.first().expect("failures");
    assert_eq!(
        first.attributes["message"],
        "said <\"no\"> & left\n\u{fffd}"
    );
    assert!(
        first.text.contains("sent: GET / HTTP/1.1\r\n"),
        "{}",
        first.text
    );
}

/// What the grading reporter does with a runner's results (its
/// `NotifyClassroom`): the sum of every test's `score` over `max_score`.
/// Weighted points, skips and failures all reach it.
#[test]
fn classroom_results_give_the_reporter_its_points() {
    let points = Points::parse("connects = 3\ntext-files = 2.5\n").unwrap();
    let report = report();
    let json: serde_json::Value = serde_json::from_str(&report.to_classroom(&points)).unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(json["status"], "fail");
    let tests = json["tests"].as_array().unwrap();
    assert_eq!(tests.len(), report.results.len());
    let total: f64 = tests.iter().map(|t| t["score"].as_f64().unwrap()).sum();
    let (scored, maximum) = points.total(&report);
    assert_eq!(total, scored);
    assert_eq!(json["max_score"].as_f64().unwrap(), maximum);
    // connects passed (3 points); text-files failed (0 of 2.5).
    assert_eq!(tests[0]["score"], 3.0);
    assert_eq!(tests[0]["status"], "pass");
    assert_eq!(tests[1]["score"], 0.0);
    assert_eq!(tests[1]["status"], "fail");
    assert!(
        tests[1]["message"]
            .as_str()
            .unwrap()
            .contains("problem: said")
    );
    assert_eq!(maximum, 3.0 + 2.5 + (report.results.len() - 2) as f64);
}

/// `visibility` per check from the points file, the rest from
/// `--visibility`, and none at all (Gradescope's default) unless asked.
#[test]
fn gradescope_tests_carry_the_visibility_asked_for() {
    let report = report();
    let tests = |points: &Points| -> Vec<serde_json::Value> {
        let json: serde_json::Value = serde_json::from_str(&report.to_gradescope(points)).unwrap();
        json["tests"].as_array().unwrap().clone()
    };
    for test in tests(&Points::default()) {
        assert!(test.get("visibility").is_none(), "{test}");
    }
    let points = Points::parse("connects = { points = 2, visibility = \"hidden\" }\n")
        .unwrap()
        .with_default_visibility(Some("after_due_date".parse().unwrap()));
    let tests = tests(&points);
    assert_eq!(tests[0]["visibility"], "hidden");
    assert_eq!(tests[0]["max_score"], 2.0);
    assert!(
        tests[1..]
            .iter()
            .all(|t| t["visibility"] == "after_due_date")
    );
    let json = Points::parse("{\"connects\": {\"visibility\": \"visible\"}}").unwrap();
    assert_eq!(json.of("connects"), 1.0);
    assert!(Points::parse("connects = { visibility = \"soon\" }").is_err());
    assert!(Points::parse("connects = { point = 2 }").is_err());
}
