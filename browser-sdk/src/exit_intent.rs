//! Exit-intent detection: a pure state machine over (input, time).
//!
//! The host feeds it what the visitor does — the pointer leaving the window, scroll positions,
//! a back-navigation attempt, any activity, timer ticks — with the time in milliseconds, and
//! it answers at most once: "the visitor is about to leave, and this is how we know".
//! No DOM, no clock: tested natively with a virtual clock.
//!
//! - Desktop: the cursor leaves through the top of the viewport (towards tabs, the address bar,
//!   the close button), after a minimum dwell so a visitor who just arrived is left alone.
//! - Touch (phones, tablets): a fast scroll back up, a back-navigation attempt, or idleness.
//! - Bots never trigger.

/// How the visitor browses: decides which signals count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Surface {
    Pointer,
    Touch,
    /// Crawlers and headless agents: no exit intent at all.
    None,
}

impl Surface {
    pub fn of(device: vitrine_engine::context::Device) -> Surface {
        use vitrine_engine::context::Device;
        match device {
            Device::Desktop => Surface::Pointer,
            Device::Mobile | Device::Tablet => Surface::Touch,
            Device::Bot => Surface::None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExitConfig {
    /// Nothing fires before the visitor has been on the page this long.
    pub min_dwell_ms: f64,
    /// The pointer counts as leaving through the top when it exits at or above this y.
    pub top_edge_px: f64,
    /// A scroll back up counts as fast when it covers this distance…
    pub scroll_up_px: f64,
    /// …at this speed or more (pixels per millisecond, over the whole upward run).
    pub scroll_up_px_per_ms: f64,
    /// Touch only: no activity for this long counts as leaving.
    pub idle_ms: f64,
}

impl Default for ExitConfig {
    fn default() -> Self {
        ExitConfig { min_dwell_ms: 5_000.0, top_edge_px: 8.0, scroll_up_px: 400.0, scroll_up_px_per_ms: 1.5, idle_ms: 30_000.0 }
    }
}

/// What the host observed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Input {
    /// The pointer left the document (no element under it any more) at viewport height `y`.
    PointerLeft { y: f64 },
    /// The page's vertical scroll position is now `y`.
    Scrolled { y: f64 },
    /// The visitor pressed back (the host saw its history sentinel popped).
    BackRequested,
    /// Any key, pointer or touch input: resets the idle clock.
    Activity,
    /// A timer the host set for [`ExitIntent::next_check_at`] fired.
    Tick,
}

/// Why the detector fired (reported with the offer, useful in analytics).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    TopEdge,
    FastScrollUp,
    BackNavigation,
    Idle,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::TopEdge => "top_edge",
            Trigger::FastScrollUp => "fast_scroll_up",
            Trigger::BackNavigation => "back_navigation",
            Trigger::Idle => "idle",
        }
    }
}

/// Longest gap between two scroll events while the page is moving.
const SCROLL_EVENT_INTERVAL_MS: f64 = 100.0;

#[derive(Clone, Copy, Debug, PartialEq)]
struct UpwardRun {
    from_y: f64,
    since: f64,
}

#[derive(Clone, Debug)]
pub struct ExitIntent {
    config: ExitConfig,
    surface: Surface,
    started_at: f64,
    last_activity: f64,
    /// Previous scroll sample (y, time).
    last_scroll: Option<(f64, f64)>,
    run: Option<UpwardRun>,
    done: bool,
}

impl ExitIntent {
    pub fn new(config: ExitConfig, surface: Surface, now: f64) -> Self {
        ExitIntent { config, surface, started_at: now, last_activity: now, last_scroll: None, run: None, done: surface == Surface::None }
    }

    /// A detector that never fires (already shown this session, or right after a purchase).
    pub fn spent(config: ExitConfig, surface: Surface, now: f64) -> Self {
        let mut d = Self::new(config, surface, now);
        d.done = true;
        d
    }

    pub fn is_spent(&self) -> bool {
        self.done
    }

    /// Stops the detector for good (e.g. the visitor just bought something).
    pub fn disarm(&mut self) {
        self.done = true;
    }

