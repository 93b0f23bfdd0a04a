//! The class file, `class.toml`: the stage, the settings, the limits of the
//! sandbox, and a recipe per language (how to build a submission, and the
//! command that starts it), chosen by the files a submission holds.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use grade::Stage;

use multithreaded_server::config::parse_duration;

/// How to build and run the submissions of one language.
#[derive(Clone, Debug, PartialEq)]
pub struct Recipe {
    pub name: String,
    /// Chosen when the submission's folder holds one of these: a file name,
    /// or `*.c` for any file ending so.
    pub files: Vec<String>,
    /// A shell command run in the submission's folder before grading.
    pub build: Option<String>,
    /// The command that starts the server, with the grader's placeholders.
    pub run: String,
}

impl Recipe {
    fn new(name: &str, files: &[&str], build: Option<&str>, run: &str) -> Recipe {
        Recipe {
            name: name.to_owned(),
            files: files.iter().map(|f| f.to_string()).collect(),
            build: build.map(str::to_owned),
            run: run.to_owned(),
        }
    }

    /// Whether `folder` holds a file this recipe is chosen by.
    fn fits(&self, folder: &Path) -> bool {
        let names: Vec<String> = std::fs::read_dir(folder)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        self.files
            .iter()
            .any(|pattern| match pattern.strip_prefix('*') {
                Some(suffix) => names.iter().any(|name| name.ends_with(suffix)),
                None => names.iter().any(|name| name == pattern),
            })
    }
}

/// The recipes every class has, unless its file gives one of the same name.
/// The first that fits a submission is used, so a Rust submission with a
/// stray `server.py` is still built with Cargo.
pub fn built_in_recipes() -> Vec<Recipe> {
    // ANCHOR: recipes
    vec![
        Recipe::new(
            "rust",
            &["Cargo.toml"],
            Some("cargo build --release --offline --quiet"),
            "cargo run --release --offline --quiet -- {port} {root}",
        ),
        Recipe::new(
            "go",
            &["go.mod"],
            Some("go build -o server ."),
            "./server {port} {root}",
        ),
        Recipe::new(
            "java",
            &["*.java"],
            Some("javac -d classes *.java"),
            "java -cp classes Server {port} {root}",
        ),
        Recipe::new(
            "c-make",
            &["Makefile"],
            Some("make"),
            "./server {port} {root}",
        ),
        Recipe::new(
            "c",
            &["*.c"],
            Some("cc -O2 -Wall -pthread -o server *.c"),
            "./server {port} {root}",
        ),
        Recipe::new("node", &["server.js"], None, "node server.js {port} {root}"),
        Recipe::new(
            "python",
            &["server.py"],
            None,
            "python3 server.py {port} {root}",
        ),
    ]
    // ANCHOR_END: recipes
}

/// The limits on each submission's build and server, and what its sandbox
/// lets it see.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// Wall time for one submission: its build and its grading together.
    pub time: Duration,
    /// Memory a process may allocate (RLIMIT_DATA), in bytes.
    pub memory: u64,
    /// Processes and threads, all the submission's together (RLIMIT_NPROC).
    pub processes: u64,
    /// Files, sockets and pipes open in one process (RLIMIT_NOFILE).
    pub open_files: u64,
    /// CPU time of one process (RLIMIT_CPU).
    pub cpu: Duration,
    /// The largest file a process may write (RLIMIT_FSIZE), in bytes.
    pub file_size: u64,
    /// Whether the build may reach the network (to fetch dependencies). The
    /// server never may.
    pub build_network: bool,
    /// More folders the sandbox shows, read-only (a toolchain's, say).
    pub expose: Vec<PathBuf>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            time: Duration::from_secs(10 * 60),
            memory: 1 << 30,
            // The grader's own threads count too (they share the sandbox's
            // user), and stage 2's 200 slow clients each get a thread in a
            // thread-per-client server.
            processes: 1024,
            // ten-thousand-idle opens 10,000 connections to the server.
            open_files: 16_384,
            cpu: Duration::from_secs(5 * 60),
            file_size: 1 << 30,
            build_network: false,
            expose: Vec::new(),
        }
    }
}

