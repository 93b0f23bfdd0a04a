//! The book and the code never drift apart.
//!
//! The chapters in `chapters/` include code from `src/` by ANCHOR regions, and
//! transcripts and pictures by path. mdBook exits 0 when an include names a file
//! that is missing, and silently includes nothing when it names an anchor that is
//! not there, so these tests are what catches a renamed file or a deleted anchor:
//!
//! - every `{{#include}}` and `{{#rustdoc_include}}` names a file that exists,
//!   and, where it names an anchor, that file marks the region with both
//!   `ANCHOR: name` and `ANCHOR_END: name`; a line range stays inside the file;
//! - every file a chapter includes marks each of its anchors exactly once, with
//!   one `ANCHOR` and, after it, one `ANCHOR_END` (mdBook takes the first start
//!   it finds and reads on to the first end, so a second `ANCHOR: name` would
//!   silently widen or cut the listing);
//! - every picture a chapter shows exists;
//! - every chapter `SUMMARY.md` lists exists, and every chapter file is listed;
//! - every stage of the course has its chapter, `stage-N-name.md`, in `SUMMARY.md`;
//! - every stage chapter, "HTTP and sockets" and "Keeping it safe" end with a
//!   quiz of their own, and every "Break it" experiment is preceded by a
//!   one-question prediction (mdBook's quiz plugin, `{{#quiz path}}`);
//! - every quiz file is TOML that mdbook-quiz can use, with a prompt, an answer,
//!   an explanation (`context`) and an `id` for every question, and is used by a
//!   chapter;
//! - every chapter opens with what the reader will be able to do, and how long
//!   it takes;
//! - the site's list of stages (`www/index.html`), the README's table and the
//!   introduction's table name the stages of `course::Stage::ALL`, numbered and
//!   ordered as it orders them, each run with `cargo run -- --stage N` but the
//!   last, which plain `cargo run` serves; and the site says how many there are.
//!
//! Each check is a function over a book folder, and the tests at the bottom feed
//! each one a small broken book, to show that it catches what it is meant to.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use multithreaded_server::Stage;

/// The book's source folder, where `SUMMARY.md` is.
fn chapters() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("chapters")
}

/// Every chapter file under `src`, in a stable order.
fn markdown_files(src: &Path) -> Vec<PathBuf> {
    files_ending(src, "md")
}

