//! Corpus-mutation fuzzing on stable Rust: a fixed-seed PRNG mutates real inputs, a time and
//! iteration budget bounds the run, and a panic is caught and reported with the input that
//! caused it.
//!
//! `FLOWTRACE_FUZZ_SECS` sets the time budget of each target (default
//! [`DEFAULT_SECS`]), `FLOWTRACE_FUZZ_ITERATIONS` the iteration budget (default
//! [`DEFAULT_ITERATIONS`]), `FLOWTRACE_FUZZ_SEED` the seed (default [`DEFAULT_SEED`]). The run
//! is deterministic for a seed and an iteration count: a failure names both, and the input
//! is written next to the test's temp files.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Seconds per target when `FLOWTRACE_FUZZ_SECS` is not set.
pub const DEFAULT_SECS: u64 = 10;
/// Mutations per target when `FLOWTRACE_FUZZ_ITERATIONS` is not set.
pub const DEFAULT_ITERATIONS: u64 = 20_000;
/// The seed when `FLOWTRACE_FUZZ_SEED` is not set.
pub const DEFAULT_SEED: u64 = 0x5eed_f10e_7ace_0009;

/// Tokens the parsers give meaning to: spliced in whole, they reach deeper than random bytes.
const TOKENS: &[&str] = &[
    "\"",
    "'",
    "[",
    "]",
    "[[",
    "]]",
    "{",
    "}",
    "=",
    ",",
    ":",
    ".",
    "\n",
    "\r\n",
    "\t",
    " ",
    "#",
    "\\",
    "\\u0000",
    "\\uD800",
    "\u{feff}",
    "\0",
    "é",
    "𝄞",
    "\u{202e}",
    "-1",
    "0",
    "1e309",
    "-0",
    "99999999999999999999999",
    "18446744073709551616",
    "true",
    "null",
    "nan",
    "inf",
    "\"\"\"",
    "'''",
    "0x",
    "2025-06-01T12:00:00Z",
    "[plugin]",
    "[capabilities]",
    "[config]",
    "[limits]",
    "[expect]",
    "spans",
    "resourceSpans",
    "scopeSpans",
    "traceId",
    "spanId",
    "parentSpanId",
    "startTimeUnixNano",
    "attributes",
    "\"id\"",
    "id",
    "version",
    "kind",
];

/// The budget of one target.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Stop after this long.
    pub time: Duration,
    /// Or after this many mutations, whichever comes first.
    pub iterations: u64,
    /// The PRNG's seed.
    pub seed: u64,
}

impl Budget {
    /// From `FLOWTRACE_FUZZ_SECS`, `FLOWTRACE_FUZZ_ITERATIONS` and `FLOWTRACE_FUZZ_SEED`.
    pub fn from_env() -> Self {
        let var = |name: &str, default: u64| {
            std::env::var(name).map_or(default, |v| {
                let v = v.trim();
                let parsed = match v.strip_prefix("0x") {
                    Some(hex) => u64::from_str_radix(hex, 16),
                    None => v.parse(),
                };
                parsed.unwrap_or_else(|_| panic!("`{name}` is not a number: `{v}`"))
            })
        };
        Self {
            time: Duration::from_secs(var("FLOWTRACE_FUZZ_SECS", DEFAULT_SECS)),
            iterations: var("FLOWTRACE_FUZZ_ITERATIONS", DEFAULT_ITERATIONS),
            seed: var("FLOWTRACE_FUZZ_SEED", DEFAULT_SEED),
        }
    }
}

