//! Progress bars on stderr for the long steps; hidden with `--quiet` or when stderr is not a
//! terminal (indicatif's stderr target hides itself then), so logs and tests stay clean.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(Clone, Copy)]
pub struct Progress {
    quiet: bool,
}

impl Progress {
    pub fn new(quiet: bool) -> Self {
        Progress { quiet }
    }

    /// A bar measured in bytes (reading a file).
    pub fn bytes(&self, message: &'static str) -> ProgressBar {
        self.bytes_of(message, 0)
    }

    /// A bar in bytes whose total is known up front (no "0 B/0 B" first frame).
    pub fn bytes_of(&self, message: &'static str, total: u64) -> ProgressBar {
        let bar = self.bar();
        bar.set_length(total);
        bar.set_style(
            ProgressStyle::with_template("{msg:<28} [{bar:30}] {binary_bytes}/{binary_total_bytes} {elapsed}").expect("valid template").progress_chars("=> "),
        );
        bar.set_message(message);
        bar
    }

    /// A step of known size that runs as one piece: its size stays in view while it works
    /// ("similar products  100,000 products  3s").
    pub fn step(&self, message: &'static str, unit: &'static str, len: u64) -> ProgressBar {
        let bar = self.bar();
        bar.set_style(ProgressStyle::with_template("{spinner} {msg:<26} {prefix} {elapsed}").expect("valid template"));
        bar.set_message(message);
        bar.set_prefix(format!("{} {unit}", crate::fmt::n(len)));
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    }

    /// A spinner for a step without a measurable length.
    pub fn spinner(&self, message: &'static str) -> ProgressBar {
        let bar = self.bar();
        bar.set_style(ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("valid template"));
        bar.set_message(message);
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    }

    fn bar(&self) -> ProgressBar {
        if self.quiet {
            ProgressBar::hidden()
        } else {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
        }
    }
}