/// Every file named `*.{extension}` under `folder` (none if there is no such
/// folder), in a stable order.
fn files_ending(folder: &Path, extension: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut folders = vec![folder.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let Ok(entries) = fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|ext| ext == extension) {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// `path` as the book names it: relative to `src`, with `/` between folders.
fn relative(src: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(src).unwrap();
    relative.to_string_lossy().replace('\\', "/")
}

/// The `{{#include ...}}` and `{{#rustdoc_include ...}}` links in a chapter, as
/// their argument (`path`, `path:anchor` or `path:from:to`). Escaped links
/// (`\{{#include ...}}`) are shown as text by mdBook, and skipped here too.
fn include_links(text: &str) -> Vec<String> {
    let mut links = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{#") {
        let escaped = rest[..start].ends_with('\\');
        let after = &rest[start + 3..];
        let Some(end) = after.find("}}") else { break };
        let link = after[..end].trim();
        let (directive, argument) = link.split_once(char::is_whitespace).unwrap_or((link, ""));
        if !escaped && matches!(directive, "include" | "rustdoc_include") {
            links.push(argument.trim().to_owned());
        }
        rest = &after[end + 2..];
    }
    links
}

/// The name `line` marks with `kind` (`ANCHOR` or `ANCHOR_END`), if it does.
fn marked(line: &str, kind: &str) -> Option<String> {
    let at = line.find(&format!("{kind}:"))?;
    let name: String = line[at + kind.len() + 1..]
        .trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// Whether `line` marks `kind` (`ANCHOR` or `ANCHOR_END`) for exactly `name`.
fn marks(line: &str, kind: &str, name: &str) -> bool {
    marked(line, kind).is_some_and(|marked| marked == name)
}

/// Problems with the includes of every chapter under `src`.
fn check_includes(src: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for chapter in markdown_files(src) {
        let text = fs::read_to_string(&chapter).unwrap();
        let shown = relative(src, &chapter);
        for link in include_links(&text) {
            let (path, selector) = link.split_once(':').unwrap_or((&link, ""));
            let file = chapter.parent().unwrap().join(path);
            let Ok(contents) = fs::read_to_string(&file) else {
                problems.push(format!("{shown}: includes `{path}`, which does not exist"));
                continue;
            };
            if selector.is_empty() {
                continue;
            }
            if selector.chars().all(|c| c.is_ascii_digit() || c == ':') {
                // A line range, `from`, `from:`, `:to` or `from:to`, counted from 1.
                let lines = contents.lines().count();
                let numbers = selector
                    .split(':')
                    .filter(|part| !part.is_empty())
                    .map(|part| part.parse::<usize>().unwrap());
                for number in numbers {
                    if number == 0 || number > lines {
                        problems.push(format!(
                            "{shown}: includes line {number} of `{path}`, which has {lines} lines"
                        ));
                    }
                }
                continue;
            }
            let lines: Vec<&str> = contents.lines().collect();
            let start = lines.iter().position(|l| marks(l, "ANCHOR", selector));
            let end = lines.iter().position(|l| marks(l, "ANCHOR_END", selector));
            match (start, end) {
                (Some(start), Some(end)) if start + 1 < end => {}
                (Some(_), Some(_)) => problems.push(format!(
                    "{shown}: anchor `{selector}` in `{path}` is empty or ends before it starts"
                )),
                (None, _) => problems.push(format!(
                    "{shown}: `{path}` has no `ANCHOR: {selector}` for its include"
                )),
                (_, None) => problems.push(format!(
                    "{shown}: `{path}` has no `ANCHOR_END: {selector}` for its include"
                )),
            }
        }
    }
    problems
}

/// Problems with the anchors of every file a chapter includes: each name must
/// have one `ANCHOR` and one `ANCHOR_END`, in that order, whether or not a
/// chapter includes that anchor.
fn check_anchors(src: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for chapter in markdown_files(src) {
        let text = fs::read_to_string(&chapter).unwrap();
        for link in include_links(&text) {
            let path = link.split_once(':').map_or(link.as_str(), |(path, _)| path);
            let Ok(file) = fs::canonicalize(chapter.parent().unwrap().join(path)) else {
                continue; // check_includes reports a missing file
            };
            if !seen.insert(file.clone()) {
                continue;
            }
            let Ok(contents) = fs::read_to_string(&file) else {
                continue;
            };
            // For each name, the lines (from 1) of its starts and of its ends.
            let mut anchors: BTreeMap<String, (Vec<usize>, Vec<usize>)> = BTreeMap::new();
            for (number, line) in contents.lines().enumerate() {
                if let Some(name) = marked(line, "ANCHOR") {
                    anchors.entry(name).or_default().0.push(number + 1);
                }
                if let Some(name) = marked(line, "ANCHOR_END") {
                    anchors.entry(name).or_default().1.push(number + 1);
                }
            }
            for (name, (starts, ends)) in anchors {
                let lines = |numbers: &[usize]| {
                    let numbers: Vec<String> = numbers.iter().map(usize::to_string).collect();
                    numbers.join(", ")
                };
                match (starts.as_slice(), ends.as_slice()) {
                    ([start], [end]) if start < end => {}
                    ([start], [end]) => problems.push(format!(
                        "`{path}`: `ANCHOR_END: {name}` (line {end}) comes before its `ANCHOR` (line {start})"
                    )),
                    ([start], []) => problems.push(format!(
                        "`{path}`: `ANCHOR: {name}` (line {start}) is never closed"
                    )),
                    ([], [end]) => problems.push(format!(
                        "`{path}`: `ANCHOR_END: {name}` (line {end}) closes an anchor never opened"
                    )),
                    _ => problems.push(format!(
                        "`{path}`: anchor `{name}` starts on lines [{}] and ends on lines [{}]; \
                         give each region a name of its own",
                        lines(&starts),
                        lines(&ends)
                    )),
                }
            }
        }
    }
    problems
}

/// Problems with the pictures chapters show: `<img src="...">` and `![...](...)`
/// with a relative path must name a file that exists.
fn check_images(src: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for chapter in markdown_files(src) {
        let text = fs::read_to_string(&chapter).unwrap();
        let shown = relative(src, &chapter);
        let html = text
            .split("src=\"")
            .skip(1)
            .filter_map(|s| s.split('"').next());
        let markdown = text.split("![").skip(1).filter_map(|s| {
            let target = s.split_once("](")?.1;
            target.split(')').next()
        });
        for target in html.chain(markdown) {
            if target.contains("://") || target.starts_with('/') {
                continue;
            }
            if !chapter.parent().unwrap().join(target).is_file() {
                problems.push(format!("{shown}: shows `{target}`, which does not exist"));
            }
        }
    }
    problems
}

/// The chapter files `SUMMARY.md` links to, leaving out what is inside HTML
/// comments (the places kept for chapters still to come).
fn summary_links(src: &Path) -> Vec<String> {
    let text = fs::read_to_string(src.join("SUMMARY.md")).unwrap();
    let mut live = String::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("<!--") {
        live.push_str(&rest[..start]);
        rest = rest[start..]
            .find("-->")
            .map_or("", |end| &rest[start + end + 3..]);
    }
    live.push_str(rest);
    live.split("](")
        .skip(1)
        .filter_map(|s| s.split(')').next())
        .filter(|target| !target.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Problems with `SUMMARY.md`: a chapter listed but missing (`create-missing`
/// is off, so mdBook would fail), or a chapter written but not listed (no one
/// could reach it).
fn check_summary(src: &Path) -> Vec<String> {
    let links = summary_links(src);
    let mut problems: Vec<String> = links
        .iter()
        .filter(|link| !src.join(link).is_file())
        .map(|link| format!("SUMMARY.md lists `{link}`, which does not exist"))
        .collect();
    for chapter in markdown_files(src) {
        let relative = relative(src, &chapter);
        if relative != "SUMMARY.md" && !links.contains(&relative) {
            problems.push(format!("`{relative}` is not listed in SUMMARY.md"));
        }
    }
    problems
}

/// Problems with the stage chapters: each stage needs `stage-N-name.md`,
/// listed in `SUMMARY.md`.
fn check_stage_chapters(src: &Path, stages: &[(u8, &str)]) -> Vec<String> {
    let links = summary_links(src);
    stages
        .iter()
        .map(|(number, name)| format!("stage-{number}-{name}.md"))
        .filter(|chapter| !links.contains(chapter))
        .map(|chapter| format!("the chapter `{chapter}` is not listed in SUMMARY.md"))
        .collect()
}

/// Every stage of the course, compiled in or not: the book covers them all.
fn course_stages() -> Vec<(u8, &'static str)> {
    Stage::ALL
        .into_iter()
        .map(|stage| (stage.number(), stage.name()))
        .collect()
}

/// The `{{#quiz path}}` links in a chapter, in order, as their path. The quiz
/// plugin takes a path relative to the chapter, as `{{#include}}` does.
fn quiz_links(text: &str) -> Vec<String> {
    let mut links = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{#quiz ") {
        let after = &rest[start + "{{#quiz ".len()..];
        let Some(end) = after.find("}}") else { break };
        if !rest[..start].ends_with('\\') {
            links.push(after[..end].trim().to_owned());
        }
        rest = &after[end + 2..];
    }
    links
}

/// Where quizzes live, under the book's source folder: a chapter's own quiz is
/// `quizzes/<chapter>.toml`; a prediction before an experiment is one question
/// in `quizzes/predictions/`.
const QUIZZES: &str = "quizzes";
const PREDICTIONS: &str = "quizzes/predictions";

/// A quiz must have at least this many questions to close a chapter.
const CHAPTER_QUIZ_QUESTIONS: usize = 5;

/// The chapters that end with a quiz: every stage's, the two about the shared
/// core that a student must understand before the stages build on it, and
/// the one on the HTTP beyond the stages.
fn chapters_with_quizzes(stages: &[(u8, &str)]) -> Vec<String> {
    let mut chapters: Vec<String> = stages
        .iter()
        .map(|(number, name)| format!("stage-{number}-{name}.md"))
        .collect();
    chapters.push("http-and-sockets.md".to_owned());
    chapters.push("keeping-it-safe.md".to_owned());
    chapters.push("speaking-more-http.md".to_owned());
    chapters
}

/// The `## ` sections of a chapter, as (heading, text up to the next one).
fn sections(text: &str) -> Vec<(&str, &str)> {
    let mut starts: Vec<usize> = text.match_indices("\n## ").map(|(at, _)| at + 1).collect();
    starts.push(text.len());
    starts
        .windows(2)
        .map(|pair| {
            let section = &text[pair[0]..pair[1]];
            let heading = section.lines().next().unwrap_or("");
            (heading, section)
        })
        .collect()
}

/// Problems with the chapters that must end with a quiz: the last section
/// must show `quizzes/<chapter>.toml`, the chapter's own.
fn check_chapter_quizzes(src: &Path, chapters: &[String]) -> Vec<String> {
    let mut problems = Vec::new();
    for chapter in chapters {
        let Ok(text) = fs::read_to_string(src.join(chapter)) else {
            problems.push(format!("`{chapter}` does not exist"));
            continue;
        };
        let own = format!("{QUIZZES}/{}.toml", chapter.trim_end_matches(".md"));
        let last = sections(&text).pop().map_or("", |(_, section)| section);
        if !quiz_links(last).contains(&own) {
            problems.push(format!(
                "`{chapter}` does not end with its quiz: its last section has no `{{{{#quiz {own}}}}}`"
            ));
        }
    }
    problems
}

/// Problems with the predictions: every "## Break it" section must ask for one,
/// from `quizzes/predictions/`, before it shows its first transcript.
fn check_predictions(src: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for chapter in markdown_files(src) {
        let text = fs::read_to_string(&chapter).unwrap();
        let shown = relative(src, &chapter);
        for (heading, section) in sections(&text) {
            if !heading.starts_with("## Break it") {
                continue;
            }
            let transcript = section
                .find("{{#include transcripts/")
                .unwrap_or(section.len());
            let predicted = quiz_links(&section[..transcript])
                .iter()
                .any(|link| link.starts_with(&format!("{PREDICTIONS}/")));
            if !predicted {
                problems.push(format!(
                    "{shown}: \"{}\" shows what happens before asking for a prediction \
                     (a `{{{{#quiz {PREDICTIONS}/...}}}}` before the first transcript)",
                    heading.trim_start_matches("## ")
                ));
            }
        }
    }
    problems
}

/// The quiz files under `src/quizzes`, as paths relative to `src`.
fn quiz_files(src: &Path) -> Vec<String> {
    files_ending(&src.join(QUIZZES), "toml")
        .iter()
        .map(|file| relative(src, file))
        .collect()
}

/// The text at `path` (keys separated by dots) in a TOML table, if it is a
/// string with something in it.
fn text_at<'a>(table: &'a toml::Table, path: &str) -> Option<&'a str> {
    let (tables, key) = path.rsplit_once('.').unwrap_or(("", path));
    let mut table = table;
    for name in tables.split('.').filter(|name| !name.is_empty()) {
        table = table.get(name)?.as_table()?;
    }
    table
        .get(key)?
        .as_str()
        .filter(|text| !text.trim().is_empty())
}

/// Problems with one question of a quiz, numbered from 1 in `file`.
fn question_problems(file: &str, number: usize, question: &toml::Table) -> Vec<String> {
    let at = format!("{file}, question {number}");
    let mut problems = Vec::new();
    let kind = question.get("type").and_then(|kind| kind.as_str());
    // What each type needs besides its `type`: mdbook-quiz's schema.
    let (prompt, answer) = match kind {
        Some("MultipleChoice" | "ShortAnswer") => ("prompt.prompt", "answer.answer"),
        Some("Tracing") => ("prompt.program", "answer.doesCompile"),
        other => {
            problems.push(format!(
                "{at}: `type` is {other:?}, not MultipleChoice, ShortAnswer or Tracing"
            ));
            return problems;
        }
    };
    if text_at(question, prompt).is_none() {
        problems.push(format!("{at}: no `{prompt}`"));
    }
    let answered = match kind {
        Some("Tracing") => question
            .get("answer")
            .and_then(|answer| answer.get("doesCompile"))
            .is_some_and(|value| value.is_bool()),
        _ => text_at(question, answer).is_some(),
    };
    if !answered {
        problems.push(format!("{at}: no `{answer}`"));
    }
    if text_at(question, "context").is_none() {
        problems.push(format!(
            "{at}: no `context`, the explanation shown with the answer"
        ));
    }
    if text_at(question, "id").is_none() {
        problems.push(format!(
            "{at}: no `id`; `mdbook build` writes one into the file: commit it"
        ));
    }
    if kind == Some("MultipleChoice") {
        let distractors: Vec<&str> = question
            .get("prompt")
            .and_then(|prompt| prompt.get("distractors"))
            .and_then(|list| list.as_array())
            .map(|list| list.iter().filter_map(|item| item.as_str()).collect())
            .unwrap_or_default();
        if distractors.is_empty() {
            problems.push(format!(
                "{at}: a multiple choice with no `prompt.distractors`"
            ));
        }
        if let Some(answer) = text_at(question, "answer.answer")
            && distractors.contains(&answer)
        {
            problems.push(format!("{at}: the answer is also one of the distractors"));
        }
    }
    problems
}

/// Problems with every quiz file under `src`: it must parse as TOML, have a
/// `questions` list of sound questions (at least five in a chapter's quiz,
/// exactly one in a prediction), with no `id` used twice in the book, and be
/// shown by some chapter.
fn check_quiz_files(src: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let shown: BTreeSet<String> = markdown_files(src)
        .iter()
        .flat_map(|chapter| {
            let folder = chapter.parent().unwrap();
            let text = fs::read_to_string(chapter).unwrap();
            quiz_links(&text)
                .into_iter()
                .map(|link| relative(src, &folder.join(link)))
                .collect::<Vec<_>>()
        })
        .collect();
    let files = quiz_files(src);
    for link in &shown {
        if !files.contains(link) {
            problems.push(format!(
                "a chapter shows the quiz `{link}`, which does not exist"
            ));
        }
    }
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    for file in &files {
        if !shown.contains(file) {
            problems.push(format!("`{file}` is not shown by any chapter"));
        }
        let text = fs::read_to_string(src.join(file)).unwrap();
        let quiz = match text.parse::<toml::Table>() {
            Ok(quiz) => quiz,
            Err(error) => {
                problems.push(format!("`{file}` is not TOML: {error}"));
                continue;
            }
        };
        let Some(questions) = quiz.get("questions").and_then(|list| list.as_array()) else {
            problems.push(format!("`{file}` has no `[[questions]]`"));
            continue;
        };
        let prediction = file.starts_with(&format!("{PREDICTIONS}/"));
        if prediction && questions.len() != 1 {
            problems.push(format!(
                "`{file}` is a prediction with {} questions; ask exactly one",
                questions.len()
            ));
        }
        if !prediction && questions.len() < CHAPTER_QUIZ_QUESTIONS {
            problems.push(format!(
                "`{file}` has {} questions; a chapter's quiz needs at least {CHAPTER_QUIZ_QUESTIONS}",
                questions.len()
            ));
        }
        for (index, question) in questions.iter().enumerate() {
            let Some(question) = question.as_table() else {
                problems.push(format!("{file}, question {}: not a table", index + 1));
                continue;
            };
            problems.extend(question_problems(file, index + 1, question));
            if let Some(id) = text_at(question, "id")
                && let Some(first) = ids.insert(id.to_owned(), file.clone())
            {
                problems.push(format!("{file}: the id `{id}` is used in `{first}` too"));
            }
        }
    }
    problems
}

/// Problems with the openings: under its title, each chapter says what the
/// reader will be able to do after it and about how long it takes, in a
/// call-out of two paragraphs, `> **After this chapter** you can ...` and
/// `> **Time:** ...`. `skip` names chapters left out on purpose.
fn check_openings(src: &Path, skip: &[&str]) -> Vec<String> {
    let mut problems = Vec::new();
    for chapter in markdown_files(src) {
        let relative = relative(src, &chapter);
        if relative == "SUMMARY.md" || skip.contains(&relative.as_str()) {
            continue;
        }
        let text = fs::read_to_string(&chapter).unwrap();
        // The call-out is the first thing after the title.
        let opening: Vec<&str> = text
            .lines()
            .skip(1)
            .skip_while(|line| line.trim().is_empty())
            .take_while(|line| line.starts_with('>'))
            .collect();
        let able = opening
            .iter()
            .any(|line| line.starts_with("> **After this chapter** you can "));
        let time = opening.iter().any(|line| {
            line.starts_with("> **Time:** ") && (line.contains("minute") || line.contains("hour"))
        });
        if !able || !time {
            problems.push(format!(
                "`{relative}` does not open with `> **After this chapter** you can ...` \
                 and `> **Time:** about N minutes`"
            ));
        }
    }
    problems
}

/// One stage as a list outside the code names it: its number, its name, and
/// the command the list gives to run it (if the list gives one).
#[derive(Debug, PartialEq, Eq)]
struct Listed {
    number: Option<u8>,
    name: String,
    run: Option<String>,
}

/// The text between the first `start` and the first `end` after it, or `""`.
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let Some(at) = text.find(start) else {
        return "";
    };
    let rest = &text[at + start.len()..];
    rest.find(end).map_or(rest, |stop| &rest[..stop])
}

/// The number and name in a chapter's file name, `stage-N-name.md` or
/// `stage-N-name.html`.
fn stage_of_chapter(file: &str) -> Option<(u8, String)> {
    let file = file.strip_prefix("stage-")?;
    let (number, rest) = file.split_once('-')?;
    let name = rest
        .strip_suffix(".md")
        .or_else(|| rest.strip_suffix(".html"))?;
    Some((number.parse().ok()?, name.to_owned()))
}

/// The site's stages: each `<li>` of `<ol class="stages">`, a link to the
/// stage's chapter around its name in `<strong>`. The number is the link's,
/// and none when the link names another stage than the text.
fn site_stages(html: &str) -> Vec<Listed> {
    let list = between(html, "<ol class=\"stages\">", "</ol>");
    list.split("<li>")
        .skip(1)
        .map(|item| {
            let shown = between(item, "<strong>", "</strong>");
            let linked = stage_of_chapter(between(item, "href=\"/book/", "\""));
            Listed {
                number: linked.and_then(|(number, name)| (name == shown).then_some(number)),
                name: shown.to_owned(),
                run: None,
            }
        })
        .collect()
}

/// The rows of the Markdown table in `text` under the heading `heading`, as
/// their cells, without the header row and the row of dashes.
fn table_rows<'a>(text: &'a str, heading: &str) -> Vec<Vec<&'a str>> {
    let section = between(text, heading, "\n## ");
    section
        .lines()
        .filter(|line| line.starts_with('|'))
        .skip(2)
        .map(|line| line.trim_matches('|').split('|').map(str::trim).collect())
        .collect()
}

/// The README's stages: the table under "## The stages", whose rows are
/// `| N | `name` | what it adds | `command` |`.
fn readme_stages(markdown: &str) -> Vec<Listed> {
    table_rows(markdown, "\n## The stages\n")
        .into_iter()
        .map(|cells| Listed {
            number: cells.first().and_then(|cell| cell.parse().ok()),
            name: cells.get(1).unwrap_or(&"").trim_matches('`').to_owned(),
            run: cells.last().map(|cell| cell.trim_matches('`').to_owned()),
        })
        .collect()
}

/// The introduction's stages: the table under "## What you will build",
/// whose rows are `| [N: title](stage-N-name.md) | `command` | what it adds |`.
fn introduction_stages(markdown: &str) -> Vec<Listed> {
    table_rows(markdown, "\n## What you will build\n")
        .into_iter()
        .map(|cells| {
            let first = cells.first().unwrap_or(&"");
            let linked = stage_of_chapter(between(first, "](", ")"));
            let shown: Option<u8> = between(first, "[", ":").parse().ok();
            let number = linked.as_ref().map(|(number, _)| *number);
            Listed {
                // A title numbered otherwise than its chapter has no number.
                number: number.filter(|number| Some(*number) == shown),
                name: linked.map_or_else(|| first.to_string(), |(_, name)| name),
                run: cells.get(1).map(|cell| cell.trim_matches('`').to_owned()),
            }
        })
        .collect()
}

/// Problems with a list of stages shown to readers, where `what` names it:
/// it must list `stages` (number and name), all of them, in order, with the
/// command to run each where the list gives commands.
fn check_stage_list(what: &str, listed: &[Listed], stages: &[(u8, &str)]) -> Vec<String> {
    let expected: Vec<Listed> = stages
        .iter()
        .enumerate()
        .map(|(at, (number, name))| Listed {
            number: Some(*number),
            name: (*name).to_owned(),
            // `cargo run` serves the most complete stage, the last.
            run: Some(if at + 1 == stages.len() {
                "cargo run".to_owned()
            } else {
                format!("cargo run -- --stage {number}")
            }),
        })
        .collect();
    if listed.is_empty() {
        return vec![format!("{what}: no list of stages found")];
    }
    let mut problems = Vec::new();
    if listed.len() != expected.len() {
        problems.push(format!(
            "{what}: lists {} stages, the course has {}",
            listed.len(),
            expected.len()
        ));
    }
    for (at, (listed, expected)) in listed.iter().zip(&expected).enumerate() {
        let row = at + 1;
        if listed.number != expected.number || listed.name != expected.name {
            let shown = match listed.number {
                Some(number) => format!("stage {number} `{}`", listed.name),
                None => format!(
                    "`{}`, numbered otherwise by its link and its text",
                    listed.name
                ),
            };
            problems.push(format!(
                "{what}: row {row} shows {shown}, where the course has stage {row} `{}`",
                expected.name
            ));
        } else if listed
            .run
            .as_ref()
            .is_some_and(|run| Some(run) != expected.run.as_ref())
        {
            problems.push(format!(
                "{what}: stage {row} is run with `{}`, not `{}`",
                listed.run.as_deref().unwrap_or_default(),
                expected.run.as_deref().unwrap_or_default()
            ));
        }
    }
    problems
}

/// The site's lead says how many stages there are, in words.
fn check_stage_count(what: &str, text: &str, stages: &[(u8, &str)]) -> Vec<String> {
    const WORDS: [&str; 10] = [
        "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    ];
    let count = WORDS.get(stages.len().wrapping_sub(1)).unwrap_or(&"many");
    let said = format!("in {count} stages");
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.contains(&said) {
        Vec::new()
    } else {
        vec![format!("{what}: does not say \"{said}\"")]
    }
}

/// Problems with every list of the stages a reader sees first: the site's,
/// the README's and the introduction's, under the repository's root `root`.
fn check_stage_lists(root: &Path, stages: &[(u8, &str)]) -> Vec<String> {
    let read = |path: &str| fs::read_to_string(root.join(path)).unwrap_or_default();
    let site = read("www/index.html");
    let mut problems = check_stage_list("www/index.html", &site_stages(&site), stages);
    problems.extend(check_stage_count("www/index.html", &site, stages));
    problems.extend(check_stage_list(
        "README.md",
        &readme_stages(&read("README.md")),
        stages,
    ));
    problems.extend(check_stage_list(
        "chapters/introduction.md",
        &introduction_stages(&read("chapters/introduction.md")),
        stages,
    ));
    problems
}

fn assert_none(problems: Vec<String>) {
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn every_include_names_an_existing_file_and_anchor() {
    let includes: usize = markdown_files(&chapters())
        .iter()
        .map(|chapter| include_links(&fs::read_to_string(chapter).unwrap()).len())
        .sum();
    assert!(includes > 0, "no includes found: is the scanner broken?");
    assert_none(check_includes(&chapters()));
}

#[test]
fn every_included_file_marks_each_anchor_once() {
    assert_none(check_anchors(&chapters()));
}

#[test]
fn every_picture_exists() {
    assert_none(check_images(&chapters()));
}

#[test]
fn summary_and_chapter_files_agree() {
    assert_none(check_summary(&chapters()));
}

#[test]
fn every_stage_has_its_chapter() {
    assert_none(check_stage_chapters(&chapters(), &course_stages()));
}

#[test]
fn the_stage_chapters_and_the_core_chapters_end_with_their_quiz() {
    let quizzed = chapters_with_quizzes(&course_stages());
    assert!(quizzed.len() >= 8, "{quizzed:?}");
    assert_none(check_chapter_quizzes(&chapters(), &quizzed));
}

#[test]
fn every_experiment_is_predicted_before_it_is_shown() {
    let experiments: usize = markdown_files(&chapters())
        .iter()
        .map(|chapter| {
            let text = fs::read_to_string(chapter).unwrap();
            sections(&text)
                .iter()
                .filter(|(heading, _)| heading.starts_with("## Break it"))
                .count()
        })
        .sum();
    assert!(
        experiments >= 6,
        "only {experiments} Break it sections: is the scanner broken?"
    );
    assert_none(check_predictions(&chapters()));
}

#[test]
fn every_quiz_is_sound_and_shown() {
    assert!(
        quiz_files(&chapters()).len() >= 8,
        "quiz files missing: {:?}",
        quiz_files(&chapters())
    );
    assert_none(check_quiz_files(&chapters()));
}

#[test]
fn every_chapter_opens_with_its_goal_and_its_time() {
    // Measuring the stages is to be rewritten around its next benchmark, and
    // gets its opening then.
    assert_none(check_openings(&chapters(), &["measuring.md"]));
}

#[test]
fn the_site_the_readme_and_the_introduction_list_the_course_stages() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert_eq!(
        course_stages().len(),
        7,
        "the course's stages changed: so must the site"
    );
    assert_none(check_stage_lists(root, &course_stages()));
}

// ---------------------------------------------------------------------------
// The checks bite: each is shown a small broken book and must find the fault.

/// A throwaway book folder, removed on drop.
struct ScratchBook {
    dir: PathBuf,
}

impl ScratchBook {
    fn new() -> ScratchBook {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "multithreaded-server-book-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("chapters")).unwrap();
        fs::create_dir_all(dir.join("src")).unwrap();
        let book = ScratchBook { dir };
        book.write(
            "src/code.rs",
            "// ANCHOR: run\nfn run() {}\n// ANCHOR_END: run\n\
             // ANCHOR: runner\nfn runner() {}\n// ANCHOR_END: runner\n\
             // ANCHOR: open\nfn open() {}\n",
        );
        book
    }

    fn src(&self) -> PathBuf {
        self.dir.join("chapters")
    }

    fn write(&self, path: &str, text: &str) {
        let path = self.dir.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    /// A chapter whose only content is `body`.
    fn chapter(&self, body: &str) -> Vec<String> {
        self.write("chapters/SUMMARY.md", "# Summary\n\n- [One](one.md)\n");
        self.write("chapters/one.md", &format!("# One\n\n{body}\n"));
        check_includes(&self.src())
    }
}

impl Drop for ScratchBook {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn a_good_include_passes() {
    let book = ScratchBook::new();
    let problems = book.chapter(
        "```rust\n{{#include ../src/code.rs:run}}\n```\n\
         {{#rustdoc_include ../src/code.rs:runner}}\n{{#include ../src/code.rs:2:3}}\n\
         \\{{#include ../src/not-there.rs}} is escaped, and shown as text.",
    );
    assert_none(problems);
}

#[test]
fn an_include_of_a_missing_file_is_caught() {
    let book = ScratchBook::new();
    let problems = book.chapter("{{#include ../src/gone.rs}}");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("gone.rs"), "{problems:?}");
}

#[test]
fn a_rustdoc_include_of_a_missing_anchor_is_caught() {
    let book = ScratchBook::new();
    let problems = book.chapter("{{#rustdoc_include ../src/code.rs:accept_loop}}");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("ANCHOR: accept_loop"), "{problems:?}");
}

#[test]
fn an_anchor_that_is_never_closed_is_caught() {
    let book = ScratchBook::new();
    let problems = book.chapter("{{#include ../src/code.rs:open}}");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("ANCHOR_END: open"), "{problems:?}");
}

#[test]
fn an_anchor_is_matched_by_its_whole_name() {
    // `ANCHOR: runner` and `ANCHOR: run` exist; `ru` is neither.
    let book = ScratchBook::new();
    let problems = book.chapter("{{#include ../src/code.rs:ru}}");
    assert_eq!(problems.len(), 1, "{problems:?}");
}

#[test]
fn an_anchor_marked_twice_or_left_open_is_caught() {
    let book = ScratchBook::new();
    // Two regions under one name, and one end: mdBook shows both as one
    // listing, and the include check alone does not notice.
    book.write(
        "src/twice.rs",
        "// ANCHOR: confine\nfn step() {}\n\n// ANCHOR: confine\nfn confine() {}\n\
         // ANCHOR_END: confine\n\
         // ANCHOR: outer\n// ANCHOR: inner\nfn inner() {}\n// ANCHOR_END: inner\n// ANCHOR_END: outer\n",
    );
    assert_none(book.chapter("{{#include ../src/twice.rs:confine}}"));
    let problems = check_anchors(&book.src());
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("`confine` starts on lines [1, 4] and ends on lines [6]"),
        "{problems:?}"
    );

    // `code.rs` leaves `open` unclosed: caught in any file a chapter includes,
    // even when the chapter includes another of its anchors.
    book.chapter("{{#include ../src/code.rs:run}}");
    let problems = check_anchors(&book.src());
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("`ANCHOR: open` (line 7) is never closed"),
        "{problems:?}"
    );

    // An end before its start.
    book.write(
        "src/backwards.rs",
        "// ANCHOR_END: late\nfn late() {}\n// ANCHOR: late\n",
    );
    book.chapter("{{#include ../src/backwards.rs}}");
    let problems = check_anchors(&book.src());
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("comes before its `ANCHOR`"),
        "{problems:?}"
    );
}

