//! Results: per directive (`Verdict`), per file and engine (`FileResult`), per suite and
//! engine (`SuiteReport`), and the JSON report other tools read (see README.md).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The outcome of one directive.
#[derive(Debug, Clone)]
pub enum Verdict {
    Pass,
    Fail(Failure),
    /// Not run, and why (an unsupported feature, an engine not built).
    Skip(String),
    /// A `module` / `register` / `invoke` that worked: not an assertion, counts nothing.
    Quiet,
}

impl Verdict {
    pub fn fail(
        message: impl Into<String>,
        expected: Option<String>,
        actual: Option<String>,
    ) -> Verdict {
        Verdict::Fail(Failure {
            line: 0,
            directive: String::new(),
            message: message.into(),
            expected,
            actual,
        })
    }
}

/// One failed directive.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Failure {
    /// 1-based line of the directive in the .wast file (0: the file as a whole).
    pub line: usize,
    /// `assert_return`, `module`, ... or `panic` / `timeout` / `parse` for the file.
    pub directive: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
}

/// One file run on one engine.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct FileResult {
    pub passed: u64,
    pub failed: u64,
    pub skipped: u64,
    pub failures: Vec<Failure>,
    /// Why assertions were skipped, with how many each.
    pub skip_reasons: BTreeMap<String, u64>,
    pub elapsed_ms: u64,
}

impl FileResult {
    pub fn record(&mut self, line: usize, directive: &str, verdict: Verdict) {
        match verdict {
            Verdict::Pass => self.passed += 1,
            Verdict::Quiet => {}
            Verdict::Skip(reason) => self.skip(reason, 1),
            Verdict::Fail(mut f) => {
                f.line = line;
                f.directive = directive.to_string();
                self.failed += 1;
                self.failures.push(f);
            }
        }
    }

    pub fn skip(&mut self, reason: String, count: u64) {
        self.skipped += count;
        *self.skip_reasons.entry(reason).or_default() += count;
    }
}

/// A file of a suite and its result on one engine.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FileReport {
    pub suite: String,
    /// e.g. `wasm-v2/i32.wast`.
    pub path: String,
    pub requires_simd: bool,
    pub result: FileResult,
}

/// A suite run on one engine.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SuiteReport {
    pub suite: String,
    pub engine: String,
    pub files: Vec<FileReport>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Totals {
    pub files: u64,
    /// Files with at least one failure.
    pub files_failed: u64,
    pub passed: u64,
    pub failed: u64,
    pub skipped: u64,
    pub skip_reasons: BTreeMap<String, u64>,
}

impl Totals {
    pub fn add(&mut self, r: &FileResult) {
        self.files += 1;
        self.files_failed += u64::from(r.failed > 0);
        self.passed += r.passed;
        self.failed += r.failed;
        self.skipped += r.skipped;
        for (why, n) in &r.skip_reasons {
            *self.skip_reasons.entry(why.clone()).or_default() += n;
        }
    }
}

impl SuiteReport {
    pub fn totals(&self) -> Totals {
        let mut t = Totals::default();
        for f in &self.files {
            t.add(&f.result);
        }
        t
    }

    /// Every failure, as `path:line: directive: message (expected ..., got ...)`.
    pub fn failure_lines(&self) -> Vec<String> {
        self.files
            .iter()
            .flat_map(|f| {
                f.result
                    .failures
                    .iter()
                    .map(move |x| format_failure(&f.path, x))
            })
            .collect()
    }
}

pub fn format_failure(path: &str, f: &Failure) -> String {
    let mut s = format!("{path}:{}: {}: {}", f.line, f.directive, f.message);
    if let Some(e) = &f.expected {
        s.push_str(&format!("\n    expected: {e}"));
    }
    if let Some(a) = &f.actual {
        s.push_str(&format!("\n    actual:   {a}"));
    }
    s
}

/// The `--json` file: every file with its result per engine, and totals per engine.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JsonReport {
    pub format_version: u32,
    pub engines: Vec<String>,
    pub suites: Vec<String>,
    pub files: Vec<JsonFile>,
    pub totals: BTreeMap<String, Totals>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JsonFile {
    pub suite: String,
    pub path: String,
    pub requires_simd: bool,
    /// Keyed by engine name (`interp`, `native`).
    pub engines: BTreeMap<String, FileResult>,
}

impl JsonReport {
    pub const FORMAT_VERSION: u32 = 1;

    /// Merges suite reports (one per suite and engine) by file.
    pub fn new(reports: &[SuiteReport]) -> JsonReport {
        let mut engines: Vec<String> = Vec::new();
        let mut suites: Vec<String> = Vec::new();
        let mut files: Vec<JsonFile> = Vec::new();
        let mut index: BTreeMap<(String, String), usize> = BTreeMap::new();
        let mut totals: BTreeMap<String, Totals> = BTreeMap::new();
        for r in reports {
            if !engines.contains(&r.engine) {
                engines.push(r.engine.clone());
            }
            if !suites.contains(&r.suite) {
                suites.push(r.suite.clone());
            }
            for f in &r.files {
                let key = (f.suite.clone(), f.path.clone());
                let i = *index.entry(key).or_insert_with(|| {
                    files.push(JsonFile {
                        suite: f.suite.clone(),
                        path: f.path.clone(),
                        requires_simd: f.requires_simd,
                        engines: BTreeMap::new(),
                    });
                    files.len() - 1
                });
                files[i].engines.insert(r.engine.clone(), f.result.clone());
                totals.entry(r.engine.clone()).or_default().add(&f.result);
            }
        }
        JsonReport {
            format_version: Self::FORMAT_VERSION,
            engines,
            suites,
            files,
            totals,
        }
    }
}