/// Everything the class file says.
#[derive(Clone, Debug, Default)]
pub struct ClassFile {
    pub stage: Option<Stage>,
    pub points: Option<PathBuf>,
    pub visibility: Option<grade::formats::Visibility>,
    pub threads: Option<usize>,
    pub queue: Option<usize>,
    pub keep_alive_timeout: Option<u64>,
    pub limits: Limits,
    /// The class's own recipes first, then the built-in ones it does not
    /// replace.
    pub recipes: Vec<Recipe>,
}

/// What a submission may say of itself, in `submission.toml` at its top: the
/// recipe to use, or its own build and run lines.
pub const SUBMISSION_FILE: &str = "submission.toml";

/// Parses a size: `512MiB`, `1GiB`, `2G`, or a number of bytes.
fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size such as 512MiB or 2GiB"))?;
    let scale: u64 = match unit.trim() {
        "" | "B" => 1,
        "K" | "KiB" | "k" => 1 << 10,
        "M" | "MiB" => 1 << 20,
        "G" | "GiB" => 1 << 30,
        _ => return Err(format!("`{text}` is not a size such as 512MiB or 2GiB")),
    };
    Ok(number * scale)
}

fn string<'a>(value: &'a toml::Value, key: &str) -> anyhow::Result<&'a str> {
    value
        .as_str()
        .with_context(|| format!("`{key}` must be a string"))
}

fn integer(value: &toml::Value, key: &str) -> anyhow::Result<u64> {
    value
        .as_integer()
        .and_then(|n| u64::try_from(n).ok())
        .with_context(|| format!("`{key}` must be a whole number of 0 or more"))
}

fn duration(value: &toml::Value, key: &str) -> anyhow::Result<Duration> {
    parse_duration(string(value, key)?).map_err(|e| anyhow::anyhow!("`{key}`: {e}"))
}

fn strings(value: &toml::Value, key: &str) -> anyhow::Result<Vec<String>> {
    value
        .as_array()
        .with_context(|| format!("`{key}` must be a list of strings"))?
        .iter()
        .map(|item| string(item, key).map(str::to_owned))
        .collect()
}