#[test]
fn a_line_range_past_the_end_is_caught() {
    let book = ScratchBook::new();
    let problems = book.chapter("{{#include ../src/code.rs:1:99}}");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("line 99"), "{problems:?}");
}

#[test]
fn a_missing_picture_is_caught() {
    let book = ScratchBook::new();
    book.write("chapters/images/there.svg", "<svg/>");
    book.write("chapters/SUMMARY.md", "# Summary\n\n- [One](one.md)\n");
    book.write(
        "chapters/one.md",
        "<img src=\"images/there.svg\">\n<img src=\"images/gone.png\">\n![a](images/lost.svg)\n",
    );
    let problems = check_images(&book.src());
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("gone.png") && problems[1].contains("lost.svg"));
}

#[test]
fn summary_problems_are_caught_and_comments_are_not_links() {
    let book = ScratchBook::new();
    book.write(
        "chapters/SUMMARY.md",
        "# Summary\n\n[Intro](intro.md)\n- [Gone](gone.md)\n\
         <!--\n- [Later](later.md)\n-->\n",
    );
    book.write("chapters/intro.md", "# Intro\n");
    book.write("chapters/orphan.md", "# Nobody links here\n");
    let problems = check_summary(&book.src());
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("`gone.md`, which does not exist"));
    assert!(problems[1].contains("`orphan.md` is not listed"));
}

