//! Bot-filter figures on held-out corpora: User-Agent lists the rules were not tuned
//! on, fetched from the package registries by `scripts/bot-corpora.sh` into the
//! folder named by `SPOORLOOS_BOT_CORPORA` (the test says so and passes without it).
//! Files named `crawlers-*.txt` hold crawler User-Agents (every one should be
//! dropped); `browsers-*.txt` and `apps-*.txt` hold those of browsers, in-app
//! browsers and apps people use (none should be). One User-Agent per line.
//!
//! It prints each file's figure and writes the misses next to it (`*.missed`), for
//! the README's table; thresholds live in `bot_corpus.rs`, on the corpora bundled
//! with the build.

use std::path::Path;

use spoorloos::enrich::ua::ClientHints;
use spoorloos::filter::bots::is_bot;

#[test]
fn held_out_corpora() {
    let Some(dir) = std::env::var_os("SPOORLOOS_BOT_CORPORA") else {
        eprintln!("SPOORLOOS_BOT_CORPORA is not set: no held-out corpora measured");
        return;
    };
    let dir = Path::new(&dir);
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("corpus folder")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    let none = ClientHints::default();
    for path in files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let crawlers = name.starts_with("crawlers-");
        let text = std::fs::read_to_string(&path).expect("corpus file");
        let uas: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        // As in `bot_corpus.rs`: people's browsers, in-app browsers and apps' web
        // views send a `Mozilla/` or `Opera/` User-Agent; the rest of a browser
        // list (apps' own HTTP clients, bare device names) has no browser shape.
        let shaped = |ua: &&str| {
            let lower = ua.to_ascii_lowercase();
            crawlers || lower.starts_with("mozilla/") || lower.starts_with("opera/")
        };
        let (counted, shapeless): (Vec<&str>, Vec<&str>) = uas.iter().copied().partition(shaped);
        let missed: Vec<&str> = counted
            .iter()
            .copied()
            .filter(|ua| is_bot(ua, &none) != crawlers)
            .collect();
        let share = 100.0 * missed.len() as f64 / counted.len().max(1) as f64;
        let what = if crawlers {
            "counted as people"
        } else {
            "dropped as bots"
        };
        let apart = if shapeless.is_empty() {
            String::new()
        } else {
            let dropped = shapeless.iter().filter(|ua| is_bot(ua, &none)).count();
            format!(
                "; {dropped} of {} without a browser shape dropped",
                shapeless.len()
            )
        };
        println!(
            "{name}: {} of {} {what} ({share:.2} %){apart}",
            missed.len(),
            counted.len()
        );
        std::fs::write(path.with_extension("missed"), missed.join("\n") + "\n")
            .expect("write misses");
    }
}