impl ClassFile {
    /// Reads the class file at `path`; paths in it are relative to its folder.
    pub fn read(path: &Path) -> anyhow::Result<ClassFile> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the class file {}", path.display()))?;
        let folder = path.parent().unwrap_or(Path::new("."));
        ClassFile::parse(&text, folder).with_context(|| path.display().to_string())
    }

    pub fn parse(text: &str, folder: &Path) -> anyhow::Result<ClassFile> {
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| anyhow::anyhow!("not TOML: {}", e.message()))?;
        let mut class = ClassFile::default();
        let mut own = Vec::new();
        for (key, value) in &table {
            match key.as_str() {
                "stage" => {
                    let text = match value {
                        toml::Value::Integer(n) => n.to_string(),
                        other => string(other, key)?.to_owned(),
                    };
                    class.stage = Some(
                        <Stage as clap::ValueEnum>::from_str(&text, true)
                            .map_err(|_| anyhow::anyhow!("`stage = {text}` is not a stage"))?,
                    );
                }
                "points" => class.points = Some(folder.join(string(value, key)?)),
                "visibility" => {
                    class.visibility =
                        Some(string(value, key)?.parse().map_err(anyhow::Error::msg)?)
                }
                "threads" => class.threads = Some(integer(value, key)? as usize),
                "queue" => class.queue = Some(integer(value, key)? as usize),
                "keep-alive-timeout" => class.keep_alive_timeout = Some(integer(value, key)?),
                "limits" => class.limits = parse_limits(value, folder)?,
                "recipe" => {
                    let recipes = value
                        .as_table()
                        .context("`recipe` must be tables: [recipe.NAME]")?;
                    for (name, recipe) in recipes {
                        own.push(parse_recipe(name, recipe, false)?);
                    }
                }
                other => bail!(
                    "`{other}` is not a setting of the class file (stage, points, visibility, threads, queue, keep-alive-timeout, [limits], [recipe.NAME])"
                ),
            }
        }
        // A TOML table keeps its keys sorted; the file's order is the order
        // it was written in, which is the one to try them in.
        own.sort_by_key(|recipe: &Recipe| text.find(&format!("[recipe.{}]", recipe.name)));
        class.recipes = own.clone();
        for recipe in built_in_recipes() {
            if !own.iter().any(|mine| mine.name == recipe.name) {
                class.recipes.push(recipe);
            }
        }
        Ok(class)
    }

    /// The recipe for the submission in `folder`: its own `submission.toml`
    /// if it has one (naming a recipe, or giving its own lines), else the
    /// first recipe whose files it holds.
    pub fn recipe_for(&self, folder: &Path) -> anyhow::Result<Recipe> {
        let own = folder.join(SUBMISSION_FILE);
        if own.is_file() {
            let text = std::fs::read_to_string(&own)
                .with_context(|| format!("cannot read {}", own.display()))?;
            let table: toml::Value =
                toml::Value::Table(text.parse().map_err(|e: toml::de::Error| {
                    anyhow::anyhow!("{SUBMISSION_FILE}: {}", e.message())
                })?);
            if let Some(name) = table.get("recipe") {
                let name = string(name, "recipe")?;
                return self
                    .recipes
                    .iter()
                    .find(|recipe| recipe.name == name)
                    .cloned()
                    .with_context(|| {
                        format!(
                            "{SUBMISSION_FILE} names recipe `{name}`, which the class does not have"
                        )
                    });
            }
            return parse_recipe("own", &table, true)
                .with_context(|| format!("{SUBMISSION_FILE} of {}", folder.display()));
        }
        self.recipes
            .iter()
            .find(|recipe| recipe.fits(folder))
            .cloned()
            .with_context(|| {
                let files: Vec<String> = self
                    .recipes
                    .iter()
                    .map(|r| format!("{} ({})", r.files.join(" or "), r.name))
                    .collect();
                format!(
                    "no recipe fits it: it holds none of {}, and no {SUBMISSION_FILE}",
                    files.join(", ")
                )
            })
    }
}

fn parse_limits(value: &toml::Value, folder: &Path) -> anyhow::Result<Limits> {
    let table = value
        .as_table()
        .context("`limits` must be a table: [limits]")?;
    let mut limits = Limits::default();
    for (key, value) in table {
        match key.as_str() {
            "time" => limits.time = duration(value, key)?,
            "memory" => {
                limits.memory = parse_size(string(value, key)?).map_err(anyhow::Error::msg)?
            }
            "processes" => limits.processes = integer(value, key)?,
            "open-files" => limits.open_files = integer(value, key)?,
            "cpu" => limits.cpu = duration(value, key)?,
            "file-size" => {
                limits.file_size = parse_size(string(value, key)?).map_err(anyhow::Error::msg)?
            }
            "build-network" => {
                limits.build_network = value
                    .as_bool()
                    .context("`build-network` must be true or false")?
            }
            "expose" => {
                limits.expose = strings(value, key)?
                    .into_iter()
                    .map(|path| folder.join(path))
                    .collect()
            }
            other => bail!(
                "`{other}` is not a limit (time, memory, processes, open-files, cpu, file-size, build-network, expose)"
            ),
        }
    }
    Ok(limits)
}