#[test]
fn a_stage_without_its_chapter_is_caught() {
    let book = ScratchBook::new();
    book.write(
        "chapters/SUMMARY.md",
        "# Summary\n\n- [Stage 1](stage-1-single-threaded.md)\n\
         <!-- - [Stage 2](stage-2-thread-per-client.md) -->\n",
    );
    let stages = [(1, "single-threaded"), (2, "thread-per-client")];
    let problems = check_stage_chapters(&book.src(), &stages);
    assert_eq!(
        problems,
        ["the chapter `stage-2-thread-per-client.md` is not listed in SUMMARY.md"]
    );
}

/// A question for a scratch quiz: a sound multiple choice, with `id`.
fn question(id: &str) -> String {
    format!(
        "[[questions]]\ntype = \"MultipleChoice\"\nprompt.prompt = \"Which?\"\n\
         prompt.distractors = [\"this\", \"that\"]\nanswer.answer = \"the other\"\n\
         context = \"Because.\"\nid = \"{id}\"\n\n"
    )
}

/// A scratch quiz of `count` sound questions, with ids `{prefix}-1`, ...
fn quiz(prefix: &str, count: usize) -> String {
    (1..=count)
        .map(|n| question(&format!("{prefix}-{n}")))
        .collect()
}

#[test]
fn a_chapter_that_does_not_end_with_its_own_quiz_is_caught() {
    let book = ScratchBook::new();
    let chapters = [
        "stage-1-single-threaded.md",
        "stage-2-thread-per-client.md",
        "gone.md",
    ]
    .map(str::to_owned);
    // Stage 1 ends with its quiz: fine.
    book.write(
        "chapters/stage-1-single-threaded.md",
        "# Stage 1\n\n## Run it\n\n## Check yourself\n\n\
         {{#quiz quizzes/stage-1-single-threaded.toml}}\n\nNext: stage 2.\n",
    );
    // Stage 2 has its quiz in the middle, and another chapter's at the end.
    book.write(
        "chapters/stage-2-thread-per-client.md",
        "# Stage 2\n\n{{#quiz quizzes/stage-2-thread-per-client.toml}}\n\n\
         ## A slight problem\n\n{{#quiz quizzes/stage-1-single-threaded.toml}}\n",
    );
    let problems = check_chapter_quizzes(&book.src(), &chapters);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("`stage-2-thread-per-client.md` does not end with its quiz"));
    assert!(problems[1].contains("`gone.md` does not exist"));
}