    fn dwelled(&self, now: f64) -> bool {
        now - self.started_at >= self.config.min_dwell_ms
    }

    /// Feeds one observation; returns the trigger the first (and only) time intent is detected.
    pub fn observe(&mut self, input: Input, now: f64) -> Option<Trigger> {
        if self.done {
            return None;
        }
        let touch = self.surface == Surface::Touch;
        let trigger = match input {
            Input::PointerLeft { y } => (self.surface == Surface::Pointer && y <= self.config.top_edge_px).then_some(Trigger::TopEdge),
            Input::Scrolled { y } => {
                self.last_activity = now;
                (touch && self.fast_scroll_up(y, now)).then_some(Trigger::FastScrollUp)
            }
            Input::BackRequested => touch.then_some(Trigger::BackNavigation),
            Input::Activity => {
                self.last_activity = now;
                None
            }
            Input::Tick => (touch && now - self.last_activity >= self.config.idle_ms).then_some(Trigger::Idle),
        };
        let trigger = trigger.filter(|_| self.dwelled(now));
        if trigger.is_some() {
            self.done = true;
        }
        trigger
    }

    /// Tracks the current upward run of scroll positions; true when it is long and fast enough.
    fn fast_scroll_up(&mut self, y: f64, now: f64) -> bool {
        let previous = self.last_scroll.replace((y, now));
        match previous {
            Some((py, pt)) if y < py => {
                // The run starts where the page was before it moved up. Browsers only report
                // scrolls while moving, so after a pause the first step took one event
                // interval at most, not the whole pause.
                let since = pt.max(now - SCROLL_EVENT_INTERVAL_MS);
                let run = *self.run.get_or_insert(UpwardRun { from_y: py, since });
                let distance = run.from_y - y;
                // Two samples may share a timestamp: never divide by zero.
                let elapsed = (now - run.since).max(1.0);
                distance >= self.config.scroll_up_px && distance / elapsed >= self.config.scroll_up_px_per_ms
            }
            _ => {
                self.run = None;
                false
            }
        }
    }

