//! Progress reporting: an `indicatif` bar on a terminal, plain periodic lines otherwise.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::{Deserialize, Serialize};

/// How a run reports its progress on standard output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProgressMode {
    /// A bar when standard output is a terminal, plain lines otherwise (CI logs stay readable).
    Auto,
    /// Always a bar (with rate and ETA).
    Bar,
    /// Always plain lines, about every 5 % of the run and at least every 30 seconds.
    Plain,
    /// Nothing.
    Quiet,
}

enum Sink {
    Bar(ProgressBar),
    Plain { every: u64, last: Instant },
    Quiet,
}

pub(crate) struct Progress {
    sink: Sink,
    start: Instant,
    start_step: u64,
    total: u64,
}

impl Progress {
    pub(crate) fn new(mode: ProgressMode, start_step: u64, total: u64) -> Self {
        let mode = match mode {
            ProgressMode::Auto if std::io::stdout().is_terminal() => ProgressMode::Bar,
            ProgressMode::Auto => ProgressMode::Plain,
            m => m,
        };
        let sink = match mode {
            ProgressMode::Bar => {
                let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stdout());
                let style = ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} steps [{elapsed_precise} < {eta_precise}, \
                     {per_sec}] {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar());
                bar.set_style(style);
                bar.set_position(start_step);
                bar.reset_eta();
                Sink::Bar(bar)
            }
            ProgressMode::Plain => Sink::Plain {
                every: (total / 20).max(1),
                last: Instant::now(),
            },
            _ => Sink::Quiet,
        };
        Progress {
            sink,
            start: Instant::now(),
            start_step,
            total,
        }
    }

    /// A one-off message (resume, divergence, early stop).
    pub(crate) fn message(&self, text: &str) {
        match &self.sink {
            Sink::Bar(bar) => bar.println(text),
            Sink::Plain { .. } => println!("{text}"),
            Sink::Quiet => {}
        }
    }

    /// `done` steps completed, the last loss `loss`.
    pub(crate) fn update(&mut self, done: u64, loss: f64) {
        let (start, start_step, total) = (self.start, self.start_step, self.total);
        match &mut self.sink {
            Sink::Bar(bar) => {
                bar.set_position(done);
                bar.set_message(format!("loss {loss:.4e}"));
            }
            Sink::Plain { every, last } => {
                let due = done.is_multiple_of(*every) || last.elapsed() >= Duration::from_secs(30);
                if due || done == total {
                    *last = Instant::now();
                    println!("{}", plain_line(done, total, loss, start, start_step));
                }
            }
            Sink::Quiet => {}
        }
    }

    pub(crate) fn finish(&mut self) {
        if let Sink::Bar(bar) = &self.sink {
            bar.finish();
        }
    }
}

fn plain_line(done: u64, total: u64, loss: f64, start: Instant, start_step: u64) -> String {
    let elapsed = start.elapsed().as_secs_f64();
    let rate = (done - start_step.min(done)) as f64 / elapsed.max(1e-9);
    let eta = if rate > 0.0 {
        format!("{:.0}s", (total.saturating_sub(done)) as f64 / rate)
    } else {
        "?".to_string()
    };
    format!(
        "step {done}/{total} ({:.0}%) loss {loss:.4e}, {rate:.1} steps/s, elapsed {elapsed:.0}s, ETA {eta}",
        100.0 * done as f64 / total.max(1) as f64
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_report_rate_and_eta() {
        let line = plain_line(50, 100, 0.25, Instant::now() - Duration::from_secs(5), 0);
        assert!(
            line.starts_with("step 50/100 (50%) loss 2.5000e-1"),
            "{line}"
        );
        assert!(line.contains("steps/s") && line.contains("ETA"), "{line}");
    }
}