#[test]
fn an_experiment_shown_before_its_prediction_is_caught() {
    let book = ScratchBook::new();
    book.write("chapters/SUMMARY.md", "# Summary\n\n- [One](one.md)\n");
    book.write(
        "chapters/one.md",
        "# One\n\n\
         ## Break it: predicted\n\nPredict:\n\n{{#quiz quizzes/predictions/a.toml}}\n\n\
         {{#include transcripts/one/a.txt}}\n\n\
         ## Break it: shown first\n\n{{#include transcripts/one/b.txt}}\n\n\
         {{#quiz quizzes/predictions/b.toml}}\n\n\
         ## Break it: a chapter's quiz is not a prediction\n\n{{#quiz quizzes/one.toml}}\n\n\
         {{#include transcripts/one/c.txt}}\n\n\
         ## Run it\n\n{{#include transcripts/one/d.txt}}\n",
    );
    let problems = check_predictions(&book.src());
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].contains("\"Break it: shown first\""),
        "{problems:?}"
    );
    assert!(
        problems[1].contains("\"Break it: a chapter's quiz"),
        "{problems:?}"
    );
}

#[test]
fn a_sound_quiz_passes_and_every_fault_in_one_is_caught() {
    let book = ScratchBook::new();
    book.write("chapters/SUMMARY.md", "# Summary\n\n- [One](one.md)\n");
    book.write(
        "chapters/one.md",
        "# One\n\n{{#quiz quizzes/predictions/guess.toml}}\n\n## Quiz\n\n\
         {{#quiz quizzes/one.toml}}\n",
    );
    book.write("chapters/quizzes/one.toml", &quiz("one", 5));
    book.write("chapters/quizzes/predictions/guess.toml", &quiz("guess", 1));
    assert_none(check_quiz_files(&book.src()));

    // Each fault below adds exactly one problem.
    book.write(
        "chapters/one.md",
        "# One\n\n{{#quiz quizzes/predictions/guess.toml}}\n\n## Quiz\n\n\
         {{#quiz quizzes/one.toml}}\n{{#quiz quizzes/two.toml}}\n{{#quiz quizzes/three.toml}}\n\
         {{#quiz quizzes/five.toml}}\n{{#quiz quizzes/gone.toml}}\n\
         \\{{#quiz quizzes/escaped.toml}}\n",
    );
    // A prediction of two questions; a chapter quiz of four.
    book.write("chapters/quizzes/predictions/guess.toml", &quiz("guess", 2));
    book.write("chapters/quizzes/two.toml", &quiz("two", 4));
    // Not TOML at all.
    book.write("chapters/quizzes/three.toml", "[[questions]\ntype = ");
    // Shown by no chapter (the escaped link is text, not a quiz).
    book.write("chapters/quizzes/escaped.toml", &quiz("escaped", 5));
    // Sound in number, but: no context, no id, the answer among the
    // distractors, an unknown type, and an id `one.toml` uses too (reported
    // at the second file to use it, in the order of their names).
    let faulty = quiz("five", 1)
        + &question("five-2").replace("context = \"Because.\"\n", "")
        + &question("five-3").replace("id = \"five-3\"\n", "")
        + &question("five-4").replace("\"that\"]", "\"the other\"]")
        + &question("five-5").replace("MultipleChoice", "Essay")
        + &question("one-1");
    book.write("chapters/quizzes/five.toml", &faulty);
    let problems = check_quiz_files(&book.src());
    let expected = [
        "a chapter shows the quiz `quizzes/gone.toml`, which does not exist",
        "`quizzes/escaped.toml` is not shown by any chapter",
        "quizzes/five.toml, question 2: no `context`",
        "quizzes/five.toml, question 3: no `id`",
        "quizzes/five.toml, question 4: the answer is also one of the distractors",
        "quizzes/five.toml, question 5: `type` is Some(\"Essay\")",
        "quizzes/one.toml: the id `one-1` is used in `quizzes/five.toml` too",
        "`quizzes/predictions/guess.toml` is a prediction with 2 questions",
        "`quizzes/three.toml` is not TOML",
        "`quizzes/two.toml` has 4 questions",
    ];
    for fault in expected {
        assert!(
            problems.iter().any(|problem| problem.contains(fault)),
            "not caught: {fault}\n{problems:#?}"
        );
    }
    assert_eq!(problems.len(), expected.len(), "{problems:#?}");
}