/// xorshift64*: small, fast, and the same on every platform.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (0 is replaced: xorshift has no zero state).
    pub fn new(seed: u64) -> Self {
        Self(if seed == 0 {
            0x9e37_79b9_7f4a_7c15
        } else {
            seed
        })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// Mutate `input` in place with 1 to 4 random edits; `corpus` supplies splices.
pub fn mutate(rng: &mut Rng, input: &mut Vec<u8>, corpus: &[Vec<u8>]) {
    for _ in 0..=rng.below(4) {
        let len = input.len();
        let at = rng.below(len + 1);
        match rng.below(9) {
            // Flip one bit.
            0 if len > 0 => input[at.min(len - 1)] ^= 1 << rng.below(8),
            // A random byte.
            1 => input.insert(at, rng.next_u64() as u8),
            // A token.
            2 | 3 => {
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                input.splice(at..at, token.iter().copied());
            }
            // Delete a range.
            4 if len > 0 => {
                let end = (at + 1 + rng.below(16)).min(len);
                input.drain(at.min(len - 1)..end);
            }
            // Repeat a range (deep nesting, long runs).
            5 if len > 0 => {
                let start = at.min(len - 1);
                let end = (start + 1 + rng.below(32)).min(len);
                let chunk: Vec<u8> = input[start..end].to_vec();
                for _ in 0..=rng.below(8) {
                    input.splice(start..start, chunk.iter().copied());
                }
            }
            // Splice a piece of another input.
            6 if !corpus.is_empty() => {
                let other = &corpus[rng.below(corpus.len())];
                if !other.is_empty() {
                    let start = rng.below(other.len());
                    let end = (start + 1 + rng.below(64)).min(other.len());
                    input.splice(at..at, other[start..end].iter().copied());
                }
            }
            // Truncate.
            7 => input.truncate(at),
            // Overwrite a byte with a digit or a quote.
            _ if len > 0 => input[at.min(len - 1)] = b"0123456789\"'-+.eE"[rng.below(17)],
            _ => input.push(b'\n'),
        }
    }
}

/// What one fuzz run did.
#[derive(Debug, Clone, Copy)]
pub struct Ran {
    /// Mutated inputs checked.
    pub iterations: u64,
    /// How many of them `check` accepted (returned `true` for).
    pub accepted: u64,
}

/// Run `check` on every corpus input unchanged, then on mutations of them until the budget
/// is spent. `check` returns whether the parser accepted the input, and panics (its own
/// assertion failing, or the parser panicking) on a bug: the panic is caught, the input is
/// written to `scratch`, and this panics naming it, the seed and the iteration.
pub fn run(
    name: &str,
    corpus: &[Vec<u8>],
    budget: Budget,
    scratch: &Path,
    mut check: impl FnMut(&[u8]) -> bool,
) -> Ran {
    assert!(!corpus.is_empty(), "{name}: the corpus is empty");
    let mut rng = Rng::new(budget.seed);
    let mut ran = Ran {
        iterations: 0,
        accepted: 0,
    };
    let mut one =
        |input: &[u8], iteration: u64, ran: &mut Ran| match catch_unwind(AssertUnwindSafe(|| {
            check(input)
        })) {
            Ok(accepted) => ran.accepted += u64::from(accepted),
            Err(panic) => {
                let saved = save(scratch, name, input);
                let what = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("a panic");
                panic!(
                    "{name}: iteration {iteration} (FLOWTRACE_FUZZ_SEED={:#x}): {what}; the \
                     input is in `{}`",
                    budget.seed,
                    saved.display()
                );
            }
        };
    for input in corpus {
        one(input, 0, &mut ran);
    }
    let start = Instant::now();
    while ran.iterations < budget.iterations && start.elapsed() < budget.time {
        ran.iterations += 1;
        let mut input = corpus[rng.below(corpus.len())].clone();
        mutate(&mut rng, &mut input, corpus);
        one(&input, ran.iterations, &mut ran);
    }
    eprintln!(
        "fuzz {name}: {} mutations of {} inputs in {:.1}s, {} accepted (seed {:#x})",
        ran.iterations,
        corpus.len(),
        start.elapsed().as_secs_f64(),
        ran.accepted,
        budget.seed
    );
    ran
}

fn save(dir: &Path, name: &str, input: &[u8]) -> PathBuf {
    let path = dir.join(format!("fuzz-{name}-failure.bin"));
    let _ = std::fs::create_dir_all(dir);
    let _ = std::fs::write(&path, input);
    path
}

/// The files under `dir` (recursively) whose names end with one of `suffixes`, sorted.
pub fn files(dir: &Path, suffixes: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if !matches!(name.as_str(), "target" | "node_modules" | ".venv" | ".git") {
                out.extend(files(&path, suffixes));
            }
        } else if suffixes.iter().any(|s| name.ends_with(s)) {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Where a 1-based `(line, column)` must fall in `text`: the line at most one past the last
/// (an error at the end of input), the column at least 1.
pub fn position_in(text: &str, line: usize, column: usize) -> bool {
    let lines = text.split('\n').count();
    line >= 1 && column >= 1 && line <= lines + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_mutates_the_same_way() {
        let corpus = vec![b"[plugin]\nid = \"x\"\n".to_vec()];
        let run = |seed| {
            let mut rng = Rng::new(seed);
            let mut input = corpus[0].clone();
            for _ in 0..50 {
                mutate(&mut rng, &mut input, &corpus);
            }
            input
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }

    #[test]
    fn a_panic_names_the_seed_and_saves_the_input() {
        let dir = tempfile::tempdir().unwrap();
        let budget = Budget {
            time: Duration::from_secs(5),
            iterations: 1000,
            seed: 3,
        };
        let corpus = vec![b"abc".to_vec()];
        let caught = catch_unwind(AssertUnwindSafe(|| {
            run("boom", &corpus, budget, dir.path(), |input| {
                assert!(input.len() < 5, "too long");
                true
            })
        }));
        let message = *caught.unwrap_err().downcast::<String>().unwrap();
        assert!(message.contains("FLOWTRACE_FUZZ_SEED=0x3"), "{message}");
        assert!(message.contains("too long"), "{message}");
        let saved = std::fs::read(dir.path().join("fuzz-boom-failure.bin")).unwrap();
        assert!(saved.len() >= 5);
    }
}