fn parse_recipe(name: &str, value: &toml::Value, own: bool) -> anyhow::Result<Recipe> {
    let table = value
        .as_table()
        .with_context(|| format!("recipe `{name}` must be a table"))?;
    let mut recipe = Recipe {
        name: name.to_owned(),
        files: Vec::new(),
        build: None,
        run: String::new(),
    };
    for (key, value) in table {
        match key.as_str() {
            "files" if !own => recipe.files = strings(value, key)?,
            "build" => recipe.build = Some(string(value, key)?.to_owned()),
            "run" => recipe.run = string(value, key)?.to_owned(),
            other => bail!(
                "`{other}` is not a key of a recipe ({})",
                if own {
                    "recipe, build, run"
                } else {
                    "files, build, run"
                }
            ),
        }
    }
    if recipe.run.is_empty() {
        bail!("recipe `{name}` has no `run` line");
    }
    if !own && recipe.files.is_empty() {
        bail!("recipe `{name}` has no `files` to be chosen by");
    }
    Ok(recipe)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_limits_are_read_with_their_units() {
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert_eq!(parse_size("100"), Ok(100));
        assert!(parse_size("lots").is_err());
        let class = ClassFile::parse(
            "stage = 4\n[limits]\nmemory = \"256MiB\"\ntime = \"90s\"\nprocesses = 64\n",
            Path::new("."),
        )
        .unwrap();
        assert_eq!(class.stage, Some(Stage::DaemonJoin));
        assert_eq!(class.limits.memory, 256 << 20);
        assert_eq!(class.limits.time, Duration::from_secs(90));
        assert_eq!(class.limits.processes, 64);
        assert_eq!(class.limits.open_files, Limits::default().open_files);
    }

    #[test]
    fn the_class_recipes_come_first_in_their_order_then_the_built_in_ones() {
        let class = ClassFile::parse(
            "stage = \"thread-per-client\"\n[recipe.zig]\nfiles = [\"build.zig\"]\nrun = \"./zig-out/bin/server {port} {root}\"\n[recipe.python]\nfiles = [\"main.py\"]\nrun = \"python3 main.py {port} {root}\"\n",
            Path::new("."),
        )
        .unwrap();
        let names: Vec<&str> = class.recipes.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names[..2], ["zig", "python"]);
        assert_eq!(names.iter().filter(|n| **n == "python").count(), 1);
        assert!(names.contains(&"rust"));
    }

    #[test]
    fn mistakes_in_the_class_file_are_named() {
        for (text, says) in [
            ("stage = 9", "not a stage"),
            ("stages = 2", "`stages` is not a setting"),
            ("[limits]\nmemory = \"lots\"", "not a size"),
            ("[recipe.x]\nrun = \"./x {port} {root}\"", "no `files`"),
            ("[recipe.x]\nfiles = [\"x\"]", "no `run`"),
        ] {
            let error = format!("{:#}", ClassFile::parse(text, Path::new(".")).unwrap_err());
            assert!(error.contains(says), "{text}: {error}");
        }
    }

    #[test]
    fn a_submission_is_matched_by_its_files_or_its_own_file() {
        let dir = std::env::temp_dir().join(format!("class-recipe-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let class = ClassFile::parse("", Path::new(".")).unwrap();
        assert!(class.recipe_for(&dir).is_err());
        std::fs::write(dir.join("server.py"), "").unwrap();
        assert_eq!(class.recipe_for(&dir).unwrap().name, "python");
        std::fs::write(dir.join("main.c"), "").unwrap();
        assert_eq!(class.recipe_for(&dir).unwrap().name, "c");
        std::fs::write(dir.join(SUBMISSION_FILE), "recipe = \"python\"\n").unwrap();
        assert_eq!(class.recipe_for(&dir).unwrap().name, "python");
        std::fs::write(dir.join(SUBMISSION_FILE), "run = \"./go {port} {root}\"\n").unwrap();
        let own = class.recipe_for(&dir).unwrap();
        assert_eq!(
            (own.name.as_str(), own.run.as_str()),
            ("own", "./go {port} {root}")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