#[test]
fn an_opening_without_its_goal_or_its_time_is_caught() {
    let book = ScratchBook::new();
    book.write("chapters/SUMMARY.md", "# Summary\n\n- [One](one.md)\n");
    book.write(
        "chapters/good.md",
        "# Good\n\n> **After this chapter** you can serve\n> a page.\n>\n\
         > **Time:** about 10 minutes.\n\nText.\n",
    );
    book.write(
        "chapters/no-time.md",
        "# No time\n\n> **After this chapter** you can serve a page.\n\nText.\n",
    );
    book.write(
        "chapters/late.md",
        "# Late\n\nText first.\n\n> **After this chapter** you can serve a page.\n>\n\
         > **Time:** about 10 minutes.\n",
    );
    book.write("chapters/skipped.md", "# Skipped\n\nText.\n");
    let problems = check_openings(&book.src(), &["skipped.md"]);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("`late.md`") && problems[1].contains("`no-time.md`"));
}

/// A site, a README and an introduction that list two stages as they should.
fn good_stage_lists(book: &ScratchBook) {
    book.write(
        "www/index.html",
        "<p class=\"lead\">A course built in two\n stages.</p>\n<ol class=\"stages\">\n\
         <li><a href=\"/book/stage-1-one.html\"><strong>one</strong></a>: first.</li>\n\
         <li><a href=\"/book/stage-2-two.html\"><strong>two</strong></a>: second.</li>\n</ol>\n",
    );
    book.write(
        "README.md",
        "# x\n\n## The stages\n\nText.\n\n| # | stage | adds | run it |\n|---|---|---|---|\n\
         | 1 | `one` | a | `cargo run -- --stage 1` |\n| 2 | `two` | b | `cargo run` |\n\n\
         ## Next\n\n| 9 | `nine` | not a stage | `x` |\n",
    );
    book.write(
        "chapters/introduction.md",
        "# x\n\n## What you will build\n\n| stage | run it | adds |\n|---|---|---|\n\
         | [1: One](stage-1-one.md) | `cargo run -- --stage 1` | a |\n\
         | [2: Two](stage-2-two.md) | `cargo run` | b |\n",
    );
}