    /// When the host should send a [`Input::Tick`] next (idle detection on touch), if ever.
    pub fn next_check_at(&self) -> Option<f64> {
        if self.done || self.surface != Surface::Touch {
            return None;
        }
        let idle_at = self.last_activity + self.config.idle_ms;
        Some(idle_at.max(self.started_at + self.config.min_dwell_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DWELL: f64 = 5_000.0;

    fn pointer() -> ExitIntent {
        ExitIntent::new(ExitConfig::default(), Surface::Pointer, 0.0)
    }
    fn touch() -> ExitIntent {
        ExitIntent::new(ExitConfig::default(), Surface::Touch, 0.0)
    }

    #[test]
    fn desktop_fires_when_the_pointer_leaves_through_the_top_after_the_dwell() {
        let mut d = pointer();
        assert_eq!(d.observe(Input::PointerLeft { y: 0.0 }, DWELL - 1.0), None, "too early");
        assert!(!d.is_spent(), "an early exit does not use up the detector");
        assert_eq!(d.observe(Input::PointerLeft { y: 300.0 }, DWELL + 10.0), None, "left through the side");
        assert_eq!(d.observe(Input::PointerLeft { y: -2.0 }, DWELL + 20.0), Some(Trigger::TopEdge));
    }

    #[test]
    fn fires_at_most_once() {
        let mut d = pointer();
        assert_eq!(d.observe(Input::PointerLeft { y: 0.0 }, DWELL), Some(Trigger::TopEdge));
        assert_eq!(d.observe(Input::PointerLeft { y: 0.0 }, DWELL + 1_000.0), None);
        assert!(d.is_spent());
    }

    #[test]
    fn a_spent_or_disarmed_detector_never_fires() {
        let mut d = ExitIntent::spent(ExitConfig::default(), Surface::Pointer, 0.0);
        assert_eq!(d.observe(Input::PointerLeft { y: 0.0 }, DWELL * 2.0), None);
        let mut d = touch();
        d.disarm();
        assert_eq!(d.observe(Input::BackRequested, DWELL * 2.0), None);
        assert_eq!(d.next_check_at(), None);
    }

    #[test]
    fn bots_never_trigger() {
        let mut d = ExitIntent::new(ExitConfig::default(), Surface::None, 0.0);
        assert_eq!(d.observe(Input::PointerLeft { y: 0.0 }, DWELL * 2.0), None);
        assert_eq!(d.observe(Input::BackRequested, DWELL * 2.0), None);
    }

    #[test]
    fn touch_ignores_pointer_exits_and_desktop_ignores_touch_signals() {
        assert_eq!(touch().observe(Input::PointerLeft { y: 0.0 }, DWELL), None);
        assert_eq!(pointer().observe(Input::BackRequested, DWELL), None);
        assert_eq!(pointer().observe(Input::Tick, DWELL * 100.0), None);
    }

    #[test]
    fn touch_fires_on_a_fast_scroll_back_up() {
        let mut d = touch();
        // Reads down the page slowly.
        for (i, y) in [0.0, 300.0, 600.0, 900.0, 1200.0].into_iter().enumerate() {
            assert_eq!(d.observe(Input::Scrolled { y }, 1_000.0 * i as f64), None);
        }
        // Pauses, then flicks back up: 600 px in 300 ms.
        assert_eq!(d.observe(Input::Scrolled { y: 1000.0 }, 6_000.0), None, "not far enough yet");
        assert_eq!(d.observe(Input::Scrolled { y: 600.0 }, 6_200.0), Some(Trigger::FastScrollUp));
    }

    #[test]
    fn a_slow_scroll_up_is_reading_not_leaving() {
        let mut d = touch();
        d.observe(Input::Scrolled { y: 2000.0 }, 6_000.0);
        for i in 1..=10 {
            // 100 px a second: 1000 px in total, but slowly.
            assert_eq!(d.observe(Input::Scrolled { y: 2000.0 - 100.0 * i as f64 }, 6_000.0 + 1_000.0 * i as f64), None);
        }
    }

    #[test]
    fn scrolling_down_again_restarts_the_upward_run() {
        let mut d = touch();
        d.observe(Input::Scrolled { y: 1000.0 }, 6_000.0);
        d.observe(Input::Scrolled { y: 750.0 }, 6_050.0);
        d.observe(Input::Scrolled { y: 900.0 }, 6_100.0);
        // 300 px up from 900 fast, but only 250+300 in two separate runs: neither reaches 400.
        assert_eq!(d.observe(Input::Scrolled { y: 600.0 }, 6_150.0), None);
        assert_eq!(d.observe(Input::Scrolled { y: 450.0 }, 6_200.0), Some(Trigger::FastScrollUp), "450 px in 100 ms");
    }

    #[test]
    fn touch_fires_on_back_navigation_only_after_the_dwell() {
        let mut d = touch();
        assert_eq!(d.observe(Input::BackRequested, 1_000.0), None, "early back: let them go");
        let mut d = touch();
        assert_eq!(d.observe(Input::BackRequested, DWELL), Some(Trigger::BackNavigation));
    }

    #[test]
    fn touch_fires_when_idle_and_activity_postpones_it() {
        let mut d = touch();
        assert_eq!(d.next_check_at(), Some(30_000.0));
        d.observe(Input::Activity, 20_000.0);
        assert_eq!(d.next_check_at(), Some(50_000.0));
        assert_eq!(d.observe(Input::Tick, 30_000.0), None, "only 10 s idle");
        assert_eq!(d.observe(Input::Tick, 50_000.0), Some(Trigger::Idle));
        assert_eq!(d.next_check_at(), None);
    }

    #[test]
    fn idle_never_fires_before_the_dwell_even_with_a_short_idle_time() {
        let config = ExitConfig { idle_ms: 1_000.0, ..ExitConfig::default() };
        let mut d = ExitIntent::new(config, Surface::Touch, 0.0);
        assert_eq!(d.next_check_at(), Some(DWELL));
        assert_eq!(d.observe(Input::Tick, 1_000.0), None);
        assert_eq!(d.observe(Input::Tick, DWELL), Some(Trigger::Idle));
    }
}
