//! The fixture parser under mutated real fixtures (the examples' `tests/`): no panic, at
//! least one problem for every refusal, and every problem with a position inside the file.
//! A fixed seed and a bounded budget (see [`flowtrace_plugins::testing::fuzz`];
//! `FLOWTRACE_FUZZ_SECS` lengthens it).

use std::fs;
use std::path::{Path, PathBuf};

use cargo_flowtrace::harness::{self, fixture, FixtureContext};
use flowtrace_plugins::manifest::Manifest;
use flowtrace_plugins::testing::fuzz::{self, Budget};

use crate::support::tmp;

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn fixture_parser_survives_mutations_and_places_every_problem() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let scratch = tmp();
    // Per example and file syntax: the plugin's manifest decides what a fixture may say.
    let mut groups: Vec<(PathBuf, Manifest, &str, Vec<Vec<u8>>)> = Vec::new();
    for example in ["sample-evaluator", "sentiment-evaluator", "agent-budget"] {
        let root = scratch.path().join(example);
        copy_dir(&examples.join(example).join("tests"), &root.join("tests"));
        let manifest = Manifest::from_file(&examples.join(example).join("flowtrace.toml"))
            .expect("the example's manifest is valid");
        let found = harness::discover(&root.join("tests")).unwrap();
        for ext in ["toml", "json"] {
            let corpus: Vec<Vec<u8>> = found
                .iter()
                .filter(|p| p.extension().is_some_and(|e| e == ext))
                .map(|p| fs::read(p).unwrap())
                .collect();
            if !corpus.is_empty() {
                groups.push((root.clone(), manifest.clone(), ext, corpus));
            }
        }
    }
    assert!(
        groups.len() >= 4,
        "found {} groups of fixtures",
        groups.len()
    );

    let total = Budget::from_env();
    let share = Budget {
        time: total.time / groups.len() as u32,
        iterations: total.iterations / groups.len() as u64,
        seed: total.seed,
    };
    let mut accepted = 0;
    for (root, manifest, ext, corpus) in &groups {
        let path = root.join("tests").join(format!("fuzz-case.{ext}"));
        let cx = FixtureContext { root, manifest };
        let ran = fuzz::run(
            &format!(
                "fixture-{}-{ext}",
                root.file_name().unwrap().to_string_lossy()
            ),
            corpus,
            share,
            scratch.path(),
            |bytes| {
                fs::write(&path, bytes).unwrap();
                let text = String::from_utf8_lossy(bytes);
                match fixture::load(&path, &cx) {
                    Ok(_) => true,
                    Err(problems) => {
                        assert!(!problems.is_empty(), "refused with no problem");
                        for problem in &problems {
                            assert!(!problem.message.is_empty());
                            if let Some((line, column)) = problem.position {
                                assert!(
                                    fuzz::position_in(&text, line, column),
                                    "{problem} is outside the input"
                                );
                            }
                        }
                        false
                    }
                }
            },
        );
        accepted += ran.accepted;
    }
    assert!(accepted > 0, "no fixture was accepted");
}