#[test]
fn stage_lists_that_agree_pass_and_each_kind_of_drift_is_caught() {
    let book = ScratchBook::new();
    let stages = [(1, "one"), (2, "two")];
    good_stage_lists(&book);
    assert_none(check_stage_lists(&book.dir, &stages));

    // A stage more in the course than on the site, in its list and its lead.
    let three = [(1, "one"), (2, "two"), (3, "three")];
    let problems = check_stage_lists(&book.dir, &three);
    let expected = [
        "www/index.html: lists 2 stages, the course has 3",
        "www/index.html: does not say \"in three stages\"",
        "README.md: lists 2 stages, the course has 3",
        // The README and the introduction run stage 2 with `cargo run`,
        // which now serves stage 3.
        "README.md: stage 2 is run with `cargo run`, not `cargo run -- --stage 2`",
        "chapters/introduction.md: lists 2 stages, the course has 3",
        "chapters/introduction.md: stage 2 is run with `cargo run`, not `cargo run -- --stage 2`",
    ];
    assert_eq!(problems, expected);

    // Two stages swapped in the README, a link and a name that disagree on
    // the site, and a title numbered otherwise than its chapter.
    good_stage_lists(&book);
    let readme = fs::read_to_string(book.dir.join("README.md")).unwrap();
    book.write(
        "README.md",
        &readme
            .replace("`one`", "`tmp`")
            .replace("`two`", "`one`")
            .replace("`tmp`", "`two`"),
    );
    let site = fs::read_to_string(book.dir.join("www/index.html")).unwrap();
    book.write(
        "www/index.html",
        &site.replace("<strong>two</strong>", "<strong>deux</strong>"),
    );
    let intro = fs::read_to_string(book.dir.join("chapters/introduction.md")).unwrap();
    book.write(
        "chapters/introduction.md",
        &intro.replace("[2: Two]", "[3: Two]"),
    );
    let problems = check_stage_lists(&book.dir, &stages);
    let expected = [
        "www/index.html: row 2 shows `deux`, numbered otherwise by its link and its text, \
         where the course has stage 2 `two`",
        "README.md: row 1 shows stage 1 `two`, where the course has stage 1 `one`",
        "README.md: row 2 shows stage 2 `one`, where the course has stage 2 `two`",
        "chapters/introduction.md: row 2 shows `two`, numbered otherwise by its link and its \
         text, where the course has stage 2 `two`",
    ];
    assert_eq!(problems, expected);

    // No list at all.
    book.write("www/index.html", "<p>No list.</p>");
    let problems = check_stage_lists(&book.dir, &stages);
    assert!(
        problems.contains(&"www/index.html: no list of stages found".to_owned()),
        "{problems:?}"
    );
}
